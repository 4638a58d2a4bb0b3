#![no_main]
//! Fuzz target: see `dapp::checks::app_steps` for what it feeds and the invariants it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dapp::checks::app_steps(data));

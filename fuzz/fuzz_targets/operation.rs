#![no_main]
//! Fuzz target: see `dapp::checks::operation` for what it feeds and the invariants it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dapp::checks::operation(data));

#![no_main]
//! Fuzz target: see `dapp::checks::inspect_path` for what it feeds and the invariants it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dapp::checks::inspect_path(data));

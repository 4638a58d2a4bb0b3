#![no_main]
//! Fuzz target: see `dapp::checks::finish_request` for what it feeds and the invariants it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dapp::checks::finish_request(data));

#![no_main]
//! Fuzz target: see `dapp::checks::portal_payload` for what it feeds and the invariants it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dapp::checks::portal_payload(data));

//! Integration tests of the ledger core.

#![allow(clippy::unwrap_used)] // Test helpers fail loudly by design.

mod abi;
mod decoding;
mod model;
mod seeds;
mod streams;

use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

/// Proptest settings: moderate case counts keep the files fast in debug builds. The seed of a
/// failing case is appended to `file` (a path from the package root, where cargo runs tests),
/// in the committed `tests/it/proptest-regressions/` folder, and every later run replays the
/// saved seeds first, so a failure once found stays checked.
fn proptest_config(cases: u32, file: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

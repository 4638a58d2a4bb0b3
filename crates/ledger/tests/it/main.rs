//! Integration tests of the ledger core.

#![allow(clippy::unwrap_used)] // Test helpers fail loudly by design.

mod abi;
mod model;
mod seeds;

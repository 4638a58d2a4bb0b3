//! Integration tests of the ledger core.

mod abi;
mod model;
mod seeds;

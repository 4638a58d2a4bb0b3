//! Integration tests of the ledger core.

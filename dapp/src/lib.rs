//! The ledger dApp backend.
//!
//! [`app::App`] is the pure glue between the rollup protocol and the ledger: it classifies an
//! advance input (portal deposit, relay, user operation), runs it through the ledger, and lists
//! the outputs to post (notices, vouchers, the report). [`runner`] is the thin shell that
//! long-polls `/finish` and posts those outputs. [`settings`] reads the environment once.
//! [`checks`] holds the invariant checks that the fuzz targets and the corpus replay share.

#![warn(unreachable_pub)]

pub mod app;
pub mod checks;
pub mod runner;
pub mod settings;

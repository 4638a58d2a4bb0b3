//! Integration tests of the backend: golden scripts in-process, and end-to-end runs of the
//! built binary against a rollup HTTP server written here.

#![allow(clippy::unwrap_used)] // Test helpers fail loudly by design.
mod catalogue;
mod e2e;
mod fuzz;
mod golden;
mod hostile;
mod script;

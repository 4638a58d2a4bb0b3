//! Integration tests of the backend: golden scripts, the bad-input catalogue and the fuzz corpus
//! in-process, the README's and the Dockerfile's settings against the real defaults
//! (`configuration`), and end-to-end runs of the built binary against rollup HTTP servers, a
//! well-behaved one (testkit's) and a hostile one written here (the `e2e` modules, which CI also
//! runs with the riscv64 build under qemu).

#![allow(clippy::unwrap_used)] // Test helpers fail loudly by design.
mod catalogue;
mod configuration;
mod corpus;
mod e2e;
mod e2e_hostile;
mod fuzz;
mod golden;
mod script;

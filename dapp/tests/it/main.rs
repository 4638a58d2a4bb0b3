//! Integration tests of the backend: golden scripts, the bad-input catalogue and the fuzz corpus
//! in-process, and end-to-end runs of the built binary against rollup HTTP servers written here,
//! a well-behaved one and a hostile one (the `e2e` modules, which CI also runs with the riscv64
//! build under qemu).

#![allow(clippy::unwrap_used)] // Test helpers fail loudly by design.
mod catalogue;
mod corpus;
mod determinism;
mod e2e;
mod e2e_hostile;
mod fuzz;
mod golden;
mod script;

//! Integration tests of the dev node.
#![allow(clippy::unwrap_used)]

mod l1;

//! Integration tests of the dev node.
#![allow(clippy::unwrap_used)]

mod explorer;
mod follow;
mod graphql;
mod l1;
mod node;
mod owner;
mod process;
mod servers;
mod settle;
mod soak;
mod store;
mod v2;

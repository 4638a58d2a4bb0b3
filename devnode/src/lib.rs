//! The local development node: a real Ethereum devnet (anvil) with the Cartesi Rollups v1
//! contracts at their canonical addresses, feeding the backend through the rollup HTTP API.

#![warn(unreachable_pub)]

pub mod backend;
pub mod graphql;
pub mod health;
pub mod http;
pub mod inspect;
pub mod l1;
pub mod node;
pub mod owner;
pub mod rollup_api;
pub mod rpc;
pub mod settle;
pub mod store;

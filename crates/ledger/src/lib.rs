//! The ledger core: a deterministic state machine of accounts, assets, a transaction pool and
//! proof-of-work blocks.
//!
//! It does no I/O and parses no rollup request: the shell classifies each rollup input into an
//! [`Input`] and calls [`Ledger::advance`]; time comes from the input's metadata. Inspect
//! queries are answered by [`Ledger::query`]. What it knows of Cartesi is what its rules and
//! outputs need: that the acting account comes from L1 (a sender, or the depositor a portal
//! names), that withdrawal vouchers need the dApp's own address, and the size every output must
//! fit ([`MAX_OUTPUT_BYTES`]). The crate reads no clock, no randomness, no environment and no
//! files (enforced by `clippy.toml`), and iterates only ordered maps, so the same inputs give
//! the same state root on every machine.
//!
//! Modules, in the order an input meets them: [`op`] decodes and validates an operation;
//! `ledger` plans it through `&Ledger` (a rejection changes nothing), commits it, and seals
//! blocks; `state` holds the balances and the asset registry behind methods; `chain` the sealed
//! blocks; `render` every JSON the ledger emits; `query` the inspect routes.

#![warn(unreachable_pub)]

pub mod asset;
pub mod block;
mod chain;
pub mod config;
pub mod error;
mod input;
mod ledger;
pub mod merkle;
pub mod op;
mod query;
mod render;
mod slots;
mod state;
pub mod tx;
mod txindex;
pub mod types;

pub use asset::Asset;
pub use block::Header;
pub use chain::{Block, TxLocation};
pub use config::{Config, ConfigError};
pub use error::{ErrorCode, Rejection};
pub use input::{Action, Fatal, Input, Outcome, Receipt};
pub use ledger::{Compressions, Ledger};
pub use op::{AbiFunction, Op};
pub use render::{BODY_ENVELOPE_BYTES, MAX_OUTPUT_BYTES, MAX_REQUEST_BODY_BYTES};
pub use tx::{Tx, TxKind};
pub use types::{Address, Hash, U256};

//! The ledger core: a deterministic state machine of accounts, assets, a transaction pool and
//! proof-of-work blocks.
//!
//! It knows nothing of HTTP, Cartesi or clocks: the shell classifies each rollup input into an
//! [`Input`] and calls [`Ledger::advance`]; time comes from the input's metadata. Inspect
//! queries are answered by [`Ledger::query`]. The crate reads no clock, no randomness, no
//! environment and no files (enforced by `clippy.toml`), and iterates only ordered maps, so the
//! same inputs give the same state root on every machine.

pub mod asset;
pub mod block;
pub mod config;
pub mod error;
mod ledger;
pub mod merkle;
pub mod op;
mod query;
mod slots;
pub mod tx;
mod txindex;
pub mod types;

pub use asset::Asset;
pub use block::Header;
pub use config::{Config, ConfigError};
pub use error::{ErrorCode, Rejection};
pub use ledger::{Action, Block, Fatal, Input, Ledger, Outcome, Receipt, TxLocation};
pub use op::{AbiFunction, Op};
pub use query::{BODY_ENVELOPE_BYTES, MAX_OUTPUT_BYTES, MAX_REQUEST_BODY_BYTES};
pub use tx::{Tx, TxKind};
pub use types::{Address, Hash, U256};

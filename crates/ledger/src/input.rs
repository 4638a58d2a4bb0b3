//! What the shell hands the ledger and what it gets back: inputs, receipts and fatal errors.

use crate::asset::Asset;
use crate::error::Rejection;
use crate::op::Op;
use crate::types::{Address, Hash, U256};

/// One advance input, already classified by the shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The rollup input index (unique, increasing).
    pub index: u64,
    /// The L1 account that added the input (a portal or relay for deposits).
    pub sender: Address,
    /// Seconds, from the input's metadata. The ledger has no other clock.
    pub timestamp: u64,
    /// The application's own address when the metadata carries it (Rollups v2).
    pub app_contract: Option<Address>,
    pub action: Action,
}

impl Input {
    /// The account behind the input: the depositor named by a portal, else the sender. It pays
    /// for its operation and mines the blocks the input seals.
    pub fn acting(&self) -> Address {
        match &self.action {
            Action::Deposit { depositor, .. } => *depositor,
            _ => self.sender,
        }
    }
}

/// What an input asks of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Portal deposit: credit `depositor` with each `(asset, amount)`.
    Deposit { depositor: Address, credits: Vec<(Asset, U256)> },
    /// The DAppAddressRelay told us our own address.
    SetDappAddress(Address),
    /// A user operation, acted by the input's sender.
    Op(Op),
}

/// What happened to an accepted input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub input: u64,
    /// Hashes of the transactions the input created, in order.
    pub txs: Vec<Hash>,
    /// For each of `txs`, the height of the block that sealed it during this input, if any.
    pub tx_blocks: Vec<Option<u64>>,
    /// Heights of the blocks this input sealed, in order.
    pub sealed: Vec<u64>,
}

/// The result of one advance: accepted with a receipt, or rejected with nothing changed.
pub type Outcome = Result<Receipt, Rejection>;

/// A failure that is not the input's fault and leaves the ledger unusable: the shell must raise
/// a rollup exception. Unreachable with a validated configuration, except by a broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// No nonce met the target within `max_nonce_tries` (probability below e^-64 per block).
    NonceExhausted { height: u64 },
    /// An internal consistency check failed.
    Invariant(String),
    /// A previous fatal error stopped the ledger.
    Stopped(String),
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fatal::NonceExhausted { height } => {
                write!(f, "no proof-of-work nonce found for block {height} within the configured bound")
            }
            Fatal::Invariant(m) => write!(f, "ledger invariant broken: {m}"),
            Fatal::Stopped(m) => write!(f, "ledger stopped after an earlier fatal error: {m}"),
        }
    }
}

impl std::error::Error for Fatal {}

//! Transactions: what enters the pool and the blocks.

use crate::asset::Asset;
use crate::merkle::sha256;
use crate::types::{u256_be, Address, Hash, U256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TxKind {
    /// An L1 deposit through a portal: credits `to` (the depositor).
    Deposit,
    /// Moves value between two ledger accounts.
    Transfer,
    /// Debits `from`; a voucher pays `to` on L1 when the block is sealed.
    Withdraw,
}

impl TxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Deposit => "deposit",
            TxKind::Transfer => "transfer",
            TxKind::Withdraw => "withdraw",
        }
    }

    fn tag(self) -> u8 {
        match self {
            TxKind::Deposit => 0,
            TxKind::Transfer => 1,
            TxKind::Withdraw => 2,
        }
    }
}

/// Length of [`Tx::encode`]: short enough (with SHA-256 padding, at most 128 bytes) that a
/// transaction hash costs two compressions.
pub const TX_ENCODED_LEN: usize = 1 + 1 + 8 + 4 + 20 + 20 + 32 + 32;

/// An accepted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    pub kind: TxKind,
    /// Index of the rollup input that carried it (unique per input, so hashes are unique).
    pub input: u64,
    /// Position within the input (an ERC-1155 batch deposit yields several transactions).
    pub sub: u32,
    pub from: Address,
    pub to: Address,
    pub asset: Asset,
    pub amount: U256,
}

impl Tx {
    /// Canonical binary encoding: format version (1) ‖ kind ‖ input (u64) ‖ sub (u32) ‖ from ‖
    /// to ‖ sha256(asset encoding) ‖ amount (u256), big-endian: 118 bytes.
    pub fn encode(&self) -> [u8; TX_ENCODED_LEN] {
        self.encode_with(&sha256(&[&self.asset.encode()]).0)
    }

    /// [`Tx::encode`] with the asset digest supplied (the ledger caches one per asset).
    pub fn encode_with(&self, asset_digest: &[u8; 32]) -> [u8; TX_ENCODED_LEN] {
        let mut b = [0u8; TX_ENCODED_LEN];
        b[0] = 1;
        b[1] = self.kind.tag();
        b[2..10].copy_from_slice(&self.input.to_be_bytes());
        b[10..14].copy_from_slice(&self.sub.to_be_bytes());
        b[14..34].copy_from_slice(&self.from.0);
        b[34..54].copy_from_slice(&self.to.0);
        b[54..86].copy_from_slice(asset_digest);
        b[86..].copy_from_slice(&u256_be(self.amount));
        b
    }

    /// The transaction hash: sha256 of the canonical encoding.
    pub fn hash(&self) -> Hash {
        sha256(&[&self.encode()])
    }
}

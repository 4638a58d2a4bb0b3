//! The sealed chain: blocks, their compactly stored transactions, and the indexes that find a
//! block or a transaction by hash.

use std::collections::BTreeMap;

use crate::block::Header;
use crate::tx::{Tx, TxKind};
use crate::txindex::{AccountIndex, TxIndex};
use crate::types::{Address, Hash, U256};

/// A sealed block: its header and transactions (stored compactly; see
/// [`crate::Ledger::block_txs`] for the full form). Its hash is always computed from the header,
/// so it cannot disagree with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub(crate) txs: Vec<StoredTx>,
}

impl Block {
    /// The block hash: sha256 of the encoded header.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }
}

/// A sealed transaction without its hash (recomputed on demand) and with an asset id in place
/// of the asset: 96 bytes instead of 176, for every transaction the chain ever held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredTx {
    pub(crate) amount: U256,
    pub(crate) input: u64,
    pub(crate) from: Address,
    pub(crate) to: Address,
    pub(crate) asset: u32,
    pub(crate) sub: u32,
    pub(crate) kind: TxKind,
}

impl StoredTx {
    pub(crate) fn new(tx: &Tx, asset: u32) -> StoredTx {
        StoredTx { amount: tx.amount, input: tx.input, from: tx.from, to: tx.to, asset, sub: tx.sub, kind: tx.kind }
    }
}

/// Where a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxLocation {
    Pending(u32),
    Sealed { height: u64, index: u32 },
}

/// The blocks from genesis, with a hash index of blocks and of sealed transactions.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    /// Never empty: genesis is pushed at creation.
    blocks: Vec<Block>,
    block_ids: BTreeMap<Hash, u64>,
    /// Sealed transactions by hash prefix; candidates are checked against the stored block.
    tx_index: TxIndex,
    /// Sealed transactions by sender and receiver, for an account's history.
    accounts: AccountIndex,
    sealed_txs: u64,
}

impl Chain {
    pub(crate) fn new(genesis: Header) -> Chain {
        let mut chain = Chain {
            blocks: Vec::new(),
            block_ids: BTreeMap::new(),
            tx_index: TxIndex::default(),
            accounts: AccountIndex::default(),
            sealed_txs: 0,
        };
        chain.push(genesis, Vec::new(), &[]);
        chain
    }

    /// Appends a sealed block; `hashes` are its transactions' hashes, in order.
    pub(crate) fn push(&mut self, header: Header, txs: Vec<StoredTx>, hashes: &[Hash]) {
        let height = header.height;
        self.tx_index.push_block(height, hashes);
        self.accounts.push_block(height, txs.iter().map(|t| (t.from, t.to)));
        self.sealed_txs += txs.len() as u64;
        self.block_ids.insert(header.hash(), height);
        self.blocks.push(Block { header, txs });
    }

    pub(crate) fn tip(&self) -> &Block {
        &self.blocks[self.blocks.len() - 1]
    }

    pub(crate) fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    pub(crate) fn block(&self, height: u64) -> Option<&Block> {
        usize::try_from(height).ok().and_then(|h| self.blocks.get(h))
    }

    pub(crate) fn height_of(&self, hash: &Hash) -> Option<u64> {
        self.block_ids.get(hash).copied()
    }

    /// Sealed (height, index) pairs whose hash may be `hash`: callers check each.
    pub(crate) fn tx_candidates<'a>(&'a self, hash: &Hash) -> impl Iterator<Item = (u64, u32)> + 'a {
        self.tx_index.candidates(hash)
    }

    /// The index of sealed transactions by account.
    pub(crate) fn accounts(&self) -> &AccountIndex {
        &self.accounts
    }

    /// The account index rebuilt from the stored blocks, to check the incremental one.
    pub(crate) fn accounts_rebuilt(&self) -> AccountIndex {
        let mut index = AccountIndex::default();
        for block in &self.blocks {
            index.push_block(block.header.height, block.txs.iter().map(|t| (t.from, t.to)));
        }
        index
    }

    #[cfg(test)]
    pub(crate) fn accounts_mut_for_tests(&mut self) -> &mut AccountIndex {
        &mut self.accounts
    }

    pub(crate) fn sealed_txs(&self) -> u64 {
        self.sealed_txs
    }
}

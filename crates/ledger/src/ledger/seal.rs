//! Sealing: the pool becomes a mined block and the pending view becomes confirmed.

use super::{Ledger, STATE_ROOT_LEN};
use crate::block::{Header, HEADER_LEN, HEADER_VERSION};
use crate::chain::StoredTx;
use crate::input::Fatal;
use crate::merkle::{sha256_compressions, tx_root};
use crate::state::COIN_ID;
use crate::types::{Address, Hash};

impl Ledger {
    /// Difficulty of the next block: one bit up when it comes faster than `block_interval` after
    /// the tip, one bit down when slower, unchanged on time; clamped. Uses header timestamps only.
    fn next_difficulty(&self, timestamp: u64) -> u32 {
        let tip = &self.tip().header;
        let elapsed = timestamp.saturating_sub(tip.timestamp);
        let target = self.config.block_interval;
        let d = if elapsed < target {
            tip.difficulty.saturating_add(1)
        } else if elapsed > target {
            tip.difficulty.saturating_sub(1)
        } else {
            tip.difficulty
        };
        d.clamp(self.config.min_difficulty_bits, self.config.max_difficulty_bits)
    }

    /// Seals the whole pool into a block mined by `miner`; pending becomes confirmed.
    pub(super) fn seal(&mut self, miner: Address, timestamp: u64) -> Result<u64, Fatal> {
        let tip = self.tip();
        let height = tip.header.height + 1;
        let prev_hash = tip.hash();
        let timestamp = timestamp.max(tip.header.timestamp);
        let difficulty = self.next_difficulty(timestamp);
        let reward = self.config.block_reward;

        if !reward.is_zero() {
            self.state.mint_pending(miner, COIN_ID, reward);
        }
        self.state.confirm()?;
        self.confirmed_dapp = self.dapp;

        let pool = std::mem::take(&mut self.pool);
        let hashes: Vec<Hash> = pool.iter().map(|(h, _)| *h).collect();
        let mut header = Header {
            version: HEADER_VERSION,
            height,
            timestamp,
            difficulty,
            tx_count: pool.len() as u32,
            miner,
            reward,
            prev_hash,
            tx_root: tx_root(&hashes),
            state_root: self.state_root(),
            nonce: 0,
        };
        let tries = header.mine(self.config.max_nonce_tries).ok_or(Fatal::NonceExhausted { height })?;
        // The state root, the midstate (three blocks), the tries, this block's hash (indexed
        // now) and its parent's (computed above).
        let header_hash = sha256_compressions(HEADER_LEN);
        self.work.headers += sha256_compressions(STATE_ROOT_LEN) + 3 + tries + 2 * header_hash;
        self.work.tx_roots += hashes.len() as u64;
        let mut txs = Vec::with_capacity(pool.len());
        for (_, tx) in &pool {
            let asset = self
                .state
                .known_id(&tx.asset)
                .ok_or_else(|| Fatal::Invariant(format!("unregistered asset {}", tx.asset)))?;
            txs.push(StoredTx::new(tx, asset));
        }
        self.chain.push(header, txs, &hashes);
        Ok(height)
    }
}

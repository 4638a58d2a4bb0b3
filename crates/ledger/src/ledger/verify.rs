//! Checks over the whole ledger, for tests, fuzzing and benchmarks: never on the hot path.

use super::Ledger;
use crate::block::Header;
use crate::chain::TxLocation;
use crate::merkle::{sha256, tx_root};
use crate::types::{Hash, U256};

impl Ledger {
    /// A fingerprint of everything the ledger holds, confirmed and pending (for checks such as
    /// "a rejected input changes nothing"). Linear in the state size.
    pub fn fingerprint(&self) -> Hash {
        let mut bytes = Vec::new();
        bytes.extend(self.state_root().0);
        bytes.extend(self.tip().hash().0);
        self.state.fingerprint_bytes(&mut bytes);
        for (h, _) in &self.pool {
            bytes.extend(h.0);
        }
        bytes.extend(self.dapp.unwrap_or_default().0);
        bytes.extend(self.confirmed_dapp.unwrap_or_default().0);
        bytes.extend(self.inputs.to_be_bytes());
        sha256(&[&bytes])
    }

    /// Checks the chain from genesis: every header re-decoded (proof of work included), hash
    /// links, heights, transaction roots, the hash indexes and the account index, and that the incremental state
    /// tree equals a full recomputation.
    pub fn verify_chain(&self) -> Result<(), String> {
        for (i, block) in self.chain.blocks().iter().enumerate() {
            let decoded = Header::decode(&block.header.encode()).map_err(|e| format!("block {i}: {e}"))?;
            if decoded.height != i as u64 || self.chain.height_of(&decoded.hash()) != Some(i as u64) {
                return Err(format!("block {i}: its height or hash index does not match its header"));
            }
            let txs = self.block_txs(block);
            let hashes: Vec<Hash> = txs.iter().map(|(h, _)| *h).collect();
            if tx_root(&hashes) != block.header.tx_root || txs.len() != block.header.tx_count as usize {
                return Err(format!("block {i}: transaction root or count does not match"));
            }
            for (index, h) in hashes.iter().enumerate() {
                if self.tx_location(h) != Some(TxLocation::Sealed { height: i as u64, index: index as u32 }) {
                    return Err(format!("block {i}: transaction {h} is not indexed"));
                }
            }
            if i > 0 && block.header.prev_hash != self.chain.blocks()[i - 1].hash() {
                return Err(format!("block {i}: prev_hash does not link to block {}", i - 1));
            }
        }
        if self.chain.accounts_rebuilt() != *self.chain.accounts() {
            return Err("the account index differs from one rebuilt from the blocks".into());
        }
        if self.state_root() != self.tip().header.state_root {
            return Err("the state root differs from the tip header's".into());
        }
        if !self.state.tree_is_consistent() {
            return Err("incremental state tree differs from a full recomputation".into());
        }
        Ok(())
    }

    /// Checks that money is conserved: for every asset, the confirmed balances add up to the
    /// confirmed supply and the pending balances to the pending supply. Linear in the state size.
    pub fn check_supply(&self) -> Result<(), String> {
        let assets = self.state.assets();
        let mut sums = vec![(U256::zero(), U256::zero()); assets.len()];
        for (_, id, b) in self.state.entries() {
            let sum = &mut sums[id as usize];
            sum.0 = sum.0.checked_add(b.confirmed).ok_or("confirmed balances overflow")?;
            sum.1 = sum.1.checked_add(b.pending).ok_or("pending balances overflow")?;
        }
        for (asset, (confirmed, pending)) in assets.iter().zip(sums) {
            if confirmed != asset.supply || pending != asset.pending_supply {
                return Err(format!(
                    "{}: balances add up to {confirmed} confirmed and {pending} pending, the supply is {} and {}",
                    asset.asset, asset.supply, asset.pending_supply
                ));
            }
        }
        Ok(())
    }

    /// Inner state-tree nodes hashed by every seal so far (one SHA-256 compression each): the
    /// deterministic part of sealing's cost, for benchmarks.
    pub fn state_tree_nodes_hashed(&self) -> u64 {
        self.state.tree_nodes_hashed()
    }

    /// Heap bytes of the confirmed state: the slot index, balances, and the state tree.
    pub fn state_heap_bytes(&self) -> usize {
        self.state.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use crate::asset::Asset;
    use crate::config::Config;
    use crate::input::{Action, Input};
    use crate::ledger::Ledger;
    use crate::render::MAX_OUTPUT_BYTES;
    use crate::types::{Address, U256};

    /// A ledger where `alice` deposited ETH `count` times, each deposit sealed in its own block
    /// (blocks of one transaction).
    fn deposits(count: u64) -> (Ledger, Address) {
        let config = Config {
            max_block_txs: 1,
            max_page: 300,
            difficulty_bits: 1,
            min_difficulty_bits: 0,
            max_difficulty_bits: 1,
            ..Config::default()
        };
        let mut ledger = Ledger::new(config).unwrap();
        let alice = Address([0xa1; 20]);
        for index in 0..count {
            let credits = vec![(Asset::Eth, U256::from(index + 1))];
            let input = Input {
                index,
                sender: Address([0xee; 20]),
                timestamp: 10,
                app_contract: None,
                action: Action::Deposit { depositor: alice, credits },
            };
            ledger.advance(input).unwrap().unwrap();
        }
        (ledger, alice)
    }

    #[test]
    fn verify_chain_notices_a_drifted_account_index() {
        let (mut ledger, alice) = deposits(3);
        assert_eq!(ledger.verify_chain(), Ok(()));
        ledger.chain.accounts_mut_for_tests().push_block(9, [(alice, alice)].into_iter());
        assert!(ledger.verify_chain().unwrap_err().contains("account index"));
    }

    #[test]
    fn account_pages_stay_within_the_output_bound() {
        let (ledger, alice) = deposits(300);
        let page = ledger.query(&format!("txs/{alice}?limit=300")).unwrap();
        assert!(page.to_string().len() <= MAX_OUTPUT_BYTES);
        let listed = page["txs"].as_array().unwrap().len();
        assert!((1..300).contains(&listed), "{listed} listed");
        assert_eq!(page["next_offset"], listed);
        assert_eq!(page["sealed"], 300);
        // Newest first: the last deposit (input 299) is sealed in the highest block.
        assert_eq!((page["txs"][0]["input"].clone(), page["txs"][0]["block"].clone()), (299.into(), 300.into()));
    }
}

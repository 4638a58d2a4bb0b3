//! The balance state: the asset registry, the balance slots with their confirmed and pending
//! values, and the state tree over the confirmed ones.
//!
//! Everything here changes through a handful of methods: [`State::register`], [`State::slot`],
//! [`State::set_pending`] and [`State::set_pending_supply`] write the pending view while a
//! transaction is admitted, and [`State::confirm`] makes it the confirmed one when a block is
//! sealed. Readers get values, never the containers.

use std::collections::BTreeMap;

use crate::asset::Asset;
use crate::input::Fatal;
use crate::merkle::{domain_iv, hash_block, sha256, StateTree};
use crate::slots::SlotIndex;
use crate::types::{u256_be, Address, Hash, U256};

/// Asset ids of the two assets every ledger has, registered at genesis.
pub(crate) const ETH_ID: u32 = 0;
pub(crate) const COIN_ID: u32 = 1;

/// A registered asset: its digest (used in state-tree leaves) and its supply.
#[derive(Clone, Debug)]
pub(crate) struct AssetEntry {
    pub(crate) asset: Asset,
    /// sha256 of the asset's canonical encoding, used in state-tree leaves.
    pub(crate) digest: [u8; 32],
    pub(crate) supply: U256,
    pub(crate) pending_supply: U256,
    dirty: bool,
}

/// One balance entry: its confirmed value (as of the tip) and its pending value (with the pool).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Balance {
    pub(crate) confirmed: U256,
    pub(crate) pending: U256,
}

/// Balances and supplies, confirmed and pending.
#[derive(Clone, Debug)]
pub(crate) struct State {
    assets: Vec<AssetEntry>,
    asset_ids: BTreeMap<Asset, u32>,
    /// (account, asset id) → slot in `balances` and in the state tree. A slot is assigned when
    /// a transaction first writes the entry; every admitted transaction is sealed with the next
    /// block, so slots below `balances.len()` always reach the tree, in order.
    slots: SlotIndex,
    balances: Vec<Balance>,
    /// Slots whose pending value may differ from the confirmed one, and a flag per slot.
    dirty: Vec<u32>,
    dirty_flags: Vec<bool>,
    dirty_assets: Vec<u32>,
    /// The balance tree: one leaf per slot, `(account, asset id, confirmed amount)`.
    tree: StateTree,
    /// The asset registry's tree: leaf `id` is the digest of asset `id`, so the balance leaves
    /// can name assets by id and still commit to what each asset is.
    asset_tree: StateTree,
    leaf_iv: [u32; 8],
    /// Compressions spent on balance leaves and asset-tree leaves so far (for benchmarks).
    leaves_hashed: u64,
    addresses: u64,
    pending_addresses: u64,
}

impl State {
    /// An empty state with ETH and COIN registered.
    pub(crate) fn new() -> State {
        let mut state = State {
            assets: Vec::new(),
            asset_ids: BTreeMap::new(),
            slots: SlotIndex::default(),
            balances: Vec::new(),
            dirty: Vec::new(),
            dirty_flags: Vec::new(),
            dirty_assets: Vec::new(),
            tree: StateTree::new(b"ledger/state-tree/node/v1"),
            asset_tree: StateTree::new(b"ledger/asset-tree/node/v1"),
            leaf_iv: domain_iv(b"ledger/state-tree/leaf/v2"),
            leaves_hashed: 0,
            addresses: 0,
            pending_addresses: 0,
        };
        state.register(Asset::Eth);
        state.register(Asset::Coin);
        // Two appends to an empty tree: in order, so this cannot fail.
        state.confirm_assets();
        state
    }

    pub(crate) fn known_id(&self, asset: &Asset) -> Option<u32> {
        match asset {
            Asset::Eth => Some(ETH_ID),
            Asset::Coin => Some(COIN_ID),
            _ => self.asset_ids.get(asset).copied(),
        }
    }

    /// The registered assets, by id.
    pub(crate) fn assets(&self) -> &[AssetEntry] {
        &self.assets
    }

    pub(crate) fn asset(&self, id: u32) -> &AssetEntry {
        &self.assets[id as usize]
    }

    pub(crate) fn slot_of(&self, account: &Address, id: u32) -> Option<u32> {
        self.slots.get(account, id)
    }

    pub(crate) fn balance_at(&self, slot: u32) -> Balance {
        self.balances[slot as usize]
    }

    fn entry(&self, account: &Address, asset: &Asset) -> Balance {
        self.known_id(asset)
            .and_then(|id| self.slots.get(account, id))
            .map_or_else(Balance::default, |s| self.balances[s as usize])
    }

    pub(crate) fn confirmed_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.entry(account, asset).confirmed
    }

    pub(crate) fn pending_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.entry(account, asset).pending
    }

    pub(crate) fn confirmed_supply(&self, asset: &Asset) -> U256 {
        self.known_id(asset).map_or_else(U256::zero, |id| self.asset(id).supply)
    }

    pub(crate) fn pending_supply(&self, asset: &Asset) -> U256 {
        self.known_id(asset).map_or_else(U256::zero, |id| self.asset(id).pending_supply)
    }

    /// Every entry of `account`: (asset, balance), ordered by asset id.
    pub(crate) fn account_balances(&self, account: &Address) -> Vec<(Asset, Balance)> {
        let entries = self.slots.of_account(account);
        entries.into_iter().map(|(id, slot)| (self.asset(id).asset, self.balances[slot as usize])).collect()
    }

    /// Every entry in slot order: (account, asset id, balance).
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Address, u32, Balance)> + '_ {
        self.slots.keys().iter().zip(&self.balances).map(|(&(account, id), &b)| (account, id, b))
    }

    /// Accounts holding a confirmed balance (slots written by a sealed block).
    pub(crate) fn addresses(&self) -> u64 {
        self.addresses
    }

    /// The trees' commitment to every confirmed entry and to the asset registry: the balance
    /// tree's root and leaf count, then the asset tree's.
    pub(crate) fn tree_commitment(&self) -> [(Hash, u64); 2] {
        [(self.tree.root(), self.tree.len()), (self.asset_tree.root(), self.asset_tree.len())]
    }

    /// Whether both incremental trees equal a full recomputation from their leaves, and every
    /// balance leaf equals the hash of its entry's confirmed value.
    pub(crate) fn tree_is_consistent(&self) -> bool {
        let leaves_match = self.entries().take(self.tree.len() as usize).enumerate().all(|(slot, (account, id, b))| {
            self.tree.leaf(slot as u64) == Some(self.leaf_hash(&account, id, b.confirmed))
        });
        leaves_match
            && self.tree.root() == self.tree.recompute_root()
            && self.asset_tree.root() == self.asset_tree.recompute_root()
    }

    /// Compressions spent so far on (leaves, inner nodes) of both trees.
    pub(crate) fn tree_compressions(&self) -> (u64, u64) {
        (self.leaves_hashed, self.tree.nodes_hashed() + self.asset_tree.nodes_hashed())
    }

    pub(crate) fn tree_nodes_hashed(&self) -> u64 {
        self.tree.nodes_hashed()
    }

    /// Heap bytes of the confirmed state: the slot index, balances, and the state tree.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.heap_bytes()
            + self.balances.capacity() * std::mem::size_of::<Balance>()
            + self.dirty_flags.capacity()
            + self.tree.heap_bytes()
            + self.asset_tree.heap_bytes()
    }

    /// The id of `asset`, registering it if it is new.
    pub(crate) fn register(&mut self, asset: Asset) -> u32 {
        if let Some(&id) = self.asset_ids.get(&asset) {
            return id;
        }
        let id = self.assets.len() as u32;
        self.assets.push(AssetEntry {
            asset,
            digest: sha256(&[&asset.encode()]).0,
            supply: U256::zero(),
            pending_supply: U256::zero(),
            dirty: false,
        });
        self.asset_ids.insert(asset, id);
        id
    }

    /// The slot of an entry, creating it (as a pending entry of the next block) if needed.
    pub(crate) fn slot(&mut self, account: Address, id: u32) -> u32 {
        if let Some(slot) = self.slots.get(&account, id) {
            return slot;
        }
        self.pending_addresses += u64::from(!self.slots.has_account(&account));
        let slot = self.slots.insert(account, id);
        self.balances.push(Balance::default());
        self.dirty_flags.push(false);
        slot
    }

    pub(crate) fn set_pending(&mut self, slot: u32, value: U256) {
        self.balances[slot as usize].pending = value;
        if !self.dirty_flags[slot as usize] {
            self.dirty_flags[slot as usize] = true;
            self.dirty.push(slot);
        }
    }

    pub(crate) fn set_pending_supply(&mut self, id: u32, value: U256) {
        let entry = &mut self.assets[id as usize];
        entry.pending_supply = value;
        if !entry.dirty {
            entry.dirty = true;
            self.dirty_assets.push(id);
        }
    }

    /// Credits `amount` to the pending balance and supply (a block reward).
    pub(crate) fn mint_pending(&mut self, account: Address, id: u32, amount: U256) {
        let slot = self.slot(account, id);
        let balance = self.balances[slot as usize].pending;
        self.set_pending(slot, balance.saturating_add(amount));
        let supply = self.asset(id).pending_supply;
        self.set_pending_supply(id, supply.saturating_add(amount));
    }

    /// Makes the pending view confirmed: copies every changed value, rehashes those leaves and
    /// their ancestors, and counts the new addresses.
    pub(crate) fn confirm(&mut self) -> Result<(), Fatal> {
        // Confirm every changed entry; new entries append to the tree in slot order.
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        // Gather first (independent loads, many cache misses in flight), then hash.
        let gathered: Vec<(u32, (Address, u32), U256)> = dirty
            .iter()
            .map(|&slot| {
                let i = slot as usize;
                self.dirty_flags[i] = false;
                let b = &mut self.balances[i];
                b.confirmed = b.pending;
                (slot, self.slots.key(slot), b.confirmed)
            })
            .collect();
        let leaves: Vec<(u64, [u8; 32])> = gathered
            .iter()
            .map(|&(slot, (account, id), value)| (u64::from(slot), self.leaf_hash(&account, id, value)))
            .collect();
        self.leaves_hashed += leaves.len() as u64;
        if !self.confirm_assets() {
            return Err(Fatal::Invariant("asset tree update out of order".into()));
        }
        dirty.clear();
        self.dirty = dirty;
        if !self.tree.update(&leaves) || self.tree.len() != self.balances.len() as u64 {
            return Err(Fatal::Invariant("state tree update out of order".into()));
        }
        for id in std::mem::take(&mut self.dirty_assets) {
            let entry = &mut self.assets[id as usize];
            entry.supply = entry.pending_supply;
            entry.dirty = false;
        }
        self.addresses += std::mem::take(&mut self.pending_addresses);
        Ok(())
    }

    /// Bytes of every entry and supply, confirmed and pending, for [`crate::Ledger::fingerprint`].
    pub(crate) fn fingerprint_bytes(&self, bytes: &mut Vec<u8>) {
        for (account, id, b) in self.entries() {
            bytes.extend(account.0);
            bytes.extend(self.asset(id).digest);
            bytes.extend(u256_be(b.confirmed));
            bytes.extend(u256_be(b.pending));
        }
        for a in &self.assets {
            bytes.extend(a.digest);
            bytes.extend(u256_be(a.supply));
            bytes.extend(u256_be(a.pending_supply));
        }
        bytes.extend(self.addresses.to_be_bytes());
        bytes.extend(self.pending_addresses.to_be_bytes());
    }
}

impl State {
    /// A balance leaf: one SHA-256 compression, from the leaf domain's chaining value, of the
    /// 64-byte record account (20) ‖ asset id (4, big-endian) ‖ amount (32) ‖ 8 zero bytes. The
    /// id stands for the asset whose digest is leaf `id` of the asset tree, which the state
    /// root also commits to.
    fn leaf_hash(&self, account: &Address, id: u32, amount: U256) -> [u8; 32] {
        let mut block = [0u8; 64];
        block[..20].copy_from_slice(&account.0);
        block[20..24].copy_from_slice(&id.to_be_bytes());
        block[24..56].copy_from_slice(&u256_be(amount));
        hash_block(&self.leaf_iv, &block)
    }

    /// Appends the digests of the assets registered since the last seal to the asset tree.
    /// Assets are registered only when a transaction is admitted, and every admitted
    /// transaction is sealed with the next block, so the tree always ends up holding them all.
    fn confirm_assets(&mut self) -> bool {
        let start = self.asset_tree.len();
        let new: Vec<(u64, [u8; 32])> =
            self.assets.iter().enumerate().skip(start as usize).map(|(id, a)| (id as u64, a.digest)).collect();
        self.leaves_hashed += new.len() as u64;
        self.asset_tree.update(&new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single balance is proven against the state trees by its record alone: the leaf is
    /// recomputed from (account, asset id, amount), its path leads to the balance root, and the
    /// asset's digest and path lead to the asset root.
    #[test]
    fn a_single_balance_is_proven_by_its_record_and_two_paths() {
        let mut state = State::new();
        let token = Asset::Erc20(Address([0x20; 20]));
        let accounts: Vec<Address> = (1..=9u8).map(|i| Address([i; 20])).collect();
        for (i, account) in accounts.iter().enumerate() {
            let asset = if i % 3 == 0 { token } else { Asset::Eth };
            let id = state.register(asset);
            let slot = state.slot(*account, id);
            state.set_pending(slot, U256::from(100 + i as u64));
        }
        state.confirm().unwrap();
        let [(balance_root, _), (asset_root, _)] = state.tree_commitment();
        for (slot, (account, id, balance)) in state.entries().enumerate() {
            let leaf = state.leaf_hash(&account, id, balance.confirmed);
            let proof = state.tree.proof(slot as u64);
            assert_eq!(state.tree.root_from_proof(slot as u64, leaf, &proof), balance_root);
            let digest = sha256(&[&state.asset(id).asset.encode()]).0;
            let asset_proof = state.asset_tree.proof(u64::from(id));
            assert_eq!(state.asset_tree.root_from_proof(u64::from(id), digest, &asset_proof), asset_root);
            // Another amount, or another asset id, does not verify.
            let forged = state.leaf_hash(&account, id, balance.confirmed + 1);
            assert_ne!(state.tree.root_from_proof(slot as u64, forged, &proof), balance_root);
            let swapped = state.leaf_hash(&account, id ^ 1, balance.confirmed);
            assert_ne!(state.tree.root_from_proof(slot as u64, swapped, &proof), balance_root);
        }
        assert!(state.tree_is_consistent());
    }
}

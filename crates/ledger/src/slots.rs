//! The index from balance entry (account, asset id) to its slot.

use std::collections::BTreeMap;

use crate::types::{prefix_u64, Address};

/// (account, asset id) → slot, with the slot → key table.
///
/// The hot map is keyed by the first 8 bytes of the address and the asset id: a B-tree of small
/// integer keys is several times faster than one of 24-byte keys. An entry whose prefix key is
/// already taken by another address goes to an exact map instead. Finding two addresses with a
/// common prefix costs about 2^32 hashes, colliding with a given address about 2^64; either way
/// lookups stay correct (every hit is checked against the full key) and logarithmic, and
/// entries are never removed, so a miss in the hot map is final.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotIndex {
    fast: BTreeMap<(u64, u32), u32>,
    exact: BTreeMap<(Address, u32), u32>,
    /// slot → (account, asset id).
    keys: Vec<(Address, u32)>,
}

impl SlotIndex {
    pub(crate) fn key(&self, slot: u32) -> (Address, u32) {
        self.keys[slot as usize]
    }

    pub(crate) fn keys(&self) -> &[(Address, u32)] {
        &self.keys
    }

    pub(crate) fn get(&self, account: &Address, asset: u32) -> Option<u32> {
        let slot = *self.fast.get(&(prefix_u64(&account.0), asset))?;
        if self.keys[slot as usize].0 == *account {
            Some(slot)
        } else {
            self.exact.get(&(*account, asset)).copied()
        }
    }

    /// Appends a new entry and returns its slot; the caller checked that it is absent.
    pub(crate) fn insert(&mut self, account: Address, asset: u32) -> u32 {
        let slot = self.keys.len() as u32;
        match self.fast.entry((prefix_u64(&account.0), asset)) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(slot);
            }
            std::collections::btree_map::Entry::Occupied(_) => {
                self.exact.insert((account, asset), slot);
            }
        }
        self.keys.push((account, asset));
        slot
    }

    /// The slots of every entry of `account`, ordered by asset id.
    pub(crate) fn of_account(&self, account: &Address) -> Vec<(u32, u32)> {
        let p = prefix_u64(&account.0);
        let mut out: Vec<(u32, u32)> = self
            .fast
            .range((p, 0)..=(p, u32::MAX))
            .filter(|(_, &slot)| self.keys[slot as usize].0 == *account)
            .map(|(&(_, asset), &slot)| (asset, slot))
            .collect();
        out.extend(self.exact.range((*account, 0)..=(*account, u32::MAX)).map(|(&(_, asset), &slot)| (asset, slot)));
        out.sort_unstable();
        out
    }

    pub(crate) fn has_account(&self, account: &Address) -> bool {
        let p = prefix_u64(&account.0);
        self.fast.range((p, 0)..=(p, u32::MAX)).any(|(_, &slot)| self.keys[slot as usize].0 == *account)
            || self.exact.range((*account, 0)..=(*account, u32::MAX)).next().is_some()
    }

    /// Approximate heap bytes (B-tree nodes average about 1.5x their entries).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.fast.len() * std::mem::size_of::<((u64, u32), u32)>() * 3 / 2
            + self.exact.len() * std::mem::size_of::<((Address, u32), u32)>() * 3 / 2
            + self.keys.capacity() * std::mem::size_of::<(Address, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_sharing_a_prefix_are_kept_apart() {
        let mut index = SlotIndex::default();
        let a = Address([1; 20]);
        let mut b = a;
        b.0[19] = 2;
        let mut c = a;
        c.0[0] = 9;
        assert_eq!(index.insert(a, 0), 0);
        assert_eq!(index.insert(b, 0), 1);
        assert_eq!(index.insert(b, 3), 2);
        assert_eq!(index.insert(a, 3), 3);
        assert_eq!(index.get(&a, 0), Some(0));
        assert_eq!(index.get(&b, 0), Some(1));
        assert_eq!(index.get(&b, 3), Some(2));
        assert_eq!(index.get(&a, 3), Some(3));
        assert_eq!(index.get(&a, 7), None);
        assert_eq!(index.get(&c, 0), None);
        assert_eq!(index.of_account(&a), vec![(0, 0), (3, 3)]);
        assert_eq!(index.of_account(&b), vec![(0, 1), (3, 2)]);
        assert!(index.has_account(&b) && !index.has_account(&c));
        assert_eq!(index.key(2), (b, 3));
    }
}

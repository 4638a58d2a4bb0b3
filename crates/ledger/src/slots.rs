//! The index from balance entry (account, asset id) to its slot.

use std::collections::BTreeMap;

use crate::types::Address;

/// (account, asset id) → slot, with the slot → key table.
///
/// The keys live in an array sorted by (account, asset id) with a radix table over the top bits
/// of the account (about one entry per bucket), so a lookup is one table read and a short
/// binary search over entries that carry the whole key: one or two cache misses where a B-tree
/// of 100k entries takes four or five. New keys go to a small B-tree and are merged into the
/// array once it holds a sixteenth as many, so an insert costs amortized O(1) moves. Addresses
/// are chosen by users, so they may crowd one bucket on purpose; the search inside a bucket is
/// binary, so the worst case stays logarithmic, never linear as in a hash table's chain.
/// Entries are never removed, so a miss in both parts is final.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotIndex {
    /// (key, slot), sorted by key.
    sorted: Vec<(Key, u32)>,
    /// `buckets[b]..buckets[b + 1]` is the range of `sorted` whose accounts start with the
    /// `bits`-bit value `b`.
    buckets: Vec<u32>,
    bits: u32,
    /// Keys inserted since the last merge.
    recent: BTreeMap<Key, u32>,
    /// slot → (account, asset id).
    keys: Vec<(Address, u32)>,
}

/// An account and an asset id as integers that order like the account's bytes then the id, so
/// that a comparison is a few integer compares rather than a call to `memcmp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u64, u64, u32, u32);

impl Key {
    fn new(account: &Address, asset: u32) -> Key {
        let a = &account.0;
        let word = |r: std::ops::Range<usize>| a[r].iter().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        Key(word(0..8), word(8..16), word(16..20) as u32, asset)
    }
}

/// The smallest part `recent` may grow to before a merge, whatever the array's size.
const MIN_RECENT: usize = 1024;

impl SlotIndex {
    pub(crate) fn key(&self, slot: u32) -> (Address, u32) {
        self.keys[slot as usize]
    }

    pub(crate) fn keys(&self) -> &[(Address, u32)] {
        &self.keys
    }

    fn bucket_of(&self, key: &Key) -> usize {
        if self.bits == 0 {
            0
        } else {
            (key.0 >> (64 - self.bits)) as usize
        }
    }

    /// The part of `sorted` that may hold `key`'s account.
    fn bucket(&self, key: &Key) -> &[(Key, u32)] {
        if self.sorted.is_empty() {
            return &[];
        }
        let b = self.bucket_of(key);
        &self.sorted[self.buckets[b] as usize..self.buckets[b + 1] as usize]
    }

    pub(crate) fn get(&self, account: &Address, asset: u32) -> Option<u32> {
        let key = Key::new(account, asset);
        let bucket = self.bucket(&key);
        match bucket.get(bucket.partition_point(|e| e.0 < key)) {
            Some(&(k, slot)) if k == key => Some(slot),
            _ => self.recent.get(&key).copied(),
        }
    }

    /// Appends a new entry and returns its slot; the caller checked that it is absent.
    pub(crate) fn insert(&mut self, account: Address, asset: u32) -> u32 {
        let slot = self.keys.len() as u32;
        self.recent.insert(Key::new(&account, asset), slot);
        if self.recent.len() >= MIN_RECENT.max(self.sorted.len() / 16) {
            self.merge();
        }
        self.keys.push((account, asset));
        slot
    }

    /// Moves `recent` into the sorted array and rebuilds the radix table.
    fn merge(&mut self) {
        let recent = std::mem::take(&mut self.recent);
        let old = std::mem::take(&mut self.sorted);
        let mut merged = Vec::with_capacity(old.len() + recent.len());
        let mut new = recent.into_iter().peekable();
        for e in old {
            while let Some(n) = new.next_if(|n| n.0 < e.0) {
                merged.push(n);
            }
            merged.push(e);
        }
        merged.extend(new);
        // About one entry per bucket: 2^bits >= len.
        self.bits = (usize::BITS - merged.len().leading_zeros()).min(24);
        let mut buckets = Vec::with_capacity((1usize << self.bits) + 1);
        let mut i = 0;
        for b in 0..(1usize << self.bits) {
            while i < merged.len() && self.bucket_of(&merged[i].0) < b {
                i += 1;
            }
            buckets.push(i as u32);
        }
        buckets.push(merged.len() as u32);
        self.buckets = buckets;
        self.sorted = merged;
    }

    /// Every (asset id, slot) of `account`, from both parts.
    fn entries_of(&self, account: &Address) -> impl Iterator<Item = (u32, u32)> + '_ {
        let (first, last) = (Key::new(account, 0), Key::new(account, u32::MAX));
        let bucket = self.bucket(&first);
        let start = bucket.partition_point(|e| e.0 < first);
        let end = bucket.partition_point(|e| e.0 <= last);
        let sorted = bucket[start..end].iter().map(|&(k, slot)| (k.3, slot));
        sorted.chain(self.recent.range(first..=last).map(|(k, &slot)| (k.3, slot)))
    }

    /// The slots of every entry of `account`, ordered by asset id.
    pub(crate) fn of_account(&self, account: &Address) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = self.entries_of(account).collect();
        out.sort_unstable();
        out
    }

    pub(crate) fn has_account(&self, account: &Address) -> bool {
        self.entries_of(account).next().is_some()
    }

    /// Approximate heap bytes (B-tree nodes average about 1.5x their entries).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.sorted.capacity() * std::mem::size_of::<(Key, u32)>()
            + self.buckets.capacity() * 4
            + self.recent.len() * std::mem::size_of::<(Key, u32)>() * 3 / 2
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

    /// Many merges and crowded buckets (addresses sharing their first bytes, as an attacker
    /// could choose them): every entry is found in both parts, absent ones are not.
    #[test]
    fn lookups_agree_with_a_plain_map_across_merges() {
        let mut index = SlotIndex::default();
        let mut model = BTreeMap::new();
        let address = |i: u64| {
            let mut a = [0u8; 20];
            // A third of the addresses share their first six bytes; a few share all eight.
            let head = if i.is_multiple_of(3) {
                0x4242_4242_4242_0000 | (i % 7)
            } else {
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            };
            a[..8].copy_from_slice(&head.to_be_bytes());
            a[12..20].copy_from_slice(&i.to_be_bytes());
            Address(a)
        };
        for i in 0..20_000u64 {
            let key = (address(i / 2), (i % 2) as u32 * 5);
            if model.contains_key(&key) {
                continue;
            }
            let slot = index.insert(key.0, key.1);
            model.insert(key, slot);
            if i % 997 == 0 {
                for (&(a, asset), &slot) in &model {
                    assert_eq!(index.get(&a, asset), Some(slot));
                }
            }
        }
        assert!(!index.sorted.is_empty() && index.bits > 0);
        for (&(a, asset), &slot) in &model {
            assert_eq!(index.get(&a, asset), Some(slot));
            assert_eq!(index.get(&a, asset + 1), None);
            assert!(index.has_account(&a));
        }
        let a = address(12);
        let expected: Vec<(u32, u32)> =
            model.range((a, 0)..=(a, u32::MAX)).map(|(&(_, asset), &slot)| (asset, slot)).collect();
        assert_eq!(index.of_account(&a), expected);
        assert!(!index.has_account(&address(1_000_000)));
    }
}

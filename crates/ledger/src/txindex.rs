//! The indexes of sealed transactions: by hash, and by account.

use std::collections::BTreeMap;

use crate::types::{prefix_u64, Address, Hash};

/// Sealed transactions by the first 8 bytes of their hash, log-structured: each block adds one
/// sorted run, and the two newest runs merge while the older is at most twice the newer. A
/// transaction is thus indexed with `O(log n)` sequential work instead of a random B-tree
/// insert, in 16 bytes, and a lookup binary-searches `O(log n)` runs. Equal prefixes are kept
/// side by side; callers check each candidate against the full hash.
#[derive(Clone, Debug, Default)]
pub(crate) struct TxIndex {
    /// (hash prefix, height << 16 | index in block), each run sorted.
    runs: Vec<Vec<(u64, u64)>>,
}

/// Blocks hold at most 10,000 transactions (`Config::validate`), which fits 16 bits.
const INDEX_BITS: u32 = 16;

impl TxIndex {
    pub(crate) fn push_block(&mut self, height: u64, hashes: &[Hash]) {
        if hashes.is_empty() {
            return;
        }
        let mut run: Vec<(u64, u64)> =
            hashes.iter().enumerate().map(|(i, h)| (prefix_u64(&h.0), (height << INDEX_BITS) | i as u64)).collect();
        run.sort_unstable();
        self.runs.push(run);
        while let [.., older, newer] = self.runs.as_slice() {
            if older.len() > 2 * newer.len() {
                break;
            }
            let (newer, older) = (self.runs.pop().unwrap_or_default(), self.runs.pop().unwrap_or_default());
            self.runs.push(merge(older, newer));
        }
    }

    /// Every (height, index) whose hash starts like `hash`, oldest run first.
    pub(crate) fn candidates(&self, hash: &Hash) -> impl Iterator<Item = (u64, u32)> + '_ {
        let p = prefix_u64(&hash.0);
        self.runs.iter().flat_map(move |run| {
            let start = run.partition_point(|e| e.0 < p);
            run[start..].iter().take_while(move |e| e.0 == p).map(|e| (e.1 >> INDEX_BITS, (e.1 & 0xffff) as u32))
        })
    }
}

/// Sealed transactions by the accounts they touch (sender and receiver), oldest first: one
/// packed `height << 16 | index in block` per account and transaction, 8 bytes, never a copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccountIndex {
    positions: BTreeMap<Address, Positions>,
}

/// One account's positions. Most accounts touch few transactions, so the first is kept inline
/// (in the map entry, no allocation of its own); the list is allocated from the second.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Positions {
    One(u64),
    Many(Vec<u64>),
}

impl Positions {
    fn push(&mut self, position: u64) {
        match self {
            Positions::One(first) => *self = Positions::Many(vec![*first, position]),
            Positions::Many(list) => list.push(position),
        }
    }

    fn as_slice(&self) -> &[u64] {
        match self {
            Positions::One(first) => std::slice::from_ref(first),
            Positions::Many(list) => list,
        }
    }
}

impl AccountIndex {
    /// Indexes one block; `parties` gives each transaction's (from, to), in block order. A
    /// transaction from an account to itself is listed once for it.
    pub(crate) fn push_block(&mut self, height: u64, parties: impl Iterator<Item = (Address, Address)>) {
        for (i, (from, to)) in parties.enumerate() {
            let position = (height << INDEX_BITS) | i as u64;
            self.push(from, position);
            if to != from {
                self.push(to, position);
            }
        }
    }

    fn push(&mut self, address: Address, position: u64) {
        match self.positions.get_mut(&address) {
            Some(list) => list.push(position),
            None => {
                self.positions.insert(address, Positions::One(position));
            }
        }
    }

    /// How many sealed transactions touch `address`.
    pub(crate) fn count(&self, address: &Address) -> usize {
        self.positions.get(address).map_or(0, |p| p.as_slice().len())
    }

    /// The `n`th sealed transaction of `address`, newest first, as (height, index in block).
    pub(crate) fn newest(&self, address: &Address, n: usize) -> Option<(u64, u32)> {
        let list = self.positions.get(address)?.as_slice();
        let p = *list.get(list.len().checked_sub(n + 1)?)?;
        Some((p >> INDEX_BITS, (p & 0xffff) as u32))
    }
}

fn merge(a: Vec<(u64, u64)>, b: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::sha256;

    #[test]
    fn finds_every_transaction_and_keeps_runs_logarithmic() {
        let mut index = TxIndex::default();
        let mut all = Vec::new();
        for height in 1..=300u64 {
            let hashes: Vec<Hash> =
                (0..(height % 7)).map(|i| sha256(&[&height.to_be_bytes(), &i.to_be_bytes()])).collect();
            index.push_block(height, &hashes);
            all.extend(hashes.iter().enumerate().map(|(i, h)| (*h, height, i as u32)));
        }
        for (h, height, i) in &all {
            assert!(index.candidates(h).any(|c| c == (*height, *i)), "{h} not found");
        }
        assert!(index.runs.len() <= 12, "{} runs", index.runs.len());
        assert!(index.runs.iter().all(|r| r.windows(2).all(|w| w[0] <= w[1])));
        assert_eq!(index.candidates(&sha256(&[b"absent"])).count(), 0);
    }

    #[test]
    fn account_positions_are_listed_newest_first_once_each() {
        let (a, b, c) = (Address([1; 20]), Address([2; 20]), Address([3; 20]));
        let mut index = AccountIndex::default();
        index.push_block(1, [(a, a), (a, b)].into_iter());
        index.push_block(2, [(c, b), (b, a)].into_iter());
        assert_eq!(index.count(&a), 3);
        let listed: Vec<_> = (0..4).map(|n| index.newest(&a, n)).collect();
        assert_eq!(listed, [Some((2, 1)), Some((1, 1)), Some((1, 0)), None]);
        assert_eq!((index.count(&b), index.newest(&b, 0)), (3, Some((2, 1))));
        assert_eq!((index.count(&c), index.newest(&c, 1)), (1, None));
        assert_eq!(index.count(&Address([9; 20])), 0);
        // The inline first position costs nothing over the list it replaces.
        assert_eq!(std::mem::size_of::<Positions>(), std::mem::size_of::<Vec<u64>>());
    }

    #[test]
    fn equal_prefixes_are_all_candidates() {
        let mut index = TxIndex::default();
        let mut a = Hash([7; 32]);
        let mut b = a;
        b.0[31] = 8;
        a.0[31] = 9;
        index.push_block(1, &[a]);
        index.push_block(2, &[b, a]);
        let found: Vec<_> = index.candidates(&a).collect();
        assert_eq!(found.len(), 3);
        assert!(found.contains(&(1, 0)) && found.contains(&(2, 0)) && found.contains(&(2, 1)));
    }
}

//! Merkle commitments: the per-block transaction root and the incremental state tree.

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

use crate::types::Hash;

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

/// The binary Merkle root of a block's transaction hashes.
///
/// Empty list: 32 zero bytes. An inner node is one SHA-256 compression of `left ‖ right` from
/// the chaining value of the domain block `ledger/tx-tree/node/v1` (see [`StateTree`] for why
/// one compression suffices); a node without a right sibling is promoted unchanged (no
/// duplication, so two lists never share a root by repetition). The header also carries
/// `tx_count`, which pins the tree's shape.
pub fn tx_root(hashes: &[Hash]) -> Hash {
    if hashes.is_empty() {
        return Hash::ZERO;
    }
    let iv = domain_iv(b"ledger/tx-tree/node/v1");
    let mut level: Vec<[u8; 32]> = hashes.iter().map(|h| h.0).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|pair| if let [l, r] = pair { node(&iv, l, r) } else { pair[0] }).collect();
    }
    Hash(level[0])
}

/// SHA-256's initial state.
const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Runs the SHA-256 compression function over one 64-byte block.
pub fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

fn state_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// SHA-256 compressions that `sha256` of a `len`-byte message runs: the message, the 0x80
/// terminator and the 8-byte length, in 64-byte blocks.
pub fn sha256_compressions(len: usize) -> u64 {
    (len as u64 + 9).div_ceil(64)
}

/// The chaining state after compressing a domain block (the tag, zero-padded to 64 bytes).
pub(crate) fn domain_iv(tag: &[u8]) -> [u32; 8] {
    let mut block = [0u8; 64];
    block[..tag.len()].copy_from_slice(tag);
    let mut state = SHA256_IV;
    compress(&mut state, &block);
    state
}

/// An inner node of a tree: one SHA-256 compression of `left ‖ right`, starting from a
/// domain-separated chaining value (so an inner node can never be read as a leaf, which is
/// hashed from a chaining value of its own). One compression per node, as in Zcash Sprout's
/// note commitment tree, halves the cost of a path update.
fn node(iv: &[u32; 8], left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    hash_block(iv, &block)
}

/// One SHA-256 compression of a 64-byte block from a domain chaining value (see
/// [`domain_iv`]): the hash of a fixed-size record, such as a state-tree leaf.
pub(crate) fn hash_block(iv: &[u32; 8], block: &[u8; 64]) -> [u8; 32] {
    let mut state = *iv;
    compress(&mut state, block);
    state_bytes(&state)
}

/// An append-only binary Merkle tree over balance slots, updated incrementally.
///
/// Leaves are indexed by slot; slots are assigned once, in a deterministic order, and never
/// move. The tree keeps every level, so updating `k` leaves costs `O(k · log n)` compressions
/// with shared ancestors computed once, independent of the total number of leaves except
/// through the logarithm. Missing right subtrees hash as precomputed empty subtrees.
#[derive(Clone, Debug)]
pub(crate) struct StateTree {
    /// `levels[0]` are the leaves; `levels[i]` has `ceil(len / 2^i)` nodes.
    levels: Vec<Vec<[u8; 32]>>,
    /// `empty[i]` is the root of an empty subtree of height `i`.
    empty: Vec<[u8; 32]>,
    iv: [u32; 8],
    /// Inner nodes hashed so far (for benchmarks: the deterministic cost of updates).
    hashed: u64,
}

impl StateTree {
    /// An empty tree whose inner nodes hash from the domain `tag`.
    pub(crate) fn new(tag: &[u8]) -> Self {
        let iv = domain_iv(tag);
        let mut empty = vec![[0u8; 32]];
        for i in 0..64 {
            let e = empty[i];
            empty.push(node(&iv, &e, &e));
        }
        StateTree { levels: vec![Vec::new()], empty, iv, hashed: 0 }
    }

    pub(crate) fn leaf(&self, index: u64) -> Option<[u8; 32]> {
        usize::try_from(index).ok().and_then(|i| self.levels[0].get(i)).copied()
    }

    pub(crate) fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Sets leaves, then rehashes every ancestor of a changed leaf once.
    ///
    /// `updates` must be sorted by slot, and a slot may be at most the current length (a new
    /// leaf is appended). Returns `false` and changes nothing if that contract is broken.
    pub(crate) fn update(&mut self, updates: &[(u64, [u8; 32])]) -> bool {
        let mut len = self.levels[0].len() as u64;
        for pair in updates.windows(2) {
            if pair[0].0 >= pair[1].0 {
                return false;
            }
        }
        for &(slot, _) in updates {
            if slot > len {
                return false;
            }
            if slot == len {
                len += 1;
            }
        }
        for &(slot, leaf) in updates {
            let leaves = &mut self.levels[0];
            if slot as usize == leaves.len() {
                leaves.push(leaf);
            } else {
                leaves[slot as usize] = leaf;
            }
        }
        let mut dirty: Vec<u64> = updates.iter().map(|u| u.0).collect();
        let mut level = 0;
        while self.levels[level].len() > 1 {
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            let mut parents: Vec<u64> = dirty.iter().map(|i| i / 2).collect();
            parents.dedup();
            let (lower, upper) = self.levels.split_at_mut(level + 1);
            let (children, parent_level) = (&lower[level], &mut upper[0]);
            let parent_len = children.len().div_ceil(2);
            if parent_level.len() > parent_len {
                parent_level.truncate(parent_len);
            }
            // Gather, hash, scatter: the gather loop only loads, so the CPU keeps many cache
            // misses in flight at once instead of stalling on one per node while hashing.
            let empty = self.empty[level];
            let pairs: Vec<([u8; 32], [u8; 32])> = parents
                .iter()
                .map(|&p| (children[2 * p as usize], children.get(2 * p as usize + 1).copied().unwrap_or(empty)))
                .collect();
            let hashes: Vec<[u8; 32]> = pairs.iter().map(|(l, r)| node(&self.iv, l, r)).collect();
            self.hashed += hashes.len() as u64;
            for (&p, h) in parents.iter().zip(hashes) {
                if p as usize == parent_level.len() {
                    parent_level.push(h);
                } else {
                    parent_level[p as usize] = h;
                }
            }
            dirty = parents;
            level += 1;
        }
        self.levels.truncate(level + 1);
        true
    }

    /// The root over the next power of two at or above the leaf count (empty tree: zeros).
    pub(crate) fn root(&self) -> Hash {
        Hash(self.levels.last().and_then(|top| top.first()).copied().unwrap_or(self.empty[0]))
    }

    /// Inner nodes hashed by all updates so far: one SHA-256 compression each.
    pub(crate) fn nodes_hashed(&self) -> u64 {
        self.hashed
    }

    /// Bytes held by the tree's nodes (for memory accounting).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.levels.iter().map(|l| l.capacity() * 32).sum()
    }

    /// The inclusion proof of leaf `index`: its sibling at every level, bottom up (an absent
    /// sibling is the empty subtree of that level).
    #[cfg(test)]
    pub(crate) fn proof(&self, index: u64) -> Vec<[u8; 32]> {
        let mut i = index as usize;
        let mut siblings = Vec::new();
        for (height, level) in self.levels[..self.levels.len() - 1].iter().enumerate() {
            siblings.push(level.get(i ^ 1).copied().unwrap_or(self.empty[height]));
            i /= 2;
        }
        siblings
    }

    /// The root that `leaf` at `index` and its `proof` imply.
    #[cfg(test)]
    pub(crate) fn root_from_proof(&self, index: u64, leaf: [u8; 32], proof: &[[u8; 32]]) -> Hash {
        let mut node_hash = leaf;
        for (height, sibling) in proof.iter().enumerate() {
            node_hash = if (index >> height) & 1 == 0 {
                node(&self.iv, &node_hash, sibling)
            } else {
                node(&self.iv, sibling, &node_hash)
            };
        }
        Hash(node_hash)
    }

    /// Recomputes the root from the leaves alone (for checks: must equal [`StateTree::root`]).
    pub(crate) fn recompute_root(&self) -> Hash {
        let mut level: Vec<[u8; 32]> = self.levels[0].clone();
        let mut height = 0;
        while level.len() > 1 {
            level = level.chunks(2).map(|p| node(&self.iv, &p[0], p.get(1).unwrap_or(&self.empty[height]))).collect();
            height += 1;
        }
        Hash(level.first().copied().unwrap_or(self.empty[0]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u64) -> [u8; 32] {
        sha256(&[&i.to_be_bytes()]).0
    }

    #[test]
    fn incremental_updates_match_a_full_recomputation() {
        let mut tree = StateTree::new(b"test/node");
        assert_eq!(tree.root(), Hash::ZERO);
        let mut next = 0u64;
        for round in 0..40u64 {
            // Change a few existing leaves and append a few new ones, in slot order.
            let mut updates: Vec<(u64, [u8; 32])> =
                (0..next).filter(|s| (s * 7 + round) % 5 == 0).map(|s| (s, leaf(s * 1000 + round))).collect();
            for _ in 0..(round % 4) {
                updates.push((next, leaf(next)));
                next += 1;
            }
            assert!(tree.update(&updates));
            assert_eq!(tree.root(), tree.recompute_root(), "round {round}");
        }
        assert!(next > 16);
    }

    #[test]
    fn out_of_order_or_gapped_updates_are_refused_without_change() {
        let mut tree = StateTree::new(b"test/node");
        assert!(tree.update(&[(0, leaf(0)), (1, leaf(1))]));
        let root = tree.root();
        assert!(!tree.update(&[(1, leaf(9)), (0, leaf(8))]));
        assert!(!tree.update(&[(3, leaf(3))]));
        assert_eq!(tree.root(), root);
        assert_eq!(tree.len(), 2);
    }

    #[test]
    fn tx_root_promotes_odd_nodes_and_depends_on_order() {
        let (a, b, c) = (sha256(&[b"a"]), sha256(&[b"b"]), sha256(&[b"c"]));
        assert_eq!(tx_root(&[]), Hash::ZERO);
        assert_eq!(tx_root(&[a]), a);
        let iv = domain_iv(b"ledger/tx-tree/node/v1");
        let ab = node(&iv, &a.0, &b.0);
        assert_eq!(tx_root(&[a, b]), Hash(ab));
        assert_eq!(tx_root(&[a, b, c]), Hash(node(&iv, &ab, &c.0)));
        // A one-compression node is not the plain SHA-256 of the pair.
        assert_ne!(ab, sha256(&[&a.0, &b.0]).0);
        assert_ne!(tx_root(&[a, b]), tx_root(&[b, a]));
    }
}

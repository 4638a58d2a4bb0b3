//! The Rollups v2 outputs tree: one append-only binary Merkle tree of height 63 over every output
//! the application ever produced (accepted inputs only, in order), whose root an Authority claim
//! carries and against which `Application.executeOutput` and `validateOutput` check a proof
//! (`LibMerkle32` and `LibOutputValidityProof` of rollups-contracts 2.x).
//!
//! A leaf is `keccak256(output)`, where `output` is the ABI call encoding of `Notice(bytes)`,
//! `Voucher(address,uint256,bytes)` or `DelegateCallVoucher(address,bytes)`; an empty leaf is 32
//! zero bytes and a parent is `keccak256(left ‖ right)`. Every level is kept, so appending costs
//! 63 hashes and any leaf's siblings can be read off for the tree as it is now.

use ethabi::ethereum_types::{Address, U256};
use ethabi::Token;
use sha3::{Digest, Keccak256};

/// A 32-byte keccak-256 hash.
pub type Hash = [u8; 32];

/// Levels above the leaves: the tree holds up to 2^63 outputs.
pub const HEIGHT: usize = 63;

/// Selectors of the output forms (`Outputs.sol`).
pub const NOTICE: [u8; 4] = [0xc2, 0x58, 0xd6, 0xe5];
pub const VOUCHER: [u8; 4] = [0x23, 0x7a, 0x81, 0x6f];
pub const DELEGATE_CALL_VOUCHER: [u8; 4] = [0x10, 0x32, 0x1e, 0x8b];

pub fn keccak(bytes: &[u8]) -> Hash {
    Keccak256::digest(bytes).into()
}

/// keccak-256 of two nodes side by side: every inner node of the v1 and v2 trees.
pub(crate) fn parent(left: &Hash, right: &Hash) -> Hash {
    let mut h = Keccak256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `Notice(bytes payload)` as the contracts hash it.
pub fn notice(payload: &[u8]) -> Vec<u8> {
    call(NOTICE, &[Token::Bytes(payload.to_vec())])
}

/// `Voucher(address destination, uint256 value, bytes payload)`.
pub fn voucher(destination: Address, value: U256, payload: &[u8]) -> Vec<u8> {
    call(VOUCHER, &[Token::Address(destination), Token::Uint(value), Token::Bytes(payload.to_vec())])
}

/// `DelegateCallVoucher(address destination, bytes payload)`.
pub fn delegate_call_voucher(destination: Address, payload: &[u8]) -> Vec<u8> {
    call(DELEGATE_CALL_VOUCHER, &[Token::Address(destination), Token::Bytes(payload.to_vec())])
}

fn call(selector: [u8; 4], args: &[Token]) -> Vec<u8> {
    let mut out = selector.to_vec();
    out.extend(ethabi::encode(args));
    out
}

/// The root of `2^level` pristine leaves whose node is `leaf`, for every level up to `height`.
pub(crate) fn pristine(leaf: Hash, height: usize) -> Vec<Hash> {
    let mut levels = vec![leaf];
    for level in 0..height {
        let below = levels[level];
        levels.push(parent(&below, &below));
    }
    levels
}

/// The outputs tree, appended to in output order.
#[derive(Clone, Debug)]
pub struct OutputsTree {
    /// `levels[0]` are the leaves; `levels[l][j]` covers leaves `j·2^l .. (j+1)·2^l`, with the
    /// missing ones empty.
    levels: Vec<Vec<Hash>>,
    pristine: Vec<Hash>,
}

impl Default for OutputsTree {
    fn default() -> Self {
        OutputsTree::new()
    }
}

impl OutputsTree {
    pub fn new() -> OutputsTree {
        OutputsTree { levels: vec![Vec::new(); HEIGHT + 1], pristine: pristine([0; 32], HEIGHT) }
    }

    /// How many outputs the tree holds.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// Appends the output whose bytes hash to `leaf`; returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.levels[0].len();
        self.levels[0].push(leaf);
        let mut at = index;
        for level in 1..=HEIGHT {
            at >>= 1;
            let below = &self.levels[level - 1];
            let left = below[2 * at];
            let right = below.get(2 * at + 1).copied().unwrap_or(self.pristine[level - 1]);
            let node = parent(&left, &right);
            match self.levels[level].get_mut(at) {
                Some(slot) => *slot = node,
                None => self.levels[level].push(node),
            }
        }
        index as u64
    }

    pub fn root(&self) -> Hash {
        self.levels[HEIGHT].first().copied().unwrap_or(self.pristine[HEIGHT])
    }

    /// The 63 siblings of output `index`, leaf to root, for the tree as it is now; `None` past
    /// the last output.
    pub fn siblings(&self, index: u64) -> Option<Vec<Hash>> {
        if index >= self.len() {
            return None;
        }
        let mut at = index as usize;
        let mut siblings = Vec::with_capacity(HEIGHT);
        for level in 0..HEIGHT {
            siblings.push(self.levels[level].get(at ^ 1).copied().unwrap_or(self.pristine[level]));
            at >>= 1;
        }
        Some(siblings)
    }
}

/// The root a proof gives for `leaf` at `index`: what `LibOutputValidityProof` compares with the
/// claimed root (`LibMerkle32.merkleRoot`: bit `i` of the index says whether the running hash is
/// the right child at level `i`). `None` when there are not 63 siblings, which the contract
/// refuses too (`InvalidOutputHashesSiblingsArrayLength`).
pub fn root_of(leaf: Hash, index: u64, siblings: &[Hash]) -> Option<Hash> {
    if siblings.len() != HEIGHT {
        return None;
    }
    let mut node = leaf;
    for (level, sibling) in siblings.iter().enumerate() {
        node = if (index >> level) & 1 == 0 { parent(&node, sibling) } else { parent(sibling, &node) };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hex_of(hash: &Hash) -> String {
        format!("0x{}", hex::encode(hash))
    }

    fn account() -> Address {
        "f39fd6e51aad88f6f4ce6ab8827279cfffb92266".parse().unwrap()
    }

    #[test]
    fn selectors_are_the_keccak_of_the_signatures() {
        assert_eq!(keccak(b"Notice(bytes)")[..4], NOTICE);
        assert_eq!(keccak(b"Voucher(address,uint256,bytes)")[..4], VOUCHER);
        assert_eq!(keccak(b"DelegateCallVoucher(address,bytes)")[..4], DELEGATE_CALL_VOUCHER);
    }

    #[test]
    fn empty_tree_root_is_the_references() {
        assert_eq!(
            hex_of(&OutputsTree::new().root()),
            "0x0a162946e56158bac0673e6dd3bdfdc1e4a0e7744a120fdb640050c8d7abe1c6"
        );
    }

    /// §8.2's vector, verified on-chain by the reference: a voucher of 1 ETH, a notice and a
    /// delegate-call voucher; and a single notice.
    #[test]
    fn roots_match_the_on_chain_vector() {
        let outputs = [
            voucher(account(), U256::exp10(18), &[0xde, 0xad, 0xbe, 0xef]),
            notice(b"hello"),
            delegate_call_voucher(account(), &[1, 2]),
        ];
        let mut tree = OutputsTree::new();
        for (i, o) in outputs.iter().enumerate() {
            assert_eq!(tree.push(keccak(o)), i as u64);
        }
        assert_eq!(hex_of(&tree.root()), "0x3281f314530b7617e23ce7d5782c47d880d91e1d350dc74b7772367f817a714e");

        let mut single = OutputsTree::new();
        single.push(keccak(&notice(b"hello")));
        assert_eq!(hex_of(&single.root()), "0xe5b30a9b95ba76e66f2d08a87901646ac348086e2d23836d7e43232e9728069d");
    }

    #[test]
    fn every_proof_gives_the_root_and_a_tampered_one_does_not() {
        let mut tree = OutputsTree::new();
        for i in 0..37u32 {
            tree.push(keccak(&notice(&i.to_be_bytes())));
            // Proofs taken at every size, for every output held: the tree is checked as it grows.
            for j in 0..tree.len() {
                let leaf = keccak(&notice(&(j as u32).to_be_bytes()));
                let siblings = tree.siblings(j).unwrap();
                assert_eq!(root_of(leaf, j, &siblings), Some(tree.root()), "output {j} of {}", tree.len());
            }
        }
        let leaf = keccak(&notice(&5u32.to_be_bytes()));
        let mut siblings = tree.siblings(5).unwrap();
        assert_ne!(root_of(leaf, 6, &siblings), Some(tree.root()), "another index");
        assert_ne!(root_of(keccak(&notice(b"x")), 5, &siblings), Some(tree.root()), "another output");
        siblings[10][0] ^= 1;
        assert_ne!(root_of(leaf, 5, &siblings), Some(tree.root()), "a changed sibling");
        assert_eq!(root_of(leaf, 5, &siblings[1..]), None, "62 siblings");
        assert_eq!(tree.siblings(tree.len()), None);
    }
}

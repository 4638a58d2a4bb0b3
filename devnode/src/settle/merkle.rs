//! Rollups v1 output trees: the per-input output-hashes trees, the per-epoch trees over them, the
//! epoch hash, and the validity proofs that `CartesiDApp.executeVoucher` and `validateNotice`
//! check (`LibOutputValidation` of rollups-contracts 1.4.5, `MerkleV2` of @cartesi/util 6.3.0).
//!
//! The trees are Cartesi Machine memory trees of keccak-256: a node covers a power-of-two range of
//! bytes, a leaf is an 8-byte word, and a parent is `keccak(left ‖ right)`. Each output's hash
//! (32 bytes) fills a 32-byte slot (log2 size 5), so its node is the root of a four-word tree. An
//! input's output-hashes tree has 2^16 such slots (log2 size 21); an epoch's tree has 2^32 slots
//! (log2 size 37), slot `i` holding the output-hashes root of the epoch's input `i`. Empty parts
//! are "pristine": the root of zero memory of that size. The contracts never check pristine
//! values, only that a proof is consistent; the values here are those of Cartesi's host-runner, so
//! the epoch hash is the one Cartesi's own node would claim (the reference vector checks it).

pub(crate) use super::tree::Hash;
use super::tree::{keccak, parent, pristine};
use ethabi::Token;

/// Height (number of levels above the 32-byte slots) of an input's output-hashes tree.
pub(crate) const OUTPUT_TREE_HEIGHT: usize = 16;
/// Height of an epoch's tree.
pub(crate) const EPOCH_TREE_HEIGHT: usize = 32;

/// The node of one 32-byte slot holding `hash`: the root of its four 8-byte words.
pub(crate) fn slot_node(hash: &Hash) -> Hash {
    let words: Vec<Hash> = hash.chunks(8).map(keccak).collect();
    parent(&parent(&words[0], &words[1]), &parent(&words[2], &words[3]))
}

/// A tree of `2^height` slots of which the first `leaves.len()` are given and the rest pristine,
/// with every level kept so that any slot's siblings can be read off.
#[derive(Clone, Debug)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
    pristine: Vec<Hash>,
}

impl Tree {
    /// `pristine_slot` is the node of an empty slot.
    pub fn new(leaves: Vec<Hash>, height: usize, pristine_slot: Hash) -> Tree {
        let pristine = pristine(pristine_slot, height);
        let mut levels = vec![leaves];
        for level in 0..height {
            let below = &levels[level];
            let above: Vec<Hash> =
                below.chunks(2).map(|pair| parent(&pair[0], pair.get(1).unwrap_or(&pristine[level]))).collect();
            levels.push(above);
        }
        Tree { levels, pristine }
    }

    pub fn height(&self) -> usize {
        self.levels.len() - 1
    }

    pub fn root(&self) -> Hash {
        self.levels[self.height()].first().copied().unwrap_or(self.pristine[self.height()])
    }

    /// The siblings of slot `index`, from the slot's level up to the root's children.
    pub(crate) fn siblings(&self, index: u64) -> Vec<Hash> {
        let mut index = index as usize;
        let mut siblings = Vec::with_capacity(self.height());
        for level in 0..self.height() {
            let sibling = index ^ 1;
            siblings.push(self.levels[level].get(sibling).copied().unwrap_or(self.pristine[level]));
            index >>= 1;
        }
        siblings
    }
}

/// Which of an input's two output lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Voucher,
    Notice,
}

/// An output as the contracts hash it: a voucher is `abi.encode(destination, payload)`, a notice
/// `abi.encode(payload)`.
pub(crate) fn output_hash(kind: Kind, destination: Option<[u8; 20]>, payload: &[u8]) -> Hash {
    let encoded = match (kind, destination) {
        (Kind::Voucher, Some(to)) => {
            ethabi::encode(&[Token::Address(ethabi::ethereum_types::Address::from(to)), Token::Bytes(payload.to_vec())])
        }
        _ => ethabi::encode(&[Token::Bytes(payload.to_vec())]),
    };
    keccak(&encoded)
}

/// The empty 32-byte slot of an output-hashes tree: the root of 32 zero bytes.
fn zero_slot() -> Hash {
    slot_node(&[0; 32])
}

/// One input's output-hashes tree over the hashes of its outputs of one kind, in order.
pub(crate) fn output_hashes_tree(hashes: &[Hash]) -> Tree {
    Tree::new(hashes.iter().map(slot_node).collect(), OUTPUT_TREE_HEIGHT, zero_slot())
}

/// How an input ended, as far as the epoch tree cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputOutputs {
    /// Accepted, with the hashes of its vouchers and of its notices.
    Accepted { vouchers: Vec<Hash>, notices: Vec<Hash> },
    /// Rejected or EXCEPTION: it keeps its slot, with the zero word (as Cartesi's host-runner).
    Reverted,
}

/// An epoch's two trees and everything a proof needs.
#[derive(Clone, Debug)]
pub struct Epoch {
    pub vouchers: Tree,
    pub notices: Tree,
    /// Per input of the epoch: its voucher and notice output-hashes trees (`None` if reverted).
    pub inputs: Vec<Option<(Tree, Tree)>>,
}

/// The machine state hash in claims: host mode has no machine, and Cartesi's host-runner uses 32
/// zero bytes. Any value works if used consistently.
pub(crate) const MACHINE_STATE_HASH: Hash = [0; 32];

impl Epoch {
    /// The trees of an epoch whose inputs, in order, ended as given.
    pub fn new(inputs: &[InputOutputs]) -> Epoch {
        let mut per_input = Vec::with_capacity(inputs.len());
        let (mut voucher_slots, mut notice_slots) = (Vec::new(), Vec::new());
        for input in inputs {
            match input {
                InputOutputs::Accepted { vouchers, notices } => {
                    let (v, n) = (output_hashes_tree(vouchers), output_hashes_tree(notices));
                    voucher_slots.push(v.root());
                    notice_slots.push(n.root());
                    per_input.push(Some((v, n)));
                }
                InputOutputs::Reverted => {
                    voucher_slots.push([0; 32]);
                    notice_slots.push([0; 32]);
                    per_input.push(None);
                }
            }
        }
        // Empty epoch slots: keccak of 32 zero bytes, as Cartesi's host-runner.
        let empty = keccak(&[0; 32]);
        Epoch {
            vouchers: Tree::new(voucher_slots, EPOCH_TREE_HEIGHT, empty),
            notices: Tree::new(notice_slots, EPOCH_TREE_HEIGHT, empty),
            inputs: per_input,
        }
    }

    /// `keccak(vouchersEpochRoot ‖ noticesEpochRoot ‖ machineStateHash)`.
    pub fn hash(&self) -> Hash {
        let mut bytes = Vec::with_capacity(96);
        bytes.extend_from_slice(&self.vouchers.root());
        bytes.extend_from_slice(&self.notices.root());
        bytes.extend_from_slice(&MACHINE_STATE_HASH);
        keccak(&bytes)
    }

    /// The validity proof of output `output` (of `kind`) of the epoch's input `input`, or `None`
    /// when the input was reverted or has no such output.
    pub fn proof(&self, kind: Kind, input: u64, output: u64) -> Option<Validity> {
        let (vouchers, notices) = self.inputs.get(input as usize)?.as_ref()?;
        let (tree, epoch) = match kind {
            Kind::Voucher => (vouchers, &self.vouchers),
            Kind::Notice => (notices, &self.notices),
        };
        if output as usize >= tree.levels[0].len() {
            return None;
        }
        Some(Validity {
            input_index_within_epoch: input,
            output_index_within_input: output,
            output_hashes_root_hash: tree.root(),
            vouchers_epoch_root_hash: self.vouchers.root(),
            notices_epoch_root_hash: self.notices.root(),
            machine_state_hash: MACHINE_STATE_HASH,
            output_hash_in_output_hashes_siblings: tree.siblings(output),
            output_hashes_in_epoch_siblings: epoch.siblings(input),
        })
    }
}

/// `OutputValidityProof` of rollups-contracts 1.4.5, field for field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validity {
    pub input_index_within_epoch: u64,
    pub output_index_within_input: u64,
    pub output_hashes_root_hash: Hash,
    pub vouchers_epoch_root_hash: Hash,
    pub notices_epoch_root_hash: Hash,
    pub machine_state_hash: Hash,
    pub output_hash_in_output_hashes_siblings: Vec<Hash>,
    pub output_hashes_in_epoch_siblings: Vec<Hash>,
}

impl Validity {
    /// A compact binary form for storage: the two indices, the four roots, then the siblings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 32 * (4 + OUTPUT_TREE_HEIGHT + EPOCH_TREE_HEIGHT));
        out.extend_from_slice(&self.input_index_within_epoch.to_be_bytes());
        out.extend_from_slice(&self.output_index_within_input.to_be_bytes());
        for h in [
            &self.output_hashes_root_hash,
            &self.vouchers_epoch_root_hash,
            &self.notices_epoch_root_hash,
            &self.machine_state_hash,
        ] {
            out.extend_from_slice(h);
        }
        for h in self.output_hash_in_output_hashes_siblings.iter().chain(&self.output_hashes_in_epoch_siblings) {
            out.extend_from_slice(h);
        }
        out
    }

    /// The inverse of [`to_bytes`](Self::to_bytes); `None` for bytes of another shape.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Validity> {
        if bytes.len() != 16 + 32 * (4 + OUTPUT_TREE_HEIGHT + EPOCH_TREE_HEIGHT) {
            return None;
        }
        let word = |i: usize| -> Hash {
            let mut h = [0; 32];
            h.copy_from_slice(&bytes[16 + 32 * i..16 + 32 * (i + 1)]);
            h
        };
        let index = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        Some(Validity {
            input_index_within_epoch: index(0),
            output_index_within_input: index(8),
            output_hashes_root_hash: word(0),
            vouchers_epoch_root_hash: word(1),
            notices_epoch_root_hash: word(2),
            machine_state_hash: word(3),
            output_hash_in_output_hashes_siblings: (4..4 + OUTPUT_TREE_HEIGHT).map(word).collect(),
            output_hashes_in_epoch_siblings: (4 + OUTPUT_TREE_HEIGHT..4 + OUTPUT_TREE_HEIGHT + EPOCH_TREE_HEIGHT)
                .map(word)
                .collect(),
        })
    }

    /// Recomputes the epoch hash from the proof, as `LibOutputValidation.validateEncodedOutput`
    /// does, for an output whose hash is `output_hash`.
    pub fn epoch_hash_for(&self, kind: Kind, output_hash: &Hash) -> Hash {
        let climb = |mut node: Hash, mut index: u64, siblings: &[Hash]| {
            for sibling in siblings {
                node = if index & 1 == 0 { parent(&node, sibling) } else { parent(sibling, &node) };
                index >>= 1;
            }
            node
        };
        let output_root =
            climb(slot_node(output_hash), self.output_index_within_input, &self.output_hash_in_output_hashes_siblings);
        let epoch_root = climb(output_root, self.input_index_within_epoch, &self.output_hashes_in_epoch_siblings);
        let (vouchers, notices) = match kind {
            Kind::Voucher => (epoch_root, self.notices_epoch_root_hash),
            Kind::Notice => (self.vouchers_epoch_root_hash, epoch_root),
        };
        let mut bytes = Vec::with_capacity(96);
        bytes.extend_from_slice(&vouchers);
        bytes.extend_from_slice(&notices);
        bytes.extend_from_slice(&self.machine_state_hash);
        keccak(&bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn h(text: &str) -> Hash {
        hex::decode(text.trim_start_matches("0x")).unwrap().try_into().unwrap()
    }

    fn hex_of(hash: &Hash) -> String {
        format!("0x{}", hex::encode(hash))
    }

    #[test]
    fn pristine_values_are_cartesis() {
        let p = pristine(keccak(&[0; 8]), 2);
        assert!(hex_of(&p[0]).starts_with("0x011b4d03"), "P3 {}", hex_of(&p[0]));
        assert!(hex_of(&p[2]).starts_with("0xae39ce85"), "P5 {}", hex_of(&p[2]));
        assert_eq!(zero_slot(), p[2]);
        let empty = output_hashes_tree(&[]).root();
        assert!(hex_of(&empty).starts_with("0x27d86025") && hex_of(&empty).ends_with("8b5e"), "P21 {}", hex_of(&empty));
        assert!(hex_of(&keccak(&[0; 32])).starts_with("0x290decd9"));
    }

    /// The reference vector, verified on-chain: #0 accepted with voucher (0xf39F…2266,
    /// 0xdeadbeef) and notices "hello", "world"; #1 rejected; #2 accepted with notice "!".
    fn vector() -> Epoch {
        let account = h("0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
        let mut to = [0u8; 20];
        to.copy_from_slice(&account[12..]);
        Epoch::new(&[
            InputOutputs::Accepted {
                vouchers: vec![output_hash(Kind::Voucher, Some(to), &[0xde, 0xad, 0xbe, 0xef])],
                notices: vec![output_hash(Kind::Notice, None, b"hello"), output_hash(Kind::Notice, None, b"world")],
            },
            InputOutputs::Reverted,
            InputOutputs::Accepted { vouchers: vec![], notices: vec![output_hash(Kind::Notice, None, b"!")] },
        ])
    }

    #[test]
    fn the_reference_vector_is_reproduced() {
        let epoch = vector();
        assert_eq!(epoch.vouchers.root(), h("0x0aaa6d6d77f931cb111fc3a1533a3c158d26ca387cec5b2d1d47b030e25781f4"));
        assert_eq!(epoch.notices.root(), h("0x38b8bf65f72b869c4334fb37161a5926bb432dc58ce4a9757d3a573f30cb594b"));
        assert_eq!(epoch.hash(), h("0x8efe471eb4a976b68c59c040e8e5346ae4ebaf5db16847318f6baa3649961953"));
        let (_, notices) = epoch.inputs[0].as_ref().unwrap();
        assert_eq!(notices.root(), h("0x673954e2110b0198198bb59d021e26c19d5f212baa63b980de0b60bba9298c5b"));
    }

    #[test]
    fn every_proof_climbs_to_the_epoch_hash_and_a_changed_sibling_does_not() {
        let epoch = vector();
        let cases = [
            (
                Kind::Voucher,
                0,
                0,
                output_hash(
                    Kind::Voucher,
                    Some(
                        h("0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266")[12..]
                            .try_into()
                            .unwrap(),
                    ),
                    &[0xde, 0xad, 0xbe, 0xef],
                ),
            ),
            (Kind::Notice, 0, 1, output_hash(Kind::Notice, None, b"world")),
            (Kind::Notice, 2, 0, output_hash(Kind::Notice, None, b"!")),
        ];
        for (kind, input, output, hash) in cases {
            let proof = epoch.proof(kind, input, output).unwrap();
            assert_eq!(proof.output_hash_in_output_hashes_siblings.len(), 16);
            assert_eq!(proof.output_hashes_in_epoch_siblings.len(), 32);
            assert_eq!(proof.epoch_hash_for(kind, &hash), epoch.hash(), "{kind:?} {input} {output}");
            assert_eq!(Validity::from_bytes(&proof.to_bytes()), Some(proof.clone()));
            let mut altered = proof.clone();
            altered.output_hashes_in_epoch_siblings[3][0] ^= 1;
            assert_ne!(altered.epoch_hash_for(kind, &hash), epoch.hash());
        }
        assert!(epoch.proof(Kind::Notice, 1, 0).is_none(), "a rejected input has no outputs");
        assert!(epoch.proof(Kind::Voucher, 2, 0).is_none());
    }
}

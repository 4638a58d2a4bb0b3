//! An output's proof, as Cartesi's reader shows it once the claim of the output's epoch is on L1.

use async_graphql::SimpleObject;

use super::schema::{int, internal};
use crate::store::{OutputKind, Store, StoredOutput};

/// The proof of a stored output, once its epoch's claim is on L1.
pub(super) fn proof_of(store: &Store, kind: OutputKind, output: &StoredOutput) -> async_graphql::Result<Option<Proof>> {
    let Some((claim, bytes)) = store.proof(kind, output.input_index, output.index).map_err(internal)? else {
        return Ok(None);
    };
    let v = crate::settle::merkle::Validity::from_bytes(&bytes).ok_or_else(|| {
        internal(crate::store::StoreError::Corrupt(format!("a stored proof of {} bytes", bytes.len())))
    })?;
    let hex = |h: &[u8; 32]| format!("0x{}", hex::encode(h));
    Ok(Some(Proof {
        validity: OutputValidityProof {
            input_index_within_epoch: int(v.input_index_within_epoch)?,
            output_index_within_input: int(v.output_index_within_input)?,
            output_hashes_root_hash: hex(&v.output_hashes_root_hash),
            vouchers_epoch_root_hash: hex(&v.vouchers_epoch_root_hash),
            notices_epoch_root_hash: hex(&v.notices_epoch_root_hash),
            machine_state_hash: hex(&v.machine_state_hash),
            output_hash_in_output_hashes_siblings: v.output_hash_in_output_hashes_siblings.iter().map(hex).collect(),
            output_hashes_in_epoch_siblings: v.output_hashes_in_epoch_siblings.iter().map(hex).collect(),
        },
        context: format!("0x{}", hex::encode(crate::l1::claim_context(claim))),
    }))
}

/// Data that can be used as proof to validate notices and execute vouchers on the base layer blockchain
#[derive(SimpleObject, Debug)]
pub(super) struct Proof {
    /// Validity proof for an output
    validity: OutputValidityProof,
    /// Data that allows the validity proof to be contextualized within submitted claims, given as a payload in Ethereum hex binary format, starting with '0x'
    context: String,
}

/// Validity proof for an output
#[derive(SimpleObject, Debug)]
pub(super) struct OutputValidityProof {
    /// Local input index within the context of the related epoch
    input_index_within_epoch: i32,
    /// Output index within the context of the input that produced it
    output_index_within_input: i32,
    /// Merkle root of all output hashes of the related input, given in Ethereum hex binary format (32 bytes), starting with '0x'
    output_hashes_root_hash: String,
    /// Merkle root of all voucher hashes of the related epoch, given in Ethereum hex binary format (32 bytes), starting with '0x'
    vouchers_epoch_root_hash: String,
    /// Merkle root of all notice hashes of the related epoch, given in Ethereum hex binary format (32 bytes), starting with '0x'
    notices_epoch_root_hash: String,
    /// Hash of the machine state claimed for the related epoch, given in Ethereum hex binary format (32 bytes), starting with '0x'
    machine_state_hash: String,
    /// Proof that this output hash is in the output-hashes merkle tree. This array of siblings is bottom-up ordered (from the leaf to the root). Each hash is given in Ethereum hex binary format (32 bytes), starting with '0x'.
    output_hash_in_output_hashes_siblings: Vec<String>,
    /// Proof that this output-hashes root hash is in epoch's output merkle tree. This array of siblings is bottom-up ordered (from the leaf to the root). Each hash is given in Ethereum hex binary format (32 bytes), starting with '0x'.
    output_hashes_in_epoch_siblings: Vec<String>,
}

//! `cartesi_listApplications`/`getApplication` and the epochs: the one application this node
//! runs, with every field Cartesi's node has, and its epochs with their statuses and claims.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use super::{bytes, hex, rfc3339};
use crate::l1::{self, checksum};
use crate::rpc::{RpcError, State};
use crate::store::ClaimV2;

pub(super) fn epoch_of_input(state: &State, input_index: u64) -> Option<u64> {
    let epoch_length = state.book.application.epoch_length.max(1);
    state.store.input(input_index).ok().flatten().map(|(r, _)| r.block_number / epoch_length)
}

pub(super) fn application(state: &State) -> Result<Value, RpcError> {
    let book = &state.book;
    let app = &book.application;
    let processed = state.store.processed_count()?;
    let time = rfc3339(0);
    let read_through = hex(state.read_through.load(Ordering::Relaxed));
    let (zero_address, zero_hash) = (checksum(l1::Address::zero()), bytes(&[0; 32]));
    let execution_parameters = json!({
        "snapshot_policy": "NONE",
        "advance_inc_cycles": "0x0",
        "advance_max_cycles": "0x0",
        "inspect_inc_cycles": "0x0",
        "inspect_max_cycles": "0x0",
        "advance_inc_deadline": "0x0",
        "advance_max_deadline": "0x0",
        "inspect_inc_deadline": "0x0",
        "inspect_max_deadline": "0x0",
        "load_deadline": "0x0",
        "store_deadline": "0x0",
        "fast_deadline": "0x0",
        "max_concurrent_inspects": 0,
        "created_at": time,
        "updated_at": time,
    });
    let withdrawal_config = json!({
        "guardian": zero_address,
        "log2_leaves_per_account": "0x0",
        "log2_max_num_of_accounts": "0x0",
        "accounts_drive_start_index": "0x0",
        "withdrawal_output_builder": zero_address,
    });
    // Every field of @cartesi/rpc's `Application`, zero or a default where this node has
    // nothing: @cartesi/viem's mapper converts each one and throws on a missing field.
    Ok(json!({
        "name": l1::APPLICATION_NAME,
        "iapplication_address": checksum(app.app),
        "iconsensus_address": checksum(app.authority),
        "iinputbox_address": checksum(book.rollups.input_box),
        "template_hash": zero_hash,
        "template_uri": "",
        "epoch_length": hex(app.epoch_length),
        "claim_staging_period": "0x0",
        "withdrawal_config": withdrawal_config,
        "data_availability": bytes(&l1::input_box_data_availability(book.rollups.input_box)),
        "consensus_type": "AUTHORITY",
        "enabled": true,
        "status": if state.health.failure().is_some() { "FAILED" } else { "OK" },
        "state": if state.health.failure().is_some() { "INOPERABLE" } else { "ENABLED" },
        "reason": state.health.failure(),
        "iinputbox_block": hex(app.block_number),
        "last_epoch_check_block": read_through,
        "last_input_check_block": read_through,
        "last_output_check_block": read_through,
        "last_tournament_check_block": "0x0",
        "last_foreclose_check_block": "0x0",
        "last_accounts_drive_proved_check_block": "0x0",
        "last_withdrawal_check_block": "0x0",
        "processed_inputs": hex(processed),
        "foreclose_block": "0x0",
        "foreclose_transaction": zero_hash,
        "accounts_drive_proved_block": "0x0",
        "accounts_drive_proved_transaction": zero_hash,
        "accounts_drive_merkle_root": zero_hash,
        "created_at": time,
        "updated_at": time,
        "execution_parameters": execution_parameters,
    }))
}

/// Every epoch with inputs, in order, with its status and claim.
pub(super) fn epochs(state: &State) -> Result<Vec<Value>, RpcError> {
    let epoch_length = state.book.application.epoch_length.max(1);
    let claims: BTreeMap<u64, ClaimV2> = state.store.claims_v2()?.into_iter().map(|c| (c.epoch, c)).collect();
    let read_through = state.read_through.load(Ordering::Relaxed);
    let mut out = Vec::new();
    for (virtual_index, (epoch, first, count, unprocessed)) in
        state.store.epochs_v2(epoch_length)?.into_iter().enumerate()
    {
        let (first_block, last_block) = (epoch * epoch_length, (epoch + 1) * epoch_length - 1);
        let claim = claims.get(&epoch);
        let status = match claim {
            Some(c) if c.submitted => "CLAIM_ACCEPTED",
            Some(_) => "CLAIM_COMPUTED",
            None if last_block > read_through => "OPEN",
            None if unprocessed > 0 => "CLOSED",
            None => "INPUTS_PROCESSED",
        };
        out.push(json!({
            "index": hex(epoch),
            "first_block": hex(first_block),
            "last_block": hex(last_block),
            "input_index_lower_bound": hex(first),
            "input_index_upper_bound": hex(first + count),
            "machine_hash": null,
            "outputs_merkle_root": claim.map(|c| bytes(&c.root)),
            "outputs_merkle_proof": null,
            "commitment": null,
            "commitment_proof": null,
            "claim_transaction_hash": claim.and_then(|c| c.transaction_hash).map(|h| bytes(&h)),
            "tournament_address": null,
            "status": status,
            "staged_at_block": null,
            "virtual_index": hex(virtual_index as u64),
            "created_at": rfc3339(0),
            "updated_at": rfc3339(0),
        }));
    }
    Ok(out)
}

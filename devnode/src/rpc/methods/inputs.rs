//! Inputs as `cartesi_listInputs`/`getInput` answer them: the stored record, its v2
//! `EvmAdvance` encoding and that encoding decoded.

use serde_json::{json, Value};

use super::{bytes, hex, rfc3339};
use crate::l1::{self, checksum, EvmAdvance, H256};
use crate::rpc::{RpcError, State};
use crate::store::{InputRecord, InputStatus};

fn status_name(status: InputStatus) -> &'static str {
    status.name(rollup::RollupsVersion::V2)
}

pub(super) fn input(state: &State, r: &InputRecord, status: InputStatus) -> Result<Value, RpcError> {
    let epoch_length = state.book.application.epoch_length.max(1);
    let prev_randao = state.store.prev_randao(r.index)?.unwrap_or([0; 32]);
    let advance = EvmAdvance {
        chain_id: state.book.chain_id,
        app: state.book.application.app,
        sender: l1::Address::from(r.msg_sender.0),
        block_number: r.block_number,
        block_timestamp: r.timestamp,
        prev_randao: H256(prev_randao),
        index: r.index,
        payload: r.payload.clone(),
    };
    let time = rfc3339(r.timestamp);
    Ok(json!({
        "epoch_index": hex(r.block_number / epoch_length),
        "index": hex(r.index),
        "block_number": hex(r.block_number),
        "raw_data": bytes(&advance.encode()),
        "decoded_data": {
            "chain_id": hex(advance.chain_id),
            "application_contract": checksum(advance.app),
            "sender": checksum(advance.sender),
            "block_number": hex(advance.block_number),
            "block_timestamp": hex(advance.block_timestamp),
            "prev_randao": bytes(&prev_randao),
            "index": hex(advance.index),
            "payload": bytes(&advance.payload),
        },
        "status": status_name(status),
        "machine_hash": null,
        "outputs_hash": null,
        "transaction_hash": bytes(&r.origin.transaction_hash),
        "log_index": hex(r.origin.log_index),
        // What @cartesi/viem 2.0.0-alpha.31 reads (older nodes' name of `transaction_hash`).
        "transaction_reference": bytes(&r.origin.transaction_hash),
        "created_at": time,
        "updated_at": time,
    }))
}

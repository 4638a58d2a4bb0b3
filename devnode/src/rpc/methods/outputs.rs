//! Outputs and reports as `cartesi_listOutputs`/`getOutput` and `listReports`/`getReport`
//! answer them, with each output's proof and the L1 transaction that executed it.

use std::collections::BTreeMap;

use rollup::wire::Output;
use serde_json::{json, Value};

use super::{bytes, hex, rfc3339};
use crate::l1::{self, checksum, H256};
use crate::rpc::{RpcError, State};
use crate::settle::tree::keccak;
use crate::settle::v2::output_bytes;
use crate::store::{OutputV2, ReportV2};

/// Which outputs were executed on L1, and in which transaction: the Application's
/// `OutputExecuted(uint64 outputIndex, bytes output)` events. When L1 does not answer, none (the
/// outputs themselves are local, so they are still served, with a null execution).
pub(super) async fn executions(state: &State) -> BTreeMap<u64, H256> {
    let app = &state.book.application;
    let topic = l1::keccak256(b"OutputExecuted(uint64,bytes)");
    let logs = match state.rpc.block_number().await {
        Ok(latest) => state.rpc.get_logs(app.app, &[Some(topic)], app.block_number, latest).await,
        Err(e) => Err(e),
    };
    let logs = match logs {
        Ok(logs) => logs,
        Err(e) => {
            tracing::warn!("outputs served without their executions: L1 did not answer: {e}");
            return BTreeMap::new();
        }
    };
    logs.iter()
        .filter_map(|l| {
            let word = l.data.get(..32)?;
            let index = u64::from_be_bytes(word[24..32].try_into().ok()?);
            Some((index, l.transaction_hash))
        })
        .collect()
}

pub(super) fn output(state: &State, o: &OutputV2, executions: &BTreeMap<u64, H256>) -> Result<Value, RpcError> {
    let raw = output_bytes(&o.output).ok_or_else(|| RpcError::internal("a report among the outputs"))?;
    // `type` names the kind as Cartesi's node does ("Notice", "Voucher", "DelegateCallVoucher");
    // selectors are only the form of the `output_type` filter.
    let decoded = match &o.output {
        Output::Notice(p) => json!({"type": "Notice", "payload": bytes(p)}),
        Output::Voucher(v) => {
            let value = v.value.as_ref().map_or(l1::U256::zero(), |x| l1::U256::from_big_endian(&x.0));
            json!({
                "type": "Voucher",
                "destination": checksum(l1::Address::from(v.destination.0)),
                "value": format!("{value:#x}"),
                "payload": bytes(&v.payload.0),
            })
        }
        Output::DelegateCallVoucher(v) => json!({
            "type": "DelegateCallVoucher",
            "destination": checksum(l1::Address::from(v.destination.0)),
            "payload": bytes(&v.payload.0),
        }),
        Output::Report(_) => Value::Null,
    };
    let siblings = state.store.proof_v2(o.index)?.map(|(_, s)| s.iter().map(|h| bytes(h)).collect::<Vec<_>>());
    let (epoch, time) = match state.store.input(o.input_index)? {
        Some((r, _)) => (r.block_number / state.book.application.epoch_length.max(1), rfc3339(r.timestamp)),
        None => (0, rfc3339(0)),
    };
    Ok(json!({
        "epoch_index": hex(epoch),
        "input_index": hex(o.input_index),
        "index": hex(o.index),
        "raw_data": bytes(&raw),
        "decoded_data": decoded,
        "hash": bytes(&keccak(&raw)),
        "output_hashes_siblings": siblings,
        "execution_transaction_hash": executions.get(&o.index).map(|h| bytes(h.as_bytes())),
        "created_at": time,
        "updated_at": time,
    }))
}

pub(super) fn report(state: &State, r: &ReportV2) -> Result<Value, RpcError> {
    let (epoch, time) = match state.store.input(r.input_index)? {
        Some((i, _)) => (i.block_number / state.book.application.epoch_length.max(1), rfc3339(i.timestamp)),
        None => (0, rfc3339(0)),
    };
    Ok(json!({
        "epoch_index": hex(epoch),
        "input_index": hex(r.input_index),
        "index": hex(r.index),
        "raw_data": bytes(&r.payload),
        "created_at": time,
        "updated_at": time,
    }))
}

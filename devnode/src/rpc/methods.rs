//! The `cartesi_*` methods: params checked, then answered from the store (and, for executions,
//! from L1).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde_json::{json, Map, Value};

use super::{RpcError, State, DEFAULT_LIMIT, MAX_LIMIT, NODE_VERSION};
use crate::l1::{self, checksum, EvmAdvance, H256};
use crate::settle::tree::keccak;
use crate::settle::v2::output_bytes;
use crate::store::{ClaimV2, InputRecord, InputStatus, OutputFilterV2, OutputKind, OutputV2, ReportV2, StoreError};
use rollup::wire::Output;

/// Every method served, for `rpc.discover` (and its params).
pub const METHODS: &[(&str, &[&str])] = &[
    ("cartesi_listApplications", &["limit", "offset", "descending"]),
    ("cartesi_getApplication", &["application"]),
    ("cartesi_listEpochs", &["application", "status", "limit", "offset", "descending"]),
    ("cartesi_getEpoch", &["application", "epoch_index"]),
    ("cartesi_getLastAcceptedEpochIndex", &["application"]),
    (
        "cartesi_listInputs",
        &["application", "epoch_index", "sender", "transaction_hash", "limit", "offset", "descending"],
    ),
    ("cartesi_getInput", &["application", "input_index"]),
    ("cartesi_getProcessedInputCount", &["application"]),
    (
        "cartesi_listOutputs",
        &[
            "application",
            "epoch_index",
            "input_index",
            "output_type",
            "voucher_address",
            "limit",
            "offset",
            "descending",
        ],
    ),
    ("cartesi_getOutput", &["application", "output_index"]),
    ("cartesi_listReports", &["application", "epoch_index", "input_index", "limit", "offset", "descending"]),
    ("cartesi_getReport", &["application", "report_index"]),
    ("cartesi_getChainId", &[]),
    ("cartesi_getNodeVersion", &[]),
    ("cartesi_getNodeInfo", &[]),
    ("rpc.discover", &[]),
];

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> RpcError {
        RpcError::internal(format!("storage: {e}"))
    }
}

/// The named params of a call. Names a method does not take are ignored, as Cartesi's node
/// ignores them (Go's `json.Unmarshal`): @cartesi/viem sends its own camelCase keys
/// (`outputType`, `voucherAddress`, …) along with the snake_case ones, so refusing them would
/// refuse its calls.
struct Params(Map<String, Value>);

impl Params {
    fn of(value: Value) -> Result<Params, RpcError> {
        match value {
            Value::Null => Ok(Params(Map::new())),
            Value::Array(a) if a.is_empty() => Ok(Params(Map::new())),
            Value::Object(m) => Ok(Params(m)),
            _ => Err(RpcError::invalid_params("params must be an object of named params")),
        }
    }

    /// `descending` (default false): newest first.
    fn descending(&self) -> Result<bool, RpcError> {
        match self.get("descending") {
            None => Ok(false),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| RpcError::invalid_params(format!("descending must be true or false, not {v}"))),
        }
    }

    /// A 32-byte hash such as a transaction's.
    fn hash(&self, name: &str) -> Result<Option<[u8; 32]>, RpcError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let bad = || RpcError::invalid_params(format!("{name} must be a 0x-prefixed 32-byte hash, not {v}"));
        let digits = v.as_str().and_then(|t| t.strip_prefix("0x")).ok_or_else(bad)?;
        let mut out = [0; 32];
        hex::decode_to_slice(digits, &mut out).map_err(|_| bad())?;
        Ok(Some(out))
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A hex index such as `"0x1a"`.
    fn index(&self, name: &str) -> Result<Option<u64>, RpcError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let bad = || RpcError::invalid_params(format!("{name} must be a hex string such as \"0x1\", not {v}"));
        let text = v.as_str().ok_or_else(bad)?;
        let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).ok_or_else(bad)?;
        if digits.is_empty() || digits.len() > 16 {
            return Err(bad());
        }
        u64::from_str_radix(digits, 16).map(Some).map_err(|_| bad())
    }

    fn required_index(&self, name: &str) -> Result<u64, RpcError> {
        self.index(name)?.ok_or_else(|| RpcError::invalid_params(format!("{name} is required")))
    }

    fn number(&self, name: &str, default: u64) -> Result<u64, RpcError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => {
                v.as_u64().ok_or_else(|| RpcError::invalid_params(format!("{name} must be a non-negative integer")))
            }
        }
    }

    /// `(limit, offset)`: limit 1..=10,000 (default 50), offset from 0.
    fn page(&self) -> Result<(u64, u64), RpcError> {
        let limit = self.number("limit", DEFAULT_LIMIT)?;
        if limit == 0 {
            return Err(RpcError::invalid_params("limit must be at least 1"));
        }
        Ok((limit.min(MAX_LIMIT), self.number("offset", 0)?))
    }

    fn address(&self, name: &str) -> Result<Option<l1::Address>, RpcError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let text = v.as_str().unwrap_or_default();
        let digits = text.strip_prefix("0x").unwrap_or("");
        match (digits.len(), digits.parse::<l1::Address>()) {
            (40, Ok(a)) => Ok(Some(a)),
            _ => Err(RpcError::invalid_params(format!("{name} must be a 0x-prefixed 20-byte address, not {v}"))),
        }
    }

    /// Checks `application` (required): the application's name or address.
    fn application(&self, state: &State) -> Result<(), RpcError> {
        match self.get("application").and_then(Value::as_str) {
            None => Err(RpcError::invalid_params("application is required (its name or address)")),
            Some(name) if super::is_application(&state.book, name) => Ok(()),
            Some(_) => Err(RpcError::application_not_found()),
        }
    }
}

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

fn bytes(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn list(data: Vec<Value>, total: u64, limit: u64, offset: u64) -> Value {
    json!({"data": data, "pagination": {"total_count": total, "limit": limit, "offset": offset}})
}

/// A page of a list filtered here (in order, oldest first), and its length.
fn paged<T>(mut all: Vec<T>, limit: u64, offset: u64, descending: bool) -> (u64, Vec<T>) {
    if descending {
        all.reverse();
    }
    let total = all.len() as u64;
    (total, all.into_iter().skip(offset as usize).take(limit as usize).collect())
}

/// The epoch statuses of @cartesi/rpc's `EpochStatus`, for `listEpochs`'s `status` filter.
const EPOCH_STATUSES: &[&str] = &[
    "OPEN",
    "CLOSED",
    "INPUTS_PROCESSED",
    "CLAIM_COMPUTED",
    "CLAIM_SUBMITTED",
    "CLAIM_STAGED",
    "CLAIM_ACCEPTED",
    "CLAIM_REJECTED",
    "CLAIM_FORECLOSED",
];

/// RFC 3339 UTC time of a unix timestamp (days to civil date: Howard Hinnant's algorithm).
pub(super) fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

pub(super) async fn call(state: &State, method: &str, params: Value) -> Result<Value, RpcError> {
    let Some((_, allowed)) = super::METHODS.iter().find(|(m, _)| *m == method) else {
        return Err(RpcError { code: -32601, message: format!("method not found: {method}") });
    };
    let p = Params::of(params)?;
    if allowed.contains(&"application") {
        p.application(state)?;
    }
    let epoch_length = state.book.application.epoch_length.max(1);
    match method {
        "cartesi_listApplications" => {
            let (limit, offset) = p.page()?;
            p.descending()?;
            let data = if offset == 0 { vec![application(state)?] } else { vec![] };
            Ok(list(data, 1, limit, offset))
        }
        "cartesi_getApplication" => Ok(json!({"data": application(state)?})),
        "cartesi_listEpochs" => {
            let (limit, offset) = p.page()?;
            let status = match p.get("status") {
                None => None,
                Some(v) => match v.as_str() {
                    Some(s) if EPOCH_STATUSES.contains(&s) => Some(s.to_owned()),
                    _ => {
                        return Err(RpcError::invalid_params(format!(
                            "status must be one of {}, not {v}",
                            EPOCH_STATUSES.join(", ")
                        )))
                    }
                },
            };
            let all: Vec<Value> =
                epochs(state)?.into_iter().filter(|e| status.as_deref().is_none_or(|s| e["status"] == s)).collect();
            let (total, page) = paged(all, limit, offset, p.descending()?);
            Ok(list(page, total, limit, offset))
        }
        "cartesi_getEpoch" => {
            let index = p.required_index("epoch_index")?;
            epochs(state)?
                .into_iter()
                .find(|e| e["index"] == hex(index))
                .map(|e| json!({"data": e}))
                .ok_or_else(|| RpcError::not_found(format!("epoch {index} not found")))
        }
        "cartesi_getLastAcceptedEpochIndex" => {
            let claims = state.store.claims_v2()?;
            let last = claims.iter().rev().find(|c| c.submitted);
            last.map(|c| json!({"data": hex(c.epoch)})).ok_or_else(|| RpcError::not_found("no epoch accepted yet"))
        }
        "cartesi_listInputs" => {
            let (limit, offset) = p.page()?;
            let sender = p.address("sender")?;
            let sender = sender.map(|a| ledger::Address(a.0));
            let descending = p.descending()?;
            let (epoch, transaction) = (p.index("epoch_index")?, p.hash("transaction_hash")?);
            let (total, rows) = if epoch.is_none() && transaction.is_none() {
                state.store.inputs_v2(sender, None, limit, offset, descending)?
            } else {
                // Epochs are block ranges, and few inputs share a transaction: filter here.
                let (_, rows) = state.store.inputs_v2(sender, None, u64::MAX >> 1, 0, false)?;
                let all: Vec<_> = rows
                    .into_iter()
                    .filter(|(r, _)| epoch.is_none_or(|e| r.block_number / epoch_length == e))
                    .filter(|(r, _)| transaction.is_none_or(|t| r.origin.transaction_hash == t))
                    .collect();
                paged(all, limit, offset, descending)
            };
            let data = rows.iter().map(|(r, s)| input(state, r, *s)).collect::<Result<Vec<_>, _>>()?;
            Ok(list(data, total, limit, offset))
        }
        "cartesi_getInput" => {
            let index = p.required_index("input_index")?;
            match state.store.input(index)? {
                Some((r, s)) => Ok(json!({"data": input(state, &r, s)?})),
                None => Err(RpcError::not_found(format!("input {index} not found"))),
            }
        }
        "cartesi_getProcessedInputCount" => Ok(json!({"data": hex(state.store.processed_count()?)})),
        "cartesi_listOutputs" => {
            let (limit, offset) = p.page()?;
            let mut filter = OutputFilterV2 {
                input_index: p.index("input_index")?,
                kinds: None,
                voucher_address: p.address("voucher_address")?.map(|a| ledger::Address(a.0)),
            };
            if let Some(types) = p.get("output_type") {
                let types: Vec<&Value> = match types {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                let mut kinds = Vec::new();
                for t in types {
                    let bad = || {
                        RpcError::invalid_params(format!(
                            "output_type must be a 4-byte selector such as \"0xc258d6e5\", not {t}"
                        ))
                    };
                    let text = t.as_str().ok_or_else(bad)?.to_ascii_lowercase();
                    match text.as_str() {
                        "0xc258d6e5" => kinds.push(OutputKind::Notice),
                        "0x237a816f" => kinds.push(OutputKind::Voucher),
                        "0x10321e8b" => kinds.push(OutputKind::DelegateCallVoucher),
                        // Another selector is no output of this node: it matches nothing.
                        s if s.len() == 10 && s.starts_with("0x") && s[2..].chars().all(|c| c.is_ascii_hexdigit()) => {}
                        _ => return Err(bad()),
                    }
                }
                filter.kinds = Some(kinds);
            }
            let none = filter.kinds.as_ref().is_some_and(Vec::is_empty);
            let epoch = p.index("epoch_index")?;
            let descending = p.descending()?;
            let (total, page) = if none {
                (0, vec![])
            } else if let Some(epoch) = epoch {
                let (_, all) = state.store.outputs_v2(&filter, u64::MAX >> 1, 0, false)?;
                let all: Vec<OutputV2> =
                    all.into_iter().filter(|o| epoch_of_input(state, o.input_index) == Some(epoch)).collect();
                paged(all, limit, offset, descending)
            } else {
                state.store.outputs_v2(&filter, limit, offset, descending)?
            };
            let executions = if page.is_empty() { BTreeMap::new() } else { executions(state).await };
            let data = page.iter().map(|o| output(state, o, &executions)).collect::<Result<Vec<_>, _>>()?;
            Ok(list(data, total, limit, offset))
        }
        "cartesi_getOutput" => {
            let index = p.required_index("output_index")?;
            let Some(o) = state.store.output_v2(index)? else {
                return Err(RpcError::not_found(format!("output {index} not found")));
            };
            let executions = executions(state).await;
            Ok(json!({"data": output(state, &o, &executions)?}))
        }
        "cartesi_listReports" => {
            let (limit, offset) = p.page()?;
            let input_index = p.index("input_index")?;
            let descending = p.descending()?;
            let (total, page) = match p.index("epoch_index")? {
                None => state.store.reports_v2(input_index, limit, offset, descending)?,
                Some(epoch) => {
                    let (_, all) = state.store.reports_v2(input_index, u64::MAX >> 1, 0, false)?;
                    let all: Vec<ReportV2> =
                        all.into_iter().filter(|r| epoch_of_input(state, r.input_index) == Some(epoch)).collect();
                    paged(all, limit, offset, descending)
                }
            };
            let data = page.iter().map(|r| report(state, r)).collect::<Result<Vec<_>, _>>()?;
            Ok(list(data, total, limit, offset))
        }
        "cartesi_getReport" => {
            let index = p.required_index("report_index")?;
            match state.store.report_v2(index)? {
                Some(r) => Ok(json!({"data": report(state, &r)?})),
                None => Err(RpcError::not_found(format!("report {index} not found"))),
            }
        }
        "cartesi_getChainId" => Ok(json!({"data": hex(state.book.chain_id)})),
        "cartesi_getNodeVersion" => Ok(json!({"data": NODE_VERSION})),
        "cartesi_getNodeInfo" => Ok(json!({"data": {
            "chain_id": hex(state.book.chain_id),
            "version": NODE_VERSION,
            "default_block": "latest",
        }})),
        "rpc.discover" => Ok(discover()),
        _ => Err(RpcError { code: -32601, message: format!("method not found: {method}") }),
    }
}

/// An OpenRPC document listing the methods and their params.
fn discover() -> Value {
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|(name, params)| {
            let params: Vec<Value> = params
                .iter()
                .map(|p| json!({"name": p, "required": matches!(*p, "application" | "epoch_index" | "input_index" | "output_index" | "report_index") && !name.starts_with("cartesi_list"), "schema": {}}))
                .collect();
            json!({"name": name, "params": params, "result": {"name": "result", "schema": {}}})
        })
        .collect();
    json!({
        "openrpc": "1.2.6",
        "info": {"title": "Cartesi Rollups node JSON-RPC API (dev node)", "version": NODE_VERSION},
        "methods": methods,
    })
}

fn epoch_of_input(state: &State, input_index: u64) -> Option<u64> {
    let epoch_length = state.book.application.epoch_length.max(1);
    state.store.input(input_index).ok().flatten().map(|(r, _)| r.block_number / epoch_length)
}

fn application(state: &State) -> Result<Value, RpcError> {
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
fn epochs(state: &State) -> Result<Vec<Value>, RpcError> {
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

fn status_name(status: InputStatus) -> &'static str {
    status.name(rollup::RollupsVersion::V2)
}

fn input(state: &State, r: &InputRecord, status: InputStatus) -> Result<Value, RpcError> {
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

/// Which outputs were executed on L1, and in which transaction: the Application's
/// `OutputExecuted(uint64 outputIndex, bytes output)` events. When L1 does not answer, none (the
/// outputs themselves are local, so they are still served, with a null execution).
async fn executions(state: &State) -> BTreeMap<u64, H256> {
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

fn output(state: &State, o: &OutputV2, executions: &BTreeMap<u64, H256>) -> Result<Value, RpcError> {
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

fn report(state: &State, r: &ReportV2) -> Result<Value, RpcError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}

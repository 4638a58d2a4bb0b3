//! The `cartesi_*` methods: params checked, then answered from the store (and, for executions,
//! from L1).
//!
//! This module holds the dispatch (`call`), the params and the shared encoders; the answers are
//! built by resource: `applications` (the application and its epochs), `inputs`, and `outputs`
//! (outputs, their executions on L1, and reports).

mod applications;
mod inputs;
mod outputs;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{RpcError, State, DEFAULT_LIMIT, MAX_LIMIT, NODE_VERSION};
use crate::l1;
use crate::store::{OutputFilterV2, OutputKind, OutputV2, ReportV2, StoreError};
use applications::{application, epoch_of_input, epochs};
use inputs::input;
use outputs::{executions, output, report};

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

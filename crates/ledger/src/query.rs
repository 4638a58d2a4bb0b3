//! Inspect queries and block notices: read-only JSON views of the ledger.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::asset::Asset;
use crate::error::{quote, ErrorCode, Rejection};
use crate::ledger::{Block, Ledger, TxLocation};
use crate::types::{Address, Hash, U256};

fn bad(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidQuery, message)
}

fn not_found(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::NotFound, message)
}

/// The query string of an inspect path: known keys only, each at most once.
struct Params(BTreeMap<String, String>);

impl Params {
    fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Params, Rejection> {
        let mut map = BTreeMap::new();
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if !allowed.contains(&k) {
                return Err(bad(format!("unknown parameter {}; allowed: {}", quote(k), allowed.join(", "))));
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(bad(format!("parameter {} given twice", quote(k))));
            }
        }
        Ok(Params(map))
    }

    fn u64(&self, key: &str, default: u64) -> Result<u64, Rejection> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| bad(format!("parameter {key}={} is not an unsigned integer", quote(v)))),
        }
    }

    fn limit(&self, max: u32) -> Result<usize, Rejection> {
        let limit = self.u64("limit", u64::from(max.min(20)))?;
        if limit == 0 || limit > u64::from(max) {
            return Err(bad(format!("limit must be in 1..={max}, got {limit}")));
        }
        Ok(limit as usize)
    }
}

/// The tightest request-body limit among the rollup servers the backend supports: Cartesi's
/// in-machine `rollup-http-server` of guest tools 0.15 and 0.16 parses bodies with
/// `actix_web_validator::Json`, whose default limit is 32 KiB, and refuses anything larger with
/// a 400. The others allow more: 0.14 (v1) uses actix-web's 2 MB default, 0.17+ and the dev node
/// 5 MiB.
pub const MAX_REQUEST_BODY_BYTES: usize = 32_768;

/// Bytes of JSON around an output's hex payload, with margin. The largest envelope is a v2
/// voucher, `{"destination":"0x<40>","value":"0x<64>","payload":"0x"}`: 138 bytes.
pub const BODY_ENVELOPE_BYTES: usize = 256;

/// Largest output payload (notice, voucher or report), in bytes. Hex doubles the payload, so
/// `2 * MAX_OUTPUT_BYTES + BODY_ENVELOPE_BYTES <= MAX_REQUEST_BODY_BYTES`: every output's body
/// fits the tightest server's limit (16,256 bytes of payload).
pub const MAX_OUTPUT_BYTES: usize = (MAX_REQUEST_BODY_BYTES - BODY_ENVELOPE_BYTES) / 2;

/// Room left for the envelope around a list in a report.
const LIST_BUDGET: usize = MAX_OUTPUT_BYTES - 2048;

/// Up to `limit` items from `offset`, stopping early to keep the report within
/// [`MAX_OUTPUT_BYTES`]; returns them and the offset to continue from, if any remain.
fn page_json<T>(items: &[T], offset: u64, limit: usize, to_json: impl Fn(&T) -> Value) -> (Vec<Value>, Option<u64>) {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(items.len());
    let mut out = Vec::new();
    let mut used = 0;
    for item in items[start..].iter().take(limit) {
        let v = to_json(item);
        let size = v.to_string().len() + 1;
        if !out.is_empty() && used + size > LIST_BUDGET {
            break;
        }
        used += size;
        out.push(v);
    }
    let end = start + out.len();
    (out, (end < items.len()).then_some(end as u64))
}

impl Ledger {
    /// Answers an inspect path such as `info`, `balance/0x…`, `block/latest`, `blocks?from=0&limit=5`.
    /// Never changes state.
    pub fn query(&self, path: &str) -> Result<Value, Rejection> {
        let path = path.trim_start_matches('/');
        let (route, query) = match path.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (path, None),
        };
        let parts: Vec<&str> = route.split('/').collect();
        let max = self.config.max_page;
        match parts.as_slice() {
            ["info"] => {
                Params::parse(query, &[])?;
                Ok(self.info())
            }
            ["balance", address] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                Ok(self.balances(&address.parse()?, p.u64("offset", 0)?, p.limit(max)?))
            }
            ["balance", address, asset] => {
                Params::parse(query, &[])?;
                let (address, asset): (Address, Asset) = (address.parse()?, asset.parse()?);
                Ok(json!({
                    "address": address,
                    "asset": asset,
                    "confirmed": self.confirmed_balance(&address, &asset).to_string(),
                    "pending": self.pending_balance(&address, &asset).to_string(),
                }))
            }
            ["block", id] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                let block = self.find_block(id)?;
                Ok(self.block_json(block, p.u64("offset", 0)?, p.limit(max)?))
            }
            ["blocks"] => {
                let p = Params::parse(query, &["from", "limit"])?;
                let from = p.u64("from", 0)?;
                let limit = p.limit(max)?;
                let (blocks, next) = page_json(&self.blocks, from, limit, header_json);
                Ok(json!({"height": self.height(), "from": from, "next_from": next, "blocks": blocks}))
            }
            ["tx", hash] => {
                Params::parse(query, &[])?;
                let hash: Hash = hash.parse()?;
                let (tx, loc) = self.tx(&hash).ok_or_else(|| not_found(format!("no transaction {hash}")))?;
                let mut v = tx.to_json(&hash);
                match loc {
                    TxLocation::Pending(_) => v["status"] = json!("pending"),
                    TxLocation::Sealed { height, index } => {
                        v["status"] = json!("sealed");
                        v["block"] = json!(height);
                        v["index"] = json!(index);
                    }
                }
                Ok(v)
            }
            ["pool"] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                let offset = p.u64("offset", 0)?;
                let (txs, next) = page_json(&self.pool, offset, p.limit(max)?, |(h, tx)| tx.to_json(h));
                Ok(json!({"size": self.pool.len(), "offset": offset, "next_offset": next, "txs": txs}))
            }
            ["supply"] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                let offset = p.u64("offset", 0)?;
                let (rows, next) = page_json(&self.assets, offset, p.limit(max)?, |a| {
                    json!({"asset": a.asset, "confirmed": a.supply.to_string(), "pending": a.pending_supply.to_string()})
                });
                Ok(json!({"assets": self.assets.len(), "offset": offset, "next_offset": next, "supply": rows}))
            }
            ["accounts"] => {
                let p = Params::parse(query, &["asset", "offset", "limit"])?;
                let asset: Asset = p.0.get("asset").map_or(Ok(Asset::Coin), |a| a.parse())?;
                let offset = p.u64("offset", 0)?;
                let limit = p.limit(max)?;
                Ok(self.rich_list(asset, offset, limit))
            }
            _ => Err(bad(format!(
                "unknown inspect path {}; try info, balance/<address>[/<asset>], block/<latest|height|hash>, blocks?from=&limit=, tx/<hash>, pool, supply, accounts?asset=&offset=&limit=",
                quote(path)
            ))),
        }
    }

    fn info(&self) -> Value {
        let tip = self.tip();
        json!({
            "name": "ledger",
            "height": tip.header.height,
            "tip_hash": tip.hash,
            "difficulty": tip.header.difficulty,
            "total_transactions": self.sealed_txs,
            "total_addresses": self.addresses,
            "block_interval": self.config.block_interval,
            "block_reward": self.config.block_reward.to_string(),
            "max_block_txs": self.config.max_block_txs,
            "pool_size": self.pool.len(),
            "state_root": self.state_root(),
            "dapp_address": self.dapp,
            "config_hash": self.config.hash(),
            "processed_inputs": self.processed_inputs(),
        })
    }

    fn balances(&self, address: &Address, offset: u64, limit: usize) -> Value {
        let entries = self.slots.of_account(address);
        let (rows, next) = page_json(&entries, offset, limit, |&(id, slot)| {
            let b = &self.balances[slot as usize];
            json!({
                "asset": self.assets[id as usize].asset,
                "confirmed": b.confirmed.to_string(),
                "pending": b.pending.to_string(),
            })
        });
        json!({"address": address, "assets": entries.len(), "offset": offset, "next_offset": next, "balances": rows})
    }

    fn find_block(&self, id: &str) -> Result<&Block, Rejection> {
        if id == "latest" {
            return Ok(self.tip());
        }
        if id.starts_with("0x") || id.starts_with("0X") {
            let hash: Hash = id.parse()?;
            return self.block_by_hash(&hash).ok_or_else(|| not_found(format!("no block with hash {hash}")));
        }
        let height: u64 =
            id.parse().map_err(|_| bad(format!("block id {} is not latest, a height or a 0x hash", quote(id))))?;
        self.block(height)
            .ok_or_else(|| not_found(format!("no block at height {height}; the tip is {}", self.height())))
    }

    fn block_json(&self, block: &Block, offset: u64, limit: usize) -> Value {
        let mut v = header_json(block);
        v["txs_offset"] = json!(offset);
        let (txs, next) = page_json(&block.txs, offset, limit, |s| {
            let tx = self.materialize(s);
            tx.to_json(&tx.hash())
        });
        v["txs_next_offset"] = json!(next);
        v["txs"] = Value::Array(txs);
        v
    }

    fn rich_list(&self, asset: Asset, offset: u64, limit: usize) -> Value {
        let mut holders: Vec<(U256, Address)> = match self.asset_ids.get(&asset) {
            None => Vec::new(),
            Some(&id) => self
                .slots
                .keys()
                .iter()
                .zip(&self.balances)
                .filter(|((_, a), _)| *a == id)
                .map(|((address, _), b)| (b.confirmed, *address))
                .filter(|(v, _)| !v.is_zero())
                .collect(),
        };
        // Richest first; ties by address, so the order is total and the same on every node.
        holders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let (rows, next) = page_json(&holders, offset, limit, |(v, a)| json!({"address": a, "balance": v.to_string()}));
        json!({"asset": asset, "holders": holders.len(), "offset": offset, "next_offset": next, "accounts": rows})
    }

    /// The notices of a sealed block: the header fields and hash, and the block's transactions
    /// split over as many parts as needed to keep each payload within `max_bytes`.
    pub fn block_notices(&self, height: u64, max_bytes: usize) -> Vec<Vec<u8>> {
        let Some(block) = self.block(height) else { return Vec::new() };
        let base = |part: usize, parts: usize, txs: &[String]| {
            let mut v = header_json(block);
            v["type"] = json!("block");
            v["part"] = json!(part);
            v["parts"] = json!(parts);
            let mut text = serde_json::to_string(&v).unwrap_or_default();
            // Splice the pre-serialized transactions in, so sizes are measured exactly.
            text.pop();
            text.push_str(",\"txs\":[");
            text.push_str(&txs.join(","));
            text.push_str("]}");
            text
        };
        let items: Vec<String> = self.block_txs(block).iter().map(|(h, tx)| tx.to_json(h).to_string()).collect();
        // Pack greedily; 40 bytes of slack covers the part counters growing by a few digits.
        let budget = max_bytes.saturating_sub(base(0, 0, &[]).len() + 40);
        let mut chunks: Vec<Vec<String>> = vec![Vec::new()];
        let mut used = 0;
        for item in items {
            let cost = item.len() + 1;
            if used + cost > budget && !chunks.last().is_some_and(Vec::is_empty) {
                chunks.push(Vec::new());
                used = 0;
            }
            used += cost;
            if let Some(last) = chunks.last_mut() {
                last.push(item);
            }
        }
        let parts = chunks.len();
        chunks.iter().enumerate().map(|(i, txs)| base(i, parts, txs).into_bytes()).collect()
    }
}

fn header_json(block: &Block) -> Value {
    let h = &block.header;
    json!({
        "height": h.height,
        "hash": block.hash,
        "version": h.version,
        "prev_hash": h.prev_hash,
        "tx_root": h.tx_root,
        "state_root": h.state_root,
        "timestamp": h.timestamp,
        "difficulty": h.difficulty,
        "miner": h.miner,
        "reward": h.reward.to_string(),
        "nonce": h.nonce,
        "tx_count": h.tx_count,
    })
}

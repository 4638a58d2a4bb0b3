//! Every JSON the ledger emits: receipts, rejections, block notices and inspect answers, and
//! the size bound they all keep. Nothing here changes state.

use serde_json::{json, Value};

use crate::asset::Asset;
use crate::chain::{Block, TxLocation};
use crate::error::{cap_message, Rejection};
use crate::input::Receipt;
use crate::ledger::Ledger;
use crate::tx::Tx;
use crate::types::{Address, Hash, U256};

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
    page_from(items.len(), start, limit, items[start..].iter().map(to_json))
}

/// [`page_json`] over a list of `total` items given lazily from `start`, so that a long list
/// (an account's transactions) is never materialized beyond the page.
fn page_from(
    total: usize,
    start: usize,
    limit: usize,
    items: impl Iterator<Item = Value>,
) -> (Vec<Value>, Option<u64>) {
    let mut out = Vec::new();
    let mut used = 0;
    for v in items.take(limit) {
        let size = v.to_string().len() + 1;
        if !out.is_empty() && used + size > LIST_BUDGET {
            break;
        }
        used += size;
        out.push(v);
    }
    let end = start + out.len();
    (out, (end < total).then_some(end as u64))
}

impl Rejection {
    /// The wire form shared by reports and inspect answers:
    /// `{"error":{"code":"…","message":"…"}}`. The message is capped again here, since the
    /// fields are public, so no error report can exceed the output bound.
    pub fn to_json(&self) -> Value {
        json!({"error": {"code": self.code.as_str(), "message": cap_message(self.message.clone())}})
    }
}

impl Tx {
    pub fn to_json(&self, hash: &Hash) -> Value {
        json!({
            "hash": hash,
            "kind": self.kind.as_str(),
            "input": self.input,
            "from": self.from,
            "to": self.to,
            "asset": self.asset,
            "amount": self.amount.to_string(),
        })
    }
}

fn header_json(block: &Block) -> Value {
    let h = &block.header;
    json!({
        "height": h.height,
        "hash": block.hash(),
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

impl Ledger {
    /// The JSON receipt reported for an accepted input. Its lists are capped (a batch deposit may
    /// create hundreds of transactions and blocks) so the report stays within
    /// [`MAX_OUTPUT_BYTES`]; the counts are always complete, and every transaction is in the
    /// notices of its block.
    pub fn receipt_json(&self, receipt: &Receipt) -> Value {
        const LISTED: usize = 64;
        let txs: Vec<Value> = receipt
            .txs
            .iter()
            .zip(&receipt.tx_blocks)
            .take(LISTED)
            .map(|(h, block)| match block {
                Some(height) => json!({"hash": h, "status": "sealed", "block": height}),
                None => json!({"hash": h, "status": "pending"}),
            })
            .collect();
        let sealed: Vec<Value> = receipt
            .sealed
            .iter()
            .take(LISTED)
            .filter_map(|&h| self.block(h))
            .map(|b| json!({"height": b.header.height, "hash": b.hash(), "tx_count": b.header.tx_count}))
            .collect();
        json!({"accepted": {
            "input": receipt.input,
            "tx_count": receipt.txs.len(),
            "txs": txs,
            "sealed_count": receipt.sealed.len(),
            "sealed_blocks": sealed,
        }})
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

    pub(crate) fn info_json(&self) -> Value {
        let tip = self.tip();
        json!({
            "name": "ledger",
            "height": tip.header.height,
            "tip_hash": tip.hash(),
            "difficulty": tip.header.difficulty,
            "total_transactions": self.chain().sealed_txs(),
            "total_addresses": self.state().addresses(),
            "block_interval": self.config().block_interval,
            "block_reward": self.config().block_reward.to_string(),
            "max_block_txs": self.config().max_block_txs,
            "pool_size": self.pool().len(),
            "state_root": self.state_root(),
            "dapp_address": self.dapp_address(),
            "config_hash": self.config().hash(),
            "processed_inputs": self.processed_inputs(),
        })
    }

    pub(crate) fn balances_json(&self, address: &Address, offset: u64, limit: usize) -> Value {
        let entries = self.state().account_balances(address);
        let (rows, next) = page_json(
            &entries,
            offset,
            limit,
            |(asset, b)| json!({"asset": asset, "confirmed": b.confirmed.to_string(), "pending": b.pending.to_string()}),
        );
        json!({"address": address, "assets": entries.len(), "offset": offset, "next_offset": next, "balances": rows})
    }

    pub(crate) fn balance_json(&self, address: &Address, asset: &Asset) -> Value {
        json!({
            "address": address,
            "asset": asset,
            "confirmed": self.confirmed_balance(address, asset).to_string(),
            "pending": self.pending_balance(address, asset).to_string(),
        })
    }

    pub(crate) fn block_json(&self, block: &Block, offset: u64, limit: usize) -> Value {
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

    pub(crate) fn blocks_json(&self, from: u64, limit: usize) -> Value {
        let (blocks, next) = page_json(self.chain().blocks(), from, limit, header_json);
        json!({"height": self.height(), "from": from, "next_from": next, "blocks": blocks})
    }

    pub(crate) fn tx_json(&self, hash: &Hash, tx: &Tx, location: TxLocation) -> Value {
        let mut v = tx.to_json(hash);
        match location {
            TxLocation::Pending(_) => v["status"] = json!("pending"),
            TxLocation::Sealed { height, index } => {
                v["status"] = json!("sealed");
                v["block"] = json!(height);
                v["index"] = json!(index);
            }
        }
        v
    }

    pub(crate) fn pool_json(&self, offset: u64, limit: usize) -> Value {
        let pool = self.pool();
        let (txs, next) = page_json(pool, offset, limit, |(h, tx)| tx.to_json(h));
        json!({"size": pool.len(), "offset": offset, "next_offset": next, "txs": txs})
    }

    /// The transactions `address` sent or received: sealed ones newest first (with their block),
    /// then pending ones in pool order, paged over that one list.
    pub(crate) fn account_txs_json(&self, address: &Address, offset: u64, limit: usize) -> Value {
        let index = self.chain().accounts();
        let sealed = index.count(address);
        let pending: Vec<&(Hash, Tx)> =
            self.pool().iter().filter(|(_, tx)| tx.from == *address || tx.to == *address).collect();
        let total = sealed + pending.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
        let items = (start..total).filter_map(|n| {
            if n >= sealed {
                let (h, tx) = pending[n - sealed];
                let mut v = tx.to_json(h);
                v["status"] = json!("pending");
                return Some(v);
            }
            let (height, index) = index.newest(address, n)?;
            let tx = self.materialize(self.block(height)?.txs.get(index as usize)?);
            let location = TxLocation::Sealed { height, index };
            Some(self.tx_json(&tx.hash(), &tx, location))
        });
        let (txs, next) = page_from(total, start, limit, items);
        json!({
            "address": address,
            "sealed": sealed,
            "pending": pending.len(),
            "order": "sealed newest first, then pending",
            "offset": offset,
            "next_offset": next,
            "txs": txs,
        })
    }

    pub(crate) fn supply_json(&self, offset: u64, limit: usize) -> Value {
        let assets = self.state().assets();
        let (rows, next) = page_json(
            assets,
            offset,
            limit,
            |a| json!({"asset": a.asset, "confirmed": a.supply.to_string(), "pending": a.pending_supply.to_string()}),
        );
        json!({"assets": assets.len(), "offset": offset, "next_offset": next, "supply": rows})
    }

    pub(crate) fn rich_list_json(&self, asset: Asset, offset: u64, limit: usize) -> Value {
        let state = self.state();
        let mut holders: Vec<(U256, Address)> = match state.known_id(&asset) {
            None => Vec::new(),
            Some(id) => state
                .entries()
                .filter(|&(_, a, b)| a == id && !b.confirmed.is_zero())
                .map(|(address, _, b)| (b.confirmed, address))
                .collect(),
        };
        // Richest first; ties by address, so the order is total and the same on every node.
        holders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let (rows, next) = page_json(&holders, offset, limit, |(v, a)| json!({"address": a, "balance": v.to_string()}));
        json!({"asset": asset, "holders": holders.len(), "offset": offset, "next_offset": next, "accounts": rows})
    }
}

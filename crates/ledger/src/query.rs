//! Inspect queries: the route table and its parameters. The answers are rendered by
//! [`crate::render`]; nothing here changes state.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::asset::Asset;
use crate::chain::Block;
use crate::error::{quote, ErrorCode, Rejection};
use crate::ledger::Ledger;
use crate::types::{Address, Hash};

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
        let max = self.config().max_page;
        match parts.as_slice() {
            ["info"] => {
                Params::parse(query, &[])?;
                Ok(self.info_json())
            }
            ["balance", address] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                Ok(self.balances_json(&address.parse()?, p.u64("offset", 0)?, p.limit(max)?))
            }
            ["balance", address, asset] => {
                Params::parse(query, &[])?;
                let (address, asset): (Address, Asset) = (address.parse()?, asset.parse()?);
                Ok(self.balance_json(&address, &asset))
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
                Ok(self.blocks_json(from, limit))
            }
            ["txs", address] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                Ok(self.account_txs_json(&address.parse()?, p.u64("offset", 0)?, p.limit(max)?))
            }
            ["tx", hash] => {
                Params::parse(query, &[])?;
                let hash: Hash = hash.parse()?;
                let (tx, loc) = self.tx(&hash).ok_or_else(|| not_found(format!("no transaction {hash}")))?;
                Ok(self.tx_json(&hash, &tx, loc))
            }
            ["pool"] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                Ok(self.pool_json(p.u64("offset", 0)?, p.limit(max)?))
            }
            ["supply"] => {
                let p = Params::parse(query, &["offset", "limit"])?;
                Ok(self.supply_json(p.u64("offset", 0)?, p.limit(max)?))
            }
            ["accounts"] => {
                let p = Params::parse(query, &["asset", "offset", "limit"])?;
                let asset: Asset = p.0.get("asset").map_or(Ok(Asset::Coin), |a| a.parse())?;
                let offset = p.u64("offset", 0)?;
                let limit = p.limit(max)?;
                Ok(self.rich_list_json(asset, offset, limit))
            }
            _ => Err(bad(format!(
                "unknown inspect path {}; try info, balance/<address>[/<asset>], block/<latest|height|hash>, blocks?from=&limit=, tx/<hash>, pool, supply, accounts?asset=&offset=&limit=",
                quote(path)
            ))),
        }
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
}

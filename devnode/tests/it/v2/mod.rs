//! Rollups v2 on the dev node: the outputs tree's reference vector, then end to end on anvil with
//! the real 2.2.0 contracts and the real backend, through the node's JSON-RPC API: deposits, a
//! transfer, a withdrawal whose voucher executes on L1 with `executeOutput` (once), a notice
//! validated with `validateOutput`, a tampered proof refused, a rejected input, the JSON-RPC
//! error codes and paging, v2 inspect, and a restart mid-epoch that claims once.
//!
//! This module holds what the tests share (the node's config, JSON-RPC calls, waits, proofs);
//! `outputs` the outputs tree and the store's v2 numbering (no chain), `end_to_end` the run
//! through deposits, a withdrawal and the JSON-RPC API, and `claims` restarts and claims L1 lost.

mod claims;
mod end_to_end;
mod outputs;

use std::time::Duration;

use devnode::l1::{self, Address, Anvil, AnvilConfig, NodeModules, Rpc, TxRequest, U256};
use devnode::node::{NodeConfig, Ready};
use devnode::settle::tree::{self, OutputsTree};
use devnode::store::Store;
use serde_json::{json, Value};

use super::node::{backend, config, http, start_config};

const BOB: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
/// The user: devnet account 2 (the node's claims come from its claimer, account 9, whatever the
/// user's account).
const CAROL: &str = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("devnode-v2-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn v2_config(dir: &std::path::Path, anvil: &Anvil, epoch_length: u64) -> NodeConfig {
    let mut config = config(dir, backend());
    config.rpc_url = Some(anvil.url().to_string());
    config.rollups = rollup::wire::RollupsVersion::V2;
    config.epoch_length = epoch_length;
    config
}

/// One JSON-RPC call; the whole response.
async fn rpc_call(ready: &Ready, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (status, text) = http("POST", ready.rpc_api_url.as_ref().unwrap(), Some(body)).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A call that must succeed: its `result`.
async fn result(ready: &Ready, method: &str, params: Value) -> Value {
    let answer = rpc_call(ready, method, params).await;
    assert!(answer["error"].is_null(), "{method}: {answer}");
    answer["result"].clone()
}

async fn error_code(ready: &Ready, method: &str, params: Value) -> i64 {
    let answer = rpc_call(ready, method, params).await;
    answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("{method} did not fail: {answer}"))
}

async fn wait_processed(ready: &Ready, count: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let n = result(ready, "cartesi_getProcessedInputCount", json!({"application": "ledger"})).await;
        if n["data"] == format!("{count:#x}") {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{n} inputs processed, waiting for {count}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until output `index` has its siblings (its epoch's claim is accepted).
async fn proven(ready: &Ready, index: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let output =
            result(ready, "cartesi_getOutput", json!({"application": "ledger", "output_index": format!("{index:#x}")}))
                .await;
        if output["data"]["output_hashes_siblings"].is_array() {
            return output["data"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no proof for output {index}: {output}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(&v.as_str().unwrap()[2..]).unwrap()
}

fn number(v: &Value) -> u64 {
    u64::from_str_radix(&v.as_str().unwrap()[2..], 16).unwrap()
}

/// `(raw_data, index, siblings)` of an output from the JSON-RPC API.
fn proof_of(output: &Value) -> (Vec<u8>, u64, Vec<[u8; 32]>) {
    let siblings = output["output_hashes_siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| bytes(s).try_into().unwrap())
        .collect::<Vec<[u8; 32]>>();
    assert_eq!(siblings.len(), 63);
    (bytes(&output["raw_data"]), number(&output["index"]), siblings)
}

fn selector(signature: &str) -> String {
    hex::encode(&l1::keccak256(signature.as_bytes()).as_bytes()[..4])
}

async fn submitted_claims(rpc: &Rpc, authority: Address) -> u64 {
    let data = ethabi::short_signature("getNumberOfSubmittedClaims", &[]).to_vec();
    let answer = rpc.eth_call(authority, &data).await.unwrap();
    U256::from_big_endian(&answer).as_u64()
}

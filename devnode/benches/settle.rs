//! Settlement benchmark: the cost of closing an epoch (the v1 output trees, the epoch hash and
//! the proof of every output) for 1, 100 and 10,000 inputs, as a ratio to keccak-256 calls
//! measured in the same run. It prints figures and asserts nothing about timings.
//!
//! Then, in a full run, the time from a withdrawal's inclusion on L1 (the receipt of the `mine`
//! input that seals it) to its voucher's proof in GraphQL, on a dev node with anvil and the
//! release backend, with the default epoch length.
//!
//! Run: `cargo build --release -p dapp && cargo bench -p devnode --bench settle`
//! (`DEVNODE_BENCH_QUICK=1` for small sizes and no node).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use devnode::backend::BackendCommand;
use devnode::l1::{self, TxRequest, U256};
use devnode::node::{run, Listeners, NodeConfig};
use devnode::settle::epoch_of;
use devnode::store::InputStatus;
use ledger::Address;
use rollup::wire::{HexBytes, Output, Voucher};
use sha3::{Digest, Keccak256};

/// An epoch shaped like the ledger's: every input has a report; every 64th seals a block (a
/// notice of about 2 KiB) and every 10th of those also pays out a withdrawal (a voucher); every
/// 20th input is rejected.
fn inputs(n: u64) -> Vec<(InputStatus, Vec<Output>)> {
    (0..n)
        .map(|i| {
            if i % 20 == 19 {
                return (InputStatus::Rejected, vec![Output::Report(vec![1; 100])]);
            }
            let mut outputs = vec![];
            if i % 64 == 63 || n < 64 {
                outputs.push(Output::Notice(vec![i as u8; 2048]));
                if i % 640 == 639 || n < 64 {
                    outputs.push(Output::Voucher(Voucher {
                        destination: Address([7; 20]),
                        value: None,
                        payload: HexBytes(vec![0xa9; 68]),
                    }));
                }
            }
            outputs.push(Output::Report(vec![2; 200]));
            (InputStatus::Accepted, outputs)
        })
        .collect()
}

fn main() {
    let quick = std::env::var("DEVNODE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
        || !std::env::args().any(|a| a == "--bench");
    let sizes: &[u64] = if quick { &[1, 100] } else { &[1, 100, 10_000] };

    // Reference: keccak-256 of 64 bytes (one tree node), in the same run.
    let rounds = if quick { 20_000 } else { 1_000_000 };
    let mut h = [0u8; 32];
    let start = Instant::now();
    for _ in 0..rounds {
        let mut k = Keccak256::new();
        k.update(h);
        k.update(h);
        h = k.finalize().into();
    }
    let per_hash = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!(
        "settle bench ({}): keccak-256 of a tree node {:.0} ns",
        if quick { "quick" } else { "full" },
        per_hash * 1e9
    );

    for &n in sizes {
        let epoch = inputs(n);
        let runs = if n >= 10_000 { 3 } else { 20 };
        let start = Instant::now();
        let mut proofs = 0;
        for _ in 0..runs {
            let (e, p) = epoch_of(0, &epoch);
            proofs = p.len();
            std::hint::black_box(e.hash());
        }
        let took = start.elapsed().as_secs_f64() / f64::from(runs);
        println!(
            "epoch of {n:>6} inputs: {:>9.2} ms to compute trees, hash and {proofs} proofs ({:.0} keccak-node equivalents)",
            took * 1e3,
            took / per_hash
        );
    }
    if !quick {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(withdrawal_latency());
    }
}

async fn graphql(url: &str, query: &str) -> serde_json::Value {
    use http_body_util::{BodyExt, Full};
    let uri: hyper::Uri = url.parse().unwrap();
    let stream =
        tokio::net::TcpStream::connect(format!("{}:{}", uri.host().unwrap(), uri.port_u16().unwrap())).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let body = serde_json::json!({ "query": query }).to_string();
    let req = hyper::Request::post(uri.path())
        .header(hyper::header::HOST, "localhost")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(hyper::body::Bytes::from(body)))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

/// Withdrawal inclusion to executable voucher, five times on one node.
async fn withdrawal_latency() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let program = repo.join("target/release/dapp");
    if !program.exists() {
        println!(
            "withdrawal to executable voucher: skipped ({} is missing: cargo build --release -p dapp)",
            program.display()
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("devnode-settle-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = NodeConfig {
        data_dir: dir.join("data"),
        deployments_dir: dir.join("deployments"),
        node_modules: repo.join("devnode/npm/node_modules"),
        rpc_url: None,
        anvil_port: 0,
        block_time: None,
        finish_timeout: Duration::from_secs(10),
        backend_timeout: Duration::from_secs(120),
        test_tokens: false,
        backend: BackendCommand { program, args: vec![], runner: None, env: vec![] },
        epoch_length: 1,
        validate: false,
        rollups: rollup::wire::RollupsVersion::V1,
    };
    let [rollup, inspect, reader] = testkit::local_listeners().await;
    let listeners = Listeners { rollup, inspect, graphql: reader };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let node = tokio::spawn(run(config, listeners, Some(ready_tx), stopped));
    let ready = ready_rx.await.unwrap();
    let rpc = l1::Rpc::new(&ready.rpc_url).unwrap();
    let (rollups, app, alice) = (&ready.book.rollups, ready.book.application.app, l1::DEVNET_ACCOUNT_0);
    l1::deposit_ether(&rpc, rollups, alice, app, U256::exp10(18), b"").await.unwrap();
    let mut relay = ethabi::short_signature("relayDAppAddress", &[ethabi::ParamType::Address]).to_vec();
    relay.extend(ethabi::encode(&[ethabi::Token::Address(app)]));
    let tx = TxRequest { from: alice, to: Some(rollups.dapp_address_relay), data: relay, value: U256::zero() };
    rpc.transact(&tx, "relay").await.unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let withdraw = br#"{"op":"withdraw","asset":"ETH","amount":"1000"}"#;
        l1::add_input(&rpc, rollups, alice, app, withdraw).await.unwrap();
        let mine = l1::add_input(&rpc, rollups, alice, app, br#"{"op":"mine"}"#).await.unwrap();
        let included = Instant::now();
        let query =
            format!("{{ voucher(inputIndex: {}, voucherIndex: 0) {{ proof {{ context }} }} }}", mine.input_index);
        loop {
            let v = graphql(&ready.graphql_url, &query).await;
            if !v["data"]["voucher"]["proof"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        times.push(included.elapsed());
    }
    times.sort();
    println!(
        "withdrawal included on L1 to executable voucher (epochs of 1 block, 5 runs): median {:.0} ms, max {:.0} ms",
        times[2].as_secs_f64() * 1e3,
        times[4].as_secs_f64() * 1e3
    );
    stop.send(true).unwrap();
    node.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

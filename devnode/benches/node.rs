//! Dev node benchmarks. They print figures and assert nothing about timings.
//!
//! Run: `cargo build --release -p dapp && cargo bench -p devnode --bench node`
//! (`DEVNODE_BENCH_QUICK=1` for small sizes).
//!
//! 1. Inputs/s through the node's processing path (store the input, hand it to the backend over
//!    the rollup API, store the outputs) with the ledger backend, and with a null backend that
//!    accepts everything, in the same run: their ratio is the node's share of the cost.
//! 2. Inspect requests/s and p99 latency under a bounded load (a few clients on loopback).
//! 3. How long a node started with `--block-time 2` takes to be ready: on a fresh chain (every
//!    contract and test token deployed) and again on the chain it saved.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use devnode::backend::{Backend, BackendCommand};
use devnode::rollup_api::RollupApi;
use devnode::store::{InputRecord, InputStatus, Store};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use ledger::Address;
use rollup::wire::{Advance, AdvanceMetadata, HexBytes};
use rollup::RollupRequest;

const ETHER_PORTAL: &str = "0xFfdbe43d4c855BF7e0f105c400A50857f53AB044";

/// The backend built with this binary's profile: release under `cargo bench`, debug under
/// `cargo test --all-targets` (which runs the quick variant as a smoke test).
fn ledger_backend() -> BackendCommand {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let program = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target").join(profile).join("dapp");
    let flag = if profile == "release" { "--release" } else { "" };
    assert!(program.exists(), "{} is missing: cargo build {flag} -p dapp", program.display());
    BackendCommand { program, args: vec![], runner: None, env: vec![("LEDGER_MAX_BLOCK_TXS".into(), "64".into())] }
}

/// This binary run again as the null backend (see `null_backend`).
fn null_backend() -> BackendCommand {
    BackendCommand {
        program: std::env::current_exe().unwrap(),
        args: vec![],
        runner: None,
        env: vec![("DEVNODE_NULL_BACKEND".into(), "1".into())],
    }
}

fn account(i: u64) -> Address {
    let mut a = [0x42u8; 20];
    a[12..].copy_from_slice(&i.to_be_bytes());
    Address(a)
}

/// Inputs: a deposit per account, then transfers among them.
fn inputs(accounts: u64, transfers: u64) -> Vec<InputRecord> {
    let portal: Address = ETHER_PORTAL.parse().unwrap();
    let mut out = Vec::new();
    for i in 0..accounts {
        let mut payload = account(i).0.to_vec();
        payload.extend(ledger::types::u256_be(ledger::U256::from(1_000_000u64)));
        out.push(InputRecord {
            index: 0,
            msg_sender: portal,
            payload,
            block_number: 1,
            timestamp: 1,
            origin: Default::default(),
        });
    }
    for t in 0..transfers {
        let (from, to) = (t % accounts, (t * 7 + 1) % accounts);
        let payload = format!(r#"{{"op":"transfer","to":"{}","asset":"ETH","amount":"1"}}"#, account(to));
        out.push(InputRecord {
            index: 0,
            msg_sender: account(from),
            payload: payload.into_bytes(),
            block_number: 2,
            timestamp: 2,
            origin: Default::default(),
        });
    }
    for (i, r) in out.iter_mut().enumerate() {
        r.index = i as u64;
    }
    out
}

fn advance_of(r: &InputRecord) -> RollupRequest {
    RollupRequest::AdvanceState(Advance {
        metadata: AdvanceMetadata::v1(r.msg_sender, r.index, r.block_number, r.timestamp),
        payload: HexBytes(r.payload.clone()),
    })
}

struct Running {
    api: RollupApi,
    _backend: Backend,
    url: String,
}

async fn start(backend: &BackendCommand) -> Running {
    let api = RollupApi::new(Duration::from_millis(200));
    let listener = testkit::local_listener().await;
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = api.clone();
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    let backend = Backend::spawn(backend, &url).unwrap();
    Running { api, _backend: backend, url }
}

/// The node's processing path for every input: store, hand over, store the outcome.
async fn feed(running: &Running, store: &Store, inputs: &[InputRecord]) -> Duration {
    let start = Instant::now();
    for input in inputs {
        store.add_input(input).unwrap();
        let next = store.next_unprocessed().unwrap().unwrap();
        let done = running.api.submit(advance_of(&next)).await.unwrap();
        assert_ne!(done.status, InputStatus::Exception, "the backend raised an exception");
        store.complete(next.index, done.status, None, &done.outputs).unwrap();
    }
    start.elapsed()
}

/// Starts a whole node (anvil, deployment, the ledger backend) with `--block-time 2` on free
/// ports and returns how long it took to be ready; stops it after.
async fn start_with_block_time(data: &std::path::Path) -> Duration {
    use devnode::node::{run, Listeners, NodeConfig};
    let config = NodeConfig {
        data_dir: data.join("data"),
        deployments_dir: data.join("deployments"),
        node_modules: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("npm/node_modules"),
        rpc_url: None,
        anvil_port: 0,
        block_time: Some(2),
        finish_timeout: Duration::from_millis(200),
        backend_timeout: Duration::from_secs(60),
        test_tokens: true,
        backend: ledger_backend(),
        epoch_length: 1,
        validate: false,
        rollups: rollup::wire::RollupsVersion::V1,
    };
    let [rollup, inspect, graphql] = testkit::local_listeners().await;
    let listeners = Listeners { rollup, inspect, graphql };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let start = Instant::now();
    let node = tokio::spawn(run(config, listeners, Some(ready_tx), stopped));
    ready_rx.await.expect("the node stopped before it was ready");
    let took = start.elapsed();
    stop.send(true).unwrap();
    node.await.unwrap().unwrap();
    took
}

async fn get(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>, path: &str) -> hyper::StatusCode {
    let req = hyper::Request::builder()
        .uri(path)
        .header(hyper::header::HOST, "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status();
    let _ = res.into_body().collect().await.unwrap();
    status
}

async fn inspect_load(running: &Running, clients: usize, per_client: usize) -> (f64, Duration, Duration) {
    let listener = testkit::local_listener().await;
    let addr = listener.local_addr().unwrap();
    let queue = devnode::inspect::direct(running.api.clone(), Arc::new(AtomicU64::new(0)));
    tokio::spawn(devnode::inspect::serve(queue, listener, std::future::pending()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
            tokio::spawn(conn);
            let mut latencies = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let t = Instant::now();
                assert_eq!(get(&mut sender, "/inspect/info").await, 200);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = start.elapsed();
    all.sort();
    let p50 = all[all.len() / 2];
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    (all.len() as f64 / total.as_secs_f64(), p50, p99)
}

/// The null backend: accepts every request, posts nothing. Like a real backend it reconnects
/// when a connection drops, and stops only when the server is gone for good.
async fn null_backend_loop() {
    let url = std::env::var("ROLLUP_HTTP_SERVER_URL").unwrap();
    let authority = url.trim_start_matches("http://").to_string();
    let mut refused_since: Option<Instant> = None;
    loop {
        let Ok(stream) = tokio::net::TcpStream::connect(&authority).await else {
            let since = *refused_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(5) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        refused_since = None;
        let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await
        else {
            continue;
        };
        tokio::spawn(conn);
        loop {
            if sender.ready().await.is_err() {
                break;
            }
            let req = hyper::Request::builder()
                .method("POST")
                .uri("/finish")
                .header(hyper::header::HOST, "localhost")
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from_static(br#"{"status":"accept"}"#)))
                .unwrap();
            match sender.send_request(req).await {
                Ok(res) => {
                    let _ = res.into_body().collect().await;
                }
                Err(e) => {
                    eprintln!("null backend: {e}; reconnecting");
                    break;
                }
            }
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    if std::env::var("DEVNODE_NULL_BACKEND").is_ok() {
        runtime.block_on(null_backend_loop());
        return;
    }
    let quick = std::env::var("DEVNODE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
        || !std::env::args().any(|a| a == "--bench");
    let (accounts, transfers, clients, per_client) = if quick { (20, 200, 2, 100) } else { (200, 3000, 4, 1000) };
    runtime.block_on(async move {
        let inputs = inputs(accounts, transfers);
        println!(
            "devnode bench ({}): {} inputs ({accounts} deposits, {transfers} transfers), in-memory store",
            if quick { "quick" } else { "full" },
            inputs.len()
        );
        let ledger = start(&ledger_backend()).await;
        let with_ledger = feed(&ledger, &Store::open_in_memory().unwrap(), &inputs).await;
        let null = start(&null_backend()).await;
        let with_null = feed(&null, &Store::open_in_memory().unwrap(), &inputs).await;
        let rate = |d: Duration| inputs.len() as f64 / d.as_secs_f64();
        println!("1 inputs/s, node + ledger backend   {:>10.0}", rate(with_ledger));
        println!("1 inputs/s, node + null backend     {:>10.0}", rate(with_null));
        println!("1 ratio ledger / null               {:>10.3}   target >= 0.8", rate(with_ledger) / rate(with_null));
        let (rps, p50, p99) = inspect_load(&ledger, clients, per_client).await;
        println!(
            "2 inspect info, {clients} clients x {per_client}: {rps:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
        let _ = (ledger.url, null.url);
        let data = std::env::temp_dir().join(format!("devnode-bench-start-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let first = start_with_block_time(&data).await;
        let again = start_with_block_time(&data).await;
        let _ = std::fs::remove_dir_all(&data);
        println!("3 ready, --block-time 2, fresh chain  {:>8.2} s   target < 15 s", first.as_secs_f64());
        println!("3 ready, --block-time 2, saved chain  {:>8.2} s", again.as_secs_f64());
    });
}

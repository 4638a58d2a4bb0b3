//! Dev node benchmarks. They print figures and assert nothing about timings.
//!
//! Run: `cargo build --release -p dapp && cargo bench -p devnode --bench node`
//! (`DEVNODE_BENCH_QUICK=1` for small sizes).
//!
//! 0. The loopback ceiling: a minimal hyper server and a client process doing the exchange the
//!    node and a backend do per input (one `/finish` round trip that hands out a request, one
//!    `/report` post, keep-alive), with nothing else. Every rate below is printed as a ratio to it.
//! 1. Inputs/s through the node's processing path (store the input, hand it to the backend over
//!    the rollup API, store the outputs) with the ledger backend, and with a null backend that
//!    makes the same exchange as the ceiling, each with the on-disk store (as users run the node)
//!    and in memory: ledger / null is the backend's share, null / ceiling the node's.
//! 2. Inspect requests/s and p99 latency under a bounded load (a few clients on loopback).
//! 3. Replay: a fresh ledger backend rebuilt from a stored history of processed inputs (on disk),
//!    every status and output compared with the stored ones, as the node does at start.
//! 4. How long a node started with `--block-time 2` takes to be ready: on a fresh chain (every
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
    let target = option_env!("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let program = target.join(profile).join("dapp");
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

/// The node's processing path for every input: the follower stores it, the supervisor queues it
/// behind the one in progress (as the node does), then stores the outcome of the one before.
async fn feed(running: &Running, store: &Store, inputs: &[InputRecord]) -> Duration {
    let start = Instant::now();
    let queue = |record: &InputRecord| running.api.queue(advance_of(record), None);
    store.add_input(&inputs[0]).unwrap();
    let first = store.next_unprocessed().unwrap().unwrap();
    let mut queued = Some((first.index, Box::pin(queue(&first))));
    while let Some((index, completion)) = queued.take() {
        if let Some(input) = inputs.get(index as usize + 1) {
            store.add_input(input).unwrap();
            if let Some((following, InputStatus::Unprocessed)) = store.input(input.index).unwrap() {
                queued = Some((following.index, Box::pin(queue(&following))));
            }
        }
        let done = completion.await.unwrap();
        assert_ne!(done.status, InputStatus::Exception, "the backend raised an exception");
        store.complete(index, done.status, None, &done.outputs).unwrap();
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
            let handed_out = match sender.send_request(req).await {
                Ok(res) => {
                    let handed_out = res.status() == hyper::StatusCode::OK;
                    let _ = res.into_body().collect().await;
                    handed_out
                }
                Err(e) => {
                    eprintln!("null backend: {e}; reconnecting");
                    break;
                }
            };
            // The same exchange as the ceiling's client: one report per request.
            if handed_out && post_report(&mut sender, "/report").await.is_err() {
                break;
            }
        }
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn post(sender: &mut Sender, path: &str, body: &'static [u8]) -> Result<hyper::StatusCode, hyper::Error> {
    sender.ready().await?;
    let req = hyper::Request::builder()
        .method("POST")
        .uri(path)
        .header(hyper::header::HOST, "localhost")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    let res = sender.send_request(req).await?;
    let status = res.status();
    res.into_body().collect().await?;
    Ok(status)
}

async fn post_report(sender: &mut Sender, path: &str) -> Result<hyper::StatusCode, hyper::Error> {
    post(sender, path, br#"{"payload":"0x6f6b"}"#).await
}

/// The ceiling's client (this binary run again): `/finish` until it answers 202, one `/report`
/// after each request handed out, on one kept-alive connection.
async fn ceiling_client() {
    let url = std::env::var("ROLLUP_HTTP_SERVER_URL").unwrap();
    let stream = tokio::net::TcpStream::connect(url.trim_start_matches("http://")).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    while post(&mut sender, "/finish", br#"{"status":"accept"}"#).await.unwrap() == hyper::StatusCode::OK {
        post_report(&mut sender, "/report").await.unwrap();
    }
}

/// The loopback ceiling: a minimal server handing out `count` copies of one encoded request to
/// the ceiling client, reading each `/report`. Timed from the first `/finish` to the last.
async fn ceiling(request: &RollupRequest, count: usize) -> Duration {
    use std::sync::atomic::Ordering;
    struct Shared {
        body: Bytes,
        left: AtomicU64,
        started: std::sync::Mutex<Option<Instant>>,
        done: tokio::sync::Notify,
    }
    let shared = Arc::new(Shared {
        body: Bytes::from(serde_json::to_vec(request).unwrap()),
        left: AtomicU64::new(count as u64),
        started: std::sync::Mutex::new(None),
        done: tokio::sync::Notify::new(),
    });
    let listener = testkit::local_listener().await;
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = shared.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let shared = server.clone();
            async move {
                let finish = req.uri().path() == "/finish";
                let _ = req.into_body().collect().await?;
                let mut res = hyper::Response::new(Full::new(Bytes::new()));
                if !finish {
                    *res.status_mut() = hyper::StatusCode::ACCEPTED;
                    return Ok::<_, hyper::Error>(res);
                }
                shared.started.lock().unwrap().get_or_insert_with(Instant::now);
                if shared.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
                    *res.body_mut() = Full::new(shared.body.clone());
                } else {
                    *res.status_mut() = hyper::StatusCode::ACCEPTED;
                    shared.done.notify_one();
                }
                Ok(res)
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    });
    let client = BackendCommand {
        program: std::env::current_exe().unwrap(),
        args: vec![],
        runner: None,
        env: vec![("DEVNODE_CEILING_CLIENT".into(), "1".into())],
    };
    let done = shared.done.notified();
    let _client = Backend::spawn(&client, &url).unwrap();
    done.await;
    let started = shared.started.lock().unwrap().unwrap();
    started.elapsed()
}

/// Replays the processed inputs of `store` into the backend of `running`, comparing every status
/// and output with the stored ones, as the supervisor does when it starts a backend (with one
/// request queued ahead).
async fn replay(running: &Running, store: &Store) -> (usize, Duration) {
    let start = Instant::now();
    let processed = store.processed().unwrap();
    let mut queued: std::collections::VecDeque<_> =
        processed.iter().take(1).map(|(record, _, _)| running.api.queue(advance_of(record), None)).collect();
    for (i, (record, status, outputs)) in processed.iter().enumerate() {
        if let Some((next, _, _)) = processed.get(i + 1) {
            queued.push_back(running.api.queue(advance_of(next), None));
        }
        let done = queued.pop_front().unwrap().await.unwrap();
        assert!(
            done.status == *status && done.outputs == *outputs,
            "replaying input {} gave other outputs",
            record.index
        );
    }
    (processed.len(), start.elapsed())
}

fn on_disk(dir: &std::path::Path, name: &str) -> Store {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    Store::open(&path).unwrap()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    if std::env::var("DEVNODE_NULL_BACKEND").is_ok() {
        runtime.block_on(null_backend_loop());
        return;
    }
    if std::env::var("DEVNODE_CEILING_CLIENT").is_ok() {
        runtime.block_on(ceiling_client());
        return;
    }
    let quick = std::env::var("DEVNODE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
        || !std::env::args().any(|a| a == "--bench");
    let (accounts, transfers, clients, per_client, history) =
        if quick { (20, 200, 2, 100, 500) } else { (200, 5000, 4, 1000, 100_000) };
    let dir = std::env::temp_dir().join(format!("devnode-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    runtime.block_on(async {
        let inputs = inputs(accounts, transfers);
        println!(
            "devnode bench ({}): {} inputs ({accounts} deposits, {transfers} transfers); ratios are to the loopback ceiling of this run",
            if quick { "quick" } else { "full" },
            inputs.len()
        );
        let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
        // The ceiling is measured before, between and after the node's runs, and the best of the
        // three counts: one short sample moves with whatever else the machine does meanwhile.
        let request = advance_of(&inputs[inputs.len() - 1]);
        let mut ceilings = vec![rate(inputs.len(), ceiling(&request, inputs.len()).await)];
        let ledger = start(&ledger_backend()).await;
        let null = start(&null_backend()).await;
        let ledger_disk = rate(inputs.len(), feed(&ledger, &on_disk(&dir, "ledger.sqlite"), &inputs).await);
        let null_disk = rate(inputs.len(), feed(&null, &on_disk(&dir, "null.sqlite"), &inputs).await);
        ceilings.push(rate(inputs.len(), ceiling(&request, inputs.len()).await));
        // Fresh backends: the ledger one above already holds these inputs.
        let ledger = start(&ledger_backend()).await;
        let ledger_mem = rate(inputs.len(), feed(&ledger, &Store::open_in_memory().unwrap(), &inputs).await);
        let null_mem = rate(inputs.len(), feed(&null, &Store::open_in_memory().unwrap(), &inputs).await);
        ceilings.push(rate(inputs.len(), ceiling(&request, inputs.len()).await));
        let ceiling = ceilings.iter().copied().fold(0.0, f64::max);
        let line = |what: &str, r: f64, note: &str| {
            println!("{what:<52} {r:>9.0} inputs/s {:>7.3} {note}", r / ceiling);
        };
        let samples: Vec<String> = ceilings.iter().map(|c| format!("{c:.0}")).collect();
        line("0 loopback ceiling (/finish + /report, keep-alive)", ceiling, &format!("best of {}", samples.join(", ")));
        line("1 node + null backend, on-disk store", null_disk, "target >= 0.5");
        line("1 node + ledger backend, on-disk store", ledger_disk, "");
        line("1 node + null backend, in-memory store", null_mem, "");
        line("1 node + ledger backend, in-memory store", ledger_mem, "");
        println!("1 ratio ledger / null, on-disk store {:>25.3} target >= 0.8", ledger_disk / null_disk);
        println!("1 ratio ledger / null, in-memory store {:>23.3}", ledger_mem / null_mem);
        let (rps, p50, p99) = inspect_load(&ledger, clients, per_client).await;
        println!(
            "2 inspect info, {clients} clients x {per_client}: {rps:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
        let _ = (ledger.url, null.url);
        // A history of processed inputs on disk, then a fresh backend rebuilt from it.
        let store = on_disk(&dir, "history.sqlite");
        let writer = start(&ledger_backend()).await;
        feed(&writer, &store, &crate::inputs(accounts, history as u64 - accounts)).await;
        let (replayed, took) = replay(&start(&ledger_backend()).await, &store).await;
        line(&format!("3 replay of {replayed} processed inputs, on-disk store"), rate(replayed, took), "target >= 10,000 inputs/s");
        let data = dir.join("start");
        let first = start_with_block_time(&data).await;
        let again = start_with_block_time(&data).await;
        println!("4 ready, --block-time 2, fresh chain  {:>8.2} s   target < 15 s", first.as_secs_f64());
        println!("4 ready, --block-time 2, saved chain  {:>8.2} s", again.as_secs_f64());
    });
    let _ = std::fs::remove_dir_all(&dir);
}

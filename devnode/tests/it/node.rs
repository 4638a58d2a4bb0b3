//! End to end: the dev node with a real anvil and the real backend.

use std::path::PathBuf;
use std::time::Duration;

use devnode::backend::BackendCommand;
use devnode::l1::{self, Rpc, U256};
use devnode::node::{run, Listeners, NodeConfig, Ready};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The backend binary: `DAPP_BIN` when set, else the one `cargo test --workspace` builds into
/// this test's own target directory (the dapp package's tests build it).
pub(crate) fn backend_program() -> PathBuf {
    testkit::workspace_binary("dapp", "DAPP_BIN")
}

/// The backend command for the node's tests, with an easy proof of work.
pub(crate) fn backend() -> BackendCommand {
    let program = backend_program();
    BackendCommand { program, args: vec![], runner: None, env: vec![("LEDGER_DIFFICULTY_BITS".into(), "4".into())] }
}

pub(crate) struct Node {
    pub(crate) ready: Ready,
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
    pub(crate) task: tokio::task::JoinHandle<Result<(), devnode::node::NodeError>>,
}

impl Node {
    /// Stops the node cleanly and returns how its run ended.
    pub(crate) async fn stop(self) -> Result<(), devnode::node::NodeError> {
        self.stop.send(true).unwrap();
        self.task.await.unwrap()
    }
}

async fn start(data: &std::path::Path) -> Node {
    start_with(data, backend()).await
}

async fn start_with(data: &std::path::Path, backend: BackendCommand) -> Node {
    start_config(config(data, backend)).await
}

/// The configuration of a test node: its own anvil on a free port, free server ports.
pub(crate) fn config(data: &std::path::Path, backend: BackendCommand) -> NodeConfig {
    NodeConfig {
        data_dir: data.join("data"),
        deployments_dir: data.join("deployments"),
        node_modules: repo().join("devnode/npm/node_modules"),
        rpc_url: None,
        anvil_port: 0,
        block_time: None,
        finish_timeout: Duration::from_millis(200),
        backend_timeout: Duration::from_secs(60),
        test_tokens: false,
        backend,
        epoch_length: 1,
        validate: false,
        rollups: rollup::wire::RollupsVersion::V1,
    }
}

/// The node's three servers on free local ports.
pub(crate) async fn listeners() -> Listeners {
    let [rollup, inspect, graphql] = testkit::local_listeners().await;
    Listeners { rollup, inspect, graphql }
}

/// Starts a node and waits until it is ready (or has failed: `ready.health` tells).
pub(crate) async fn start_config(config: NodeConfig) -> Node {
    let listeners = listeners().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run(config, listeners, Some(ready_tx), stopped));
    let ready = tokio::time::timeout(Duration::from_secs(60), ready_rx).await.expect("node ready in 60 s").unwrap();
    Node { ready, stop, task }
}

pub(crate) async fn http(method: &str, url: &str, body: Option<String>) -> (u16, String) {
    let reply = testkit::http::json_url(method, url, body.unwrap_or_default()).await;
    (reply.status, reply.text())
}

/// Inspects until `check` holds on the first report (the node processes inputs asynchronously).
pub(crate) async fn inspect_until(
    ready: &Ready,
    path: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = http("GET", &format!("{}/{path}", ready.inspect_url), None).await;
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        let hex = answer["reports"][0]["payload"].as_str().unwrap_or("0x");
        let report: serde_json::Value =
            serde_json::from_slice(&hex::decode(&hex[2..]).unwrap()).unwrap_or(serde_json::Value::Null);
        if check(&report) {
            return report;
        }
        assert!(tokio::time::Instant::now() < deadline, "inspect {path} never satisfied: {report}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn graphql(ready: &Ready, query: &str) -> serde_json::Value {
    let (status, body) = http("POST", &ready.graphql_url, Some(serde_json::json!({"query": query}).to_string())).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_transfer_mine_inspect_and_read_the_notice() {
    let dir = std::env::temp_dir().join(format!("devnode-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let node = start(&dir).await;
    let ready = node.ready.clone();
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    let rollups = &ready.book.rollups;
    let app = ready.book.application.app;
    let alice = l1::DEVNET_ACCOUNT_0;
    let bob = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

    // The contracts are where Cartesi's clients expect them.
    let code = rpc.get_code(rollups.input_box).await.unwrap();
    assert!(!code.is_empty());
    assert_eq!(format!("{:?}", rollups.input_box), "0x59b22d57d4f067708ab0c00552767405926dc768");

    l1::deposit_ether(&rpc, rollups, alice, app, U256::exp10(18), b"").await.unwrap();
    let transfer = format!(r#"{{"op":"transfer","to":"{bob}","asset":"ETH","amount":"1000"}}"#);
    l1::add_input(&rpc, rollups, alice, app, transfer.as_bytes()).await.unwrap();
    l1::add_input(&rpc, rollups, alice, app, br#"{"op":"mine"}"#).await.unwrap();
    l1::add_input(&rpc, rollups, alice, app, b"not an operation").await.unwrap();

    let alice_hex = format!("{alice:?}");
    let balance = inspect_until(&ready, &format!("balance/{bob}/ETH"), |r| r["confirmed"] == "1000").await;
    assert_eq!(balance["pending"], "1000");
    let alice_eth = inspect_until(&ready, &format!("balance/{alice_hex}/ETH"), |r| r["confirmed"].is_string()).await;
    assert_eq!(alice_eth["confirmed"], "999999999999999000");

    // The block notice over GraphQL; the malformed input is REJECTED with a report and no notice.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let inputs = loop {
        let v = graphql(&ready, "{ inputs { totalCount edges { node { index status notices { totalCount edges { node { payload } } } reports { totalCount } } } } }").await;
        if v["data"]["inputs"]["totalCount"] == 4 && v["data"]["inputs"]["edges"][3]["node"]["status"] != "UNPROCESSED"
        {
            break v;
        }
        assert!(tokio::time::Instant::now() < deadline, "inputs never processed: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let edges = inputs["data"]["inputs"]["edges"].as_array().unwrap();
    let statuses: Vec<&str> = edges.iter().map(|e| e["node"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ACCEPTED", "ACCEPTED", "ACCEPTED", "REJECTED"]);
    // Genesis has timestamp 0, so the transfer arrives more than a block interval after the tip:
    // the waiting deposit is sealed first (block 1, in the transfer's outputs), and `mine` seals
    // the transfer (block 2).
    let notice_of = |input: usize| {
        let notices = &edges[input]["node"]["notices"];
        assert_eq!(notices["totalCount"], 1, "input {input}: {notices}");
        let hex = notices["edges"][0]["node"]["payload"].as_str().unwrap();
        serde_json::from_slice::<serde_json::Value>(&hex::decode(&hex[2..]).unwrap()).unwrap()
    };
    let (first, second) = (notice_of(1), notice_of(2));
    assert_eq!((first["type"].as_str(), first["height"].as_u64()), (Some("block"), Some(1)));
    assert_eq!(first["txs"][0]["kind"], "deposit", "{first}");
    assert_eq!((second["height"].as_u64(), second["tx_count"].as_u64()), (Some(2), Some(1)));
    assert_eq!(second["txs"][0]["kind"], "transfer", "{second}");
    assert_eq!(edges[3]["node"]["notices"]["totalCount"], 0);
    assert_eq!(edges[3]["node"]["reports"]["totalCount"], 1);

    node.stop.send(true).unwrap();
    node.task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Per input: status and the kinds of its outputs, as GraphQL reports them.
pub(crate) async fn shape(ready: &Ready) -> Vec<(String, u64, u64, u64)> {
    let v = graphql(ready, "{ inputs { edges { node { status notices { totalCount } vouchers { totalCount } reports { totalCount } } } } }").await;
    v["data"]["inputs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            let count = |k: &str| n[k]["totalCount"].as_u64().unwrap();
            (n["status"].as_str().unwrap().to_string(), count("notices"), count("vouchers"), count("reports"))
        })
        .collect()
}

pub(crate) async fn wait_processed(ready: &Ready, count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s = shape(ready).await;
        if s.len() == count && s.iter().all(|i| i.0 != "UNPROCESSED") {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not processed: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_resumes_without_loss_or_duplication() {
    let dir = std::env::temp_dir().join(format!("devnode-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bob = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    let transfer = format!(r#"{{"op":"transfer","to":"{bob}","asset":"ETH","amount":"7"}}"#);

    let node = start(&dir).await;
    let ready = node.ready.clone();
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    let (rollups, app, alice) = (ready.book.rollups.clone(), ready.book.application.app, l1::DEVNET_ACCOUNT_0);
    l1::deposit_ether(&rpc, &rollups, alice, app, U256::from(1000u64), b"").await.unwrap();
    l1::add_input(&rpc, &rollups, alice, app, transfer.as_bytes()).await.unwrap();
    wait_processed(&ready, 2).await;
    // Let anvil write its state (every second), then kill the node mid-stream: no clean stop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    node.task.abort();
    let _ = node.task.await;
    drop(node.stop);

    let node = start(&dir).await;
    let ready = node.ready.clone();
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    l1::add_input(&rpc, &rollups, alice, app, transfer.as_bytes()).await.unwrap();
    l1::add_input(&rpc, &rollups, alice, app, br#"{"op":"mine"}"#).await.unwrap();
    wait_processed(&ready, 4).await;
    let after_restart = shape(&ready).await;
    let balance = inspect_until(&ready, &format!("balance/{bob}/ETH"), |r| r["confirmed"] == "14").await;
    assert_eq!(balance["pending"], "14");
    node.stop.send(true).unwrap();
    node.task.await.unwrap().unwrap();

    // The same inputs without interruption give the same statuses and outputs.
    let straight = dir.join("straight");
    let node = start(&straight).await;
    let ready = node.ready.clone();
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    l1::deposit_ether(&rpc, &rollups, alice, app, U256::from(1000u64), b"").await.unwrap();
    l1::add_input(&rpc, &rollups, alice, app, transfer.as_bytes()).await.unwrap();
    l1::add_input(&rpc, &rollups, alice, app, transfer.as_bytes()).await.unwrap();
    l1::add_input(&rpc, &rollups, alice, app, br#"{"op":"mine"}"#).await.unwrap();
    wait_processed(&ready, 4).await;
    assert_eq!(shape(&ready).await, after_restart);
    node.stop.send(true).unwrap();
    node.task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in backend: this test binary run again as a child, executing only
/// `fake_backend_process`. It reports every request's payload back and accepts it; it exits
/// without finishing when the payload is `crash` or `die`, and never answers `hang`. With
/// `DEVNODE_FAKE_EXIT_WHEN_IDLE` it exits whenever it has nothing to do.
pub(crate) fn fake_backend() -> BackendCommand {
    BackendCommand {
        program: std::env::current_exe().unwrap(),
        args: ["node::fake_backend_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"]
            .map(String::from)
            .to_vec(),
        runner: None,
        env: vec![("DEVNODE_FAKE_BACKEND".into(), "1".into())],
    }
}

#[test]
#[ignore = "a backend process for a_crashing_backend_marks_its_input_exception_and_is_restarted"]
fn fake_backend_process() {
    if std::env::var("DEVNODE_FAKE_BACKEND").is_err() {
        return;
    }
    let url = std::env::var("ROLLUP_HTTP_SERVER_URL").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        loop {
            let (code, body) = http("POST", &format!("{url}/finish"), Some(r#"{"status":"accept"}"#.into())).await;
            if code == 202 && std::env::var("DEVNODE_FAKE_EXIT_WHEN_IDLE").is_ok() {
                std::process::exit(0);
            }
            if code != 200 {
                continue;
            }
            let request: serde_json::Value = serde_json::from_str(&body).unwrap();
            let payload = request["data"]["payload"].as_str().unwrap().to_string();
            match &hex::decode(&payload[2..]).unwrap()[..] {
                b"crash" | b"die" => std::process::exit(3),
                b"hang" => std::future::pending::<()>().await,
                _ => {}
            }
            http("POST", &format!("{url}/report"), Some(serde_json::json!({"payload": payload}).to_string())).await;
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_backend_marks_its_input_exception_and_is_restarted() {
    let dir = std::env::temp_dir().join(format!("devnode-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let node = start_with(&dir, fake_backend()).await;
    let ready = node.ready.clone();
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    let (rollups, app, alice) = (&ready.book.rollups, ready.book.application.app, l1::DEVNET_ACCOUNT_0);
    for payload in [&b"hello"[..], b"crash", b"world"] {
        l1::add_input(&rpc, rollups, alice, app, payload).await.unwrap();
    }
    wait_processed(&ready, 3).await;
    // The crash ends its input as EXCEPTION (only reports kept: none); the restarted backend
    // replays input 0 and goes on with input 2.
    let statuses: Vec<(String, u64)> = shape(&ready).await.into_iter().map(|(s, _, _, reports)| (s, reports)).collect();
    assert_eq!(statuses, [("ACCEPTED".into(), 1), ("EXCEPTION".into(), 0), ("ACCEPTED".into(), 1)]);
    node.stop.send(true).unwrap();
    node.task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

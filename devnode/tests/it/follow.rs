//! The dev node follows L1 exactly and owns its backend: regression tests for the ways it used to
//! lose, skip, invent or keep inputs L1 does not have, and for its failed phase.

use std::path::{Path, PathBuf};
use std::time::Duration;

use devnode::backend::BackendCommand;
use devnode::health::Phase;
use devnode::l1::{self, Anvil, AnvilConfig, NodeModules, Rpc, TxRequest, U256};
use devnode::node::{run, NodeConfig, NodeError, Ready};
use devnode::store::Store;
use serde_json::{json, Value};

use super::node::{backend, config, fake_backend, graphql, http, listeners, shape, start_config, wait_processed};

fn scratch(tag: &str) -> PathBuf {
    testkit::scratch_dir("devnode-follow", tag)
}

/// An anvil of the test's own, so the chain outlives the nodes that follow it and can be sent
/// back with `evm_revert` while no node runs.
async fn chain() -> Anvil {
    Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap()
}

fn on_chain(dir: &Path, anvil: &Anvil, backend: BackendCommand) -> NodeConfig {
    let mut config = config(dir, backend);
    config.rpc_url = Some(anvil.url().to_string());
    config
}

async fn send(ready: &Ready, payload: &[u8]) -> u64 {
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    let (rollups, app) = (&ready.book.rollups, ready.book.application.app);
    l1::add_input(&rpc, rollups, l1::DEVNET_ACCOUNT_0, app, payload).await.unwrap().input_index
}

/// Every input's index, status and payload (as text), from GraphQL.
async fn inputs(ready: &Ready) -> Vec<(u64, String, String)> {
    let v = graphql(ready, "{ inputs { edges { node { index status payload } } } }").await;
    v["data"]["inputs"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|e| {
            let n = &e["node"];
            let hex = n["payload"].as_str().unwrap();
            let text = String::from_utf8_lossy(&hex::decode(&hex[2..]).unwrap()).into_owned();
            (n["index"].as_u64().unwrap(), n["status"].as_str().unwrap().to_owned(), text)
        })
        .collect()
}

/// Waits until the node holds exactly `payloads`, in order, all processed.
async fn wait_inputs(ready: &Ready, payloads: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = inputs(ready).await;
        let texts: Vec<&str> = now.iter().map(|(_, _, p)| p.as_str()).collect();
        if texts == payloads && now.iter().all(|(_, s, _)| s != "UNPROCESSED") {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "expected {payloads:?}, the node holds {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn inspect(ready: &Ready, path: &str) -> (u16, Value) {
    let (status, body) = http("GET", &format!("{}/{path}", ready.inspect_url), None).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// The ledger's `info` report through inspect.
async fn info(ready: &Ready) -> Value {
    let (status, answer) = inspect(ready, "info").await;
    assert_eq!(status, 200, "{answer}");
    let hex = answer["reports"][0]["payload"].as_str().unwrap();
    serde_json::from_slice(&hex::decode(&hex[2..]).unwrap()).unwrap()
}

/// A fresh node reading the same chain from scratch: what an uninterrupted node holds.
async fn reference(anvil: &Anvil) -> (Vec<(u64, String, String)>, Value) {
    let dir = scratch("reference");
    let node = start_config(on_chain(&dir, anvil, backend())).await;
    let count = l1::number_of_inputs(&anvil.rpc(), node.ready.book.rollups.input_box, node.ready.book.application.app)
        .await
        .unwrap();
    wait_processed(&node.ready, count as usize).await;
    let result = (inputs(&node.ready).await, info(&node.ready).await);
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Waits (bounded) for the node to fail and returns its reason.
pub(crate) async fn failure(ready: &Ready) -> String {
    let failed = tokio::time::timeout(Duration::from_secs(60), ready.health.failed()).await;
    assert!(failed.is_ok(), "the node never failed: {}", ready.health.to_json());
    match ready.health.phase() {
        Phase::Failed { reason, .. } => reason,
        phase => panic!("{phase:?}"),
    }
}

async fn snapshot(anvil: &Anvil) -> Value {
    anvil.rpc().call("evm_snapshot", json!([])).await.unwrap()
}

async fn revert(anvil: &Anvil, id: Value) {
    assert_eq!(anvil.rpc().call("evm_revert", json!([id])).await.unwrap(), json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_going_back_is_followed_while_running_and_at_start() {
    let anvil = chain().await;
    let dir = scratch("revert");
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    let ready = node.ready.clone();
    send(&ready, br#"{"op":"mine"}"#).await;
    let id = snapshot(&anvil).await;
    send(&ready, b"gone 1").await;
    send(&ready, b"gone 2").await;
    wait_inputs(&ready, &[r#"{"op":"mine"}"#, "gone 1", "gone 2"]).await;

    // While the node runs: L1 forgets two inputs, and has another at index 1.
    revert(&anvil, id).await;
    assert_eq!(send(&ready, b"new 1").await, 1);
    wait_inputs(&ready, &[r#"{"op":"mine"}"#, "new 1"]).await;
    assert_eq!(info(&ready).await, reference(&anvil).await.1);

    // While the node is stopped: L1 forgets input 1 and has another there.
    let before = snapshot(&anvil).await;
    send(&ready, b"gone again").await;
    wait_inputs(&ready, &[r#"{"op":"mine"}"#, "new 1", "gone again"]).await;
    node.stop().await.unwrap();
    revert(&anvil, before).await;
    let rpc = anvil.rpc();
    let book = &ready.book;
    l1::add_input(&rpc, &book.rollups, l1::DEVNET_ACCOUNT_0, book.application.app, b"newer 2").await.unwrap();

    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    wait_inputs(&node.ready, &[r#"{"op":"mine"}"#, "new 1", "newer 2"]).await;
    let (reference_inputs, reference_info) = reference(&anvil).await;
    assert_eq!(inputs(&node.ready).await, reference_inputs);
    assert_eq!(info(&node.ready).await, reference_info);
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_of_one_block_are_not_skipped_when_a_restart_held_only_some() {
    let anvil = chain().await;
    let dir = scratch("one-block");
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    let ready = node.ready.clone();
    let rpc = anvil.rpc();
    rpc.call("evm_setAutomine", json!([false])).await.unwrap();
    for payload in ["a", "b", "c"] {
        let mut data =
            ethabi::short_signature("addInput", &[ethabi::ParamType::Address, ethabi::ParamType::Bytes]).to_vec();
        data.extend(ethabi::encode(&[
            ethabi::Token::Address(ready.book.application.app),
            ethabi::Token::Bytes(payload.as_bytes().to_vec()),
        ]));
        let to = Some(ready.book.rollups.input_box);
        rpc.send_transaction(&TxRequest { from: l1::DEVNET_ACCOUNT_0, to, data, value: U256::zero() }).await.unwrap();
    }
    rpc.call("evm_mine", json!([])).await.unwrap();
    rpc.call("evm_setAutomine", json!([true])).await.unwrap();
    wait_inputs(&ready, &["a", "b", "c"]).await;
    node.stop().await.unwrap();

    // As if the node had been killed after storing only the first input of the block.
    Store::open(&dir.join("data/devnode.sqlite3")).unwrap().truncate(1).unwrap();
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    wait_inputs(&node.ready, &["a", "b", "c"]).await;
    send(&node.ready, b"d").await;
    wait_inputs(&node.ready, &["a", "b", "c", "d"]).await;
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stray_finish_is_refused_and_finishes_nothing() {
    let dir = scratch("stray");
    let node = start_config(config(&dir, fake_backend())).await;
    let ready = node.ready.clone();
    for path in ["/finish", "/rollup/finish", "//finish"] {
        let (status, body) =
            http("POST", &format!("{}{path}", ready.rollup_url), Some(r#"{"status":"accept"}"#.into())).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("secret prefix"), "{body}");
    }
    // Stray calls while inputs arrive take none of them.
    let strays = tokio::spawn({
        let url = format!("{}/finish", ready.rollup_url);
        async move {
            for _ in 0..50 {
                assert_eq!(http("POST", &url, Some(r#"{"status":"accept"}"#.into())).await.0, 403);
            }
        }
    });
    for payload in ["one", "two", "three"] {
        send(&ready, payload.as_bytes()).await;
    }
    strays.await.unwrap();
    wait_processed(&ready, 3).await;
    // Each input was processed by the backend: its report echoes the payload.
    let reports: Vec<(String, u64, u64, u64)> = shape(&ready).await;
    assert_eq!(reports, vec![("ACCEPTED".to_string(), 0, 0, 1); 3]);
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_dying_or_hanging_during_an_inspect_is_replaced_and_the_inspect_refused() {
    let dir = scratch("inspect-crash");
    let mut config = config(&dir, fake_backend());
    config.backend_timeout = Duration::from_secs(3);
    let node = start_config(config).await;
    let ready = node.ready.clone();
    send(&ready, b"before").await;
    wait_processed(&ready, 1).await;

    // An inspect in flight when the backend dies, with an input queued behind it.
    let dying = tokio::spawn({
        let ready = ready.clone();
        async move { inspect(&ready, "die").await }
    });
    send(&ready, b"after").await;
    let (status, answer) = dying.await.unwrap();
    assert_eq!(status, 503, "{answer}");
    assert!(answer.as_str().unwrap().contains("try again"), "{answer}");
    wait_processed(&ready, 2).await;
    // The next backend answers inspects itself (an echo), never with a stale empty answer.
    let (status, answer) = inspect(&ready, "ping").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["reports"][0]["payload"], format!("0x{}", hex::encode("ping")));
    assert_eq!(answer["processed_input_count"], 2);

    // A backend that hangs is killed after the liveness timeout and replaced.
    let (status, answer) = inspect(&ready, "hang").await;
    assert_eq!(status, 503, "{answer}");
    assert!(answer.as_str().unwrap().contains("--backend-timeout"), "{answer}");
    assert_eq!(inspect(&ready, "pong").await.0, 200);
    assert_eq!(shape(&ready).await, vec![("ACCEPTED".to_string(), 0, 0, 1); 2]);
    // Ctrl-C still stops the node.
    tokio::time::timeout(Duration::from_secs(20), node.stop()).await.expect("the node stops").unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_exits_after_every_input_does_not_stop_the_node() {
    let dir = scratch("exits");
    let mut backend = fake_backend();
    backend.env.push(("DEVNODE_FAKE_EXIT_WHEN_IDLE".into(), "1".into()));
    let node = start_config(config(&dir, backend)).await;
    let ready = node.ready.clone();
    for i in 0..8 {
        send(&ready, format!("input {i}").as_bytes()).await;
        wait_processed(&ready, i + 1).await;
    }
    assert!(ready.health.is_ready(), "{:?}", ready.health.phase());
    assert_eq!(shape(&ready).await, vec![("ACCEPTED".to_string(), 0, 0, 1); 8]);
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_that_disagrees_fails_the_node_visibly() {
    let anvil = chain().await;
    let dir = scratch("mismatch");
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    let rpc = Rpc::new(&node.ready.rpc_url).unwrap();
    let (rollups, app) = (&node.ready.book.rollups, node.ready.book.application.app);
    l1::deposit_ether(&rpc, rollups, l1::DEVNET_ACCOUNT_0, app, U256::from(5u64), b"").await.unwrap();
    send(&node.ready, br#"{"op":"mine"}"#).await;
    wait_processed(&node.ready, 2).await;
    assert_eq!(shape(&node.ready).await[1], ("ACCEPTED".to_string(), 1, 0, 1));
    node.stop().await.unwrap();

    // Another block reward: another genesis, so replaying gives other block notices.
    let mut other = backend();
    other.env.push(("LEDGER_BLOCK_REWARD".into(), "7".into()));
    let node = start_config(on_chain(&dir, &anvil, other)).await;
    let ready = node.ready.clone();
    let Phase::Failed { reason, hint } = ready.health.phase() else { panic!("{:?}", ready.health.phase()) };
    assert!(reason.contains("replaying input"), "{reason}");
    assert!(hint.contains("LEDGER_"), "{hint}");
    let (status, answer) = inspect(&ready, "info").await;
    assert_eq!(status, 503);
    assert!(answer.as_str().unwrap().contains("replaying input"), "{answer}");
    let error = node.stop().await.unwrap_err();
    assert!(matches!(error, NodeError::Failed(_)), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_written_fails_the_node_visibly() {
    let dir = scratch("locked");
    let node = start_config(config(&dir, fake_backend())).await;
    let ready = node.ready.clone();
    // Another program holds the database.
    let conn = rusqlite::Connection::open(dir.join("data/devnode.sqlite3")).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    send(&ready, b"cannot be stored").await;
    let failure = failure(&ready).await;
    assert!(failure.contains("locked"), "{failure}");
    let (status, answer) = inspect(&ready, "info").await;
    assert_eq!(status, 503, "{answer}");
    conn.execute_batch("ROLLBACK").unwrap();
    assert!(matches!(node.stop().await, Err(NodeError::Failed(_))));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs a node that is expected to stop before it is ready; returns its error.
async fn start_error(config: NodeConfig) -> NodeError {
    let listeners = listeners().await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let (ready, mut never) = tokio::sync::oneshot::channel();
    let error = tokio::time::timeout(Duration::from_secs(60), run(config, listeners, Some(ready), stopped))
        .await
        .expect("the node stops by itself")
        .unwrap_err();
    assert!(never.try_recv().is_err(), "the node said it was ready");
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_cannot_start_is_one_start_error_and_never_ready() {
    let dir = scratch("no-start");
    let mut bad = backend();
    bad.env.push(("LEDGER_MAX_BLOCK_TXS".into(), "0".into()));
    let error = start_error(config(&dir, bad)).await;
    assert!(matches!(error, NodeError::BackendStart { .. }), "{error}");
    assert!(error.to_string().contains("exited before asking for work"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_that_is_a_file_is_named_in_the_error() {
    let dir = scratch("file");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data"), b"not a directory").unwrap();
    let error = start_error(config(&dir, backend())).await;
    let text = error.to_string();
    assert!(text.contains(&dir.join("data").display().to_string()), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspects_during_replay_wait_for_the_whole_history() {
    let anvil = chain().await;
    let dir = scratch("replay-inspect");
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    let count = 24;
    for i in 0..count {
        send(
            &node.ready,
            format!(r#"{{"op":"transfer","to":"0x{:040x}","asset":"ETH","amount":"1"}}"#, i + 1).as_bytes(),
        )
        .await;
    }
    wait_processed(&node.ready, count).await;
    let expected = info(&node.ready).await;
    node.stop().await.unwrap();

    // Inspects sent as soon as the restarted node listens, while it replays, see the whole
    // history: the same answer as before the restart, never a half-replayed ledger.
    let listeners = listeners().await;
    let inspect_url = format!("http://{}/inspect/info", listeners.inspect.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ready, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run(on_chain(&dir, &anvil, backend()), listeners, Some(ready), stopped));
    let early: Vec<_> = (0..4)
        .map(|_| {
            let url = inspect_url.clone();
            tokio::spawn(async move { http("GET", &url, None).await })
        })
        .collect();
    for answer in early {
        let (status, body) = answer.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["processed_input_count"], count as u64, "{answer}");
        let hex = answer["reports"][0]["payload"].as_str().unwrap();
        let report: Value = serde_json::from_slice(&hex::decode(&hex[2..]).unwrap()).unwrap();
        assert_eq!(report, expected);
    }
    ready_rx.await.unwrap();
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_that_restarted_fresh_empties_the_node() {
    let anvil = chain().await;
    let port = anvil.port();
    let dir = scratch("fresh-chain");
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    send(&node.ready, b"old 0").await;
    send(&node.ready, b"old 1").await;
    wait_inputs(&node.ready, &["old 0", "old 1"]).await;
    node.stop().await.unwrap();

    // The chain behind --rpc-url starts over on the same address.
    anvil.stop().await;
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), port)).await.unwrap();
    let node = start_config(on_chain(&dir, &anvil, backend())).await;
    assert_eq!(inputs(&node.ready).await, vec![]);
    send(&node.ready, b"new 0").await;
    wait_inputs(&node.ready, &["new 0"]).await;
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_without_its_log_fails_the_node_instead_of_waiting_for_ever() {
    let anvil = chain().await;
    let dir = scratch("no-log");
    let node = start_config(on_chain(&dir, &anvil, fake_backend())).await;
    let ready = node.ready.clone();
    send(&ready, b"zero").await;
    wait_processed(&ready, 1).await;
    // As a chain restored from a dump taken mid-block: the InputBox counts an input (its array
    // of input hashes, slot 0 of the InputBox, grows) that has no InputAdded log.
    let rpc = anvil.rpc();
    let mut key = [0u8; 64];
    key[12..32].copy_from_slice(&ready.book.application.app.0);
    let slot = l1::keccak256(&key);
    rpc.call(
        "anvil_setStorageAt",
        json!([format!("{:#x}", ready.book.rollups.input_box), format!("{slot:#x}"), format!("0x{:064x}", 2)]),
    )
    .await
    .unwrap();
    assert_eq!(send(&ready, b"two").await, 2, "the InputBox counted the phantom input");
    let reason = failure(&ready).await;
    assert!(reason.contains("input 1") && reason.contains("no InputAdded log"), "{reason}");
    assert!(node.stop().await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

//! The `devnode` binary as a user runs it: killed with SIGKILL (its children die with it, a
//! restart resumes), stopped with Ctrl-C right after an input (the input survives), and refused
//! on a data directory another node holds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use devnode::l1::{self, Rpc};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Running {
    child: Child,
    rpc_url: String,
    graphql_url: String,
}

impl Drop for Running {
    /// A failed test leaves no node behind (its children die with it).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_devnode"));
    let address = |flag: &str| [flag.to_string(), format!("127.0.0.1:{}", testkit::free_port())];
    cmd.arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--deployments-dir")
        .arg(dir.join("deployments"))
        .arg("--node-modules")
        .arg(repo().join("devnode/npm/node_modules"))
        .arg("--backend")
        .arg(crate::node::backend_program())
        .args(["--anvil-port", &testkit::free_port().to_string(), "--finish-timeout", "1", "--no-test-tokens"])
        .args(address("--rollup-address"))
        .args(address("--inspect-address"))
        .args(address("--graphql-address"))
        .env("LEDGER_DIFFICULTY_BITS", "4")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

/// Starts the node and reads its stdout until the readiness block.
fn start(dir: &Path) -> Running {
    let mut running =
        Running { child: command(dir).spawn().unwrap(), rpc_url: String::new(), graphql_url: String::new() };
    let stdout = running.child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Read to the end, as a terminal would, even once nobody listens any more.
        for line in BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap_or_default());
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line =
            lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("devnode ready within 60 s");
        if let Some(url) = line.trim().strip_prefix("L1 RPC") {
            running.rpc_url = url.trim().to_string();
        }
        if let Some(url) = line.trim().strip_prefix("GraphQL") {
            running.graphql_url = url.trim().to_string();
            return running;
        }
    }
}

/// The pids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The command name may hold spaces: fields after the last ')' are fixed.
        let rest = &stat[stat.rfind(')').unwrap_or(0) + 1..];
        if rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn signal(pid: u32, name: &str) {
    assert!(Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap().success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the node did not exit within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn processed(graphql_url: &str) -> Vec<String> {
    let body = serde_json::json!({"query": "{ inputs { edges { node { status } } } }"}).to_string();
    let (_, answer) = super::node::http("POST", graphql_url, Some(body)).await;
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    v["data"]["inputs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_statuses(graphql_url: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let statuses = processed(graphql_url).await;
        if statuses.len() == count && statuses.iter().all(|s| s != "UNPROCESSED") {
            return;
        }
        assert!(Instant::now() < deadline, "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send(rpc_url: &str, dir: &Path, payload: &[u8]) -> u64 {
    let rpc = Rpc::new(rpc_url).unwrap();
    let dapp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("deployments/localhost/dapp.json")).unwrap()).unwrap();
    let app: l1::Address = dapp["address"].as_str().unwrap().parse().unwrap();
    l1::add_input(&rpc, &l1::RollupsV1::canonical(), l1::DEVNET_ACCOUNT_0, app, payload).await.unwrap().input_index
}

fn scratch(tag: &str) -> PathBuf {
    testkit::scratch_dir("devnode-process", tag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_takes_its_children_along_and_one_node_holds_a_data_dir() {
    let dir = scratch("kill");
    let mut node = start(&dir);
    let pid = node.child.id();
    let children = children_of(pid);
    assert_eq!(children.len(), 2, "anvil and the backend: {children:?}");

    // A second node on the same data directory is refused, naming the first.
    let second = command(&dir).stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap();
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(message.contains(&format!("another devnode (pid {pid})")), "{message}");

    assert_eq!(send(&node.rpc_url, &dir, b"before").await, 0);
    wait_statuses(&node.graphql_url, 1).await;
    // Anvil's chain is saved once a second: after that the input survives a SIGKILL. (Within
    // that second L1 itself would lose it, and the node would follow L1: see `follow.rs`.)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(pid, "KILL");
    wait_exit(&mut node.child, Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while children.iter().any(|c| alive(*c)) {
        assert!(Instant::now() < deadline, "children outlived the node: {children:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The restart resumes: the input is there, and the next one follows it.
    let mut node = start(&dir);
    wait_statuses(&node.graphql_url, 1).await;
    assert_eq!(send(&node.rpc_url, &dir, b"after").await, 1);
    wait_statuses(&node.graphql_url, 2).await;
    signal(node.child.id(), "INT");
    assert!(wait_exit(&mut node.child, Duration::from_secs(30)).success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_right_after_an_input_keeps_it_on_l1_and_in_the_node() {
    let dir = scratch("ctrl-c");
    let mut node = start(&dir);
    assert_eq!(send(&node.rpc_url, &dir, b"kept").await, 0);
    signal(node.child.id(), "INT");
    assert!(wait_exit(&mut node.child, Duration::from_secs(30)).success());

    let mut node = start(&dir);
    wait_statuses(&node.graphql_url, 1).await;
    assert_eq!(send(&node.rpc_url, &dir, b"next").await, 1);
    wait_statuses(&node.graphql_url, 2).await;
    signal(node.child.id(), "INT");
    assert!(wait_exit(&mut node.child, Duration::from_secs(30)).success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_dying_under_the_node_stops_it_loudly_and_a_restart_follows_l1() {
    let dir = scratch("anvil-dies");
    let mut node = start(&dir);
    assert_eq!(send(&node.rpc_url, &dir, b"kept").await, 0);
    wait_statuses(&node.graphql_url, 1).await;
    let anvil = children_of(node.child.id())
        .into_iter()
        .find(|pid| std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains("anvil")))
        .unwrap();
    signal(anvil, "KILL");
    let status = wait_exit(&mut node.child, Duration::from_secs(30));
    assert!(!status.success(), "{status}");

    // Whatever anvil had saved is L1 now; the node agrees with it.
    let node = start(&dir);
    let rpc = Rpc::new(&node.rpc_url).unwrap();
    let dapp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("deployments/localhost/dapp.json")).unwrap()).unwrap();
    let app: l1::Address = dapp["address"].as_str().unwrap().parse().unwrap();
    let on_l1 = l1::number_of_inputs(&rpc, l1::RollupsV1::canonical().input_box, app).await.unwrap();
    wait_statuses(&node.graphql_url, on_l1 as usize).await;
    assert_eq!(send(&node.rpc_url, &dir, b"next").await, on_l1);
    wait_statuses(&node.graphql_url, on_l1 as usize + 1).await;
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

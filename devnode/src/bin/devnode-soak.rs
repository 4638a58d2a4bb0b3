//! `devnode-soak`: kill -9 soak of the dev node.
//!
//! Runs the real `devnode` binary as a child (anvil as its child, the default), sends a
//! deterministic mixed stream of inputs on L1 (Ether deposits, ledger transfers, `mine`,
//! withdrawals, malformed payloads, sometimes several in one L1 block), kills the node with
//! SIGKILL at random points (sometimes while it starts, sometimes after a clean stop) and the
//! backend child too, restarting the node after each kill once the old node's processes are gone.
//! At the end it reads the whole chain with a second, uninterrupted node (a validator on the same
//! chain) and compares every input, status and output, and the ledger's state root, then prints
//! its figures and exits non-zero unless the soaked node followed L1 exactly.
//!
//! Inputs sent with a receipt and then gone from L1 after a kill (anvil's chain is saved once a
//! second) are counted apart: they are L1's loss, not the node's.
//!
//! ```text
//! cargo build --release -p devnode -p dapp
//! target/release/devnode-soak --restarts 100 --backend-kills 25
//! ```
//!
//! Exit status: 0 when nothing was lost, duplicated, stale or mismatched, the state roots are
//! equal, no process outlived its node, the node never stopped by itself, clean stops kept L1
//! whole and every inspect was answered; 1 otherwise; 2 when the soak itself could not run (a
//! node that did not start: its stderr tail is printed).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use clap::Parser;
use devnode::l1::{self, Address, Receipt, RollupsV1, Rpc, TxRequest, H256, U256};
use ethabi::{ParamType, RawLog, Token};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Soak test of the dev node: kill -9 of the node and of its backend mid-stream, then a
/// comparison with an uninterrupted node reading the same chain.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// Inputs to send on L1 (the DAppAddressRelay input included).
    #[arg(long, default_value_t = 1000)]
    inputs: u64,
    /// Seed of the input stream and of the kill schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Node kills (SIGKILL), each followed by a restart.
    #[arg(long, default_value_t = 100)]
    restarts: u64,
    /// Backend kills (SIGKILL of the node's `dapp` child).
    #[arg(long, default_value_t = 25)]
    backend_kills: u64,
    /// Keep the temporary directory (data dirs and node logs).
    #[arg(long)]
    keep: bool,
    /// The devnode binary (default: `devnode` beside this binary).
    #[arg(long)]
    devnode: Option<PathBuf>,
    /// The backend binary (default: `dapp` beside this binary).
    #[arg(long)]
    backend: Option<PathBuf>,
    /// The npm packages with anvil (default: the nearest `devnode/npm/node_modules` above this
    /// binary or the current directory).
    #[arg(long)]
    node_modules: Option<PathBuf>,
}

/// How long a node may take to print "devnode ready" (a restart replays every processed input).
const READY_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the children of a killed node may take to go.
const CHILDREN_GONE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to look for the backend of a running node before giving up on one backend kill.
const BACKEND_FIND_TIMEOUT: Duration = Duration::from_secs(5);
/// Waiting for a node to catch up stops after this long without progress.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// A clean stop (SIGINT) may take this long before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
/// Each node's children carry this variable, so that they can be found after their parent died.
const MARKER_VAR: &str = "DEVNODE_SOAK_MARKER";
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const PAGE: u64 = 50;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devnode-soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    match runtime.block_on(interruptible(soak(args))) {
        Ok(mut figures) => {
            figures.seconds = started.elapsed().as_secs();
            print_table(&figures);
            if figures.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("devnode-soak: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the soak until it ends, or until this process gets SIGINT or SIGTERM or its parent goes
/// (a test harness that was killed): then the soak is dropped, which kills its nodes (and with
/// them their children) and sweeps whatever carries its markers.
async fn interruptible(soak: impl std::future::Future<Output = Result<Figures, String>>) -> Result<Figures, String> {
    let parent = parent_pid();
    let parent_gone = async move {
        while parent_pid() == parent {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    let terminated = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = soak => result,
        _ = tokio::signal::ctrl_c() => Err("interrupted (SIGINT)".into()),
        () = terminated => Err("terminated (SIGTERM)".into()),
        () = parent_gone => Err("the parent process went away".into()),
    }
}

/// This process's parent, from /proc (it changes when the parent dies).
fn parent_pid() -> Option<u32> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

// ----- A deterministic PRNG (splitmix64) -----

#[derive(Debug)]
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for a test schedule (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

// ----- Figures -----

#[derive(Debug, Default)]
struct Figures {
    seed: u64,
    restarts: u64,
    /// Of `restarts`, kills of a node that was not ready yet.
    restarts_while_starting: u64,
    backend_kills: u64,
    /// Of `backend_kills`, those made while the node had inputs to process.
    backend_kills_processing: u64,
    /// Clean stops (SIGINT) and restarts, besides the kills.
    clean_stops: u64,
    /// Clean stops that needed SIGKILL after STOP_TIMEOUT.
    clean_stop_timeouts: u64,
    /// Inputs L1 had before a clean stop and not after the restart.
    dropped_after_clean_stop: u64,
    /// Inspects sent as the backend was killed, answered with an error status, or not at all.
    inspects_refused: u64,
    inspects_unanswered: u64,
    /// Inputs whose transaction got a receipt with an `InputAdded`.
    sent: u64,
    on_l1: u64,
    /// Sent with a receipt, then gone from L1 (anvil lost its last state after a kill).
    dropped_by_l1: u64,
    /// On L1 but not sent by this run (a bug of the soak itself if ever non-zero).
    unknown_on_l1: u64,
    stored: u64,
    lost: u64,
    duplicated: u64,
    /// Whether the InputBox's count matches its InputAdded logs (indices 0, 1, … without gaps).
    l1_consistent: bool,
    /// L1 inputs the reference node does not hold either.
    missing_at_reference: u64,
    /// Held by the node, on L1 at no index.
    stale: u64,
    mismatched: u64,
    /// Processes of a killed node still alive after CHILDREN_GONE_TIMEOUT (then killed here).
    left_behind: u64,
    /// Times the node stopped without being killed.
    unplanned_exits: u64,
    roots_equal: bool,
    /// Claims the soaked node made, and how many of them the reference (a validator) checked.
    claims: Option<(u64, u64)>,
    claim_disagreements: u64,
    soak_root: String,
    reference_root: String,
    seconds: u64,
}

impl Figures {
    fn passed(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.stale == 0
            && self.mismatched == 0
            && self.left_behind == 0
            && self.unplanned_exits == 0
            && self.unknown_on_l1 == 0
            && self.roots_equal
            && self.l1_consistent
            && self.missing_at_reference == 0
            && self.claim_disagreements == 0
            && self.clean_stop_timeouts == 0
            && self.inspects_unanswered == 0
            && self.dropped_after_clean_stop == 0
    }
}

#[allow(clippy::print_stdout)]
fn print_table(f: &Figures) {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let rows: Vec<(&str, String)> = vec![
        ("seed", f.seed.to_string()),
        ("node restarts (kill -9)", f.restarts.to_string()),
        ("  of which while starting", f.restarts_while_starting.to_string()),
        ("backend kills (kill -9)", f.backend_kills.to_string()),
        ("  of which with inputs to process", f.backend_kills_processing.to_string()),
        ("  inspects refused meanwhile", f.inspects_refused.to_string()),
        ("  inspects unanswered meanwhile", f.inspects_unanswered.to_string()),
        ("clean stops (SIGINT)", f.clean_stops.to_string()),
        ("  not stopped in time (killed)", f.clean_stop_timeouts.to_string()),
        ("  inputs L1 lost in a clean stop", f.dropped_after_clean_stop.to_string()),
        ("inputs sent on L1 (receipts)", f.sent.to_string()),
        ("inputs on L1 at the end", f.on_l1.to_string()),
        ("dropped by L1 itself", f.dropped_by_l1.to_string()),
        ("on L1, not sent by the soak", f.unknown_on_l1.to_string()),
        ("L1 count equals its logs", yes_no(f.l1_consistent).to_string()),
        ("stored by the node", f.stored.to_string()),
        ("lost", f.lost.to_string()),
        ("  not at the reference either", f.missing_at_reference.to_string()),
        ("duplicated", f.duplicated.to_string()),
        ("stale (not on L1)", f.stale.to_string()),
        ("mismatched outputs/statuses", f.mismatched.to_string()),
        ("children left after a kill", f.left_behind.to_string()),
        ("node stopped by itself", f.unplanned_exits.to_string()),
        ("state roots equal", yes_no(f.roots_equal).to_string()),
        ("claims made by the soaked node", f.claims.map_or("n/a".into(), |c| c.0.to_string())),
        ("  checked by the reference", f.claims.map_or("n/a".into(), |c| c.1.to_string())),
        ("claim disagreements", f.claim_disagreements.to_string()),
        ("wall time (s)", f.seconds.to_string()),
    ];
    println!("devnode soak");
    for (label, value) in rows {
        println!("  {label:<34} {value:>8}");
    }
    println!("  soaked node state root       {}", f.soak_root);
    println!("  reference node state root    {}", f.reference_root);
    println!("result: {}", if f.passed() { "PASS" } else { "FAIL" });
}

// ----- Processes, through /proc -----

#[derive(Clone, Debug)]
struct Proc {
    pid: u32,
    ppid: u32,
    name: String,
    exe: Option<PathBuf>,
}

/// Live (not zombie) processes whose environment carries `MARKER_VAR=marker`.
fn marked(marker: &str) -> Vec<Proc> {
    let needle = format!("{MARKER_VAR}={marker}");
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { continue };
        if !environ.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let name = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or("");
        let ppid = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if state == "Z" || state == "X" {
            continue;
        }
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        found.push(Proc { pid, ppid, name, exe });
    }
    found
}

fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills whatever still carries one of its markers when dropped, whatever way the soak ends.
#[derive(Debug)]
struct Sweeper(Vec<String>);

impl Drop for Sweeper {
    fn drop(&mut self) {
        for marker in &self.0 {
            for p in marked(marker) {
                kill9(p.pid);
            }
        }
    }
}

// ----- A node as a child process -----

#[derive(Clone, Debug)]
struct Urls {
    rpc: String,
    graphql: String,
    inspect: String,
}

/// How to start one of the two nodes.
#[derive(Debug)]
struct NodeSpec {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    marker: String,
    logs: PathBuf,
}

#[derive(Debug)]
struct NodeProc {
    child: Child,
    pid: u32,
    urls: Urls,
    stderr_log: PathBuf,
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The value after `label` on a line of the readiness block (its first word).
fn labelled(line: &str, label: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(label)?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    rest.split_whitespace().next().map(str::to_owned)
}

/// Starts a node and waits for its readiness block. With `kill_at`, kills it that long after the
/// start if it is not ready by then, and returns `None`.
async fn start_node(spec: &NodeSpec, run: u64, kill_at: Option<Duration>) -> Result<Option<NodeProc>, String> {
    let stderr_log = spec.logs.join(format!("{}-{run:03}.stderr.log", spec.name));
    let stdout_log = spec.logs.join(format!("{}-{run:03}.stdout.log", spec.name));
    let err_file = std::fs::File::create(&stderr_log).map_err(|e| format!("{}: {e}", stderr_log.display()))?;
    let mut child = Command::new(&spec.program)
        .args(&spec.args)
        .env(MARKER_VAR, &spec.marker)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(err_file))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", spec.program.display()))?;
    let pid = child.id().ok_or("the node exited at once")?;
    let stdout = child.stdout.take().ok_or("no stdout pipe to the node")?;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    // Reads the readiness block, then keeps draining stdout (the backend writes there too).
    tokio::spawn(async move {
        let mut file = std::fs::File::create(stdout_log).ok();
        let mut lines = BufReader::new(stdout).lines();
        let mut ready_tx = Some(ready_tx);
        let (mut in_block, mut rpc, mut graphql, mut inspect) = (false, None, None, None);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
            if let Some(why) = line.trim().strip_prefix("devnode FAILED:") {
                if let Some(tx) = ready_tx.take() {
                    let _ = tx.send(Err(why.trim().to_owned()));
                }
                continue;
            }
            // "devnode ready", possibly followed by how long the start took.
            if line.trim() == "devnode ready" || line.trim().starts_with("devnode ready ") {
                in_block = true;
                continue;
            }
            if !in_block {
                continue;
            }
            rpc = rpc.or_else(|| labelled(&line, "L1 RPC"));
            graphql = graphql.or_else(|| labelled(&line, "GraphQL"));
            inspect = inspect.or_else(|| labelled(&line, "inspect"));
            if let (Some(rpc), Some(graphql), Some(inspect)) = (&rpc, &graphql, &inspect) {
                if let Some(tx) = ready_tx.take() {
                    let _ = tx.send(Ok(Urls { rpc: rpc.clone(), graphql: graphql.clone(), inspect: inspect.clone() }));
                }
                in_block = false;
            }
        }
    });
    let failed = |why: String, log: &Path| {
        format!(
            "the {} node (run {run}) {why}; the end of its stderr ({}):\n{}",
            spec.name,
            log.display(),
            tail(log, 30)
        )
    };
    tokio::select! {
        urls = ready_rx => match urls {
            Ok(Ok(urls)) => Ok(Some(NodeProc { child, pid, urls, stderr_log })),
            Ok(Err(why)) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                Err(failed(format!("printed \"devnode FAILED: {why}\""), &stderr_log))
            }
            Err(_) => {
                let status = child.wait().await.map(|s| s.to_string()).unwrap_or_default();
                Err(failed(format!("closed its stdout before \"devnode ready\" ({status})"), &stderr_log))
            }
        },
        status = child.wait() => {
            let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
            Err(failed(format!("exited before \"devnode ready\" ({status})"), &stderr_log))
        }
        () = tokio::time::sleep(kill_at.unwrap_or_default()), if kill_at.is_some() => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            Ok(None)
        }
        () = tokio::time::sleep(READY_TIMEOUT) => {
            let _ = child.start_kill();
            Err(failed(format!("did not print \"devnode ready\" within {READY_TIMEOUT:?}"), &stderr_log))
        }
    }
}

impl NodeProc {
    /// SIGKILL, and reap.
    async fn kill9(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGINT (the node's clean stop), then SIGKILL after STOP_TIMEOUT. Returns whether the node
    /// stopped by itself.
    async fn stop(&mut self) -> bool {
        let _ = std::process::Command::new("kill").args(["-INT", &self.pid.to_string()]).status();
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            self.kill9().await;
            return false;
        }
        true
    }

    /// `Some(status)` if the node has exited.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }
}

/// Waits until no process carrying `marker` is left; kills and names those still there after
/// CHILDREN_GONE_TIMEOUT. Returns how many had to be killed.
async fn wait_children_gone(marker: &str) -> u64 {
    let deadline = Instant::now() + CHILDREN_GONE_TIMEOUT;
    loop {
        let left = marked(marker);
        if left.is_empty() {
            return 0;
        }
        if Instant::now() >= deadline {
            let names: Vec<String> = left.iter().map(|p| format!("{} (pid {})", p.name, p.pid)).collect();
            eprintln!(
                "devnode-soak: still running {CHILDREN_GONE_TIMEOUT:?} after the node was killed: {}; killing them",
                names.join(", ")
            );
            for p in &left {
                kill9(p.pid);
            }
            let until = Instant::now() + CHILDREN_GONE_TIMEOUT;
            while !marked(marker).is_empty() && Instant::now() < until {
                tokio::time::sleep(POLL).await;
            }
            return left.len() as u64;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The node's backend: its child whose executable is the backend binary.
async fn find_backend(node_pid: u32, marker: &str, backend: &Path) -> Option<u32> {
    let deadline = Instant::now() + BACKEND_FIND_TIMEOUT;
    loop {
        let found = marked(marker).into_iter().find(|p| p.ppid == node_pid && p.exe.as_deref() == Some(backend));
        if let Some(p) = found {
            return Some(p.pid);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

// ----- HTTP: GraphQL and inspect -----

async fn http(method: &str, url: &str, body: Option<String>) -> Result<(u16, String), String> {
    let request = async {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        let host = uri.host().ok_or_else(|| format!("no host in {url}"))?;
        let authority = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        let stream = tokio::net::TcpStream::connect(&authority).await.map_err(|e| format!("{url}: {e}"))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("{url}: {e}"))?;
        tokio::spawn(connection);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        let response = sender.send_request(req).await.map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|e| format!("{url}: {e}"))?.to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    };
    tokio::time::timeout(HTTP_TIMEOUT, request)
        .await
        .map_err(|_| format!("{url}: no answer within {HTTP_TIMEOUT:?}"))?
}

async fn graphql(url: &str, query: &str, variables: Value) -> Result<Value, String> {
    let body = json!({"query": query, "variables": variables}).to_string();
    let (status, text) = http("POST", url, Some(body)).await?;
    let answer: Value =
        serde_json::from_str(&text).map_err(|e| format!("GraphQL {url}: HTTP {status}, {e}: {text}"))?;
    if status != 200 || answer.get("errors").is_some_and(|e| !e.is_null()) {
        return Err(format!("GraphQL {url}: HTTP {status}: {text}"));
    }
    Ok(answer["data"].clone())
}

/// Follows a connection's pages; `field` is the root field, `node` the selection of each node.
async fn all_nodes(url: &str, field: &str, node: &str) -> Result<Vec<Value>, String> {
    let query = format!(
        "query($after: String) {{ {field}(first: {PAGE}, after: $after) {{ pageInfo {{ endCursor hasNextPage }} edges {{ node {{ {node} }} }} }} }}"
    );
    let mut after: Option<String> = None;
    let mut nodes = Vec::new();
    loop {
        let data = graphql(url, &query, json!({"after": after})).await?;
        let conn = &data[field];
        let edges = conn["edges"].as_array().ok_or_else(|| format!("GraphQL {field}: no edges in {conn}"))?;
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        let next = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if conn["pageInfo"]["hasNextPage"] != true || next.is_none() || next == after {
            return Ok(nodes);
        }
        after = next;
    }
}

/// What processing an input gave: its status and outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Outcome {
    status: String,
    notices: Vec<String>,
    /// `(destination, payload)`.
    vouchers: Vec<(String, String)>,
    reports: Vec<String>,
}

/// One input as a node holds it, with its status and outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NodeInput {
    sender: String,
    payload: String,
    block: String,
    outcome: Outcome,
}

fn index_of(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// Everything a node serves over GraphQL, by input index.
async fn read_node(url: &str) -> Result<HashMap<u64, NodeInput>, String> {
    let mut inputs = HashMap::new();
    for n in all_nodes(url, "inputs", "index status msgSender blockNumber payload").await? {
        let index = index_of(&n["index"]).ok_or_else(|| format!("input without index: {n}"))?;
        let text = |k: &str| n[k].as_str().unwrap_or_default().to_lowercase();
        let input = NodeInput {
            sender: text("msgSender"),
            payload: text("payload"),
            block: text("blockNumber"),
            outcome: Outcome { status: n["status"].as_str().unwrap_or_default().to_owned(), ..Outcome::default() },
        };
        if inputs.insert(index, input).is_some() {
            return Err(format!("GraphQL lists input {index} twice"));
        }
    }
    let mut outputs: Vec<(u64, u64, &str, Value)> = Vec::new();
    for (field, node) in [
        ("notices", "index payload input { index }"),
        ("vouchers", "index destination payload input { index }"),
        ("reports", "index payload input { index }"),
    ] {
        for n in all_nodes(url, field, node).await? {
            let input = index_of(&n["input"]["index"]).ok_or_else(|| format!("{field}: no input index in {n}"))?;
            outputs.push((input, index_of(&n["index"]).unwrap_or(0), field, n));
        }
    }
    outputs.sort_by_key(|(input, index, field, _)| (*input, *field, *index));
    for (input, _, field, n) in outputs {
        let entry = inputs.entry(input).or_default();
        let payload = n["payload"].as_str().unwrap_or_default().to_lowercase();
        match field {
            "notices" => entry.outcome.notices.push(payload),
            "vouchers" => {
                entry.outcome.vouchers.push((n["destination"].as_str().unwrap_or_default().to_lowercase(), payload))
            }
            _ => entry.outcome.reports.push(payload),
        }
    }
    Ok(inputs)
}

/// `(inputs held, inputs processed)`: the node processes in index order, so the processed ones
/// are a prefix, found by bisection on `input(index) { status }`.
async fn progress(url: &str) -> Result<(u64, u64), String> {
    let data = graphql(url, "{ inputs(first: 1) { totalCount } }", json!({})).await?;
    let total = data["inputs"]["totalCount"].as_u64().ok_or_else(|| format!("GraphQL {url}: no totalCount"))?;
    let (mut low, mut high) = (0, total);
    while low < high {
        let mid = low + (high - low) / 2;
        let query = format!("{{ input(index: {mid}) {{ status }} }}");
        let data = graphql(url, &query, json!({})).await?;
        if data["input"]["status"] == "UNPROCESSED" {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok((total, low))
}

/// Waits until the node holds and has processed at least `count` inputs; gives up after
/// STALL_TIMEOUT without progress. Returns whether it got there.
async fn wait_caught_up(name: &str, url: &str, count: u64) -> bool {
    let mut last = Err(String::new());
    let mut since = Instant::now();
    loop {
        let now = progress(url).await;
        if let Ok((total, processed)) = now {
            if total >= count && processed == total {
                return true;
            }
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= STALL_TIMEOUT {
            let state = match &last {
                Ok((total, processed)) => format!("holds {total} inputs, {processed} processed"),
                Err(e) => e.clone(),
            };
            eprintln!(
                "devnode-soak: the {name} node {state}, of the {count} on L1, without progress for {STALL_TIMEOUT:?}"
            );
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The node's readiness answer (`/healthz` beside `/graphql`): its phase, a failure's reason, and
/// settlement; `None` from a node without one.
async fn health(graphql_url: &str) -> Option<Value> {
    let url = graphql_url.replace("/graphql", "/healthz");
    let (_, body) = http("GET", &url, None).await.ok()?;
    serde_json::from_str(&body).ok()
}

/// Waits until the reference (a validator) has checked as many claims as the soaked node made,
/// or found a disagreement; gives up after STALL_TIMEOUT. Returns `(claims made, agreed,
/// disagreement)`, or `None` when the nodes do not report settlement.
async fn wait_claims_checked(soak: &Urls, reference: &Urls) -> Option<(u64, u64, Option<String>)> {
    let deadline = Instant::now() + STALL_TIMEOUT;
    loop {
        let made = health(&soak.graphql).await?["settlement"]["claims"].as_u64()?;
        let checked = health(&reference.graphql).await?["settlement"].clone();
        let agreed = checked["agreed"].as_u64()?;
        let disagreement = checked["disagreement"].as_str().map(str::to_owned);
        if agreed >= made || disagreement.is_some() || Instant::now() >= deadline {
            return Some((made, agreed, disagreement));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The ledger's `info` report, through inspect.
async fn ledger_info(inspect_url: &str) -> Result<Value, String> {
    let url = format!("{inspect_url}/info");
    let (status, body) = http("GET", &url, None).await?;
    let answer: Value =
        serde_json::from_str(&body).map_err(|e| format!("inspect {url}: HTTP {status}, {e}: {body}"))?;
    let hex = answer["reports"][0]["payload"].as_str().unwrap_or("0x");
    let bytes = hex::decode(hex.trim_start_matches("0x")).map_err(|e| format!("inspect {url}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("inspect {url}: the report is not JSON ({e}): {body}"))
}

/// The ledger's state root once the node is done: its readiness endpoint (when it has one) says
/// "ready" (not replaying), and two `info` answers in a row agree. The last answer if that does
/// not happen within STALL_TIMEOUT.
async fn state_root(urls: &Urls) -> Result<String, String> {
    let deadline = Instant::now() + STALL_TIMEOUT;
    let mut previous: Option<Value> = None;
    loop {
        let ready = health(&urls.graphql).await.is_none_or(|h| h["status"] == "ready");
        let info = ledger_info(&urls.inspect).await?;
        let root = info["state_root"].as_str().unwrap_or_default().to_owned();
        if (ready && previous.as_ref() == Some(&info)) || Instant::now() >= deadline {
            return Ok(root);
        }
        previous = Some(info);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ----- L1 -----

#[derive(Clone, Debug)]
struct L1Input {
    index: u64,
    sender: Address,
    payload: Vec<u8>,
    block: u64,
    transaction: H256,
}

fn input_added_topic() -> H256 {
    l1::keccak256(l1::INPUT_ADDED_SIGNATURE.as_bytes())
}

fn decode_input(log: &l1::Log, app: Address) -> Option<L1Input> {
    if log.topics.first() != Some(&input_added_topic()) || log.topics.get(1) != Some(&H256::from(app)) {
        return None;
    }
    let parsed =
        l1::input_added_event().parse_log(RawLog { topics: log.topics.clone(), data: log.data.clone() }).ok()?;
    let mut values = parsed.params.into_iter().map(|p| p.value);
    match (values.next(), values.next(), values.next(), values.next()) {
        (
            Some(Token::Address(_)),
            Some(Token::Uint(index)),
            Some(Token::Address(sender)),
            Some(Token::Bytes(payload)),
        ) => Some(L1Input {
            index: index.low_u64(),
            sender,
            payload,
            block: log.block_number,
            transaction: log.transaction_hash,
        }),
        _ => None,
    }
}

async fn number_of_inputs(rpc: &Rpc, rollups: &RollupsV1, app: Address) -> Result<u64, String> {
    let mut data = ethabi::short_signature("getNumberOfInputs", &[ParamType::Address]).to_vec();
    data.extend(ethabi::encode(&[Token::Address(app)]));
    let out = rpc.eth_call(rollups.input_box, &data).await.map_err(|e| e.to_string())?;
    if out.len() != 32 {
        return Err(format!("getNumberOfInputs returned {} bytes", out.len()));
    }
    Ok(U256::from_big_endian(&out).low_u64())
}

async fn l1_inputs(rpc: &Rpc, rollups: &RollupsV1, app: Address, from: u64) -> Result<Vec<L1Input>, String> {
    let latest = rpc.block_number().await.map_err(|e| e.to_string())?;
    let topics = [Some(input_added_topic()), Some(H256::from(app))];
    let mut inputs = Vec::new();
    let mut start = from;
    while start <= latest {
        let end = latest.min(start + 4_999);
        let logs = rpc.get_logs(rollups.input_box, &topics, start, end).await.map_err(|e| e.to_string())?;
        inputs.extend(logs.iter().filter_map(|l| decode_input(l, app)));
        start = end + 1;
    }
    Ok(inputs)
}

fn call(name: &str, params: &[ParamType], tokens: &[Token]) -> Vec<u8> {
    let mut data = ethabi::short_signature(name, params).to_vec();
    data.extend(ethabi::encode(tokens));
    data
}

/// The input a receipt added for `app`.
fn added(receipt: &Receipt, rollups: &RollupsV1, app: Address) -> Result<L1Input, String> {
    if !receipt.success {
        return Err(format!("transaction {:#x} reverted", receipt.transaction_hash));
    }
    receipt
        .logs
        .iter()
        .filter(|l| l.address == rollups.input_box)
        .find_map(|l| decode_input(l, app))
        .ok_or_else(|| format!("transaction {:#x} added no input", receipt.transaction_hash))
}

// ----- The input stream -----

/// Makes the deterministic stream of transactions, each adding one input.
#[derive(Debug)]
struct Stream {
    prng: Prng,
    users: Vec<Address>,
    rollups: RollupsV1,
    app: Address,
    /// Every payload is made unique with it, so a duplicate is recognised by its content.
    seq: u64,
    mines: u64,
}

impl Stream {
    fn add_input(&self, from: Address, payload: Vec<u8>) -> TxRequest {
        let data = call(
            "addInput",
            &[ParamType::Address, ParamType::Bytes],
            &[Token::Address(self.app), Token::Bytes(payload)],
        );
        TxRequest { from, to: Some(self.rollups.input_box), data, value: U256::zero() }
    }

    fn relay(&self, from: Address) -> TxRequest {
        let data = call("relayDAppAddress", &[ParamType::Address], &[Token::Address(self.app)]);
        TxRequest { from, to: Some(self.rollups.dapp_address_relay), data, value: U256::zero() }
    }

    fn user(&mut self) -> Address {
        let i = self.prng.below(self.users.len() as u64) as usize;
        self.users[i]
    }

    /// One transaction from `from`.
    fn next_from(&mut self, from: Address) -> TxRequest {
        self.seq += 1;
        let seq = self.seq;
        let roll = self.prng.below(100);
        if roll < 25 {
            // An Ether deposit; the value makes it unique.
            let value = U256::from(self.prng.below(1000) + 1) * U256::exp10(12) + U256::from(seq);
            let data = call(
                "depositEther",
                &[ParamType::Address, ParamType::Bytes],
                &[Token::Address(self.app), Token::Bytes(vec![])],
            );
            return TxRequest { from, to: Some(self.rollups.ether_portal), data, value };
        }
        let payload = if roll < 55 {
            let to = if self.prng.percent(10) { Address::from_low_u64_be(0x50a4_0000 + seq) } else { self.user() };
            let amount = self.prng.below(300) * 1_000_000_000 + seq;
            format!(r#"{{"op":"transfer","to":"{to:#x}","asset":"ETH","amount":"{amount}"}}"#).into_bytes()
        } else if roll < 62 {
            let to = self.user();
            let amount = self.prng.below(100) * 1_000_000 + seq;
            format!(r#"{{"op":"transfer","to":"{to:#x}","asset":"COIN","amount":"{amount}"}}"#).into_bytes()
        } else if roll < 74 {
            self.mines += 1;
            format!(r#"{{"op":"mine"}}{}"#, " ".repeat(self.mines as usize)).into_bytes()
        } else if roll < 84 {
            let amount = self.prng.below(50) * 1_000_000_000 + seq;
            format!(r#"{{"op":"withdraw","asset":"ETH","amount":"{amount}"}}"#).into_bytes()
        } else {
            match self.prng.below(5) {
                0 => format!("not an operation #{seq}").into_bytes(),
                1 => format!(r#"{{"op":"transfer","to":"0xnothex","asset":"ETH","amount":"{seq}"}}"#).into_bytes(),
                2 => format!(r#"{{"op":"fly","amount":"{seq}"}}"#).into_bytes(),
                3 => format!(r#"{{"op":"transfer","amount":"{seq}"#).into_bytes(),
                _ => {
                    let mut bytes: Vec<u8> = (0..self.prng.below(40)).map(|_| self.prng.next() as u8).collect();
                    bytes.extend(seq.to_be_bytes());
                    bytes
                }
            }
        };
        self.add_input(from, payload)
    }

    /// The next group: one transaction, or several from distinct accounts for one L1 block.
    fn next_group(&mut self, room: u64) -> Vec<TxRequest> {
        let size = if room >= 2 && self.prng.percent(20) { 2 + self.prng.below(room.min(4) - 1) } else { 1 };
        let start = self.prng.below(self.users.len() as u64) as usize;
        (0..size as usize)
            .map(|k| {
                let from = self.users[(start + k) % self.users.len()];
                self.next_from(from)
            })
            .collect()
    }
}

/// Sends a group: alone with automine, or several mined into one block.
async fn send_group(
    rpc: &Rpc,
    group: &[TxRequest],
    rollups: &RollupsV1,
    app: Address,
) -> (Vec<L1Input>, Option<String>) {
    let mut added_inputs = Vec::new();
    if let [tx] = group {
        return match transact(rpc, tx).await.and_then(|r| added(&r, rollups, app)) {
            Ok(input) => (vec![input], None),
            Err(e) => (vec![], Some(e)),
        };
    }
    let mut hashes = Vec::new();
    let mut error = None;
    if let Err(e) = rpc.call("evm_setAutomine", json!([false])).await {
        return (vec![], Some(e.to_string()));
    }
    for tx in group {
        match rpc.send_transaction(tx).await {
            Ok(hash) => hashes.push(hash),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let mined = rpc.call("evm_mine", json!([])).await;
    let automine = rpc.call("evm_setAutomine", json!([true])).await;
    if let Err(e) = mined.and(automine) {
        return (vec![], Some(e.to_string()));
    }
    let mut blocks = Vec::new();
    for hash in hashes {
        match rpc.wait_receipt(hash, "addInput").await.map_err(|e| e.to_string()).and_then(|r| {
            blocks.push(r.block_number);
            added(&r, rollups, app)
        }) {
            Ok(input) => added_inputs.push(input),
            Err(e) => error = error.or(Some(e)),
        }
    }
    blocks.dedup();
    if blocks.len() > 1 {
        error = error.or(Some(format!("a group of {} landed in blocks {blocks:?}", group.len())));
    }
    (added_inputs, error)
}

async fn transact(rpc: &Rpc, tx: &TxRequest) -> Result<Receipt, String> {
    let hash = rpc.send_transaction(tx).await.map_err(|e| e.to_string())?;
    rpc.wait_receipt(hash, "input").await.map_err(|e| e.to_string())
}

// ----- The soak -----

fn beside_exe(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    Ok(exe.parent().map_or_else(|| PathBuf::from(name), |d| d.join(name)))
}

fn find_node_modules() -> Option<PathBuf> {
    let starts = [std::env::current_exe().ok(), std::env::current_dir().ok()];
    starts.into_iter().flatten().find_map(|start| {
        start.ancestors().map(|a| a.join("devnode/npm/node_modules")).find(|p| p.join("@foundry-rs").is_dir())
    })
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn node_args(data: &Path, deployments: &Path, node_modules: &Path, backend: &Path) -> Result<Vec<OsString>, String> {
    let mut args: Vec<OsString> = Vec::new();
    let mut arg = |k: &str, v: OsString| {
        args.push(k.into());
        args.push(v);
    };
    arg("--data-dir", data.into());
    arg("--deployments-dir", deployments.into());
    arg("--node-modules", node_modules.into());
    arg("--backend", backend.into());
    for flag in ["--rollup-address", "--inspect-address", "--graphql-address"] {
        arg(flag, format!("127.0.0.1:{}", free_port()?).into());
    }
    args.push("--no-test-tokens".into());
    Ok(args)
}

/// The application's address, from the deployment file the node writes.
fn application(deployments: &Path) -> Result<(Address, u64), String> {
    let path = deployments.join("localhost/dapp.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let address = v["address"].as_str().ok_or_else(|| format!("{}: no address", path.display()))?;
    let bytes = hex::decode(address.trim_start_matches("0x")).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() != 20 {
        return Err(format!("{}: bad address {address}", path.display()));
    }
    Ok((Address::from_slice(&bytes), v["blockNumber"].as_u64().unwrap_or(0)))
}

/// `count` random points in `1..=n`, one in each of `count` equal stretches, in order (when
/// `count` > `n` several fall on one point: a kill soon after the restart, during replay).
fn schedule(prng: &mut Prng, count: u64, n: u64) -> Vec<u64> {
    let n = n.max(1);
    (0..count)
        .map(|i| {
            let (start, end) = (i * n / count, ((i + 1) * n / count).max(i * n / count + 1));
            1 + start + prng.below(end - start)
        })
        .collect()
}

struct Soak {
    /// The soaked node's data directory (anvil's state file).
    data_dir: PathBuf,
    /// Delays and kills while starting; the input stream has its own generator.
    timing: Prng,
    spec: NodeSpec,
    backend: PathBuf,
    node: NodeProc,
    runs: u64,
    figures: Figures,
}

impl Soak {
    /// Restarts the node after it went (killed or by itself): waits for its children first. Now
    /// and then the new node is killed again while it starts (loading anvil's state, deploying,
    /// replaying), and started once more.
    async fn restart(&mut self) -> Result<(), String> {
        loop {
            self.figures.left_behind += wait_children_gone(&self.spec.marker).await;
            self.runs += 1;
            let kill_at = self.timing.percent(15).then(|| Duration::from_millis(20 + self.timing.below(300)));
            if let Some(node) = start_node(&self.spec, self.runs, kill_at).await? {
                self.node = node;
                return Ok(());
            }
            self.figures.restarts += 1;
            self.figures.restarts_while_starting += 1;
        }
    }

    /// Waits (at most 5 s) until the node has replaced anvil's state file after `since`.
    async fn wait_saved(&self, since: std::time::SystemTime) {
        let state = self.data_dir.join("anvil-state.json");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::metadata(&state).and_then(|m| m.modified()).map_or(true, |saved| saved <= since) {
            if Instant::now() >= deadline {
                eprintln!("devnode-soak: {} was not replaced within 5 s of an input", state.display());
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Kills the node after `delay`; half of the time only once the chain has been saved since
    /// `last_sent` (anvil's state file replaced), so that L1 keeps the inputs sent so far. The other
    /// kills may take anvil's last second with them: L1 itself then drops those inputs.
    async fn kill_node(&mut self, delay: Duration, last_sent: Option<std::time::SystemTime>) -> Result<(), String> {
        if let (true, Some(sent)) = (self.timing.percent(50), last_sent) {
            self.wait_saved(sent).await;
        }
        tokio::time::sleep(delay).await;
        if self.check_exited() {
            return self.restart().await;
        }
        self.node.kill9().await;
        self.figures.restarts += 1;
        self.restart().await
    }

    /// Kills the backend after `delay`; half of the time instead as soon as the node has stored
    /// the last input sent (`last_index`), so that the kill is likely to land while the backend
    /// processes it.
    async fn kill_backend(&mut self, delay: Duration, last_index: Option<u64>) -> Result<(), String> {
        let backend = find_backend(self.node.pid, &self.spec.marker, &self.backend).await;
        match (self.timing.percent(50), last_index) {
            (true, Some(index)) => {
                let query = format!("{{ input(index: {index}) {{ status }} }}");
                let deadline = Instant::now() + Duration::from_secs(5);
                while graphql(&self.node.urls.graphql, &query, json!({})).await.is_err() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            _ => tokio::time::sleep(delay).await,
        }
        match backend {
            Some(pid) => {
                // An inspect sent just before the kill must still be answered.
                let url = format!("{}/info", self.node.urls.inspect);
                let probe = tokio::spawn(async move { http("GET", &url, None).await });
                tokio::task::yield_now().await;
                kill9(pid);
                self.figures.backend_kills += 1;
                self.figures.backend_kills_processing += u64::from(self.node_is_processing().await);
                match probe.await {
                    Ok(Ok((200, _))) => {}
                    Ok(Ok((status, body))) => {
                        self.figures.inspects_refused += 1;
                        eprintln!("devnode-soak: an inspect during a backend kill got HTTP {status}: {body}");
                    }
                    Ok(Err(e)) => {
                        self.figures.inspects_unanswered += 1;
                        eprintln!("devnode-soak: an inspect during a backend kill got no answer: {e}");
                    }
                    Err(e) => return Err(format!("the inspect probe failed: {e}")),
                }
            }
            None => eprintln!("devnode-soak: no backend found under node pid {} to kill", self.node.pid),
        }
        if self.check_exited() {
            self.restart().await?;
        }
        Ok(())
    }

    /// Stops the node cleanly (SIGINT) after `delay`, as Ctrl-C would, and starts it again: L1
    /// must keep every input it had (the node saves anvil's chain completely before it exits).
    async fn clean_restart(
        &mut self,
        rpc: &Rpc,
        rollups: &RollupsV1,
        app: Address,
        delay: Duration,
    ) -> Result<(), String> {
        tokio::time::sleep(delay).await;
        if self.check_exited() {
            return self.restart().await;
        }
        let before = number_of_inputs(rpc, rollups, app).await?;
        self.figures.clean_stops += 1;
        if !self.node.stop().await {
            self.figures.clean_stop_timeouts += 1;
            eprintln!("devnode-soak: the node did not stop within {STOP_TIMEOUT:?} of SIGINT; killed");
        }
        self.restart().await?;
        let after = number_of_inputs(rpc, rollups, app).await?;
        if after < before {
            eprintln!("devnode-soak: L1 had {before} inputs before a clean stop of the node and {after} after");
            self.figures.dropped_after_clean_stop += before - after;
        }
        Ok(())
    }

    /// Whether the node has an input not yet processed (its backend was likely busy).
    async fn node_is_processing(&self) -> bool {
        matches!(progress(&self.node.urls.graphql).await, Ok((total, processed)) if processed < total)
    }

    /// Counts and reports a node that stopped without being killed.
    fn check_exited(&mut self) -> bool {
        let Some(status) = self.node.exited() else { return false };
        self.figures.unplanned_exits += 1;
        eprintln!(
            "devnode-soak: the node stopped by itself ({status}); the end of its stderr ({}):\n{}",
            self.node.stderr_log.display(),
            tail(&self.node.stderr_log, 15)
        );
        true
    }
}

async fn soak(args: Args) -> Result<Figures, String> {
    let devnode = args.devnode.map_or_else(|| beside_exe("devnode"), Ok)?;
    let backend = args.backend.map_or_else(|| beside_exe("dapp"), Ok)?;
    for (what, path) in [("devnode", &devnode), ("backend", &backend)] {
        if !path.is_file() {
            return Err(format!(
                "the {what} binary {} is missing (build it: cargo build -p devnode -p dapp)",
                path.display()
            ));
        }
    }
    let backend = std::fs::canonicalize(&backend).map_err(|e| format!("{}: {e}", backend.display()))?;
    let node_modules = args.node_modules.or_else(find_node_modules).ok_or(
        "cannot find devnode/npm/node_modules above this binary or here: run `npm ci --prefix devnode/npm` or pass --node-modules",
    )?;

    let dir = std::env::temp_dir().join(format!("devnode-soak-{}-{}", std::process::id(), args.seed));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let marker = |name: &str| format!("{}/{name}", dir.display());
    let _sweeper = Sweeper(vec![marker("soak"), marker("reference")]);
    eprintln!("devnode-soak: working in {}", dir.display());

    // The soaked node: anvil as its child, on a port fixed across restarts.
    let soak_deployments = dir.join("soak-deployments");
    let mut soak_args = node_args(&dir.join("soak-data"), &soak_deployments, &node_modules, &backend)?;
    soak_args.extend(["--anvil-port".into(), free_port()?.to_string().into()]);
    let spec = NodeSpec {
        name: "soak",
        program: devnode.clone(),
        args: soak_args,
        marker: marker("soak"),
        logs: dir.join("logs"),
    };
    let node = start_node(&spec, 0, None).await?.ok_or("the node was not started")?;
    let rpc = Rpc::new(&node.urls.rpc).map_err(|e| e.to_string())?;
    let (app, app_block) = application(&soak_deployments)?;
    let rollups = RollupsV1::canonical();
    let accounts = rpc.accounts().await.map_err(|e| e.to_string())?;
    if accounts.len() < 4 {
        return Err(format!("the devnet has {} unlocked accounts; 4 are needed", accounts.len()));
    }
    let mut timing = Prng(args.seed ^ 0x5eed_c1ab_0f00_d5e7);
    let mut run = Soak {
        data_dir: dir.join("soak-data"),
        spec,
        backend: backend.clone(),
        node,
        runs: 0,
        timing: Prng(timing.next()),
        figures: Figures { seed: args.seed, l1_consistent: true, ..Figures::default() },
    };

    let mut stream = Stream {
        prng: Prng(args.seed),
        users: accounts[1..accounts.len().min(6)].to_vec(),
        rollups: rollups.clone(),
        app,
        seq: 0,
        mines: 0,
    };
    let node_kills = schedule(&mut timing, args.restarts, args.inputs);
    let backend_kills = schedule(&mut timing, args.backend_kills, args.inputs);
    let (mut next_node_kill, mut next_backend_kill) = (0, 0);
    let mut sent: Vec<L1Input> = Vec::new();
    let mut attempted = 0u64;
    let mut last_sent = None;
    // The DAppAddressRelay input comes first, and again if L1 loses it before it was saved.
    let mut relay = true;
    while attempted < args.inputs {
        if run.check_exited() {
            run.restart().await?;
        }
        let group = if relay { vec![stream.relay(accounts[0])] } else { stream.next_group(args.inputs - attempted) };
        attempted += group.len() as u64;
        let (added_inputs, error) = send_group(&rpc, &group, &rollups, app).await;
        if !added_inputs.is_empty() {
            let now = std::time::SystemTime::now();
            last_sent = Some(now);
            if relay {
                // The dApp's address must stay on L1: withdrawals need it.
                run.wait_saved(now).await;
            }
        }
        relay = false;
        sent.extend(added_inputs);
        if let Some(e) = error {
            eprintln!("devnode-soak: sending inputs: {e}");
            if run.check_exited() {
                run.restart().await?;
            }
        }
        let restarts_before = run.figures.restarts;
        // The kills due by now, in schedule order, each after a random delay so that they land
        // at random points of the node's work (storing, processing, replaying, starting).
        loop {
            let node_due = node_kills.get(next_node_kill).filter(|&&p| p <= attempted);
            let backend_due = backend_kills.get(next_backend_kill).filter(|&&p| p <= attempted);
            let delay = Duration::from_millis(timing.below(400));
            match (node_due, backend_due) {
                (Some(n), Some(b)) if b < n => {
                    next_backend_kill += 1;
                    run.kill_backend(delay, sent.last().map(|i| i.index)).await?;
                }
                (Some(_), _) => {
                    next_node_kill += 1;
                    if run.timing.percent(20) {
                        run.clean_restart(&rpc, &rollups, app, delay).await?;
                    }
                    run.kill_node(delay, last_sent).await?;
                    eprintln!("devnode-soak: {attempted}/{} inputs, {} restarts", args.inputs, run.figures.restarts);
                }
                (None, Some(_)) => {
                    next_backend_kill += 1;
                    run.kill_backend(delay, sent.last().map(|i| i.index)).await?;
                }
                (None, None) => break,
            }
        }
        if run.figures.restarts > restarts_before {
            relay = number_of_inputs(&rpc, &rollups, app).await? == 0;
        }
    }
    if run.check_exited() {
        run.restart().await?;
    }
    run.figures.sent = sent.len() as u64;

    // L1 at the end, and the soaked node caught up with it.
    let on_l1 = number_of_inputs(&rpc, &rollups, app).await?;
    let chain = l1_inputs(&rpc, &rollups, app, app_block).await?;
    // Every index the InputBox counts must have its InputAdded log, one each, in order: a chain
    // restored from a dump taken while a block was mined can hold an input's state without its
    // block, and then no node can read past it.
    let indices_in_order = chain.iter().enumerate().all(|(i, input)| input.index == i as u64);
    if chain.len() as u64 != on_l1 || !indices_in_order {
        run.figures.l1_consistent = false;
        let first_gap = chain.iter().enumerate().find(|(i, input)| input.index != *i as u64).map(|(i, _)| i);
        eprintln!(
            "devnode-soak: L1 is inconsistent: getNumberOfInputs says {on_l1}, there are {} InputAdded logs{}",
            chain.len(),
            first_gap.map_or(String::new(), |i| format!(", and the log of input {i} is missing"))
        );
    }
    run.figures.on_l1 = on_l1;
    eprintln!("devnode-soak: stream sent; waiting for the soaked node to hold the {on_l1} inputs of L1");
    wait_caught_up("soaked", &run.node.urls.graphql, on_l1).await;

    // The reference: a fresh node reading the same chain, uninterrupted.
    let ref_deployments = dir.join("reference-deployments");
    let mut ref_args = node_args(&dir.join("reference-data"), &ref_deployments, &node_modules, &backend)?;
    // A validator: it submits no claims of its own and checks those of the soaked node.
    ref_args.extend(["--rpc-url".into(), run.node.urls.rpc.clone().into(), "--validate".into()]);
    let ref_spec = NodeSpec {
        name: "reference",
        program: devnode,
        args: ref_args,
        marker: marker("reference"),
        logs: dir.join("logs"),
    };
    let mut reference = start_node(&ref_spec, 0, None).await?.ok_or("the reference node was not started")?;
    eprintln!("devnode-soak: waiting for the reference node");
    wait_caught_up("reference", &reference.urls.graphql, on_l1).await;

    for (name, urls) in [("soaked", &run.node.urls), ("reference", &reference.urls)] {
        if let Some(h) = health(&urls.graphql).await {
            eprintln!("devnode-soak: the {name} node's health: {h}");
        }
    }
    match wait_claims_checked(&run.node.urls, &reference.urls).await {
        Some((made, agreed, disagreement)) => {
            run.figures.claims = Some((made, agreed));
            if let Some(d) = disagreement {
                eprintln!("devnode-soak: the reference node disagrees with a claim of the soaked node: {d}");
                run.figures.claim_disagreements = 1;
            }
        }
        None => eprintln!("devnode-soak: the nodes report no settlement (no readiness endpoint): claims not compared"),
    }
    compare(&mut run.figures, &sent, &chain, &run.node.urls, &reference.urls).await?;
    reference.stop().await;
    run.node.stop().await;
    if args.keep || !run.figures.passed() {
        eprintln!("devnode-soak: logs and data kept in {}", dir.display());
    }
    if !args.keep && run.figures.passed() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(run.figures)
}

async fn compare(
    f: &mut Figures,
    sent: &[L1Input],
    chain: &[L1Input],
    soak: &Urls,
    reference: &Urls,
) -> Result<(), String> {
    let soaked = read_node(&soak.graphql).await?;
    let refd = read_node(&reference.graphql).await?;
    tally(f, sent, chain, &soaked, &refd);
    f.soak_root = state_root(soak).await?;
    f.reference_root = state_root(reference).await?;
    f.roots_equal = !f.soak_root.is_empty() && f.soak_root == f.reference_root;
    Ok(())
}

/// Counts what the soaked node holds against L1 (lost, duplicated, stale) and against the
/// reference (mismatched outcomes), and what L1 dropped of what was sent.
fn tally(
    f: &mut Figures,
    sent: &[L1Input],
    chain: &[L1Input],
    soaked: &HashMap<u64, NodeInput>,
    refd: &HashMap<u64, NodeInput>,
) {
    let on_chain: HashMap<H256, &L1Input> = chain.iter().map(|i| (i.transaction, i)).collect();
    let sent_hashes: std::collections::HashSet<H256> = sent.iter().map(|i| i.transaction).collect();
    f.dropped_by_l1 = sent.iter().filter(|i| !on_chain.contains_key(&i.transaction)).count() as u64;
    f.unknown_on_l1 = chain.iter().filter(|i| !sent_hashes.contains(&i.transaction)).count() as u64;

    f.stored = soaked.len() as u64;
    let mut statuses: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for n in refd.values() {
        *statuses.entry(n.outcome.status.as_str()).or_default() += 1;
    }
    let count = |k: fn(&NodeInput) -> usize| refd.values().map(k).sum::<usize>();
    eprintln!(
        "devnode-soak: the reference node: {statuses:?}; {} notices, {} vouchers, {} reports",
        count(|n| n.outcome.notices.len()),
        count(|n| n.outcome.vouchers.len()),
        count(|n| n.outcome.reports.len())
    );
    let as_node =
        |i: &L1Input| (format!("{:#x}", i.sender), format!("0x{}", hex::encode(&i.payload)), i.block.to_string());
    let key = |n: &NodeInput| (n.sender.clone(), n.payload.clone(), n.block.clone());
    let l1_by_index: HashMap<u64, (String, String, String)> = chain.iter().map(|i| (i.index, as_node(i))).collect();
    let l1_by_content: HashMap<(String, String, String), u64> = chain.iter().map(|i| (as_node(i), i.index)).collect();

    let matches_l1 = |inputs: &HashMap<u64, NodeInput>, index: u64| {
        inputs.get(&index).is_some_and(|n| l1_by_index.get(&index) == Some(&key(n)))
    };
    let mut shown = 0;
    for i in chain {
        if !matches_l1(soaked, i.index) {
            f.lost += 1;
            if shown < 10 {
                shown += 1;
                eprintln!("devnode-soak: L1 input {} (block {}) is not at the soaked node", i.index, i.block);
            }
        }
        if !matches_l1(refd, i.index) {
            f.missing_at_reference += 1;
        }
    }
    if f.missing_at_reference > 0 {
        eprintln!("devnode-soak: {} inputs of L1 are not at the reference node either", f.missing_at_reference);
    }
    let mut held: Vec<(&u64, &NodeInput)> = soaked.iter().collect();
    held.sort_unstable_by_key(|(index, _)| **index);
    for (index, n) in held {
        if l1_by_index.get(index) == Some(&key(n)) {
            continue;
        }
        match l1_by_content.get(&key(n)) {
            Some(at) => {
                f.duplicated += 1;
                eprintln!("devnode-soak: the soaked node holds L1 input {at} again at index {index}");
            }
            None => {
                f.stale += 1;
                eprintln!(
                    "devnode-soak: the soaked node holds input {index} (block {}), which L1 does not have",
                    n.block
                );
            }
        }
    }
    let mut shown = 0;
    let mut indices: Vec<u64> = chain.iter().map(|i| i.index).collect();
    indices.sort_unstable();
    for index in indices {
        if !(matches_l1(soaked, index) && matches_l1(refd, index)) {
            continue;
        }
        let (Some(a), Some(b)) = (soaked.get(&index), refd.get(&index)) else { continue };
        if a.outcome != b.outcome {
            let (a, b) = (&a.outcome, &b.outcome);
            f.mismatched += 1;
            if shown < 10 {
                shown += 1;
                eprintln!(
                    "devnode-soak: input {index} differs: soaked {} with {}/{}/{} notices/vouchers/reports, reference {} with {}/{}/{}",
                    a.status,
                    a.notices.len(),
                    a.vouchers.len(),
                    a.reports.len(),
                    b.status,
                    b.notices.len(),
                    b.vouchers.len(),
                    b.reports.len()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_puts_one_point_in_each_stretch() {
        let mut prng = Prng(5);
        let points = schedule(&mut prng, 10, 80);
        assert_eq!(points.len(), 10);
        for (i, p) in points.iter().enumerate() {
            let i = i as u64;
            assert!((i * 8 + 1..=i * 8 + 8).contains(p), "point {i} is {p}");
        }
        // More kills than inputs: every input gets at least one, in order.
        let points = schedule(&mut prng, 7, 3);
        assert_eq!(points.len(), 7);
        assert!(points.windows(2).all(|w| w[0] <= w[1]) && points.iter().all(|p| (1..=3).contains(p)), "{points:?}");
    }

    #[test]
    fn the_stream_depends_on_the_seed_only() {
        let stream = |seed| {
            let users = (1..=5).map(Address::from_low_u64_be).collect();
            let mut s = Stream {
                prng: Prng(seed),
                users,
                rollups: RollupsV1::canonical(),
                app: Address::zero(),
                seq: 0,
                mines: 0,
            };
            (0..200).flat_map(|_| s.next_group(4)).map(|tx| (tx.from, tx.to, tx.data, tx.value)).collect::<Vec<_>>()
        };
        assert_eq!(stream(1), stream(1));
        assert_ne!(stream(1), stream(2));
        // Every transaction carries a distinct input, so a doubled one is recognised by content.
        let txs = stream(1);
        let distinct: std::collections::HashSet<_> = txs.iter().map(|(_, _, data, value)| (data, value)).collect();
        assert_eq!(distinct.len(), txs.len());
    }

    fn l1_input(index: u64, payload: &str, block: u64) -> L1Input {
        let transaction = H256::from_low_u64_be(1000 + index + (payload.len() as u64) * 100_000);
        L1Input { index, sender: Address::from_low_u64_be(7), payload: payload.as_bytes().to_vec(), block, transaction }
    }

    fn held(input: &L1Input, status: &str) -> NodeInput {
        NodeInput {
            sender: format!("{:#x}", input.sender),
            payload: format!("0x{}", hex::encode(&input.payload)),
            block: input.block.to_string(),
            outcome: Outcome {
                status: status.into(),
                reports: vec![format!("0x{:02x}", input.index)],
                ..Outcome::default()
            },
        }
    }

    #[test]
    fn the_tally_tells_lost_duplicated_stale_and_mismatched_inputs_apart() {
        let chain: Vec<L1Input> = (0..6).map(|i| l1_input(i, &format!("input {i}"), 10 + i / 2)).collect();
        let gone = l1_input(6, "dropped by L1", 13);
        let sent: Vec<L1Input> = chain.iter().cloned().chain([gone.clone()]).collect();
        let reference: HashMap<u64, NodeInput> = chain.iter().map(|i| (i.index, held(i, "ACCEPTED"))).collect();

        // Followed exactly: nothing to report, and the input L1 lost is L1's.
        let mut f = Figures::default();
        tally(&mut f, &sent, &chain, &reference, &reference);
        assert_eq!((f.dropped_by_l1, f.unknown_on_l1, f.stored), (1, 0, 6));
        assert_eq!((f.lost, f.duplicated, f.stale, f.mismatched, f.missing_at_reference), (0, 0, 0, 0, 0));

        // Input 2 skipped (3 moved down to its index), 4 held twice, 5 with another status, and
        // the input L1 dropped still held.
        let mut soaked = reference.clone();
        soaked.insert(2, held(&chain[3], "ACCEPTED"));
        soaked.insert(3, held(&chain[3], "ACCEPTED"));
        soaked.insert(5, held(&chain[5], "REJECTED"));
        soaked.insert(6, held(&gone, "ACCEPTED"));
        soaked.insert(7, held(&chain[4], "ACCEPTED"));
        let mut f = Figures::default();
        tally(&mut f, &sent, &chain, &soaked, &reference);
        assert_eq!(f.lost, 1, "input 2");
        assert_eq!(f.duplicated, 2, "input 3 at index 2, input 4 at index 7");
        assert_eq!(f.stale, 1, "the dropped input at index 6");
        assert_eq!(f.mismatched, 1, "input 5");
        assert_eq!(f.stored, 8);

        // Outputs count as much as statuses.
        let mut soaked = reference.clone();
        if let Some(n) = soaked.get_mut(&1) {
            n.outcome.notices.push("0x01".into());
        }
        let mut f = Figures::default();
        tally(&mut f, &sent, &chain, &soaked, &reference);
        assert_eq!((f.lost, f.mismatched), (0, 1));
    }

    #[test]
    fn the_readiness_block_is_read_by_its_labels() {
        let block = "devnode ready\n  L1 RPC       http://127.0.0.1:8545\n  GraphQL      http://127.0.0.1:4000/graphql\n  inspect      http://127.0.0.1:5005/inspect\n  rollup API   http://127.0.0.1:5004 (private)";
        let find = |label| block.lines().find_map(|l| labelled(l, label));
        assert_eq!(find("L1 RPC").as_deref(), Some("http://127.0.0.1:8545"));
        assert_eq!(find("GraphQL").as_deref(), Some("http://127.0.0.1:4000/graphql"));
        assert_eq!(find("inspect").as_deref(), Some("http://127.0.0.1:5005/inspect"));
        assert_eq!(labelled("  inspectors   x", "inspect"), None);
    }
}

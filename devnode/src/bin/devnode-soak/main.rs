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

#![warn(unreachable_pub)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use clap::Parser;
use devnode::l1::{self, Address, Receipt, RollupsV1, Rpc, TxRequest, H256, U256};
use ethabi::{ParamType, Token};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

mod chain;
mod figures;
mod node;
mod procs;
mod reader;
mod soak;
mod stream;
mod tally;

use chain::*;
use figures::*;
use node::*;
use procs::*;
use reader::*;
use soak::*;
use stream::*;
use tally::*;

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
/// The node saves anvil's chain every second; an input sent longer than this before a kill must
/// survive it.
const SAVE_SLACK: Duration = Duration::from_secs(3);
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

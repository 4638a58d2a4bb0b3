//! The dev node: L1, storage, the rollup API with the supervised backend, inspect and GraphQL.
//!
//! Three tasks share the work:
//! - the **follower** reads the application's inputs from L1 and stores each one durably before
//!   anything processes it; before every read it checks that the last input it holds is still
//!   on L1 (its block's hash), and when L1 went back it asks the supervisor to roll back to the
//!   inputs L1 still has;
//! - the **supervisor** is the only one that talks to the backend. It is in one state at a time
//!   (spawning, replaying, advancing, inspecting, idle, failed): it spawns a backend with a
//!   private rollup URL, rebuilds its ledger by replaying the processed inputs (comparing every
//!   output with the stored one), then processes inputs in order and inspects between them. Any
//!   backend exit or hang aborts the request in progress and starts a fresh backend;
//! - the **servers** (rollup API, inspect, GraphQL) answer from the store and through the
//!   supervisor.
//!
//! When the node cannot go on correctly it stops processing and enters the failed phase
//! ([`Health`]): every API then says why, and the process exits non-zero when stopped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use ledger::Address;
use rollup::wire::{Advance, AdvanceMetadata, HexBytes, Inspect};
use rollup::RollupRequest;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::backend::{Backend, BackendCommand};
use crate::health::{Health, Phase};
use crate::inspect::{Answer, Refusal};
use crate::l1::{self, Anvil, AnvilConfig, InputEvent, InputWatcher, NodeModules, Rpc, H256};
use crate::rollup_api::{Completion, RollupApi, Status};
use crate::store::{InputRecord, InputStatus, L1Origin, Store, StoreError};

/// Everything the node is configured with (the CLI fills it in).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    pub deployments_dir: PathBuf,
    pub node_modules: PathBuf,
    /// Use this chain instead of starting anvil.
    pub rpc_url: Option<String>,
    pub anvil_port: u16,
    pub block_time: Option<u64>,
    pub finish_timeout: Duration,
    /// A backend that neither finishes a request nor exits within this time is killed and
    /// handled as a crash.
    pub backend_timeout: Duration,
    pub test_tokens: bool,
    pub backend: BackendCommand,
    /// Epoch length in L1 blocks (`--epoch-length`).
    pub epoch_length: u64,
    /// Check another party's claims instead of claiming (`--validate`).
    pub validate: bool,
}

/// Why the node stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("L1: {0}")]
    L1(#[from] l1::L1Error),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {address} for {what}: {source} (is another node running? choose another address with --{flag})")]
    Bind { what: &'static str, flag: &'static str, address: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Owner(#[from] crate::owner::OwnerError),
    #[error("anvil, the node's L1, exited unexpectedly ({0}); start the node again: it reloads the chain saved in its data directory and drops any input the chain lost")]
    AnvilExited(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the backend {program} exited before asking for work ({why}); its own message, if any, is above")]
    BackendStart { program: String, why: String },
    #[error("{0}")]
    Failed(String),
}

async fn bind(address: SocketAddr, what: &'static str, flag: &'static str) -> Result<TcpListener, NodeError> {
    TcpListener::bind(address).await.map_err(|source| NodeError::Bind { what, flag, address, source })
}

/// The node's three servers, bound before anything starts (tests bind port 0).
#[derive(Debug)]
pub struct Listeners {
    pub rollup: TcpListener,
    pub inspect: TcpListener,
    pub graphql: TcpListener,
}

impl Listeners {
    pub async fn bind(rollup: SocketAddr, inspect: SocketAddr, graphql: SocketAddr) -> Result<Listeners, NodeError> {
        Ok(Listeners {
            rollup: bind(rollup, "the rollup API", "rollup-address").await?,
            inspect: bind(inspect, "inspect", "inspect-address").await?,
            graphql: bind(graphql, "GraphQL", "graphql-address").await?,
        })
    }
}

/// What a started node tells its caller.
#[derive(Clone, Debug)]
pub struct Ready {
    pub book: l1::AddressBook,
    pub rpc_url: String,
    pub application: Address,
    pub rollup_url: String,
    pub inspect_url: String,
    pub graphql_url: String,
    pub health: Health,
}

fn advance_of(record: &InputRecord) -> RollupRequest {
    RollupRequest::AdvanceState(Advance {
        metadata: AdvanceMetadata {
            msg_sender: record.msg_sender,
            input_index: record.index,
            block_number: record.block_number,
            timestamp: Some(record.timestamp),
            epoch_index: Some(0),
            block_timestamp: None,
            chain_id: None,
            app_contract: None,
            prev_randao: None,
        },
        payload: HexBytes(record.payload.clone()),
    })
}

fn record_of(event: &InputEvent) -> InputRecord {
    InputRecord {
        index: event.index,
        msg_sender: Address(event.msg_sender.0),
        payload: event.payload.clone(),
        block_number: event.block_number,
        timestamp: event.block_timestamp,
        origin: L1Origin {
            block_hash: event.block_hash.0,
            transaction_hash: event.transaction_hash.0,
            log_index: event.log_index,
        },
    }
}

fn status_of(completion: &Completion) -> (InputStatus, Option<&[u8]>) {
    match &completion.status {
        Status::Accepted => (InputStatus::Accepted, None),
        Status::Rejected => (InputStatus::Rejected, None),
        Status::Exception(p) => (InputStatus::Exception, Some(p.as_slice())),
    }
}

/// Prints the address book and the readiness line: the node's results on stdout (logs go to
/// stderr), so scripts can wait for "devnode ready". A closed stdout (`devnode | head`) is not
/// the node's concern: what cannot be printed is dropped.
fn announce(book: &l1::AddressBook, status: &Ready, config: &NodeConfig, ready_in: Duration) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", book.render());
    let _ = writeln!(
        out,
        "devnode ready in {:.1} s\n  L1 RPC       {}\n  GraphQL      {}\n  inspect      {}\n  health       {}\n  rollup API   {} (the backend's only, under a secret path; backend {})\n  application  {}\n  deployments  {}/localhost\n  data         {}",
        ready_in.as_secs_f64(),
        status.rpc_url,
        status.graphql_url,
        status.inspect_url,
        status.graphql_url.replace("/graphql", "/healthz"),
        status.rollup_url,
        config.backend.program.display(),
        l1::checksum(book.application.app),
        config.deployments_dir.display(),
        config.data_dir.display(),
    );
    let _ = writeln!(
        out,
        "next: send inputs with cast or the frontend-console, then inspect or query GraphQL (README, \"Walkthrough\")"
    );
}

/// Says on stdout, where "devnode ready" would be, that the node failed before it was ready; its
/// APIs keep answering with the reason.
fn announce_failure(book: &l1::AddressBook, status: &Ready, failure: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", book.render());
    let _ = writeln!(
        out,
        "devnode FAILED: {failure}\n  health       {}\n  GraphQL      {}\n  inspect      {}\n(stop it with Ctrl-C)",
        status.graphql_url.replace("/graphql", "/healthz"),
        status.graphql_url,
        status.inspect_url
    );
}

/// The node's background tasks, aborted when the node stops, however it stops.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Runs the node until `shutdown` fires.
pub async fn run(
    config: NodeConfig,
    listeners: Listeners,
    ready: Option<oneshot::Sender<Ready>>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), NodeError> {
    let started = std::time::Instant::now();
    // One node per data directory; leftovers of a killed node are stopped first.
    let data_dir = config.data_dir.clone();
    let data = tokio::task::spawn_blocking(move || crate::owner::DataDir::acquire(&data_dir))
        .await
        .map_err(|e| NodeError::Failed(format!("cannot take the data directory: {e}")))?;
    let data = Arc::new(data?);
    let store = Arc::new(Store::open(&config.data_dir.join("devnode.sqlite3"))?);
    let health = Health::new();

    // L1: our own anvil (its chain persisted in the data directory) or a given chain.
    let node_modules = NodeModules::new(config.node_modules.clone());
    let (anvil, rpc) = match &config.rpc_url {
        Some(url) => (None, Rpc::new(url)?),
        None => {
            // Anvil mines a block per transaction while the contracts are deployed and switches to
            // the requested interval after (below): deploying at `--block-time` would wait a
            // block interval for every deployment transaction.
            let mut anvil_config = AnvilConfig::new(node_modules.clone(), config.anvil_port);
            anvil_config.state_file = Some(config.data_dir.join("anvil-state.json"));
            let anvil = Anvil::start(&anvil_config).await?;
            data.record_child("anvil", anvil.pid())?;
            let rpc = anvil.rpc();
            (Some(anvil), rpc)
        }
    };
    let book = l1::deploy_devnet(&rpc, &node_modules, config.test_tokens).await?;
    l1::write_deployment_files(&book, &node_modules, &config.deployments_dir)?;
    if let (Some(_), Some(seconds)) = (&anvil, config.block_time) {
        l1::mine_every(&rpc, seconds).await?;
    }

    // Before anything is replayed: drop what L1 no longer has.
    let read_through = Arc::new(AtomicU64::new(0));
    let follow = Follow {
        rpc: rpc.clone(),
        store: store.clone(),
        input_box: book.rollups.input_box,
        app: book.application.app,
        deployment_block: book.application.block_number,
        read_through: read_through.clone(),
    };
    let still_on_l1 = follow.inputs_still_on_l1().await.map_err(|e| match e {
        FollowError::L1(e) => NodeError::L1(e),
        FollowError::Store(e) => NodeError::Store(e),
        FollowError::Stopped => NodeError::Failed("stopped".into()),
    })?;
    if let Some(keep) = still_on_l1 {
        let dropped = store.truncate(keep)?;
        warn_rollback(keep, dropped);
    }

    // Servers first: backends do not retry a rollup API that is not listening yet.
    let api = RollupApi::new(config.finish_timeout);
    let (rollup_address, inspect_address, graphql_address) =
        (listeners.rollup.local_addr()?, listeners.inspect.local_addr()?, listeners.graphql.local_addr()?);
    let Listeners { rollup: rollup_listener, inspect: inspect_listener, graphql: graphql_listener } = listeners;
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut tasks = Tasks(Vec::new());
    let log = |what: &'static str| {
        move |result: std::io::Result<()>| {
            if let Err(e) = result {
                tracing::error!("{what} server stopped: {e}");
            }
        }
    };
    let (inspects, inspect_jobs) = mpsc::channel(crate::inspect::MAX_QUEUED);
    tasks.0.push(tokio::spawn({
        let api = api.clone();
        let stop = stopped(shutdown.clone());
        async move { log("rollup API")(api.serve(rollup_listener, stop).await) }
    }));
    tasks.0.push(tokio::spawn({
        let serving = crate::inspect::serve(inspects, inspect_listener, stopped(shutdown.clone()));
        async move { log("inspect")(serving.await) }
    }));
    tasks.0.push(tokio::spawn({
        let serving = crate::graphql::serve(store.clone(), health.clone(), graphql_listener, stopped(shutdown.clone()));
        async move { log("GraphQL")(serving.await) }
    }));

    // Inputs: stored durably as soon as they are seen on L1, processed in order after.
    let arrived = Arc::new(Notify::new());
    let (rollbacks, rollback_requests) = mpsc::channel(1);
    tasks.0.push(tokio::spawn(follow.run(arrived.clone(), rollbacks, health.clone())));
    let settler = crate::settle::Settler {
        rpc: rpc.clone(),
        store: store.clone(),
        app: book.application.app,
        authority: book.application.authority,
        owner: book.application.owner,
        deployment_block: book.application.block_number,
        epoch_length: config.epoch_length.max(1),
        mode: if config.validate { crate::settle::Mode::Validate } else { crate::settle::Mode::Claim },
        health: health.clone(),
        read_through,
    };
    tasks.0.push(tokio::spawn(settler.run()));

    let rollup_url = format!("http://{rollup_address}");
    let rpc_url = anvil.as_ref().map_or_else(|| config.rpc_url.clone().unwrap_or_default(), |a| a.url().to_string());
    let status = Ready {
        book: book.clone(),
        rpc_url,
        application: Address(book.application.app.0),
        rollup_url: rollup_url.clone(),
        inspect_url: format!("http://{inspect_address}/inspect"),
        graphql_url: format!("http://{graphql_address}/graphql"),
        health: health.clone(),
    };
    let mut supervisor = Supervisor {
        config: config.clone(),
        api,
        store,
        health: health.clone(),
        rollup_url,
        inspects: inspect_jobs,
        rollbacks: rollback_requests,
        arrived,
        processed: Arc::new(AtomicU64::new(0)),
        shutdown,
        failures: Failures::default(),
        announce: Some((book, status, ready)),
        started,
        data: data.clone(),
    };
    let mut anvil = anvil;
    let result = tokio::select! {
        result = supervisor.run() => result,
        exit = async {
            match anvil.as_mut() {
                Some(a) => a.exited().await,
                None => std::future::pending().await,
            }
        } => {
            let why = exit.map_or_else(|e| e.to_string(), |s| s.to_string());
            tracing::error!("anvil exited unexpectedly ({why}); the node stops");
            Err(NodeError::AnvilExited(why))
        }
    };
    drop(supervisor);
    drop(tasks);
    if matches!(result, Err(NodeError::AnvilExited(_))) {
        // Nothing left to save or stop.
        if let Some(anvil) = anvil {
            data.forget_child(anvil.pid());
        }
    } else if let Some(anvil) = anvil {
        let pid = anvil.pid();
        // Saves the chain completely before stopping it.
        anvil.stop().await;
        data.forget_child(pid);
    }
    result
}

fn warn_rollback(keep: u64, dropped: u64) {
    if dropped > 0 {
        tracing::warn!(
            "L1 went back: it no longer has inputs {keep}..={}; dropped them and their outputs, and following the chain L1 has now",
            keep + dropped - 1
        );
    }
}

/// A request from the follower: forget inputs `keep..`, then acknowledge.
#[derive(Debug)]
struct Rollback {
    keep: u64,
    done: oneshot::Sender<()>,
}

/// How long the follower waits between reads of L1 when it has caught up.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long it waits after L1 could not be read.
const L1_RETRY: Duration = Duration::from_secs(1);

/// Reads the application's inputs from L1 into the store, checking that what the store holds is
/// still on L1.
struct Follow {
    rpc: Rpc,
    store: Arc<Store>,
    input_box: l1::Address,
    app: l1::Address,
    deployment_block: u64,
    /// The last L1 block whose inputs are all stored (for the settler).
    read_through: Arc<AtomicU64>,
}

#[derive(Debug, thiserror::Error)]
enum FollowError {
    #[error("{0}")]
    L1(#[from] l1::L1Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the supervisor stopped")]
    Stopped,
}

impl Follow {
    /// Whether L1 still has the input stored at `index`: its block is still the canonical
    /// block at that height.
    async fn on_l1(&self, record: &InputRecord) -> Result<bool, l1::L1Error> {
        Ok(self.rpc.block_hash(record.block_number).await? == Some(H256(record.origin.block_hash)))
    }

    /// `None` when L1 has every stored input; otherwise how many of the first stored inputs it
    /// still has (what to keep). Inputs are on L1 as a prefix: when L1 has input `i`, it has
    /// every input before it, whose blocks are ancestors of `i`'s. So the last input decides,
    /// and a binary search finds the common prefix.
    async fn inputs_still_on_l1(&self) -> Result<Option<u64>, FollowError> {
        let Some(last) = self.store.last_input()? else { return Ok(None) };
        if self.on_l1(&last).await? {
            return Ok(None);
        }
        let (mut low, mut high) = (0, last.index); // input `low - 1` is on L1; input `high` is not
        while low < high {
            let mid = low + (high - low) / 2;
            let record = self.store.input(mid)?.map(|(r, _)| r).ok_or(StoreError::MissingInput { index: mid })?;
            if self.on_l1(&record).await? {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(Some(low))
    }

    /// Where to read from: the block of the last input held (its block may hold more), or the
    /// application's deployment block.
    fn resume_point(&self) -> Result<(u64, u64), StoreError> {
        Ok(match self.store.last_input()? {
            Some(last) => (last.block_number, last.index + 1),
            None => (self.deployment_block, 0),
        })
    }

    async fn run(self, arrived: Arc<Notify>, rollbacks: mpsc::Sender<Rollback>, health: Health) {
        let fail = |e: &dyn std::fmt::Display| {
            tracing::error!("cannot store inputs read from L1: {e}; the node stops processing");
            health.fail(
                format!("cannot store inputs read from L1: {e}"),
                "check the disk and that no other program holds the database, then restart the node",
            );
        };
        let (from, next) = match self.resume_point() {
            Ok(p) => p,
            Err(e) => {
                fail(&e);
                return arrived.notify_one();
            }
        };
        let mut watcher = InputWatcher::new(self.rpc.clone(), self.input_box, self.app, from, next);
        let mut l1_down = false;
        loop {
            match self.step(&mut watcher, &arrived, &rollbacks).await {
                Ok(read_more) => {
                    if l1_down {
                        tracing::info!("L1 answers again");
                        l1_down = false;
                    }
                    if !read_more {
                        tokio::time::sleep(POLL_INTERVAL).await;
                    }
                }
                Err(FollowError::L1(e)) => {
                    if !l1_down {
                        tracing::warn!("cannot read inputs from L1: {e}; retrying every {L1_RETRY:?}");
                        l1_down = true;
                    }
                    tokio::time::sleep(L1_RETRY).await;
                }
                Err(FollowError::Store(e)) => {
                    // The supervisor wakes up, sees the failed phase and stops processing.
                    fail(&e);
                    return arrived.notify_one();
                }
                Err(FollowError::Stopped) => return,
            }
        }
    }

    /// One round: roll back if L1 went back, then store what L1 has beyond what is held.
    /// Returns whether there may be more to read at once.
    async fn step(
        &self,
        watcher: &mut InputWatcher,
        arrived: &Notify,
        rollbacks: &mpsc::Sender<Rollback>,
    ) -> Result<bool, FollowError> {
        if let Some(keep) = self.inputs_still_on_l1().await? {
            let (done, acknowledged) = oneshot::channel();
            rollbacks.send(Rollback { keep, done }).await.map_err(|_| FollowError::Stopped)?;
            acknowledged.await.map_err(|_| FollowError::Stopped)?;
            let (from, next) = self.resume_point()?;
            watcher.reset(from, next);
            self.read_through.store(from.saturating_sub(1), Ordering::Relaxed);
            return Ok(true);
        }
        let events = watcher.poll().await?;
        let read_more = !events.is_empty() || watcher.next_block() <= self.rpc.block_number().await?;
        for event in &events {
            match self.store.add_input(&record_of(event)) {
                Ok(()) => arrived.notify_one(),
                Err(StoreError::Conflict { .. } | StoreError::OutOfOrder { .. }) => {
                    // L1 changed between two reads: check it again from what is stored.
                    let (from, next) = self.resume_point()?;
                    watcher.reset(from, next);
                    return Ok(true);
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.read_through.store(watcher.next_block().saturating_sub(1), Ordering::Relaxed);
        Ok(read_more)
    }
}

/// How a request ended, for messages: the status and the kinds of the outputs.
fn describe_outcome(status: &Status, outputs: &[rollup::wire::Output]) -> String {
    let status = match status {
        Status::Accepted => "ACCEPTED".to_owned(),
        Status::Rejected => "REJECTED".to_owned(),
        Status::Exception(p) => format!("EXCEPTION ({})", String::from_utf8_lossy(&p[..p.len().min(80)])),
    };
    let kinds: Vec<String> = outputs
        .iter()
        .map(|o| {
            let (kind, bytes) = match o {
                rollup::wire::Output::Notice(p) => ("notice", p),
                rollup::wire::Output::Report(p) => ("report", p),
                rollup::wire::Output::Voucher(v) => ("voucher", &v.payload.0),
            };
            // A short digest of each output, so two lists of the same shape still show where they differ.
            let digest = crate::l1::keccak256(bytes);
            format!("{kind} {:.8}", hex::encode(digest.0))
        })
        .collect();
    format!("{status} with [{}]", kinds.join(", "))
}

fn status_of_stored(status: InputStatus) -> Status {
    match status {
        InputStatus::Rejected => Status::Rejected,
        InputStatus::Exception => Status::Exception(vec![]),
        _ => Status::Accepted,
    }
}

/// Consecutive backend failures (exits, hangs) with no request completed in between, after which
/// the node stops: the backend cannot make progress, and restarting it again would only loop.
const MAX_FAILURES_WITHOUT_PROGRESS: u32 = 5;
/// Deaths of the backend while processing one input after which that input is recorded as
/// EXCEPTION: an input that kills every backend is the input's doing, not the host's.
const MAX_DEATHS_PER_INPUT: u32 = 3;
/// The pause before a new backend, growing with consecutive failures.
const RESPAWN_BACKOFF: Duration = Duration::from_millis(200);

/// The crash-loop rule, in one place.
#[derive(Debug, Default)]
struct Failures {
    without_progress: u32,
    /// The input in progress when the backend last died, and how many times it died on it.
    dying_on: Option<(u64, u32)>,
}

impl Failures {
    fn progress(&mut self) {
        self.without_progress = 0;
    }

    /// Counts a backend failure; `input` is the advance in progress, if any. Returns whether the
    /// node should give up.
    fn failed(&mut self, input: Option<u64>) -> bool {
        self.without_progress += 1;
        if let Some(index) = input {
            self.dying_on = match self.dying_on {
                Some((i, n)) if i == index => Some((i, n + 1)),
                _ => Some((index, 1)),
            };
        }
        self.without_progress >= MAX_FAILURES_WITHOUT_PROGRESS
    }

    /// Whether `input` has killed the backend often enough to be recorded as EXCEPTION.
    fn is_fatal_input(&self, input: u64) -> bool {
        matches!(self.dying_on, Some((i, n)) if i == input && n >= MAX_DEATHS_PER_INPUT)
    }

    fn backoff(&self) -> Duration {
        RESPAWN_BACKOFF * self.without_progress.min(10)
    }
}

/// How a request handed to the backend ended.
enum Outcome {
    Done(Completion),
    /// The backend exited or hung; it is gone now.
    Died(String),
    Shutdown,
}

/// Why the supervisor leaves its processing loop.
enum Stop {
    Shutdown,
    /// Start a fresh backend (after a crash or a rollback).
    Respawn,
    Failed,
}

struct Supervisor {
    config: NodeConfig,
    api: RollupApi,
    store: Arc<Store>,
    health: Health,
    rollup_url: String,
    inspects: mpsc::Receiver<crate::inspect::Job>,
    rollbacks: mpsc::Receiver<Rollback>,
    arrived: Arc<Notify>,
    processed: Arc<AtomicU64>,
    shutdown: watch::Receiver<bool>,
    failures: Failures,
    /// What to print and send once the node is ready for the first time.
    announce: Option<(l1::AddressBook, Ready, Option<oneshot::Sender<Ready>>)>,
    /// When `run` began: the readiness block says how long the start took.
    started: std::time::Instant,
    /// The data directory, where each backend's pid is recorded while it runs.
    data: Arc<crate::owner::DataDir>,
}

impl Supervisor {
    async fn run(&mut self) -> Result<(), NodeError> {
        loop {
            if *self.shutdown.borrow() {
                return Ok(());
            }
            let mut backend = self.spawn().await?;
            let stop = match backend.as_mut() {
                Some(b) => match self.replay(b).await {
                    Ok(()) => self.process(b).await,
                    Err(stop) => stop,
                },
                None => Stop::Respawn,
            };
            if let Some(b) = backend {
                let pid = b.pid();
                b.stop().await;
                self.data.forget_child(pid);
            }
            match stop {
                Stop::Shutdown => {
                    return match self.health.failure() {
                        Some(failure) => Err(NodeError::Failed(failure)),
                        None => Ok(()),
                    }
                }
                Stop::Respawn => {
                    tokio::time::sleep(self.failures.backoff()).await;
                }
                Stop::Failed => return self.failed().await,
            }
        }
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    async fn wait_shutdown(shutdown: &mut watch::Receiver<bool>) {
        if shutdown.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Starts a backend on a fresh private URL and waits until it asks for work. `None` when it
    /// died first (counted as a failure); an error when the very first backend cannot start.
    async fn spawn(&mut self) -> Result<Option<Backend>, NodeError> {
        self.health.set(Phase::Starting);
        let prefix = self.api.begin_session()?;
        let mut backend = Backend::spawn(&self.config.backend, &format!("{}{prefix}", self.rollup_url))?;
        if let Err(e) = self.data.record_child("backend", backend.pid()) {
            // It exited already (the wait below says how): there is nothing left to stop later.
            tracing::debug!("{e}");
        }
        let why = tokio::select! {
            () = self.api.greeted() => return Ok(Some(backend)),
            exit = backend.wait() => exit.map_or_else(|e| e.to_string(), |s| s.to_string()),
            () = tokio::time::sleep(self.config.backend_timeout) => {
                format!("it did not call /finish within {:?}", self.config.backend_timeout)
            }
            () = Self::wait_shutdown(&mut self.shutdown) => return Ok(Some(backend)),
        };
        let pid = backend.pid();
        backend.stop().await;
        self.data.forget_child(pid);
        if self.announce.is_some() {
            // Never ready yet: a backend that cannot start is a start error, said once.
            return Err(NodeError::BackendStart { program: self.config.backend.program.display().to_string(), why });
        }
        tracing::warn!("a new backend exited before asking for work ({why})");
        if self.failures.failed(None) {
            self.fail_backend(&why);
        }
        Ok(None)
    }

    fn fail_backend(&self, why: &str) {
        let reason = format!(
            "the backend failed {MAX_FAILURES_WITHOUT_PROGRESS} times in a row without completing a request; last: {why}"
        );
        tracing::error!("{reason}; the node stops processing");
        self.health.fail(reason, "read the backend's messages above, fix the cause, and restart the node");
    }

    /// Hands `request` to the backend and waits for its completion, its death, a hang, or the
    /// node's shutdown.
    async fn execute(&mut self, backend: &mut Backend, request: RollupRequest) -> Outcome {
        let submit = self.api.submit(request);
        tokio::pin!(submit);
        let timeout = self.config.backend_timeout;
        tokio::select! {
            biased;
            done = &mut submit => match done {
                Ok(completion) => Outcome::Done(completion),
                Err(e) => Outcome::Died(e.to_string()),
            },
            exit = backend.wait() => {
                // It may have finished the request just before exiting.
                if let Ok(Ok(completion)) = tokio::time::timeout(Duration::ZERO, &mut submit).await {
                    return Outcome::Done(completion);
                }
                Outcome::Died(exit.map_or_else(|e| format!("the backend was lost: {e}"), |s| format!("the backend exited ({s})")))
            }
            () = tokio::time::sleep(timeout) => {
                backend.kill().await;
                Outcome::Died(format!("the backend neither finished nor exited within {timeout:?} (--backend-timeout); killed it"))
            }
            () = Self::wait_shutdown(&mut self.shutdown) => Outcome::Shutdown,
        }
    }

    /// Rebuilds a fresh backend's ledger from the processed inputs, comparing every status and
    /// output with the stored ones. Inspects wait meanwhile.
    async fn replay(&mut self, backend: &mut Backend) -> Result<(), Stop> {
        let fail_store = |health: &Health, e: StoreError| {
            health.fail(format!("cannot read the database: {e}"), "check the data directory, then restart the node");
            Stop::Failed
        };
        let processed = self.store.processed().map_err(|e| fail_store(&self.health, e))?;
        let total = processed.len() as u64;
        if total > 0 {
            tracing::info!("rebuilding the backend's state from {total} processed inputs");
        }
        for (done, (record, status, outputs)) in processed.into_iter().enumerate() {
            self.health.set(Phase::Replaying { done: done as u64, total });
            if status == InputStatus::Exception {
                // The machine reverts an exception; replaying it would only crash the backend again.
                continue;
            }
            match self.execute(backend, advance_of(&record)).await {
                Outcome::Done(completion) => {
                    self.failures.progress();
                    if status_of(&completion).0 != status || completion.outputs != outputs {
                        let reason = format!(
                            "replaying input {} gave {}, but the node stored {}",
                            record.index,
                            describe_outcome(&completion.status, &completion.outputs),
                            describe_outcome(&status_of_stored(status), &outputs),
                        );
                        tracing::error!("REPLAY MISMATCH: {reason}; the node stops processing");
                        self.health.fail(
                            reason,
                            "the backend is not the one that processed these inputs, or its LEDGER_* settings changed: \
                             restart with the same backend and settings, or start over with a new --data-dir",
                        );
                        return Err(Stop::Failed);
                    }
                }
                Outcome::Died(why) => {
                    tracing::warn!("the backend died replaying input {}: {why}; starting a new one", record.index);
                    if self.failures.failed(None) {
                        self.fail_backend(&why);
                        return Err(Stop::Failed);
                    }
                    return Err(Stop::Respawn);
                }
                Outcome::Shutdown => return Err(Stop::Shutdown),
            }
        }
        self.processed.store(total, Ordering::Relaxed);
        self.health.set(Phase::Ready);
        if let Some((book, status, ready)) = self.announce.take() {
            announce(&book, &status, &self.config, self.started.elapsed());
            if let Some(ready) = ready {
                let _ = ready.send(status);
            }
        }
        Ok(())
    }

    /// The processing loop: inputs in order, inspects between them, rollbacks when asked.
    async fn process(&mut self, backend: &mut Backend) -> Stop {
        loop {
            if self.shutting_down() {
                return Stop::Shutdown;
            }
            if self.health.failure().is_some() {
                return Stop::Failed;
            }
            if let Ok(rollback) = self.rollbacks.try_recv() {
                if let Some(stop) = self.roll_back(rollback) {
                    return stop;
                }
                continue;
            }
            if let Ok(job) = self.inspects.try_recv() {
                if let Some(stop) = self.inspect(backend, job).await {
                    return stop;
                }
            }
            let next = match self.store.next_unprocessed() {
                Ok(next) => next,
                Err(e) => return self.fail_store(&e),
            };
            if let Some(record) = next {
                if let Some(stop) = self.advance(backend, record).await {
                    return stop;
                }
                continue;
            }
            tokio::select! {
                () = self.arrived.notified() => {}
                Some(rollback) = self.rollbacks.recv() => {
                    if let Some(stop) = self.roll_back(rollback) {
                        return stop;
                    }
                }
                Some(job) = self.inspects.recv() => {
                    if let Some(stop) = self.inspect(backend, job).await {
                        return stop;
                    }
                }
                exit = backend.wait() => {
                    let why = exit.map_or_else(|e| e.to_string(), |s| s.to_string());
                    tracing::warn!("the backend exited while idle ({why}); starting a new one");
                    if self.failures.failed(None) {
                        self.fail_backend(&why);
                        return Stop::Failed;
                    }
                    return Stop::Respawn;
                }
                () = Self::wait_shutdown(&mut self.shutdown) => return Stop::Shutdown,
                () = self.health.failed() => return Stop::Failed,
            }
        }
    }

    fn fail_store(&self, e: &StoreError) -> Stop {
        tracing::error!("cannot use the database: {e}; the node stops processing");
        self.health.fail(
            format!("cannot use the database: {e}"),
            "check the disk and that no other program holds the database, then restart the node",
        );
        Stop::Failed
    }

    async fn advance(&mut self, backend: &mut Backend, record: InputRecord) -> Option<Stop> {
        let index = record.index;
        let (completion, died) = match self.execute(backend, advance_of(&record)).await {
            Outcome::Done(completion) => (completion, None),
            Outcome::Died(why) => {
                if self.failures.failed(Some(index)) {
                    self.fail_backend(&why);
                    return Some(Stop::Failed);
                }
                if !self.failures.is_fatal_input(index) {
                    tracing::warn!("{why} while processing input {index}; starting a new backend to process it again");
                    return Some(Stop::Respawn);
                }
                let why = format!("the backend died {MAX_DEATHS_PER_INPUT} times processing this input; last: {why}");
                tracing::warn!("input {index} ends as EXCEPTION: {why}");
                (Completion { status: Status::Exception(why.clone().into_bytes()), outputs: vec![] }, Some(why))
            }
            Outcome::Shutdown => return Some(Stop::Shutdown),
        };
        let (status, exception) = status_of(&completion);
        if let Err(e) = self.store.complete(index, status, exception, &completion.outputs) {
            return Some(self.fail_store(&e));
        }
        self.failures.progress();
        self.processed.fetch_add(1, Ordering::Relaxed);
        tracing::info!(input = index, ?status, outputs = completion.outputs.len(), "input processed");
        died.map(|_| Stop::Respawn)
    }

    async fn inspect(&mut self, backend: &mut Backend, job: crate::inspect::Job) -> Option<Stop> {
        if job.reply.is_closed() {
            return None;
        }
        let request = RollupRequest::InspectState(Inspect { payload: HexBytes(job.payload) });
        match self.execute(backend, request).await {
            Outcome::Done(completion) => {
                self.failures.progress();
                let processed = self.processed.load(Ordering::Relaxed);
                let _ = job.reply.send(Ok(Answer { completion, processed }));
                None
            }
            Outcome::Died(why) => {
                let _ = job.reply.send(Err(Refusal {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: format!("{why} during this inspect; the node starts a new backend: try again"),
                }));
                tracing::warn!("{why} during an inspect; starting a new backend");
                if self.failures.failed(None) {
                    self.fail_backend(&why);
                    return Some(Stop::Failed);
                }
                Some(Stop::Respawn)
            }
            Outcome::Shutdown => Some(Stop::Shutdown),
        }
    }

    /// Forgets the inputs L1 no longer has. A backend that processed any of them is replaced.
    fn roll_back(&mut self, rollback: Rollback) -> Option<Stop> {
        let processed_before = self.processed.load(Ordering::Relaxed);
        let dropped = match self.store.truncate(rollback.keep) {
            Ok(n) => n,
            Err(e) => return Some(self.fail_store(&e)),
        };
        warn_rollback(rollback.keep, dropped);
        let _ = rollback.done.send(());
        if processed_before > rollback.keep {
            self.processed.store(rollback.keep, Ordering::Relaxed);
            tracing::warn!("rebuilding the backend from the {} inputs L1 still has", rollback.keep);
            return Some(Stop::Respawn);
        }
        None
    }

    /// The failed phase: the backend is stopped; inspects are answered with the reason until the
    /// node is stopped, which then exits with it.
    async fn failed(&mut self) -> Result<(), NodeError> {
        let failure = self.health.failure().unwrap_or_else(|| "the dev node stopped processing inputs".into());
        self.rollbacks.close();
        if let Some((book, status, ready)) = self.announce.take() {
            announce_failure(&book, &status, &failure);
            if let Some(ready) = ready {
                let _ = ready.send(status);
            }
        }
        loop {
            tokio::select! {
                Some(job) = self.inspects.recv() => {
                    let _ = job.reply.send(Err(Refusal { status: StatusCode::SERVICE_UNAVAILABLE, message: failure.clone() }));
                }
                () = Self::wait_shutdown(&mut self.shutdown) => return Err(NodeError::Failed(failure)),
            }
        }
    }
}

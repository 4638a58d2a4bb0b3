//! The dev node: L1, storage, the rollup API with the supervised backend, inspect and GraphQL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::Address;
use rollup::wire::{Advance, AdvanceMetadata, HexBytes};
use rollup::RollupRequest;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

use crate::backend::{Backend, BackendCommand};
use crate::l1::{self, Anvil, AnvilConfig, InputEvent, InputWatcher, NodeModules, Rpc};
use crate::rollup_api::{Completion, RollupApi, Status};
use crate::store::{InputRecord, InputStatus, Store};

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
    pub test_tokens: bool,
    pub backend: BackendCommand,
}

/// Why the node stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("L1: {0}")]
    L1(#[from] l1::L1Error),
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {address} for {what}: {source} (is another node running? choose another address with --{flag})")]
    Bind { what: &'static str, flag: &'static str, address: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the backend keeps exiting right after it starts; last: {0}")]
    BackendCrashLoop(String),
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
    }
}

fn status_of(completion: &Completion) -> (InputStatus, Option<&[u8]>) {
    match &completion.status {
        Status::Accepted => (InputStatus::Accepted, None),
        Status::Rejected => (InputStatus::Rejected, None),
        Status::Exception(p) => (InputStatus::Exception, Some(p.as_slice())),
    }
}

/// Submits a request while watching the backend: if it exits first, the request ends as an
/// exception (as a real node marks the input) and `Err` carries the exit.
async fn submit_watching(
    api: &RollupApi,
    backend: &mut Backend,
    request: RollupRequest,
) -> (Completion, Option<String>) {
    let submit = api.submit(request);
    tokio::pin!(submit);
    tokio::select! {
        done = &mut submit => (done.unwrap_or(Completion { status: Status::Exception(b"rollup API closed".to_vec()), outputs: vec![] }), None),
        exit = backend.wait() => {
            let why = match exit {
                Ok(status) => format!("backend exited with {status}"),
                Err(e) => format!("backend lost: {e}"),
            };
            api.abort_current(&why);
            let done = submit.await.unwrap_or(Completion { status: Status::Exception(why.clone().into_bytes()), outputs: vec![] });
            (done, Some(why))
        }
    }
}

/// Prints the address book and the readiness line: the node's results on stdout (logs go to
/// stderr), so scripts can wait for "devnode ready".
#[allow(clippy::print_stdout)]
fn announce(book: &l1::AddressBook, status: &Ready, config: &NodeConfig, rollup_url: &str) {
    println!("{}", book.render());
    println!(
        "devnode ready\n  L1 RPC       {}\n  GraphQL      {}\n  inspect      {}\n  rollup API   {} (backend: {})\n  application  {}\n  deployments  {}/localhost\n  data         {}",
        status.rpc_url,
        status.graphql_url,
        status.inspect_url,
        rollup_url,
        config.backend.program.display(),
        l1::checksum(book.application.app),
        config.deployments_dir.display(),
        config.data_dir.display(),
    );
    println!(
        "next: send inputs with cast or the frontend-console, then inspect or query GraphQL (README, \"Walkthrough\")"
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
    ready: Option<tokio::sync::oneshot::Sender<Ready>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), NodeError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Arc::new(Store::open(&config.data_dir.join("devnode.sqlite3"))?);

    // L1: our own anvil (its chain persisted in the data directory) or a given chain.
    let node_modules = NodeModules::new(config.node_modules.clone());
    let (anvil, rpc) = match &config.rpc_url {
        Some(url) => (None, Rpc::new(url)?),
        None => {
            let mut anvil_config = AnvilConfig::new(node_modules.clone(), config.anvil_port);
            anvil_config.block_time = config.block_time;
            anvil_config.state_file = Some(config.data_dir.join("anvil-state.json"));
            let anvil = Anvil::start(&anvil_config).await?;
            let rpc = anvil.rpc();
            (Some(anvil), rpc)
        }
    };
    let book = l1::deploy_devnet(&rpc, &node_modules, config.test_tokens).await?;
    l1::write_deployment_files(&book, &node_modules, &config.deployments_dir)?;

    // Servers first: backends do not retry a rollup API that is not listening yet.
    let api = RollupApi::new(config.finish_timeout);
    let (rollup_address, inspect_address, graphql_address) =
        (listeners.rollup.local_addr()?, listeners.inspect.local_addr()?, listeners.graphql.local_addr()?);
    let Listeners { rollup: rollup_listener, inspect: inspect_listener, graphql: graphql_listener } = listeners;
    let processed = Arc::new(AtomicU64::new(store.processed_count()?));
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
    tasks.0.push(tokio::spawn({
        let api = api.clone();
        let stop = stopped(shutdown.clone());
        async move { log("rollup API")(api.serve(rollup_listener, stop).await) }
    }));
    tasks.0.push(tokio::spawn({
        let serving =
            crate::inspect::serve(api.clone(), processed.clone(), inspect_listener, stopped(shutdown.clone()));
        async move { log("inspect")(serving.await) }
    }));
    tasks.0.push(tokio::spawn({
        let serving = crate::graphql::serve(
            store.clone(),
            crate::health::Health::new(),
            graphql_listener,
            stopped(shutdown.clone()),
        );
        async move { log("GraphQL")(serving.await) }
    }));

    // Inputs: stored durably as soon as they are seen on L1, processed in order after.
    let arrived = Arc::new(Notify::new());
    let from_block = match store.last_block()? {
        Some(b) => b + 1,
        None => book.application.block_number,
    };
    let mut watcher =
        InputWatcher::new(rpc.clone(), book.rollups.input_box, book.application.app, from_block, store.input_count()?);
    tasks.0.push(tokio::spawn({
        let (store, arrived) = (store.clone(), arrived.clone());
        async move {
            loop {
                match watcher.next().await {
                    Ok(event) => match store.add_input(&record_of(&event)) {
                        Ok(()) => arrived.notify_one(),
                        Err(e) => {
                            tracing::error!("cannot store input {}: {e}", event.index);
                            return;
                        }
                    },
                    Err(e) => {
                        tracing::warn!("reading inputs: {e}; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }));

    let rollup_url = format!("http://{rollup_address}");
    let rpc_url = anvil.as_ref().map_or_else(|| config.rpc_url.clone().unwrap_or_default(), |a| a.url().to_string());
    let status = Ready {
        book: book.clone(),
        rpc_url,
        application: Address(book.application.app.0),
        rollup_url: rollup_url.clone(),
        inspect_url: format!("http://{inspect_address}/inspect"),
        graphql_url: format!("http://{graphql_address}/graphql"),
    };
    announce(&book, &status, &config, &rollup_url);
    if let Some(ready) = ready {
        let _ = ready.send(status);
    }

    let mut quick_exits = 0;
    'backend: loop {
        let started = Instant::now();
        let mut backend = Backend::spawn(&config.backend, &rollup_url)?;
        // A fresh backend has an empty ledger: replay what was processed, comparing outputs.
        for (record, status, outputs) in store.processed()? {
            if status == InputStatus::Exception {
                // The machine reverts an exception; replaying it would only crash the backend again.
                continue;
            }
            let (done, exit) = submit_watching(&api, &mut backend, advance_of(&record)).await;
            if let Some(why) = exit {
                tracing::error!("the backend died replaying input {}: {why}", record.index);
                quick_exits += 1;
                if quick_exits >= 5 {
                    return Err(NodeError::BackendCrashLoop(why));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue 'backend;
            }
            if status_of(&done).0 != status || done.outputs != outputs {
                tracing::error!(
                    "REPLAY MISMATCH at input {}: stored {:?} with {} outputs, replayed {:?} with {} outputs",
                    record.index,
                    status,
                    outputs.len(),
                    done.status,
                    done.outputs.len()
                );
            }
        }
        loop {
            if *shutdown.borrow() {
                backend.stop().await;
                drop(tasks);
                drop(anvil);
                return Ok(());
            }
            let Some(record) = store.next_unprocessed()? else {
                tokio::select! {
                    () = arrived.notified() => {}
                    _ = shutdown.changed() => {}
                    exit = backend.wait() => {
                        let why = exit.map_or_else(|e| e.to_string(), |s| s.to_string());
                        tracing::warn!("backend exited while idle ({why}); restarting");
                        quick_exits = if started.elapsed() < Duration::from_secs(5) { quick_exits + 1 } else { 0 };
                        if quick_exits >= 5 {
                            return Err(NodeError::BackendCrashLoop(why));
                        }
                        continue 'backend;
                    }
                }
                continue;
            };
            let (done, exit) = submit_watching(&api, &mut backend, advance_of(&record)).await;
            let (status, exception) = status_of(&done);
            store.complete(record.index, status, exception, &done.outputs)?;
            processed.store(store.processed_count()?, Ordering::Relaxed);
            tracing::info!(input = record.index, ?status, outputs = done.outputs.len(), "input processed");
            if let Some(why) = exit {
                tracing::warn!("input {} ended as EXCEPTION: {why}; restarting the backend", record.index);
                continue 'backend;
            }
        }
    }
}

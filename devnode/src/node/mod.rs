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

mod announce;
mod failures;
mod follow;
mod supervisor;

use announce::{announce, announce_failure};
use failures::Failures;
use follow::{Follow, FollowError};
use supervisor::Supervisor;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use ledger::Address;
use rollup::wire::{Advance, AdvanceMetadata, HexBytes, Inspect, RollupsVersion};
use rollup::RollupRequest;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::backend::{Backend, BackendCommand};
use crate::health::{Health, Phase};
use crate::inspect::{Answer, Refusal};
use crate::l1::{self, Anvil, AnvilConfig, InputEvent, InputWatcher, NodeModules, Rpc, H256};
use crate::rollup_api::{Completion, RollupApi};
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
    /// Which Rollups the node runs (`--rollups`): v1 (contracts 1.4.5, GraphQL) or v2
    /// (contracts 2.2.0, JSON-RPC).
    pub rollups: RollupsVersion,
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
    /// The Rollups v1 contracts (all zero addresses on a v2 node: see `v2`).
    pub book: l1::AddressBook,
    /// What a Rollups v2 node deployed.
    pub v2: Option<l1::AddressBookV2>,
    /// The JSON-RPC API of a v2 node (`http://<graphql address>/rpc`).
    pub rpc_api_url: Option<String>,
    pub rpc_url: String,
    pub application: Address,
    pub rollup_url: String,
    pub inspect_url: String,
    pub graphql_url: String,
    pub health: Health,
}

/// What a v2 node adds to every advance's metadata.
#[derive(Clone, Copy, Debug)]
pub(super) struct V2Advance {
    chain_id: u64,
    app: Address,
}

/// A Rollups v2 advance: the metadata of the input's `EvmAdvance`.
fn advance_v2_of(record: &InputRecord, v2: V2Advance, prev_randao: Option<[u8; 32]>) -> RollupRequest {
    RollupRequest::AdvanceState(Advance {
        metadata: AdvanceMetadata::v2(
            record.msg_sender,
            record.index,
            record.block_number,
            record.timestamp,
            v2.chain_id,
            v2.app,
            Some(HexBytes(prev_randao.unwrap_or([0; 32]).to_vec())),
        ),
        payload: HexBytes(record.payload.clone()),
    })
}

fn advance_of(record: &InputRecord) -> RollupRequest {
    RollupRequest::AdvanceState(Advance {
        metadata: AdvanceMetadata::v1(record.msg_sender, record.index, record.block_number, record.timestamp),
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
    let (book, v2) = match config.rollups {
        RollupsVersion::V1 => {
            let book = l1::deploy_devnet(&rpc, &node_modules, config.test_tokens).await?;
            l1::write_deployment_files(&book, &node_modules, &config.deployments_dir)?;
            (book, None)
        }
        RollupsVersion::V2 => {
            let epoch_length = config.epoch_length.max(1);
            let v2 = l1::deploy_devnet_v2(&rpc, &node_modules, config.test_tokens, epoch_length).await?;
            l1::write_deployment_files_v2(&v2, &node_modules, &config.deployments_dir)?;
            let book = l1::AddressBook { chain_id: v2.chain_id, rpc_url: v2.rpc_url.clone(), ..Default::default() };
            (book, Some(v2))
        }
    };
    // Where the followed inputs are: the v1 InputBox and application, or v2's.
    let (input_box, app, deployment_block) = match &v2 {
        Some(v2) => (v2.rollups.input_box, v2.application.app, v2.application.block_number),
        None => (book.rollups.input_box, book.application.app, book.application.block_number),
    };
    store.bind_application(Address(app.0))?;
    if let (Some(_), Some(seconds)) = (&anvil, config.block_time) {
        l1::mine_every(&rpc, seconds).await?;
    }

    // Before anything is replayed: drop what L1 no longer has.
    let read_through = Arc::new(AtomicU64::new(0));
    let follow = Follow {
        rpc: rpc.clone(),
        store: store.clone(),
        input_box,
        app,
        deployment_block,
        read_through: read_through.clone(),
        v2: v2.is_some(),
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
    let rollups_json = match &v2 {
        None => serde_json::json!({
            "version": "1.4.5",
            "chainId": book.chain_id,
            "application": l1::checksum(app),
            "applicationName": l1::APPLICATION_NAME,
            "epochLength": config.epoch_length,
            "graphql": format!("http://{graphql_address}/graphql"),
            "inspect": format!("http://{inspect_address}/inspect"),
        }),
        Some(v2) => serde_json::json!({
            "version": "2.2.0",
            "chainId": v2.chain_id,
            "application": l1::checksum(app),
            "applicationName": l1::APPLICATION_NAME,
            "authority": l1::checksum(v2.application.authority),
            "epochLength": v2.application.epoch_length,
            "rpc": format!("http://{graphql_address}/rpc"),
            "inspect": format!("http://{graphql_address}/inspect"),
        }),
    };
    l1::write_rollups_json(&config.deployments_dir, &rollups_json)?;
    let processed = Arc::new(AtomicU64::new(0));
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
    match &v2 {
        None => {
            tasks.0.push(tokio::spawn({
                let serving = crate::inspect::serve(inspects, inspect_listener, stopped(shutdown.clone()));
                async move { log("inspect")(serving.await) }
            }));
            tasks.0.push(tokio::spawn({
                let explorer = crate::explorer::Explorer::new(&crate::explorer::Links {
                    inspect_url: format!("http://{inspect_address}/inspect"),
                    rpc_url: rpc.url().to_string(),
                    application: l1::checksum(book.application.app),
                    backend: match &config.backend.runner {
                        Some(runner) => format!("{} under {runner}", config.backend.program.display()),
                        None => config.backend.program.display().to_string(),
                    },
                });
                let serving = crate::graphql::serve(
                    store.clone(),
                    health.clone(),
                    explorer,
                    graphql_listener,
                    stopped(shutdown.clone()),
                );
                async move { log("GraphQL")(serving.await) }
            }));
        }
        Some(v2) => {
            // A v2 node serves JSON-RPC and v2 inspect, on the reader address and on the
            // inspect address alike; it has no GraphQL (neither has Cartesi's v2 node).
            let state = crate::rpc::State {
                store: store.clone(),
                health: health.clone(),
                inspects,
                book: v2.clone(),
                rpc: rpc.clone(),
                read_through: read_through.clone(),
                processed: processed.clone(),
            };
            for (listener, what) in [(graphql_listener, "JSON-RPC"), (inspect_listener, "inspect")] {
                let serving = crate::rpc::serve(state.clone(), listener, stopped(shutdown.clone()));
                tasks.0.push(tokio::spawn(async move { log(what)(serving.await) }));
            }
        }
    }

    // Inputs: stored durably as soon as they are seen on L1, processed in order after.
    let arrived = Arc::new(Notify::new());
    let (rollbacks, rollback_requests) = mpsc::channel(1);
    tasks.0.push(tokio::spawn(follow.run(arrived.clone(), rollbacks, health.clone())));
    if let Some(v2) = &v2 {
        let settler = crate::settle::v2::SettlerV2 {
            rpc: rpc.clone(),
            store: store.clone(),
            app: v2.application.app,
            authority: v2.application.authority,
            input_box: v2.rollups.input_box,
            owner: v2.application.claimer,
            deployment_block: v2.application.block_number,
            epoch_length: v2.application.epoch_length,
            health: health.clone(),
            read_through: read_through.clone(),
        };
        tasks.0.push(tokio::spawn(settler.run()));
    }
    let settler = crate::settle::Settler {
        rpc: rpc.clone(),
        store: store.clone(),
        app: book.application.app,
        authority: book.application.authority,
        owner: book.application.claimer,
        deployment_block: book.application.block_number,
        epoch_length: config.epoch_length.max(1),
        mode: if config.validate { crate::settle::Mode::Validate } else { crate::settle::Mode::Claim },
        health: health.clone(),
        read_through,
    };
    if v2.is_none() {
        tasks.0.push(tokio::spawn(settler.run()));
    }

    let rollup_url = format!("http://{rollup_address}");
    let rpc_url = anvil.as_ref().map_or_else(|| config.rpc_url.clone().unwrap_or_default(), |a| a.url().to_string());
    let status = Ready {
        book: book.clone(),
        v2: v2.clone(),
        rpc_api_url: v2.as_ref().map(|_| format!("http://{graphql_address}/rpc")),
        rpc_url,
        application: Address(app.0),
        rollup_url: rollup_url.clone(),
        inspect_url: match &v2 {
            Some(_) => format!("http://{graphql_address}/inspect"),
            None => format!("http://{inspect_address}/inspect"),
        },
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
        processed,
        shutdown,
        failures: Failures::default(),
        announce: Some((v2.as_ref().map_or_else(|| book.render(), l1::AddressBookV2::render), status, ready)),
        v2: v2.as_ref().map(|v2| V2Advance { chain_id: v2.chain_id, app: Address(v2.application.app.0) }),
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

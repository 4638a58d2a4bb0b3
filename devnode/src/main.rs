//! `devnode`: the local development node. See `devnode --help`.

#![warn(unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use devnode::backend::BackendCommand;
use devnode::node::{run, Listeners, NodeConfig};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// The local development node: anvil with the Cartesi Rollups v1 contracts, the ledger backend
/// as a supervised host process, and the rollup, inspect and GraphQL APIs of a Rollups v1 node.
#[derive(Debug, Parser)]
#[command(version, about, after_help = TOOLS)]
struct Args {
    /// Where the node keeps its database and anvil's chain state.
    #[arg(long, env = "DEVNODE_DATA_DIR", default_value = ".devnode")]
    data_dir: PathBuf,
    /// Where the console's deployment files are written (`<dir>/localhost/*.json`).
    #[arg(long, env = "DEVNODE_DEPLOYMENTS_DIR", default_value = "deployments")]
    deployments_dir: PathBuf,
    /// The npm packages (anvil, contract artifacts): `npm ci --prefix devnode/npm`.
    #[arg(long, env = "DEVNODE_NODE_MODULES", default_value = "devnode/npm/node_modules")]
    node_modules: PathBuf,
    /// Use this chain instead of starting anvil (the contracts are deployed if missing).
    #[arg(long, env = "DEVNODE_RPC_URL")]
    rpc_url: Option<String>,
    /// Port of the anvil the node starts.
    #[arg(long, env = "DEVNODE_ANVIL_PORT", default_value_t = 8545)]
    anvil_port: u16,
    /// Seconds between anvil blocks (default: a block per transaction). The contracts are deployed
    /// with a block per transaction first; anvil mines at this interval once they are in place.
    #[arg(long, env = "DEVNODE_BLOCK_TIME")]
    block_time: Option<u64>,
    /// The rollup HTTP API the backend long-polls.
    #[arg(long, env = "DEVNODE_ROLLUP_ADDRESS", default_value = "127.0.0.1:5004")]
    rollup_address: SocketAddr,
    /// The inspect API (`/inspect/<payload>`).
    #[arg(long, env = "DEVNODE_INSPECT_ADDRESS", default_value = "127.0.0.1:5005")]
    inspect_address: SocketAddr,
    /// The GraphQL reader API (`/graphql`).
    #[arg(long, env = "DEVNODE_GRAPHQL_ADDRESS", default_value = "127.0.0.1:4000")]
    graphql_address: SocketAddr,
    /// Seconds `/finish` waits before answering 202 (Cartesi's host-runner waits 10).
    #[arg(long, env = "DEVNODE_FINISH_TIMEOUT", default_value_t = 10)]
    finish_timeout: u64,
    /// Seconds a backend may take on one request (or to start) before the node kills it and
    /// handles it as a crash.
    #[arg(long, env = "DEVNODE_BACKEND_TIMEOUT", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    backend_timeout: u64,
    /// The backend binary (default: `dapp` next to this binary).
    #[arg(long, env = "DEVNODE_BACKEND")]
    backend: Option<PathBuf>,
    /// Run the static riscv64 backend (scripts/build-riscv64.sh) under qemu-riscv64-static.
    #[arg(long, env = "DEVNODE_RISCV64")]
    riscv64: bool,
    /// Epoch length in L1 blocks, as Cartesi node v1.5's CARTESI_EPOCH_LENGTH: an epoch closes,
    /// and the node claims it, once L1 is past its last block and its inputs are processed. The
    /// default, 1, makes a withdrawal's voucher executable as soon as its block is sealed (with
    /// anvil's default a block per transaction, an epoch ends with its input's block).
    #[arg(long, env = "DEVNODE_EPOCH_LENGTH", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    epoch_length: u64,
    /// Submit no claims: check each claim another node makes on the chain at --rpc-url against
    /// this node's own epoch hash, and report agreement or the first disagreement.
    #[arg(long, env = "DEVNODE_VALIDATE", requires = "rpc_url")]
    validate: bool,
    /// Which Cartesi Rollups to run: v1 (contracts 1.4.5, GraphQL at /graphql) or v2 (contracts
    /// 2.2.0, JSON-RPC at /rpc and POST /inspect/<application> on the GraphQL address).
    #[arg(long, env = "DEVNODE_ROLLUPS", default_value = "v1")]
    rollups: rollup::wire::RollupsVersion,
    /// Skip deploying the test ERC-20, ERC-721 and ERC-1155 tokens (ours and Cartesi CLI 1.x's).
    #[arg(long, env = "DEVNODE_NO_TEST_TOKENS")]
    no_test_tokens: bool,
}

/// `devnode --help`'s last part: which of Cartesi's tools work against the node, and how. The
/// node prints the same lines, with its own addresses, above "devnode ready".
const TOOLS: &str = "\
Cartesi's tools against the node (defaults shown; anvil's accounts are unlocked):
  cast                cast send --rpc-url http://127.0.0.1:8545 --unlocked --from <account> <contract> '<signature>' <args>
  Cartesi's console   cd frontend-console && yarn start <command> (the rollups-examples console's
                      commands; it reads the deployment files and the node's default ports)
  cartesi send (1.x)  cartesi send erc20 --rpc-url http://127.0.0.1:8545 --chain-id 31337
                        --dapp 0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e
                        --token 0x92C6bcA388E99d6B304f1Af3c3Cd749Ff0b591e2 --amount 1
                        --mnemonic-passphrase \"test test test test test test test test test test test junk\"
                        --mnemonic-index 0
                      (approve the ERC20Portal first; CLI 1.5.0 takes the devnet mnemonic in
                      --mnemonic-passphrase and asks for a wallet without it; also ether,
                      erc721, generic)

The test tokens include those of Cartesi CLI 1.x's devnet, at its addresses, minted to the first
10 devnet accounts: TestToken 0x92C6bcA388E99d6B304f1Af3c3Cd749Ff0b591e2, TestNFT
0xc6582A9b48F211Fa8c2B5b16CB615eC39bcA653B (id i to account i), TestMultiToken
0x04d724738873CB6a86328D2EbAEb2079D715e61e (1,000 of id 0 each).

The node's claims come from its claimer, devnet account 9
(0xa0Ee7A142d267C1f36714E4a8F75612F20a79720), which owns the application's Authority: send your
own transactions from any other account, so that they never race the node's for a nonce.";

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|t| t.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO).with_target("anvil", LevelFilter::WARN));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();

    let backend = match (&args.backend, args.riscv64) {
        (Some(path), riscv64) => BackendCommand {
            program: path.clone(),
            args: vec![],
            runner: riscv64.then(|| "qemu-riscv64-static".into()),
            env: vec![],
        },
        (None, true) => BackendCommand {
            program: PathBuf::from("target/cross/riscv64gc-unknown-linux-gnu/release/dapp"),
            args: vec![],
            runner: Some("qemu-riscv64-static".into()),
            env: vec![],
        },
        (None, false) => {
            let beside = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("dapp")));
            BackendCommand {
                program: beside.unwrap_or_else(|| PathBuf::from("dapp")),
                args: vec![],
                runner: None,
                env: vec![],
            }
        }
    };
    let config = NodeConfig {
        data_dir: args.data_dir,
        deployments_dir: args.deployments_dir,
        node_modules: args.node_modules,
        rpc_url: args.rpc_url,
        anvil_port: args.anvil_port,
        block_time: args.block_time,
        finish_timeout: Duration::from_secs(args.finish_timeout),
        backend_timeout: Duration::from_secs(args.backend_timeout),
        test_tokens: !args.no_test_tokens,
        backend,
        epoch_length: args.epoch_length,
        validate: args.validate,
        rollups: args.rollups,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devnode: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Ctrl-C or SIGTERM stops the node cleanly (the input in progress finishes or is left for
        // the next start, anvil's chain is saved); a second one exits at once (the children die
        // with the node, and the next start resumes from what is stored).
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::spawn(async move {
            let mut signals = 0;
            loop {
                tokio::select! {
                    r = tokio::signal::ctrl_c() => if r.is_err() { return },
                    s = terminate.recv() => if s.is_none() { return },
                }
                signals += 1;
                if signals == 1 {
                    eprintln!("devnode: stopping (again to exit at once)");
                    let _ = stop.send(true);
                } else {
                    eprintln!("devnode: exiting now");
                    std::process::exit(130);
                }
            }
        });
        let listeners = Listeners::bind(args.rollup_address, args.inspect_address, args.graphql_address).await?;
        run(config, listeners, None, stopped).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devnode: {e}");
            ExitCode::FAILURE
        }
    }
}

//! Running anvil as a child process.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::artifacts::NodeModules;
use super::error::L1Error;
use super::rpc::Rpc;

/// How long anvil may take to print its address and then to answer; it takes ~0.1 s here.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

/// How to run anvil.
#[derive(Clone, Debug)]
pub struct AnvilConfig {
    pub node_modules: NodeModules,
    /// Port on 127.0.0.1; 0 lets the system pick a free one (anvil prints which).
    pub port: u16,
    /// Seconds between blocks; `None` mines one block per transaction.
    pub block_time: Option<u64>,
    /// Keep the chain in this file: loaded at start if it exists, written every second, so a
    /// restarted node finds its chain even after a crash.
    pub state_file: Option<std::path::PathBuf>,
}

impl AnvilConfig {
    pub fn new(node_modules: NodeModules, port: u16) -> AnvilConfig {
        AnvilConfig { node_modules, port, block_time: None, state_file: None }
    }
}

/// A running anvil, killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    port: u16,
    rpc: Rpc,
}

impl Anvil {
    /// Spawns anvil on 127.0.0.1, reads the port it listens on from its banner, and returns once
    /// `eth_chainId` answers.
    pub async fn start(config: &AnvilConfig) -> Result<Anvil, L1Error> {
        config.node_modules.check()?;
        let path = config.node_modules.anvil_binary();
        let mut command = Command::new(&path);
        command.args(["--host", "127.0.0.1", "--port", &config.port.to_string()]);
        if let Some(seconds) = config.block_time {
            command.args(["--block-time", &seconds.to_string()]);
        }
        if let Some(state) = &config.state_file {
            command.arg("--state").arg(state).args(["--state-interval", "1"]);
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| L1Error::Spawn { path: path.clone(), source })?;
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(L1Error::AnvilExited { stderr: "no pipes to the child".into() });
        };
        let mut lines = BufReader::new(stdout).lines();

        // The banner ends with `Listening on 127.0.0.1:<port>`; with `--port 0` it is the only way
        // to learn the port without racing another process for it.
        let banner = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line.strip_prefix("Listening on ").and_then(|a| a.rsplit(':').next()) {
                    return port.trim().parse::<u16>().ok();
                }
            }
            None
        };
        let port = match tokio::time::timeout(START_TIMEOUT, banner).await {
            Ok(Some(port)) => port,
            Ok(None) => {
                let mut text = String::new();
                let _ = tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut text)).await;
                return Err(L1Error::AnvilExited { stderr: text.trim().to_owned() });
            }
            Err(_) => return Err(L1Error::AnvilTimeout { what: "print its address", timeout: START_TIMEOUT }),
        };
        // Anvil logs every request and transaction; keep draining both pipes so that it never
        // blocks on a full pipe, and pass the lines on at debug level.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "anvil", "{line}");
            }
        });
        tokio::spawn(drain(stderr));

        let rpc = Rpc::new(&format!("http://127.0.0.1:{port}"))?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            match rpc.chain_id().await {
                Ok(chain_id) => {
                    tracing::info!(port, chain_id, "anvil is up");
                    return Ok(Anvil { child, port, rpc });
                }
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    tracing::warn!("anvil does not answer: {e}");
                    return Err(L1Error::AnvilTimeout { what: "answer eth_chainId", timeout: START_TIMEOUT });
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> &str {
        self.rpc.url()
    }

    pub fn rpc(&self) -> Rpc {
        self.rpc.clone()
    }

    /// Stops anvil now and waits for it to exit (dropping also stops it, without waiting).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn drain(pipe: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::warn!(target: "anvil", "{line}");
    }
}

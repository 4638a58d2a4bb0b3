//! The backend as a supervised child process.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};

use tokio::process::{Child, Command};

/// How to start the backend: the native binary, or another build under a runner such as
/// `qemu-riscv64-static`.
#[derive(Clone, Debug)]
pub struct BackendCommand {
    pub program: PathBuf,
    /// Arguments after the program.
    pub args: Vec<String>,
    pub runner: Option<String>,
    /// Extra environment for the backend (its LEDGER_* settings, RUST_LOG).
    pub env: Vec<(String, String)>,
}

/// A running backend, killed when dropped.
#[derive(Debug)]
pub struct Backend {
    child: Child,
    pid: u32,
}

impl Backend {
    /// Starts the backend pointed at the rollup API. Cartesi's backends do not retry when the
    /// rollup API is not listening yet, so the caller starts the API first.
    ///
    /// The backend is spawned with [`crate::owner::own`], so it dies with the node: call this from
    /// async code on the runtime, not from `spawn_blocking` (see `own`).
    pub fn spawn(command: &BackendCommand, rollup_url: &str) -> std::io::Result<Backend> {
        if !command.program.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "backend binary {} not found (build it: cargo build --release -p dapp)",
                    command.program.display()
                ),
            ));
        }
        let mut cmd = match &command.runner {
            Some(runner) => {
                let mut c = Command::new(runner);
                c.arg(&command.program);
                c
            }
            None => Command::new(&command.program),
        };
        cmd.args(&command.args)
            .env("ROLLUP_HTTP_SERVER_URL", rollup_url)
            .envs(command.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        crate::owner::own(&mut cmd);
        let child = cmd.spawn()?;
        let pid = child.id().unwrap_or_default();
        Ok(Backend { child, pid })
    }

    /// The process id, for [`crate::owner::DataDir::record_child`]. With a runner, the runner's:
    /// the backend runs in the runner's process group, which a leftover check stops as a whole.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for the backend to exit.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Kills the backend and waits for it to exit.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

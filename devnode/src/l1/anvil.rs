//! Running anvil as a child process, and keeping its chain in a file.
//!
//! Anvil could write the state file itself (`--state <file> --state-interval 1`), but it writes
//! in place: a kill in the middle of a write leaves a truncated file that the next start cannot
//! load. The node saves the chain instead: it asks anvil for a dump (`anvil_dumpState`, gzip of
//! JSON), inflates it to the JSON that `anvil --load-state` reads, and replaces the file
//! atomically, every second when the chain has changed, when asked ([`Anvil::save_state`]) and
//! before stopping anvil ([`Anvil::stop`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::artifacts::NodeModules;
use super::error::L1Error;
use super::rpc::Rpc;

/// How long anvil may take to print its address and then to answer; it takes ~0.1 s here.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);
/// How often the chain is saved when it has changed: the most a crash of the whole machine can
/// lose. A clean stop loses nothing.
const SAVE_INTERVAL: Duration = Duration::from_secs(1);
/// The largest inflated state accepted from anvil (a bound against a runaway dump).
const MAX_STATE_BYTES: u64 = 1 << 30;

/// How to run anvil.
#[derive(Clone, Debug)]
pub struct AnvilConfig {
    pub node_modules: NodeModules,
    /// Port on 127.0.0.1; 0 lets the system pick a free one (anvil prints which).
    pub port: u16,
    /// Seconds between blocks; `None` mines one block per transaction.
    pub block_time: Option<u64>,
    /// Keep the chain in this file (anvil's JSON state): loaded at start if it exists, replaced
    /// atomically every second when the chain changed and on [`Anvil::stop`], so a restarted node
    /// finds its chain even after a crash.
    pub state_file: Option<PathBuf>,
}

impl AnvilConfig {
    pub fn new(node_modules: NodeModules, port: u16) -> AnvilConfig {
        AnvilConfig { node_modules, port, block_time: None, state_file: None }
    }
}

/// A running anvil, killed when dropped (without a final save: use [`Anvil::stop`]).
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    pid: u32,
    port: u16,
    rpc: Rpc,
    saving: Option<Saving>,
}

impl Anvil {
    /// Spawns anvil on 127.0.0.1 (loading the state file if there is one), reads the port it
    /// listens on from its banner, and returns once `eth_chainId` answers.
    ///
    /// Anvil is spawned with [`crate::owner::own`]: call this from async code on the runtime, not
    /// from `spawn_blocking`.
    pub async fn start(config: &AnvilConfig) -> Result<Anvil, L1Error> {
        config.node_modules.check()?;
        let path = config.node_modules.anvil_binary();
        let mut command = Command::new(&path);
        command.args(["--host", "127.0.0.1", "--port", &config.port.to_string()]);
        if let Some(seconds) = config.block_time {
            command.args(["--block-time", &seconds.to_string()]);
        }
        let load = config.state_file.as_deref().filter(|file| file.exists());
        if let Some(file) = load {
            command.arg("--load-state").arg(file);
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        crate::owner::own(&mut command);
        let mut child = command.spawn().map_err(|source| L1Error::Spawn { path: path.clone(), source })?;
        let pid = child.id().unwrap_or_default();
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
                return Err(start_failure(&path, config.port, load, text.trim()));
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
                    break;
                }
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    tracing::warn!("anvil does not answer: {e}");
                    return Err(L1Error::AnvilTimeout { what: "answer eth_chainId", timeout: START_TIMEOUT });
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
        let mut anvil = Anvil { child, pid, port, rpc, saving: None };
        if let Some(file) = &config.state_file {
            let saver = Arc::new(StateSaver::new(anvil.rpc.clone(), file.clone()));
            // What was just loaded is what the file holds: no need to write it again.
            if load.is_some() {
                *saver.last.lock().await = head(&anvil.rpc).await.ok();
            }
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(keep_saving(saver.clone(), stopped));
            anvil.saving = Some(Saving { saver, stop, task });
        }
        Ok(anvil)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, for [`crate::owner::DataDir::record_child`].
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn url(&self) -> &str {
        self.rpc.url()
    }

    pub fn rpc(&self) -> Rpc {
        self.rpc.clone()
    }

    /// Saves the chain to the state file now (whether or not it changed), atomically. Does nothing
    /// without a state file.
    pub async fn save_state(&self) -> Result<(), L1Error> {
        match &self.saving {
            Some(saving) => saving.saver.save_consistent().await,
            None => Ok(()),
        }
    }

    /// Resolves when anvil exits, however it exits, so the node can notice it dying.
    pub async fn exited(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Saves the chain completely (when there is a state file), then stops anvil and waits for it
    /// to exit. A failed save is logged: anvil is stopped anyway, and the file keeps the last
    /// complete save. [`Anvil::try_stop`] returns that error instead.
    pub async fn stop(self) {
        if let Err(e) = self.try_stop().await {
            tracing::error!("cannot save anvil's chain before stopping it: {e}");
        }
    }

    /// As [`Anvil::stop`], returning the error of the final save (anvil is stopped either way).
    pub(crate) async fn try_stop(mut self) -> Result<(), L1Error> {
        let mut saved = Ok(());
        if let Some(mut saving) = self.saving.take() {
            // Let a save in progress finish, so that the last write is the final one.
            let _ = saving.stop.send(true);
            let _ = (&mut saving.task).await;
            saved = saving.saver.save_consistent().await;
        }
        let _ = self.child.kill().await;
        saved
    }
}

/// Turns anvil's early exit into an error that names what to fix.
fn start_failure(binary: &Path, port: u16, loaded: Option<&Path>, stderr: &str) -> L1Error {
    if let Some(file) = loaded.filter(|_| stderr.contains("--load-state")) {
        let reason = format!(
            "the chain state file {} cannot be loaded (anvil says: {}); move it away to start a fresh chain \
             (for example: mv {0} {0}.bad)",
            file.display(),
            first_line(stderr)
        );
        return L1Error::Spawn { path: binary.to_owned(), source: std::io::Error::other(reason) };
    }
    if stderr.contains("Address already in use") {
        return L1Error::AnvilExited {
            stderr: format!(
                "port {port} on 127.0.0.1 is already in use; stop what listens there or choose another --anvil-port \
                 (anvil says: {})",
                first_line(stderr)
            ),
        };
    }
    L1Error::AnvilExited { stderr: stderr.to_owned() }
}

fn first_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(text)
}

async fn drain(pipe: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::warn!(target: "anvil", "{line}");
    }
}

/// The periodic saver, stopped by [`Anvil::stop`] and aborted when the `Anvil` is dropped.
#[derive(Debug)]
struct Saving {
    saver: Arc<StateSaver>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Saving {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The chain's head: number and hash of the latest block.
type Head = (u64, String);

async fn head(rpc: &Rpc) -> Result<Head, L1Error> {
    const M: &str = "eth_getBlockByNumber";
    let block = rpc.call(M, json!(["latest", false])).await?;
    let bad = |reason: &str| L1Error::BadResponse { method: M.into(), reason: reason.into() };
    let number = block.get("number").and_then(Value::as_str).and_then(|n| n.strip_prefix("0x"));
    let number = number.and_then(|n| u64::from_str_radix(n, 16).ok()).ok_or_else(|| bad("no block number"))?;
    let hash = block.get("hash").and_then(Value::as_str).ok_or_else(|| bad("no block hash"))?;
    Ok((number, hash.to_owned()))
}

/// How many dumps a final save tries before it gives up on a chain that keeps moving.
const CONSISTENT_SAVE_TRIES: u32 = 50;

#[derive(Debug)]
struct StateSaver {
    rpc: Rpc,
    file: PathBuf,
    /// The head of the last saved chain. Held across a save, so saves do not interleave.
    last: tokio::sync::Mutex<Option<Head>>,
    /// The number of the last dump written. A write runs on the blocking pool and goes on when
    /// the save that started it is cancelled; this keeps an older dump from replacing a newer one.
    written: Arc<std::sync::Mutex<u64>>,
    dumps: std::sync::atomic::AtomicU64,
}

impl StateSaver {
    fn new(rpc: Rpc, file: PathBuf) -> StateSaver {
        StateSaver {
            rpc,
            file,
            last: tokio::sync::Mutex::new(None),
            written: Arc::new(std::sync::Mutex::new(0)),
            dumps: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Saves the chain if its head moved since the last save, or always with `force` (state
    /// changed without a block, such as `anvil_setCode`, shows only that way).
    /// Returns whether the file now holds the chain as of a head the dump agrees with (false:
    /// the chain moved during the dump, try again).
    async fn save(&self, force: bool) -> Result<bool, L1Error> {
        let mut last = self.last.lock().await;
        let now = head(&self.rpc).await?;
        if !force && last.as_ref() == Some(&now) {
            return Ok(true);
        }
        // A dump is not atomic with mining: taken while a block is being mined, it can hold the
        // block's transactions' effects without the block (an input counted by the InputBox
        // without its log). Only a dump with the same head before and after is kept; a busy
        // chain is saved at the next tick.
        let dump = self.rpc.call("anvil_dumpState", json!([])).await?;
        if head(&self.rpc).await? != now {
            tracing::debug!("the chain moved during the dump; saving it again");
            return Ok(false);
        }
        let bad = |reason: String| L1Error::BadResponse { method: "anvil_dumpState".into(), reason };
        let hex = dump.as_str().and_then(|s| s.strip_prefix("0x")).ok_or_else(|| bad("not a hex string".into()))?;
        let gzip = hex::decode(hex).map_err(|e| bad(format!("bad hex: {e}")))?;
        let number = self.dumps.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let (file, written) = (self.file.clone(), self.written.clone());
        let write = tokio::task::spawn_blocking(move || -> Result<(), L1Error> {
            let json = inflate(&gzip).map_err(|e| bad(format!("not gzip: {e}")))?;
            let mut written = written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *written < number {
                crate::owner::write_atomically(&file, &json)
                    .map_err(|source| L1Error::Write { path: file.clone(), source })?;
                *written = number;
            }
            Ok(())
        });
        match write.await {
            Ok(result) => result?,
            Err(e) => return Err(L1Error::Write { path: self.file.clone(), source: std::io::Error::other(e) }),
        }
        tracing::debug!(block = now.0, "saved anvil's chain");
        *last = Some(now);
        Ok(true)
    }

    /// Saves until a dump agrees with the head (a chain that keeps moving is given a bounded
    /// number of tries).
    async fn save_consistent(&self) -> Result<(), L1Error> {
        for _ in 0..CONSISTENT_SAVE_TRIES {
            if self.save(true).await? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(L1Error::BadResponse {
            method: "anvil_dumpState".into(),
            reason: format!(
                "the chain kept moving during {CONSISTENT_SAVE_TRIES} dumps; the last consistent save is kept"
            ),
        })
    }
}

fn inflate(gzip: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gzip).take(MAX_STATE_BYTES).read_to_end(&mut json)?;
    Ok(json)
}

async fn keep_saving(saver: Arc<StateSaver>, mut stop: watch::Receiver<bool>) {
    let mut failing = false;
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => return,
            () = tokio::time::sleep(SAVE_INTERVAL) => {}
        }
        match saver.save(false).await {
            Ok(_) => failing = false,
            // Logged once per failing streak: a dead anvil would otherwise log every second.
            Err(e) if !failing => {
                tracing::warn!("cannot save anvil's chain to {}: {e}", saver.file.display());
                failing = true;
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_anvil_refuses_is_named_with_anvil_s_reason() {
        let stderr = "error: invalid value 'x.json' for '--load-state <PATH>': failed to parse json file: \
                      \"x.json\": EOF while parsing a string at line 1 column 1000\n\nFor more information, try '--help'.";
        let error = start_failure(Path::new("/bin/anvil"), 8545, Some(Path::new("/d/x.json")), stderr).to_string();
        assert!(error.contains("/d/x.json"), "{error}");
        assert!(error.contains("EOF while parsing"), "{error}");
        assert!(error.contains("move it away"), "{error}");
        assert!(!error.contains("is the port taken"), "{error}");
    }

    #[test]
    fn a_taken_port_names_the_port_and_the_flag() {
        let error = start_failure(Path::new("/bin/anvil"), 8545, None, "Error: Address already in use (os error 98)");
        let error = error.to_string();
        assert!(error.contains("port 8545") && error.contains("--anvil-port"), "{error}");
    }

    #[test]
    fn inflate_reads_gzip_and_refuses_other_bytes() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"{\"block\":1}").unwrap_or_else(|e| panic!("{e}"));
        let gzip = encoder.finish().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(inflate(&gzip).unwrap_or_default(), b"{\"block\":1}");
        assert!(inflate(b"{\"block\":1}").is_err());
        assert!(inflate(&gzip[..gzip.len() / 2]).is_err());
    }
}

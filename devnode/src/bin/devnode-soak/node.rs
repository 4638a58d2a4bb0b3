//! A node as a child process: started with its flags, stopped, or killed with SIGKILL.

use super::*;

#[derive(Clone, Debug)]
pub(crate) struct Urls {
    pub(crate) rpc: String,
    pub(crate) graphql: String,
    pub(crate) inspect: String,
}

/// How to start one of the two nodes.
#[derive(Debug)]
pub(crate) struct NodeSpec {
    pub(crate) name: &'static str,
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    pub(crate) marker: String,
    pub(crate) logs: PathBuf,
}

#[derive(Debug)]
pub(crate) struct NodeProc {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    pub(crate) urls: Urls,
    pub(crate) stderr_log: PathBuf,
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The value after `label` on a line of the readiness block (its first word).
pub(crate) fn labelled(line: &str, label: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(label)?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    rest.split_whitespace().next().map(str::to_owned)
}

/// Starts a node and waits for its readiness block. With `kill_at`, kills it that long after the
/// start if it is not ready by then, and returns `None`.
pub(crate) async fn start_node(
    spec: &NodeSpec,
    run: u64,
    kill_at: Option<Duration>,
) -> Result<Option<NodeProc>, String> {
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
    pub(crate) async fn kill9(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGINT (the node's clean stop), then SIGKILL after STOP_TIMEOUT. Returns whether the node
    /// stopped by itself.
    pub(crate) async fn stop(&mut self) -> bool {
        let _ = std::process::Command::new("kill").args(["-INT", &self.pid.to_string()]).status();
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            self.kill9().await;
            return false;
        }
        true
    }

    /// `Some(status)` if the node has exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }
}

/// Waits until no process carrying `marker` is left; kills and names those still there after
/// CHILDREN_GONE_TIMEOUT. Returns how many had to be killed.
pub(crate) async fn wait_children_gone(marker: &str) -> u64 {
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
pub(crate) async fn find_backend(node_pid: u32, marker: &str, backend: &Path) -> Option<u32> {
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

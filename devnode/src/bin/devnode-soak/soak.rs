//! The soak itself: a node killed and restarted along the stream, then an uninterrupted node
//! on the same chain to compare with.

use super::*;

pub(crate) fn beside_exe(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    Ok(exe.parent().map_or_else(|| PathBuf::from(name), |d| d.join(name)))
}

pub(crate) fn find_node_modules() -> Option<PathBuf> {
    let starts = [std::env::current_exe().ok(), std::env::current_dir().ok()];
    starts.into_iter().flatten().find_map(|start| {
        start.ancestors().map(|a| a.join("devnode/npm/node_modules")).find(|p| p.join("@foundry-rs").is_dir())
    })
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

pub(crate) fn node_args(
    data: &Path,
    deployments: &Path,
    node_modules: &Path,
    backend: &Path,
) -> Result<Vec<OsString>, String> {
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
pub(crate) fn application(deployments: &Path) -> Result<(Address, u64), String> {
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
pub(crate) fn schedule(prng: &mut Prng, count: u64, n: u64) -> Vec<u64> {
    let n = n.max(1);
    (0..count)
        .map(|i| {
            let (start, end) = (i * n / count, ((i + 1) * n / count).max(i * n / count + 1));
            1 + start + prng.below(end - start)
        })
        .collect()
}

pub(crate) struct Soak {
    /// When the node was killed (SIGKILL mid-stream): L1 may lose what was sent just before.
    pub(crate) kills: Vec<Instant>,
    /// The soaked node's data directory (anvil's state file).
    pub(crate) data_dir: PathBuf,
    /// Delays and kills while starting; the input stream has its own generator.
    pub(crate) timing: Prng,
    pub(crate) spec: NodeSpec,
    pub(crate) backend: PathBuf,
    pub(crate) node: NodeProc,
    pub(crate) runs: u64,
    pub(crate) figures: Figures,
}

impl Soak {
    /// Restarts the node after it went (killed or by itself): waits for its children first. Now
    /// and then the new node is killed again while it starts (loading anvil's state, deploying,
    /// replaying), and started once more.
    pub(crate) async fn restart(&mut self) -> Result<(), String> {
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
    pub(crate) async fn wait_saved(&self, since: std::time::SystemTime) {
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
    pub(crate) async fn kill_node(
        &mut self,
        delay: Duration,
        last_sent: Option<std::time::SystemTime>,
    ) -> Result<(), String> {
        if let (true, Some(sent)) = (self.timing.percent(50), last_sent) {
            self.wait_saved(sent).await;
        }
        tokio::time::sleep(delay).await;
        if self.check_exited() {
            return self.restart().await;
        }
        self.node.kill9().await;
        self.kills.push(Instant::now());
        self.figures.restarts += 1;
        self.restart().await
    }

    /// Kills the backend after `delay`; half of the time instead as soon as the node has stored
    /// the last input sent (`last_index`), so that the kill is likely to land while the backend
    /// processes it.
    pub(crate) async fn kill_backend(&mut self, delay: Duration, last_index: Option<u64>) -> Result<(), String> {
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
    pub(crate) async fn clean_restart(
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
    pub(crate) async fn node_is_processing(&self) -> bool {
        matches!(progress(&self.node.urls.graphql).await, Ok((total, processed)) if processed < total)
    }

    /// Counts and reports a node that stopped without being killed.
    pub(crate) fn check_exited(&mut self) -> bool {
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

pub(crate) async fn soak(args: Args) -> Result<Figures, String> {
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
        kills: Vec::new(),
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
    let mut sent_at: HashMap<H256, Instant> = HashMap::new();
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
        sent_at.extend(added_inputs.iter().map(|i| (i.transaction, Instant::now())));
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
    // The node saves anvil's chain every second: an input L1 dropped must have been sent shortly
    // before a kill of the node.
    let on_chain: std::collections::HashSet<H256> = chain.iter().map(|i| i.transaction).collect();
    for input in sent.iter().filter(|i| !on_chain.contains(&i.transaction)) {
        let Some(at) = sent_at.get(&input.transaction) else { continue };
        let kill = run.kills.iter().find(|k| **k >= *at);
        if kill.is_none_or(|k| k.duration_since(*at) > SAVE_SLACK) {
            run.figures.dropped_unexplained += 1;
            eprintln!(
                "devnode-soak: L1 dropped an input sent at index {} {}",
                input.index,
                kill.map_or("with no kill of the node after it".into(), |k| format!(
                    "{:.1} s before the next kill of the node",
                    k.duration_since(*at).as_secs_f64()
                ))
            );
        }
    }
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

//! The supervisor: the only one that talks to the backend, one request at a time, in explicit
//! phases, with one crash rule.

use super::failures::{MAX_DEATHS_PER_INPUT, MAX_FAILURES_WITHOUT_PROGRESS};
use super::follow::Rollback;
use super::*;

/// How a request ended, for messages: the status (with an exception's first bytes) and the kinds
/// of the outputs.
fn describe_outcome(status: InputStatus, exception: Option<&[u8]>, outputs: &[rollup::wire::Output]) -> String {
    let mut status = status.name(rollup::RollupsVersion::V1).to_owned();
    if let Some(p) = exception {
        status = format!("{status} ({})", String::from_utf8_lossy(&p[..p.len().min(80)]));
    }
    let kinds: Vec<String> = outputs
        .iter()
        .map(|o| {
            let bytes = match o {
                rollup::wire::Output::Notice(p) | rollup::wire::Output::Report(p) => p,
                rollup::wire::Output::Voucher(v) => &v.payload.0,
                rollup::wire::Output::DelegateCallVoucher(v) => &v.payload.0,
            };
            // A short digest of each output, so two lists of the same shape still show where they differ.
            let digest = crate::l1::keccak256(bytes);
            format!("{} {:.8}", o.kind().name(), hex::encode(digest.0))
        })
        .collect();
    format!("{status} with [{}]", kinds.join(", "))
}

/// A request queued in the rollup API: its completion.
type Queued =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Completion, crate::rollup_api::Closed>> + Send>>;

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

pub(super) struct Supervisor {
    pub(super) config: NodeConfig,
    pub(super) api: RollupApi,
    pub(super) store: Arc<Store>,
    pub(super) health: Health,
    pub(super) rollup_url: String,
    pub(super) inspects: mpsc::Receiver<crate::inspect::Job>,
    pub(super) rollbacks: mpsc::Receiver<Rollback>,
    pub(super) arrived: Arc<Notify>,
    pub(super) processed: Arc<AtomicU64>,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) failures: Failures,
    /// What to print and send once the node is ready for the first time.
    pub(super) announce: Option<(String, Ready, Option<oneshot::Sender<Ready>>)>,
    /// Rollups v2: the advances' extra metadata (and outputs numbered globally).
    pub(super) v2: Option<V2Advance>,
    /// When `run` began: the readiness block says how long the start took.
    pub(super) started: std::time::Instant,
    /// The data directory, where each backend's pid is recorded while it runs.
    pub(super) data: Arc<crate::owner::DataDir>,
}

impl Supervisor {
    pub(super) async fn run(&mut self) -> Result<(), NodeError> {
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
    /// The request that advances `record`, with the global index of its first output in v2.
    fn request_of(&self, record: &InputRecord) -> Result<(RollupRequest, Option<u64>), StoreError> {
        Ok(match self.v2 {
            None => (advance_of(record), None),
            Some(v2) => (
                advance_v2_of(record, v2, self.store.prev_randao(record.index)?),
                Some(self.store.outputs_before(record.index)?),
            ),
        })
    }

    /// Queues the advance of `record` in the rollup API (see [`RollupApi::queue`]).
    fn queue_record(&self, record: &InputRecord) -> Result<Queued, StoreError> {
        let (request, first_output) = self.request_of(record)?;
        Ok(Box::pin(self.api.queue(request, first_output)))
    }

    async fn execute(&mut self, backend: &mut Backend, request: RollupRequest) -> Outcome {
        let submit = self.api.queue(request, None);
        self.wait_for(backend, submit).await
    }

    /// Waits for a queued request's completion, the backend's death, a hang, or the node's
    /// shutdown.
    async fn wait_for(
        &mut self,
        backend: &mut Backend,
        submit: impl std::future::Future<Output = Result<Completion, crate::rollup_api::Closed>>,
    ) -> Outcome {
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
        let processed = self.store.processed().map_err(|e| self.fail_store(&e))?;
        let total = processed.len() as u64;
        if total > 0 {
            tracing::info!("rebuilding the backend's state from {total} processed inputs");
        }
        // The machine reverts an exception; replaying it would only crash the backend again.
        let mut inputs =
            processed.into_iter().enumerate().filter(|(_, (_, status, _))| *status != InputStatus::Exception);
        // One request stays queued ahead of the one in progress, so the backend's `/finish` gets
        // the next input at once; a respawn or a failure drops whatever is still queued.
        // Every output before an input is stored, so a v2 advance's first output index is known.
        let mut next = match inputs.next() {
            Some(input) => Some((self.queue_record(&input.1 .0).map_err(|e| self.fail_store(&e))?, input)),
            None => None,
        };
        while let Some((queued, (done, (record, status, outputs)))) = next.take() {
            next = match inputs.next() {
                Some(input) => Some((self.queue_record(&input.1 .0).map_err(|e| self.fail_store(&e))?, input)),
                None => None,
            };
            self.health.set(Phase::Replaying { done: done as u64, total });
            match self.wait_for(backend, queued).await {
                Outcome::Done(completion) => {
                    self.failures.progress();
                    if completion.status != status || completion.outputs != outputs {
                        let reason = format!(
                            "replaying input {} gave {}, but the node stored {}",
                            record.index,
                            describe_outcome(completion.status, completion.exception.as_deref(), &completion.outputs),
                            describe_outcome(status, None, &outputs),
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
        // The stored input queued behind the one in progress, so that the backend's `/finish`
        // gets it at once while this loop stores the previous completion. A completion is still
        // reported (stored) only when it is complete, so a kill loses nothing; a respawn's new
        // session drops what is queued.
        let mut ahead: Option<(InputRecord, Queued)> = None;
        loop {
            if self.shutting_down() {
                return Stop::Shutdown;
            }
            if self.health.failure().is_some() {
                return Stop::Failed;
            }
            // Rollbacks and inspects wait until no input is queued: they see every input the
            // backend took completed and counted.
            if ahead.is_none() {
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
            }
            let next = match ahead.take() {
                Some(queued) => Some(queued),
                None => match self.store.next_unprocessed() {
                    Ok(Some(record)) => match self.queue_record(&record) {
                        Ok(queued) => Some((record, queued)),
                        Err(e) => return self.fail_store(&e),
                    },
                    Ok(None) => None,
                    Err(e) => return self.fail_store(&e),
                },
            };
            if let Some((record, queued)) = next {
                // Not in v2: an advance's first output index counts the outputs of every input
                // before it, which are known only once the one in progress is complete.
                if self.v2.is_none() && self.rollbacks.is_empty() && self.inspects.is_empty() {
                    let following = match self.store.input(record.index + 1) {
                        Ok(Some((following, InputStatus::Unprocessed))) => Some(following),
                        Ok(_) => None,
                        Err(e) => return self.fail_store(&e),
                    };
                    if let Some(following) = following {
                        match self.queue_record(&following) {
                            Ok(queued) => ahead = Some((following, queued)),
                            Err(e) => return self.fail_store(&e),
                        }
                    }
                }
                if let Some(stop) = self.advance(backend, record, queued).await {
                    return stop;
                }
                continue;
            }
            // A failure or a shutdown comes first: an inspect that arrives after the node failed
            // must not be served by the backend of a failed node, whichever woke this loop.
            tokio::select! {
                biased;
                () = Self::wait_shutdown(&mut self.shutdown) => return Stop::Shutdown,
                () = self.health.failed() => return Stop::Failed,
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

    async fn advance(&mut self, backend: &mut Backend, record: InputRecord, queued: Queued) -> Option<Stop> {
        let index = record.index;
        let (completion, died) = match self.wait_for(backend, queued).await {
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
                let exception = Some(why.clone().into_bytes());
                (Completion { status: InputStatus::Exception, exception, outputs: vec![] }, Some(why))
            }
            Outcome::Shutdown => return Some(Stop::Shutdown),
        };
        let status = completion.status;
        if let Err(e) = self.store.complete(index, status, completion.exception.as_deref(), &completion.outputs) {
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

//! The follower: reads the application's inputs from L1 into the store and asks for a rollback
//! when L1 no longer has what the store holds.

use super::*;

/// A request from the follower: forget inputs `keep..`, then acknowledge.
#[derive(Debug)]
pub(super) struct Rollback {
    pub(super) keep: u64,
    pub(super) done: oneshot::Sender<()>,
}

/// How long the follower waits between reads of L1 when it has caught up.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// A gap in the InputBox's logs seen this many times in a row (a second apart) is not a node
/// catching up but an inconsistent chain: the node fails rather than wait for ever.
const MAX_GAPS: u32 = 10;
/// How long it waits after L1 could not be read.
const L1_RETRY: Duration = Duration::from_secs(1);

/// Reads the application's inputs from L1 into the store, checking that what the store holds is
/// still on L1.
pub(super) struct Follow {
    pub(super) rpc: Rpc,
    pub(super) store: Arc<Store>,
    pub(super) input_box: l1::Address,
    pub(super) app: l1::Address,
    pub(super) deployment_block: u64,
    /// The last L1 block whose inputs are all stored (for the settler).
    pub(super) read_through: Arc<AtomicU64>,
    /// Reads the Rollups v2 InputBox.
    pub(super) v2: bool,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum FollowError {
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
    pub(super) async fn inputs_still_on_l1(&self) -> Result<Option<u64>, FollowError> {
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

    pub(super) async fn run(self, arrived: Arc<Notify>, rollbacks: mpsc::Sender<Rollback>, health: Health) {
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
        if self.v2 {
            watcher = watcher.rollups_v2();
        }
        let mut l1_down = false;
        // Consecutive reads that found a gap in the InputBox's logs.
        let mut gaps = 0;
        loop {
            match self.step(&mut watcher, &arrived, &rollbacks).await {
                Ok(read_more) => {
                    gaps = 0;
                    if l1_down {
                        tracing::info!("L1 answers again");
                        l1_down = false;
                    }
                    if !read_more {
                        tokio::time::sleep(POLL_INTERVAL).await;
                    }
                }
                Err(FollowError::L1(l1::L1Error::InputGap { expected, found })) if gaps + 1 >= MAX_GAPS => {
                    let reason = format!(
                        "L1 is inconsistent: its InputBox has input {expected} of the application but no InputAdded \
                         log for it (the next log is input {found})"
                    );
                    tracing::error!("{reason}; the node stops processing");
                    health.fail(
                        reason,
                        "the chain was probably restored from an incomplete save: start over with a fresh chain \
                         (remove the data directory), or point --rpc-url at a consistent chain",
                    );
                    return arrived.notify_one();
                }
                Err(FollowError::L1(e)) => {
                    gaps = if matches!(e, l1::L1Error::InputGap { .. }) { gaps + 1 } else { 0 };
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
        let latest = self.rpc.block_number().await?;
        let read_more = !events.is_empty() || watcher.next_block() <= latest;
        for event in &events {
            let stored = match event.prev_randao {
                Some(randao) => self.store.add_input_v2(&record_of(event), randao.0),
                None => self.store.add_input(&record_of(event)),
            };
            match stored {
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
        if latest < watcher.next_block().saturating_sub(1) {
            // L1 went back past blocks already read, but not past any input held (those would
            // have rolled back above): read again from the last input held, as after a
            // rollback, since new blocks may already stand where the lost ones were. Epochs
            // that ended in the lost blocks are open again until L1 passes their end once more.
            let (from, next) = self.resume_point()?;
            watcher.reset(from, next);
        }
        self.read_through.store(watcher.next_block().saturating_sub(1).min(latest), Ordering::Relaxed);
        Ok(read_more)
    }
}

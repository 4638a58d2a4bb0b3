//! The supervisor's crash rule: how many backend failures without progress stop the node, how
//! many deaths on one input make that input an EXCEPTION, and the pause before a new backend.

use std::time::Duration;

/// Consecutive backend failures (exits, hangs) with no request completed in between, after which
/// the node stops: the backend cannot make progress, and restarting it again would only loop.
pub(super) const MAX_FAILURES_WITHOUT_PROGRESS: u32 = 5;
/// Deaths of the backend while processing one input after which that input is recorded as
/// EXCEPTION: an input that kills every backend is the input's doing, not the host's.
pub(super) const MAX_DEATHS_PER_INPUT: u32 = 3;
/// The pause before a new backend, growing with consecutive failures.
const RESPAWN_BACKOFF: Duration = Duration::from_millis(200);

/// The crash-loop rule, in one place.
#[derive(Debug, Default)]
pub(super) struct Failures {
    pub(super) without_progress: u32,
    /// The input in progress when the backend last died, and how many times it died on it.
    pub(super) dying_on: Option<(u64, u32)>,
}

impl Failures {
    pub(super) fn progress(&mut self) {
        self.without_progress = 0;
    }

    /// Counts a backend failure; `input` is the advance in progress, if any. Returns whether the
    /// node should give up.
    pub(super) fn failed(&mut self, input: Option<u64>) -> bool {
        self.without_progress += 1;
        if let Some(index) = input {
            self.dying_on = match self.dying_on {
                Some((i, n)) if i == index => Some((i, n + 1)),
                _ => Some((index, 1)),
            };
        }
        self.without_progress >= MAX_FAILURES_WITHOUT_PROGRESS
    }

    /// Whether `input` has killed the backend often enough to be recorded as EXCEPTION.
    pub(super) fn is_fatal_input(&self, input: u64) -> bool {
        matches!(self.dying_on, Some((i, n)) if i == input && n >= MAX_DEATHS_PER_INPUT)
    }

    pub(super) fn backoff(&self) -> Duration {
        RESPAWN_BACKOFF * self.without_progress.min(10)
    }
}

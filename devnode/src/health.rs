//! What the node is doing, as its readiness endpoint and its APIs report it.
//!
//! The supervisor sets the phase; the servers read it. A node in the `Failed` phase has stopped
//! processing because it knows its state could be wrong (a replay that disagrees with what it
//! stored, a store it cannot write, an L1 it cannot follow): every API says so, with the reason
//! and what to do, instead of serving stale or contradictory data.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// The node's phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// L1 and the backend are being started.
    Starting,
    /// A fresh backend is rebuilding the ledger from the processed inputs; inspects wait.
    Replaying { done: u64, total: u64 },
    /// Following L1 and processing inputs.
    Ready,
    /// Stopped processing: `reason` says why, `hint` what to do.
    Failed { reason: String, hint: String },
}

impl Phase {
    /// The one-word name used in the readiness endpoint.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Replaying { .. } => "replaying",
            Phase::Ready => "ready",
            Phase::Failed { .. } => "failed",
        }
    }
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// Epochs and claims, as the settler last described them.
    settlement: Option<Value>,
}

/// A shared, cheap-to-clone view of the node's phase.
#[derive(Clone, Debug)]
pub struct Health(Arc<Mutex<Inner>>, Arc<tokio::sync::Notify>);

impl Default for Health {
    fn default() -> Health {
        Health::new()
    }
}

impl Health {
    pub fn new() -> Health {
        Health(
            Arc::new(Mutex::new(Inner { phase: Phase::Starting, settlement: None })),
            Arc::new(tokio::sync::Notify::new()),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The phase is a plain value: a panic elsewhere cannot leave it half-written.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn phase(&self) -> Phase {
        self.lock().phase.clone()
    }

    /// Sets the phase. A failed node stays failed: only a restart clears it.
    pub fn set(&self, phase: Phase) {
        let mut current = self.lock();
        if !matches!(current.phase, Phase::Failed { .. }) {
            current.phase = phase;
        }
    }

    /// Replaces the settlement part of the readiness answer.
    pub(crate) fn set_settlement(&self, settlement: Value) {
        self.lock().settlement = Some(settlement);
    }

    /// Puts the node in the failed phase (the first failure is the one kept).
    pub fn fail(&self, reason: impl Into<String>, hint: impl Into<String>) {
        self.set(Phase::Failed { reason: reason.into(), hint: hint.into() });
        self.1.notify_waiters();
    }

    /// Resolves once the node has failed.
    pub async fn failed(&self) {
        loop {
            let notified = self.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.failure().is_some() {
                return;
            }
            notified.await;
        }
    }

    /// The failure as one sentence for error messages, when the node has failed.
    pub fn failure(&self) -> Option<String> {
        match &self.lock().phase {
            Phase::Failed { reason, hint } => {
                Some(format!("the dev node stopped processing inputs: {reason} ({hint})"))
            }
            _ => None,
        }
    }

    /// The readiness endpoint's JSON body.
    pub fn to_json(&self) -> Value {
        let inner = self.lock();
        let mut answer = match &inner.phase {
            Phase::Failed { reason, hint } => json!({"status": "failed", "reason": reason, "hint": hint}),
            Phase::Replaying { done, total } => json!({"status": "replaying", "replayed": done, "total": total}),
            phase => json!({"status": phase.name()}),
        };
        if let (Some(settlement), Some(map)) = (&inner.settlement, answer.as_object_mut()) {
            map.insert("settlement".into(), settlement.clone());
        }
        answer
    }

    /// Whether the node is following L1 and processing inputs.
    pub fn is_ready(&self) -> bool {
        self.lock().phase == Phase::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_node_stays_failed_and_says_why() {
        let health = Health::new();
        assert_eq!(health.to_json(), json!({"status": "starting"}));
        health.set(Phase::Ready);
        assert!(health.is_ready() && health.failure().is_none());
        health.fail("replay of input 3 differs", "restart with the same LEDGER_* settings");
        health.set(Phase::Ready);
        health.fail("another failure", "ignored");
        assert!(!health.is_ready());
        assert_eq!(
            health.failure().as_deref(),
            Some("the dev node stopped processing inputs: replay of input 3 differs (restart with the same LEDGER_* settings)")
        );
        assert_eq!(health.to_json()["reason"], "replay of input 3 differs");
    }
}

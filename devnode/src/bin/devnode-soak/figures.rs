//! What a soak measures, and the table it prints.

#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub(crate) seed: u64,
    pub(crate) restarts: u64,
    /// Of `restarts`, kills of a node that was not ready yet.
    pub(crate) restarts_while_starting: u64,
    pub(crate) backend_kills: u64,
    /// Of `backend_kills`, those made while the node had inputs to process.
    pub(crate) backend_kills_processing: u64,
    /// Clean stops (SIGINT) and restarts, besides the kills.
    pub(crate) clean_stops: u64,
    /// Clean stops that needed SIGKILL after STOP_TIMEOUT.
    pub(crate) clean_stop_timeouts: u64,
    /// Inputs L1 had before a clean stop and not after the restart.
    pub(crate) dropped_after_clean_stop: u64,
    /// Inspects sent as the backend was killed, answered with an error status, or not at all.
    pub(crate) inspects_refused: u64,
    pub(crate) inspects_unanswered: u64,
    /// Inputs whose transaction got a receipt with an `InputAdded`.
    pub(crate) sent: u64,
    pub(crate) on_l1: u64,
    /// Sent with a receipt, then gone from L1 (anvil lost its last state after a kill).
    pub(crate) dropped_by_l1: u64,
    /// Of `dropped_by_l1`, inputs sent longer than SAVE_SLACK before the next kill, or with none.
    pub(crate) dropped_unexplained: u64,
    /// On L1 but not sent by this run (a bug of the soak itself if ever non-zero).
    pub(crate) unknown_on_l1: u64,
    pub(crate) stored: u64,
    pub(crate) lost: u64,
    pub(crate) duplicated: u64,
    /// Whether the InputBox's count matches its InputAdded logs (indices 0, 1, … without gaps).
    pub(crate) l1_consistent: bool,
    /// L1 inputs the reference node does not hold either.
    pub(crate) missing_at_reference: u64,
    /// Held by the node, on L1 at no index.
    pub(crate) stale: u64,
    pub(crate) mismatched: u64,
    /// Processes of a killed node still alive after CHILDREN_GONE_TIMEOUT (then killed here).
    pub(crate) left_behind: u64,
    /// Times the node stopped without being killed.
    pub(crate) unplanned_exits: u64,
    pub(crate) roots_equal: bool,
    /// Claims the soaked node made, and how many of them the reference (a validator) checked.
    pub(crate) claims: Option<(u64, u64)>,
    pub(crate) claim_disagreements: u64,
    pub(crate) soak_root: String,
    pub(crate) reference_root: String,
    pub(crate) seconds: u64,
}

impl Figures {
    pub(crate) fn passed(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.stale == 0
            && self.mismatched == 0
            && self.left_behind == 0
            && self.unplanned_exits == 0
            && self.unknown_on_l1 == 0
            && self.roots_equal
            && self.l1_consistent
            && self.missing_at_reference == 0
            && self.claim_disagreements == 0
            && self.clean_stop_timeouts == 0
            && self.inspects_unanswered == 0
            && self.dropped_after_clean_stop == 0
            && self.dropped_unexplained == 0
    }
}

#[allow(clippy::print_stdout)]
pub(crate) fn print_table(f: &Figures) {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let rows: Vec<(&str, String)> = vec![
        ("seed", f.seed.to_string()),
        ("node restarts (kill -9)", f.restarts.to_string()),
        ("  of which while starting", f.restarts_while_starting.to_string()),
        ("backend kills (kill -9)", f.backend_kills.to_string()),
        ("  of which with inputs to process", f.backend_kills_processing.to_string()),
        ("  inspects refused meanwhile", f.inspects_refused.to_string()),
        ("  inspects unanswered meanwhile", f.inspects_unanswered.to_string()),
        ("clean stops (SIGINT)", f.clean_stops.to_string()),
        ("  not stopped in time (killed)", f.clean_stop_timeouts.to_string()),
        ("  inputs L1 lost in a clean stop", f.dropped_after_clean_stop.to_string()),
        ("inputs sent on L1 (receipts)", f.sent.to_string()),
        ("inputs on L1 at the end", f.on_l1.to_string()),
        ("dropped by L1 itself", f.dropped_by_l1.to_string()),
        ("  of which sent >3 s before a kill", f.dropped_unexplained.to_string()),
        ("on L1, not sent by the soak", f.unknown_on_l1.to_string()),
        ("L1 count equals its logs", yes_no(f.l1_consistent).to_string()),
        ("stored by the node", f.stored.to_string()),
        ("lost", f.lost.to_string()),
        ("  not at the reference either", f.missing_at_reference.to_string()),
        ("duplicated", f.duplicated.to_string()),
        ("stale (not on L1)", f.stale.to_string()),
        ("mismatched outputs/statuses", f.mismatched.to_string()),
        ("children left after a kill", f.left_behind.to_string()),
        ("node stopped by itself", f.unplanned_exits.to_string()),
        ("state roots equal", yes_no(f.roots_equal).to_string()),
        ("claims made by the soaked node", f.claims.map_or("n/a".into(), |c| c.0.to_string())),
        ("  checked by the reference", f.claims.map_or("n/a".into(), |c| c.1.to_string())),
        ("claim disagreements", f.claim_disagreements.to_string()),
        ("wall time (s)", f.seconds.to_string()),
    ];
    println!("devnode soak");
    for (label, value) in rows {
        println!("  {label:<34} {value:>8}");
    }
    println!("  soaked node state root       {}", f.soak_root);
    println!("  reference node state root    {}", f.reference_root);
    println!("result: {}", if f.passed() { "PASS" } else { "FAIL" });
}

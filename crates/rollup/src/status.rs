//! Where an input is in its life, one type for every place that keeps or shows it.

/// The status of an input, from stored to processed. The dev node's store, its rollup API (how
/// the backend ended a request) and its reader API (`CompletionStatus`) all use this type.
///
/// Cartesi's schemas list more statuses (`MACHINE_HALTED`, `CYCLE_LIMIT_EXCEEDED`,
/// `TIME_LIMIT_EXCEEDED`, `PAYLOAD_LENGTH_LIMIT_EXCEEDED`, and in v2 `OUTPUTS_LIMIT_EXCEEDED`):
/// only a Cartesi Machine ends an input that way, and a backend running as a host process never
/// does, so they are left out until something produces them. Each would be a variant here,
/// named by [`InputStatus::name`] like the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStatus {
    /// Stored and not yet processed: v1's `UNPROCESSED`, v2's `NONE`.
    Unprocessed,
    /// The backend finished with `accept`: all of its outputs count.
    Accepted,
    /// The backend finished with `reject`: only its reports count.
    Rejected,
    /// The backend raised an exception, or died processing the input: only its reports count.
    Exception,
}

impl InputStatus {
    /// The name both Rollups versions give a processed input (`ACCEPTED`, …); an unprocessed one
    /// is `UNPROCESSED` in v1 and `NONE` in v2.
    pub fn name(self, version: crate::RollupsVersion) -> &'static str {
        match (self, version) {
            (InputStatus::Unprocessed, crate::RollupsVersion::V1) => "UNPROCESSED",
            (InputStatus::Unprocessed, crate::RollupsVersion::V2) => "NONE",
            (InputStatus::Accepted, _) => "ACCEPTED",
            (InputStatus::Rejected, _) => "REJECTED",
            (InputStatus::Exception, _) => "EXCEPTION",
        }
    }

    /// Whether the input's vouchers and notices count; its reports always do.
    pub fn keeps_outputs(self) -> bool {
        self == InputStatus::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RollupsVersion;

    #[test]
    fn names_follow_each_rollups_version() {
        assert_eq!(InputStatus::Unprocessed.name(RollupsVersion::V1), "UNPROCESSED");
        assert_eq!(InputStatus::Unprocessed.name(RollupsVersion::V2), "NONE");
        assert_eq!(InputStatus::Exception.name(RollupsVersion::V2), "EXCEPTION");
        assert!(InputStatus::Accepted.keeps_outputs());
        assert!(!InputStatus::Rejected.keeps_outputs());
    }
}

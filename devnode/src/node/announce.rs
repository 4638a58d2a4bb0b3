//! What the node prints on stdout once it is ready, or once it failed before being ready: its
//! results (the address book, the URLs), while logs go to stderr.

use std::time::Duration;

use super::{NodeConfig, Ready};
use crate::l1;

/// Prints the address book and the readiness line: the node's results on stdout (logs go to
/// stderr), so scripts can wait for "devnode ready". A closed stdout (`devnode | head`) is not
/// the node's concern: what cannot be printed is dropped.
pub(super) fn announce(book: &str, status: &Ready, config: &NodeConfig, ready_in: Duration) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{book}");
    if status.rpc_api_url.is_some() {
        let _ =
            writeln!(out, "Rollups v2: inspect with POST {}/ledger (or /<application address>)", status.inspect_url);
    }
    let _ = writeln!(
        out,
        "devnode ready in {:.1} s\n  L1 RPC       {}\n  {}\n  inspect      {}\n  health       {}\n  rollup API   {} (the backend's only, under a secret path; backend {})\n  application  {}\n  deployments  {}/localhost\n  data         {}",
        ready_in.as_secs_f64(),
        status.rpc_url,
        match &status.rpc_api_url {
            Some(rpc) => format!("JSON-RPC     {rpc}"),
            // The explorer reads GraphQL and v1 inspect: a v1 node serves it beside its reader.
            None => format!(
                "GraphQL      {}\n  explorer     {}",
                status.graphql_url,
                status.graphql_url.replace("/graphql", crate::explorer::PATH)
            ),
        },
        status.inspect_url,
        status.graphql_url.replace("/graphql", "/healthz"),
        status.rollup_url,
        config.backend.program.display(),
        l1::checksum(l1::Address::from(status.application.0)),
        config.deployments_dir.display(),
        config.data_dir.display(),
    );
    let _ = writeln!(
        out,
        "next: send inputs with cast or the frontend-console, then inspect or query GraphQL (README, \"Walkthrough\")"
    );
}

/// Says on stdout, where "devnode ready" would be, that the node failed before it was ready; its
/// APIs keep answering with the reason.
pub(super) fn announce_failure(book: &str, status: &Ready, failure: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{book}");
    let _ = writeln!(
        out,
        "devnode FAILED: {failure}\n  health       {}\n  GraphQL      {}\n  inspect      {}\n(stop it with Ctrl-C)",
        status.graphql_url.replace("/graphql", "/healthz"),
        status.graphql_url,
        status.inspect_url
    );
}

//! The one error type of the L1 boundary.

use std::path::PathBuf;
use std::time::Duration;

use ethabi::ethereum_types::{Address, H256};

/// Everything that can go wrong between the dev node and the chain or its toolchain.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The npm packages are not installed; the message says how to install them.
    #[error("{what} not found at {path}: run `npm ci --prefix devnode/npm`")]
    ToolchainMissing { what: &'static str, path: PathBuf },
    #[error("cannot read the artifact {path}: {reason}")]
    Artifact { path: PathBuf, reason: String },
    #[error("cannot start anvil ({path}): {source}")]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("anvil stopped before listening (is the port taken?): {stderr}")]
    AnvilExited { stderr: String },
    #[error("anvil did not {what} within {timeout:?}")]
    AnvilTimeout { what: &'static str, timeout: Duration },
    #[error("bad JSON-RPC URL {url:?}: {reason}")]
    BadUrl { url: String, reason: &'static str },
    #[error("JSON-RPC {method} to {url}: {reason}")]
    Transport { url: String, method: String, reason: String },
    #[error("JSON-RPC {method} failed with {code}: {message}")]
    Rpc { method: String, code: i64, message: String },
    #[error("unexpected answer to JSON-RPC {method}: {reason}")]
    BadResponse { method: String, reason: String },
    #[error("transaction {hash:?} ({what}) reverted")]
    Reverted { what: String, hash: H256 },
    #[error("no receipt for transaction {hash:?} ({what}) after {timeout:?}")]
    ReceiptTimeout { what: String, hash: H256, timeout: Duration },
    /// The artifact's initcode does not hash to the canonical address, or the deployment left no
    /// code there: the package version or the recipe is wrong.
    #[error("{name}: expected at the canonical address {expected:?}, {reason}")]
    WrongAddress { name: String, expected: Address, reason: String },
    #[error("the CREATE2 proxy at {0:?} has no code: this chain is not anvil, or it was reset without it")]
    NoCreate2Proxy(Address),
    #[error("{what} has no code at {address:?} after deployment")]
    NotDeployed { what: String, address: Address },
    /// ethabi's error, in its `Debug` form: without ethabi's `std` feature it has no `Display`.
    #[error("ABI decoding of {what}: {reason}")]
    Abi { what: &'static str, reason: String },
    #[error("malformed InputAdded log in block {block}: {reason}")]
    BadInputLog { block: u64, reason: String },
    #[error("InputAdded index {found} where {expected} was expected: inputs were missed or repeated")]
    InputGap { expected: u64, found: u64 },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

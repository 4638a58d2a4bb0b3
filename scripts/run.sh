#!/usr/bin/env bash
# Sets everything up on Debian 12 (apt packages, the dev node's npm packages), builds the backend
# and the dev node, and starts the node: anvil with the Rollups v1 contracts, the ledger backend,
# GraphQL on :4000, inspect on :5005. Arguments go to the node (`scripts/run.sh --help`);
# `scripts/run.sh --rollups v2` runs Rollups v2 (contracts 2.2.0, JSON-RPC on :4000/rpc).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p dapp -p devnode >&2
exec target/release/devnode "$@"

#!/usr/bin/env bash
# Runs every test: formatting and lints (Rust and the console's type check, eslint and prettier),
# the packaging checks, the workspace tests (unit, golden, model, byte-exact, end-to-end with the
# native backend, a quick benchmark smoke run, the fuzz corpus replay), a check that the fuzz
# targets compile, the console's unit tests and its end-to-end test against a running dev node,
# then the backend's end-to-end test with the static riscv64 backend under qemu-user, whose
# transcripts must be byte-identical to the native ones, on the scripted streams and on a
# generated stream of 1,000 mixed requests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH" # where setup puts yarn 1 when it was missing

step() { printf '\n== %s\n' "$*" >&2; }

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
(cd frontend-console && yarn -s typecheck && yarn -s lint)

step "console unit tests"
(cd frontend-console && yarn -s test)

step "packaging for the real Cartesi stack (compose, hadolint, bake)"
scripts/check-packaging.sh

step "workspace tests (native)"
native=$(mktemp -d)
riscv=$(mktemp -d)
trap 'rm -rf "$native" "$riscv"' EXIT
E2E_TRANSCRIPT_DIR="$native" cargo test --workspace --all-targets --locked

# The fuzz crate is a workspace of its own (libFuzzer needs nightly flags to run). CI checks that
# its targets compile, on stable; the committed corpus replays through the same invariant checks
# in the workspace tests above (dapp/tests/it/corpus.rs), which is far cheaper than building and
# running the sanitized targets. Campaigns: README.md, "Fuzzing".
step "fuzz targets compile"
cargo check --manifest-path fuzz/Cargo.toml --bins --locked

step "console end-to-end against the dev node"
cargo build --workspace --bins --locked
(cd frontend-console && DEVNODE_BIN="$PWD/../target/debug/devnode" yarn -s test:e2e)

step "explorer in headless Chromium against the dev node"
(cd frontend-console && DEVNODE_BIN="$PWD/../target/debug/devnode" yarn -s test:browser)

step "riscv64 backend"
bin=$(scripts/build-riscv64.sh)

step "end-to-end with the riscv64 backend under qemu-riscv64-static"
DAPP_BIN="$bin" DAPP_RUNNER=qemu-riscv64-static E2E_TRANSCRIPT_DIR="$riscv" \
  cargo test --workspace --test it --locked e2e

step "native and riscv64 transcripts are byte-identical"
count=0
for f in "$native"/*.out; do
  cmp "$f" "$riscv/$(basename "$f")"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "no transcripts were written" >&2; exit 1; }
echo "$count transcripts identical" >&2

# The same comparison at scale, on a generated 1,000-request stream; the native side is the debug
# build above, so its rates are no measure of the riscv64 cost (README, "riscv64").
step "determinism: a generated stream, native and riscv64"
NATIVE_BIN=target/debug/dapp RISCV64_BIN="$bin" scripts/determinism.sh 1000
step "all tests passed"

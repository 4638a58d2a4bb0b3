#!/usr/bin/env bash
# Determinism at scale: generates a stream of N mixed requests (every portal's deposits,
# transfers and withdrawals in JSON and ABI form, mines, rejections, inspects; see
# dapp/tests/it/determinism.rs), runs it through the native backend and through the riscv64
# backend under qemu-riscv64-static, and requires byte-identical transcripts (every output, every
# status, the state roots). Prints both rates and their ratio: the cost of emulated riscv64.
#
#   scripts/determinism.sh [N] [SEED]     (default 1000 requests, seed 1)
#
# NATIVE_BIN: the native backend (default: built with cargo build --release -p dapp).
# RISCV64_BIN: the riscv64 backend (default: built with scripts/build-riscv64.sh).
# Up to 10,000 requests the native run is also compared with the library in-process.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-1000}
seed=${2:-1}
target=${CARGO_TARGET_DIR:-target}

if [ -z "${NATIVE_BIN:-}" ]; then
  cargo build --release --locked -p dapp >&2
  NATIVE_BIN="$target/release/dapp"
fi
if ! command -v qemu-riscv64-static >/dev/null; then
  echo "determinism: qemu-riscv64-static is missing (apt-get install qemu-user-static); skipping the riscv64 comparison" >&2
  exit 0
fi
if [ -z "${RISCV64_BIN:-}" ]; then
  RISCV64_BIN=$(scripts/build-riscv64.sh)
fi
for bin in "$NATIVE_BIN" "$RISCV64_BIN"; do
  [ -x "$bin" ] || { echo "determinism: backend binary $bin does not exist" >&2; exit 1; }
done

native=$(mktemp -d)
riscv=$(mktemp -d)
trap 'rm -rf "$native" "$riscv"' EXIT
library=1
[ "$n" -le 10000 ] || library=0

# Build the test binary first, so the timings below are the runs alone.
cargo test --locked -p dapp --test it --no-run >&2
run() {
  DETERMINISM_INPUTS="$n" DETERMINISM_SEED="$seed" DETERMINISM_DIR="$1" DETERMINISM_LIBRARY="$2" \
    DAPP_BIN="$3" DAPP_RUNNER="${4:-}" \
    cargo test --locked -q -p dapp --test it determinism::a_generated_stream_runs_the_same_in_the_binary_and_in_process -- --exact --nocapture >&2
}
start=$(date +%s)
run "$native" "$library" "$NATIVE_BIN"
run "$riscv" 0 "$RISCV64_BIN" qemu-riscv64-static
cmp "$native/stream.out" "$riscv/stream.out"
elapsed=$(($(date +%s) - start))

awk -v n="$n" -v a="$(cat "$native/stream.seconds")" -v b="$(cat "$riscv/stream.seconds")" \
  -v bytes="$(wc -c <"$native/stream.out")" -v total="$elapsed" 'BEGIN {
  printf "determinism: %d requests, transcripts byte-identical (%d bytes); whole run %d s\n", n, bytes, total
  printf "  native   %10.0f requests/s  (%.1f s)\n", n / a, a
  printf "  riscv64  %10.0f requests/s  (%.1f s, qemu-user)\n", n / b, b
  printf "  ratio riscv64 / native  %.3f\n", a / b
}'

#!/usr/bin/env bash
# Builds the static riscv64 backend for the Cartesi Machine on a Debian host without rustup
# targets: Debian's Rust ships its standard library sources, so cargo rebuilds std for riscv64.
#
# Needs (installed by .ci/run): rustc-web cargo-web rust-web-src gcc-riscv64-linux-gnu
# libc6-dev-riscv64-cross. Prints the path of the binary on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

target=riscv64gc-unknown-linux-gnu
for tool in /usr/bin/cargo /usr/bin/rustc riscv64-linux-gnu-gcc; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-riscv64: $tool is missing; install: apt-get install rustc-web cargo-web rust-web-src gcc-riscv64-linux-gnu libc6-dev-riscv64-cross" >&2
    exit 1
  fi
done

# Debian's toolchain, explicitly: rustup's rustc earlier in PATH has no riscv64 std sources.
# A separate target directory keeps its artifacts from invalidating the host build's.
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/cross \
  /usr/bin/cargo build --locked --release -Zbuild-std=std,panic_abort --target "$target" -p dapp >&2

echo "target/cross/$target/release/dapp"

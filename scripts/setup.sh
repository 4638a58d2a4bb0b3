#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine that has rustup's Rust:
# Debian's Rust with its std sources (to cross-build std for riscv64), the riscv64 C toolchain,
# and qemu-user to run the riscv64 backend. Idempotent: does nothing when all is present.
set -euo pipefail

packages=(rustc-web cargo-web rust-web-src gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2

for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "setup: $tool not found; install Rust with rustup (components rustfmt, clippy)" >&2; exit 1; }
done

#!/usr/bin/env bash
# Installs what building and testing need on Debian 12: Debian's Rust with its std sources (to
# cross-build std for riscv64) and the riscv64 C toolchain; for testing, qemu-user to run the
# riscv64 backend and Python's venv; the dev node's npm packages; and the console's packages with
# yarn 1 (installed into ~/.local/bin when missing). Idempotent: does nothing when all is present.
#
#   scripts/setup.sh          everything the test command needs (expects rustup's Rust too)
#   scripts/setup.sh --cross  only the riscv64 cross toolchain (the Dockerfile's build stage)
set -euo pipefail

cross=(rustc-web cargo-web rust-web-src gcc-riscv64-linux-gnu libc6-dev-riscv64-cross ca-certificates)
# chromium: the explorer's browser test drives Debian's build (puppeteer-core downloads none).
case "${1:-}" in
  --cross) packages=("${cross[@]}") ;;
  "") packages=("${cross[@]}" qemu-user-static python3-venv chromium) ;;
  *) echo "setup: unknown option $1 (use --cross or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if [ "${1:-}" != "--cross" ]; then
  for tool in cargo rustfmt cargo-clippy npm; do
    command -v "$tool" >/dev/null || { echo "setup: $tool not found; install Rust with rustup (components rustfmt, clippy) and Node.js with npm" >&2; exit 1; }
  done
  # The dev node's npm packages (anvil, the Rollups contracts' artifacts), pinned by the lockfile;
  # reinstalled only when the lockfile changed.
  cd "$(dirname "$0")/.."
  lock=devnode/npm/package-lock.json
  stamp=devnode/npm/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    echo "setup: npm ci --prefix devnode/npm" >&2
    npm ci --prefix devnode/npm --no-audit --no-fund >&2
  fi

  # The console's packages (viem, yargs, esbuild, the Rollups ABIs, and anvil for a bare devnet),
  # pinned by yarn.lock; reinstalled only when the lockfile or the manifest changed.
  case "$(yarn --version 2>/dev/null || true)" in
    1.*) ;;
    *)
      export PATH="$HOME/.local/bin:$PATH"
      if [[ "$(yarn --version 2>/dev/null || true)" != 1.* ]]; then
        echo "setup: npm install --global --prefix ~/.local yarn@1.22.22" >&2
        npm install --global --prefix "$HOME/.local" yarn@1.22.22 --no-audit --no-fund >&2
        echo "setup: yarn is in ~/.local/bin; add it to PATH to type \`yarn start\` (or use \`npm start --\`)" >&2
      fi
      ;;
  esac
  stamp=frontend-console/node_modules/.yarn-integrity
  if [ ! -f "$stamp" ] || [ frontend-console/yarn.lock -nt "$stamp" ] || [ frontend-console/package.json -nt "$stamp" ]; then
    echo "setup: yarn install --frozen-lockfile (frontend-console)" >&2
    (cd frontend-console && yarn install --frozen-lockfile --non-interactive --no-progress >&2)
  fi
fi

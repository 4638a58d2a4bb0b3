import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, statSync, utimesSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const bundle = join(root, "dist", "console.mjs");
const run = promisify(execFile);

describe("start.mjs", () => {
  it("rebuilds a bundle older than the sources, then runs it", async () => {
    await run(process.execPath, ["start.mjs", "--version"], { cwd: root });
    const past = new Date(Date.now() - 86_400_000);
    utimesSync(bundle, past, past);
    const { stdout } = await run(process.execPath, ["start.mjs", "--version"], { cwd: root });
    const version = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }
    ).version;
    assert.equal(stdout.trim(), version);
    assert.ok(statSync(bundle).mtimeMs > past.getTime() + 1000, "the stale bundle was not rebuilt");
  });

  it("finds this repository's deployments/ from the bundle", async () => {
    const env = { ...process.env };
    delete env.DEPLOYMENTS_DIR;
    const { stdout } = await run(process.execPath, ["start.mjs", "ledger", "balance", "--help"], {
      cwd: root,
      env,
    });
    assert.ok(
      stdout.replace(/\s+/g, " ").includes(`[default: "${join(root, "..", "deployments")}"]`),
      stdout,
    );
  });

  it("keeps an up-to-date bundle", async () => {
    await run(process.execPath, ["start.mjs", "--version"], { cwd: root });
    const built = statSync(bundle).mtimeMs;
    await run(process.execPath, ["start.mjs", "--version"], { cwd: root });
    assert.equal(statSync(bundle).mtimeMs, built);
  });
});

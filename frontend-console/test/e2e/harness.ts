/**
 * What the end-to-end tests share: a dev node started on free ports with its data and
 * deployment files in a temporary folder (the binary from DEVNODE_BIN, else this repository's
 * target/{release,debug}/devnode), console commands run against it, and reads of its chain.
 * The v2 tests hold their node in a `DevNode`; the v1 tests (`console*.test.ts`) keep one node
 * per test file in this module's state, started by `startNode` and stopped by `stopNode`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const consoleDir = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const repo = resolve(consoleDir, "..");

export const ME = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
export const BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
export const ETHER = 10n ** 18n;

export function devnodeBinary(): string {
  const candidates = [
    process.env.DEVNODE_BIN,
    join(repo, "target", "release", "devnode"),
    join(repo, "target", "debug", "devnode"),
  ];
  const found = candidates.find((c) => c !== undefined && c !== "" && existsSync(c));
  if (found === undefined) {
    throw new Error(
      "no devnode binary: build it with `cargo build -p dapp -p devnode` or set DEVNODE_BIN",
    );
  }
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => {
        ok(port);
      });
    });
  });
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running dev node and the console pointed at it (through the environment only). */
export class DevNode {
  private log = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly work: string,
    readonly env: NodeJS.ProcessEnv,
    readonly graphqlAddress: string,
  ) {}

  /** Starts `devnode` with `extra` arguments and waits for "devnode ready". */
  static async start(extra: readonly string[]): Promise<DevNode> {
    const work = mkdtempSync(join(tmpdir(), "console-e2e-v2-"));
    const [anvil, rollup, inspect, graphql] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const deployments = join(work, "deployments");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RPC_URL: `http://127.0.0.1:${anvil}`,
      DEPLOYMENTS_DIR: deployments,
      NO_COLOR: "1",
    };
    delete env.MNEMONIC;
    const child = spawn(
      devnodeBinary(),
      [
        "--data-dir",
        join(work, "data"),
        "--deployments-dir",
        deployments,
        "--anvil-port",
        String(anvil),
        "--rollup-address",
        `127.0.0.1:${rollup}`,
        "--inspect-address",
        `127.0.0.1:${inspect}`,
        "--graphql-address",
        `127.0.0.1:${graphql}`,
        ...extra,
      ],
      { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
    );
    const node = new DevNode(child, work, env, `127.0.0.1:${graphql}`);
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => {
        fail(new Error(`the dev node did not start within 180 s:\n${node.log}`));
      }, 180_000);
      const onData = (d: Buffer) => {
        node.log += d.toString();
        if (node.log.includes("devnode ready")) {
          clearTimeout(timer);
          ready();
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        fail(new Error(`the dev node exited with ${code}:\n${node.log}`));
      });
    });
    return node;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((done) => this.child.once("exit", done));
      this.child.kill("SIGINT");
      await exited;
    }
    rmSync(this.work, { recursive: true, force: true });
  }

  /** A string field of a JSON file the node wrote in its deployment folder. */
  deployment(name: string, field: string): string {
    const path = join(this.env.DEPLOYMENTS_DIR ?? "", "localhost", `${name}.json`);
    const value = (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>)[field];
    assert.equal(typeof value, "string", `${path} has no string "${field}"`);
    return value as string;
  }

  /** Runs a console command to completion. */
  run(args: readonly string[]): Promise<Run> {
    return new Promise((ok, fail) => {
      const child = spawn(process.execPath, ["start.mjs", ...args], {
        cwd: consoleDir,
        env: this.env,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("error", fail);
      child.once("close", (code) => {
        ok({ code, stdout, stderr });
      });
    });
  }

  /** Runs a command that must succeed, and returns its stdout. */
  async ok(args: readonly string[]): Promise<string> {
    const r = await this.run(args);
    assert.equal(
      r.code,
      0,
      `\`${args.join(" ")}\` failed:\n${r.stderr}\n--- node log tail:\n${this.log.slice(-3000)}`,
    );
    return r.stdout.trimEnd();
  }

  /** Runs a command that must fail, and returns its stderr's last line. */
  async fails(args: readonly string[]): Promise<Run & { error: string }> {
    const r = await this.run(args);
    assert.notEqual(r.code, 0, `\`${args.join(" ")}\` should fail:\n${r.stdout}`);
    const lines = r.stderr.trim().split("\n");
    return { ...r, error: lines[lines.length - 1] ?? "" };
  }

  /** One JSON-RPC call to the node's chain, from the test itself (not through the console). */
  async chain(method: string, params: readonly unknown[]): Promise<unknown> {
    const response = await fetch(this.env.RPC_URL ?? "", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: unknown; error?: { message: string } };
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  }

  async etherOf(address: string): Promise<bigint> {
    return BigInt((await this.chain("eth_getBalance", [address, "latest"])) as string);
  }

  /** `eth_call` of `selector` with 32-byte words, as an integer. */
  async call(to: string, selector: string, ...words: (bigint | string)[]): Promise<bigint> {
    const data = `${selector}${words.map((w) => BigInt(w).toString(16).padStart(64, "0")).join("")}`;
    return BigInt((await this.chain("eth_call", [{ to, data }, "latest"])) as string);
  }

  /** What a transaction cost its sender in gas, in wei. */
  async gasOf(hash: string): Promise<bigint> {
    const receipt = (await this.chain("eth_getTransactionReceipt", [hash])) as {
      gasUsed: string;
      effectiveGasPrice: string;
    };
    return BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
  }
}

// The v1 tests' node: one per test file (each file runs in its own process).

export const DAPP = "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e";
export const SIMPLE_ERC20 = "0xe0586270a262380fef6f82290b421b9008b11806";

export let node: ChildProcess | undefined;
export let nodeLog = "";
export let work = "";
export let env: NodeJS.ProcessEnv = {};
export let graphqlUrl = "";
export let inspectUrl = "";

/** Runs a console command to completion. */
export function run(args: readonly string[], how: "node" | "yarn" | "npm" = "node"): Promise<Run> {
  const [cmd, prefix]: [string, string[]] =
    how === "node"
      ? [process.execPath, ["start.mjs"]]
      : how === "yarn"
        ? [process.env.YARN ?? "yarn", ["-s", "start"]]
        : ["npm", ["start", "--silent", "--"]];
  return new Promise((ok, fail) => {
    const child = spawn(cmd, [...prefix, ...args], { cwd: consoleDir, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", fail);
    child.once("close", (code) => {
      ok({ code, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed, and returns its stdout. */
export async function ok(
  args: readonly string[],
  how: "node" | "yarn" | "npm" = "node",
): Promise<string> {
  const r = await run(args, how);
  assert.equal(r.code, 0, `\`${args.join(" ")}\` failed:\n${r.stderr}`);
  return r.stdout.trimEnd();
}

/** Runs a command that must fail, and returns its stderr's last line. */
export async function fails(args: readonly string[]): Promise<Run & { error: string }> {
  const r = await run(args);
  assert.notEqual(r.code, 0, `\`${args.join(" ")}\` should fail:\n${r.stdout}`);
  const lines = r.stderr.trim().split("\n");
  return { ...r, error: lines[lines.length - 1] ?? "" };
}

export async function inputCount(): Promise<number> {
  const out = await ok(["inspect", "--url", inspectUrl, "--payload", "info"]);
  const m = /^Input count: (\d+)$/m.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

/** Starts a dev node on free ports, with `extra` arguments, for the console commands to use. */
export async function startNode(extra: readonly string[] = []): Promise<void> {
  nodeLog = "";
  work = mkdtempSync(join(tmpdir(), "console-e2e-"));
  const [anvil, rollup, inspect, graphql] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  graphqlUrl = `http://127.0.0.1:${graphql}/graphql`;
  inspectUrl = `http://127.0.0.1:${inspect}/inspect`;
  const deployments = join(work, "deployments");
  env = {
    ...process.env,
    RPC_URL: `http://127.0.0.1:${anvil}`,
    DEPLOYMENTS_DIR: deployments,
    NO_COLOR: "1",
  };
  delete env.MNEMONIC;
  node = spawn(
    devnodeBinary(),
    [
      "--data-dir",
      join(work, "data"),
      "--deployments-dir",
      deployments,
      "--anvil-port",
      String(anvil),
      "--rollup-address",
      `127.0.0.1:${rollup}`,
      "--inspect-address",
      `127.0.0.1:${inspect}`,
      "--graphql-address",
      `127.0.0.1:${graphql}`,
      ...extra,
    ],
    { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
  );
  const started = node;
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`the dev node did not start within 180 s:\n${nodeLog}`));
    }, 180_000);
    const onData = (d: Buffer) => {
      nodeLog += d.toString();
      if (nodeLog.includes("devnode ready")) {
        clearTimeout(timer);
        ready();
      }
    };
    started.stdout?.on("data", onData);
    started.stderr?.on("data", onData);
    started.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the dev node exited with ${code}:\n${nodeLog}`));
    });
  });
}

export async function stopNode(): Promise<void> {
  if (node !== undefined && node.exitCode === null) {
    const exited = new Promise((done) => node?.once("exit", done));
    node.kill("SIGINT");
    await exited;
  }
  node = undefined;
  rmSync(work, { recursive: true, force: true });
}

/** One JSON-RPC call to the node's chain, from the test itself (not through the console). */
export async function rpc(method: string, params: readonly unknown[]): Promise<unknown> {
  const response = await fetch(env.RPC_URL ?? "", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function etherOf(address: string): Promise<bigint> {
  return BigInt((await rpc("eth_getBalance", [address, "latest"])) as string);
}

export async function erc20Of(token: string, address: string): Promise<bigint> {
  // balanceOf(address)
  const data = `0x70a08231${address.slice(2).toLowerCase().padStart(64, "0")}`;
  return BigInt((await rpc("eth_call", [{ to: token, data }, "latest"])) as string);
}

/** What a transaction cost its sender in gas, in wei. */
export async function gasOf(hash: string): Promise<bigint> {
  const receipt = (await rpc("eth_getTransactionReceipt", [hash])) as {
    gasUsed: string;
    effectiveGasPrice: string;
  };
  return BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
}

export interface Listed {
  index: number;
  input: number;
  destination: string;
  payload: string;
  executable: boolean;
  executed: boolean;
}

export async function vouchersOf(input: number): Promise<Listed[]> {
  const out = await ok([
    "voucher",
    "list",
    "--url",
    graphqlUrl,
    "--input",
    String(input),
    "--json",
  ]);
  return JSON.parse(out) as Listed[];
}

/** Waits until the node has proven the voucher (its epoch is claimed), for at most 60 s. */
export async function untilExecutable(input: number, index: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const voucher = (await vouchersOf(input)).find((v) => v.index === index);
    if (voucher?.executable === true) return;
    assert.ok(Date.now() < deadline, `voucher ${index} of input ${input} got no proof in 60 s`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** A console command left running: `stderrShows` resolves once its stderr has a text. */
export function runInBackground(args: readonly string[]) {
  const child = spawn(process.execPath, ["start.mjs", ...args], { cwd: consoleDir, env });
  const seen = { stdout: "", stderr: "" };
  const watchers: { text: string; shown: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => (seen.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    seen.stderr += d.toString();
    for (const w of watchers.filter((w) => seen.stderr.includes(w.text))) w.shown();
  });
  const done = new Promise<Run>((ended) =>
    child.once("close", (code) => {
      ended({ code, ...seen });
    }),
  );
  const stderrShows = (text: string) =>
    Promise.race([
      new Promise<void>((shown) => {
        if (seen.stderr.includes(text)) shown();
        else watchers.push({ text, shown });
      }),
      done.then((r) => {
        throw new Error(`the command ended before showing "${text}":\n${r.stderr}`);
      }),
    ]);
  return { done, stderrShows };
}

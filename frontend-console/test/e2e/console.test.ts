/**
 * The real console against a running dev node (anvil, the Rollups contracts, the ledger backend):
 * every command a user types in the README, asserted on the console's own output.
 *
 * The dev node binary comes from DEVNODE_BIN, else `target/release/devnode`, else
 * `target/debug/devnode` of this repository (with the `dapp` backend beside it). It runs on free
 * ports with its data and deployment files in a temporary folder.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const consoleDir = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const repo = resolve(consoleDir, "..");
const BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ME = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

function devnodeBinary(): string {
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

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        ok(port);
      });
    });
  });
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let node: ChildProcess | undefined;
let nodeLog = "";
let work = "";
let env: NodeJS.ProcessEnv = {};
let graphqlUrl = "";
let inspectUrl = "";

/** Runs a console command to completion. */
function run(args: readonly string[], how: "node" | "yarn" | "npm" = "node"): Promise<Run> {
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
async function ok(args: readonly string[], how: "node" | "yarn" | "npm" = "node"): Promise<string> {
  const r = await run(args, how);
  assert.equal(r.code, 0, `\`${args.join(" ")}\` failed:\n${r.stderr}`);
  return r.stdout.trimEnd();
}

/** Runs a command that must fail, and returns its stderr's last line. */
async function fails(args: readonly string[]): Promise<Run & { error: string }> {
  const r = await run(args);
  assert.notEqual(r.code, 0, `\`${args.join(" ")}\` should fail:\n${r.stdout}`);
  const lines = r.stderr.trim().split("\n");
  return { ...r, error: lines[lines.length - 1] ?? "" };
}

async function inputCount(): Promise<number> {
  const out = await ok(["inspect", "--url", inspectUrl, "--payload", "info"]);
  const m = /^Input count: (\d+)$/m.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

describe("the console against a running dev node", { timeout: 600_000 }, () => {
  before(async () => {
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
  });

  after(async () => {
    if (node !== undefined && node.exitCode === null) {
      const exited = new Promise((done) => node?.once("exit", done));
      node.kill("SIGINT");
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  let transferHash = "";

  it("deposits Ether and an ERC-20 through the portals", async () => {
    assert.equal(
      (await ok(["ether", "deposit", "--amount", "1"])).trim(),
      "deposit successfully executed as input 0",
    );
    const erc20 = await run(["erc20", "deposit", "--amount", "500"]);
    assert.equal(erc20.code, 0, erc20.stderr);
    assert.equal(erc20.stdout.trim(), "deposit successfully executed as input 1");
    assert.match(erc20.stderr, /approving allowance of 500 tokens/);
  });

  it("transfers in the ledger and reports the pending transaction", async () => {
    const out = await ok([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--url",
      graphqlUrl,
    ]);
    const m = /^input 2 accepted\ntransaction (0x[0-9a-f]{64}) pending$/.exec(out.trim());
    assert.ok(m, out);
    transferHash = m[1] ?? "";
    const json = JSON.parse(
      await ok([
        "ledger",
        "transfer",
        "--to",
        BOB,
        "--asset",
        "erc20:SimpleERC20",
        "--amount",
        "100",
        "--url",
        graphqlUrl,
        "--json",
      ]),
    ) as { input: number; status: string; reports: { accepted: { txs: { status: string }[] } }[] };
    assert.equal(json.input, 3);
    assert.equal(json.status, "ACCEPTED");
    assert.equal(json.reports[0]?.accepted.txs[0]?.status, "pending");
  });

  it("mines a block that `notice list` shows with the transfer", async () => {
    const out = await ok(["ledger", "mine", "--url", graphqlUrl]);
    assert.match(out, /^input 4 accepted\nsealed block \d+ 0x[0-9a-f]{64} with \d+ transactions?$/);
    const notices = JSON.parse(await ok(["notice", "list", "--url", graphqlUrl])) as {
      index: number;
      input: number;
      payload: string;
    }[];
    const blocks = notices.map((n) => ({
      ...n,
      block: JSON.parse(n.payload) as { type: string; txs: { hash: string }[] },
    }));
    const sealing = blocks.find((n) => n.block.txs.some((t) => t.hash === transferHash));
    assert.ok(sealing, `no block notice holds ${transferHash}: ${JSON.stringify(notices)}`);
    assert.equal(sealing.input, 4);
    assert.equal(sealing.block.type, "block");
    const sorted = [...notices].sort((a, b) => a.input - b.input || a.index - b.index);
    assert.deepEqual(notices, sorted);
    const byInput = JSON.parse(
      await ok(["notice", "list", "--url", graphqlUrl, "--input", "4"]),
    ) as unknown[];
    assert.equal(byInput.length, 1);
  });

  it("shows the receiver's balances", async () => {
    const out = await ok(["ledger", "balance", "--address", BOB, "--url", inspectUrl]);
    assert.match(out, new RegExp(`^${BOB}$`, "m"));
    assert.match(out, /^ {2}ETH +250000000000000000 \(0\.25 ETH\)$/m);
    assert.match(out, /^ {2}erc20:0xe0586270a262380fef6f82290b421b9008b11806 +100$/m);
    const mine = await ok(["ledger", "balance", "--asset", "ETH", "--url", inspectUrl]);
    assert.match(mine, new RegExp(`^${ME}\\n {2}ETH +750000000000000000 \\(0\\.75 ETH\\)$`));
  });

  it("sends the ILedger ABI form with --abi", async () => {
    const out = await ok([
      "ledger",
      "transfer",
      "--abi",
      "--to",
      BOB,
      "--asset",
      "COIN",
      "--amount",
      "1coin",
      "--url",
      graphqlUrl,
      "--json",
    ]);
    const sent = JSON.parse(out) as { input: number; status: string };
    assert.equal(sent.status, "ACCEPTED");
    const pool = JSON.parse(await ok(["ledger", "pool", "--url", inspectUrl, "--json"])) as {
      txs: { kind: string; asset: string; amount: string; to: string; input: number }[];
    };
    assert.deepEqual(
      pool.txs.map((t) => [t.kind, t.asset, t.amount, t.to, t.input]),
      [["transfer", "COIN", "1000000000000000000", BOB.toLowerCase(), sent.input]],
    );
  });

  it("inspects with the reference console's output", async () => {
    const out = await ok(["inspect", "--url", inspectUrl, "--payload", "info"]);
    const lines = out.trim().split("\n");
    assert.equal(lines[0], "HTTP status: 200");
    assert.equal(lines[1], 'Inspect status: "Accepted"');
    assert.equal(lines[2], "Input count: 6");
    assert.equal(lines[3], "Reports:");
    assert.match(lines[4] ?? "", /^0: \{.*"name":"ledger".*\}$/);
    const info = await ok(["ledger", "info", "--url", inspectUrl, "--json"]);
    assert.equal((JSON.parse(info) as { processed_inputs: number }).processed_inputs, 6);
  });

  it("shows the dApp's error for a bad payload, and the rejection changes nothing", async () => {
    const before = await ok(["ledger", "balance", "--url", inspectUrl, "--json"]);
    const bad = await fails(["input", "send", "--payload", "hello", "--wait", "--url", graphqlUrl]);
    assert.equal(bad.stdout, "");
    assert.match(bad.error, /^error: input 6 was rejected: MALFORMED_PAYLOAD: .+ \(hint: .+\)$/);
    const reports = JSON.parse(
      await ok(["report", "list", "--url", graphqlUrl, "--input", "6"]),
    ) as { payload: string }[];
    assert.match(reports[0]?.payload ?? "", /"code":"MALFORMED_PAYLOAD"/);
    const poor = await fails([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "ETH",
      "--amount",
      "5ether",
      "--url",
      graphqlUrl,
    ]);
    assert.match(poor.error, /^error: input 7 was rejected: INSUFFICIENT_FUNDS: /);
    assert.equal(await ok(["ledger", "balance", "--url", inspectUrl, "--json"]), before);
  });

  it("refuses malformed arguments before sending anything", async () => {
    const count = await inputCount();
    const badTo = await fails([
      "ledger",
      "transfer",
      "--to",
      "0x12",
      "--asset",
      "ETH",
      "--amount",
      "1",
    ]);
    assert.match(badTo.error, /^error: --to is not an address: "0x12" \(hint: .+\)$/);
    const badAsset = await fails([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "BTC",
      "--amount",
      "1",
    ]);
    assert.match(badAsset.error, /^error: unknown asset "BTC" \(hint: assets are ETH, COIN/);
    const missing = await fails(["input", "send"]);
    assert.equal(missing.code, 2);
    assert.match(missing.error, /^error: Missing required argument: payload \(hint: see --help\)$/);
    const down = await fails(["input", "send", "--payload", "x", "--rpc", "http://127.0.0.1:9"]);
    assert.match(
      down.error,
      /^error: cannot reach the chain at http:\/\/127\.0\.0\.1:9 \(hint: start the dev node/,
    );
    assert.equal(await inputCount(), count);
  });

  it("deposits an ERC-721 and an ERC-1155 token", async () => {
    assert.match(
      await ok(["erc721", "deposit", "--tokenId", "0"]),
      /^deposit successfully executed as input \d+$/,
    );
    assert.match(
      await ok(["erc1155", "deposit", "--tokenId", "0", "--amount", "10"]),
      /^deposit successfully executed as input \d+$/,
    );
    // Deposits wait in the pool: pending until a block confirms them.
    const pending = await ok(["ledger", "balance", "--url", inspectUrl]);
    assert.match(
      pending,
      /^ {2}erc721:0x4fd594c6aa126de9389fed996337f120d4ea011b:0 +0 {2}pending 1$/m,
    );
    assert.match(
      pending,
      /^ {2}erc1155:0xd728a78c93b8e193e12a0a20b88e514cf05e5f74:0 +0 {2}pending 10$/m,
    );
    await ok(["ledger", "mine", "--url", graphqlUrl]);
    const confirmed = await ok(["ledger", "balance", "--url", inspectUrl]);
    assert.match(confirmed, /^ {2}erc721:0x4fd594c6aa126de9389fed996337f120d4ea011b:0 +1$/m);
    assert.match(confirmed, /^ {2}erc1155:0xd728a78c93b8e193e12a0a20b88e514cf05e5f74:0 +10$/m);
  });

  it("withdraws: relay the address, a voucher when the block is sealed, executed on L1", async () => {
    const withdraw = ["ledger", "withdraw", "--asset", "erc20:SimpleERC20", "--amount", "10"];
    const early = await fails([...withdraw, "--url", graphqlUrl]);
    assert.match(early.error, /DAPP_ADDRESS_UNKNOWN: .+ \(hint: run `ledger relay-address` once/);
    assert.match(
      await ok(["ledger", "relay-address", "--url", graphqlUrl]),
      /the dApp knows its address 0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e/,
    );
    await ok([...withdraw, "--url", graphqlUrl]);
    const mined = await ok(["ledger", "mine", "--url", graphqlUrl, "--json"]);
    const input = (JSON.parse(mined) as { input: number }).input;
    const vouchers = JSON.parse(
      await ok(["voucher", "list", "--url", graphqlUrl, "--input", String(input)]),
    ) as {
      index: number;
      input: number;
      destination: string;
      payload: string;
    }[];
    assert.equal(vouchers.length, 1);
    const [voucher] = vouchers;
    assert.ok(voucher);
    assert.equal(voucher.destination, "0xe0586270a262380fef6f82290b421b9008b11806");
    assert.match(voucher.payload, /^0xa9059cbb/); // ERC-20 transfer(address,uint256)
    const execute = await ok([
      "voucher",
      "execute",
      "--index",
      "0",
      "--input",
      String(input),
      "--url",
      graphqlUrl,
    ]);
    // The dev node claims each epoch as soon as its block is past: the proof is there already.
    assert.match(execute.trim(), /^voucher executed! \(tx="0x[0-9a-f]{64}"\)$/);
  });

  it("runs through `yarn start` and `npm start --`", async () => {
    const viaYarn = await ok(["ledger", "block", "latest", "--url", inspectUrl, "--json"], "yarn");
    const viaNpm = await ok(["ledger", "block", "latest", "--url", inspectUrl, "--json"], "npm");
    assert.equal(viaYarn, viaNpm);
    assert.equal(typeof (JSON.parse(viaYarn) as { hash: string }).hash, "string");
  });
});

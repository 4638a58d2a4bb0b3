/**
 * The explorer in a real headless browser (Debian's `chromium`, driven by puppeteer-core; no
 * browser is downloaded) against a running dev node that has seen a deposit, a transfer, a mine,
 * a rejected input and a withdrawal, all sent with the console. Every page it opens is compared
 * with the inspect answers the test reads itself, and saved as a screenshot under
 * `test-artifacts/explorer/`.
 *
 * The dev node comes from DEVNODE_BIN (else this repository's target/{release,debug}/devnode),
 * the browser from CHROMIUM_BIN (else `chromium` on the PATH).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type HTTPRequest, type Page } from "puppeteer-core";
import { hexToJson } from "../../src/lib/bytes.ts";

const consoleDir = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const repo = resolve(consoleDir, "..");
const artifacts = join(consoleDir, "test-artifacts", "explorer");
const ME = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/** How long the browser waits for a page to show what the test expects. */
const WAIT = { timeout: 30_000 };

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

function chromiumBinary(): string {
  if (process.env.CHROMIUM_BIN) return process.env.CHROMIUM_BIN;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"]).toString().trim();
  } catch {
    throw new Error(
      "no chromium: install Debian's package (scripts/setup.sh does) or set CHROMIUM_BIN",
    );
  }
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

let node: ChildProcess | undefined;
let nodeLog = "";
let work = "";
let env: NodeJS.ProcessEnv = {};
let graphqlUrl = "";
let inspectUrl = "";
let explorerUrl = "";
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

async function startNode(): Promise<void> {
  work = mkdtempSync(join(tmpdir(), "explorer-e2e-"));
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
      ...["--data-dir", join(work, "data"), "--deployments-dir", deployments],
      ...["--anvil-port", String(anvil), "--rollup-address", `127.0.0.1:${rollup}`],
      ...["--inspect-address", `127.0.0.1:${inspect}`, "--graphql-address", `127.0.0.1:${graphql}`],
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
      // The readiness block names the explorer's address.
      const m = /^ {2}explorer +(http\S+)$/m.exec(nodeLog);
      if (nodeLog.includes("devnode ready") && m?.[1] !== undefined) {
        explorerUrl = m[1];
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

/** Runs a console command; returns its exit code and output. */
function consoleRun(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ["start.mjs", ...args], { cwd: consoleDir, env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", fail);
    child.once("close", (code) => {
      ok({ code, out });
    });
  });
}

async function send(args: readonly string[]): Promise<string> {
  const r = await consoleRun([...args, "--url", graphqlUrl]);
  assert.equal(r.code, 0, `\`${args.join(" ")}\` failed:\n${r.out}`);
  return r.out;
}

/** An inspect route's JSON report, read by the test itself. */
async function inspectJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${inspectUrl}/${path}`);
  const body = (await response.json()) as { reports: { payload: string }[] };
  const report = body.reports[0];
  assert.ok(report !== undefined, `inspect ${path} gave no report`);
  return hexToJson(report.payload) as Record<string, unknown>;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** The text of the element `selector` on the page. */
function textOf(selector: string): Promise<string> {
  return page.$eval(selector, (e) => e.textContent.trim());
}

let transferHash = "";
let rejected = -1;

describe("the explorer in a headless browser", { timeout: 600_000 }, () => {
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    await startNode();
    // A deposit returns once L1 has it; the transfer after it waits for the node.
    const deposit = await consoleRun(["ether", "deposit", "--amount", "1"]);
    assert.equal(deposit.code, 0, deposit.out);
    const transfer = await send([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
    ]);
    transferHash = /transaction (0x[0-9a-f]{64})/.exec(transfer)?.[1] ?? "";
    assert.notEqual(transferHash, "", transfer);
    await send(["ledger", "mine"]);
    const bad = await consoleRun([
      "input",
      "send",
      "--payload",
      "hello",
      "--wait",
      "--url",
      graphqlUrl,
    ]);
    assert.notEqual(bad.code, 0, bad.out);
    rejected = Number(/input (\d+) was rejected/.exec(bad.out)?.[1] ?? -1);
    assert.ok(rejected >= 0, bad.out);
    await send(["ledger", "relay-address"]);
    await send(["ledger", "withdraw", "--asset", "ETH", "--amount", "0.1ether", "--mine"]);

    browser = await puppeteer.launch({
      executablePath: chromiumBinary(),
      headless: true,
      // Root in CI cannot use Chromium's sandbox; the page is the node's own, on loopback.
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      defaultViewport: { width: 1280, height: 800 },
    });
    page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("requestfailed", (r) => pageErrors.push(`${r.url()}: ${r.failure()?.errorText ?? ""}`));
  });

  after(async () => {
    await browser?.close();
    if (node !== undefined && node.exitCode === null) {
      const exited = new Promise((done) => node?.once("exit", done));
      node.kill("SIGINT");
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it("shows the latest block with the hash inspect gives", async () => {
    const latest = await inspectJson("block/latest");
    await page.goto(explorerUrl);
    const row = `#blocks tr[data-height="${latest.height as number}"]`;
    await page.waitForSelector(row, WAIT);
    // The first row is the tip, and its hash is inspect's.
    const first = await page.$eval("#blocks tr[data-hash]", (r) => [
      r.getAttribute("data-height"),
      r.getAttribute("data-hash"),
    ]);
    assert.deepEqual(first, [String(latest.height), latest.hash]);
    assert.equal(await textOf("#tip-height"), String(latest.height));
    await shot("chain");
  });

  it("opens the block from the list, with its header fields and transactions", async () => {
    const latest = await inspectJson("block/latest");
    await page.click(`#blocks tr[data-height="${latest.height as number}"] td a`);
    await page.waitForSelector("#block-hash", WAIT);
    assert.equal(await textOf("#block-hash"), latest.hash);
    const txs = await page.$$eval("table.txs a[href^='#/tx/']", (as) =>
      as.map((a) => a.getAttribute("href")),
    );
    const expected = (latest.txs as { hash: string }[]).map((t) => `#/tx/${t.hash}`);
    assert.deepEqual(txs, expected);
    const fields: Record<string, string | undefined> = await page.$$eval(
      "table.fields tr",
      (rows) =>
        Object.fromEntries<string | undefined>(
          rows.map((r) => [
            r.querySelector("th")?.textContent ?? "",
            r.querySelector("td")?.textContent.trim(),
          ]),
        ),
    );
    assert.equal(fields.nonce, String(latest.nonce));
    assert.equal(fields.difficulty, `${latest.difficulty as number} leading zero bits`);
    assert.equal(fields["state root"], latest.state_root);
    await shot("block");
  });

  it("opens a transaction of the block", async () => {
    const href = await page.$eval(
      "table.txs a[href^='#/tx/']",
      (a) => a.getAttribute("href") ?? "",
    );
    await page.click(`table.txs a[href="${href}"]`);
    await page.waitForSelector("#tx-hash", WAIT);
    const hash = href.replace("#/tx/", "");
    assert.equal(await textOf("#tx-hash"), hash);
    const tx = await inspectJson(`tx/${hash}`);
    assert.equal(await textOf("#tx-status"), tx.status);
    await shot("transaction");
  });

  it("shows an account's balances as inspect gives them", async () => {
    const expected = (await inspectJson(`balance/${ME.toLowerCase()}`)).balances as {
      asset: string;
      confirmed: string;
      pending: string;
    }[];
    assert.ok(expected.length >= 2, JSON.stringify(expected));
    await page.goto(`${explorerUrl}#/account/${ME}`);
    await page.waitForSelector("#balances", WAIT);
    const shown = await page.$$eval("#balances tr[data-asset]", (rows) =>
      rows.map((r) => ({
        asset: r.getAttribute("data-asset") ?? "",
        confirmed: r.querySelector(".confirmed")?.getAttribute("data-value") ?? "",
        pending: r.querySelector(".pending")?.getAttribute("data-value") ?? "",
      })),
    );
    assert.deepEqual(shown, expected);
    // The account's transfer is listed among its transactions, in the ledger's order.
    await page.waitForSelector(`a[href="#/tx/${transferHash}"]`, WAIT);
    await shot("account");
  });

  it("lists an account's transactions as txs/<address> gives them, the transfer with its block", async () => {
    const answer = await inspectJson(`txs/${BOB.toLowerCase()}`);
    const txs = answer.txs as { hash: string; status: string; block?: number }[];
    const transfer = txs.find((t) => t.hash === transferHash);
    assert.equal(transfer?.status, "sealed", JSON.stringify(answer));
    await page.goto(`${explorerUrl}#/account/${BOB}`);
    // Bob's page, not the account page shown before (which lists the same transfer).
    await page.waitForFunction(
      (bob: string) => document.getElementById("account")?.textContent === bob,
      WAIT,
      BOB,
    );
    await page.waitForSelector(`a[href="#/tx/${transferHash}"]`, WAIT);
    const shown = await page.$$eval("table.txs tr", (rows) =>
      rows.slice(1).map((r) => ({
        hash: r.querySelector('a[href^="#/tx/"]')?.getAttribute("href")?.slice("#/tx/".length),
        where: r.children[1]?.textContent.replace(/\s+/g, " ").trim(),
      })),
    );
    assert.deepEqual(
      shown,
      txs.map((t) => ({
        hash: t.hash,
        where: t.status === "pending" ? "pending" : `block ${String(t.block)}`,
      })),
    );
    assert.equal(answer.next_offset, null);
    assert.equal(await page.$(`a[href^="#/account/${BOB}?offset="]`), null);
  });

  it("pages an account's transactions from an offset, with a link back to the first page", async () => {
    const all = (await inspectJson(`txs/${ME.toLowerCase()}`)).txs as { hash: string }[];
    // The deposit, the transfer and the withdrawal, newest first.
    assert.ok(all.length >= 3, JSON.stringify(all));
    await page.goto(`${explorerUrl}#/account/${ME}?offset=1`);
    await page.waitForFunction(
      () => [...document.querySelectorAll("a")].some((a) => a.textContent === "first page"),
      WAIT,
    );
    const shown = await page.$$eval('table.txs a[href^="#/tx/"]', (links) =>
      links.map((a) => a.getAttribute("href")?.slice("#/tx/".length)),
    );
    assert.deepEqual(
      shown,
      all.slice(1).map((t) => t.hash),
    );
  });

  it("shows a rejected input with the dApp's error", async () => {
    await page.goto(`${explorerUrl}#/input/${rejected}`);
    await page.waitForSelector("#input-error", WAIT);
    const error = await textOf("#input-error");
    assert.match(error, /^MALFORMED_PAYLOAD payload is text but not a JSON object/);
    assert.equal(await textOf(".status"), "REJECTED");
    await shot("input-rejected");
  });

  it("finds a transaction by its hash from the search box", async () => {
    await page.goto(`${explorerUrl}#/inputs`);
    await page.waitForSelector("#inputs", WAIT);
    await page.type("#search input", transferHash);
    await page.click("#search button");
    await page.waitForFunction((h: string) => location.hash === `#/tx/${h}`, WAIT, transferHash);
    await page.waitForSelector("#tx-hash", WAIT);
    assert.equal(await textOf("#tx-hash"), transferHash);
    await shot("search");
  });

  it("updates the inputs view without a reload when an input arrives", async () => {
    await page.goto(`${explorerUrl}#/inputs`);
    await page.waitForSelector("#inputs tr[data-index]", WAIT);
    const before = await page.$$eval("#inputs tr[data-index]", (rows) => rows.length);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await send(["ledger", "mine"]);
    await page.waitForSelector(`#inputs tr[data-index="${before}"]`, WAIT);
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
    await shot("inputs");
  });

  it("shows the node's status and the withdrawal's voucher", async () => {
    await page.goto(`${explorerUrl}#/status`);
    await page.waitForSelector("#phase", WAIT);
    assert.equal(await textOf("#phase"), "ready");
    await shot("status");
    // The withdrawal was mined by the input after it; its voucher comes with that block.
    await page.goto(`${explorerUrl}#/input/${rejected + 3}`);
    await page.waitForSelector("table.vouchers", WAIT);
    // Paid to the withdrawer, executable (its epoch is claimed), not executed on L1 yet.
    // The page redraws until the voucher's epoch is claimed.
    const row = async () => (await textOf("table.vouchers tr:nth-child(2)")).replace(/\s+/g, " ");
    await page.waitForFunction(
      () => /yes\s+no\s*$/.test(document.querySelector("table.vouchers")?.textContent ?? ""),
      WAIT,
    );
    assert.match(
      await row(),
      /^0 100000000000000000 \(0\.1 ETH\) to 0xf39Fd6…b92266 0xab7528…e56a5e yes no$/,
    );
    await shot("input-voucher");
    assert.deepEqual(pageErrors, []);
  });

  it("shows a failed node's reason on every page", async () => {
    // A node fails only when something is badly wrong; the page is shown the node's own failed
    // answer instead, for its /healthz alone.
    const failed = {
      status: "failed",
      reason: "the claim on L1 for inputs 0..=3 differs from this node's",
      hint: "start a fresh node",
    };
    await page.setRequestInterception(true);
    const onRequest = (request: HTTPRequest) => {
      if (new URL(request.url()).pathname === "/healthz") {
        void request.respond({
          status: 503,
          contentType: "application/json",
          body: JSON.stringify(failed),
        });
      } else {
        void request.continue();
      }
    };
    page.on("request", onRequest);
    try {
      await page.goto(`${explorerUrl}#/status`);
      await page.waitForSelector("#failure", WAIT);
      assert.equal(await textOf("#phase"), "failed");
      assert.equal(await textOf("#failure"), failed.reason);
      await page.goto(`${explorerUrl}#/`);
      await page.waitForSelector("#banner:not([hidden])", WAIT);
      assert.match(
        await textOf("#banner"),
        /^The node has failed: the claim on L1 for inputs 0\.\.=3/,
      );
      await shot("failed");
    } finally {
      page.off("request", onRequest);
      await page.setRequestInterception(false);
    }
    assert.deepEqual(pageErrors, []);
  });
});

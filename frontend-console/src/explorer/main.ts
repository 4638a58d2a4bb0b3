/// <reference lib="dom" />
/**
 * The explorer's pages. Routes live in the URL's hash (`#/block/12`, `#/tx/0x…`), so every view
 * can be shared and reloaded; the chain, inputs and status views poll the node every two seconds
 * and redraw only when what they show changed.
 */
import type { Address } from "viem";
import { ConsoleError } from "../lib/errors.ts";
import type { Balance } from "../lib/format.ts";
import { Api, type InputNode, fetchConfig, latestInputs, oneInput } from "./api.ts";
import {
  type DecodedInput,
  decodeBlockNotice,
  decodeInput,
  decodeLedgerReport,
  decodeVoucher,
  describeAccepted,
  formatUnits,
} from "./decode.ts";
import { Html, age, classifySearch, link, markup, short } from "./html.ts";

/** How often the live views ask the node again. */
const POLL_MS = 2000;
/** Blocks on the chain view. */
const LATEST_BLOCKS = 20;
/** Inputs on the inputs view. */
const LATEST_INPUTS = 30;

interface Header {
  height: number;
  hash: string;
  version: number;
  prev_hash: string;
  tx_root: string;
  state_root: string;
  timestamp: number;
  difficulty: number;
  miner: string;
  reward: string;
  nonce: number;
  tx_count: number;
}

interface Tx {
  hash: string;
  kind: string;
  input: number;
  from: string;
  to: string;
  asset: string;
  amount: string;
  status?: string;
  block?: number;
  index?: number;
}

interface Page {
  title: string;
  body: Html;
  /** Whether the page is redrawn while it is shown. */
  live: boolean;
}

/** A JSON value as text: strings as they are, anything else as JSON, nothing as "". */
function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

const ZERO_HASH = `0x${"0".repeat(64)}`;

function message(e: unknown): string {
  if (e instanceof ConsoleError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

const account = (address: string, keep = 8) => link(`account/${address}`, short(address, keep));
const blockLink = (height: number) => link(`block/${height}`, height);
const txLink = (hash: string) => link(`tx/${hash}`, short(hash));
const inputLink = (index: number) => link(`input/${index}`, `#${index}`);
const amountOf = (asset: string, amount: string | bigint) => formatUnits(asset, amount.toString());

const iso = (unixSeconds: number) =>
  new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");

function time(unixSeconds: number): Html {
  // The genesis block's time is the configured genesis timestamp, 0 by default.
  if (unixSeconds === 0) return markup`<span class="muted">genesis time 0</span>`;
  return markup`<span title="${iso(unixSeconds)}">${age(unixSeconds, Date.now())}</span>`;
}

function fields(rows: [string, unknown][]): Html {
  return markup`<table class="fields">
    ${rows.map(
      ([k, v]) =>
        markup`<tr>
          <th>${k}</th>
          <td>${v}</td>
        </tr>`,
    )}
  </table>`;
}

function txTable(txs: readonly Tx[], empty: string): Html {
  if (txs.length === 0) return markup`<p class="muted">${empty}</p>`;
  return markup`<table class="list txs">
    <tr>
      <th>hash</th>
      <th>kind</th>
      <th>from</th>
      <th>to</th>
      <th>asset</th>
      <th>amount</th>
      <th>input</th>
    </tr>
    ${txs.map(
      (t) =>
        markup`<tr>
          <td>${txLink(t.hash)}</td>
          <td>${t.kind}</td>
          <td>${account(t.from)}</td>
          <td>${account(t.to)}</td>
          <td class="mono">${t.asset}</td>
          <td class="num">${amountOf(t.asset, t.amount)}</td>
          <td>${inputLink(t.input)}</td>
        </tr>`,
    )}
  </table>`;
}

async function chainPage(api: Api): Promise<Page> {
  const info = await api.ledger("info");
  const height = info.height as number;
  const from = Math.max(0, height - LATEST_BLOCKS + 1);
  const [blocks, pool] = await Promise.all([
    api.ledger(`blocks?from=${from}&limit=${LATEST_BLOCKS}`),
    api.ledger("pool?limit=20"),
  ]);
  const headers = (blocks.blocks as Header[]).slice().reverse();
  const pending = pool.txs as Tx[];
  return {
    title: "Chain",
    live: true,
    body: markup`<section class="cards">
        <div><span>height</span><b id="tip-height">${height}</b></div>
        <div><span>difficulty</span><b>${info.difficulty} bits</b></div>
        <div><span>transactions</span><b>${info.total_transactions}</b></div>
        <div><span>accounts</span><b>${info.total_addresses}</b></div>
        <div><span>pool</span><b>${info.pool_size}</b></div>
        <div><span>inputs processed</span><b>${info.processed_inputs}</b></div>
      </section>
      <h2>Latest blocks</h2>
      <table class="list blocks" id="blocks">
        <tr>
          <th>height</th>
          <th>hash</th>
          <th>difficulty</th>
          <th>nonce</th>
          <th>miner</th>
          <th>txs</th>
          <th>time</th>
        </tr>
        ${headers.map(
          (b) =>
            markup`<tr data-height="${b.height}" data-hash="${b.hash}">
              <td>${blockLink(b.height)}</td>
              <td>${link(`block/${b.hash}`, short(b.hash, 12), "block-hash")}</td>
              <td class="num">${b.difficulty}</td>
              <td class="num">${b.nonce}</td>
              <td>${account(b.miner)}</td>
              <td class="num">${b.tx_count}</td>
              <td>${time(b.timestamp)}</td>
            </tr>`,
        )}
      </table>
      <h2>Pool <small>${pending.length} of ${pool.size} pending</small></h2>
      ${txTable(pending, "The pool is empty: every transaction is in a block.")}
      <p class="muted">
        State root <span class="mono">${info.state_root}</span>; the dApp knows its address as
        ${info.dapp_address === null ? "nothing yet (relay it once before withdrawals)" : markup`<span class="mono">${info.dapp_address}</span>`}.
      </p>`,
  };
}

async function blockPage(api: Api, id: string, offset: number): Promise<Page> {
  const block = await api.ledgerAs<Header & { txs: Tx[]; txs_next_offset: number | null }>(
    `block/${id}${offset > 0 ? `?offset=${offset}` : ""}`,
  );
  const prev =
    block.prev_hash === ZERO_HASH || block.height === 0
      ? short(block.prev_hash)
      : link(`block/${block.height - 1}`, short(block.prev_hash, 12));
  const next = block.txs_next_offset;
  return {
    title: `Block ${block.height}`,
    live: false,
    body: markup`<h2>Block ${block.height}</h2>
      ${fields([
        ["hash", markup`<span class="mono" id="block-hash">${block.hash}</span>`],
        ["previous", prev],
        ["height", block.height],
        ["time", markup`${iso(block.timestamp)} (${time(block.timestamp)})`],
        ["difficulty", `${block.difficulty} leading zero bits`],
        ["nonce", block.nonce],
        ["miner", account(block.miner, 21)],
        ["reward", amountOf("COIN", block.reward)],
        ["transactions", block.tx_count],
        ["transaction root", markup`<span class="mono">${block.tx_root}</span>`],
        ["state root", markup`<span class="mono">${block.state_root}</span>`],
        ["version", block.version],
      ])}
      <h2>Transactions</h2>
      ${txTable(block.txs, "No transactions: the block holds its miner's reward only.")}
      <p>
        ${offset > 0 ? link(`block/${block.height}`, "first page") : ""}
        ${next === null ? "" : link(`block/${block.height}?offset=${next}`, "next page")}
      </p>`,
  };
}

async function txPage(api: Api, hash: string): Promise<Page> {
  const tx = await api.ledgerAs<Tx>(`tx/${hash}`);
  return {
    title: `Transaction ${hash.slice(0, 10)}…`,
    live: tx.status === "pending",
    body: markup`<h2>Transaction</h2>
      ${fields([
        ["hash", markup`<span class="mono" id="tx-hash">${tx.hash}</span>`],
        [
          "status",
          tx.status === "sealed" && tx.block !== undefined
            ? markup`<span class="ok" id="tx-status">sealed</span> in block ${blockLink(tx.block)} at
                position ${tx.index ?? 0}`
            : markup`<span class="warn" id="tx-status">pending</span> in the pool, until the next
                block is sealed`,
        ],
        ["kind", tx.kind],
        ["from", account(tx.from, 21)],
        ["to", account(tx.to, 21)],
        ["asset", markup`<span class="mono">${tx.asset}</span>`],
        ["amount", amountOf(tx.asset, tx.amount)],
        ["input", inputLink(tx.input)],
      ])}`,
  };
}

async function accountPage(api: Api, address: Address, offset: number): Promise<Page> {
  const route = `account/${address}`;
  const [balances, page] = await Promise.all([
    api.balances(address),
    api.ledgerAs<{ sealed: number; pending: number; next_offset: number | null; txs: Tx[] }>(
      `txs/${address.toLowerCase()}${offset > 0 ? `?offset=${offset}` : ""}`,
    ),
  ]);
  // The ledger lists sealed transactions newest first, then pending ones.
  const txs = page.txs;
  const next = page.next_offset;
  return {
    title: `Account ${address.slice(0, 10)}…`,
    live: false,
    body: markup`<h2>Account <span class="mono" id="account">${address}</span></h2>
      ${balanceTable(balances)}
      <h2>Transactions <small>${page.sealed} sealed, ${page.pending} pending</small></h2>
      ${
        txs.length === 0
          ? markup`<p class="muted">${offset > 0 ? "No more." : "None: this account has sent and received nothing."}</p>`
          : markup`<table class="list txs">
              <tr>
                <th>hash</th>
                <th>where</th>
                <th>kind</th>
                <th>from</th>
                <th>to</th>
                <th>asset</th>
                <th>amount</th>
              </tr>
              ${txs.map(
                (t) =>
                  markup`<tr>
                    <td>${txLink(t.hash)}</td>
                    <td>
                      ${t.status === "pending" ? markup`<span class="warn">pending</span>` : markup`block ${blockLink(t.block ?? 0)}`}
                    </td>
                    <td>${t.kind}</td>
                    <td>${account(t.from)}</td>
                    <td>${account(t.to)}</td>
                    <td class="mono">${t.asset}</td>
                    <td class="num">${amountOf(t.asset, t.amount)}</td>
                  </tr>`,
              )}
            </table>`
      }
      <p>
        ${offset > 0 ? link(route, "first page") : ""}
        ${next === null ? "" : link(`${route}?offset=${next}`, "more")}
      </p>`,
  };
}

function balanceTable(balances: readonly Balance[]): Html {
  if (balances.length === 0) return markup`<p class="muted">This account holds nothing.</p>`;
  return markup`<table class="list balances" id="balances">
    <tr>
      <th>asset</th>
      <th>confirmed</th>
      <th>pending</th>
    </tr>
    ${balances.map(
      (b) =>
        markup`<tr data-asset="${b.asset}">
          <td class="mono">${b.asset}</td>
          <td class="num confirmed" data-value="${b.confirmed}">
            ${amountOf(b.asset, b.confirmed)}
          </td>
          <td class="num pending" data-value="${b.pending}">${amountOf(b.asset, b.pending)}</td>
        </tr>`,
    )}
  </table>`;
}

function describeInput(d: DecodedInput): Html {
  switch (d.kind) {
    case "deposit":
      return markup`${d.portal} deposit by ${account(d.depositor)}:
      ${d.assets.map((a) => markup`<span class="mono">${amountOf(a.asset, a.amount)} ${a.asset === "ETH" || a.asset === "COIN" ? "" : a.asset}</span> `)}
      ${d.failed ? markup`<span class="bad">(the portal reports the transfer failed)</span>` : ""}`;
    case "relay":
      return markup`the relay tells the dApp its address ${short(d.dapp, 8)}`;
    case "operation": {
      const o = d.operation;
      const what =
        o.op === "mine"
          ? markup`mine`
          : markup`${o.op} ${o.amount === undefined ? "" : amountOf(o.asset ?? "", o.amount)}
              <span class="mono">${o.asset === "ETH" || o.asset === "COIN" ? "" : o.asset}</span>
              ${o.to === undefined ? "" : markup`to ${account(o.to)}`}`;
      return markup`${what} <small class="muted">(${d.form === "json" ? "JSON" : "ABI"})</small>`;
    }
    case "other":
      return markup`<span class="muted">${d.why}:</span>
        <span class="mono">${d.text.slice(0, 80)}${d.text.length > 80 ? "…" : ""}</span>`;
  }
}

function statusBadge(status: string): Html {
  const cls = status === "ACCEPTED" ? "ok" : status === "UNPROCESSED" ? "warn" : "bad";
  return markup`<span class="${cls} status">${status}</span>`;
}

/** The dApp's answer in one line: its error, or what the input did. */
function resultLine(input: InputNode): Html {
  const report = input.reports.edges[0]?.node.payload;
  const decoded = report === undefined ? undefined : decodeLedgerReport(report);
  if (decoded === undefined) return markup`<span class="muted">no report</span>`;
  if ("error" in decoded) return markup`<span class="bad error-code">${decoded.error.code}</span>`;
  const a = decoded.accepted;
  const parts: string[] = [];
  if (a.tx_count > 0) parts.push(`${a.tx_count} tx`);
  if (a.sealed_count > 0) parts.push(`sealed ${a.sealed_blocks.map((b) => b.height).join(", ")}`);
  return markup`${parts.length === 0 ? "nothing to do" : parts.join("; ")}`;
}

async function inputsPage(api: Api): Promise<Page> {
  const { total, inputs } = await latestInputs(api, LATEST_INPUTS);
  return {
    title: "Inputs",
    live: true,
    body: markup`<h2>Inputs <small>the latest ${inputs.length} of ${total}</small></h2>
      ${
        inputs.length === 0
          ? markup`<p class="muted">No inputs yet: send one with the console.</p>`
          : markup`<table class="list inputs" id="inputs">
              <tr>
                <th>input</th>
                <th>status</th>
                <th>sender</th>
                <th>time</th>
                <th>payload</th>
                <th>result</th>
                <th>outputs</th>
              </tr>
              ${inputs.map(
                (i) =>
                  markup`<tr data-index="${i.index}">
                    <td>${inputLink(i.index)}</td>
                    <td>${statusBadge(i.status)}</td>
                    <td>${account(i.msgSender)}</td>
                    <td>${time(Number(i.timestamp))}</td>
                    <td>${describeInput(decodeInput(i.msgSender, i.payload))}</td>
                    <td>${resultLine(i)}</td>
                    <td>
                      ${i.notices.totalCount ?? i.notices.edges.length} notices,
                      ${i.vouchers.totalCount ?? i.vouchers.edges.length} vouchers
                    </td>
                  </tr>`,
              )}
            </table>`
      }`,
  };
}

async function inputPage(api: Api, index: number): Promise<Page> {
  const input = await oneInput(api, index);
  const decoded = decodeInput(input.msgSender, input.payload);
  const vouchers = await Promise.all(
    input.vouchers.edges.map(async ({ node: v }) => {
      const executable = v.proof !== null;
      let executed: boolean | string = false;
      // A voucher without a proof cannot have run: the contract checks it against a claim.
      if (executable) {
        try {
          executed = await api.wasVoucherExecuted(input.index, v.index);
        } catch (e) {
          executed = `unknown (${message(e)})`;
        }
      }
      return { ...v, executable, executed, payment: decodeVoucher(v.destination, v.payload) };
    }),
  );
  const reports = input.reports.edges.map(({ node }) => {
    const r = decodeLedgerReport(node.payload);
    if (r === undefined) return markup`<pre>${node.payload}</pre>`;
    if ("error" in r) {
      return markup`<p class="rejected" id="input-error">
        <span class="bad error-code">${r.error.code}</span> ${r.error.message}
      </p>`;
    }
    return markup`<ul class="accepted">
      ${describeAccepted(r).map((line) => markup`<li>${linkify(line)}</li>`)}
    </ul>`;
  });
  return {
    title: `Input ${index}`,
    // Redrawn until it is processed and every voucher can be executed.
    live: input.status === "UNPROCESSED" || vouchers.some((v) => !v.executable),
    body: markup`<h2>Input ${index}</h2>
      ${fields([
        ["status", statusBadge(input.status)],
        ["sender", account(input.msgSender, 21)],
        ["L1 block", input.blockNumber],
        ["time", markup`${iso(Number(input.timestamp))} (${time(Number(input.timestamp))})`],
        ["payload", describeInput(decoded)],
        ["raw payload", markup`<span class="mono wrap">${input.payload}</span>`],
      ])}
      <h2>Report</h2>
      ${reports.length === 0 ? markup`<p class="muted">No report${input.status === "UNPROCESSED" ? " yet" : ""}.</p>` : reports}
      <h2>Notices</h2>
      ${
        input.notices.edges.length === 0
          ? markup`<p class="muted">None.</p>`
          : markup`<ul>
              ${input.notices.edges.map(({ node }) => {
                const b = decodeBlockNotice(node.payload);
                return markup`<li>
                  notice ${node.index}:
                  ${
                    b === undefined
                      ? markup`<span class="mono">${node.payload.slice(0, 80)}</span>`
                      : markup`block ${blockLink(b.height)}
                        ${short(b.hash, 12)}${b.parts > 1 ? `, part ${b.part + 1} of ${b.parts}` : ""}`
                  }
                </li>`;
              })}
            </ul>`
      }
      <h2>Vouchers</h2>
      ${
        vouchers.length === 0
          ? markup`<p class="muted">None.</p>`
          : markup`<table class="list vouchers">
              <tr>
                <th>voucher</th>
                <th>pays</th>
                <th>destination</th>
                <th>executable</th>
                <th>executed on L1</th>
              </tr>
              ${vouchers.map(
                (v) =>
                  markup`<tr>
                    <td>${v.index}</td>
                    <td>
                      ${v.payment === undefined ? markup`<span class="mono">${v.payload.slice(0, 42)}…</span>` : markup`${amountOf(v.payment.asset, v.payment.amount)} <span class="mono">${v.payment.asset === "ETH" ? "" : v.payment.asset}</span> to ${account(v.payment.receiver)}`}
                    </td>
                    <td>${short(v.destination, 8)}</td>
                    <td>
                      ${v.executable ? markup`<span class="ok">yes</span>` : markup`<span class="warn">not yet: its epoch is not claimed</span>`}
                    </td>
                    <td>
                      ${v.executed === true ? markup`<span class="ok">yes</span>` : v.executed === false ? "no" : v.executed}
                    </td>
                  </tr>`,
              )}
            </table>`
      }`,
  };
}

/** Links the hashes and block heights in a report line (`describeAccepted`'s sentences). */
function linkify(line: string): Html {
  const tx = /^transaction (0x[0-9a-f]{64}) (.*)$/.exec(line);
  if (tx?.[1] !== undefined) {
    const rest = tx[2] ?? "";
    const sealed = /^sealed in block (\d+)$/.exec(rest);
    return markup`transaction ${txLink(tx[1])}
    ${sealed?.[1] !== undefined ? markup`sealed in block ${blockLink(Number(sealed[1]))}` : rest}`;
  }
  const block = /^sealed block (\d+) (0x[0-9a-f]{64}) (.*)$/.exec(line);
  if (block?.[1] !== undefined && block[2] !== undefined) {
    return markup`sealed block ${blockLink(Number(block[1]))} ${short(block[2], 12)} ${block[3] ?? ""}`;
  }
  return markup`${line}`;
}

const phaseClass = (status: string) =>
  status === "ready" ? "ok" : status === "failed" ? "bad" : "warn";

async function statusPage(api: Api): Promise<Page> {
  const [health, chainId, l1Block, inputs, processed] = await Promise.all([
    api.health(),
    api.rpc("eth_chainId", []).catch((e: unknown) => `unreachable (${message(e)})`),
    api.rpc("eth_blockNumber", []).catch(() => undefined),
    api
      .query<{ inputs: { totalCount: number } }>("{ inputs { totalCount } }")
      .catch(() => undefined),
    api.processedInputs().catch(() => undefined),
  ]);
  const settlement = health.settlement as Record<string, unknown> | undefined;
  const status = String(health.status);
  const num = (v: unknown) => (typeof v === "string" && v.startsWith("0x") ? Number(BigInt(v)) : v);
  return {
    title: "Node",
    live: true,
    body: markup`<h2>Node</h2>
      ${fields([
        ["phase", markup`<span class="${phaseClass(status)}" id="phase">${status}</span>`],
        ...(status === "failed"
          ? ([
              ["failure", markup`<span class="bad" id="failure">${String(health.reason)}</span>`],
              ["what to do", text(health.hint)],
            ] as [string, unknown][])
          : []),
        ...(status === "replaying"
          ? ([["replayed", `${String(health.replayed)} of ${String(health.total)}`]] as [
              string,
              unknown,
            ][])
          : []),
        ["backend", markup`<span class="mono">${api.config.backend}</span>`],
        ["L1 RPC", markup`<span class="mono">${api.config.rpc}</span>`],
        ["L1 chain", num(chainId)],
        ["L1 block", num(l1Block) ?? "unknown"],
        ["application", markup`<span class="mono">${api.config.application}</span>`],
        ["inspect", markup`<span class="mono">${api.config.inspect}</span>`],
        ["inputs seen", inputs?.inputs.totalCount ?? "unknown"],
        ["inputs processed", processed ?? "unknown (inspect does not answer)"],
      ])}
      <h2>Epochs and claims</h2>
      ${
        settlement === undefined
          ? markup`<p class="muted">This node reports no settlement.</p>`
          : fields([
              [
                "mode",
                settlement.mode === "validate"
                  ? "validator: compares the chain's claims with its own"
                  : "claims its epochs",
              ],
              [
                "epoch length",
                `${text(settlement.epoch_length)} L1 block${settlement.epoch_length === 1 ? "" : "s"}`,
              ],
              ["claims", settlement.claims],
              ["last claimed input", settlement.last_claimed_input ?? "none yet"],
              [
                "next claim",
                settlement.next_claim_block === null || settlement.next_claim_block === undefined
                  ? "when inputs arrive"
                  : `after L1 block ${text(settlement.next_claim_block)}`,
              ],
              ...(settlement.mode === "validate"
                ? ([
                    ["claims agreed", settlement.agreed],
                    [
                      "disagreement",
                      settlement.disagreement === null
                        ? "none"
                        : JSON.stringify(settlement.disagreement),
                    ],
                  ] as [string, unknown][])
                : []),
            ])
      }`,
  };
}

async function searchPage(api: Api, query: string): Promise<Page> {
  const target = classifySearch(query);
  /** The pages that match, as [route, label]. */
  const found: [string, string][] = [];
  const go = (route: string) => {
    location.replace(`#/${route}`);
    return { title: "Search", live: false, body: markup`<p>Opening ${route}…</p>` };
  };
  const exists = (p: Promise<unknown>) => p.then(() => true).catch(() => false);
  switch (target.kind) {
    case "invalid":
      return { title: "Search", live: false, body: markup`<p class="bad">${target.why}.</p>` };
    case "address":
      return go(`account/${target.value}`);
    case "hash": {
      if (await exists(api.ledger(`block/${target.value}`))) return go(`block/${target.value}`);
      if (await exists(api.ledger(`tx/${target.value}`))) return go(`tx/${target.value}`);
      break;
    }
    case "number": {
      // A number is a block height or an input index: both are offered when both exist.
      const [block, input] = await Promise.all([
        exists(api.ledger(`block/${target.value}`)),
        exists(oneInput(api, target.value)),
      ]);
      if (block) found.push([`block/${target.value}`, `block ${target.value}`]);
      if (input) found.push([`input/${target.value}`, `input ${target.value}`]);
      const only = found.length === 1 ? found[0] : undefined;
      if (only !== undefined) return go(only[0]);
      break;
    }
  }
  return {
    title: "Search",
    live: false,
    body: markup`<h2>Search <span class="mono">${query}</span></h2>
      ${
        found.length === 0
          ? markup`<p class="muted">Nothing found: no block, transaction or input has that hash or number.</p>`
          : markup`<ul>${found.map(([route, label]) => markup`<li>${link(route, label)}</li>`)}</ul>`
      }`,
  };
}

function route(api: Api, hash: string): Promise<Page> {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...rest] = path.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  const params = new URLSearchParams(query);
  switch (name) {
    case "":
      return chainPage(api);
    case "status":
      return statusPage(api);
    case "inputs":
      return inputsPage(api);
    case "block":
      return blockPage(api, arg, Number(params.get("offset") ?? 0) || 0);
    case "tx":
      return txPage(api, arg);
    case "account":
      return accountPage(api, arg as Address, Number(params.get("offset") ?? 0) || 0);
    case "input":
      return inputPage(api, Number(arg));
    case "search":
      return searchPage(api, arg);
    default:
      return Promise.resolve({
        title: "Not found",
        live: false,
        body: markup`<p class="bad">No page ${hash}.</p>`,
      });
  }
}

/** The failure banner on every page: a failed node says why, whatever page is open. */
async function banner(api: Api, element: HTMLElement): Promise<void> {
  try {
    const health = await api.health();
    element.innerHTML =
      health.status === "failed"
        ? markup`<b>The node has failed:</b> ${String(health.reason)}
            ${markup`<small>${text(health.hint)}</small>`}`.text
        : "";
    element.hidden = health.status !== "failed";
  } catch (e) {
    element.innerHTML = markup`<b>The node does not answer:</b> ${message(e)}`.text;
    element.hidden = false;
  }
}

async function start(): Promise<void> {
  const main = document.getElementById("page");
  const bannerElement = document.getElementById("banner");
  const form = document.getElementById("search");
  if (main === null || bannerElement === null || !(form instanceof HTMLFormElement)) return;
  let api: Api;
  try {
    api = new Api(await fetchConfig());
  } catch (e) {
    main.innerHTML = markup`<p class="bad">
      Cannot read the explorer's configuration: ${message(e)}
    </p>`.text;
    return;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new FormData(form).get("q");
    if (typeof q === "string" && q.trim() !== "")
      location.hash = `#/search/${encodeURIComponent(q.trim())}`;
  });
  let generation = 0;
  let shown = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const draw = async (first: boolean) => {
    const mine = ++generation;
    clearTimeout(timer);
    const hash = location.hash;
    if (first) main.setAttribute("aria-busy", "true");
    let page: Page;
    try {
      page = await route(api, hash);
    } catch (e) {
      page = {
        title: "Error",
        live: true,
        body: markup`<p class="bad" id="error">${message(e)}</p>`,
      };
    }
    void banner(api, bannerElement);
    // A newer navigation started while this one waited: its page wins.
    if (mine !== generation) return;
    if (shown !== page.body.text) {
      main.innerHTML = page.body.text;
      shown = page.body.text;
    }
    document.title = `${page.title} · ledger explorer`;
    main.setAttribute("aria-busy", "false");
    main.dataset.route = hash;
    for (const a of document.querySelectorAll("nav a")) {
      a.classList.toggle("here", a.getAttribute("href") === (hash === "" ? "#/" : hash));
    }
    if (page.live) timer = setTimeout(() => void draw(false), POLL_MS);
  };
  window.addEventListener("hashchange", () => void draw(true));
  await draw(true);
}

void start();

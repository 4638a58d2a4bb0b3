/**
 * The inputs' pages: the latest inputs with what the dApp answered, and one input with its
 * decoded payload, reports, vouchers and notices.
 */
import { type Api, type InputNode, latestInputs, oneInput } from "./api.ts";
import {
  type DecodedInput,
  decodeBlockNotice,
  decodeInput,
  decodeLedgerReport,
  decodeVoucher,
  describeAccepted,
} from "./decode.ts";
import { type Html, markup, short } from "./html.ts";
import {
  type Page,
  account,
  amountOf,
  blockLink,
  fields,
  inputLink,
  iso,
  message,
  time,
  txLink,
} from "./view.ts";

/** Inputs on the inputs view. */
const LATEST_INPUTS = 30;

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

export async function inputsPage(api: Api): Promise<Page> {
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

export async function inputPage(api: Api, index: number): Promise<Page> {
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

/**
 * What every explorer page shares: the `Page` a route draws, the node's block and transaction
 * shapes, and the small pieces of markup (links, times, field tables, transaction tables) the
 * pages are built from.
 */
import { ConsoleError } from "../lib/errors.ts";
import { formatUnits } from "./decode.ts";
import { type Html, age, link, markup, short } from "./html.ts";

export interface Header {
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

export interface Tx {
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

export interface Page {
  title: string;
  body: Html;
  /** Whether the page is redrawn while it is shown. */
  live: boolean;
}

/** A JSON value as text: strings as they are, anything else as JSON, nothing as "". */
export function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export const ZERO_HASH = `0x${"0".repeat(64)}`;

export function message(e: unknown): string {
  if (e instanceof ConsoleError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

export const account = (address: string, keep = 8) =>
  link(`account/${address}`, short(address, keep));
export const blockLink = (height: number) => link(`block/${height}`, height);
export const txLink = (hash: string) => link(`tx/${hash}`, short(hash));
export const inputLink = (index: number) => link(`input/${index}`, `#${index}`);
export const amountOf = (asset: string, amount: string | bigint) =>
  formatUnits(asset, amount.toString());

export const iso = (unixSeconds: number) =>
  new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");

export function time(unixSeconds: number): Html {
  // The genesis block's time is the configured genesis timestamp, 0 by default.
  if (unixSeconds === 0) return markup`<span class="muted">genesis time 0</span>`;
  return markup`<span title="${iso(unixSeconds)}">${age(unixSeconds, Date.now())}</span>`;
}

export function fields(rows: [string, unknown][]): Html {
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

export function txTable(txs: readonly Tx[], empty: string): Html {
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

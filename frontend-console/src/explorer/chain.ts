/**
 * The chain's pages: the latest blocks with the pool, one block with its transactions, and one
 * transaction.
 */
import { link, markup, short } from "./html.ts";
import type { Api } from "./api.ts";
import {
  type Header,
  type Page,
  type Tx,
  ZERO_HASH,
  account,
  amountOf,
  blockLink,
  fields,
  inputLink,
  iso,
  time,
  txTable,
} from "./view.ts";

/** Blocks on the chain view. */
const LATEST_BLOCKS = 20;

export async function chainPage(api: Api): Promise<Page> {
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

export async function blockPage(api: Api, id: string, offset: number): Promise<Page> {
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

export async function txPage(api: Api, hash: string): Promise<Page> {
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

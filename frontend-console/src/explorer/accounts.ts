/** The account page: an address's balances and the transactions that touch it, paged. */
import type { Address } from "viem";
import type { Balance } from "../lib/format.ts";
import type { Api } from "./api.ts";
import { type Html, link, markup } from "./html.ts";
import { type Page, type Tx, account, amountOf, blockLink, txLink } from "./view.ts";

export async function accountPage(api: Api, address: Address, offset: number): Promise<Page> {
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

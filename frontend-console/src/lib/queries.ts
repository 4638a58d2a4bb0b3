/** The ledger's inspect routes, and their JSON reports read with the dApp's errors decoded. */
import type { Address } from "viem";
import { type Asset, assetText } from "./asset.ts";
import { hexToJson } from "./bytes.ts";
import { ConsoleError } from "./errors.ts";
import type { Balance } from "./format.ts";
import { inspect, inspectV2 } from "./inspect.ts";
import type { InspectTarget } from "./reader.ts";
import { dappError, dappFailure } from "./reports.ts";

/** Inspect payloads of the ledger's routes. */
export const routes = {
  info: () => "info",
  balance: (address: Address, asset?: Asset, offset?: number) =>
    asset === undefined
      ? `balance/${address.toLowerCase()}${offset ? `?offset=${offset}` : ""}`
      : `balance/${address.toLowerCase()}/${assetText(asset)}`,
  block: (ref: string) => {
    const r = ref.trim();
    if (!/^(latest|[0-9]+|0x[0-9a-fA-F]{64})$/.test(r)) {
      throw new ConsoleError(
        `invalid block ${JSON.stringify(ref)}`,
        "give latest, a height, or a 0x block hash",
      );
    }
    return `block/${r.toLowerCase()}`;
  },
  pool: (offset: number, limit?: number) =>
    `pool?offset=${offset}${limit === undefined ? "" : `&limit=${limit}`}`,
  tx: (hash: string) => `tx/${hash.toLowerCase()}`,
  /** An account's transactions: sealed ones newest first, then pending ones. */
  txs: (address: Address, offset: number, limit?: number) =>
    `txs/${address.toLowerCase()}?offset=${offset}${limit === undefined ? "" : `&limit=${limit}`}`,
};

/**
 * A ledger inspect route's JSON report, or the dApp's error as a ConsoleError. A string target is
 * a v1 inspect URL.
 */
export async function queryLedger(
  target: InspectTarget | string,
  path: string,
): Promise<Record<string, unknown>> {
  const result =
    typeof target === "string" || target.version === "v1"
      ? await inspect(typeof target === "string" ? target : target.url, path)
      : await inspectV2(target.url, path);
  if (result.httpStatus !== 200) {
    throw new ConsoleError(
      `inspect ${path} answered HTTP ${result.httpStatus}: ${result.body ?? ""}`.trim(),
      "check --url",
    );
  }
  if (result.exceptionPayload !== null) {
    throw new ConsoleError(`inspect ${path} raised an exception`, "see the dev node's log");
  }
  const report = result.reports[0];
  const json = report === undefined ? undefined : hexToJson(report);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConsoleError(
      `inspect ${path} gave no JSON report`,
      "check --url: is this the ledger dApp?",
    );
  }
  const record = json as Record<string, unknown>;
  const error = dappError(record);
  if (error !== undefined) throw dappFailure("", { ...error, code: error.code ?? "ERROR" });
  return record;
}

/** Every balance of an account, following the route's pages. */
export async function fetchBalances(
  url: InspectTarget | string,
  address: Address,
): Promise<Balance[]> {
  const balances: Balance[] = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const page = await queryLedger(url, routes.balance(address, undefined, offset));
    balances.push(...(page.balances as Balance[]));
    const next = typeof page.next_offset === "number" ? page.next_offset : null;
    // A next offset that does not move forward would page forever.
    if (next !== null && next <= offset) {
      throw new ConsoleError(`balance paging did not advance at offset ${offset}`);
    }
    offset = next;
  }
  return balances;
}

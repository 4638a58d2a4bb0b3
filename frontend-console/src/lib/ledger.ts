/**
 * Speaking the ledger dApp: its operations as JSON or ABI payloads (`abi/ILedger.sol`), its
 * reports decoded, and its inspect routes. Inputs are checked here for form (addresses, assets,
 * amounts) so that a typo costs no transaction; the rules (funds, zero amounts, what may be
 * withdrawn) stay the dApp's, and its answer is shown.
 */
import {
  type Address,
  type Hex,
  encodeFunctionData,
  formatEther,
  parseAbi,
  parseEther,
} from "viem";
import { hexToJson } from "./bytes.ts";
import { waitForInput } from "./graphql.ts";
import { inspect } from "./inspect.ts";
import type { Sent } from "./l1.ts";
import { parseAddress } from "./address.ts";
import { ConsoleError } from "./errors.ts";

const MAX_UINT256 = (1n << 256n) - 1n;

export type Asset =
  | { kind: "ETH" }
  | { kind: "COIN" }
  | { kind: "erc20"; token: Address }
  | { kind: "erc721"; token: Address; id: bigint }
  | { kind: "erc1155"; token: Address; id: bigint };

/** Resolves a token given by name (e.g. `SimpleERC20` from the deployment) to its address. */
export type TokenResolver = (name: string) => Address | undefined;

const ASSET_HINT =
  "assets are ETH, COIN, erc20:<token>, erc721:<token>:<id> or erc1155:<token>:<id>";

export function parseUint(text: string, what: string): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) {
    throw new ConsoleError(`${what} is not a non-negative integer: ${JSON.stringify(text)}`);
  }
  const value = BigInt(t);
  if (value > MAX_UINT256) throw new ConsoleError(`${what} does not fit in 256 bits: ${text}`);
  return value;
}

export function parseAsset(text: string, resolve?: TokenResolver): Asset {
  const parts = text.trim().split(":");
  const kind = parts[0]?.toLowerCase();
  const token = (part: string | undefined): Address => {
    const named = part !== undefined && !part.startsWith("0x") ? resolve?.(part) : undefined;
    return named ?? parseAddress(part ?? "", `the token of asset ${JSON.stringify(text)}`);
  };
  if (parts.length === 1 && kind === "eth") return { kind: "ETH" };
  if (parts.length === 1 && kind === "coin") return { kind: "COIN" };
  if (parts.length === 2 && kind === "erc20") return { kind: "erc20", token: token(parts[1]) };
  if (parts.length === 3 && (kind === "erc721" || kind === "erc1155")) {
    return {
      kind,
      token: token(parts[1]),
      id: parseUint(parts[2] ?? "", `the token id of ${JSON.stringify(text)}`),
    };
  }
  throw new ConsoleError(`unknown asset ${JSON.stringify(text)}`, ASSET_HINT);
}

/** The ledger's text form of an asset (lowercase token, decimal id). */
export function assetText(asset: Asset): string {
  switch (asset.kind) {
    case "ETH":
    case "COIN":
      return asset.kind;
    case "erc20":
      return `erc20:${asset.token.toLowerCase()}`;
    case "erc721":
    case "erc1155":
      return `${asset.kind}:${asset.token.toLowerCase()}:${asset.id}`;
  }
}

/**
 * An amount in base units (`1000`, `0x3e8`), or, for ETH and COIN (18 decimals), in whole units
 * with a suffix (`0.5ether`, `2eth`, `1coin`). An ERC-721 token moves whole: the amount is 1.
 */
export function parseAmount(text: string | undefined, asset: Asset): bigint {
  if (text === undefined) {
    if (asset.kind === "erc721") return 1n;
    throw new ConsoleError(
      "--amount is required for this asset",
      "give base units, e.g. --amount 1000, or 0.5ether",
    );
  }
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(ether|eth|coin)\s*$/i.exec(text);
  if (m !== null) {
    if (asset.kind !== "ETH" && asset.kind !== "COIN") {
      throw new ConsoleError(
        `a unit suffix is for ETH and COIN only; give ${assetText(asset)} in base units`,
      );
    }
    const whole = m[1] ?? "";
    if ((whole.split(".")[1] ?? "").length > 18) {
      throw new ConsoleError(
        `${JSON.stringify(text)} has more than 18 decimals`,
        "give base units instead",
      );
    }
    const value = parseEther(whole);
    if (value > MAX_UINT256) throw new ConsoleError(`--amount does not fit in 256 bits: ${text}`);
    return value;
  }
  return parseUint(text, "--amount");
}

export type Operation =
  | { op: "transfer"; to: Address; asset: Asset; amount: bigint }
  | { op: "withdraw"; asset: Asset; amount: bigint }
  | { op: "mine" };

/** The JSON payload: the fields in the ledger's order, amounts as decimal strings. */
export function jsonPayload(operation: Operation): string {
  switch (operation.op) {
    case "transfer":
      return JSON.stringify({
        op: "transfer",
        to: operation.to.toLowerCase(),
        asset: assetText(operation.asset),
        amount: operation.amount.toString(),
      });
    case "withdraw":
      return JSON.stringify({
        op: "withdraw",
        asset: assetText(operation.asset),
        amount: operation.amount.toString(),
      });
    case "mine":
      return JSON.stringify({ op: "mine" });
  }
}

/** The calls of `abi/ILedger.sol` (a test keeps the two in step). */
export const LEDGER_ABI = parseAbi([
  "function transferEther(address to, uint256 amount)",
  "function transferCoin(address to, uint256 amount)",
  "function transferERC20(address token, address to, uint256 amount)",
  "function transferERC721(address token, address to, uint256 tokenId)",
  "function transferERC1155(address token, address to, uint256 tokenId, uint256 amount)",
  "function withdrawEther(uint256 amount)",
  "function withdrawERC20(address token, uint256 amount)",
  "function withdrawERC721(address token, uint256 tokenId)",
  "function withdrawERC1155(address token, uint256 tokenId, uint256 amount)",
  "function mine()",
]);

/** The ABI payload: the ILedger call for the operation. */
export function abiPayload(operation: Operation): Hex {
  if (operation.op === "mine") return encodeFunctionData({ abi: LEDGER_ABI, functionName: "mine" });
  const { asset, amount } = operation;
  if (operation.op === "transfer") {
    const to = operation.to;
    switch (asset.kind) {
      case "ETH":
        return encodeFunctionData({
          abi: LEDGER_ABI,
          functionName: "transferEther",
          args: [to, amount],
        });
      case "COIN":
        return encodeFunctionData({
          abi: LEDGER_ABI,
          functionName: "transferCoin",
          args: [to, amount],
        });
      case "erc20":
        return encodeFunctionData({
          abi: LEDGER_ABI,
          functionName: "transferERC20",
          args: [asset.token, to, amount],
        });
      case "erc721":
        requireWhole(amount);
        return encodeFunctionData({
          abi: LEDGER_ABI,
          functionName: "transferERC721",
          args: [asset.token, to, asset.id],
        });
      case "erc1155":
        return encodeFunctionData({
          abi: LEDGER_ABI,
          functionName: "transferERC1155",
          args: [asset.token, to, asset.id, amount],
        });
    }
  }
  switch (asset.kind) {
    case "ETH":
      return encodeFunctionData({ abi: LEDGER_ABI, functionName: "withdrawEther", args: [amount] });
    case "COIN":
      throw new ConsoleError("COIN exists only inside the ledger and cannot be withdrawn");
    case "erc20":
      return encodeFunctionData({
        abi: LEDGER_ABI,
        functionName: "withdrawERC20",
        args: [asset.token, amount],
      });
    case "erc721":
      requireWhole(amount);
      return encodeFunctionData({
        abi: LEDGER_ABI,
        functionName: "withdrawERC721",
        args: [asset.token, asset.id],
      });
    case "erc1155":
      return encodeFunctionData({
        abi: LEDGER_ABI,
        functionName: "withdrawERC1155",
        args: [asset.token, asset.id, amount],
      });
  }
}

function requireWhole(amount: bigint): void {
  // The ABI call has no amount for an ERC-721 token; anything but 1 would be silently dropped.
  if (amount !== 1n)
    throw new ConsoleError(`an ERC-721 token moves whole: amount must be 1, got ${amount}`);
}

export interface TxRef {
  hash: string;
  status: string;
  block?: number;
}

export interface SealedRef {
  hash: string;
  height: number;
  tx_count: number;
}

export type LedgerReport =
  | {
      accepted: {
        input: number;
        tx_count: number;
        txs: TxRef[];
        sealed_count: number;
        sealed_blocks: SealedRef[];
      };
    }
  | { error: { code: string; message: string } };

/** The ledger's report for an advance input, or undefined when the payload is not one. */
export function decodeLedgerReport(payload: string): LedgerReport | undefined {
  const json = hexToJson(payload);
  if (typeof json !== "object" || json === null) return undefined;
  const record = json as Record<string, unknown>;
  const error = record.error as { code?: unknown; message?: unknown } | null | undefined;
  if (typeof error === "object" && error !== null && typeof error.code === "string") {
    return {
      error: { code: error.code, message: typeof error.message === "string" ? error.message : "" },
    };
  }
  const accepted = record.accepted as Record<string, unknown> | null | undefined;
  if (
    typeof accepted === "object" &&
    accepted !== null &&
    Array.isArray(accepted.txs) &&
    Array.isArray(accepted.sealed_blocks)
  ) {
    return record as LedgerReport;
  }
  return undefined;
}

/** One line per fact of an accepted input: its transactions and the blocks it sealed. */
export function describeAccepted(report: Extract<LedgerReport, { accepted: unknown }>): string[] {
  const a = report.accepted;
  const lines = a.txs.map((tx) =>
    tx.status === "sealed" && tx.block !== undefined
      ? `transaction ${tx.hash} sealed in block ${tx.block}`
      : `transaction ${tx.hash} ${tx.status}`,
  );
  const more = (n: number, what: string) => `… and ${n} more ${what}${n === 1 ? "" : "s"}`;
  if (a.tx_count > a.txs.length) lines.push(more(a.tx_count - a.txs.length, "transaction"));
  for (const b of a.sealed_blocks) {
    lines.push(
      `sealed block ${b.height} ${b.hash} with ${b.tx_count} transaction${b.tx_count === 1 ? "" : "s"}`,
    );
  }
  if (a.sealed_count > a.sealed_blocks.length)
    lines.push(more(a.sealed_count - a.sealed_blocks.length, "block"));
  if (lines.length === 0) lines.push("nothing to do");
  return lines;
}

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
};

export interface Balance {
  asset: string;
  confirmed: string;
  pending: string;
}

/** `1000 (0.000000000000001 ETH)`: base units, and whole units for the 18-decimal assets. */
export function formatUnits(asset: string, amount: string): string {
  if ((asset === "ETH" || asset === "COIN") && /^[0-9]+$/.test(amount) && amount !== "0") {
    return `${amount} (${formatEther(BigInt(amount))} ${asset})`;
  }
  return amount;
}

export function formatBalances(address: string, balances: readonly Balance[]): string[] {
  if (balances.length === 0) return [`${address} holds nothing`];
  const width = Math.max(...balances.map((b) => b.asset.length));
  return [
    address,
    ...balances.map((b) => {
      const pending =
        b.pending === b.confirmed ? "" : `  pending ${formatUnits(b.asset, b.pending)}`;
      return `  ${b.asset.padEnd(width)}  ${formatUnits(b.asset, b.confirmed)}${pending}`;
    }),
  ];
}

/** What to try after each of the dApp's error codes. */
export const ERROR_HINTS: Readonly<Record<string, string>> = {
  INSUFFICIENT_FUNDS: "see `ledger balance`: pending transfers count against the balance",
  DAPP_ADDRESS_UNKNOWN: "run `ledger relay-address` once, so the dApp learns its own address",
  UNKNOWN_ASSET: "assets are ETH, COIN, erc20:<token>, erc721:<token>:<id> or erc1155:<token>:<id>",
  NOT_WITHDRAWABLE: "COIN lives only in the ledger; transfer it instead",
  MALFORMED_PAYLOAD:
    "the ledger takes JSON operations or ILedger ABI calls: use `ledger transfer|withdraw|mine`",
  UNKNOWN_OP: "the operations are transfer, withdraw and mine",
};

/** A ledger inspect route's JSON report, or the dApp's error as a ConsoleError. */
export async function queryLedger(url: string, path: string): Promise<Record<string, unknown>> {
  const result = await inspect(url, path);
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
  const error = record.error as { code?: unknown; message?: unknown } | null | undefined;
  if (typeof error === "object" && error !== null) {
    const code = typeof error.code === "string" ? error.code : "ERROR";
    const message = typeof error.message === "string" ? error.message : "";
    throw new ConsoleError(`${code}: ${message}`, ERROR_HINTS[code]);
  }
  return record;
}

/** Every balance of an account, following the route's pages. */
export async function fetchBalances(url: string, address: Address): Promise<Balance[]> {
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

/** What the node made of a sent input: the dApp's answer as lines and JSON, or why it failed. */
export interface Outcome {
  value: Sent & { status: string; reports: unknown[] };
  lines: string[];
  /** The dApp's report when it accepted the input. */
  accepted?: Extract<LedgerReport, { accepted: unknown }>;
  /** Set when the input was rejected or did not complete. */
  failure?: ConsoleError;
}

/**
 * Waits for the node to process a sent input and reads the dApp's answer: the lines to print
 * (`acceptedLines` instead of the report's, when given) and the JSON value, and a failure for a
 * rejected input (the dApp's error code and message, with what to try) or one that did not end
 * ACCEPTED.
 */
export async function waitOutcome(
  url: string,
  sent: Sent,
  timeoutSeconds: number,
  progress: (line: string) => void,
  acceptedLines?: readonly string[],
): Promise<Outcome> {
  progress(`waiting for the node to process input ${sent.input}...`);
  const result = await waitForInput(url, sent.input, timeoutSeconds * 1000);
  const reports = result.reports.map((p) => decodeLedgerReport(p));
  const value = {
    ...sent,
    status: result.status,
    reports: result.reports.map((p) => hexToJson(p) ?? p),
  };
  const rejection = reports.find((r) => r !== undefined && "error" in r);
  if (result.status === "ACCEPTED") {
    const accepted = reports.find((r) => r !== undefined && "accepted" in r);
    const lines = [`input ${sent.input} accepted`];
    if (acceptedLines !== undefined) lines.push(...acceptedLines);
    else if (accepted !== undefined && "accepted" in accepted)
      lines.push(...describeAccepted(accepted));
    return {
      value,
      lines,
      ...(accepted !== undefined && "accepted" in accepted ? { accepted } : {}),
    };
  }
  if (rejection !== undefined && "error" in rejection) {
    const failure = new ConsoleError(
      `input ${sent.input} was rejected: ${rejection.error.code}: ${rejection.error.message}`,
      ERROR_HINTS[rejection.error.code] ?? "the input changed nothing",
    );
    return { value, lines: [], failure };
  }
  const failure = new ConsoleError(
    `input ${sent.input} ended ${result.status}`,
    "see `report list --input` and the dev node's log",
  );
  return { value, lines: [], failure };
}

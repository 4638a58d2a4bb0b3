/**
 * The ledger's reports: an advance input's answer (accepted, with its transactions and sealed
 * blocks, or the dApp's error), described in lines, and the dApp's error codes turned into
 * console errors with what to try.
 */
import { hexToJson } from "./bytes.ts";
import { ASSET_HINT } from "./asset.ts";
import { ConsoleError } from "./errors.ts";

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

/** What to try after each of the dApp's error codes. */
export const ERROR_HINTS: Readonly<Record<string, string>> = {
  INSUFFICIENT_FUNDS: "see `ledger balance`: pending transfers count against the balance",
  DAPP_ADDRESS_UNKNOWN: "run `ledger relay-address` once, so the dApp learns its own address",
  UNKNOWN_ASSET: ASSET_HINT,
  NOT_WITHDRAWABLE: "COIN lives only in the ledger; transfer it instead",
  MALFORMED_PAYLOAD:
    "the ledger takes JSON operations or ILedger ABI calls: use `ledger transfer|withdraw|mine`",
  UNKNOWN_OP: "the operations are transfer, withdraw and mine",
};

/** The dApp's `{"error": {"code", "message"}}`, with the code when it is a string. */
export function dappError(
  record: Record<string, unknown>,
): { code: string | undefined; message: string } | undefined {
  const error = record.error as { code?: unknown; message?: unknown } | null | undefined;
  if (typeof error !== "object" || error === null) return undefined;
  return {
    code: typeof error.code === "string" ? error.code : undefined,
    message: typeof error.message === "string" ? error.message : "",
  };
}

/** `<prefix>CODE: message`, with the code's hint (else `fallbackHint`). */
export function dappFailure(
  prefix: string,
  error: { code: string; message: string },
  fallbackHint?: string,
): ConsoleError {
  return new ConsoleError(
    `${prefix}${error.code}: ${error.message}`,
    ERROR_HINTS[error.code] ?? fallbackHint,
  );
}

/** The ledger's report for an advance input, or undefined when the payload is not one. */
export function decodeLedgerReport(payload: string): LedgerReport | undefined {
  const json = hexToJson(payload);
  if (typeof json !== "object" || json === null) return undefined;
  const record = json as Record<string, unknown>;
  const error = dappError(record);
  if (error?.code !== undefined) return { error: { code: error.code, message: error.message } };
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

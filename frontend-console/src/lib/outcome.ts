/** What the node made of a sent input: waiting for it, and the dApp's answer read back. */
import { hexToJson } from "./bytes.ts";
import { ConsoleError } from "./errors.ts";
import type { Sent } from "./l1.ts";
import { type Reader, waitForResult } from "./reader.ts";
import { type LedgerReport, decodeLedgerReport, dappFailure, describeAccepted } from "./reports.ts";

/** The dApp's answer to a sent input as lines and JSON, or why it failed. */
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
 * ACCEPTED. A string `reader` is a v1 GraphQL URL.
 */
export async function waitOutcome(
  reader: Reader | string,
  sent: Sent,
  timeoutSeconds: number,
  progress: (line: string) => void,
  acceptedLines?: readonly string[],
): Promise<Outcome> {
  progress(`waiting for the node to process input ${sent.input}...`);
  const target: Reader = typeof reader === "string" ? { version: "v1", url: reader } : reader;
  const result = await waitForResult(target, sent.input, timeoutSeconds * 1000);
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
    const failure = dappFailure(
      `input ${sent.input} was rejected: `,
      rejection.error,
      "the input changed nothing",
    );
    return { value, lines: [], failure };
  }
  const failure = new ConsoleError(
    `input ${sent.input} ended ${result.status}`,
    "see `report list --input` and the dev node's log",
  );
  return { value, lines: [], failure };
}

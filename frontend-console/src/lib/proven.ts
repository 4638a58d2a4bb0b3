/**
 * Outputs with their proofs, whichever Rollups the node runs: found through the reader, then
 * validated (notices) or executed (vouchers) on the application contract. v1 names an output by
 * its input and its index within it and proves it against the History's claim; v2 by its
 * application-wide index, proven by its siblings in the outputs tree.
 */
import type { Address, Hex, PublicClient, TransactionReceipt } from "viem";
import { executeOutput, validateOutput, wasOutputExecuted } from "./application.ts";
import { ConsoleError } from "./errors.ts";
import { type OutputNode, type Proof, fetchOutput } from "./graphql.ts";
import type { L1, Rollups } from "./l1.ts";
import {
  type ProofWait,
  executeVoucher,
  pollFor,
  validateNotice,
  wasVoucherExecuted,
} from "./proofs.ts";
import { type Reader, readOutputV2 } from "./reader.ts";
import type { Output } from "./rpc.ts";

export type Proven =
  | { version: "v1"; index: number; input: number; node: OutputNode; proof: Proof }
  | { version: "v2"; index: number; input: number; output: Output };

/** Whether the voucher ran on L1 (v1 by input and index within it, v2 by its index). */
export function wasExecuted(
  client: PublicClient,
  r: Pick<Rollups, "dapp" | "version">,
  input: number,
  index: number,
): Promise<boolean> {
  return r.version === "v1"
    ? wasVoucherExecuted(client, r.dapp, input, index)
    : wasOutputExecuted(client, r.dapp, index);
}

/** The output with its proof, or undefined while the node has none; an error when not found. */
export async function fetchProven(
  reader: Reader,
  kind: "notice" | "voucher",
  index: number,
  input: number,
): Promise<Proven | undefined> {
  if (reader.version === "v1") {
    const node = await fetchOutput(reader.url, kind, index, input);
    return node.proof ? { version: "v1", index, input, node, proof: node.proof } : undefined;
  }
  const output = await readOutputV2(reader, kind, index, input);
  return output.output_hashes_siblings === null
    ? undefined
    : { version: "v2", index, input, output };
}

/** Polls the node until the output has a proof; undefined at the deadline. */
export function waitProven(
  reader: Reader,
  kind: "notice" | "voucher",
  index: number,
  input: number,
  timeoutMs: number,
  wait: ProofWait,
): Promise<Proven | undefined> {
  return pollFor(() => fetchProven(reader, kind, index, input), timeoutMs, wait);
}

function checkVersion(proven: Proven, r: Rollups): void {
  if (proven.version !== r.version) {
    throw new ConsoleError(
      `the node speaks Rollups ${proven.version} and the contracts are ${r.version}`,
      "check --rollups and the deployment files",
    );
  }
}

export async function executeProven(
  l1: L1,
  r: Rollups,
  proven: Proven,
): Promise<TransactionReceipt> {
  checkVersion(proven, r);
  if (proven.version === "v2") return executeOutput(l1, r.dapp, proven.output);
  const { index, input, node, proof } = proven;
  return executeVoucher(
    l1,
    r,
    { index, input, destination: node.destination as Address, payload: node.payload as Hex },
    proof,
  );
}

export async function validateProven(l1: L1, r: Rollups, proven: Proven): Promise<void> {
  checkVersion(proven, r);
  if (proven.version === "v2") {
    await validateOutput(l1, r.dapp, proven.output);
    return;
  }
  await validateNotice(l1, r, proven.node.payload as Hex, proven.proof);
}

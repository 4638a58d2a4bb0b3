/** What the commands that send an input share: options, sending, and waiting for the answer. */
import type { Argv } from "yargs";
import type { TokenResolver } from "../lib/asset.ts";
import { payloadToHex } from "../lib/bytes.ts";
import { readContractsFromDirs } from "../lib/deployments.ts";
import { type Rollups, type Sent, addInput, connect, rollups } from "../lib/l1.ts";
import { waitOutcome } from "../lib/outcome.ts";
import type { Out } from "../lib/output.ts";
import { type Operation, abiPayload, jsonPayload } from "../lib/payload.ts";
import { type Reader, type ReaderArgs, readerFor } from "../lib/reader.ts";
import { withConnect, withNode } from "./options.ts";

/**
 * Waits for the node to process a sent input and prints the dApp's answer; a rejection fails. A
 * string `reader` is a v1 GraphQL URL.
 */
export async function awaitResult(
  reader: Reader | string,
  sent: Sent,
  timeoutSeconds: number,
  out: Out,
  acceptedLines?: readonly string[],
): Promise<void> {
  const outcome = await waitOutcome(reader, sent, timeoutSeconds, out.progress, acceptedLines);
  if (outcome.failure === undefined) {
    out.result(outcome.lines, outcome.value);
    return;
  }
  if (out.json) out.result([], outcome.value);
  throw outcome.failure;
}

/** The options of a command that sends a ledger operation. */
export function writing<T>(y: Argv<T>) {
  return withNode(withConnect(y), "Reader URL, to wait for the result")
    .option("abi", {
      describe: "Send the ILedger ABI call instead of JSON",
      type: "boolean",
      default: false,
    })
    .option("wait", {
      describe: "Wait for the dApp's answer (--no-wait to only send)",
      type: "boolean",
      default: true,
    })
    .option("timeout", { describe: "Seconds to wait for the answer", type: "number", default: 60 });
}

export type WriteArgs = Parameters<typeof connect>[0] &
  ReaderArgs & {
    abi: boolean;
    wait: boolean;
    timeout: number;
  };

/** Tokens by deployment name (`erc20:SimpleERC20`), from the local deployment files. */
export function resolverFor(deployments: string): TokenResolver {
  let contracts: ReturnType<typeof readContractsFromDirs> | undefined;
  return (name) => {
    contracts ??= readContractsFromDirs([`${deployments}/localhost`]);
    return contracts[name]?.address;
  };
}

/** The operation's payload (JSON, or the ILedger call with --abi), and the line that shows it. */
export function encoded(operation: Operation, abi: boolean) {
  const payload = abi ? abiPayload(operation) : payloadToHex(jsonPayload(operation));
  return { payload, shown: `sending ${abi ? payload : jsonPayload(operation)}` };
}

export async function submit(
  args: WriteArgs,
  out: Out,
  build: (r: Rollups) => Operation,
): Promise<void> {
  const l1 = await connect(args, out.progress);
  const r = rollups(l1, args);
  const operation = build(r);
  out.progress(`using account "${l1.account.address}"`);
  const { payload, shown } = encoded(operation, args.abi);
  out.progress(shown);
  const sent = await addInput(l1, r, payload);
  if (!args.wait) {
    out.result(`input ${sent.input} added`, sent);
    return;
  }
  out.progress(`input ${sent.input} added`);
  await awaitResult(readerFor(args, r.version), sent, args.timeout, out);
}

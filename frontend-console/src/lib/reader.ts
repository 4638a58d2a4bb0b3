/**
 * Reading the node, whichever Rollups it runs: v1 through the GraphQL reader, v2 through the
 * JSON-RPC API. Both give the console the same shapes (an input's result, outputs as
 * `OutputNode`s), so the commands above do not care which one answered.
 */
import { type Address, hexToBigInt } from "viem";
import {
  type RollupsArgs,
  type RollupsVersion,
  parseAddress,
  readAddressFile,
  readRollupsInfo,
  rollupsVersion,
} from "./deployments.ts";
import { ConsoleError } from "./errors.ts";
import * as graphql from "./graphql.ts";
import type { InputResult, OutputKind, OutputNode } from "./graphql.ts";
import * as rpc from "./rpc.ts";
import { join } from "node:path";

export interface ReaderV2 {
  version: "v2";
  rpc: string;
  application: Address;
}

export type Reader = { version: "v1"; url: string } | ReaderV2;

/** The JSON-RPC URL when neither `--rpc-url` nor `rollups.json` gives one. */
export const RPC_URL = "http://localhost:4000/rpc";
/** The reference console's inspect URL (v1). */
export const INSPECT_URL = "http://localhost:5005/inspect";
/** The dev node's v2 inspect base, when neither `--url` nor `rollups.json` gives one. */
export const INSPECT_URL_V2 = "http://localhost:4000/inspect";

/** Where inspects go: v1 `GET <url>/<payload>`, v2 `POST <url>` with the payload as body. */
export interface InspectTarget {
  version: RollupsVersion;
  url: string;
}

/**
 * The inspect target: `--url`, else v1's default, or v2's from `rollups.json` (else the dev
 * node's). A v2 URL ending in `/inspect` gets the application's address appended, so the
 * same base serves any application.
 */
export function inspectTarget(args: {
  url?: string | undefined;
  rollups?: string | undefined;
  deployments: string;
}): InspectTarget {
  const version = rollupsVersion(args);
  if (version === "v1") return { version, url: args.url ?? INSPECT_URL };
  const base = args.url ?? readRollupsInfo(args.deployments)?.inspect ?? INSPECT_URL_V2;
  if (!/\/inspect\/?$/.test(base)) return { version, url: base };
  // Only the deployment's: the commands that inspect use --address for other things.
  const application = applicationOf({ deployments: args.deployments, dapp: "dapp" });
  return { version, url: `${base.replace(/\/+$/, "")}/${application}` };
}

export interface ReaderArgs extends RollupsArgs {
  /** The GraphQL URL (v1). */
  url: string;
  /** `--rpc-url` (v2). */
  rpcUrl?: string | undefined;
}

/**
 * The application a v2 reader asks about: `--address`, `--addressFile`, the `application` of
 * `rollups.json`, else `<deployments>/localhost/<dapp>.json`.
 */
export function applicationOf(args: RollupsArgs): Address {
  if (args.address !== undefined) return parseAddress(args.address, "--address");
  if (args.addressFile !== undefined) return readAddressFile(args.addressFile);
  const info = readRollupsInfo(args.deployments);
  if (info?.application !== undefined) return info.application;
  return readAddressFile(join(args.deployments, "localhost", `${args.dapp}.json`));
}

export function readerFor(
  args: ReaderArgs,
  version: RollupsVersion = rollupsVersion(args),
): Reader {
  if (version === "v1") return { version, url: args.url };
  return {
    version,
    rpc: args.rpcUrl ?? readRollupsInfo(args.deployments)?.rpc ?? RPC_URL,
    application: applicationOf(args),
  };
}

/** Where the reader is, for progress lines. */
export function readerUrl(reader: Reader): string {
  return reader.version === "v1" ? reader.url : reader.rpc;
}

const POLL_MS = 150;

/**
 * Waits until the node has processed the input (v1: its status leaves UNPROCESSED; v2: it leaves
 * NONE), then its status and reports; a ConsoleError after `timeoutMs`.
 */
export async function waitForResult(
  reader: Reader,
  input: number,
  timeoutMs: number,
): Promise<InputResult> {
  if (reader.version === "v1") return graphql.waitForInput(reader.url, input, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await rpc.getInput(reader.rpc, reader.application, input);
    if (found !== undefined && found.status !== "NONE") {
      const reports = await rpc.listReports(reader.rpc, reader.application, input);
      return { index: input, status: found.status, reports: reports.map((r) => r.raw_data) };
    }
    if (Date.now() > deadline) {
      throw new ConsoleError(
        `input ${input} was not processed within ${timeoutMs / 1000} s`,
        "check the dev node's log; --timeout waits longer, --no-wait does not wait",
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * A v2 output as an `OutputNode`: its index is the application-wide output index (what
 * `executeOutput` takes), a voucher has its `value`, and `proof` is set (to the siblings) once
 * the epoch's claim is accepted.
 */
export function outputNode(output: rpc.Output): OutputNode {
  const decoded = output.decoded_data;
  const kind = rpc.outputKind(decoded);
  const value = kind === "Voucher" ? decoded?.value : undefined;
  return {
    index: rpc.fromHex(output.index, "output index"),
    input: { index: rpc.fromHex(output.input_index, "input index") },
    payload: decoded?.payload ?? output.raw_data,
    ...(decoded?.destination === undefined ? {} : { destination: decoded.destination }),
    ...(value === undefined ? {} : { value: hexToBigInt(value).toString() }),
    proof: output.output_hashes_siblings === null ? null : { context: "" },
  };
}

/** Every notice, voucher or report (of one input when `input` is given). */
export async function readOutputs(
  reader: Reader,
  kind: OutputKind,
  input?: number,
  options: { proofs?: boolean } = {},
): Promise<OutputNode[]> {
  if (reader.version === "v1") return graphql.fetchOutputs(reader.url, kind, input, options);
  if (kind === "report") {
    const reports = await rpc.listReports(reader.rpc, reader.application, input);
    return reports.map((r) => ({
      index: rpc.fromHex(r.index, "report index"),
      input: { index: rpc.fromHex(r.input_index, "input index") },
      payload: r.raw_data,
    }));
  }
  const outputs = await rpc.listOutputs(reader.rpc, reader.application, {
    ...(input === undefined ? {} : { input }),
    type: rpc.OUTPUT_TYPES[kind],
  });
  return outputs.map(outputNode);
}

/**
 * One v2 output by its index, checked to belong to `input` (the commands name an output by both,
 * as v1 does); an error naming what is missing.
 */
export async function readOutputV2(
  reader: ReaderV2,
  kind: "notice" | "voucher",
  index: number,
  input: number,
): Promise<rpc.Output> {
  const output = await rpc.getOutput(reader.rpc, reader.application, index);
  const type = kind === "notice" ? "Notice" : "Voucher";
  if (output === undefined || rpc.outputKind(output.decoded_data) !== type) {
    throw new ConsoleError(
      `${kind} ${index} not found`,
      `in Rollups v2 an output's index counts every output of the application: see \`${kind} list\``,
    );
  }
  const of = rpc.fromHex(output.input_index, "input index");
  if (of !== input) {
    throw new ConsoleError(
      `${kind} ${index} belongs to input ${of}, not ${input}`,
      `see \`${kind} list --input ${input}\``,
    );
  }
  return output;
}

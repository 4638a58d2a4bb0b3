/**
 * The Rollups v2 node's JSON-RPC API (`POST <node>/rpc`, JSON-RPC 2.0), typed for the methods the
 * console calls. Indices travel as hex strings (`"0x1f"`), gets and scalars come wrapped as
 * `{"data": …}`, lists as `{data, pagination: {total_count, limit, offset}}` and are followed
 * page by page here, so callers see complete lists. Plain `fetch`, like the GraphQL reader: a
 * handful of fixed calls needs no client library.
 */
import type { Address, Hash, Hex } from "viem";
import { ConsoleError, fetchText } from "./errors.ts";

export type HexNumber = `0x${string}`;

/** The processing status of an input (`NONE` until the node has run it). */
export type InputStatus =
  | "NONE"
  | "ACCEPTED"
  | "REJECTED"
  | "EXCEPTION"
  | "MACHINE_HALTED"
  | "OUTPUTS_LIMIT_EXCEEDED"
  | "CYCLE_LIMIT_EXCEEDED"
  | "TIME_LIMIT_EXCEEDED"
  | "PAYLOAD_LENGTH_LIMIT_EXCEEDED"
  | (string & {});

export interface Input {
  epoch_index: HexNumber;
  index: HexNumber;
  block_number: HexNumber;
  raw_data: Hex;
  status: InputStatus;
}

/**
 * An output's decoded form. Its `type` is the output's selector in the node's API (reference §5:
 * `"0x237a816f"` for a voucher); Cartesi's client packages name it (`"Voucher"`). Both are read,
 * through `outputKind`.
 */
export interface DecodedOutput {
  type: string;
  payload: Hex;
  destination?: Address;
  value?: HexNumber;
}

export type OutputKindName = "Notice" | "Voucher" | "DelegateCallVoucher";

export interface Output {
  epoch_index: HexNumber;
  input_index: HexNumber;
  index: HexNumber;
  /** The output as the application contract takes it (`Notice(…)`/`Voucher(…)` calldata). */
  raw_data: Hex;
  decoded_data: DecodedOutput | null;
  hash: Hash | null;
  /** The 63 siblings of the output in the outputs tree; null until its epoch's claim is accepted. */
  output_hashes_siblings: Hash[] | null;
  execution_transaction_hash: Hash | null;
}

export interface Report {
  epoch_index: HexNumber;
  input_index: HexNumber;
  index: HexNumber;
  raw_data: Hex;
}

/** The `type` filter of `cartesi_listOutputs`: the output's 4-byte selector. */
export const OUTPUT_TYPES = {
  notice: "0xc258d6e5",
  voucher: "0x237a816f",
  delegateCallVoucher: "0x10321e8b",
} as const;

/** The kind of a decoded output, from its `type` as a selector or a name. */
export function outputKind(decoded: DecodedOutput | null): OutputKindName | undefined {
  const type = decoded?.type.toLowerCase();
  if (type === OUTPUT_TYPES.notice || type === "notice") return "Notice";
  if (type === OUTPUT_TYPES.voucher || type === "voucher") return "Voucher";
  if (type === OUTPUT_TYPES.delegateCallVoucher || type === "delegatecallvoucher") {
    return "DelegateCallVoucher";
  }
  return undefined;
}

/** Error codes of the node's API, old and new (reference §5, §5.1). */
export const RPC_ERRORS = {
  notFound: [-31001, -32003],
  applicationNotFound: [-31002, -32000],
  invalidParams: [-32602],
} as const;

/** A JSON-RPC error answer, with its code, for callers that tell "not found" apart. */
export class RpcError extends ConsoleError {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    hint?: string,
  ) {
    super(`${method}: ${message} (JSON-RPC error ${code})`, hint);
    this.name = "RpcError";
  }

  get notFound(): boolean {
    return (RPC_ERRORS.notFound as readonly number[]).includes(this.code);
  }
}

export function toHexIndex(n: number | bigint): HexNumber {
  if (typeof n === "number" && (!Number.isSafeInteger(n) || n < 0)) {
    throw new ConsoleError(`an index must be a non-negative integer, got ${n}`);
  }
  return `0x${n.toString(16)}`;
}

/** A hex number of the API as a JavaScript number; an error when it is not one. */
export function fromHex(value: unknown, what: string): number {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) {
    throw new ConsoleError(`the node's ${what} is not a hex number: ${JSON.stringify(value)}`);
  }
  const n = Number.parseInt(value.slice(2), 16);
  if (!Number.isSafeInteger(n)) throw new ConsoleError(`the node's ${what} is too large: ${value}`);
  return n;
}

let nextId = 1;

/** One JSON-RPC call; an unreachable node, a body that is not JSON-RPC and an error answer fail. */
export async function rpcCall<T>(
  url: string,
  method: string,
  params: Record<string, unknown>,
): Promise<T> {
  const id = nextId++;
  const response = await fetchText(
    url,
    "JSON-RPC API",
    url,
    {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
    },
    "--rpc-url",
  );
  let body: { result?: T; error?: { code?: unknown; message?: unknown } | null };
  try {
    body = (JSON.parse(response.text) ?? {}) as typeof body;
  } catch {
    body = {};
  }
  if (typeof body.error === "object" && body.error !== null) {
    const code = typeof body.error.code === "number" ? body.error.code : 0;
    const message = typeof body.error.message === "string" ? body.error.message : "error";
    const hint = (RPC_ERRORS.applicationNotFound as readonly number[]).includes(code)
      ? "the node does not run this application: check --address and the deployment files"
      : undefined;
    throw new RpcError(method, code, message, hint);
  }
  if (!("result" in body) || body.result === undefined) {
    throw new ConsoleError(
      `${url} answered HTTP ${response.status} without a JSON-RPC result`,
      "check --rpc-url: the node serves JSON-RPC at /rpc",
    );
  }
  return body.result;
}

/** `{data}` of a get or a scalar. */
async function getData<T>(url: string, method: string, params: Record<string, unknown>) {
  const result = await rpcCall<{ data?: T } | null>(url, method, params);
  if (result === null || typeof result !== "object" || result.data === undefined) {
    throw new ConsoleError(`${method} answered without "data"`);
  }
  return result.data;
}

/** A get whose "not found" answer is undefined rather than an error. */
async function getOrUndefined<T>(
  url: string,
  method: string,
  params: Record<string, unknown>,
): Promise<T | undefined> {
  try {
    return await getData<T>(url, method, params);
  } catch (e) {
    if (e instanceof RpcError && e.notFound) return undefined;
    throw e;
  }
}

/** How many items a list call asks for at once (the node allows up to 10,000). */
export const PAGE = 1000;

interface Page<T> {
  data?: T[];
  pagination?: { total_count?: unknown; limit?: unknown; offset?: unknown };
}

/** Every item of a list method, following `pagination` until `total_count` items are read. */
export async function listAll<T>(
  url: string,
  method: string,
  params: Record<string, unknown>,
  limit = PAGE,
): Promise<T[]> {
  const items: T[] = [];
  for (;;) {
    const page = await rpcCall<Page<T>>(url, method, { ...params, limit, offset: items.length });
    if (!Array.isArray(page.data) || typeof page.pagination?.total_count !== "number") {
      throw new ConsoleError(`${method} answered without "data" and "pagination"`);
    }
    items.push(...page.data);
    const total = page.pagination.total_count;
    if (items.length >= total) return items;
    // A page that brings nothing while the total says more would page forever.
    if (page.data.length === 0) {
      throw new ConsoleError(`${method} stopped at ${items.length} of ${total} items`);
    }
  }
}

export function getInput(url: string, application: string, input: number) {
  return getOrUndefined<Input>(url, "cartesi_getInput", {
    application,
    input_index: toHexIndex(input),
  });
}

export function getOutput(url: string, application: string, index: number) {
  return getOrUndefined<Output>(url, "cartesi_getOutput", {
    application,
    output_index: toHexIndex(index),
  });
}

/** Every output (of one input, of one type: `OUTPUT_TYPES`), in the node's (index) order. */
export function listOutputs(
  url: string,
  application: string,
  filter: { input?: number; type?: Hex } = {},
) {
  return listAll<Output>(url, "cartesi_listOutputs", {
    application,
    ...(filter.input === undefined ? {} : { input_index: toHexIndex(filter.input) }),
    ...(filter.type === undefined ? {} : { output_type: filter.type }),
  });
}

export function listReports(url: string, application: string, input?: number) {
  return listAll<Report>(url, "cartesi_listReports", {
    application,
    ...(input === undefined ? {} : { input_index: toHexIndex(input) }),
  });
}

export async function getProcessedInputCount(url: string, application: string): Promise<number> {
  const data = await getData<unknown>(url, "cartesi_getProcessedInputCount", { application });
  return fromHex(data, "processed input count");
}

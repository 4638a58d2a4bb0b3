/**
 * A small fake of the Rollups v2 node's JSON-RPC API (reference §5, §5.1): named snake_case
 * params, hex indices, `{data}` gets and scalars, `{data, pagination}` lists with `limit`
 * (default 50, at most 10,000) and `offset`, and the newer error codes (−31001 not found, −31002
 * application not found, −32602 invalid params). It serves what a test puts in `state` and
 * records every call.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Input, Output, Report } from "../../src/lib/rpc.ts";

export const APP_NAME = "ledger";
export const APP_ADDRESS = "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e";

export interface FakeState {
  inputs: Input[];
  outputs: Output[];
  reports: Report[];
}

export interface Call {
  method: string;
  params: Record<string, unknown>;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

function index(
  params: Record<string, unknown>,
  key: string,
  required: boolean,
): number | undefined {
  const v = params[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]+$/.test(v)) {
    throw new RpcFailure(-32602, `invalid params: ${key} must be a hex number`);
  }
  return Number.parseInt(v.slice(2), 16);
}

function page<T>(items: T[], params: Record<string, unknown>) {
  const limit = params.limit === undefined ? 50 : params.limit;
  const offset = params.offset === undefined ? 0 : params.offset;
  if (typeof limit !== "number" || limit < 1 || typeof offset !== "number" || offset < 0) {
    throw new RpcFailure(-32602, "invalid params: limit and offset");
  }
  const capped = Math.min(limit, 10_000);
  return {
    data: items.slice(offset, offset + capped),
    pagination: { total_count: items.length, limit: capped, offset },
  };
}

export function answer(state: FakeState, method: string, params: Record<string, unknown>): unknown {
  const app = params.application;
  if (typeof app !== "string") throw new RpcFailure(-32602, "invalid params: application");
  if (app !== APP_NAME && app.toLowerCase() !== APP_ADDRESS.toLowerCase()) {
    throw new RpcFailure(-31002, "application not found");
  }
  const inputIndex = (o: { input_index: string }) => Number.parseInt(o.input_index.slice(2), 16);
  switch (method) {
    case "cartesi_getInput": {
      const i = index(params, "input_index", true);
      const input = state.inputs.find((x) => Number.parseInt(x.index.slice(2), 16) === i);
      if (input === undefined) throw new RpcFailure(-31001, "input not found");
      return { data: input };
    }
    case "cartesi_getOutput": {
      const i = index(params, "output_index", true);
      const output = state.outputs.find((x) => Number.parseInt(x.index.slice(2), 16) === i);
      if (output === undefined) throw new RpcFailure(-31001, "output not found");
      return { data: output };
    }
    case "cartesi_listOutputs": {
      const i = index(params, "input_index", false);
      const type = params.output_type;
      const items = state.outputs.filter(
        (o) =>
          (i === undefined || inputIndex(o) === i) &&
          (type === undefined || o.raw_data.slice(0, 10) === type),
      );
      return page(items, params);
    }
    case "cartesi_listReports": {
      const i = index(params, "input_index", false);
      return page(
        state.reports.filter((r) => i === undefined || inputIndex(r) === i),
        params,
      );
    }
    case "cartesi_getProcessedInputCount":
      return { data: hex(state.inputs.filter((x) => x.status !== "NONE").length) };
    default:
      throw new RpcFailure(-32601, "the method does not exist");
  }
}

export interface FakeNode {
  url: string;
  state: FakeState;
  calls: Call[];
  close: () => Promise<void>;
}

export async function startFakeNode(state: FakeState): Promise<FakeNode> {
  const calls: Call[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const request = JSON.parse(body) as {
        id: number;
        method: string;
        params: Record<string, unknown>;
      };
      calls.push({ method: request.method, params: request.params });
      let reply: unknown;
      try {
        reply = {
          jsonrpc: "2.0",
          id: request.id,
          result: answer(state, request.method, request.params),
        };
      } catch (e) {
        const code = e instanceof RpcFailure ? e.code : -32603;
        reply = {
          jsonrpc: "2.0",
          id: request.id,
          error: { code, message: (e as Error).message },
        };
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/rpc`,
    state,
    calls,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => {
          ok();
        });
      }),
  };
}

/** Builders of the API's records, with hex indices. */
export const make = {
  input: (i: number, status: Input["status"]): Input => ({
    epoch_index: "0x0",
    index: hex(i) as Input["index"],
    block_number: hex(10 + i) as Input["block_number"],
    raw_data: "0x415bf363",
    status,
  }),
  output: (
    i: number,
    input: number,
    raw: `0x${string}`,
    decoded: Output["decoded_data"],
    siblings: `0x${string}`[] | null = null,
  ): Output => ({
    epoch_index: "0x0",
    input_index: hex(input) as Output["input_index"],
    index: hex(i) as Output["index"],
    raw_data: raw,
    decoded_data: decoded,
    hash: null,
    output_hashes_siblings: siblings,
    execution_transaction_hash: null,
  }),
  report: (i: number, input: number, raw: `0x${string}`): Report => ({
    epoch_index: "0x0",
    input_index: hex(input) as Report["input_index"],
    index: hex(i) as Report["index"],
    raw_data: raw,
  }),
};

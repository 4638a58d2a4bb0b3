/**
 * The explorer's reads, all through the node's public APIs: GraphQL and `/healthz` on the page's
 * own origin, inspect and the L1 RPC at the addresses the node gives in `config.json`. The
 * console's own functions do the work (`graphql`, `inspect`, `queryLedger`, `fetchBalances`), so
 * errors read the same in both.
 */
import { type Address, type Hex, decodeFunctionResult, encodeFunctionData, parseAbi } from "viem";
import { ConsoleError } from "../lib/errors.ts";
import { graphql } from "../lib/graphql.ts";
import { inspect } from "../lib/inspect.ts";
import type { Balance } from "../lib/format.ts";
import { fetchBalances, queryLedger } from "../lib/queries.ts";

export interface Config {
  inspect: string;
  rpc: string;
  application: string;
  backend: string;
}

export async function fetchConfig(): Promise<Config> {
  const response = await fetch("/explorer/config.json");
  if (!response.ok) throw new ConsoleError(`config.json answered HTTP ${response.status}`);
  return (await response.json()) as Config;
}

export class Api {
  constructor(readonly config: Config) {}

  /** An inspect route's JSON report; the dApp's error as a ConsoleError. */
  ledger(path: string): Promise<Record<string, unknown>> {
    return queryLedger(this.config.inspect, path);
  }

  /** A route's report in the shape the ledger gives it (`crates/ledger/src/query.rs`). */
  async ledgerAs<T>(path: string): Promise<T> {
    return (await this.ledger(path)) as T;
  }

  balances(address: Address): Promise<Balance[]> {
    return fetchBalances(this.config.inspect, address);
  }

  /** How many inputs the backend had processed when it answered an inspect. */
  async processedInputs(): Promise<number | undefined> {
    return (await inspect(this.config.inspect, "info")).processedInputCount;
  }

  query<T>(text: string, variables: Record<string, unknown> = {}): Promise<T> {
    return graphql<T>("/graphql", text, variables);
  }

  /** `/healthz`: the node's phase, its failure, settlement. Answered 503 when not ready. */
  async health(): Promise<Record<string, unknown>> {
    const response = await fetch("/healthz");
    return (await response.json()) as Record<string, unknown>;
  }

  async rpc(method: string, params: readonly unknown[]): Promise<unknown> {
    const response = await fetch(this.config.rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
    if (body.error !== undefined)
      throw new ConsoleError(`L1 ${method}: ${body.error.message ?? ""}`);
    return body.result;
  }

  /** `CartesiDApp.wasVoucherExecuted(input, index)` on L1. */
  async wasVoucherExecuted(input: number, index: number): Promise<boolean> {
    const data = encodeFunctionData({
      abi: DAPP_ABI,
      functionName: "wasVoucherExecuted",
      args: [BigInt(input), BigInt(index)],
    });
    const result = (await this.rpc("eth_call", [
      { to: this.config.application, data },
      "latest",
    ])) as Hex;
    return decodeFunctionResult({
      abi: DAPP_ABI,
      functionName: "wasVoucherExecuted",
      data: result,
    });
  }
}

const DAPP_ABI = parseAbi([
  "function wasVoucherExecuted(uint256 inputIndex, uint256 outputIndexWithinInput) view returns (bool)",
]);

export interface OutputEdge<T> {
  edges: { node: T }[];
  totalCount?: number;
}

export interface InputNode {
  index: number;
  status: string;
  msgSender: string;
  timestamp: string;
  blockNumber: string;
  payload: string;
  reports: OutputEdge<{ index: number; payload: string }>;
  notices: OutputEdge<{ index: number; payload: string }>;
  vouchers: OutputEdge<{
    index: number;
    destination: string;
    payload: string;
    proof: { context: string } | null;
  }>;
}

const INPUT_FIELDS = `index status msgSender timestamp blockNumber payload
  reports(first: 20) { totalCount edges { node { index payload } } }
  notices(first: 20) { totalCount edges { node { index payload } } }
  vouchers(first: 20) { totalCount edges { node { index destination payload proof { context } } } }`;

/** The latest `count` inputs, newest first. */
export async function latestInputs(
  api: Api,
  count: number,
): Promise<{ total: number; inputs: InputNode[] }> {
  const data = await api.query<{
    inputs: { totalCount: number; edges: { node: InputNode }[] };
  }>(
    `query($last: Int) { inputs(last: $last) { totalCount edges { node { ${INPUT_FIELDS} } } } }`,
    {
      last: count,
    },
  );
  return {
    total: data.inputs.totalCount,
    inputs: data.inputs.edges.map((e) => e.node).reverse(),
  };
}

export async function oneInput(api: Api, index: number): Promise<InputNode> {
  const data = await api.query<{ input: InputNode }>(
    `query($index: Int!) { input(index: $index) { ${INPUT_FIELDS} } }`,
    { index },
  );
  return data.input;
}

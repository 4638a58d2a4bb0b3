/**
 * The reader's GraphQL API, with plain `fetch`: the console sends a handful of fixed queries (the
 * reference console's selections, plus paging so that long lists are complete), which needs no
 * client library or code generation.
 */
import { ConsoleError, fetchText } from "./errors.ts";
import { hexToText } from "./bytes.ts";

export type OutputKind = "notice" | "voucher" | "report";

export interface OutputNode {
  index: number;
  input: { index: number };
  payload: string;
  destination?: string;
  /** A Rollups v2 voucher's Ether value, in wei (decimal). */
  value?: string;
  /** The whole proof from `fetchOutput`; from `fetchOutputs` with `proofs`, its `context` only. */
  proof?: Proof | Pick<Proof, "context"> | null;
}

export interface Proof {
  validity: {
    inputIndexWithinEpoch: number;
    outputIndexWithinInput: number;
    outputHashesRootHash: string;
    vouchersEpochRootHash: string;
    noticesEpochRootHash: string;
    machineStateHash: string;
    outputHashInOutputHashesSiblings: string[];
    outputHashesInEpochSiblings: string[];
  };
  context: string;
}

/** What `notice|voucher|report list` print: indices, destination for vouchers, text payloads. */
export interface ListedOutput {
  index: number;
  input: number;
  destination?: string;
  value?: string;
  payload: string;
}

const PAGE = 1000;

export async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const response = await fetchText(url, "GraphQL server", url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const text = response.text;
  let body: { data?: T | null; errors?: { message?: string }[] };
  try {
    // `?? {}`: a body of `null` is JSON too.
    body = (JSON.parse(text) ?? {}) as typeof body;
  } catch {
    throw new ConsoleError(
      `${url} answered HTTP ${response.status} without a GraphQL result`,
      "check --url: the reader is served at /graphql",
    );
  }
  const error = body.errors?.[0];
  if (error !== undefined) {
    throw new ConsoleError(`GraphQL: ${error.message ?? JSON.stringify(error)}`);
  }
  if (body.data === undefined || body.data === null) {
    throw new ConsoleError(`${url} answered HTTP ${response.status} with no data`);
  }
  return body.data;
}

function fieldsOf(kind: OutputKind): string {
  return kind === "voucher"
    ? "index input { index } destination payload"
    : "index input { index } payload";
}

interface Connection {
  edges: { node: OutputNode }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Every notice, voucher or report (of one input when `input` is given), following the pages.
 * With `proofs`, each node's `proof` is asked for too, only as far as `context`: enough to tell
 * whether there is one.
 */
export async function fetchOutputs(
  url: string,
  kind: OutputKind,
  input?: number,
  { proofs = false }: { proofs?: boolean } = {},
): Promise<OutputNode[]> {
  const plural = `${kind}s`;
  const fields = `${fieldsOf(kind)}${proofs && kind !== "report" ? " proof { context }" : ""}`;
  const page = `${plural}(first: $first, after: $after) { edges { node { ${fields} } } pageInfo { hasNextPage endCursor } }`;
  const query =
    input === undefined
      ? `query ${plural}($first: Int, $after: String) { ${page} }`
      : `query ${plural}ByInput($inputIndex: Int!, $first: Int, $after: String) { input(index: $inputIndex) { ${page} } }`;
  const nodes: OutputNode[] = [];
  let after: string | null = null;
  for (;;) {
    const variables: Record<string, unknown> = { first: PAGE, after };
    if (input !== undefined) variables.inputIndex = input;
    const data = await graphql<Record<string, unknown>>(url, query, variables);
    const holder = input === undefined ? data : (data.input as Record<string, unknown> | null);
    if (holder === null) throw new ConsoleError(`input ${input} not found`);
    const connection = holder[plural] as Connection;
    nodes.push(...connection.edges.map((e) => e.node));
    const next = connection.pageInfo.endCursor;
    if (!connection.pageInfo.hasNextPage || next === null) return nodes;
    // A reader that hands back the same cursor would page forever.
    if (next === after) throw new ConsoleError(`${url} repeated the page cursor ${next}`);
    after = next;
  }
}

/** The list commands' output: sorted by (input, index), payloads decoded as UTF-8 when they are. */
export function listOutputs(nodes: readonly OutputNode[]): ListedOutput[] {
  return [...nodes]
    .sort((a, b) => a.input.index - b.input.index || a.index - b.index)
    .map((n) => ({
      index: n.index,
      input: n.input.index,
      ...(n.destination === undefined ? {} : { destination: n.destination }),
      ...(n.value === undefined ? {} : { value: n.value }),
      payload: hexToText(n.payload),
    }));
}

const PROOF = `proof { validity { inputIndexWithinEpoch outputIndexWithinInput outputHashesRootHash
  vouchersEpochRootHash noticesEpochRootHash machineStateHash outputHashInOutputHashesSiblings
  outputHashesInEpochSiblings } context }`;

/** One notice or voucher with its proof (null until the node has proven its epoch). */
export async function fetchOutput(
  url: string,
  kind: "notice" | "voucher",
  index: number,
  input: number,
): Promise<OutputNode & { proof: Proof | null }> {
  const query = `query ${kind}($outputIndex: Int!, $inputIndex: Int!) {
    ${kind}(${kind}Index: $outputIndex, inputIndex: $inputIndex) { ${fieldsOf(kind)} ${PROOF} } }`;
  const data = await graphql<Record<string, OutputNode>>(url, query, {
    outputIndex: index,
    inputIndex: input,
  });
  const node = data[kind] as OutputNode | null | undefined;
  if (node === undefined || node === null)
    throw new ConsoleError(`${kind} ${index} of input ${input} not found`);
  return { ...node, proof: (node.proof as Proof | null | undefined) ?? null };
}

export interface InputResult {
  index: number;
  status: string;
  reports: string[];
}

/** An input's completion status and its reports' payloads; undefined while the reader lacks it. */
export async function fetchInputResult(
  url: string,
  input: number,
): Promise<InputResult | undefined> {
  const query = `query inputResult($before: Int!) { inputs(where: { indexGreaterThan: $before }, first: 1) {
    edges { node { index status reports { edges { node { payload } } } } } } }`;
  type Data = {
    inputs: {
      edges: {
        node: {
          index: number;
          status: string;
          reports: { edges: { node: { payload: string } }[] };
        };
      }[];
    };
  };
  const data = await graphql<Data>(url, query, { before: input - 1 });
  const node = data.inputs.edges[0]?.node;
  if (node?.index !== input) return undefined;
  return {
    index: node.index,
    status: node.status,
    reports: node.reports.edges.map((e) => e.node.payload),
  };
}

/**
 * Waits until the node has processed the input (its status leaves UNPROCESSED), polling the
 * reader; a ConsoleError after `timeoutMs`.
 */
export async function waitForInput(
  url: string,
  input: number,
  timeoutMs: number,
): Promise<InputResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await fetchInputResult(url, input);
    if (result !== undefined && result.status !== "UNPROCESSED") return result;
    if (Date.now() > deadline) {
      throw new ConsoleError(
        `input ${input} was not processed within ${timeoutMs / 1000} s`,
        "check the dev node's log; --timeout waits longer, --no-wait does not wait",
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

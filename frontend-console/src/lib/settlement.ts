/**
 * When an output's proof will come. The dev node serves its settlement status on `/healthz` beside
 * its GraphQL endpoint: the epoch length, the last claimed input and the L1 block of its next
 * claim. Other nodes (Cartesi's own) have no such endpoint, or no `settlement` in it; then all the
 * console can say is that the proof is not available yet, so every failure here means "unknown",
 * never an error.
 */
import { createPublicClient, http } from "viem";

export interface Settlement {
  /** L1 blocks per epoch. */
  epochLength: number;
  /** The last input of the last claim; null before the first claim. */
  lastClaimedInput: number | null;
  /** The last L1 block of the first unclaimed input's epoch (claimed once L1 has it); null when
   * no input waits. */
  nextClaimBlock: number | null;
  /** Why the node stopped processing, when it did: then no proof comes until it restarts. */
  failure?: string;
}

/** How long `/healthz` may take: it only adds detail to a message, so it must not hold one up. */
const HEALTHZ_TIMEOUT_MS = 2000;

/**
 * The `/healthz` URL beside a GraphQL or JSON-RPC URL (`…/graphql` or `…/rpc` → `…/healthz`,
 * query dropped); undefined when the URL ends with neither, as then there is nothing to derive
 * it from.
 */
export function healthzUrl(graphqlUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(graphqlUrl);
  } catch {
    return undefined;
  }
  const path = url.pathname.replace(/\/+$/, "");
  const api = ["/graphql", "/rpc"].find((end) => path.endsWith(end));
  if (api === undefined) return undefined;
  url.pathname = `${path.slice(0, -api.length)}/healthz`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The `settlement` member of a `/healthz` body, with the node's failure when its status is
 * `failed`; undefined when the member is absent or malformed.
 */
export function parseSettlement(body: unknown): Settlement | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { settlement: s, status, reason } = body as Record<string, unknown>;
  if (typeof s !== "object" || s === null) return undefined;
  const { epoch_length, last_claimed_input, next_claim_block } = s as Record<string, unknown>;
  if (!isCount(epoch_length) || epoch_length === 0) return undefined;
  if (last_claimed_input !== null && !isCount(last_claimed_input)) return undefined;
  if (next_claim_block !== null && !isCount(next_claim_block)) return undefined;
  return {
    epochLength: epoch_length,
    lastClaimedInput: last_claimed_input,
    nextClaimBlock: next_claim_block,
    ...(status === "failed"
      ? { failure: typeof reason === "string" && reason !== "" ? reason : "no reason given" }
      : {}),
  };
}

/**
 * The node's settlement status, or undefined when it has none to give (no `/healthz`, not JSON,
 * no `settlement`, unreachable, slow). Any HTTP status is read: a node that is not ready may
 * still say when it claims.
 */
export async function fetchSettlement(
  graphqlUrl: string,
  timeoutMs = HEALTHZ_TIMEOUT_MS,
): Promise<Settlement | undefined> {
  const url = healthzUrl(graphqlUrl);
  if (url === undefined) return undefined;
  try {
    const response = await fetch(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return parseSettlement(JSON.parse(await response.text()));
  } catch {
    return undefined;
  }
}

/** The chain's current block number, or undefined when the chain does not answer. */
export async function currentBlock(
  rpc: string,
  timeoutMs = HEALTHZ_TIMEOUT_MS,
): Promise<bigint | undefined> {
  try {
    const client = createPublicClient({
      transport: http(rpc, { retryCount: 0, timeout: timeoutMs }),
    });
    return await client.getBlockNumber({ cacheTime: 0 });
  } catch {
    return undefined;
  }
}

/** What the console knows of an output's coming proof, for the JSON output. */
export interface EpochStatus extends Settlement {
  currentBlock: number | null;
  /** nextClaimBlock − currentBlock, when both are known. */
  blocksLeft: number | null;
}

export function epochStatus(settlement: Settlement, block: bigint | undefined): EpochStatus {
  const current = block === undefined ? null : Number(block);
  const next = settlement.nextClaimBlock;
  return {
    ...settlement,
    currentBlock: current,
    blocksLeft: current === null || next === null ? null : next - current,
  };
}

const blocks = (n: number) => `${n} L1 block${n === 1 ? "" : "s"}`;

/**
 * One sentence on when the proof of an output of `input` should come: never while the node has
 * stopped, shortly when its epoch is claimed, else when the epoch ends (so many L1 blocks away, or
 * already over). Undefined when there is nothing to say: the caller then says only that there is
 * no proof yet.
 */
export function describeEpoch(input: number, status: EpochStatus | undefined): string | undefined {
  if (status === undefined) return undefined;
  const { lastClaimedInput, nextClaimBlock, blocksLeft, epochLength, failure } = status;
  if (failure !== undefined) {
    return `the dev node stopped processing and claims nothing until it restarts: ${failure}`;
  }
  if (lastClaimedInput !== null && input <= lastClaimedInput) {
    return `input ${input} is in a claimed epoch (inputs up to ${lastClaimedInput}): its proof should be served shortly`;
  }
  const length = `epochs of ${blocks(epochLength)}`;
  if (nextClaimBlock === null) return undefined;
  if (blocksLeft === null) {
    return `the epoch ends with L1 block ${nextClaimBlock}, when the node claims it (${length})`;
  }
  if (blocksLeft > 0) {
    return `the epoch ends in ${blocks(blocksLeft)}, with L1 block ${nextClaimBlock}, when the node claims it (${length})`;
  }
  return `the epoch ended with L1 block ${nextClaimBlock}: the node claims it once it has read that block and processed the epoch's inputs`;
}

/** The node's settlement status with the chain's block, when the node tells it. */
export async function probeEpoch(
  graphqlUrl: string,
  rpc: string,
): Promise<EpochStatus | undefined> {
  const settlement = await fetchSettlement(graphqlUrl);
  if (settlement === undefined) return undefined;
  return epochStatus(settlement, await currentBlock(rpc));
}

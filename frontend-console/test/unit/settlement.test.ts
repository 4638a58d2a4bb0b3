/** The node's settlement status on /healthz, the chain's block, and what they say of a proof. */
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { closedPortUrl } from "./helpers.ts";
import {
  type EpochStatus,
  currentBlock,
  describeEpoch,
  epochStatus,
  fetchSettlement,
  healthzUrl,
  parseSettlement,
  probeEpoch,
} from "../../src/lib/settlement.ts";

const settlementBody = (last: number | null = 6) => ({
  status: "ready",
  settlement: { epoch_length: 4, last_claimed_input: last, next_claim_block: 123 },
});

describe("healthzUrl", () => {
  it("replaces the trailing /graphql path with /healthz", () => {
    assert.equal(healthzUrl("http://localhost:4000/graphql"), "http://localhost:4000/healthz");
    assert.equal(healthzUrl("http://127.0.0.1:4000/graphql/"), "http://127.0.0.1:4000/healthz");
    assert.equal(
      healthzUrl("https://node.example/app/graphql?x=1#y"),
      "https://node.example/app/healthz",
    );
  });

  it("and the trailing /rpc path of a v2 node's JSON-RPC URL", () => {
    assert.equal(healthzUrl("http://127.0.0.1:4000/rpc"), "http://127.0.0.1:4000/healthz");
    assert.equal(healthzUrl("http://127.0.0.1:4000/rpcx"), undefined);
  });

  it("has nothing to derive from a URL without /graphql, or not a URL", () => {
    assert.equal(healthzUrl("http://localhost:4000/reader"), undefined);
    assert.equal(healthzUrl("http://localhost:4000/graphqlx"), undefined);
    assert.equal(healthzUrl("localhost:4000/graphql x"), undefined);
    assert.equal(healthzUrl("not a url"), undefined);
  });
});

describe("parseSettlement", () => {
  it("reads the settlement member", () => {
    assert.deepEqual(parseSettlement(settlementBody()), {
      epochLength: 4,
      lastClaimedInput: 6,
      nextClaimBlock: 123,
    });
  });

  it("keeps a null last claimed input (before the first claim)", () => {
    assert.equal(parseSettlement(settlementBody(null))?.lastClaimedInput, null);
  });

  it("keeps a null next claim block (no input waits) and ignores other members", () => {
    const body = {
      status: "ready",
      settlement: {
        mode: "claim",
        claims: 2,
        epoch_length: 1,
        last_claimed_input: 6,
        next_claim_block: null,
      },
    };
    assert.deepEqual(parseSettlement(body), {
      epochLength: 1,
      lastClaimedInput: 6,
      nextClaimBlock: null,
    });
  });

  it("carries a failed node's reason", () => {
    const failed = { ...settlementBody(), status: "failed", reason: "claim disagreement" };
    assert.equal(parseSettlement(failed)?.failure, "claim disagreement");
    assert.equal(parseSettlement({ ...failed, reason: 3 })?.failure, "no reason given");
  });

  it("is undefined when the member is absent or malformed", () => {
    const bad = (settlement: unknown) => parseSettlement({ status: "ready", settlement });
    assert.equal(parseSettlement({ status: "ready" }), undefined);
    assert.equal(parseSettlement(null), undefined);
    assert.equal(parseSettlement("ready"), undefined);
    assert.equal(bad(null), undefined);
    assert.equal(bad({ epoch_length: 4, next_claim_block: 1 }), undefined, "no last claim");
    assert.equal(bad({ epoch_length: 4, last_claimed_input: 1 }), undefined, "no next block");
    assert.equal(
      bad({ epoch_length: 0, last_claimed_input: null, next_claim_block: 1 }),
      undefined,
    );
    assert.equal(bad({ epoch_length: 4, last_claimed_input: -1, next_claim_block: 1 }), undefined);
    assert.equal(bad({ epoch_length: 4, last_claimed_input: 1, next_claim_block: "9" }), undefined);
    assert.equal(bad({ epoch_length: 1.5, last_claimed_input: 1, next_claim_block: 9 }), undefined);
  });
});

describe("epochStatus and describeEpoch", () => {
  const settlement = { epochLength: 4, lastClaimedInput: 6, nextClaimBlock: 123 };

  it("counts the blocks left to the claim, none without a block or a claim block", () => {
    assert.deepEqual(epochStatus(settlement, 120n), {
      epochLength: 4,
      lastClaimedInput: 6,
      nextClaimBlock: 123,
      currentBlock: 120,
      blocksLeft: 3,
    });
    assert.equal(epochStatus(settlement, undefined).blocksLeft, null);
    assert.equal(epochStatus({ ...settlement, nextClaimBlock: null }, 120n).blocksLeft, null);
  });

  const status = (blocksLeft: number | null, last: number | null = 6): EpochStatus => ({
    epochLength: 4,
    lastClaimedInput: last,
    nextClaimBlock: 123,
    currentBlock: blocksLeft === null ? null : 123 - blocksLeft,
    blocksLeft,
  });

  it("says how many blocks the epoch has left", () => {
    assert.equal(
      describeEpoch(7, status(3)),
      "the epoch ends in 3 L1 blocks, with L1 block 123, when the node claims it (epochs of 4 L1 blocks)",
    );
    assert.match(describeEpoch(7, status(1)) ?? "", /^the epoch ends in 1 L1 block, /);
    assert.match(describeEpoch(0, status(2, null)) ?? "", /^the epoch ends in 2 L1 blocks/);
  });

  it("says the claim is due once its block is reached", () => {
    assert.equal(
      describeEpoch(7, status(0)),
      "the epoch ended with L1 block 123: the node claims it once it has read that block and processed the epoch's inputs",
    );
    assert.match(describeEpoch(7, status(-2)) ?? "", /^the epoch ended with L1 block 123:/);
  });

  it("names the claim block when the chain's block is unknown", () => {
    assert.equal(
      describeEpoch(7, status(null)),
      "the epoch ends with L1 block 123, when the node claims it (epochs of 4 L1 blocks)",
    );
  });

  it("says an input of a claimed epoch has its proof coming", () => {
    assert.equal(
      describeEpoch(6, status(3)),
      "input 6 is in a claimed epoch (inputs up to 6): its proof should be served shortly",
    );
  });

  it("says nothing without a status, or without an epoch waiting for a claim", () => {
    assert.equal(describeEpoch(7, undefined), undefined);
    assert.equal(describeEpoch(7, { ...status(null), nextClaimBlock: null }), undefined);
  });

  it("says a stopped node claims nothing, before anything else", () => {
    assert.equal(
      describeEpoch(6, { ...status(3), failure: "claim disagreement: claim 0" }),
      "the dev node stopped processing and claims nothing until it restarts: claim disagreement: claim 0",
    );
  });
});

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let base = "";
let handler: Handler = (_req, _body, res) => res.writeHead(500).end();
let paths: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      paths.push(`${req.method ?? ""} ${req.url ?? ""}`);
      handler(req, body, res);
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) =>
    server.close(() => {
      ok();
    }),
  );
});

beforeEach(() => {
  paths = [];
});

const json =
  (status: number, value: unknown) => (_req: IncomingMessage, _b: string, res: ServerResponse) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));

describe("fetchSettlement", () => {
  it("reads /healthz beside the GraphQL URL", async () => {
    handler = json(200, settlementBody());
    assert.deepEqual(await fetchSettlement(`${base}/graphql`), {
      epochLength: 4,
      lastClaimedInput: 6,
      nextClaimBlock: 123,
    });
    assert.deepEqual(paths, ["GET /healthz"]);
  });

  it("reads a settlement from a node that is not ready", async () => {
    handler = json(503, { ...settlementBody(null), status: "replaying" });
    assert.equal((await fetchSettlement(`${base}/graphql`))?.lastClaimedInput, null);
  });

  it("is undefined for a node without /healthz or without settlement", async () => {
    handler = (_req, _b, res) => res.writeHead(404, { "content-type": "text/plain" }).end("no");
    assert.equal(await fetchSettlement(`${base}/graphql`), undefined);
    handler = json(200, { status: "ready" });
    assert.equal(await fetchSettlement(`${base}/graphql`), undefined);
  });

  it("is undefined for a URL it cannot derive /healthz from, asking nothing", async () => {
    assert.equal(await fetchSettlement(`${base}/reader`), undefined);
    assert.deepEqual(paths, []);
  });

  it("is undefined for an unreachable or slow server", async () => {
    assert.equal(await fetchSettlement(`${await closedPortUrl()}/graphql`), undefined);
    handler = () => undefined; // never answers
    assert.equal(await fetchSettlement(`${base}/graphql`, 50), undefined);
  });
});

/** A JSON-RPC server answering eth_blockNumber with `block`. */
const rpc = (block: bigint) => (_req: IncomingMessage, body: string, res: ServerResponse) => {
  const request = JSON.parse(body) as { id: number; method: string };
  const result = request.method === "eth_blockNumber" ? `0x${block.toString(16)}` : null;
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", id: request.id, result }));
};

describe("currentBlock", () => {
  it("asks the chain for its block number", async () => {
    handler = rpc(120n);
    assert.equal(await currentBlock(base), 120n);
  });

  it("is undefined when the chain does not answer", async () => {
    assert.equal(await currentBlock(await closedPortUrl()), undefined);
  });
});

describe("probeEpoch", () => {
  it("joins the node's settlement and the chain's block", async () => {
    handler = (req, body, res) => {
      if (req.url === "/healthz") json(200, settlementBody())(req, body, res);
      else rpc(121n)(req, body, res);
    };
    const status = await probeEpoch(`${base}/graphql`, base);
    assert.equal(status?.blocksLeft, 2);
    assert.equal(status.currentBlock, 121);
  });

  it("does not ask the chain when the node has no settlement", async () => {
    handler = json(404, {});
    assert.equal(await probeEpoch(`${base}/graphql`, base), undefined);
    assert.deepEqual(paths, ["GET /healthz"]);
  });
});

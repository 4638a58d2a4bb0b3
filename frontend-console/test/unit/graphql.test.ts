/** The reader's GraphQL and inspect APIs, against a local HTTP server that records the requests. */
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { closedPortUrl } from "./helpers.ts";
import { hexToString, stringToHex } from "viem";
import { ConsoleError } from "../../src/lib/errors.ts";
import {
  type OutputNode,
  fetchInputResult,
  fetchOutput,
  fetchOutputs,
  listOutputs,
  waitForInput,
} from "../../src/lib/graphql.ts";
import { formatInspect, inspect, inspectUrl } from "../../src/lib/inspect.ts";
import { waitOutcome } from "../../src/lib/outcome.ts";
import { fetchBalances, queryLedger } from "../../src/lib/queries.ts";

interface Seen {
  method: string;
  url: string;
  query: string;
  variables: Record<string, unknown>;
}

type Answer = { status?: number; json?: unknown; text?: string };

let server: Server;
let base = "";
let graphqlUrl = "";
let seen: Seen[] = [];
let answers: Answer[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", () => {
    let query = "";
    let variables: Record<string, unknown> = {};
    if (body !== "") {
      const parsed = JSON.parse(body) as { query: string; variables: Record<string, unknown> };
      query = parsed.query;
      variables = parsed.variables;
    }
    seen.push({ method: req.method ?? "", url: req.url ?? "", query, variables });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer === undefined) {
      res.writeHead(500).end("no answer prepared");
      return;
    }
    const json = answer.json !== undefined;
    res.writeHead(answer.status ?? 200, {
      "content-type": json ? "application/json" : "text/plain",
    });
    res.end(json ? JSON.stringify(answer.json) : (answer.text ?? ""));
  });
}

/** The server answers these in turn, repeating the last one. */
function answer(...list: Answer[]): void {
  answers = list;
}

/** The i-th request the server received. */
function request(i: number): Seen {
  const r = seen[i];
  assert.ok(r !== undefined, `no request ${i}`);
  return r;
}

async function rejectsConsoleError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ConsoleError, `expected a ConsoleError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  graphqlUrl = `${base}/graphql`;
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
  seen = [];
  answers = [];
});

const node = (input: number, index: number, payload: string, destination?: string) => ({
  node: {
    index,
    input: { index: input },
    payload,
    ...(destination === undefined ? {} : { destination }),
  },
});

const page = (
  field: string,
  edges: ReturnType<typeof node>[],
  endCursor: string | null,
  hasNextPage: boolean,
) => ({ data: { [field]: { edges, pageInfo: { hasNextPage, endCursor } } } });

describe("fetchOutputs", () => {
  it("follows the pages and concatenates them", async () => {
    answer(
      { json: page("notices", [node(0, 0, "0x61"), node(0, 1, "0x62")], "MA==", true) },
      { json: page("notices", [node(1, 0, "0x63")], "Mg==", false) },
    );
    const nodes = await fetchOutputs(graphqlUrl, "notice");
    assert.deepEqual(
      nodes.map((n) => [n.input.index, n.index, n.payload]),
      [
        [0, 0, "0x61"],
        [0, 1, "0x62"],
        [1, 0, "0x63"],
      ],
    );
    assert.equal(seen.length, 2);
    const first = request(0);
    assert.equal(first.method, "POST");
    assert.equal(first.url, "/graphql");
    assert.match(first.query, /notices\(first: \$first, after: \$after\)/);
    assert.doesNotMatch(first.query, /destination/);
    assert.deepEqual(first.variables, { first: 1000, after: null });
    assert.deepEqual(request(1).variables, { first: 1000, after: "MA==" });
  });

  it("fails instead of paging forever when the reader repeats its cursor", async () => {
    answer({ json: page("notices", [node(0, 0, "0x61")], "MA==", true) });
    await rejectsConsoleError(fetchOutputs(graphqlUrl, "notice"), /repeated the page cursor MA==/);
    assert.equal(seen.length, 2);
  });

  it("stops at a page without an end cursor", async () => {
    answer(
      { json: page("reports", [node(0, 0, "0x61")], null, true) },
      { json: page("reports", [node(9, 9, "0x62")], null, false) },
    );
    assert.equal((await fetchOutputs(graphqlUrl, "report")).length, 1);
    assert.equal(seen.length, 1);
  });

  it("asks for one input's outputs with input(index: $inputIndex)", async () => {
    answer({
      json: {
        data: {
          input: {
            vouchers: {
              edges: [node(4, 0, "0x01", "0x5fbdb2315678afecb367f032d93f642f64180aa3")],
              pageInfo: { hasNextPage: false, endCursor: "MA==" },
            },
          },
        },
      },
    });
    const nodes = await fetchOutputs(graphqlUrl, "voucher", 4);
    assert.deepEqual(nodes, [
      {
        index: 0,
        input: { index: 4 },
        payload: "0x01",
        destination: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      },
    ]);
    const sent = request(0);
    assert.match(sent.query, /\$inputIndex: Int!/);
    assert.match(sent.query, /input\(index: \$inputIndex\) \{ vouchers\(/);
    assert.match(sent.query, /destination/);
    assert.deepEqual(sent.variables, { first: 1000, after: null, inputIndex: 4 });
  });

  it("asks whether each output has a proof only with `proofs`, and never for reports", async () => {
    answer({ json: page("vouchers", [], null, false) });
    await fetchOutputs(graphqlUrl, "voucher", undefined, { proofs: true });
    assert.match(request(0).query, /destination payload proof \{ context \}/);
    await fetchOutputs(graphqlUrl, "voucher");
    assert.doesNotMatch(request(1).query, /proof/);
    answer({ json: page("reports", [], null, false) });
    await fetchOutputs(graphqlUrl, "report", undefined, { proofs: true });
    assert.doesNotMatch(request(2).query, /proof/);
  });

  it("says an input is not found when the reader answers null", async () => {
    answer({ json: { data: { input: null } } });
    await rejectsConsoleError(fetchOutputs(graphqlUrl, "notice", 9), /^input 9 not found$/);
  });

  it("turns a GraphQL error into a ConsoleError", async () => {
    answer({ json: { errors: [{ message: "notice not found" }], data: null } });
    await rejectsConsoleError(fetchOutputs(graphqlUrl, "notice"), /notice not found/);
  });

  it("turns an answer without data into a ConsoleError", async () => {
    answer({ json: { data: null } });
    await rejectsConsoleError(fetchOutputs(graphqlUrl, "notice"), /HTTP 200 with no data/);
  });

  it("turns a null JSON answer into a ConsoleError with the HTTP status", async () => {
    answer({ status: 502, json: null });
    await rejectsConsoleError(fetchOutputs(graphqlUrl, "notice"), /answered HTTP 502 with no data/);
  });

  it("turns a non-JSON answer into a ConsoleError with the HTTP status", async () => {
    answer({ status: 404, text: "Cannot POST /graphq" });
    await rejectsConsoleError(
      fetchOutputs(`${base}/graphq`, "notice"),
      /\/graphq answered HTTP 404 without a GraphQL result/,
    );
  });

  it("says when the server cannot be reached", async () => {
    const url = `${await closedPortUrl()}/graphql`;
    await assert.rejects(fetchOutputs(url, "notice"), (e: unknown) => {
      assert.ok(e instanceof ConsoleError);
      assert.equal(e.message, `cannot reach the GraphQL server at ${url}`);
      assert.match(e.hint ?? "", /--url/);
      return true;
    });
  });
});

describe("listOutputs", () => {
  it("sorts by input then index, decodes UTF-8, and keeps destinations of vouchers", () => {
    const dest = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    const nodes: OutputNode[] = [
      { index: 1, input: { index: 2 }, payload: stringToHex("c"), destination: dest },
      { index: 0, input: { index: 2 }, payload: "0xff", destination: dest },
      { index: 3, input: { index: 0 }, payload: stringToHex("héllo") },
      { index: 0, input: { index: 1 }, payload: "0x" },
    ];
    assert.deepEqual(listOutputs(nodes), [
      { index: 3, input: 0, payload: "héllo" },
      { index: 0, input: 1, payload: "" },
      { index: 0, input: 2, destination: dest, payload: "0xff" },
      { index: 1, input: 2, destination: dest, payload: "c" },
    ]);
    assert.equal(nodes[0]?.index, 1, "the given list is left in its order");
    const listed = listOutputs(nodes);
    assert.ok(!("destination" in (listed[0] ?? {})));
    assert.deepEqual(Object.keys(listed[2] ?? {}), ["index", "input", "destination", "payload"]);
  });
});

describe("fetchOutput", () => {
  it("asks for one notice with its proof and returns a null proof as is", async () => {
    answer({
      json: { data: { notice: { index: 1, input: { index: 2 }, payload: "0x61", proof: null } } },
    });
    const notice = await fetchOutput(graphqlUrl, "notice", 1, 2);
    assert.deepEqual(notice, { index: 1, input: { index: 2 }, payload: "0x61", proof: null });
    const sent = request(0);
    assert.match(sent.query, /notice\(noticeIndex: \$outputIndex, inputIndex: \$inputIndex\)/);
    assert.match(sent.query, /proof \{ validity \{/);
    assert.deepEqual(sent.variables, { outputIndex: 1, inputIndex: 2 });
  });

  it("asks for a voucher with its destination and proof", async () => {
    const proof = {
      validity: {
        inputIndexWithinEpoch: 0,
        outputIndexWithinInput: 0,
        outputHashesRootHash: `0x${"11".repeat(32)}`,
        vouchersEpochRootHash: `0x${"22".repeat(32)}`,
        noticesEpochRootHash: `0x${"33".repeat(32)}`,
        machineStateHash: `0x${"44".repeat(32)}`,
        outputHashInOutputHashesSiblings: [`0x${"55".repeat(32)}`],
        outputHashesInEpochSiblings: [],
      },
      context: "0x",
    };
    const voucher = { index: 0, input: { index: 3 }, destination: "0x01", payload: "0x", proof };
    answer({ json: { data: { voucher } } });
    assert.deepEqual(await fetchOutput(graphqlUrl, "voucher", 0, 3), voucher);
    assert.match(request(0).query, /voucher\(voucherIndex: \$outputIndex/);
    assert.match(request(0).query, /destination/);
  });

  it("says a notice is not found when the reader answers null", async () => {
    answer({ json: { data: { notice: null } } });
    await rejectsConsoleError(
      fetchOutput(graphqlUrl, "notice", 5, 6),
      /^notice 5 of input 6 not found$/,
    );
  });

  it("reports the reader's error for a missing notice", async () => {
    answer({ json: { errors: [{ message: "notice not found" }], data: null } });
    await rejectsConsoleError(
      fetchOutput(graphqlUrl, "notice", 5, 5),
      /^GraphQL: notice not found$/,
    );
  });
});

const inputAnswer = (index: number, status: string, reports: string[] = []): Answer => ({
  json: {
    data: {
      inputs: {
        edges: [
          {
            node: {
              index,
              status,
              reports: { edges: reports.map((payload) => ({ node: { payload } })) },
            },
          },
        ],
      },
    },
  },
});

describe("fetchInputResult", () => {
  it("asks for the first input after the one before", async () => {
    answer(inputAnswer(0, "ACCEPTED", ["0x61"]));
    assert.deepEqual(await fetchInputResult(graphqlUrl, 0), {
      index: 0,
      status: "ACCEPTED",
      reports: ["0x61"],
    });
    assert.deepEqual(request(0).variables, { before: -1 });
  });

  it("is undefined while the reader lacks the input", async () => {
    answer({ json: { data: { inputs: { edges: [] } } } }, inputAnswer(8, "ACCEPTED"));
    assert.equal(await fetchInputResult(graphqlUrl, 7), undefined);
    assert.equal(await fetchInputResult(graphqlUrl, 7), undefined);
  });
});

describe("waitForInput", () => {
  it("polls until the input leaves UNPROCESSED and returns its reports", async () => {
    const report = stringToHex('{"accepted":{}}');
    answer(
      inputAnswer(2, "UNPROCESSED"),
      inputAnswer(2, "UNPROCESSED"),
      inputAnswer(2, "ACCEPTED", [report]),
    );
    const result = await waitForInput(graphqlUrl, 2, 10_000);
    assert.deepEqual(result, { index: 2, status: "ACCEPTED", reports: [report] });
    assert.equal(seen.length, 3);
    for (const r of seen) assert.deepEqual(r.variables, { before: 1 });
  });

  it("returns a rejected input too", async () => {
    answer(inputAnswer(5, "REJECTED"));
    assert.equal((await waitForInput(graphqlUrl, 5, 1000)).status, "REJECTED");
  });

  it(
    "times out with a ConsoleError while the input stays UNPROCESSED",
    { timeout: 5000 },
    async () => {
      answer(inputAnswer(4, "UNPROCESSED"));
      const start = Date.now();
      await rejectsConsoleError(waitForInput(graphqlUrl, 4, 400), /^input 4 was not processed/);
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 400, `gave up after ${elapsed} ms`);
      assert.ok(seen.length >= 2, `polled ${seen.length} times`);
      for (const r of seen) assert.deepEqual(r.variables, { before: 3 });
    },
  );
});

describe("inspectUrl", () => {
  it("joins with one slash", () => {
    assert.equal(inspectUrl("http://h/inspect", "info"), "http://h/inspect/info");
    assert.equal(inspectUrl("http://h/inspect/", "info"), "http://h/inspect/info");
    assert.equal(inspectUrl("http://h/inspect//", "//info"), "http://h/inspect/info");
  });

  it("keeps the query string and escapes #", () => {
    assert.equal(
      inspectUrl("http://h/inspect", "pool?offset=0&limit=5"),
      "http://h/inspect/pool?offset=0&limit=5",
    );
    assert.equal(inspectUrl("http://h/inspect", "a#b#c"), "http://h/inspect/a%23b%23c");
  });
});

describe("inspect", () => {
  it("gets <url>/<payload> and reads status, input count and reports", async () => {
    answer({
      json: {
        status: "Accepted",
        exception_payload: null,
        reports: [{ payload: stringToHex("hello") }, { payload: "0xff" }],
        processed_input_count: 3,
      },
    });
    const result = await inspect(`${base}/inspect/`, "balance/0xab?offset=2#x");
    assert.equal(request(0).method, "GET");
    assert.equal(request(0).url, "/inspect/balance/0xab?offset=2%23x");
    assert.deepEqual(result, {
      httpStatus: 200,
      status: "Accepted",
      processedInputCount: 3,
      reports: [stringToHex("hello"), "0xff"],
      exceptionPayload: null,
    });
    assert.deepEqual(formatInspect(result), [
      "HTTP status: 200",
      'Inspect status: "Accepted"',
      "Input count: 3",
      "Reports:",
      "0: hello",
      "1: 0xff",
    ]);
  });

  it("shows the exception payload", async () => {
    answer({
      json: {
        status: "Exception",
        exception_payload: stringToHex("boom"),
        reports: [],
        processed_input_count: 0,
      },
    });
    const result = await inspect(`${base}/inspect`, "info");
    assert.equal(result.exceptionPayload, stringToHex("boom"));
    assert.deepEqual(formatInspect(result), [
      "HTTP status: 200",
      'Inspect status: "Exception"',
      "Input count: 0",
      "Reports:",
      "Exception payload: boom",
    ]);
  });

  it("gives the body of a non-200 answer", async () => {
    answer({ status: 404, text: "no such route" });
    const result = await inspect(`${base}/inspect`, "nothing");
    assert.equal(result.httpStatus, 404);
    assert.equal(result.body, "no such route");
    assert.deepEqual(formatInspect(result), ["HTTP status: 404", '"no such route"']);
  });

  it("reads a null JSON answer as one without status or reports", async () => {
    answer({ json: null });
    const result = await inspect(`${base}/inspect`, "info");
    assert.deepEqual(result, { httpStatus: 200, reports: [], exceptionPayload: null });
  });

  it("fails on a 200 answer without JSON", async () => {
    answer({ text: "<html>" });
    await rejectsConsoleError(inspect(`${base}/inspect`, "info"), /answered 200 without JSON/);
  });

  it("says when the server cannot be reached", async () => {
    const url = `${await closedPortUrl()}/inspect`;
    await assert.rejects(inspect(url, "deep/info"), (e: unknown) => {
      assert.ok(e instanceof ConsoleError);
      assert.equal(e.message, `cannot reach the inspect server at ${url}`);
      assert.match(e.hint ?? "", /--url/);
      return true;
    });
  });
});

describe("the ledger's inspect routes", () => {
  const ADDR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const report = (value: unknown) => ({
    json: {
      status: "Accepted",
      processed_input_count: 1,
      reports: [{ payload: stringToHex(JSON.stringify(value)) }],
    },
  });

  it("follows the balance pages by next_offset", async () => {
    answer(
      report({ balances: [{ asset: "ETH", confirmed: "1", pending: "1" }], next_offset: 1 }),
      report({ balances: [{ asset: "COIN", confirmed: "2", pending: "3" }], next_offset: null }),
    );
    const balances = await fetchBalances(`${base}/inspect`, ADDR);
    assert.deepEqual(
      balances.map((b) => b.asset),
      ["ETH", "COIN"],
    );
    assert.deepEqual(
      seen.map((r) => r.url),
      [`/inspect/balance/${ADDR.toLowerCase()}`, `/inspect/balance/${ADDR.toLowerCase()}?offset=1`],
    );
  });

  it("fails instead of paging forever when next_offset does not advance", async () => {
    answer(report({ balances: [], next_offset: 0 }));
    await rejectsConsoleError(
      fetchBalances(`${base}/inspect`, ADDR),
      /did not advance at offset 0/,
    );
  });

  it("turns the dApp's error report into a ConsoleError with the code's hint", async () => {
    answer(report({ error: { code: "INSUFFICIENT_FUNDS", message: "needs more" } }));
    await assert.rejects(queryLedger(`${base}/inspect`, "info"), (e: unknown) => {
      assert.ok(e instanceof ConsoleError);
      assert.equal(e.message, "INSUFFICIENT_FUNDS: needs more");
      assert.match(e.hint ?? "", /ledger balance/);
      return true;
    });
  });

  it("refuses an answer that is not a JSON report", async () => {
    answer({
      json: {
        status: "Accepted",
        processed_input_count: 1,
        reports: [{ payload: stringToHex("hi") }],
      },
    });
    await rejectsConsoleError(queryLedger(`${base}/inspect`, "info"), /gave no JSON report/);
  });
});

describe("waitOutcome", () => {
  const sent = { input: 3, transaction: `0x${"ab".repeat(32)}` as const };
  const accepted = stringToHex(
    JSON.stringify({
      accepted: {
        input: 3,
        tx_count: 1,
        txs: [{ hash: "0x01", status: "pending" }],
        sealed_count: 0,
        sealed_blocks: [],
      },
    }),
  );

  it("gives an accepted input's lines, value and report", async () => {
    answer(inputAnswer(3, "ACCEPTED", [accepted]));
    const progress: string[] = [];
    const outcome = await waitOutcome(graphqlUrl, sent, 5, (line) => progress.push(line));
    assert.deepEqual(outcome.lines, ["input 3 accepted", "transaction 0x01 pending"]);
    assert.equal(outcome.failure, undefined);
    assert.equal(outcome.accepted?.accepted.txs[0]?.status, "pending");
    assert.deepEqual(outcome.value, {
      ...sent,
      status: "ACCEPTED",
      reports: [JSON.parse(hexToString(accepted))],
    });
    assert.deepEqual(progress, ["waiting for the node to process input 3..."]);
  });

  it("uses the given lines instead of the report's", async () => {
    answer(inputAnswer(3, "ACCEPTED", [accepted]));
    const outcome = await waitOutcome(graphqlUrl, sent, 5, () => undefined, ["it is done"]);
    assert.deepEqual(outcome.lines, ["input 3 accepted", "it is done"]);
  });

  it("turns the dApp's error into a failure with what to try, and prints nothing", async () => {
    const error = stringToHex(
      JSON.stringify({ error: { code: "INSUFFICIENT_FUNDS", message: "has 1, needs 2" } }),
    );
    answer(inputAnswer(3, "REJECTED", [error]));
    const outcome = await waitOutcome(graphqlUrl, sent, 5, () => undefined);
    assert.deepEqual(outcome.lines, []);
    assert.equal(outcome.value.status, "REJECTED");
    assert.equal(
      outcome.failure?.message,
      "input 3 was rejected: INSUFFICIENT_FUNDS: has 1, needs 2",
    );
    assert.match(outcome.failure.hint ?? "", /ledger balance/);
  });

  it("fails an input that ended otherwise, pointing at its reports", async () => {
    answer(inputAnswer(3, "EXCEPTION"));
    const outcome = await waitOutcome(graphqlUrl, sent, 5, () => undefined);
    assert.equal(outcome.failure?.message, "input 3 ended EXCEPTION");
    assert.match(outcome.failure.hint ?? "", /report list --input/);
    assert.equal(outcome.accepted, undefined);
  });
});

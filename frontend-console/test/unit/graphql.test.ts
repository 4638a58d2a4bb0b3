/** The reader's GraphQL outputs (notices, vouchers, reports), against a local server that records the requests. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closedPortUrl } from "./helpers.ts";
import { stringToHex } from "viem";
import { ConsoleError } from "../../src/lib/errors.ts";
import { type OutputNode, fetchOutput, fetchOutputs, listOutputs } from "../../src/lib/graphql.ts";
import {
  answer,
  base,
  graphqlUrl,
  rejectsConsoleError,
  request,
  seen,
  serveReader,
} from "./fake-reader.ts";

serveReader();

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

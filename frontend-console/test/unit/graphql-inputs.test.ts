/** Waiting for an input's result through the reader's GraphQL API, against a local server that records the requests. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hexToString, stringToHex } from "viem";
import { fetchInputResult, waitForInput } from "../../src/lib/graphql.ts";
import { waitOutcome } from "../../src/lib/outcome.ts";
import {
  type Answer,
  answer,
  graphqlUrl,
  rejectsConsoleError,
  request,
  seen,
  serveReader,
} from "./fake-reader.ts";

serveReader();

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

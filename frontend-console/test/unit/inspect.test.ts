/** The reader's inspect API and the ledger's inspect routes, against a local server that records the requests. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closedPortUrl } from "./helpers.ts";
import { stringToHex } from "viem";
import { ConsoleError } from "../../src/lib/errors.ts";
import { formatInspect, inspect, inspectUrl } from "../../src/lib/inspect.ts";
import { fetchBalances, queryLedger } from "../../src/lib/queries.ts";
import { answer, base, rejectsConsoleError, request, seen, serveReader } from "./fake-reader.ts";

serveReader();

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

/** Rollups v2 inspects: the payload posted to the application's URL, the answer read as v1's. */
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { stringToHex } from "viem";
import { formatInspect, inspectV2 } from "../../src/lib/inspect.ts";
import { queryLedger } from "../../src/lib/queries.ts";

let server: Server;
let url = "";
const seen: { method: string; url: string; body: string }[] = [];
let reply: { status: number; body: string } = { status: 200, body: "{}" };

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body });
      res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inspect/ledger`;
});

after(
  () =>
    new Promise<void>((ok) => {
      server.close(() => {
        ok();
      });
    }),
);

describe("inspectV2", () => {
  it("posts the payload's bytes and reads status, reports and the input count", async () => {
    reply = {
      status: 200,
      body: JSON.stringify({
        status: "Accepted",
        reports: [{ payload: stringToHex("hello") }],
        processed_input_count: 4,
      }),
    };
    const result = await inspectV2(url, "balance/0xabc?offset=2");
    assert.deepEqual(seen.at(-1), {
      method: "POST",
      url: "/inspect/ledger",
      body: "balance/0xabc?offset=2",
    });
    assert.deepEqual(formatInspect(result), [
      "HTTP status: 200",
      'Inspect status: "Accepted"',
      "Input count: 4",
      "Reports:",
      "0: hello",
    ]);
  });

  it("shows v2's exception message where v1 shows its payload", async () => {
    reply = {
      status: 200,
      body: JSON.stringify({ status: "Exception", exception: "boom", reports: [] }),
    };
    assert.equal(formatInspect(await inspectV2(url, "info")).at(-1), "Exception payload: boom");
  });

  it("serves the ledger's routes, and the dApp's errors as errors", async () => {
    reply = {
      status: 200,
      body: JSON.stringify({
        status: "Accepted",
        reports: [{ payload: stringToHex(JSON.stringify({ height: 3 })) }],
        processed_input_count: 1,
      }),
    };
    assert.deepEqual(await queryLedger({ version: "v2", url }, "info"), { height: 3 });
    const error = { error: { code: "UNKNOWN_ASSET", message: "no such asset" } };
    reply = {
      status: 200,
      body: JSON.stringify({
        status: "Accepted",
        reports: [{ payload: stringToHex(JSON.stringify(error)) }],
      }),
    };
    await assert.rejects(queryLedger({ version: "v2", url }, "balance/0x1/BTC"), {
      message: "UNKNOWN_ASSET: no such asset",
    });
    reply = { status: 404, body: "Application not found" };
    await assert.rejects(queryLedger({ version: "v2", url }, "info"), /answered HTTP 404/);
  });
});

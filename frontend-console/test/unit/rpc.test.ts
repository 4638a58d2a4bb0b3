/**
 * The v2 JSON-RPC client and the v2 reader, against a small fake of the node's API that follows
 * reference §5/§5.1 (hex indices, `{data}` wrapping, paging, the newer error codes).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { encodeFunctionData, parseAbi, stringToHex } from "viem";
import { ConsoleError } from "../../src/lib/errors.ts";
import { listOutputs as listed } from "../../src/lib/graphql.ts";
import { waitOutcome } from "../../src/lib/outcome.ts";
import {
  type ReaderV2,
  outputNode,
  readOutputV2,
  readOutputs,
  waitForResult,
} from "../../src/lib/reader.ts";
import {
  OUTPUT_TYPES,
  RpcError,
  fromHex,
  getInput,
  getOutput,
  getProcessedInputCount,
  listAll,
  outputKind,
  listOutputs,
  listReports,
  rpcCall,
  toHexIndex,
} from "../../src/lib/rpc.ts";
import { APP_ADDRESS, APP_NAME, type FakeNode, make, startFakeNode } from "./fake-rpc.ts";
import { closedPortUrl } from "./helpers.ts";

const OUTPUTS = parseAbi([
  "function Notice(bytes payload)",
  "function Voucher(address destination, uint256 value, bytes payload)",
]);
const BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SIBLINGS = Array.from(
  { length: 63 },
  (_, i) => `0x${i.toString(16).padStart(64, "0")}` as const,
);

function notice(i: number, input: number, text: string, proven = false) {
  const payload = stringToHex(text);
  const raw = encodeFunctionData({ abi: OUTPUTS, functionName: "Notice", args: [payload] });
  // The node's API names the type by the output's selector.
  return make.output(
    i,
    input,
    raw,
    { type: OUTPUT_TYPES.notice, payload },
    proven ? SIBLINGS : null,
  );
}

function voucher(i: number, input: number, wei: bigint) {
  const raw = encodeFunctionData({ abi: OUTPUTS, functionName: "Voucher", args: [BOB, wei, "0x"] });
  return make.output(i, input, raw, {
    type: OUTPUT_TYPES.voucher,
    destination: BOB,
    value: toHexIndex(wei),
    payload: "0x",
  });
}

let node: FakeNode;

before(async () => {
  node = await startFakeNode({ inputs: [], outputs: [], reports: [] });
});
after(() => node.close());
beforeEach(() => {
  node.state.inputs = [];
  node.state.outputs = [];
  node.state.reports = [];
  node.calls.length = 0;
});

describe("hex indices", () => {
  it("are written and read as 0x-prefixed hex", () => {
    assert.equal(toHexIndex(0), "0x0");
    assert.equal(toHexIndex(255), "0xff");
    assert.equal(toHexIndex(1n << 40n), "0x10000000000");
    assert.equal(fromHex("0x1f", "index"), 31);
  });

  it("refuse what is not a hex number or does not fit", () => {
    assert.throws(() => toHexIndex(-1), ConsoleError);
    assert.throws(() => toHexIndex(1.5), ConsoleError);
    assert.throws(() => fromHex("31", "index"), /index is not a hex number: "31"/);
    assert.throws(() => fromHex(31, "index"), /not a hex number/);
    assert.throws(() => fromHex("0x20000000000000", "index"), /too large/);
  });
});

describe("outputKind", () => {
  it("reads the type as the node's selector or as Cartesi's clients name it", () => {
    const of = (type: string) => outputKind({ type, payload: "0x" });
    assert.equal(of("0xc258d6e5"), "Notice");
    assert.equal(of("0x237A816F"), "Voucher");
    assert.equal(of("0x10321e8b"), "DelegateCallVoucher");
    assert.equal(of("Voucher"), "Voucher");
    assert.equal(of("Notice"), "Notice");
    assert.equal(of("0x12345678"), undefined);
    assert.equal(outputKind(null), undefined);
  });
});

describe("rpcCall", () => {
  it("sends JSON-RPC 2.0 with named params and unwraps the result", async () => {
    node.state.inputs = [make.input(0, "ACCEPTED"), make.input(1, "NONE")];
    assert.equal(await getProcessedInputCount(node.url, APP_NAME), 1);
    assert.deepEqual(node.calls, [
      { method: "cartesi_getProcessedInputCount", params: { application: APP_NAME } },
    ]);
  });

  it("turns an error answer into an RpcError with its code", async () => {
    await assert.rejects(
      rpcCall(node.url, "cartesi_getInput", { application: "nope", input_index: "0x0" }),
      (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.code, -31002);
        assert.equal(e.notFound, false);
        assert.match(
          e.message,
          /^cartesi_getInput: application not found \(JSON-RPC error -31002\)$/,
        );
        assert.match(e.hint ?? "", /does not run this application/);
        return true;
      },
    );
    await assert.rejects(
      rpcCall(node.url, "cartesi_getInput", { application: APP_NAME, input_index: 3 }),
      (e: unknown) => e instanceof RpcError && e.code === -32602,
    );
  });

  it("says which option to fix when nothing answers", async () => {
    const url = `${await closedPortUrl()}/rpc`;
    await assert.rejects(getProcessedInputCount(url, APP_NAME), (e: unknown) => {
      assert.ok(e instanceof ConsoleError);
      assert.equal(e.message, `cannot reach the JSON-RPC API at ${url}`);
      assert.match(e.hint ?? "", /--rpc-url/);
      return true;
    });
  });
});

describe("gets", () => {
  it("find an input and an output by hex index, and say undefined when not found", async () => {
    node.state.inputs = [make.input(0, "ACCEPTED"), make.input(17, "REJECTED")];
    node.state.outputs = [notice(0, 0, "a"), notice(16, 17, "b")];
    assert.equal((await getInput(node.url, APP_NAME, 17))?.status, "REJECTED");
    assert.equal(await getInput(node.url, APP_NAME, 5), undefined);
    assert.equal((await getOutput(node.url, APP_ADDRESS, 16))?.input_index, "0x11");
    assert.equal(await getOutput(node.url, APP_ADDRESS, 1), undefined);
    assert.deepEqual(
      node.calls.map((c) => c.params.input_index ?? c.params.output_index),
      ["0x11", "0x5", "0x10", "0x1"],
    );
  });

  it("but an unknown application is an error, not undefined", async () => {
    await assert.rejects(getInput(node.url, "other", 0), RpcError);
  });
});

describe("lists", () => {
  it("follow the pages until total_count items are read", async () => {
    node.state.outputs = Array.from({ length: 7 }, (_, i) => notice(i, i, `n${i}`));
    const all = await listAll(node.url, "cartesi_listOutputs", { application: APP_NAME }, 3);
    assert.deepEqual(
      all.map((o) => (o as { index: string }).index),
      ["0x0", "0x1", "0x2", "0x3", "0x4", "0x5", "0x6"],
    );
    assert.deepEqual(
      node.calls.map((c) => [c.params.limit, c.params.offset]),
      [
        [3, 0],
        [3, 3],
        [3, 6],
      ],
    );
  });

  it("ask once for an empty list", async () => {
    assert.deepEqual(await listReports(node.url, APP_NAME), []);
    assert.equal(node.calls.length, 1);
  });

  it("filter outputs by input and by type", async () => {
    node.state.outputs = [notice(0, 0, "a"), voucher(1, 0, 5n), notice(2, 1, "b")];
    const vouchers = await listOutputs(node.url, APP_NAME, {
      input: 0,
      type: OUTPUT_TYPES.voucher,
    });
    assert.deepEqual(
      vouchers.map((o) => o.index),
      ["0x1"],
    );
    assert.deepEqual(node.calls[0]?.params, {
      application: APP_NAME,
      input_index: "0x0",
      output_type: "0x237a816f",
      limit: 1000,
      offset: 0,
    });
  });

  it("refuse a node whose pages stop short of the total", async () => {
    // Says five items, serves none: following it would ask forever.
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          result: { data: [], pagination: { total_count: 5, limit: 2, offset: 0 } },
        }),
      );
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const { port } = server.address() as AddressInfo;
    try {
      await assert.rejects(
        listReports(`http://127.0.0.1:${port}/rpc`, APP_NAME),
        /cartesi_listReports stopped at 0 of 5 items/,
      );
    } finally {
      await new Promise<void>((ok) => {
        server.close(() => {
          ok();
        });
      });
    }
  });

  it("refuse an answer that is not a list", async () => {
    await assert.rejects(
      listAll(node.url, "cartesi_getProcessedInputCount", { application: APP_NAME }),
      /answered without "data" and "pagination"/,
    );
  });
});

describe("the v2 reader", () => {
  const reader = (): ReaderV2 => ({ version: "v2", rpc: node.url, application: APP_ADDRESS });

  it("waits until the input leaves NONE, then reads its reports", async () => {
    node.state.inputs = [make.input(0, "NONE")];
    const report = stringToHex(JSON.stringify({ accepted: { input: 0 } }));
    setTimeout(() => {
      node.state.inputs = [make.input(0, "ACCEPTED")];
      node.state.reports = [make.report(0, 0, report), make.report(1, 1, "0x02")];
    }, 400);
    const result = await waitForResult(reader(), 0, 5000);
    assert.deepEqual(result, { index: 0, status: "ACCEPTED", reports: [report] });
    const reads = node.calls.filter((c) => c.method === "cartesi_getInput").length;
    assert.ok(reads >= 2, "polled the input until it was processed");
    assert.deepEqual(node.calls.at(-1), {
      method: "cartesi_listReports",
      params: { application: APP_ADDRESS, input_index: "0x0", limit: 1000, offset: 0 },
    });
  });

  it("waits for an input the node has not seen yet, and gives up at the deadline", async () => {
    await assert.rejects(waitForResult(reader(), 3, 300), /input 3 was not processed within 0.3 s/);
  });

  it("gives the dApp's rejection to waitOutcome", async () => {
    node.state.inputs = [make.input(0, "REJECTED")];
    const error = { error: { code: "INSUFFICIENT_FUNDS", message: "needs 5" } };
    node.state.reports = [make.report(0, 0, stringToHex(JSON.stringify(error)))];
    const outcome = await waitOutcome(reader(), { input: 0, transaction: "0x01" }, 5, () => {});
    assert.equal(outcome.value.status, "REJECTED");
    assert.equal(outcome.failure?.message, "input 0 was rejected: INSUFFICIENT_FUNDS: needs 5");
  });

  it("reads outputs as OutputNodes: global index, voucher value, proof once claimed", async () => {
    node.state.outputs = [notice(0, 0, "a", true), voucher(1, 2, 10n ** 18n), notice(2, 2, "b")];
    const notices = await readOutputs(reader(), "notice");
    assert.deepEqual(
      notices.map((n) => [n.index, n.input.index, Boolean(n.proof)]),
      [
        [0, 0, true],
        [2, 2, false],
      ],
    );
    const vouchers = await readOutputs(reader(), "voucher", 2);
    assert.deepEqual(listed(vouchers), [
      { index: 1, input: 2, destination: BOB, value: "1000000000000000000", payload: "" },
    ]);
    assert.equal(node.calls.at(-1)?.params.output_type, OUTPUT_TYPES.voucher);
  });

  it("reads reports with their raw payloads", async () => {
    node.state.reports = [make.report(0, 0, stringToHex("hi")), make.report(1, 4, "0xff")];
    assert.deepEqual(listed(await readOutputs(reader(), "report", 4)), [
      { index: 1, input: 4, payload: "0xff" },
    ]);
  });

  it("finds one output by index and checks its input and kind", async () => {
    node.state.outputs = [notice(0, 0, "a"), voucher(1, 2, 1n)];
    assert.equal((await readOutputV2(reader(), "voucher", 1, 2)).index, "0x1");
    await assert.rejects(
      readOutputV2(reader(), "voucher", 1, 3),
      /voucher 1 belongs to input 2, not 3/,
    );
    await assert.rejects(readOutputV2(reader(), "voucher", 0, 0), /voucher 0 not found/);
    await assert.rejects(readOutputV2(reader(), "notice", 9, 0), /notice 9 not found/);
  });

  it("maps a DelegateCallVoucher and an undecoded output without inventing fields", () => {
    const raw = make.output(5, 1, "0x10321e8b", null);
    assert.deepEqual(outputNode(raw), {
      index: 5,
      input: { index: 1 },
      payload: "0x10321e8b",
      proof: null,
    });
  });
});

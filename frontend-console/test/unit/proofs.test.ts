/**
 * Voucher execution and notice validation against a fake chain: viem's clients over a transport
 * that decodes each eth_call with the CartesiDApp ABI and answers as the test says, so the calls'
 * encoding and the reverts' decoding are viem's own.
 */
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  type Address,
  type Hex,
  type Log,
  createPublicClient,
  custom,
  decodeFunctionData,
  encodeAbiParameters,
  encodeErrorResult,
  encodeEventTopics,
  encodeFunctionResult,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { abis } from "../../src/lib/abis.ts";
import { ConsoleError } from "../../src/lib/errors.ts";
import type { OutputNode, Proof } from "../../src/lib/graphql.ts";
import { DEVNET_MNEMONIC, type L1, type Rollups } from "../../src/lib/l1.ts";
import {
  OUTPUT_ABI,
  executeVoucher,
  executedIn,
  explainRevert,
  listVouchers,
  validateNotice,
  voucherId,
  waitForProof,
  wasVoucherExecuted,
} from "../../src/lib/proofs.ts";

const DAPP: Address = "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e";
const TOKEN: Address = "0xe0586270a262380fef6f82290b421b9008b11806";
const HASH: Hex = `0x${"ab".repeat(32)}`;
const h = (byte: string) => `0x${byte.repeat(32)}`;

const proof: Proof = {
  validity: {
    inputIndexWithinEpoch: 1,
    outputIndexWithinInput: 0,
    outputHashesRootHash: h("11"),
    vouchersEpochRootHash: h("22"),
    noticesEpochRootHash: h("33"),
    machineStateHash: h("44"),
    outputHashInOutputHashesSiblings: [h("55")],
    outputHashesInEpochSiblings: [h("66")],
  },
  context: encodeAbiParameters([{ type: "uint256" }], [0n]),
};

/** What the fake chain answers, and what it saw. */
interface Chain {
  /** `input:index` of the executed vouchers. */
  executed: Set<string>;
  /** executeVoucher's and validateNotice's revert, by error name. */
  revert?: string;
  /** How many executeVoucher calls pass before `revert` applies (0: all revert). */
  passing?: number;
  /** What executeVoucher's simulation returns. */
  succeeds: boolean;
  /** The logs of the execution's receipt. */
  logs: Log[];
  /** Every eth_call's function, with its arguments. */
  calls: { functionName: string; args: readonly unknown[] }[];
  /** The transactions sent. */
  sent: unknown[];
}

function chain(over: Partial<Chain> = {}): Chain {
  return { executed: new Set(), succeeds: true, logs: [], calls: [], sent: [], ...over };
}

function revertError(name: string): Error {
  const error = new Error("execution reverted") as Error & { code: number; data: Hex };
  error.code = 3;
  error.data = encodeErrorResult({ abi: OUTPUT_ABI, errorName: name });
  return error;
}

function fakeL1(c: Chain): L1 {
  const transport = custom(
    {
      request: ({ method, params }: { method: string; params: unknown }) => {
        if (method === "eth_chainId") return Promise.resolve("0x7a69");
        if (method !== "eth_call") return Promise.reject(new Error(`unexpected ${method}`));
        const [{ data }] = params as [{ data: Hex }];
        const call = decodeFunctionData({ abi: OUTPUT_ABI, data });
        c.calls.push({ functionName: call.functionName, args: call.args ?? [] });
        const [a, b] = (call.args ?? []) as bigint[];
        switch (call.functionName) {
          case "wasVoucherExecuted":
            return Promise.resolve(
              encodeFunctionResult({
                abi: OUTPUT_ABI,
                functionName: "wasVoucherExecuted",
                result: c.executed.has(`${String(a)}:${String(b)}`),
              }),
            );
          case "executeVoucher":
          case "validateNotice":
            if (c.revert !== undefined) {
              const before = c.calls.filter((x) => x.functionName === call.functionName).length - 1;
              if (before >= (c.passing ?? 0)) return Promise.reject(revertError(c.revert));
            }
            return Promise.resolve(
              encodeFunctionResult({
                abi: OUTPUT_ABI,
                functionName: call.functionName,
                result: call.functionName === "validateNotice" ? true : c.succeeds,
              }),
            );
          default:
            return Promise.reject(new Error(`unexpected call ${call.functionName}`));
        }
      },
    },
    // As `connect` builds it: no retries, which would only repeat a revert.
    { retryCount: 0 },
  );
  const publicClient = createPublicClient({ transport });
  const receipt = { status: "success", transactionHash: HASH, logs: c.logs };
  Object.assign(publicClient, { waitForTransactionReceipt: () => Promise.resolve(receipt) });
  const walletClient = {
    writeContract: (request: unknown) => {
      c.sent.push(request);
      return Promise.resolve(HASH);
    },
  };
  return {
    rpc: "http://127.0.0.1:9",
    chainId: 31337,
    account: mnemonicToAccount(DEVNET_MNEMONIC),
    publicClient,
    walletClient,
    log: () => undefined,
  } as unknown as L1;
}

const r = { dapp: DAPP } as Rollups;

/** A `VoucherExecuted(id)` log of `address`. */
function executedLog(id: bigint, address: Address = DAPP): Log {
  return {
    address,
    topics: encodeEventTopics({ abi: abis.CartesiDApp, eventName: "VoucherExecuted" }),
    data: encodeAbiParameters([{ type: "uint256" }], [id]),
    blockHash: HASH,
    blockNumber: 1n,
    logIndex: 0,
    transactionHash: HASH,
    transactionIndex: 0,
    removed: false,
  } as unknown as Log;
}

const voucher = { index: 0, input: 7, destination: TOKEN, payload: "0xa9059cbb" as Hex };

async function rejects(promise: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ConsoleError, `expected a ConsoleError, got ${String(e)}`);
    assert.match(e.message, message);
    if (hint !== undefined) assert.match(e.hint ?? "", hint);
    return true;
  });
}

describe("voucherId", () => {
  it("is (outputIndexWithinInput << 128) | inputIndex", () => {
    assert.equal(voucherId(7, 0), 7n);
    assert.equal(voucherId(7, 2), (2n << 128n) + 7n);
  });
});

describe("executedIn", () => {
  const receipt = (logs: Log[]) => ({ logs }) as unknown as Parameters<typeof executedIn>[0];

  it("finds the dApp's VoucherExecuted for the voucher", () => {
    assert.equal(executedIn(receipt([executedLog(voucherId(7, 0))]), DAPP, 7, 0), true);
  });

  it("ignores another voucher's event, another contract's, and no event", () => {
    assert.equal(executedIn(receipt([executedLog(voucherId(7, 1))]), DAPP, 7, 0), false);
    assert.equal(executedIn(receipt([executedLog(7n, TOKEN)]), DAPP, 7, 0), false);
    assert.equal(executedIn(receipt([]), DAPP, 7, 0), false);
  });
});

describe("explainRevert", () => {
  it("names and explains a known revert", async () => {
    const l1 = fakeL1(chain({ revert: "IncorrectEpochHash" }));
    await assert.rejects(
      l1.publicClient.simulateContract({
        address: DAPP,
        abi: OUTPUT_ABI,
        functionName: "executeVoucher",
        args: [
          TOKEN,
          "0x",
          {
            validity: {
              inputIndexWithinEpoch: 0n,
              outputIndexWithinInput: 0n,
              outputHashesRootHash: h("00"),
              vouchersEpochRootHash: h("00"),
              noticesEpochRootHash: h("00"),
              machineStateHash: h("00"),
              outputHashInOutputHashesSiblings: [],
              outputHashesInEpochSiblings: [],
            },
            context: "0x",
          },
        ],
      }),
      (e: unknown) => {
        assert.deepEqual(explainRevert(e), {
          reason:
            "IncorrectEpochHash(): the proof's epoch roots do not hash to the claimed epoch hash",
          name: "IncorrectEpochHash",
        });
        return true;
      },
    );
  });

  it("keeps any other reason as it is", () => {
    assert.deepEqual(explainRevert(new Error("socket hang up")), { reason: "socket hang up" });
  });
});

describe("wasVoucherExecuted", () => {
  it("asks the application with (inputIndex, outputIndexWithinInput)", async () => {
    const c = chain({ executed: new Set(["7:1"]) });
    const l1 = fakeL1(c);
    assert.equal(await wasVoucherExecuted(l1.publicClient, DAPP, 7, 1), true);
    assert.equal(await wasVoucherExecuted(l1.publicClient, DAPP, 1, 7), false);
    assert.deepEqual(c.calls, [
      { functionName: "wasVoucherExecuted", args: [7n, 1n] },
      { functionName: "wasVoucherExecuted", args: [1n, 7n] },
    ]);
  });
});

describe("executeVoucher", () => {
  it("executes and returns the receipt holding VoucherExecuted", async () => {
    const c = chain({ logs: [executedLog(voucherId(7, 0))] });
    const receipt = await executeVoucher(fakeL1(c), r, voucher, proof);
    assert.equal(receipt.transactionHash, HASH);
    assert.deepEqual(
      c.calls.map((call) => call.functionName),
      ["wasVoucherExecuted", "executeVoucher", "executeVoucher"],
      "checked, simulated, then simulated again by send",
    );
    assert.equal(c.sent.length, 1);
  });

  it("refuses an executed voucher before simulating or sending", async () => {
    const c = chain({ executed: new Set(["7:0"]) });
    await rejects(
      executeVoucher(fakeL1(c), r, voucher, proof),
      /^voucher "0" from input "7" was already executed$/,
      /executes once/,
    );
    assert.deepEqual(
      c.calls.map((call) => call.functionName),
      ["wasVoucherExecuted"],
    );
    assert.equal(c.sent.length, 0);
  });

  it("says already executed when the contract reverts VoucherReexecutionNotAllowed", async () => {
    const c = chain({ revert: "VoucherReexecutionNotAllowed" });
    await rejects(
      executeVoucher(fakeL1(c), r, voucher, proof),
      /^voucher "0" from input "7" was already executed$/,
    );
    assert.equal(c.sent.length, 0);
  });

  it("says already executed when another execution lands between the check and the send", async () => {
    const c = chain({ revert: "VoucherReexecutionNotAllowed", passing: 1 });
    await rejects(
      executeVoucher(fakeL1(c), r, voucher, proof),
      /^voucher "0" from input "7" was already executed$/,
    );
    assert.equal(c.sent.length, 0, "send's own simulation stopped it");
  });

  it("names and explains the contract's rejection of the proof", async () => {
    const c = chain({ revert: "InvalidClaimIndex" });
    await rejects(
      executeVoucher(fakeL1(c), r, voucher, proof),
      /^COULD NOT EXECUTE VOUCHER: InvalidClaimIndex\(\): the proof's claim is not in the History on chain$/,
      /disagree/,
    );
    assert.equal(c.sent.length, 0);
  });

  it("does not send a voucher whose own call would fail", async () => {
    const c = chain({ succeeds: false });
    await rejects(
      executeVoucher(fakeL1(c), r, voucher, proof),
      new RegExp(`its call to ${TOKEN} would fail`),
    );
    assert.equal(c.sent.length, 0);
  });

  it("fails when the receipt has no VoucherExecuted for the voucher", async () => {
    const c = chain({ logs: [executedLog(voucherId(8, 0))] });
    await rejects(
      executeVoucher(fakeL1(c), r, voucher, proof),
      new RegExp(`transaction ${HASH} ran, but the voucher's call failed`),
    );
  });
});

describe("validateNotice", () => {
  it("passes a proof the contract accepts", async () => {
    const c = chain();
    await validateNotice(fakeL1(c), r, "0x61", proof);
    assert.deepEqual(
      c.calls.map((call) => call.functionName),
      ["validateNotice"],
    );
  });

  it("names and explains the contract's rejection", async () => {
    await rejects(
      validateNotice(fakeL1(chain({ revert: "IncorrectOutputHashesRootHash" })), r, "0x61", proof),
      /^COULD NOT VALIDATE NOTICE: IncorrectOutputHashesRootHash\(\): the output is not in its input's output tree$/,
    );
  });
});

describe("listVouchers", () => {
  const node = (input: number, index: number, proven: boolean): OutputNode => ({
    index,
    input: { index: input },
    destination: TOKEN,
    payload: "0x68656c6c6f",
    proof: proven ? { context: "0x00" } : null,
  });

  it("adds executable and executed after the listed fields, in (input, index) order", async () => {
    const asked: string[] = [];
    const listed = await listVouchers(
      [node(9, 0, false), node(3, 1, true), node(3, 0, true)],
      (input, index) => {
        asked.push(`${input}:${index}`);
        return Promise.resolve(index === 1);
      },
    );
    assert.deepEqual(listed, [
      {
        index: 0,
        input: 3,
        destination: TOKEN,
        payload: "hello",
        executable: true,
        executed: false,
      },
      {
        index: 1,
        input: 3,
        destination: TOKEN,
        payload: "hello",
        executable: true,
        executed: true,
      },
      {
        index: 0,
        input: 9,
        destination: TOKEN,
        payload: "hello",
        executable: false,
        executed: false,
      },
    ]);
    assert.deepEqual(Object.keys(listed[0] ?? {}), [
      "index",
      "input",
      "destination",
      "payload",
      "executable",
      "executed",
    ]);
    assert.deepEqual(asked.sort(), ["3:0", "3:1"], "a voucher without a proof is not asked about");
  });

  it("asks nothing when no voucher has a proof", async () => {
    const listed = await listVouchers([node(1, 0, false)], () => {
      throw new Error("must not be asked");
    });
    assert.equal(listed[0]?.executed, false);
  });

  it("keeps at most eight reads in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const nodes = Array.from({ length: 20 }, (_, i) => node(i, 0, true));
    await listVouchers(nodes, async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((done) => setImmediate(done));
      inFlight -= 1;
      return false;
    });
    assert.equal(most, 8);
  });
});

describe("waitForProof", () => {
  let server: Server;
  let url = "";
  let answers: unknown[] = [];
  let asked = 0;

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        asked += 1;
        const proofNow = answers.length > 1 ? answers.shift() : answers[0];
        const voucherNode = { ...voucher, input: { index: 7 }, proof: proofNow };
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ data: { voucher: voucherNode } }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) =>
      server.close(() => {
        ok();
      }),
    );
  });

  it("polls until the proof comes, calling onWait between polls", async () => {
    answers = [null, null, proof];
    asked = 0;
    let waits = 0;
    const proven = await waitForProof(url, "voucher", 0, 7, 10_000, {
      pollMs: 1,
      onWait: () => {
        waits += 1;
      },
    });
    assert.deepEqual(proven?.proof, proof);
    assert.equal(asked, 3);
    assert.equal(waits, 2);
  });

  it("gives up at the deadline", async () => {
    answers = [null];
    const proven = await waitForProof(url, "voucher", 0, 7, 30, {
      pollMs: 5,
      onWait: () => undefined,
    });
    assert.equal(proven, undefined);
  });
});

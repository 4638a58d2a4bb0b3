/**
 * Rollups v2 output execution and validation against a fake chain: viem's clients over a
 * transport that decodes each eth_call with the Application ABI and answers as the test says.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
import { abisV2 } from "../../src/lib/abis.ts";
import {
  executeOutput,
  outputExecutedIn,
  outputProof,
  validateOutput,
} from "../../src/lib/application.ts";
import { ConsoleError } from "../../src/lib/errors.ts";
import { DEVNET_MNEMONIC, type L1 } from "../../src/lib/l1.ts";
import type { Output } from "../../src/lib/rpc.ts";

const APP: Address = "0x1111111111111111111111111111111111111111";
const HASH: Hex = `0x${"ab".repeat(32)}`;
const SIBLINGS: Hex[] = Array.from(
  { length: 63 },
  (_, i) => `0x${i.toString(16).padStart(64, "0")}` as const,
);
const abi = abisV2.Application;

const output: Output = {
  epoch_index: "0x0",
  input_index: "0x7",
  index: "0x5",
  raw_data: "0x237a816f00",
  decoded_data: null,
  hash: null,
  output_hashes_siblings: SIBLINGS,
  execution_transaction_hash: null,
};

interface Chain {
  executed: Set<bigint>;
  revert?: string;
  /** How many executeOutput calls pass before `revert` applies. */
  passing?: number;
  logs: Log[];
  calls: { functionName: string; args: readonly unknown[] }[];
  sent: unknown[];
}

const chain = (over: Partial<Chain> = {}): Chain => ({
  executed: new Set(),
  logs: [],
  calls: [],
  sent: [],
  ...over,
});

function fakeL1(c: Chain): L1 {
  const transport = custom(
    {
      request: ({ method, params }: { method: string; params: unknown }) => {
        if (method === "eth_chainId") return Promise.resolve("0x7a69");
        if (method !== "eth_call") return Promise.reject(new Error(`unexpected ${method}`));
        const [{ data }] = params as [{ data: Hex }];
        const call = decodeFunctionData({ abi, data });
        c.calls.push({ functionName: call.functionName, args: call.args ?? [] });
        if (call.functionName === "wasOutputExecuted") {
          const [index] = call.args as [bigint];
          return Promise.resolve(
            encodeFunctionResult({
              abi,
              functionName: "wasOutputExecuted",
              result: c.executed.has(index),
            }),
          );
        }
        if (c.revert !== undefined) {
          const before = c.calls.filter((x) => x.functionName === call.functionName).length - 1;
          if (before >= (c.passing ?? 0)) {
            const error = new Error("execution reverted") as Error & { code: number; data: Hex };
            error.code = 3;
            error.data = encodeErrorResult({
              abi,
              errorName: c.revert,
              ...(c.revert === "InvalidOutputsMerkleRoot" ? { args: [HASH] } : {}),
              ...(c.revert === "OutputNotReexecutable" ? { args: [output.raw_data] } : {}),
            });
            return Promise.reject(error);
          }
        }
        return Promise.resolve("0x");
      },
    },
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

function executedLog(index: bigint, address: Address = APP): Log {
  return {
    address,
    topics: encodeEventTopics({ abi, eventName: "OutputExecuted" }),
    data: encodeAbiParameters([{ type: "uint64" }, { type: "bytes" }], [index, output.raw_data]),
    blockHash: HASH,
    blockNumber: 1n,
    logIndex: 0,
    transactionHash: HASH,
    transactionIndex: 0,
    removed: false,
  } as unknown as Log;
}

async function rejects(promise: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ConsoleError, `expected a ConsoleError, got ${String(e)}`);
    assert.match(e.message, message);
    if (hint !== undefined) assert.match(e.hint ?? "", hint);
    return true;
  });
}

describe("outputProof", () => {
  it("is the output's index and its siblings", () => {
    assert.deepEqual(outputProof(output), { outputIndex: 5n, outputHashesSiblings: SIBLINGS });
  });

  it("refuses an output without a proof", () => {
    assert.throws(
      () => outputProof({ ...output, output_hashes_siblings: null }),
      /output 0x5 has no proof yet/,
    );
  });
});

describe("outputExecutedIn", () => {
  const receipt = (logs: Log[]) => ({ logs }) as never;

  it("finds the application's OutputExecuted for the output", () => {
    assert.equal(outputExecutedIn(receipt([executedLog(5n)]), APP, 5), true);
  });

  it("ignores another output's event, another contract's, and no event", () => {
    assert.equal(outputExecutedIn(receipt([executedLog(6n)]), APP, 5), false);
    assert.equal(
      outputExecutedIn(receipt([executedLog(5n, HASH.slice(0, 42) as Address)]), APP, 5),
      false,
    );
    assert.equal(outputExecutedIn(receipt([]), APP, 5), false);
  });
});

describe("executeOutput", () => {
  it("checks, simulates and sends executeOutput(raw_data, proof)", async () => {
    const c = chain({ logs: [executedLog(5n)] });
    const receipt = await executeOutput(fakeL1(c), APP, output);
    assert.equal(receipt.transactionHash, HASH);
    assert.deepEqual(
      c.calls.map((call) => call.functionName),
      ["wasOutputExecuted", "executeOutput", "executeOutput"],
    );
    assert.deepEqual(c.calls[0]?.args, [5n]);
    assert.deepEqual(c.calls[1]?.args, [
      output.raw_data,
      { outputIndex: 5n, outputHashesSiblings: SIBLINGS },
    ]);
    assert.equal(c.sent.length, 1);
  });

  it("refuses an executed output before simulating or sending", async () => {
    const c = chain({ executed: new Set([5n]) });
    await rejects(
      executeOutput(fakeL1(c), APP, output),
      /^voucher "5" from input "7" was already executed$/,
      /executes once/,
    );
    assert.equal(c.calls.length, 1);
    assert.equal(c.sent.length, 0);
  });

  it("says already executed when another execution lands between the check and the send", async () => {
    const c = chain({ revert: "OutputNotReexecutable", passing: 1 });
    await rejects(
      executeOutput(fakeL1(c), APP, output),
      /^voucher "5" from input "7" was already executed$/,
    );
    assert.equal(c.sent.length, 0);
  });

  it("names and explains a rejected proof", async () => {
    const c = chain({ revert: "InvalidOutputsMerkleRoot" });
    await rejects(
      executeOutput(fakeL1(c), APP, output),
      /^COULD NOT EXECUTE VOUCHER: InvalidOutputsMerkleRoot\(0x(ab)+\): the proof leads to an outputs root the application's consensus has not accepted$/,
      /disagree/,
    );
    assert.equal(c.sent.length, 0);
  });

  it("fails when the receipt has no OutputExecuted for the output", async () => {
    const c = chain({ logs: [executedLog(4n)] });
    await rejects(executeOutput(fakeL1(c), APP, output), /has no OutputExecuted for output 5/);
  });
});

describe("validateOutput", () => {
  it("passes a proof the contract accepts", async () => {
    const c = chain();
    await validateOutput(fakeL1(c), APP, output);
    assert.deepEqual(
      c.calls.map((call) => call.functionName),
      ["validateOutput"],
    );
  });

  it("names and explains the contract's rejection", async () => {
    await rejects(
      validateOutput(
        fakeL1(chain({ revert: "InvalidOutputHashesSiblingsArrayLength" })),
        APP,
        output,
      ),
      /^COULD NOT VALIDATE NOTICE: InvalidOutputHashesSiblingsArrayLength\(\): the proof does not have the 63 siblings/,
    );
  });
});

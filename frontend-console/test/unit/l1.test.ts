import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsoleError } from "../../src/lib/errors.ts";
import { type L1, send } from "../../src/lib/l1.ts";

const HASH = `0x${"ab".repeat(32)}`;

/** An L1 whose simulation and sending succeed, and whose receipt lookup does what it is told. */
function fakeL1(receipt: () => Promise<unknown>, log: string[]): L1 {
  return {
    rpc: "http://127.0.0.1:9",
    chainId: 31337,
    account: { address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" },
    publicClient: {
      simulateContract: () => Promise.resolve({ request: {} }),
      waitForTransactionReceipt: receipt,
    },
    walletClient: { writeContract: () => Promise.resolve(HASH) },
    log: (line: string) => log.push(line),
  } as unknown as L1;
}

const call = {
  address: "0x0000000000000000000000000000000000000001",
  abi: [],
  functionName: "addInput",
  args: [],
} as const;

describe("send", () => {
  it("names the sent transaction when its receipt cannot be read", async () => {
    const log: string[] = [];
    const l1 = fakeL1(() => Promise.reject(new Error("socket hang up")), log);
    await assert.rejects(send(l1, call), (e: unknown) => {
      assert.ok(e instanceof ConsoleError);
      assert.equal(
        e.message,
        `transaction ${HASH} (addInput) was sent, but its receipt could not be read: socket hang up`,
      );
      assert.match(e.hint ?? "", /before sending it again/);
      return true;
    });
    assert.deepEqual(log, [`transaction: ${HASH}`, "waiting for confirmation..."]);
  });

  it("reports a reverted transaction with its hash", async () => {
    const l1 = fakeL1(() => Promise.resolve({ status: "reverted" }), []);
    await assert.rejects(send(l1, call), new RegExp(`addInput reverted in transaction ${HASH}`));
  });

  it("returns the receipt of a successful transaction", async () => {
    const receipt = { status: "success", transactionHash: HASH };
    assert.deepEqual(
      await send(
        fakeL1(() => Promise.resolve(receipt), []),
        call,
      ),
      receipt,
    );
  });
});

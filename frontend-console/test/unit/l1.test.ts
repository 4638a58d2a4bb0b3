import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsoleError } from "../../src/lib/errors.ts";
import { type L1, isNonceTaken, send } from "../../src/lib/l1.ts";

const HASH = `0x${"ab".repeat(32)}`;

/**
 * An L1 whose simulation succeeds, whose sending does what `write` says (succeeds by default),
 * and whose receipt lookup does what it is told.
 */
function fakeL1(
  receipt: () => Promise<unknown>,
  log: string[],
  write: () => Promise<string> = () => Promise.resolve(HASH),
): L1 {
  return {
    rpc: "http://127.0.0.1:9",
    chainId: 31337,
    account: { address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" },
    publicClient: {
      simulateContract: () => Promise.resolve({ request: {} }),
      waitForTransactionReceipt: receipt,
    },
    walletClient: { writeContract: write },
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

/** What anvil answers when the nonce was used by another transaction, as viem wraps it. */
function nonceTaken(): Error {
  const rpc = new Error(
    "Nonce provided for the transaction is lower than the current nonce of the account.",
  );
  return new Error("Missing or invalid parameters.", { cause: rpc });
}

describe("isNonceTaken", () => {
  it("sees a used nonce anywhere in the cause chain, in the words of anvil and geth", () => {
    assert.equal(isNonceTaken(nonceTaken()), true);
    assert.equal(isNonceTaken(new Error("nonce too low: next nonce 5, tx nonce 4")), true);
    const details = Object.assign(new Error("Transaction failed"), { details: "already known" });
    assert.equal(isNonceTaken(details), true);
  });

  it("is false for other failures", () => {
    assert.equal(isNonceTaken(new Error("insufficient funds for gas")), false);
    assert.equal(isNonceTaken("nonce too low"), false, "only errors");
  });
});

describe("send with a nonce taken by another sender", () => {
  const success = { status: "success", transactionHash: HASH };

  it("signs again and sends", async () => {
    const log: string[] = [];
    let writes = 0;
    const l1 = fakeL1(
      () => Promise.resolve(success),
      log,
      () => (++writes === 1 ? Promise.reject(nonceTaken()) : Promise.resolve(HASH)),
    );
    assert.deepEqual(await send(l1, call), success);
    assert.equal(writes, 2);
    assert.match(log[0] ?? "", /took the nonce; signing again$/);
  });

  it("gives up after three more tries", async () => {
    let writes = 0;
    const l1 = fakeL1(
      () => Promise.resolve(success),
      [],
      () => {
        writes += 1;
        return Promise.reject(nonceTaken());
      },
    );
    await assert.rejects(send(l1, call), /^ConsoleError: addInput failed: /);
    assert.equal(writes, 4);
  });

  it("does not try again after another failure", async () => {
    let writes = 0;
    const l1 = fakeL1(
      () => Promise.resolve(success),
      [],
      () => {
        writes += 1;
        return Promise.reject(new Error("insufficient funds for gas"));
      },
    );
    await assert.rejects(send(l1, call), /insufficient funds/);
    assert.equal(writes, 1);
  });
});

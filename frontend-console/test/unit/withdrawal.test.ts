/** A withdrawal's voucher, found among an input's vouchers, and the receiver's L1 balance change. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Address,
  type Hex,
  createPublicClient,
  custom,
  decodeFunctionData,
  encodeFunctionResult,
  toFunctionSelector,
} from "viem";
import { abis } from "../../src/lib/abis.ts";
import { ConsoleError } from "../../src/lib/errors.ts";
import type { OutputNode } from "../../src/lib/graphql.ts";
import type { Asset } from "../../src/lib/asset.ts";
import {
  VOUCHER_CALLS,
  balanceChange,
  describeBalanceChange,
  expectedVoucher,
  firstUnexecuted,
  l1Holding,
  matchingVouchers,
} from "../../src/lib/withdrawal.ts";

const DAPP: Address = "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e";
const ME: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const BOB: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const TOKEN: Address = "0xe0586270a262380fef6f82290b421b9008b11806";

const eth: Asset = { kind: "ETH" };
const erc20: Asset = { kind: "erc20", token: TOKEN };
const erc721: Asset = { kind: "erc721", token: TOKEN, id: 5n };
const erc1155: Asset = { kind: "erc1155", token: TOKEN, id: 2n };

describe("expectedVoucher", () => {
  // The selectors the dApp's vouchers use (crates/rollup/src/voucher.rs).
  const selector = (payload: Hex) => payload.slice(0, 10);

  it("pays Ether through the application's withdrawEther", () => {
    const v = expectedVoucher(eth, 10n, ME, DAPP);
    assert.equal(v.destination, DAPP);
    assert.equal(selector(v.payload), "0x522f6815");
    assert.deepEqual(decodeFunctionData({ abi: VOUCHER_CALLS, data: v.payload }).args, [ME, 10n]);
  });

  it("pays an ERC-20 with the token's transfer", () => {
    const v = expectedVoucher(erc20, 10n, ME, DAPP);
    assert.equal(v.destination, TOKEN);
    assert.equal(selector(v.payload), "0xa9059cbb");
    assert.deepEqual(decodeFunctionData({ abi: VOUCHER_CALLS, data: v.payload }).args, [ME, 10n]);
  });

  it("pays an ERC-721 with safeTransferFrom(dapp, receiver, id)", () => {
    const v = expectedVoucher(erc721, 1n, ME, DAPP);
    assert.equal(selector(v.payload), "0x42842e0e");
    assert.deepEqual(decodeFunctionData({ abi: VOUCHER_CALLS, data: v.payload }).args, [
      DAPP,
      ME,
      5n,
    ]);
  });

  it("pays an ERC-1155 with safeTransferFrom(dapp, receiver, id, amount, empty data)", () => {
    const v = expectedVoucher(erc1155, 3n, ME, DAPP);
    assert.equal(selector(v.payload), "0xf242432a");
    assert.equal(
      selector(v.payload),
      toFunctionSelector("safeTransferFrom(address,address,uint256,uint256,bytes)"),
    );
    assert.deepEqual(decodeFunctionData({ abi: VOUCHER_CALLS, data: v.payload }).args, [
      DAPP,
      ME,
      2n,
      3n,
      "0x",
    ]);
  });

  it("refuses COIN, which never leaves the ledger", () => {
    assert.throws(() => expectedVoucher({ kind: "COIN" }, 1n, ME, DAPP), ConsoleError);
  });
});

const voucherNode = (
  index: number,
  destination: string,
  payload: string,
  proven = false,
): OutputNode => ({
  index,
  input: { index: 9 },
  destination,
  payload,
  proof: proven ? { context: "0x00" } : null,
});

describe("expectedVoucher in Rollups v2", () => {
  it("sends Ether as the voucher's value to the receiver, with no call", () => {
    assert.deepEqual(expectedVoucher(eth, 10n, ME, DAPP, "v2"), {
      destination: ME,
      payload: "0x",
      value: 10n,
    });
  });

  it("calls tokens as in v1, with a zero value", () => {
    const v1 = expectedVoucher(erc20, 10n, ME, DAPP);
    assert.deepEqual(expectedVoucher(erc20, 10n, ME, DAPP, "v2"), { ...v1, value: 0n });
  });
});

describe("matchingVouchers", () => {
  const mine = expectedVoucher(erc20, 10n, ME, DAPP);
  const bobs = expectedVoucher(erc20, 10n, BOB, DAPP);

  it("finds the voucher with the same destination and payload, in any letter case", () => {
    const nodes = [
      voucherNode(0, TOKEN, bobs.payload),
      voucherNode(1, TOKEN.toUpperCase().replace("0X", "0x"), mine.payload.toUpperCase()),
    ];
    assert.deepEqual(
      matchingVouchers(nodes, mine).map((n) => n.index),
      [1],
    );
  });

  it("returns every equal voucher in index order, and none for other destinations", () => {
    const nodes = [
      voucherNode(3, TOKEN, mine.payload),
      voucherNode(1, TOKEN, mine.payload),
      voucherNode(2, DAPP, mine.payload),
      voucherNode(4, "not an address", mine.payload),
    ];
    assert.deepEqual(
      matchingVouchers(nodes, mine).map((n) => n.index),
      [1, 3],
    );
    assert.deepEqual(matchingVouchers([], mine), []);
  });

  it("compares a v2 voucher's value too", () => {
    const ether = expectedVoucher(eth, 10n, ME, DAPP, "v2");
    const nodes = [
      { ...voucherNode(0, ME, "0x"), value: "9" },
      { ...voucherNode(1, ME, "0x"), value: "10" },
      voucherNode(2, ME, "0x"),
    ];
    assert.deepEqual(
      matchingVouchers(nodes, ether).map((n) => n.index),
      [1],
    );
  });
});

describe("firstUnexecuted", () => {
  it("takes a single candidate without asking the chain", async () => {
    const index = await firstUnexecuted([voucherNode(4, TOKEN, "0x", true)], () => {
      throw new Error("must not be asked");
    });
    assert.equal(index, 4);
    assert.equal(await firstUnexecuted([], () => Promise.resolve(false)), undefined);
  });

  it("skips the executed ones among equal vouchers", async () => {
    const asked: number[] = [];
    const nodes = [voucherNode(0, TOKEN, "0x", true), voucherNode(1, TOKEN, "0x", true)];
    const index = await firstUnexecuted(nodes, (_input, i) => {
      asked.push(i);
      return Promise.resolve(i === 0);
    });
    assert.equal(index, 1);
    assert.deepEqual(asked, [0, 1]);
  });

  it("takes an unproven voucher without asking, and the first when all ran", async () => {
    const unproven = [voucherNode(0, TOKEN, "0x", false), voucherNode(1, TOKEN, "0x", true)];
    assert.equal(
      await firstUnexecuted(unproven, () => {
        throw new Error("must not be asked");
      }),
      0,
    );
    const ran = [voucherNode(0, TOKEN, "0x", true), voucherNode(1, TOKEN, "0x", true)];
    assert.equal(await firstUnexecuted(ran, () => Promise.resolve(true)), 0);
  });
});

/** A chain whose holdings depend on the block asked about: `at[block]`. */
function fakeClient(at: Record<string, bigint>, owner: Address = ME) {
  const seen: string[] = [];
  const client = createPublicClient({
    transport: custom(
      {
        request: ({ method, params }: { method: string; params: unknown }) => {
          const list = params as unknown[];
          const block = BigInt(list[list.length - 1] as string).toString();
          const amount = at[block];
          if (amount === undefined) return Promise.reject(new Error(`no state at block ${block}`));
          if (method === "eth_getBalance") {
            seen.push(`balance@${block}`);
            return Promise.resolve(`0x${amount.toString(16)}`);
          }
          if (method !== "eth_call") return Promise.reject(new Error(`unexpected ${method}`));
          const data = (list[0] as { data: Hex }).data;
          for (const abi of [abis.ERC20, abis.ERC721, abis.ERC1155]) {
            try {
              const call = decodeFunctionData({ abi, data });
              seen.push(`${call.functionName}@${block}`);
              const result =
                call.functionName === "ownerOf" ? (amount === 1n ? owner : BOB) : amount;
              return Promise.resolve(
                encodeFunctionResult({ abi, functionName: call.functionName, result }),
              );
            } catch {
              // Not this token's call.
            }
          }
          return Promise.reject(new Error("unknown call"));
        },
      },
      { retryCount: 0 },
    ),
  });
  return { client, seen };
}

describe("l1Holding", () => {
  it("reads Ether, ERC-20 and ERC-1155 amounts at the given block", async () => {
    const { client, seen } = fakeClient({ "7": 42n });
    assert.equal(await l1Holding(client, eth, ME, 7n), 42n);
    assert.equal(await l1Holding(client, erc20, ME, 7n), 42n);
    assert.equal(await l1Holding(client, erc1155, ME, 7n), 42n);
    assert.deepEqual(seen, ["balance@7", "balanceOf@7", "balanceOf@7"]);
  });

  it("counts an ERC-721 token as 1 when the owner holds it", async () => {
    assert.equal(await l1Holding(fakeClient({ "7": 1n }).client, erc721, ME, 7n), 1n);
    assert.equal(await l1Holding(fakeClient({ "7": 0n }).client, erc721, ME, 7n), 0n);
  });
});

describe("balanceChange", () => {
  const receipt = (from: Address) => ({
    blockNumber: 8n,
    from,
    gasUsed: 21_000n,
    effectiveGasPrice: 2n,
  });

  it("compares the block before the execution with its block, and counts the receiver's gas", async () => {
    const { client } = fakeClient({ "7": 100n, "8": 158n });
    assert.deepEqual(await balanceChange(client, eth, ME, receipt(ME)), {
      asset: "ETH",
      address: ME,
      before: 100n,
      after: 158n,
      change: 58n,
      gas: 42_000n,
    });
  });

  it("counts no gas for tokens, nor when someone else sent the execution", async () => {
    const { client } = fakeClient({ "7": 5n, "8": 15n });
    const tokens = await balanceChange(client, erc20, ME, receipt(ME));
    assert.deepEqual(tokens, {
      asset: `erc20:${TOKEN}`,
      address: ME,
      before: 5n,
      after: 15n,
      change: 10n,
    });
    assert.equal((await balanceChange(client, eth, ME, receipt(BOB))).gas, undefined);
  });
});

describe("describeBalanceChange", () => {
  it("writes Ether in ETH, with what the voucher paid and the gas", () => {
    assert.equal(
      describeBalanceChange({
        asset: "ETH",
        address: ME,
        before: 2_000_000_000_000_000_000n,
        after: 2_499_000_000_000_000_000n,
        change: 499_000_000_000_000_000n,
        gas: 1_000_000_000_000_000n,
      }),
      `ETH on L1 of ${ME}: 2 ETH -> 2.499 ETH (+0.499 ETH: 0.5 ETH paid by the voucher, 0.001 ETH for gas)`,
    );
    assert.equal(
      describeBalanceChange({
        asset: "ETH",
        address: ME,
        before: 2n * 10n ** 18n,
        after: 3n * 10n ** 18n,
        change: 10n ** 18n,
      }),
      `ETH on L1 of ${ME}: 2 ETH -> 3 ETH (+1 ETH)`,
    );
  });

  it("writes tokens in base units, and a decrease with a minus", () => {
    const asset = `erc20:${TOKEN}`;
    assert.equal(
      describeBalanceChange({ asset, address: ME, before: 5n, after: 15n, change: 10n }),
      `${asset} on L1 of ${ME}: 5 -> 15 (+10)`,
    );
    assert.equal(
      describeBalanceChange({ asset, address: ME, before: 15n, after: 5n, change: -10n }),
      `${asset} on L1 of ${ME}: 15 -> 5 (-10)`,
    );
  });
});

/**
 * A withdrawal's way back to L1: the voucher the dApp emits for it (found among an input's
 * vouchers by what it must contain), and the receiver's L1 holding of the asset before and after
 * the voucher runs.
 */
import {
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  encodeFunctionData,
  formatEther,
  isAddressEqual,
} from "viem";
import { abis } from "./abis.ts";
import { ConsoleError } from "./errors.ts";
import type { OutputNode } from "./graphql.ts";
import { type Asset, assetText, coinNotWithdrawable } from "./asset.ts";
import { VOUCHER_CALLS } from "./voucher-calls.ts";

export { VOUCHER_CALLS };

/** The calls as viem's plain `Abi`, for a call chosen at run time. */
const voucherCalls: Abi = VOUCHER_CALLS;

/** What a withdrawal's voucher must be; `value` (wei) only in Rollups v2, where vouchers carry it. */
export interface ExpectedVoucher {
  destination: Address;
  payload: Hex;
  value?: bigint;
}

/**
 * The voucher that pays a withdrawal of `amount` to `receiver`. Ether leaves a v1 dApp through
 * its own `withdrawEther`, and a v2 application as the voucher's value sent to the receiver.
 */
export function expectedVoucher(
  asset: Asset,
  amount: bigint,
  receiver: Address,
  dapp: Address,
  version: "v1" | "v2" = "v1",
): ExpectedVoucher {
  const call = (destination: Address, functionName: string, args: readonly unknown[]) => ({
    destination,
    payload: encodeFunctionData({ abi: voucherCalls, functionName, args }),
    ...(version === "v2" ? { value: 0n } : {}),
  });
  switch (asset.kind) {
    case "ETH":
      return version === "v1"
        ? call(dapp, "withdrawEther", [receiver, amount])
        : { destination: receiver, payload: "0x", value: amount };
    case "erc20":
      return call(asset.token, "transfer", [receiver, amount]);
    case "erc721":
      return call(asset.token, "safeTransferFrom", [dapp, receiver, asset.id]);
    case "erc1155":
      return call(asset.token, "safeTransferFrom", [dapp, receiver, asset.id, amount, "0x"]);
    case "COIN":
      throw coinNotWithdrawable();
  }
}

/**
 * The vouchers among `nodes` that pay exactly this withdrawal, in index order. Several match
 * when one block holds equal withdrawals of one account; any of them pays the same.
 */
export function matchingVouchers(
  nodes: readonly OutputNode[],
  expected: ExpectedVoucher,
): OutputNode[] {
  return nodes
    .filter(
      (n) =>
        n.destination !== undefined &&
        /^0x[0-9a-fA-F]{40}$/.test(n.destination) &&
        isAddressEqual(n.destination as Address, expected.destination) &&
        n.payload.toLowerCase() === expected.payload.toLowerCase() &&
        (expected.value === undefined || n.value === expected.value.toString()),
    )
    .sort((a, b) => a.index - b.index);
}

/**
 * The index of the first of `candidates` that has not run on L1, asking `wasExecuted` only when
 * there is a choice and only about vouchers with a proof (one without cannot have run); the first
 * candidate when all ran, undefined when there is none.
 */
export async function firstUnexecuted(
  candidates: readonly OutputNode[],
  wasExecuted: (input: number, index: number) => Promise<boolean>,
): Promise<number | undefined> {
  if (candidates.length <= 1) return candidates[0]?.index;
  for (const c of candidates) {
    if (!c.proof || !(await wasExecuted(c.input.index, c.index))) return c.index;
  }
  return candidates[0]?.index;
}

/**
 * How much of `asset` `owner` holds on L1 at `blockNumber`: wei, token base units, or for an
 * ERC-721 token 1 when `owner` owns it, else 0.
 */
export async function l1Holding(
  client: PublicClient,
  asset: Asset,
  owner: Address,
  blockNumber: bigint,
): Promise<bigint> {
  switch (asset.kind) {
    case "ETH":
      return client.getBalance({ address: owner, blockNumber });
    case "erc20":
      return (await client.readContract({
        address: asset.token,
        abi: abis.ERC20,
        functionName: "balanceOf",
        args: [owner],
        blockNumber,
      })) as bigint;
    case "erc721": {
      const holder = (await client.readContract({
        address: asset.token,
        abi: abis.ERC721,
        functionName: "ownerOf",
        args: [asset.id],
        blockNumber,
      })) as Address;
      return isAddressEqual(holder, owner) ? 1n : 0n;
    }
    case "erc1155":
      return (await client.readContract({
        address: asset.token,
        abi: abis.ERC1155,
        functionName: "balanceOf",
        args: [owner, asset.id],
        blockNumber,
      })) as bigint;
    case "COIN":
      throw new ConsoleError("COIN exists only inside the ledger");
  }
}

export interface BalanceChange {
  asset: string;
  address: Address;
  before: bigint;
  after: bigint;
  change: bigint;
  /** The fee the receiver paid for the execution, in wei, when it sent it (ETH only). */
  gas?: bigint;
}

/** An amount of the asset: Ether in ETH, anything else in base units. */
const units = (asset: string, n: bigint) => (asset === "ETH" ? `${formatEther(n)} ETH` : `${n}`);
const signed = (asset: string, n: bigint) => `${n < 0n ? "" : "+"}${units(asset, n)}`;

/**
 * One line: `ETH on L1 of 0x…: before -> after (change)`, with, when the receiver paid the
 * execution's gas, what the voucher paid and what went to gas.
 */
export function describeBalanceChange(b: BalanceChange): string {
  const gas =
    b.gas === undefined
      ? ""
      : `: ${units(b.asset, b.change + b.gas)} paid by the voucher, ${units(b.asset, b.gas)} for gas`;
  return `${b.asset} on L1 of ${b.address}: ${units(b.asset, b.before)} -> ${units(b.asset, b.after)} (${signed(b.asset, b.change)}${gas})`;
}

/** The receiver's holding of the withdrawn asset just before and at the execution's block. */
export async function balanceChange(
  client: PublicClient,
  asset: Asset,
  receiver: Address,
  receipt: { blockNumber: bigint; from: Address; gasUsed: bigint; effectiveGasPrice: bigint },
): Promise<BalanceChange> {
  const block = receipt.blockNumber;
  const [before, after] = await Promise.all([
    l1Holding(client, asset, receiver, block - 1n),
    l1Holding(client, asset, receiver, block),
  ]);
  const paidGas = asset.kind === "ETH" && isAddressEqual(receipt.from, receiver);
  return {
    asset: assetText(asset),
    address: receiver,
    before,
    after,
    change: after - before,
    ...(paidGas ? { gas: receipt.gasUsed * receipt.effectiveGasPrice } : {}),
  };
}

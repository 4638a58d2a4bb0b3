/**
 * The ledger's operations as input payloads: JSON (the fields in the ledger's order) or the
 * `abi/ILedger.sol` call.
 */
import { type Abi, type Address, type Hex, encodeFunctionData, parseAbi } from "viem";
import { type Asset, assetText, coinNotWithdrawable } from "./asset.ts";
import { ConsoleError } from "./errors.ts";

export type Operation =
  | { op: "transfer"; to: Address; asset: Asset; amount: bigint }
  | { op: "withdraw"; asset: Asset; amount: bigint }
  | { op: "mine" };

/** The JSON payload: the fields in the ledger's order, amounts as decimal strings. */
export function jsonPayload(operation: Operation): string {
  switch (operation.op) {
    case "transfer":
      return JSON.stringify({
        op: "transfer",
        to: operation.to.toLowerCase(),
        asset: assetText(operation.asset),
        amount: operation.amount.toString(),
      });
    case "withdraw":
      return JSON.stringify({
        op: "withdraw",
        asset: assetText(operation.asset),
        amount: operation.amount.toString(),
      });
    case "mine":
      return JSON.stringify({ op: "mine" });
  }
}

/** The calls of `abi/ILedger.sol` (a test keeps the two in step). */
export const LEDGER_ABI = parseAbi([
  "function transferEther(address to, uint256 amount)",
  "function transferCoin(address to, uint256 amount)",
  "function transferERC20(address token, address to, uint256 amount)",
  "function transferERC721(address token, address to, uint256 tokenId)",
  "function transferERC1155(address token, address to, uint256 tokenId, uint256 amount)",
  "function withdrawEther(uint256 amount)",
  "function withdrawERC20(address token, uint256 amount)",
  "function withdrawERC721(address token, uint256 tokenId)",
  "function withdrawERC1155(address token, uint256 tokenId, uint256 amount)",
  "function mine()",
]);

type LedgerFunction = (typeof LEDGER_ABI)[number]["name"];

/** The ABI as viem's plain `Abi`, for calls whose name and arguments are chosen at run time. */
const ledgerAbi: Abi = LEDGER_ABI;

function call(functionName: LedgerFunction, args: readonly unknown[] = []): Hex {
  return encodeFunctionData({ abi: ledgerAbi, functionName, args });
}

/** The ABI payload: the ILedger call for the operation. */
export function abiPayload(operation: Operation): Hex {
  if (operation.op === "mine") return call("mine");
  const { asset, amount } = operation;
  if (operation.op === "transfer") {
    const to = operation.to;
    switch (asset.kind) {
      case "ETH":
        return call("transferEther", [to, amount]);
      case "COIN":
        return call("transferCoin", [to, amount]);
      case "erc20":
        return call("transferERC20", [asset.token, to, amount]);
      case "erc721":
        requireWhole(amount);
        return call("transferERC721", [asset.token, to, asset.id]);
      case "erc1155":
        return call("transferERC1155", [asset.token, to, asset.id, amount]);
    }
  }
  switch (asset.kind) {
    case "ETH":
      return call("withdrawEther", [amount]);
    case "COIN":
      throw coinNotWithdrawable();
    case "erc20":
      return call("withdrawERC20", [asset.token, amount]);
    case "erc721":
      requireWhole(amount);
      return call("withdrawERC721", [asset.token, asset.id]);
    case "erc1155":
      return call("withdrawERC1155", [asset.token, asset.id, amount]);
  }
}

function requireWhole(amount: bigint): void {
  // The ABI call has no amount for an ERC-721 token; anything but 1 would be silently dropped.
  if (amount !== 1n)
    throw new ConsoleError(`an ERC-721 token moves whole: amount must be 1, got ${amount}`);
}

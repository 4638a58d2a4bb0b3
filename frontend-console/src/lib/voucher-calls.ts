/** The calls of the dApp's withdrawal vouchers, in a module without Node's APIs (the explorer's browser bundle decodes them too). */
import { parseAbi } from "viem";

/** The calls the dApp's withdrawal vouchers make (`crates/rollup/src/voucher.rs`). */
export const VOUCHER_CALLS = parseAbi([
  "function transfer(address to, uint256 amount)",
  "function safeTransferFrom(address from, address to, uint256 tokenId)",
  "function safeTransferFrom(address from, address to, uint256 id, uint256 amount, bytes data)",
  "function withdrawEther(address receiver, uint256 value)",
]);

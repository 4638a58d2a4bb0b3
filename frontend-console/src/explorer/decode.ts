/**
 * What the explorer shows of an input and its outputs, decoded from their bytes: the portal
 * deposit or the relay's address (by sender), the ledger's JSON or ILedger ABI operation, the
 * block notices, the withdrawal vouchers and the ledger's report. Pure functions over the
 * console's own ABIs and report decoder, so that the console and the explorer read payloads the
 * same way; no DOM and no Node API here (the unit tests run them under Node, the page in a
 * browser).
 */
import {
  type Address,
  type Hex,
  decodeAbiParameters,
  decodeFunctionData,
  getAddress,
  hexToBigInt,
  isHex,
  parseAbiParameters,
  slice,
  size,
} from "viem";
import { hexToJson, hexToText } from "../lib/bytes.ts";
import { type Asset, assetText } from "../lib/asset.ts";
import { LEDGER_ABI } from "../lib/payload.ts";
import type { LedgerReport } from "../lib/reports.ts";
import { VOUCHER_CALLS } from "../lib/voucher-calls.ts";

/** The portals and the relay of one Rollups version (`crates/rollup/src/portals.rs`). */
interface Portals {
  version: "v1" | "v2";
  ether: Address;
  erc20: Address;
  erc721: Address;
  erc1155Single: Address;
  erc1155Batch: Address;
  relay?: Address;
}

export const PORTALS: readonly Portals[] = [
  {
    version: "v1",
    ether: "0xFfdbe43d4c855BF7e0f105c400A50857f53AB044",
    erc20: "0x9C21AEb2093C32DDbC53eEF24B873BDCd1aDa1DB",
    erc721: "0x237F8DD094C0e47f4236f12b4Fa01d6Dae89fb87",
    erc1155Single: "0x7CFB0193Ca87eB6e48056885E026552c3A941FC4",
    erc1155Batch: "0xedB53860A6B52bbb7561Ad596416ee9965B055Aa",
    relay: "0xF5DE34d6BbC0446E2a45719E718efEbaaE179daE",
  },
  {
    version: "v2",
    ether: "0xc70076a466789B595b50959cdc261227F0D70051",
    erc20: "0xc700D6aDd016eECd59d989C028214Eaa0fCC0051",
    erc721: "0xc700d52F5290e978e9CAe7D1E092935263b60051",
    erc1155Single: "0xc700A261279aFC6F755A3a67D86ae43E2eBD0051",
    erc1155Batch: "0xc700A2e5531E720a2434433b6ccf4c0eA2400051",
  },
];

/** An amount of an asset, with the asset in the ledger's text form (`erc20:0x…`). */
export interface Amount {
  asset: string;
  amount: bigint;
}

/** The ledger operation an input carries, in one shape whether it came as JSON or ABI. */
export interface Operation {
  op: string;
  to?: string;
  asset?: string;
  amount?: bigint;
}

export type DecodedInput =
  | {
      kind: "deposit";
      portal: string;
      depositor: Address;
      assets: Amount[];
      /** Set when the ERC-20 portal reports that `transferFrom` failed (v1's success byte). */
      failed?: true;
    }
  | { kind: "relay"; dapp: Address }
  | { kind: "operation"; form: "json" | "abi"; operation: Operation }
  | { kind: "other"; text: string; why: string };

const addressAt = (payload: Hex, at: number): Address => getAddress(slice(payload, at, at + 20));
const uintAt = (payload: Hex, at: number): bigint => hexToBigInt(slice(payload, at, at + 32));

function portalDeposit(
  name: string,
  which: keyof Omit<Portals, "version" | "relay">,
  version: Portals["version"],
  payload: Hex,
): DecodedInput {
  const need = (bytes: number): DecodedInput | undefined =>
    size(payload) < bytes
      ? {
          kind: "other",
          text: payload,
          why: `a ${name} deposit needs ${bytes} bytes, this one has ${size(payload)}`,
        }
      : undefined;
  const deposit = (
    depositor: Address,
    asset: Asset,
    amount: bigint,
  ): Extract<DecodedInput, { kind: "deposit" }> => ({
    kind: "deposit",
    portal: name,
    depositor,
    assets: [{ asset: assetText(asset), amount }],
  });
  switch (which) {
    case "ether":
      return need(52) ?? deposit(addressAt(payload, 0), { kind: "ETH" }, uintAt(payload, 20));
    case "erc20": {
      if (version === "v1") {
        const short = need(73);
        if (short !== undefined) return short;
        const token = addressAt(payload, 1);
        const decoded = deposit(
          addressAt(payload, 21),
          { kind: "erc20", token },
          uintAt(payload, 41),
        );
        return slice(payload, 0, 1) === "0x01" ? decoded : { ...decoded, failed: true };
      }
      return (
        need(72) ??
        deposit(
          addressAt(payload, 20),
          { kind: "erc20", token: addressAt(payload, 0) },
          uintAt(payload, 40),
        )
      );
    }
    case "erc721": {
      const asset: Asset = { kind: "erc721", token: addressAt(payload, 0), id: 0n };
      if (size(payload) >= 72) asset.id = uintAt(payload, 40);
      return need(72) ?? deposit(addressAt(payload, 20), asset, 1n);
    }
    case "erc1155Single": {
      const short = need(104);
      if (short !== undefined) return short;
      const asset: Asset = {
        kind: "erc1155",
        token: addressAt(payload, 0),
        id: uintAt(payload, 40),
      };
      return deposit(addressAt(payload, 20), asset, uintAt(payload, 72));
    }
    case "erc1155Batch": {
      const short = need(40);
      if (short !== undefined) return short;
      const token = addressAt(payload, 0);
      try {
        const [ids, values] = decodeAbiParameters(
          parseAbiParameters("uint256[], uint256[], bytes, bytes"),
          slice(payload, 40),
        );
        return {
          kind: "deposit",
          portal: name,
          depositor: addressAt(payload, 20),
          assets: ids.map((id, i) => ({
            asset: assetText({ kind: "erc1155", token, id }),
            amount: values[i] ?? 0n,
          })),
        };
      } catch {
        return {
          kind: "other",
          text: payload,
          why: "an ERC-1155 batch deposit that does not decode",
        };
      }
    }
  }
}

const PORTAL_NAMES: Record<keyof Omit<Portals, "version" | "relay">, string> = {
  ether: "Ether",
  erc20: "ERC-20",
  erc721: "ERC-721",
  erc1155Single: "ERC-1155",
  erc1155Batch: "ERC-1155 batch",
};

/** An ILedger ABI call as an operation (`abi/ILedger.sol`). */
function abiOperation(payload: Hex): Operation | undefined {
  let call;
  try {
    call = decodeFunctionData({ abi: LEDGER_ABI, data: payload });
  } catch {
    return undefined;
  }
  const erc20 = (token: Address): string => assetText({ kind: "erc20", token });
  switch (call.functionName) {
    case "mine":
      return { op: "mine" };
    case "transferEther":
      return { op: "transfer", to: call.args[0], asset: "ETH", amount: call.args[1] };
    case "transferCoin":
      return { op: "transfer", to: call.args[0], asset: "COIN", amount: call.args[1] };
    case "transferERC20":
      return { op: "transfer", to: call.args[1], asset: erc20(call.args[0]), amount: call.args[2] };
    case "transferERC721":
      return {
        op: "transfer",
        to: call.args[1],
        asset: assetText({ kind: "erc721", token: call.args[0], id: call.args[2] }),
        amount: 1n,
      };
    case "transferERC1155":
      return {
        op: "transfer",
        to: call.args[1],
        asset: assetText({ kind: "erc1155", token: call.args[0], id: call.args[2] }),
        amount: call.args[3],
      };
    case "withdrawEther":
      return { op: "withdraw", asset: "ETH", amount: call.args[0] };
    case "withdrawERC20":
      return { op: "withdraw", asset: erc20(call.args[0]), amount: call.args[1] };
    case "withdrawERC721":
      return {
        op: "withdraw",
        asset: assetText({ kind: "erc721", token: call.args[0], id: call.args[1] }),
        amount: 1n,
      };
    case "withdrawERC1155":
      return {
        op: "withdraw",
        asset: assetText({ kind: "erc1155", token: call.args[0], id: call.args[1] }),
        amount: call.args[2],
      };
  }
}

/** A JSON operation as the ledger reads it; undefined when it is not an object with an `op`. */
function jsonOperation(json: unknown): Operation | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.op !== "string") return undefined;
  const operation: Operation = { op: o.op };
  if (typeof o.to === "string") operation.to = o.to;
  if (typeof o.asset === "string") operation.asset = o.asset;
  if (typeof o.amount === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(o.amount)) {
    operation.amount = BigInt(o.amount);
  }
  return operation;
}

/**
 * What an input says, from its sender and payload. Deposits are recognised by their portal's
 * address (either Rollups version's), the relay by its address; anything else is read as the
 * ledger reads it: JSON when it starts with `{`, else an ILedger call. The dApp's report says
 * whether it accepted the input; this only says what was asked.
 */
export function decodeInput(sender: string, payload: string): DecodedInput {
  if (!isHex(payload, { strict: true }) || payload.length % 2 !== 0) {
    return { kind: "other", text: payload, why: "the payload is not hex" };
  }
  const from = sender.toLowerCase();
  for (const portals of PORTALS) {
    for (const which of Object.keys(PORTAL_NAMES) as (keyof typeof PORTAL_NAMES)[]) {
      if (portals[which].toLowerCase() === from) {
        return portalDeposit(PORTAL_NAMES[which], which, portals.version, payload);
      }
    }
    if (portals.relay?.toLowerCase() === from) {
      return size(payload) >= 20
        ? { kind: "relay", dapp: addressAt(payload, 0) }
        : { kind: "other", text: payload, why: "a relay input shorter than an address" };
    }
  }
  const text = hexToText(payload);
  if (text.trimStart().startsWith("{")) {
    const operation = jsonOperation(hexToJson(payload));
    return operation === undefined
      ? { kind: "other", text, why: "text that is not a JSON operation" }
      : { kind: "operation", form: "json", operation };
  }
  const operation = abiOperation(payload);
  if (operation !== undefined) return { kind: "operation", form: "abi", operation };
  return {
    kind: "other",
    text: text === payload ? payload : text,
    why: "neither a JSON operation nor an ILedger call",
  };
}

/** A block notice's header (`crates/ledger/src/query.rs`, `block_notices`). */
export interface BlockNotice {
  height: number;
  hash: string;
  part: number;
  parts: number;
  txCount: number;
}

/** A notice's block part, or undefined when the notice is something else. */
export function decodeBlockNotice(payload: string): BlockNotice | undefined {
  const json = hexToJson(payload);
  if (typeof json !== "object" || json === null) return undefined;
  const n = json as Record<string, unknown>;
  if (n.type !== "block" || typeof n.height !== "number" || typeof n.hash !== "string") {
    return undefined;
  }
  return {
    height: n.height,
    hash: n.hash,
    part: typeof n.part === "number" ? n.part : 0,
    parts: typeof n.parts === "number" ? n.parts : 1,
    txCount: typeof n.tx_count === "number" ? n.tx_count : 0,
  };
}

/** What a withdrawal voucher pays, and to whom. */
export interface VoucherPayment {
  receiver: Address;
  /** The asset in the ledger's text form; ETH when the call is the dApp's `withdrawEther`. */
  asset: string;
  amount: bigint;
}

/**
 * The payment a voucher makes, from its destination (the token, or the dApp for Ether) and its
 * call; undefined when the call is not one of the withdrawal calls.
 */
export function decodeVoucher(destination: string, payload: string): VoucherPayment | undefined {
  if (!isHex(payload, { strict: true }) || !/^0x[0-9a-fA-F]{40}$/.test(destination))
    return undefined;
  let call;
  try {
    call = decodeFunctionData({ abi: VOUCHER_CALLS, data: payload });
  } catch {
    return undefined;
  }
  const token = getAddress(destination);
  switch (call.functionName) {
    case "withdrawEther":
      return { receiver: call.args[0], asset: "ETH", amount: call.args[1] };
    case "transfer":
      return {
        receiver: call.args[0],
        asset: assetText({ kind: "erc20", token }),
        amount: call.args[1],
      };
    case "safeTransferFrom":
      return call.args.length === 3
        ? {
            receiver: call.args[1],
            asset: assetText({ kind: "erc721", token, id: call.args[2] }),
            amount: 1n,
          }
        : {
            receiver: call.args[1],
            asset: assetText({ kind: "erc1155", token, id: call.args[2] }),
            amount: call.args[3],
          };
  }
}

export type { LedgerReport };
export { decodeLedgerReport, describeAccepted } from "../lib/reports.ts";
export { formatUnits } from "../lib/format.ts";

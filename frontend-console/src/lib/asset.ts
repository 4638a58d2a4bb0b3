/**
 * The ledger's asset grammar (`ETH`, `COIN`, `erc20:<token>`, `erc721:<token>:<id>`,
 * `erc1155:<token>:<id>`) and its amounts. Checked here for form, so that a typo costs no
 * transaction; the rules (funds, zero amounts, what may be withdrawn) stay the dApp's.
 */
import { type Address, parseEther } from "viem";
import { parseAddress } from "./address.ts";
import { ConsoleError } from "./errors.ts";

const MAX_UINT256 = (1n << 256n) - 1n;

export type Asset =
  | { kind: "ETH" }
  | { kind: "COIN" }
  | { kind: "erc20"; token: Address }
  | { kind: "erc721"; token: Address; id: bigint }
  | { kind: "erc1155"; token: Address; id: bigint };

/** Resolves a token given by name (e.g. `SimpleERC20` from the deployment) to its address. */
export type TokenResolver = (name: string) => Address | undefined;

export const ASSET_HINT =
  "assets are ETH, COIN, erc20:<token>, erc721:<token>:<id> or erc1155:<token>:<id>";

/** The refusal of a COIN withdrawal, made before anything is sent. */
export function coinNotWithdrawable(hint?: string): ConsoleError {
  return new ConsoleError("COIN exists only inside the ledger and cannot be withdrawn", hint);
}

export function parseUint(text: string, what: string): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) {
    throw new ConsoleError(`${what} is not a non-negative integer: ${JSON.stringify(text)}`);
  }
  const value = BigInt(t);
  if (value > MAX_UINT256) throw new ConsoleError(`${what} does not fit in 256 bits: ${text}`);
  return value;
}

export function parseAsset(text: string, resolve?: TokenResolver): Asset {
  const parts = text.trim().split(":");
  const kind = parts[0]?.toLowerCase();
  const token = (part: string | undefined): Address => {
    const named = part !== undefined && !part.startsWith("0x") ? resolve?.(part) : undefined;
    return named ?? parseAddress(part ?? "", `the token of asset ${JSON.stringify(text)}`);
  };
  if (parts.length === 1 && kind === "eth") return { kind: "ETH" };
  if (parts.length === 1 && kind === "coin") return { kind: "COIN" };
  if (parts.length === 2 && kind === "erc20") return { kind: "erc20", token: token(parts[1]) };
  if (parts.length === 3 && (kind === "erc721" || kind === "erc1155")) {
    return {
      kind,
      token: token(parts[1]),
      id: parseUint(parts[2] ?? "", `the token id of ${JSON.stringify(text)}`),
    };
  }
  throw new ConsoleError(`unknown asset ${JSON.stringify(text)}`, ASSET_HINT);
}

/** The ledger's text form of an asset (lowercase token, decimal id). */
export function assetText(asset: Asset): string {
  switch (asset.kind) {
    case "ETH":
    case "COIN":
      return asset.kind;
    case "erc20":
      return `erc20:${asset.token.toLowerCase()}`;
    case "erc721":
    case "erc1155":
      return `${asset.kind}:${asset.token.toLowerCase()}:${asset.id}`;
  }
}

/**
 * An amount in base units (`1000`, `0x3e8`), or, for ETH and COIN (18 decimals), in whole units
 * with a suffix (`0.5ether`, `2eth`, `1coin`). An ERC-721 token moves whole: the amount is 1.
 */
export function parseAmount(text: string | undefined, asset: Asset): bigint {
  if (text === undefined) {
    if (asset.kind === "erc721") return 1n;
    throw new ConsoleError(
      "--amount is required for this asset",
      "give base units, e.g. --amount 1000, or 0.5ether",
    );
  }
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(ether|eth|coin)\s*$/i.exec(text);
  if (m !== null) {
    if (asset.kind !== "ETH" && asset.kind !== "COIN") {
      throw new ConsoleError(
        `a unit suffix is for ETH and COIN only; give ${assetText(asset)} in base units`,
      );
    }
    const whole = m[1] ?? "";
    if ((whole.split(".")[1] ?? "").length > 18) {
      throw new ConsoleError(
        `${JSON.stringify(text)} has more than 18 decimals`,
        "give base units instead",
      );
    }
    const value = parseEther(whole);
    if (value > MAX_UINT256) throw new ConsoleError(`--amount does not fit in 256 bits: ${text}`);
    return value;
  }
  return parseUint(text, "--amount");
}

/** Payload conversions shared by the commands, with the reference console's rules. */
import { type Hex, bytesToHex, hexToBytes, isHex, stringToHex } from "viem";

/**
 * ethers v5's `isBytesLike` for strings: `0x` followed by an even number of hex digits. Such a
 * payload is sent as those bytes; anything else is sent as its UTF-8 encoding.
 */
export function isBytesLike(payload: string): payload is Hex {
  return /^0x([0-9a-fA-F]{2})*$/.test(payload);
}

export function payloadToHex(payload: string): Hex {
  return isBytesLike(payload) ? (payload.toLowerCase() as Hex) : stringToHex(payload);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The payload as UTF-8 text when it is valid UTF-8, else the hex unchanged (the console's `hex2str`). */
export function hexToText(hex: string): string {
  if (!isHex(hex, { strict: true }) || hex.length % 2 !== 0) return hex;
  try {
    return utf8.decode(hexToBytes(hex));
  } catch {
    return hex;
  }
}

/** Decodes a payload as UTF-8 JSON; undefined when it is not. */
export function hexToJson(hex: string): unknown {
  const text = hexToText(hex);
  if (text === hex && hex !== "0x") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export { bytesToHex };

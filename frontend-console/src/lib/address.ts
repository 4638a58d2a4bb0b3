/** Addresses given by users and files, checked once: a module without Node's APIs, so that the explorer's browser bundle can use it too. */
import { type Address, getAddress, isAddress } from "viem";
import { ConsoleError } from "./errors.ts";

export function parseAddress(value: unknown, what: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new ConsoleError(
      `${what} is not an address: ${JSON.stringify(value)}`,
      "an address is 0x followed by 40 hex digits",
    );
  }
  return getAddress(value);
}

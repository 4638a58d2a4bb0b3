import { type Address, parseEther } from "viem";
import type { Argv } from "yargs";
import { payloadToHex } from "../lib/bytes.ts";
import { contractAddress, parseAddress } from "../lib/deployments.ts";
import { ConsoleError } from "../lib/errors.ts";
import {
  type L1,
  type Rollups,
  type Sent,
  connect,
  depositErc1155,
  depositErc20,
  depositErc721,
  depositEther,
  rollups,
} from "../lib/l1.ts";
import { parseUint } from "../lib/asset.ts";
import type { Out } from "../lib/output.ts";
import { group, leaf, withConnect, withRollups } from "./options.ts";

function done(out: Out, sent: Sent): void {
  out.result(`deposit successfully executed as input ${sent.input}`, sent);
}

async function start(
  args: Parameters<typeof connect>[0],
  out: Out,
  rollupsArgs: Parameters<typeof rollups>[1],
) {
  const l1: L1 = await connect(args, out.progress);
  const r = rollups(l1, rollupsArgs);
  return { l1, r };
}

/** The connect and rollups options, and `--<flag>`, the token contract. */
function withToken<K extends string>(y: Argv, flag: K, describe: string) {
  return withRollups(withConnect(y)).option(flag, { describe, type: "string" as const });
}

/**
 * Connects, then the token given by option, else the dev node's test token of that kind
 * (`fallback`), and says which token and account are used (after `first`, when given).
 */
async function startWithToken(
  args: Parameters<typeof connect>[0] & Parameters<typeof rollups>[1],
  out: Out,
  token: { given: string | undefined; flag: string; fallback: string; says: string },
  first?: string,
): Promise<{ l1: L1; r: Rollups; token: Address }> {
  const { l1, r } = await start(args, out, args);
  if (first !== undefined) out.progress(first);
  const address =
    token.given === undefined
      ? contractAddress(r.deployment, token.fallback)
      : parseAddress(token.given, `--${token.flag}`);
  out.progress(`${token.says} "${address}"`);
  out.progress(`using account "${l1.account.address}"`);
  return { l1, r, token: address };
}

const ether = leaf(
  "deposit",
  "Deposit Ether in DApp through the EtherPortal",
  (y) =>
    withRollups(withConnect(y))
      .option("amount", {
        describe: "Amount of Ether to deposit, in ETH (e.g. 0.5)",
        type: "string",
        demandOption: true,
      })
      .option("execLayerData", {
        describe: "Data passed to the DApp along with the deposit (text or 0x hex)",
        type: "string",
        default: "0x",
      }),
  async (args, out) => {
    let wei: bigint;
    try {
      wei = parseEther(args.amount.trim());
    } catch {
      throw new ConsoleError(
        `--amount is not an amount of ETH: ${JSON.stringify(args.amount)}`,
        "e.g. --amount 0.5",
      );
    }
    if (wei <= 0n) throw new ConsoleError("--amount must be greater than zero");
    const { l1, r } = await start(args, out, args);
    out.progress(`using account "${l1.account.address}"`);
    out.progress(`depositing ${args.amount} ETH...`);
    done(out, await depositEther(l1, r, wei, payloadToHex(args.execLayerData)));
  },
);

const erc20 = leaf(
  "deposit",
  "Deposit ERC-20 tokens in DApp",
  (y) =>
    withToken(y, "erc20", "ERC-20 address (default: the deployment's SimpleERC20)").option(
      "amount",
      {
        describe: "Amount of ERC-20 tokens to deposit, in base units",
        type: "string",
        demandOption: true,
      },
    ),
  async (args, out) => {
    const amount = parseUint(args.amount, "--amount");
    const { l1, r, token } = await startWithToken(args, out, {
      given: args.erc20,
      flag: "erc20",
      fallback: "SimpleERC20",
      says: "using ERC-20 token contract at address",
    });
    done(out, await depositErc20(l1, r, token, amount, "0x"));
  },
);

const erc721 = leaf(
  "deposit",
  "Deposit ERC-721 tokens to a DApp",
  (y) =>
    withToken(
      y,
      "erc721",
      "ERC-721 contract address (default: the deployment's SimpleERC721)",
    ).option("tokenId", {
      describe: "The ID of the token being transfered",
      type: "string",
      demandOption: true,
    }),
  async (args, out) => {
    const tokenId = parseUint(args.tokenId, "--tokenId");
    const { l1, r, token } = await startWithToken(
      args,
      out,
      {
        given: args.erc721,
        flag: "erc721",
        fallback: "SimpleERC721",
        says: "using ERC-721 token contract at",
      },
      `depositing token ${tokenId}...`,
    );
    done(out, await depositErc721(l1, r, token, tokenId));
  },
);

const erc1155 = leaf(
  "deposit",
  "Deposit ERC-1155 tokens to a DApp (several --tokenId/--amount pairs make a batch deposit)",
  (y) =>
    withToken(y, "erc1155", "ERC-1155 contract address (default: the deployment's SimpleERC1155)")
      .option("tokenId", {
        describe: "Token ID (repeat for a batch)",
        type: "string",
        array: true,
        demandOption: true,
      })
      .option("amount", {
        describe: "Amount of each token ID, in base units (repeat for a batch)",
        type: "string",
        array: true,
        demandOption: true,
      }),
  async (args, out) => {
    const ids = args.tokenId.map((t) => parseUint(t, "--tokenId"));
    const amounts = args.amount.map((a) => parseUint(a, "--amount"));
    if (ids.length !== amounts.length) {
      throw new ConsoleError(
        `${ids.length} --tokenId but ${amounts.length} --amount`,
        "give one --amount per --tokenId, in the same order",
      );
    }
    const { l1, r, token } = await startWithToken(args, out, {
      given: args.erc1155,
      flag: "erc1155",
      fallback: "SimpleERC1155",
      says: "using ERC-1155 token contract at",
    });
    out.progress(
      `depositing ${ids.map((id, i) => `${amounts[i] ?? 0n} of token ${id}`).join(", ")}...`,
    );
    done(out, await depositErc1155(l1, r, token, ids, amounts));
  },
);

export const etherCommand = group("ether", "Deposit Ether", [ether]);
export const erc20Command = group("erc20", "Deposit ERC-20 tokens", [erc20]);
export const erc721Command = group("erc721", "Deposit ERC-721 tokens", [erc721]);
export const erc1155Command = group("erc1155", "Deposit ERC-1155 tokens", [erc1155]);

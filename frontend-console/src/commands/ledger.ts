import type { Address } from "viem";
import { abis } from "../lib/abis.ts";
import { hexToJson, payloadToHex } from "../lib/bytes.ts";
import {
  DEFAULT_DEPLOYMENTS_DIR,
  contractAddress,
  parseAddress,
  readContractsFromDirs,
} from "../lib/deployments.ts";
import { ConsoleError } from "../lib/errors.ts";
import { waitForInput } from "../lib/graphql.ts";
import {
  DEVNET_MNEMONIC,
  type Rollups,
  type Sent,
  accountFrom,
  addInput,
  connect,
  inputIndexOf,
  rollups,
  send,
} from "../lib/l1.ts";
import {
  type Balance,
  ERROR_HINTS,
  type Operation,
  type TokenResolver,
  abiPayload,
  decodeLedgerReport,
  describeAccepted,
  fetchBalances,
  formatBalances,
  formatUnits,
  jsonPayload,
  parseAmount,
  parseAsset,
  queryLedger,
  routes,
} from "../lib/ledger.ts";
import type { Out } from "../lib/output.ts";
import {
  GRAPHQL_URL,
  INSPECT_URL,
  group,
  leaf,
  withConnect,
  withReader,
  withRollups,
} from "./options.ts";

/** Waits for the node to process a sent input and prints the dApp's answer; a rejection fails. */
export async function awaitResult(
  url: string,
  sent: Sent,
  timeoutSeconds: number,
  out: Out,
  acceptedLines?: readonly string[],
): Promise<void> {
  out.progress(`waiting for the node to process input ${sent.input}...`);
  const result = await waitForInput(url, sent.input, timeoutSeconds * 1000);
  const reports = result.reports.map((p) => decodeLedgerReport(p));
  const value = {
    ...sent,
    status: result.status,
    reports: result.reports.map((p) => hexToJson(p) ?? p),
  };
  const rejection = reports.find((r) => r !== undefined && "error" in r);
  if (result.status === "ACCEPTED") {
    const accepted = reports.find((r) => r !== undefined && "accepted" in r);
    const lines = [`input ${sent.input} accepted`];
    if (acceptedLines !== undefined) lines.push(...acceptedLines);
    else if (accepted !== undefined && "accepted" in accepted)
      lines.push(...describeAccepted(accepted));
    out.result(lines, value);
    return;
  }
  if (out.json) out.result([], value);
  if (rejection !== undefined && "error" in rejection) {
    throw new ConsoleError(
      `input ${sent.input} was rejected: ${rejection.error.code}: ${rejection.error.message}`,
      ERROR_HINTS[rejection.error.code] ?? "the input changed nothing",
    );
  }
  throw new ConsoleError(
    `input ${sent.input} ended ${result.status}`,
    "see `report list --input` and the dev node's log",
  );
}

function writing<T>(y: import("yargs").Argv<T>) {
  return withReader(withRollups(withConnect(y)), GRAPHQL_URL, "Reader URL, to wait for the result")
    .option("abi", {
      describe: "Send the ILedger ABI call instead of JSON",
      type: "boolean",
      default: false,
    })
    .option("wait", {
      describe: "Wait for the dApp's answer (--no-wait to only send)",
      type: "boolean",
      default: true,
    })
    .option("timeout", { describe: "Seconds to wait for the answer", type: "number", default: 60 });
}

type WriteArgs = Parameters<typeof connect>[0] &
  Parameters<typeof rollups>[1] & {
    url: string;
    abi: boolean;
    wait: boolean;
    timeout: number;
  };

/** Tokens by deployment name (`erc20:SimpleERC20`), from the local deployment files. */
function resolverFor(deployments: string): TokenResolver {
  let contracts: ReturnType<typeof readContractsFromDirs> | undefined;
  return (name) => {
    contracts ??= readContractsFromDirs([`${deployments}/localhost`]);
    return contracts[name]?.address;
  };
}

async function submit(args: WriteArgs, out: Out, build: (r: Rollups) => Operation): Promise<void> {
  const l1 = await connect(args, out.progress);
  const r = rollups(l1, args);
  const operation = build(r);
  out.progress(`using account "${l1.account.address}"`);
  const payload = args.abi ? abiPayload(operation) : payloadToHex(jsonPayload(operation));
  out.progress(`sending ${args.abi ? payload : jsonPayload(operation)}`);
  const sent = await addInput(l1, r, payload);
  if (!args.wait) {
    out.result(`input ${sent.input} added`, sent);
    return;
  }
  out.progress(`input ${sent.input} added`);
  await awaitResult(args.url, sent, args.timeout, out);
}

const transfer = leaf(
  "transfer",
  "Transfer an asset to another account, in the ledger",
  (y) =>
    writing(y)
      .option("to", { describe: "Receiving account", type: "string", demandOption: true })
      .option("asset", {
        describe: "ETH, COIN, erc20:<token>, erc721:<token>:<id>, erc1155:<token>:<id>",
        type: "string",
        demandOption: true,
      })
      .option("amount", {
        describe: "Base units (1000), or ETH/COIN with a unit (0.5ether)",
        type: "string",
      }),
  async (args, out) => {
    const to = parseAddress(args.to, "--to");
    const resolve = resolverFor(args.deployments);
    const asset = parseAsset(args.asset, resolve);
    const amount = parseAmount(args.amount, asset);
    await submit(args, out, () => ({ op: "transfer", to, asset, amount }));
  },
);

const withdraw = leaf(
  "withdraw",
  "Withdraw an asset to L1 (a voucher, emitted when the withdrawal's block is sealed)",
  (y) =>
    writing(y)
      .option("asset", {
        describe: "ETH, erc20:<token>, erc721:<token>:<id>, erc1155:<token>:<id>",
        type: "string",
        demandOption: true,
      })
      .option("amount", {
        describe: "Base units (1000), or ETH with a unit (0.5ether)",
        type: "string",
      }),
  async (args, out) => {
    const asset = parseAsset(args.asset, resolverFor(args.deployments));
    const amount = parseAmount(args.amount, asset);
    await submit(args, out, () => ({ op: "withdraw", asset, amount }));
  },
);

const mine = leaf(
  "mine",
  "Seal the pool into a block now (the sender earns the reward)",
  writing,
  async (args, out) => {
    await submit(args, out, () => ({ op: "mine" }));
  },
);

const relay = leaf(
  "relay-address",
  "Tell the dApp its own address through the DAppAddressRelay (needed once before withdrawals)",
  (y) =>
    withReader(
      withRollups(withConnect(y)),
      GRAPHQL_URL,
      "Reader URL, to wait for the result",
    ).option("timeout", {
      describe: "Seconds to wait for the answer",
      type: "number",
      default: 60,
    }),
  async (args, out) => {
    const l1 = await connect(args, out.progress);
    const r = rollups(l1, args);
    out.progress(`relaying the DApp address ${r.dapp}`);
    const receipt = await send(l1, {
      address: contractAddress(r.deployment, "DAppAddressRelay"),
      abi: abis.DAppAddressRelay,
      functionName: "relayDAppAddress",
      args: [r.dapp],
    });
    const sent = {
      input: inputIndexOf(receipt, contractAddress(r.deployment, "InputBox"), r.dapp),
      transaction: receipt.transactionHash,
    };
    out.progress(`input ${sent.input} added`);
    await awaitResult(args.url, sent, args.timeout, out, [`the dApp knows its address ${r.dapp}`]);
  },
);

function reading<T>(y: import("yargs").Argv<T>) {
  return withReader(y, INSPECT_URL, "Reader inspect URL");
}

const balance = leaf(
  "balance",
  "Balances of an account (default: the --mnemonic/--accountIndex account)",
  (y) =>
    reading(y)
      .option("address", { describe: "Account to show", type: "string" })
      .option("asset", { describe: "Only this asset", type: "string" })
      .option("mnemonic", {
        describe: "Wallet mnemonic",
        type: "string",
        default: process.env.MNEMONIC ?? DEVNET_MNEMONIC,
      })
      .option("accountIndex", {
        describe: "Account index from mnemonic",
        type: "number",
        default: 0,
      })
      .option("deployments", {
        describe: "Folder of deployment files, for token names ($DEPLOYMENTS_DIR)",
        type: "string",
        default: process.env.DEPLOYMENTS_DIR ?? DEFAULT_DEPLOYMENTS_DIR,
      }),
  async (args, out) => {
    const address: Address =
      args.address === undefined
        ? accountFrom(args.mnemonic, args.accountIndex).address
        : parseAddress(args.address, "--address");
    if (args.asset !== undefined) {
      const asset = parseAsset(args.asset, resolverFor(args.deployments));
      const b = (await queryLedger(args.url, routes.balance(address, asset))) as unknown as Balance;
      out.result(formatBalances(address, [b]), { address, balances: [b] });
      return;
    }
    const balances = await fetchBalances(args.url, address);
    out.result(formatBalances(address, balances), { address, balances });
  },
);

interface BlockTx {
  hash: string;
  kind: string;
  from: string;
  to: string;
  asset: string;
  amount: string;
  input: number;
}

const block = leaf(
  "block [block]",
  "A block by height, hash, or latest",
  (y) =>
    reading(y).positional("block", {
      describe: "latest, a height or a block hash",
      type: "string",
      default: "latest",
    }),
  async (args, out) => {
    const b = await queryLedger(args.url, routes.block(args.block));
    const txs = (b.txs as BlockTx[] | undefined) ?? [];
    const lines = [
      `block ${String(b.height)} ${String(b.hash)}`,
      `  prev_hash   ${String(b.prev_hash)}`,
      `  timestamp   ${String(b.timestamp)}`,
      `  miner       ${String(b.miner)}  reward ${formatUnits("COIN", String(b.reward))}`,
      `  difficulty  ${String(b.difficulty)} bits  nonce ${String(b.nonce)}`,
      `  state_root  ${String(b.state_root)}`,
      `  tx_root     ${String(b.tx_root)}`,
      `  ${String(b.tx_count)} transaction${b.tx_count === 1 ? "" : "s"}`,
      ...txs.map(
        (t) =>
          `    ${t.hash} ${t.kind} ${t.asset} ${t.amount} ${t.from} -> ${t.to} (input ${t.input})`,
      ),
    ];
    if (typeof b.txs_next_offset === "number")
      lines.push(`    … more: inspect block/${String(b.height)}?offset=${b.txs_next_offset}`);
    out.result(lines, b);
  },
);

const info = leaf(
  "info",
  "The ledger's tip, difficulty, pool and settings",
  (y) => reading(y),
  async (args, out) => {
    const i = await queryLedger(args.url, routes.info());
    const lines = Object.entries(i).map(
      ([k, v]) => `${k.padEnd(18)} ${typeof v === "string" ? v : JSON.stringify(v)}`,
    );
    out.result(lines, i);
  },
);

const pool = leaf(
  "pool",
  "Transactions waiting for the next block",
  (y) =>
    reading(y)
      .option("offset", { describe: "First transaction to show", type: "number", default: 0 })
      .option("limit", { describe: "How many to show (the ledger caps it)", type: "number" }),
  async (args, out) => {
    const p = await queryLedger(args.url, routes.pool(args.offset, args.limit));
    const txs = (p.txs as BlockTx[] | undefined) ?? [];
    const lines = [`${String(p.size)} transaction${p.size === 1 ? "" : "s"} in the pool`];
    lines.push(
      ...txs.map(
        (t) =>
          `  ${t.hash} ${t.kind} ${t.asset} ${t.amount} ${t.from} -> ${t.to} (input ${t.input})`,
      ),
    );
    if (typeof p.next_offset === "number") lines.push(`  … more: --offset ${p.next_offset}`);
    out.result(lines, p);
  },
);

export const ledgerCommand = group(
  "ledger",
  "Speak the ledger dApp: transfers, withdrawals, mining and queries",
  [transfer, withdraw, mine, relay, balance, block, info, pool],
);

/** `ledger`: the dApp's own commands, built on the typed functions of src/lib. */
import type { Address } from "viem";
import type { Argv } from "yargs";
import { abis } from "../lib/abis.ts";
import { parseAmount, parseAsset } from "../lib/asset.ts";
import { contractAddress, parseAddress } from "../lib/deployments.ts";
import { type Balance, formatBalances, formatUnits } from "../lib/format.ts";
import { DEVNET_MNEMONIC, accountFrom, connect, inputIndexOf, rollups, send } from "../lib/l1.ts";
import { fetchBalances, queryLedger, routes } from "../lib/queries.ts";
import { inspectTarget, readerFor } from "../lib/reader.ts";
import { group, leaf, withConnect, withInspect, withNode } from "./options.ts";
import { awaitResult, resolverFor, submit, writing } from "./submit.ts";
import { withdraw } from "./withdraw.ts";

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
    withNode(withConnect(y), "Reader URL, to wait for the result").option("timeout", {
      describe: "Seconds to wait for the answer",
      type: "number",
      default: 60,
    }),
  async (args, out) => {
    const l1 = await connect(args, out.progress);
    const r = rollups(l1, args);
    if (r.version === "v2") {
      // Every v2 input's metadata carries the application's address (`app_contract`).
      const line = `Rollups v2 tells the dApp its address ${r.dapp} with every input: nothing to relay`;
      out.result(line, { address: r.dapp, relayed: false });
      return;
    }
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
    await awaitResult(readerFor(args, r.version), sent, args.timeout, out, [
      `the dApp knows its address ${r.dapp}`,
    ]);
  },
);

const reading = withInspect;

/** `--address`, else the --mnemonic/--accountIndex account. */
const accountOptions = <T>(y: Argv<T>) =>
  y
    .option("address", { describe: "Account to show", type: "string" })
    .option("mnemonic", {
      describe: "Wallet mnemonic",
      type: "string",
      default: process.env.MNEMONIC ?? DEVNET_MNEMONIC,
    })
    .option("accountIndex", {
      describe: "Account index from mnemonic",
      type: "number",
      default: 0,
    });

function accountOf(args: { address?: string; mnemonic: string; accountIndex: number }): Address {
  return args.address === undefined
    ? accountFrom(args.mnemonic, args.accountIndex).address
    : parseAddress(args.address, "--address");
}

const balance = leaf(
  "balance",
  "Balances of an account (default: the --mnemonic/--accountIndex account)",
  (y) =>
    accountOptions(reading(y)).option("asset", { describe: "Only this asset", type: "string" }),
  async (args, out) => {
    const address = accountOf(args);
    if (args.asset !== undefined) {
      const asset = parseAsset(args.asset, resolverFor(args.deployments));
      const b = (await queryLedger(
        inspectTarget(args),
        routes.balance(address, asset),
      )) as unknown as Balance;
      out.result(formatBalances(address, [b]), { address, balances: [b] });
      return;
    }
    const balances = await fetchBalances(inspectTarget(args), address);
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
    const b = await queryLedger(inspectTarget(args), routes.block(args.block));
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
    const i = await queryLedger(inspectTarget(args), routes.info());
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
    const p = await queryLedger(inspectTarget(args), routes.pool(args.offset, args.limit));
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

const txs = leaf(
  "txs",
  "Transactions an account sent or received: sealed ones newest first, then pending ones",
  (y) =>
    accountOptions(reading(y))
      .option("offset", { describe: "First transaction to show", type: "number", default: 0 })
      .option("limit", { describe: "How many to show (the ledger caps it)", type: "number" }),
  async (args, out) => {
    const address = accountOf(args);
    const p = await queryLedger(inspectTarget(args), routes.txs(address, args.offset, args.limit));
    const list = (p.txs as (BlockTx & { status: string; block?: number })[] | undefined) ?? [];
    const lines = [
      `${address}: ${String(p.sealed)} sealed, ${String(p.pending)} pending transaction(s)`,
      ...list.map(
        (t) =>
          `  ${t.block === undefined ? "pending " : `block ${String(t.block)}`} ${t.hash} ${t.kind} ${t.asset} ${t.amount} ${t.from} -> ${t.to}`,
      ),
    ];
    if (typeof p.next_offset === "number") lines.push(`  … more: --offset ${p.next_offset}`);
    out.result(lines, p);
  },
);

export const ledgerCommand = group(
  "ledger",
  "Speak the ledger dApp: transfers, withdrawals, mining and queries",
  [transfer, withdraw, mine, relay, balance, block, info, pool, txs],
);

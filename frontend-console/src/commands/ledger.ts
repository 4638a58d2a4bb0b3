import type { Address, Hex } from "viem";
import { abis } from "../lib/abis.ts";
import { payloadToHex } from "../lib/bytes.ts";
import {
  DEFAULT_DEPLOYMENTS_DIR,
  contractAddress,
  parseAddress,
  readContractsFromDirs,
} from "../lib/deployments.ts";
import { ConsoleError, toConsoleError } from "../lib/errors.ts";
import { fetchOutputs } from "../lib/graphql.ts";
import {
  DEVNET_MNEMONIC,
  type L1,
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
  type Asset,
  type TokenResolver,
  coinNotWithdrawable,
  parseAmount,
  parseAsset,
} from "../lib/asset.ts";
import { type Balance, formatBalances, formatUnits } from "../lib/format.ts";
import { type Outcome, waitOutcome } from "../lib/outcome.ts";
import { type Operation, abiPayload, jsonPayload } from "../lib/payload.ts";
import { fetchBalances, queryLedger, routes } from "../lib/queries.ts";
import { ERROR_HINTS } from "../lib/reports.ts";
import type { Out } from "../lib/output.ts";
import { executeVoucher, waitForProof, wasVoucherExecuted } from "../lib/proofs.ts";
import { describeEpoch, probeEpoch } from "../lib/settlement.ts";
import {
  balanceChange,
  describeBalanceChange,
  expectedVoucher,
  firstUnexecuted,
  matchingVouchers,
} from "../lib/withdrawal.ts";
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
  const outcome = await waitOutcome(url, sent, timeoutSeconds, out.progress, acceptedLines);
  if (outcome.failure === undefined) {
    out.result(outcome.lines, outcome.value);
    return;
  }
  if (out.json) out.result([], outcome.value);
  throw outcome.failure;
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
      })
      .option("mine", {
        describe: "Seal the withdrawal's block in the same command (a `mine` input after it)",
        type: "boolean",
        default: false,
      })
      .option("execute", {
        describe: "Wait for the voucher's proof, then execute it on L1",
        type: "boolean",
        default: false,
      })
      .option("timeout", {
        describe: "Seconds to wait for each answer (60), and with --execute for the proof (120)",
        type: "number",
        default: undefined,
      }),
  async (args, out) => {
    const asset = parseAsset(args.asset, resolverFor(args.deployments));
    const amount = parseAmount(args.amount, asset);
    const operation: Operation = { op: "withdraw", asset, amount };
    if (!args.mine && !args.execute) {
      await submit({ ...args, timeout: args.timeout ?? ANSWER_TIMEOUT }, out, () => operation);
      return;
    }
    if (asset.kind === "COIN") {
      throw coinNotWithdrawable(ERROR_HINTS.NOT_WITHDRAWABLE);
    }
    if (!args.wait) {
      throw new ConsoleError(
        "--mine and --execute need the dApp's answers",
        "leave out --no-wait, or --mine and --execute",
      );
    }
    await withdrawAndSettle({ ...args, asset, amount }, out);
  },
);

const ANSWER_TIMEOUT = 60;
const PROOF_TIMEOUT = 120;

type SettleArgs = Omit<WriteArgs, "timeout"> & {
  timeout: number | undefined;
  mine: boolean;
  execute: boolean;
  asset: Asset;
  amount: bigint;
};

/**
 * `ledger withdraw --mine/--execute`: the withdrawal, the `mine` that seals it when asked, the
 * voucher that pays it, and with --execute its proof and execution on L1 with the receiver's L1
 * balance before and after. Everything done is printed even when a later step fails.
 */
async function withdrawAndSettle(args: SettleArgs, out: Out): Promise<void> {
  const answerTimeout = args.timeout ?? ANSWER_TIMEOUT;
  const l1 = await connect(args, out.progress);
  const r = rollups(l1, args);
  const receiver = l1.account.address;
  out.progress(`using account "${receiver}"`);
  const expected = expectedVoucher(args.asset, args.amount, receiver, r.dapp);
  const send = async (operation: Operation): Promise<Outcome> => {
    const payload = args.abi ? abiPayload(operation) : payloadToHex(jsonPayload(operation));
    out.progress(`sending ${args.abi ? payload : jsonPayload(operation)}`);
    const sent = await addInput(l1, r, payload);
    out.progress(`input ${sent.input} added`);
    return waitOutcome(args.url, sent, answerTimeout, out.progress);
  };
  const withdrawal = await send({ op: "withdraw", asset: args.asset, amount: args.amount });
  const value: Record<string, unknown> = { ...withdrawal.value };
  const lines = [...withdrawal.lines];
  try {
    if (withdrawal.failure !== undefined) throw withdrawal.failure;
    await settle(args, out, { l1, r, expected, send, value, lines, withdrawal });
  } catch (e) {
    if (lines.length > 0 || out.json) out.result(lines, value);
    throw e;
  }
  out.result(lines, value);
}

async function settle(
  args: SettleArgs,
  out: Out,
  s: {
    l1: L1;
    r: Rollups;
    expected: { destination: Address; payload: Hex };
    send: (operation: Operation) => Promise<Outcome>;
    value: Record<string, unknown>;
    lines: string[];
    withdrawal: Outcome;
  },
): Promise<void> {
  const { l1, r, value, lines } = s;
  const tx = s.withdrawal.accepted?.accepted.txs[0];
  // A withdrawal that sealed a block at once has its voucher in its own input.
  let sealedBy = tx?.status === "sealed" ? s.withdrawal.value.input : undefined;
  if (sealedBy === undefined) {
    if (!args.mine) {
      throw new ConsoleError(
        `withdrawal${tx === undefined ? "" : ` ${tx.hash}`} waits in the pool: its voucher is emitted when its block is sealed`,
        "run `ledger mine` to seal it, or pass --mine to seal it in the same command",
      );
    }
    out.progress("sealing the pool into a block (--mine)");
    const mined = await s.send({ op: "mine" });
    value.mine = mined.value;
    lines.push(...mined.lines);
    if (mined.failure !== undefined) throw mined.failure;
    sealedBy = mined.value.input;
  }
  const input = sealedBy;
  const nodes = await fetchOutputs(args.url, "voucher", input, { proofs: true });
  const index = await firstUnexecuted(matchingVouchers(nodes, s.expected), (i, n) =>
    wasVoucherExecuted(l1.publicClient, r.dapp, i, n),
  );
  if (index === undefined) {
    throw new ConsoleError(
      `no voucher of input ${input} pays this withdrawal`,
      `see \`voucher list --input ${input}\`: a block too full for the withdrawal leaves it in the pool; \`ledger mine\` again`,
    );
  }
  const execute = `\`voucher execute --index ${index} --input ${input}\``;
  value.voucher = { index, input };
  lines.push(`voucher ${index} of input ${input} pays the withdrawal`);
  if (!args.execute) {
    out.progress(`${execute} runs it once its epoch is claimed`);
    return;
  }
  const proofTimeout = args.timeout ?? PROOF_TIMEOUT;
  let said = "";
  let when: string | undefined;
  const proven = await waitForProof(args.url, "voucher", index, input, proofTimeout * 1000, {
    pollMs: 1000,
    onWait: async () => {
      when = describeEpoch(input, await probeEpoch(args.url, args.rpc));
      const text = `waiting for the proof of voucher ${index} of input ${input}${when === undefined ? "" : `: ${when}`}`;
      if (text !== said) out.progress(text);
      said = text;
    },
  });
  if (proven === undefined) {
    throw new ConsoleError(
      `voucher ${index} of input ${input} has no proof after ${proofTimeout} s${when === undefined ? "" : `: ${when}`}`,
      `the withdrawal is done and its voucher stays: run ${execute} later, or give --timeout more seconds`,
    );
  }
  out.progress(`executing voucher ${index} of input ${input}`);
  const receipt = await executeVoucher(
    l1,
    r,
    { index, input, destination: s.expected.destination, payload: proven.payload as Hex },
    proven.proof,
  );
  const execution: Record<string, unknown> = {
    transaction: receipt.transactionHash,
    block: receipt.blockNumber,
  };
  value.execution = execution;
  lines.push(
    `voucher ${index} of input ${input} executed in L1 transaction ${receipt.transactionHash}`,
  );
  try {
    const change = await balanceChange(l1.publicClient, args.asset, l1.account.address, receipt);
    execution.balance = change;
    lines.push(describeBalanceChange(change));
  } catch (e) {
    // The execution happened; only the report of its effect is missing.
    out.progress(
      `could not read the L1 balance around block ${receipt.blockNumber}: ${toConsoleError(e).message}`,
    );
  }
}

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

/**
 * `ledger withdraw`: a withdrawal, and with --mine/--execute the block that seals it and the
 * execution of its voucher on L1, in either Rollups version.
 */
import { coinNotWithdrawable, parseAmount, parseAsset, type Asset } from "../lib/asset.ts";
import { ConsoleError, toConsoleError } from "../lib/errors.ts";
import { type L1, type Rollups, addInput, connect, rollups } from "../lib/l1.ts";
import { type Outcome, waitOutcome } from "../lib/outcome.ts";
import type { Out } from "../lib/output.ts";
import type { Operation } from "../lib/payload.ts";
import { executeProven, waitProven, wasExecuted } from "../lib/proven.ts";
import { type Reader, readOutputs, readerFor, readerUrl } from "../lib/reader.ts";
import { ERROR_HINTS } from "../lib/reports.ts";
import { describeEpoch, probeEpoch } from "../lib/settlement.ts";
import {
  type ExpectedVoucher,
  balanceChange,
  describeBalanceChange,
  expectedVoucher,
  firstUnexecuted,
  matchingVouchers,
} from "../lib/withdrawal.ts";
import { leaf } from "./options.ts";
import { type WriteArgs, encoded, resolverFor, submit, writing } from "./submit.ts";

export const withdraw = leaf(
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
  const expected = expectedVoucher(args.asset, args.amount, receiver, r.dapp, r.version);
  const reader = readerFor(args, r.version);
  const send = async (operation: Operation): Promise<Outcome> => {
    const { payload, shown } = encoded(operation, args.abi);
    out.progress(shown);
    const sent = await addInput(l1, r, payload);
    out.progress(`input ${sent.input} added`);
    return waitOutcome(reader, sent, answerTimeout, out.progress);
  };
  const withdrawal = await send({ op: "withdraw", asset: args.asset, amount: args.amount });
  const value: Record<string, unknown> = { ...withdrawal.value };
  const lines = [...withdrawal.lines];
  try {
    if (withdrawal.failure !== undefined) throw withdrawal.failure;
    await settle(args, out, { l1, r, reader, expected, send, value, lines, withdrawal });
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
    reader: Reader;
    expected: ExpectedVoucher;
    send: (operation: Operation) => Promise<Outcome>;
    value: Record<string, unknown>;
    lines: string[];
    withdrawal: Outcome;
  },
): Promise<void> {
  const { l1, r, reader, value, lines } = s;
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
  const nodes = await readOutputs(reader, "voucher", input, { proofs: true });
  const index = await firstUnexecuted(matchingVouchers(nodes, s.expected), (i, n) =>
    wasExecuted(l1.publicClient, r, i, n),
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
  const proven = await waitProven(reader, "voucher", index, input, proofTimeout * 1000, {
    pollMs: 1000,
    onWait: async () => {
      when = describeEpoch(input, await probeEpoch(readerUrl(reader), args.rpc));
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
  const receipt = await executeProven(l1, r, proven);
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

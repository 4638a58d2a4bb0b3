import type { Address, Hex } from "viem";
import {
  type OutputKind,
  type OutputNode,
  type Proof,
  fetchOutput,
  fetchOutputs,
  listOutputs,
} from "../lib/graphql.ts";
import type { RollupsArgs } from "../lib/deployments.ts";
import { type ConnectArgs, type L1, type Rollups, connect, rollups } from "../lib/l1.ts";
import type { Out } from "../lib/output.ts";
import { executeVoucher, listVouchers, validateNotice, wasVoucherExecuted } from "../lib/proofs.ts";
import { describeEpoch, probeEpoch } from "../lib/settlement.ts";
import { GRAPHQL_URL, group, leaf, withConnect, withReader, withRollups } from "./options.ts";

function querying(kind: OutputKind, url: string, input: number | undefined): string {
  return `querying ${url} for ${kind}s${input === undefined ? "" : ` of input index "${input}"`}...`;
}

function list(kind: "notice" | "report") {
  return leaf(
    "list",
    `List ${kind}s (of one input with --input)`,
    (y) => withReader(y, GRAPHQL_URL).option("input", { describe: "Input index", type: "number" }),
    async (args, out) => {
      out.progress(querying(kind, args.url, args.input));
      const outputs = listOutputs(await fetchOutputs(args.url, kind, args.input));
      // Already JSON: the same line with or without --json.
      out.result(JSON.stringify(outputs), outputs);
    },
  );
}

/**
 * `voucher list`, with whether each voucher has a proof (`executable`) and ran on L1
 * (`executed`, read from the application contract). The chain is asked only when some voucher
 * has a proof, so listing needs no chain until the node proves an epoch.
 */
const listVouchersCommand = leaf(
  "list",
  "List vouchers (of one input with --input), whether each is executable and executed",
  (y) =>
    withReader(withRollups(withConnect(y)), GRAPHQL_URL).option("input", {
      describe: "Input index",
      type: "number",
    }),
  async (args, out) => {
    out.progress(querying("voucher", args.url, args.input));
    const nodes = await fetchOutputs(args.url, "voucher", args.input, { proofs: true });
    // Connected once, by the first read; the reads run several at a time.
    let chain: Promise<{ l1: L1; dapp: Address }> | undefined;
    const outputs = await listVouchers(nodes, async (input, index) => {
      chain ??= connect(args, out.progress).then((l1) => {
        const { dapp } = rollups(l1, args);
        out.progress(`reading which vouchers were executed on the application ${dapp}`);
        return { l1, dapp };
      });
      const { l1, dapp } = await chain;
      return wasVoucherExecuted(l1.publicClient, dapp, input, index);
    });
    out.result(JSON.stringify(outputs), outputs);
  },
);

function indexed<T>(y: import("yargs").Argv<T>, what: string) {
  return withReader(withRollups(withConnect(y)), GRAPHQL_URL)
    .option("index", {
      describe: `${what} index within its associated Input`,
      type: "number",
      demandOption: true,
    })
    .option("input", { describe: "Input index", type: "number", demandOption: true });
}

type IndexedArgs = ConnectArgs & RollupsArgs & { url: string; index: number; input: number };

/**
 * Fetches the output with its proof, and acts on it once the node has proven its epoch; until
 * then prints the reference console's "no associated proof yet", and, when the node tells it on
 * `/healthz`, how long its epoch has left.
 */
async function withProof(
  kind: "notice" | "voucher",
  args: IndexedArgs,
  out: Out,
  act: (node: OutputNode, proof: Proof, l1: L1, r: Rollups) => Promise<void>,
): Promise<void> {
  const { index, input } = args;
  out.progress(`retrieving ${kind} "${index}" from input "${input}" along with proof`);
  const node = await fetchOutput(args.url, kind, index, input);
  if (!node.proof) {
    const message = `${kind} "${index}" from input "${input}" has no associated proof yet`;
    const epoch = await probeEpoch(args.url, args.rpc);
    const when = describeEpoch(input, epoch);
    out.result(when === undefined ? message : [message, when], {
      index,
      input,
      proof: null,
      ...(epoch === undefined ? {} : { epoch }),
    });
    return;
  }
  const l1 = await connect(args, out.progress);
  const r = rollups(l1, args);
  out.progress(`using account "${l1.account.address}"`);
  await act(node, node.proof, l1, r);
}

/** `notice validate` and `voucher execute`: the output fetched with its proof, then `act`. */
function proven(
  kind: "notice" | "voucher",
  command: string,
  describe: string,
  doing: string,
  act: (
    args: IndexedArgs,
    out: Out,
    node: OutputNode,
    proof: Proof,
    l1: L1,
    r: Rollups,
  ) => Promise<void>,
) {
  return leaf(
    command,
    describe,
    (y) => indexed(y, kind === "notice" ? "Notice" : "Voucher"),
    (args, out) =>
      withProof(kind, args, out, async (node, proof, l1, r) => {
        out.progress(`${doing} ${kind} "${args.index}" from input "${args.input}"`);
        await act(args, out, node, proof, l1, r);
      }),
  );
}

const validate = proven(
  "notice",
  "validate",
  "Validate notice given its id",
  "validating",
  async (args, out, notice, proof, l1, r) => {
    await validateNotice(l1, r, notice.payload as Hex, proof);
    out.result("notice is valid!", { index: args.index, input: args.input, valid: true });
  },
);

const execute = proven(
  "voucher",
  "execute",
  "Execute voucher given its input index and its index",
  "executing",
  async (args, out, voucher, proof, l1, r) => {
    const { transactionHash: tx } = await executeVoucher(
      l1,
      r,
      {
        index: args.index,
        input: args.input,
        destination: voucher.destination as Address,
        payload: voucher.payload as Hex,
      },
      proof,
    );
    out.result(`voucher executed! (tx="${tx}")`, {
      index: args.index,
      input: args.input,
      transaction: tx,
    });
  },
);

export const noticeCommand = group("notice", "List and validate notices", [
  list("notice"),
  validate,
]);
export const voucherCommand = group("voucher", "List and execute vouchers", [
  listVouchersCommand,
  execute,
]);
export const reportCommand = group("report", "List reports", [list("report")]);

import type { OutputKind } from "../lib/graphql.ts";
import { type ConnectArgs, type L1, type Rollups, connect, rollups } from "../lib/l1.ts";
import type { Out } from "../lib/output.ts";
import { listVouchers } from "../lib/proofs.ts";
import {
  type Proven,
  executeProven,
  fetchProven,
  validateProven,
  wasExecuted,
} from "../lib/proven.ts";
import { type ReaderArgs, readOutputs, readerFor, readerUrl } from "../lib/reader.ts";
import { listOutputs } from "../lib/graphql.ts";
import { describeEpoch, probeEpoch } from "../lib/settlement.ts";
import { group, leaf, withConnect, withNode } from "./options.ts";

function querying(kind: OutputKind, url: string, input: number | undefined): string {
  return `querying ${url} for ${kind}s${input === undefined ? "" : ` of input index "${input}"`}...`;
}

function list(kind: "notice" | "report") {
  return leaf(
    "list",
    `List ${kind}s (of one input with --input)`,
    (y) => withNode(y).option("input", { describe: "Input index", type: "number" }),
    async (args, out) => {
      const reader = readerFor(args);
      out.progress(querying(kind, readerUrl(reader), args.input));
      const outputs = listOutputs(await readOutputs(reader, kind, args.input));
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
    withNode(withConnect(y)).option("input", {
      describe: "Input index",
      type: "number",
    }),
  async (args, out) => {
    const reader = readerFor(args);
    out.progress(querying("voucher", readerUrl(reader), args.input));
    const nodes = await readOutputs(reader, "voucher", args.input, { proofs: true });
    // Connected once, by the first read; the reads run several at a time.
    let chain: Promise<{ l1: L1; r: Rollups }> | undefined;
    const outputs = await listVouchers(nodes, async (input, index) => {
      chain ??= connect(args, out.progress).then((l1) => {
        const r = { ...rollups(l1, args), version: reader.version };
        out.progress(`reading which vouchers were executed on the application ${r.dapp}`);
        return { l1, r };
      });
      const { l1, r } = await chain;
      return wasExecuted(l1.publicClient, r, input, index);
    });
    out.result(JSON.stringify(outputs), outputs);
  },
);

function indexed<T>(y: import("yargs").Argv<T>, what: string) {
  return withNode(withConnect(y))
    .option("index", {
      describe: `${what} index (Rollups v1: within its input; v2: among all the application's outputs)`,
      type: "number",
      demandOption: true,
    })
    .option("input", { describe: "Input index", type: "number", demandOption: true });
}

type IndexedArgs = ConnectArgs & ReaderArgs & { index: number; input: number };

/**
 * Fetches the output with its proof, and acts on it once the node has proven its epoch; until
 * then prints the reference console's "no associated proof yet", and, when the node tells it on
 * `/healthz`, how long its epoch has left.
 */
async function withProof(
  kind: "notice" | "voucher",
  args: IndexedArgs,
  out: Out,
  act: (proven: Proven, l1: L1, r: Rollups) => Promise<void>,
): Promise<void> {
  const { index, input } = args;
  const reader = readerFor(args);
  out.progress(`retrieving ${kind} "${index}" from input "${input}" along with proof`);
  const proven = await fetchProven(reader, kind, index, input);
  if (proven === undefined) {
    const message = `${kind} "${index}" from input "${input}" has no associated proof yet`;
    const epoch = await probeEpoch(readerUrl(reader), args.rpc);
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
  await act(proven, l1, r);
}

/** `notice validate` and `voucher execute`: the output fetched with its proof, then `act`. */
function proven(
  kind: "notice" | "voucher",
  command: string,
  describe: string,
  doing: string,
  act: (args: IndexedArgs, out: Out, proven: Proven, l1: L1, r: Rollups) => Promise<void>,
) {
  return leaf(
    command,
    describe,
    (y) => indexed(y, kind === "notice" ? "Notice" : "Voucher"),
    (args, out) =>
      withProof(kind, args, out, async (p, l1, r) => {
        out.progress(`${doing} ${kind} "${args.index}" from input "${args.input}"`);
        await act(args, out, p, l1, r);
      }),
  );
}

const validate = proven(
  "notice",
  "validate",
  "Validate notice given its id",
  "validating",
  async (args, out, p, l1, r) => {
    await validateProven(l1, r, p);
    out.result("notice is valid!", { index: args.index, input: args.input, valid: true });
  },
);

const execute = proven(
  "voucher",
  "execute",
  "Execute voucher given its input index and its index",
  "executing",
  async (args, out, p, l1, r) => {
    const { transactionHash: tx } = await executeProven(l1, r, p);
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

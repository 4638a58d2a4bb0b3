import type { Address, Hex } from "viem";
import { type OutputKind, fetchOutput, fetchOutputs, listOutputs } from "../lib/graphql.ts";
import { connect, rollups } from "../lib/l1.ts";
import { executeVoucher, validateNotice } from "../lib/proofs.ts";
import { GRAPHQL_URL, group, leaf, withConnect, withReader, withRollups } from "./options.ts";

function list(kind: OutputKind) {
  return leaf(
    "list",
    `List ${kind}s (of one input with --input)`,
    (y) => withReader(y, GRAPHQL_URL).option("input", { describe: "Input index", type: "number" }),
    async (args, out) => {
      out.progress(
        `querying ${args.url} for ${kind}s${args.input === undefined ? "" : ` of input index "${args.input}"`}...`,
      );
      const outputs = listOutputs(await fetchOutputs(args.url, kind, args.input));
      // Already JSON: the same line with or without --json.
      out.result(JSON.stringify(outputs), outputs);
    },
  );
}

function indexed<T>(y: import("yargs").Argv<T>, what: string) {
  return withReader(withRollups(withConnect(y)), GRAPHQL_URL)
    .option("index", {
      describe: `${what} index within its associated Input`,
      type: "number",
      demandOption: true,
    })
    .option("input", { describe: "Input index", type: "number", demandOption: true });
}

const validate = leaf(
  "validate",
  "Validate notice given its id",
  (y) => indexed(y, "Notice"),
  async (args, out) => {
    const { index, input } = args;
    out.progress(`retrieving notice "${index}" from input "${input}" along with proof`);
    const notice = await fetchOutput(args.url, "notice", index, input);
    if (!notice.proof) {
      out.result(`notice "${index}" from input "${input}" has no associated proof yet`, {
        index,
        input,
        proof: null,
      });
      return;
    }
    const l1 = await connect(args, out.progress);
    const r = rollups(l1, args);
    out.progress(`validating notice "${index}" from input "${input}"`);
    await validateNotice(l1, r, notice.payload as Hex, notice.proof);
    out.result("notice is valid!", { index, input, valid: true });
  },
);

const execute = leaf(
  "execute",
  "Execute voucher given its input index and its index",
  (y) => indexed(y, "Voucher"),
  async (args, out) => {
    const { index, input } = args;
    out.progress(`retrieving voucher "${index}" from input "${input}" along with proof`);
    const voucher = await fetchOutput(args.url, "voucher", index, input);
    if (!voucher.proof) {
      out.result(`voucher "${index}" from input "${input}" has no associated proof yet`, {
        index,
        input,
        proof: null,
      });
      return;
    }
    const l1 = await connect(args, out.progress);
    const r = rollups(l1, args);
    out.progress(`using account "${l1.account.address}"`);
    out.progress(`executing voucher "${index}" from input "${input}"`);
    const tx = await executeVoucher(
      l1,
      r,
      voucher.destination as Address,
      voucher.payload as Hex,
      voucher.proof,
    );
    out.result(`voucher executed! (tx="${tx}")`, { index, input, transaction: tx });
  },
);

export const noticeCommand = group("notice", "List and validate notices", [
  list("notice"),
  validate,
]);
export const voucherCommand = group("voucher", "List and execute vouchers", [
  list("voucher"),
  execute,
]);
export const reportCommand = group("report", "List reports", [list("report")]);

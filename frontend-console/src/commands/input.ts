import { payloadToHex } from "../lib/bytes.ts";
import { addInput, connect, rollups } from "../lib/l1.ts";
import { readerFor } from "../lib/reader.ts";
import { group, leaf, withConnect, withNode } from "./options.ts";
import { awaitResult } from "./submit.ts";

const send = leaf(
  "send",
  "Send string input to DApp",
  (y) =>
    withNode(withConnect(y), "Reader URL (with --wait)")
      .option("payload", {
        describe: "Input payload to send (text, or 0x-prefixed hex bytes)",
        type: "string",
        demandOption: true,
      })
      .option("wait", {
        describe: "Wait until the node processes the input and show its reports",
        type: "boolean",
        default: false,
      })
      .option("timeout", { describe: "Seconds --wait waits", type: "number", default: 60 }),
  async (args, out) => {
    const l1 = await connect(args, out.progress);
    const r = rollups(l1, args);
    out.progress(`using account "${l1.account.address}"`);
    out.progress(`sending "${args.payload}"`);
    const sent = await addInput(l1, r, payloadToHex(args.payload));
    if (!args.wait) {
      out.result(`input ${sent.input} added`, sent);
      return;
    }
    out.progress(`input ${sent.input} added`);
    await awaitResult(readerFor(args, r.version), sent, args.timeout, out);
  },
);

export const inputCommand = group("input", "Send inputs to the DApp", [send]);

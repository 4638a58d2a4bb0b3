import { hexToText } from "../lib/bytes.ts";
import { ConsoleError } from "../lib/errors.ts";
import { formatInspect, inspect } from "../lib/inspect.ts";
import { INSPECT_URL, leaf, withReader } from "./options.ts";

export const inspectCommand = leaf(
  "inspect",
  "Inspect the state of the DApp",
  (y) =>
    withReader(y, INSPECT_URL, "Reader inspect URL").option("payload", {
      describe: "Inspect payload to send (a path, e.g. balance/0x…)",
      type: "string",
      demandOption: true,
    }),
  async (args, out) => {
    const result = await inspect(args.url, args.payload);
    out.result(formatInspect(result), {
      http_status: result.httpStatus,
      status: result.status ?? null,
      processed_input_count: result.processedInputCount ?? null,
      reports: result.reports.map(hexToText),
      exception_payload:
        result.exceptionPayload === null ? null : hexToText(result.exceptionPayload),
    });
    if (result.httpStatus !== 200) {
      throw new ConsoleError(
        `inspect answered HTTP ${result.httpStatus}`,
        "check --url and the payload",
      );
    }
  },
);

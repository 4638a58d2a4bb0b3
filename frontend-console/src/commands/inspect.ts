import { hexToText } from "../lib/bytes.ts";
import { ConsoleError } from "../lib/errors.ts";
import { formatInspect, inspect, inspectV2 } from "../lib/inspect.ts";
import { inspectTarget } from "../lib/reader.ts";
import { leaf, withInspect } from "./options.ts";

export const inspectCommand = leaf(
  "inspect",
  "Inspect the state of the DApp",
  (y) =>
    withInspect(y).option("payload", {
      describe: "Inspect payload to send (a path, e.g. balance/0x…)",
      type: "string",
      demandOption: true,
    }),
  async (args, out) => {
    const target = inspectTarget(args);
    const result =
      target.version === "v1"
        ? await inspect(target.url, args.payload)
        : await inspectV2(target.url, args.payload);
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

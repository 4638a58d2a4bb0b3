/**
 * The console: `yarn start <command>`. Results go to stdout, progress and errors to stderr; a
 * failure is one line with a hint and a non-zero exit.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { erc1155Command, erc20Command, erc721Command, etherCommand } from "./commands/deposits.ts";
import { inputCommand } from "./commands/input.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { ledgerCommand } from "./commands/ledger.ts";
import { noticeCommand, reportCommand, voucherCommand } from "./commands/outputs.ts";
import { ConsoleError, toConsoleError } from "./lib/errors.ts";
import { errorLine } from "./lib/output.ts";

class UsageError extends ConsoleError {
  constructor(message: string) {
    super(message, "see --help");
  }
}

const argv = hideBin(process.argv);
const json = argv.includes("--json");

try {
  await yargs(argv)
    .scriptName("yarn start")
    .usage("$0 <command> [options]")
    .option("json", {
      describe: "Print results as JSON",
      type: "boolean",
      default: false,
      global: true,
    })
    .command(inputCommand)
    .command(inspectCommand)
    .command(noticeCommand)
    .command(voucherCommand)
    .command(reportCommand)
    .command(etherCommand)
    .command(erc20Command)
    .command(erc721Command)
    .command(erc1155Command)
    .command(ledgerCommand)
    .demandCommand(1, "give a command: see --help")
    .strict()
    .fail((message: string | undefined, error: Error | undefined) => {
      // Validation failures come with a message and no error; the commands' own errors pass.
      if (error !== undefined) throw error;
      throw new UsageError(message ?? "invalid arguments");
    })
    .wrap(Math.min(110, process.stdout.columns || 110))
    .version()
    .help()
    .parseAsync();
} catch (e) {
  const usage = e instanceof UsageError;
  const error = toConsoleError(e);
  process.stderr.write(`${errorLine(error, json)}\n`);
  process.exitCode = usage ? 2 : 1;
}

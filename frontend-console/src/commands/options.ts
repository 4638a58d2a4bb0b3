/** Options shared by the commands, with the reference console's names and defaults. */
import type { Argv, CommandModule } from "yargs";
import { DEFAULT_DEPLOYMENTS_DIR } from "../lib/deployments.ts";
import { DEVNET_MNEMONIC } from "../lib/l1.ts";
import { type Out, makeOut } from "../lib/output.ts";
import { INSPECT_URL, INSPECT_URL_V2, RPC_URL } from "../lib/reader.ts";

export { INSPECT_URL };

export const GRAPHQL_URL = "http://localhost:4000/graphql";

export function withConnect<T>(y: Argv<T>) {
  return y
    .option("rpc", {
      describe: "JSON-RPC provider URL",
      type: "string",
      default: process.env.RPC_URL ?? "http://localhost:8545",
    })
    .option("mnemonic", {
      describe: "Wallet mnemonic",
      type: "string",
      default: process.env.MNEMONIC ?? DEVNET_MNEMONIC,
    })
    .option("accountIndex", {
      describe: "Account index from mnemonic (m/44'/60'/0'/0/<index>)",
      type: "number",
      default: 0,
    });
}

export function withRollups<T>(y: Argv<T>) {
  return y
    .option("dapp", { describe: "DApp name", type: "string", default: "dapp" })
    .option("address", { describe: "DApp address", type: "string" })
    .option("addressFile", {
      describe: "JSON file with the DApp address (its .address)",
      type: "string",
    })
    .option("deploymentFile", {
      describe: "JSON file with deployment of rollups contracts",
      type: "string",
    })
    .option("deployments", {
      describe:
        "Folder of per-network deployment files, as the dev node writes them ($DEPLOYMENTS_DIR)",
      type: "string",
      default: process.env.DEPLOYMENTS_DIR ?? DEFAULT_DEPLOYMENTS_DIR,
    })
    .option("rollups", {
      describe: "Rollups version of the node (default: the deployment's rollups.json, else v1)",
      type: "string",
      choices: ["v1", "v2"],
    });
}

/** The reader of either version: `--url` (GraphQL, v1) and `--rpc-url` (JSON-RPC, v2). */
export function withNode<T>(y: Argv<T>, describe = "Reader URL (Rollups v1 GraphQL)") {
  return withReader(withRollups(y), GRAPHQL_URL, describe).option("rpc-url", {
    describe: `The node's JSON-RPC URL, for Rollups v2 (default: rollups.json's, else ${RPC_URL})`,
    type: "string",
  });
}

/**
 * The inspect URL: `--url`, else the reference console's for v1, or for v2 the one in
 * `rollups.json` (else the dev node's); with no default here, so that a v2 node's can apply.
 */
export function withInspect<T>(y: Argv<T>) {
  return y
    .option("url", {
      describe: `Inspect URL (default: ${INSPECT_URL}; Rollups v2: rollups.json's, else ${INSPECT_URL_V2}; /<application> is added to a URL ending in /inspect)`,
      type: "string",
    })
    .option("rollups", {
      describe: "Rollups version of the node (default: the deployment's rollups.json, else v1)",
      type: "string",
      choices: ["v1", "v2"],
    })
    .option("deployments", {
      describe: "Folder of deployment files, for the version and token names ($DEPLOYMENTS_DIR)",
      type: "string",
      default: process.env.DEPLOYMENTS_DIR ?? DEFAULT_DEPLOYMENTS_DIR,
    });
}

export function withReader<T>(y: Argv<T>, url: string, describe = "Reader URL") {
  return y.option("url", { describe, type: "string", default: url });
}

/**
 * A command that does its work in `run`: the options are typed by the builder, and the output
 * follows `--json`.
 */
export function leaf<A>(
  command: string,
  describe: string,
  builder: (y: Argv) => Argv<A>,
  run: (args: A, out: Out) => Promise<void>,
): CommandModule {
  return {
    command,
    describe,
    builder,
    handler: async (args) => {
      await run(args as unknown as A, makeOut(args.json === true));
    },
  };
}

/** A command whose subcommands do the work (`notice list`, `ledger transfer`, …). */
export function group(
  command: string,
  describe: string,
  subcommands: readonly CommandModule[],
): CommandModule {
  return {
    command,
    describe,
    builder: (y: Argv) => {
      for (const sub of subcommands) y.command(sub);
      return y.demandCommand(
        1,
        `${command.split(" ")[0] ?? command} needs a subcommand: see --help`,
      );
    },
    handler: () => undefined,
  };
}

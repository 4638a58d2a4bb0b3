/**
 * Where the console finds the application and the Rollups contracts, in the reference console's
 * order: `--address`, else `--addressFile` (JSON with `.address`), else
 * `<deployments>/<network>/<dapp>.json`; contracts from `--deploymentFile`, else, on localhost,
 * every file of `<deployments>/localhost` (hardhat-deploy layout, as the dev node writes it), else
 * the deployment exported by `@cartesi/rollups` for the network.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";
import { parseAddress } from "./address.ts";
import { ConsoleError } from "./errors.ts";
import { networkName } from "./networks.ts";

export interface Contract {
  address: Address;
}

export interface Deployment {
  name: string;
  chainId: string;
  contracts: Record<string, Contract>;
}

export interface RollupsArgs {
  /** `--rollups v1|v2`; absent: from the deployment's `rollups.json`, else v1. */
  rollups?: string | undefined;
  dapp: string;
  address?: string | undefined;
  addressFile?: string | undefined;
  deploymentFile?: string | undefined;
  deployments: string;
}

/** The console's package folder: the nearest one up with a package.json, from src/ or dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** `deployments/` at the top of this repository, where the dev node writes its files. */
export const DEFAULT_DEPLOYMENTS_DIR = resolve(packageRoot(), "..", "deployments");

const START_NODE = "start the dev node (scripts/run.sh), which writes the deployment files";

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConsoleError(`cannot read ${what} ${path}`, START_NODE);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConsoleError(`${what} ${path} is not valid JSON`);
  }
}

export { parseAddress };

/** The `.address` of a deployment JSON file. */
export function readAddressFile(path: string): Address {
  const json = readJson(path, "address file");
  const address = (json as { address?: unknown } | null)?.address;
  return parseAddress(address, `the "address" field of ${path}`);
}

export function resolveDappAddress(chainId: number, args: RollupsArgs): Address {
  if (args.address !== undefined) return parseAddress(args.address, "--address");
  if (args.addressFile !== undefined) return readAddressFile(args.addressFile);
  const network = networkName(chainId);
  if (network === undefined) {
    throw new ConsoleError(
      `unable to resolve DApp address: chain ${chainId} is not a known network`,
      "pass --address",
    );
  }
  const file = join(args.deployments, network, `${args.dapp}.json`);
  if (!existsSync(file)) {
    throw new ConsoleError(
      `unable to resolve DApp address: ${file} does not exist`,
      `pass --address, or ${START_NODE}`,
    );
  }
  return readAddressFile(file);
}

function contractsOf(json: unknown, origin: string): Record<string, Contract> {
  const contracts = (json as { contracts?: unknown } | null)?.contracts;
  if (typeof contracts !== "object" || contracts === null) {
    throw new ConsoleError(`${origin} has no "contracts" object`);
  }
  const out: Record<string, Contract> = {};
  for (const [name, value] of Object.entries(contracts)) {
    const address = (value as { address?: unknown } | null)?.address;
    out[name] = { address: parseAddress(address, `${name} in ${origin}`) };
  }
  return out;
}

/** Files of the deployment folder that name no contract. */
const NOT_CONTRACTS = new Set(["dapp.json", "rollups.json"]);

/**
 * Every `<Name>.json` of the folders but `dapp.json` (and the dev node's `rollups.json`), as the
 * reference console reads them.
 */
export function readContractsFromDirs(dirs: readonly string[]): Record<string, Contract> {
  const contracts: Record<string, Contract> = {};
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith(".json") || NOT_CONTRACTS.has(file)) continue;
      contracts[basename(file, ".json")] = { address: readAddressFile(join(dir, file)) };
    }
  }
  return contracts;
}

export function readDeployment(chainId: number, args: RollupsArgs): Deployment {
  if (args.deploymentFile !== undefined) {
    const json = readJson(args.deploymentFile, "deployment file");
    const name = (json as { name?: unknown }).name;
    return {
      name: typeof name === "string" ? name : "unknown",
      chainId: String(chainId),
      contracts: contractsOf(json, args.deploymentFile),
    };
  }
  const network = networkName(chainId);
  if (network === undefined) {
    throw new ConsoleError(`unsupported chain ${chainId}`, "pass --deploymentFile");
  }
  if (network === "localhost") {
    const dirs = [
      join(args.deployments, "localhost"),
      join(args.deployments, "..", "common-contracts", "deployments", "localhost"),
    ];
    const contracts = readContractsFromDirs(dirs);
    if (Object.keys(contracts).length === 0) {
      throw new ConsoleError(`no deployment files in ${dirs[0] ?? ""}`, START_NODE);
    }
    return { name: network, chainId: String(chainId), contracts };
  }
  const require = createRequire(import.meta.url);
  let json: unknown;
  try {
    json = require(`@cartesi/rollups/export/abi/${network}.json`);
  } catch {
    throw new ConsoleError(
      `rollups not deployed to network ${network}`,
      "pass --deploymentFile with the contracts' addresses",
    );
  }
  return { name: network, chainId: String(chainId), contracts: contractsOf(json, network) };
}

/** A contract of the deployment by name, or an error naming what is missing. */
export function contractAddress(deployment: Deployment, name: string): Address {
  const contract = deployment.contracts[name];
  if (contract === undefined) {
    throw new ConsoleError(
      `the ${deployment.name} deployment has no ${name} contract`,
      "pass --deploymentFile with it, or restart the dev node to redeploy",
    );
  }
  return contract.address;
}

export type RollupsVersion = "v1" | "v2";

/** The dev node's `<deployments>/localhost/rollups.json`: which Rollups it runs, and where. */
export interface RollupsInfo {
  version: string;
  chainId?: number;
  application?: Address;
  applicationName?: string;
  graphql?: string;
  rpc?: string;
  inspect?: string;
}

/** `rollups.json` of the deployment folder, or undefined when there is none. */
export function readRollupsInfo(deployments: string): RollupsInfo | undefined {
  const path = join(deployments, "localhost", "rollups.json");
  if (!existsSync(path)) return undefined;
  const json = readJson(path, "Rollups description") as Record<string, unknown> | null;
  const version = json?.version;
  if (typeof version !== "string") {
    throw new ConsoleError(`${path} has no "version"`, START_NODE);
  }
  const text = (key: string): string | undefined => {
    const value = json?.[key];
    return typeof value === "string" ? value : undefined;
  };
  const application = text("application");
  return {
    version,
    ...(typeof json?.chainId === "number" ? { chainId: json.chainId } : {}),
    ...(application === undefined
      ? {}
      : { application: parseAddress(application, `"application" of ${path}`) }),
    ...Object.fromEntries(
      ["applicationName", "graphql", "rpc", "inspect"].flatMap((k) => {
        const v = text(k);
        return v === undefined ? [] : [[k, v]];
      }),
    ),
  };
}

/**
 * The Rollups version to speak: `--rollups`, else the major version of the deployment's
 * `rollups.json`, else v1 (nodes that write no `rollups.json` are v1 ones).
 */
export function rollupsVersion(args: {
  rollups?: string | undefined;
  deployments: string;
}): RollupsVersion {
  if (args.rollups !== undefined) {
    const v = args.rollups.trim().toLowerCase();
    if (v === "v1" || v === "1") return "v1";
    if (v === "v2" || v === "2") return "v2";
    throw new ConsoleError(`--rollups is v1 or v2, got ${JSON.stringify(args.rollups)}`);
  }
  const info = readRollupsInfo(args.deployments);
  if (info === undefined) return "v1";
  const major = info.version.split(".")[0];
  if (major === "1") return "v1";
  if (major === "2") return "v2";
  throw new ConsoleError(
    `the deployment's rollups.json names Rollups ${info.version}, which the console does not speak`,
    "pass --rollups v1 or v2",
  );
}

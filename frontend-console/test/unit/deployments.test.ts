/** Where the console finds the dApp and the Rollups contracts, on temporary deployment folders. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getAddress, isAddress } from "viem";
import {
  type RollupsArgs,
  contractAddress,
  readContractsFromDirs,
  readDeployment,
  readRollupsInfo,
  resolveDappAddress,
  rollupsVersion,
} from "../../src/lib/deployments.ts";
import { applicationOf, inspectTarget, readerFor } from "../../src/lib/reader.ts";
import { ConsoleError } from "../../src/lib/errors.ts";
import { networkName } from "../../src/lib/networks.ts";

const A = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const B = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";
const C = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0";
const D = "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9";

let root = "";
let counter = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), "console-deployments-"));
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeJson(path: string, value: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

/** A fresh `<case>/deployments` folder (not created) under the temporary root. */
function newCase(): { base: string; deployments: string } {
  counter += 1;
  const base = join(root, `case${counter}`);
  return { base, deployments: join(base, "deployments") };
}

function args(deployments: string, extra: Partial<RollupsArgs> = {}): RollupsArgs {
  return { dapp: "dapp", deployments, ...extra };
}

/** Runs `fn`, which must throw a ConsoleError, and returns it. */
function consoleError(fn: () => unknown): ConsoleError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConsoleError, `expected a ConsoleError, got ${String(e)}`);
    return e;
  }
  assert.fail("no error thrown");
}

describe("networkName", () => {
  it("names the known chains and nothing else", () => {
    assert.equal(networkName(31337), "localhost");
    assert.equal(networkName(11155111), "sepolia");
    assert.equal(networkName(5), "goerli");
    assert.equal(networkName(999), undefined);
    assert.equal(networkName(1), undefined);
  });
});

describe("resolveDappAddress", () => {
  it("reads <deployments>/localhost/<dapp>.json on chain 31337, checksummed", () => {
    const { deployments } = newCase();
    writeJson(join(deployments, "localhost", "dapp.json"), { address: A, abi: [] });
    writeJson(join(deployments, "localhost", "other.json"), { address: B });
    assert.equal(resolveDappAddress(31337, args(deployments)), getAddress(A));
    assert.equal(resolveDappAddress(31337, args(deployments, { dapp: "other" })), getAddress(B));
  });

  it("prefers --address over --addressFile over the deployment folder", () => {
    const { base, deployments } = newCase();
    writeJson(join(deployments, "localhost", "dapp.json"), { address: A });
    const file = writeJson(join(base, "address.json"), { address: B });
    assert.equal(
      resolveDappAddress(31337, args(deployments, { address: C, addressFile: file })),
      getAddress(C),
    );
    assert.equal(
      resolveDappAddress(31337, args(deployments, { addressFile: file })),
      getAddress(B),
    );
    assert.equal(resolveDappAddress(31337, args(deployments)), getAddress(A));
  });

  it("needs no deployment folder or known chain with --address or --addressFile", () => {
    const { base, deployments } = newCase();
    const file = writeJson(join(base, "address.json"), { address: D, chainId: 999 });
    assert.equal(resolveDappAddress(999, args(deployments, { address: C })), getAddress(C));
    assert.equal(resolveDappAddress(999, args(deployments, { addressFile: file })), getAddress(D));
  });

  it("points at the dev node when the dApp file is missing", () => {
    const { deployments } = newCase();
    mkdirSync(join(deployments, "localhost"), { recursive: true });
    const e = consoleError(() => resolveDappAddress(31337, args(deployments)));
    assert.match(e.message, /dapp\.json does not exist/);
    assert.match(e.hint ?? "", /dev node/);
  });

  it("fails on an unknown chain without --address", () => {
    const { deployments } = newCase();
    writeJson(join(deployments, "localhost", "dapp.json"), { address: A });
    const e = consoleError(() => resolveDappAddress(999, args(deployments)));
    assert.match(e.message, /chain 999/);
    assert.match(e.hint ?? "", /--address/);
  });

  it("rejects invalid addresses wherever they come from", () => {
    const { base, deployments } = newCase();
    assert.match(
      consoleError(() => resolveDappAddress(31337, args(deployments, { address: "0x1234" })))
        .message,
      /--address is not an address/,
    );
    consoleError(() => resolveDappAddress(31337, args(deployments, { address: "dapp" })));
    const noAddress = writeJson(join(base, "none.json"), { contract: A });
    assert.match(
      consoleError(() => resolveDappAddress(31337, args(deployments, { addressFile: noAddress })))
        .message,
      /"address" field/,
    );
    const notJson = writeJson(join(base, "bad.json"), "{ address:");
    assert.match(
      consoleError(() => resolveDappAddress(31337, args(deployments, { addressFile: notJson })))
        .message,
      /not valid JSON/,
    );
    assert.match(
      consoleError(() =>
        resolveDappAddress(31337, args(deployments, { addressFile: join(base, "missing.json") })),
      ).message,
      /cannot read address file/,
    );
  });
});

describe("readDeployment", () => {
  it("reads every contract file on localhost, with the common contracts", () => {
    const { base, deployments } = newCase();
    writeJson(join(deployments, "localhost", "InputBox.json"), { address: A, abi: [] });
    writeJson(join(deployments, "localhost", "EtherPortal.json"), { address: B });
    writeJson(join(deployments, "localhost", "dapp.json"), { address: D });
    writeFileSync(join(deployments, "localhost", "notes.txt"), "not a deployment");
    writeJson(join(base, "common-contracts", "deployments", "localhost", "SimpleERC20.json"), {
      address: C,
    });
    const deployment = readDeployment(31337, args(deployments));
    assert.equal(deployment.name, "localhost");
    assert.equal(deployment.chainId, "31337");
    assert.deepEqual(deployment.contracts, {
      EtherPortal: { address: getAddress(B) },
      InputBox: { address: getAddress(A) },
      SimpleERC20: { address: getAddress(C) },
    });
    assert.equal(contractAddress(deployment, "InputBox"), getAddress(A));
    assert.equal(contractAddress(deployment, "SimpleERC20"), getAddress(C));
  });

  it("prefers --deploymentFile", () => {
    const { base, deployments } = newCase();
    writeJson(join(deployments, "localhost", "InputBox.json"), { address: A });
    const file = writeJson(join(base, "deployment.json"), {
      name: "custom",
      chainId: "31337",
      contracts: { InputBox: { address: B }, ERC20Portal: { address: C, abi: [] } },
    });
    const deployment = readDeployment(31337, args(deployments, { deploymentFile: file }));
    assert.deepEqual(deployment, {
      name: "custom",
      chainId: "31337",
      contracts: { InputBox: { address: getAddress(B) }, ERC20Portal: { address: getAddress(C) } },
    });
  });

  it("reads --deploymentFile on any chain, and checks its contracts", () => {
    const { base, deployments } = newCase();
    const file = writeJson(join(base, "deployment.json"), {
      contracts: { InputBox: { address: D } },
    });
    const deployment = readDeployment(999, args(deployments, { deploymentFile: file }));
    assert.equal(deployment.name, "unknown");
    assert.equal(deployment.chainId, "999");
    assert.equal(contractAddress(deployment, "InputBox"), getAddress(D));

    const noContracts = writeJson(join(base, "empty.json"), { name: "x" });
    assert.match(
      consoleError(() => readDeployment(999, args(deployments, { deploymentFile: noContracts })))
        .message,
      /no "contracts" object/,
    );
    const badAddress = writeJson(join(base, "bad.json"), {
      contracts: { InputBox: { address: "0x12" } },
    });
    assert.match(
      consoleError(() => readDeployment(999, args(deployments, { deploymentFile: badAddress })))
        .message,
      /InputBox in .* is not an address/,
    );
  });

  it("fails when the localhost folder has no deployment files", () => {
    const { deployments } = newCase();
    mkdirSync(join(deployments, "localhost"), { recursive: true });
    writeJson(join(deployments, "localhost", "dapp.json"), { address: A });
    const e = consoleError(() => readDeployment(31337, args(deployments)));
    assert.match(e.message, /no deployment files/);
    assert.match(e.hint ?? "", /dev node/);
    consoleError(() => readDeployment(31337, args(join(deployments, "nowhere"))));
  });

  it("fails on an unknown chain without --deploymentFile", () => {
    const { deployments } = newCase();
    const e = consoleError(() => readDeployment(999, args(deployments)));
    assert.match(e.message, /unsupported chain 999/);
  });

  it("loads the @cartesi/rollups deployment on sepolia", () => {
    const { deployments } = newCase();
    const deployment = readDeployment(11155111, args(deployments));
    assert.equal(deployment.name, "sepolia");
    assert.equal(deployment.chainId, "11155111");
    const inputBox = contractAddress(deployment, "InputBox");
    assert.ok(isAddress(inputBox, { strict: true }));
    assert.equal(inputBox, getAddress(inputBox));
    assert.ok(isAddress(contractAddress(deployment, "EtherPortal"), { strict: true }));
  });

  it("fails on goerli, which @cartesi/rollups 1.4.5 does not export", () => {
    const { deployments } = newCase();
    const e = consoleError(() => readDeployment(5, args(deployments)));
    assert.match(e.message, /not deployed to network goerli/);
    assert.match(e.hint ?? "", /--deploymentFile/);
  });
});

describe("contractAddress", () => {
  it("names the missing contract", () => {
    const deployment = { name: "localhost", chainId: "31337", contracts: {} };
    const e = consoleError(() => contractAddress(deployment, "ERC1155BatchPortal"));
    assert.match(e.message, /localhost deployment has no ERC1155BatchPortal contract/);
  });
});

describe("rollups.json", () => {
  const v2 = (deployments: string, extra: Record<string, unknown> = {}) =>
    writeJson(join(deployments, "localhost", "rollups.json"), {
      version: "2.2.0",
      chainId: 31337,
      application: A,
      applicationName: "ledger",
      authority: B,
      epochLength: 1,
      rpc: "http://127.0.0.1:4111/rpc",
      inspect: "http://127.0.0.1:4111/inspect",
      ...extra,
    });

  it("gives the version: v1 without it, its major version, or --rollups", () => {
    const { deployments } = newCase();
    assert.equal(rollupsVersion({ deployments }), "v1");
    assert.equal(rollupsVersion({ deployments, rollups: "v2" }), "v2");
    v2(deployments);
    assert.equal(rollupsVersion({ deployments }), "v2");
    assert.equal(rollupsVersion({ deployments, rollups: "v1" }), "v1");
    writeJson(join(deployments, "localhost", "rollups.json"), { version: "1.4.5" });
    assert.equal(rollupsVersion({ deployments }), "v1");
  });

  it("refuses a version the console does not speak, and a file without one", () => {
    const { deployments } = newCase();
    v2(deployments, { version: "3.0.0-alpha.1" });
    assert.match(
      consoleError(() => rollupsVersion({ deployments })).message,
      /Rollups 3\.0\.0-alpha\.1/,
    );
    assert.match(
      consoleError(() => rollupsVersion({ deployments, rollups: "v3" })).message,
      /--rollups/,
    );
    writeJson(join(deployments, "localhost", "rollups.json"), { rpc: "x" });
    assert.match(consoleError(() => readRollupsInfo(deployments)).message, /has no "version"/);
  });

  it("is not read as a contract", () => {
    const { deployments } = newCase();
    v2(deployments);
    writeJson(join(deployments, "localhost", "InputBox.json"), { address: C });
    assert.deepEqual(Object.keys(readContractsFromDirs([join(deployments, "localhost")])), [
      "InputBox",
    ]);
  });

  it("gives a v2 reader its JSON-RPC URL and application, which options override", () => {
    const { deployments } = newCase();
    v2(deployments);
    const base = { ...args(deployments), url: "http://graphql" };
    assert.deepEqual(readerFor(base), {
      version: "v2",
      rpc: "http://127.0.0.1:4111/rpc",
      application: getAddress(A),
    });
    assert.deepEqual(readerFor({ ...base, rpcUrl: "http://other/rpc", address: D }), {
      version: "v2",
      rpc: "http://other/rpc",
      application: getAddress(D),
    });
    assert.deepEqual(readerFor({ ...base, rollups: "v1" }), {
      version: "v1",
      url: "http://graphql",
    });
  });

  it("falls back to dapp.json for the application", () => {
    const { deployments } = newCase();
    writeJson(join(deployments, "localhost", "dapp.json"), { address: B });
    assert.equal(applicationOf(args(deployments)), getAddress(B));
  });

  it("gives v2 inspects the application's URL", () => {
    const { deployments } = newCase();
    v2(deployments);
    assert.deepEqual(inspectTarget({ deployments }), {
      version: "v2",
      url: `http://127.0.0.1:4111/inspect/${getAddress(A)}`,
    });
    assert.deepEqual(inspectTarget({ deployments, url: "http://x/inspect/ledger" }), {
      version: "v2",
      url: "http://x/inspect/ledger",
    });
    assert.deepEqual(inspectTarget({ deployments, rollups: "v1" }), {
      version: "v1",
      url: "http://localhost:5005/inspect",
    });
  });
});

/**
 * Cartesi's own client libraries against the dev node running Rollups v2: `@cartesi/viem` (over
 * `@cartesi/rpc`'s method set) lists the node's inputs and outputs, waits for an input with
 * `waitForInput` and executes a voucher with `executeOutput`, as an application's front end
 * would. The console only sets the scene (a deposit and a withdrawal).
 *
 * The input is sent with plain viem to the deployment's InputBox: `@cartesi/viem`'s `addInput`
 * targets the InputBox address of the contracts release it was built for, not 2.2.0's.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseAbi,
  stringToHex,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import {
  createCartesiPublicClient,
  getInputsAdded,
  getOutputsExecuted,
  walletActionsL1,
} from "@cartesi/viem";
import { DevNode, ME } from "./harness.ts";

const MNEMONIC = "test test test test test test test test test test test junk";

describe("Cartesi's client libraries against a Rollups v2 dev node", { timeout: 600_000 }, () => {
  let node: DevNode;
  /** The input whose voucher the first test executes. */
  let voucherInput = -1n;

  before(async () => {
    node = await DevNode.start(["--rollups", "v2"]);
  });
  after(() => node.stop());

  it("list inputs and outputs, wait for an input and execute a voucher", async () => {
    const application = node.deployment("rollups", "application") as Address;
    const token = node.deployment("SimpleERC20", "address") as Address;
    await node.ok(["erc20", "deposit", "--amount", "100"]);
    const withdrawal = await node.ok([
      "ledger",
      "withdraw",
      "--asset",
      "erc20:SimpleERC20",
      "--amount",
      "5",
      "--mine",
    ]);
    const m = /^voucher (\d+) of input (\d+) pays the withdrawal$/m.exec(withdrawal);
    assert.ok(m, withdrawal);
    const voucherIndex = BigInt(m[1] ?? "");
    voucherInput = BigInt(m[2] ?? "");

    const l2 = createCartesiPublicClient({ transport: http(node.deployment("rollups", "rpc")) });
    const inputs = await l2.listInputs({ application });
    assert.equal(inputs.pagination.totalCount, Number(voucherInput) + 1);
    assert.deepEqual(
      inputs.data.map((i) => i.index),
      Array.from({ length: inputs.data.length }, (_, i) => BigInt(i)),
    );
    assert.ok(inputs.data.every((i) => i.status === "ACCEPTED"));
    const outputs = await l2.listOutputs({ application });
    const voucher = outputs.data.find((o) => o.index === voucherIndex);
    assert.ok(voucher, `voucher ${voucherIndex} listed`);
    assert.equal(voucher.inputIndex, voucherInput);
    assert.equal(voucher.rawData.slice(0, 10), "0x237a816f", "a Voucher(…) output");

    // An input sent with viem, then waited for with waitForInput.
    const chain = defineChain({
      id: 31337,
      name: "devnet",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [node.env.RPC_URL ?? ""] } },
    });
    const transport = http(node.env.RPC_URL);
    const account = mnemonicToAccount(MNEMONIC);
    const l1 = createPublicClient({ chain, transport });
    const wallet = createWalletClient({ chain, transport, account }).extend(walletActionsL1());
    const hash = await wallet.writeContract({
      address: node.deployment("InputBox", "address") as Address,
      abi: parseAbi(["function addInput(address appContract, bytes payload) returns (bytes32)"]),
      functionName: "addInput",
      args: [application, stringToHex(JSON.stringify({ op: "mine" }))],
    });
    const [added] = getInputsAdded(await l1.waitForTransactionReceipt({ hash }));
    assert.ok(added, "InputAdded in the receipt");
    const processed = await l2.waitForInput({
      application,
      inputIndex: added.index,
      pollingInterval: 200,
      retryCount: 300,
    });
    assert.equal(processed.index, voucherInput + 1n);
    assert.equal(processed.status, "ACCEPTED");
    const reports = await l2.listReports({ application });
    assert.equal(reports.data.filter((r) => r.inputIndex === processed.index).length, 1);

    // The voucher, once its epoch's claim is accepted, executed with executeOutput.
    let proven = await l2.getOutput({ application, outputIndex: voucherIndex });
    for (let tries = 0; proven.outputHashesSiblings === null; tries++) {
      assert.ok(tries < 120, "the voucher got no proof in 60 s");
      await new Promise((done) => setTimeout(done, 500));
      proven = await l2.getOutput({ application, outputIndex: voucherIndex });
    }
    assert.equal(proven.outputHashesSiblings.length, 63);
    const balanceOf = parseAbi(["function balanceOf(address) view returns (uint256)"]);
    const before = await l1.readContract({
      address: token,
      abi: balanceOf,
      functionName: "balanceOf",
      args: [ME],
    });
    const execution = await wallet.executeOutput({ account, chain, application, output: proven });
    const receipt = await l1.waitForTransactionReceipt({ hash: execution });
    assert.equal(receipt.status, "success");
    const [executed] = getOutputsExecuted(receipt);
    assert.equal(executed?.outputIndex, voucherIndex);
    const after = await l1.readContract({
      address: token,
      abi: balanceOf,
      functionName: "balanceOf",
      args: [ME],
    });
    assert.equal(after, before + 5n);
    // The console agrees that it ran.
    const listed = JSON.parse(
      await node.ok(["voucher", "list", "--input", String(voucherInput), "--json"]),
    ) as { index: number; executed: boolean }[];
    assert.equal(listed.find((v) => BigInt(v.index) === voucherIndex)?.executed, true);
  });

  // @cartesi/viem spreads its own camelCase arguments (inputIndex, outputType) into the request
  // beside the snake_case params, as Cartesi's node allows, and reads `decoded_data.type` as a
  // name ("Voucher").
  it("filter outputs and reports by input and type", async () => {
    const application = node.deployment("rollups", "application") as Address;
    const l2 = createCartesiPublicClient({ transport: http(node.deployment("rollups", "rpc")) });
    const inputIndex = voucherInput;
    const vouchers = await l2.listOutputs({ application, outputType: "Voucher", inputIndex });
    assert.equal(vouchers.data.length, 1);
    const voucher = vouchers.data[0];
    assert.ok(voucher, "one voucher");
    const decoded = voucher.decodedData;
    assert.ok(decoded, "the voucher is decoded");
    assert.equal(decoded.type, "Voucher");
    assert.ok("destination" in decoded, "a voucher has its destination decoded");
    const token = node.deployment("SimpleERC20", "address") as Address;
    assert.equal(getAddress(decoded.destination), getAddress(token));
    const reports = await l2.listReports({ application, inputIndex });
    assert.equal(reports.data.length, 1);
  });
});

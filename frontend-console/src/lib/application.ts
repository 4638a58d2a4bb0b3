/**
 * Rollups v2 outputs on the Application contract: `executeOutput` and `validateOutput` with the
 * proof the node serves (the output's index and its 63 siblings in the outputs tree), each once:
 * `wasOutputExecuted` first, reverts decoded and explained, the receipt's `OutputExecuted`
 * checked.
 */
import {
  type Address,
  type PublicClient,
  type TransactionReceipt,
  isAddressEqual,
  parseEventLogs,
} from "viem";
import { abisV2 } from "./abis.ts";
import { ConsoleError } from "./errors.ts";
import type { L1 } from "./l1.ts";
import { PROOF_HINT, alreadyExecuted, explainRevert, sendExecution } from "./proofs.ts";
import { type Output, fromHex } from "./rpc.ts";

/** What each of the Application's output reverts means for the user. */
export const REVERT_MEANINGS_V2: Readonly<Record<string, string>> = {
  OutputNotReexecutable: "the voucher was already executed",
  InvalidOutputsMerkleRoot:
    "the proof leads to an outputs root the application's consensus has not accepted",
  InvalidOutputHashesSiblingsArrayLength:
    "the proof does not have the 63 siblings of the outputs tree",
  OutputNotExecutable: "the output is not a voucher",
  InsufficientFunds: "the application holds less Ether than the voucher sends",
};

/** `Application.wasOutputExecuted(outputIndex)`. */
export async function wasOutputExecuted(
  client: PublicClient,
  app: Address,
  index: number,
): Promise<boolean> {
  return (await client.readContract({
    address: app,
    abi: abisV2.Application,
    functionName: "wasOutputExecuted",
    args: [BigInt(index)],
  })) as boolean;
}

/** The contract's `OutputValidityProof` from a proven output; an error when it has no proof. */
export function outputProof(output: Output) {
  const siblings = output.output_hashes_siblings;
  if (siblings === null) {
    throw new ConsoleError(`output ${output.index} has no proof yet`);
  }
  return {
    outputIndex: BigInt(fromHex(output.index, "output index")),
    outputHashesSiblings: siblings,
  };
}

export async function validateOutput(l1: L1, app: Address, output: Output): Promise<void> {
  try {
    await l1.publicClient.readContract({
      address: app,
      abi: abisV2.Application,
      functionName: "validateOutput",
      args: [output.raw_data, outputProof(output)],
    });
  } catch (e) {
    if (e instanceof ConsoleError) throw e;
    const { reason, name } = explainRevert(e, REVERT_MEANINGS_V2);
    throw new ConsoleError(`COULD NOT VALIDATE NOTICE: ${reason}`, name && PROOF_HINT);
  }
}

/** Whether the receipt holds the application's `OutputExecuted` for this output. */
export function outputExecutedIn(
  receipt: TransactionReceipt,
  app: Address,
  index: number,
): boolean {
  return parseEventLogs({
    abi: abisV2.Application,
    eventName: "OutputExecuted",
    logs: receipt.logs,
  })
    .filter((event) => isAddressEqual(event.address, app))
    .some((event) => (event.args as { outputIndex?: bigint }).outputIndex === BigInt(index));
}

/**
 * Executes a voucher: refused before sending when `wasOutputExecuted` says it ran already, or when
 * the simulation reverts (a bad proof, or the voucher's own call failing, which in v2 reverts the
 * whole execution); checked once more on the receipt's `OutputExecuted`.
 */
export async function executeOutput(
  l1: L1,
  app: Address,
  output: Output,
): Promise<TransactionReceipt> {
  const index = fromHex(output.index, "output index");
  const input = fromHex(output.input_index, "input index");
  if (await wasOutputExecuted(l1.publicClient, app, index)) throw alreadyExecuted(index, input);
  const call = {
    address: app,
    abi: abisV2.Application,
    functionName: "executeOutput",
    args: [output.raw_data, outputProof(output)],
  } as const;
  try {
    await l1.publicClient.simulateContract({ account: l1.account, ...call });
  } catch (e) {
    const { reason, name } = explainRevert(e, REVERT_MEANINGS_V2);
    if (name === "OutputNotReexecutable") throw alreadyExecuted(index, input);
    throw new ConsoleError(
      `COULD NOT EXECUTE VOUCHER: ${reason}`,
      name === undefined
        ? "the voucher's call reverts: does the application hold what the voucher pays?"
        : PROOF_HINT,
    );
  }
  const receipt = await sendExecution(l1, call, "OutputNotReexecutable", index, input);
  if (!outputExecutedIn(receipt, app, index)) {
    throw new ConsoleError(
      `COULD NOT EXECUTE VOUCHER: transaction ${receipt.transactionHash} has no OutputExecuted for output ${index}`,
      "see `voucher list`: it says whether the voucher ran",
    );
  }
  return receipt;
}

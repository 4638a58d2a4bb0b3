/**
 * Notice validation and voucher execution on the application contract, with the proof the reader
 * serves. Reverts decode against the application's ABI joined with the errors of
 * LibOutputValidation and History, where Rollups v1 declares them.
 */
import { type Abi, type Address, type Hex } from "viem";
import { abis } from "./abis.ts";
import { ConsoleError } from "./errors.ts";
import type { Proof } from "./graphql.ts";
import { type L1, type Rollups, revertReason, send } from "./l1.ts";

const errorsOf = (abi: Abi) => abi.filter((item) => item.type === "error");

export const OUTPUT_ABI: Abi = [
  ...abis.CartesiDApp,
  ...errorsOf(abis.LibOutputValidation),
  ...errorsOf(abis.History),
];

/** The contract's `Proof` struct from the reader's `proof` (extra `__typename` keys dropped). */
export function proofStruct(proof: Proof) {
  const v = proof.validity;
  return {
    validity: {
      inputIndexWithinEpoch: BigInt(v.inputIndexWithinEpoch),
      outputIndexWithinInput: BigInt(v.outputIndexWithinInput),
      outputHashesRootHash: v.outputHashesRootHash as Hex,
      vouchersEpochRootHash: v.vouchersEpochRootHash as Hex,
      noticesEpochRootHash: v.noticesEpochRootHash as Hex,
      machineStateHash: v.machineStateHash as Hex,
      outputHashInOutputHashesSiblings: v.outputHashInOutputHashesSiblings as Hex[],
      outputHashesInEpochSiblings: v.outputHashesInEpochSiblings as Hex[],
    },
    context: proof.context as Hex,
  };
}

export async function validateNotice(
  l1: L1,
  r: Rollups,
  payload: Hex,
  proof: Proof,
): Promise<void> {
  try {
    await l1.publicClient.readContract({
      address: r.dapp,
      abi: OUTPUT_ABI,
      functionName: "validateNotice",
      args: [payload, proofStruct(proof)],
    });
  } catch (e) {
    throw new ConsoleError(`COULD NOT VALIDATE NOTICE: ${revertReason(e)}`);
  }
}

export async function executeVoucher(
  l1: L1,
  r: Rollups,
  destination: Address,
  payload: Hex,
  proof: Proof,
): Promise<Hex> {
  try {
    const receipt = await send(l1, {
      address: r.dapp,
      abi: OUTPUT_ABI,
      functionName: "executeVoucher",
      args: [destination, payload, proofStruct(proof)],
    });
    return receipt.transactionHash;
  } catch (e) {
    const reason =
      e instanceof ConsoleError
        ? e.message.replace(/^executeVoucher failed: /, "")
        : revertReason(e);
    throw new ConsoleError(`COULD NOT EXECUTE VOUCHER: ${reason}`);
  }
}

/**
 * Notice validation and voucher execution on the application contract, with the proof the reader
 * serves. Reverts decode against the application's ABI joined with the errors of
 * LibOutputValidation and History, where Rollups v1 declares them, and each is explained.
 */
import {
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  isAddressEqual,
  parseEventLogs,
} from "viem";
import { abis } from "./abis.ts";
import { ConsoleError } from "./errors.ts";
import {
  type ListedOutput,
  type OutputNode,
  type Proof,
  fetchOutput,
  listOutputs,
} from "./graphql.ts";
import { type Call, type L1, type Rollups, revertReason, send } from "./l1.ts";

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

/** What each of Rollups v1's output-validation reverts means for the user. */
export const REVERT_MEANINGS: Readonly<Record<string, string>> = {
  VoucherReexecutionNotAllowed: "the voucher was already executed",
  InvalidClaimIndex: "the proof's claim is not in the History on chain",
  IncorrectEpochHash: "the proof's epoch roots do not hash to the claimed epoch hash",
  IncorrectOutputsEpochRootHash: "the output's input is not in the claimed epoch tree",
  IncorrectOutputHashesRootHash: "the output is not in its input's output tree",
  InputIndexOutOfClaimBounds: "the output's input is outside the claim's input range",
};

export const PROOF_HINT =
  "the node's proof and the claim on chain disagree: check the dev node's log and --url";

/** `Name(): what it means` for a known revert, with its name; else the reason as viem gives it. */
export function explainRevert(
  error: unknown,
  meanings: Readonly<Record<string, string>> = REVERT_MEANINGS,
): { reason: string; name?: string } {
  const reason = revertReason(error);
  const name = /^(\w+)\(/.exec(reason)?.[1];
  const meaning = name === undefined ? undefined : meanings[name];
  if (name === undefined || meaning === undefined) return { reason };
  return { reason: `${reason}: ${meaning}`, name };
}

/**
 * Sends a voucher's execution. Someone else's execution may come first, between the check and
 * the send: the contract then refuses this one with `refusal`, which means "already executed".
 */
export async function sendExecution(
  l1: L1,
  call: Call,
  refusal: string,
  index: number,
  input: number,
): Promise<TransactionReceipt> {
  try {
    return await send(l1, call);
  } catch (e) {
    if (e instanceof ConsoleError && e.message.includes(refusal))
      throw alreadyExecuted(index, input);
    throw e;
  }
}

export function alreadyExecuted(index: number, input: number): ConsoleError {
  return new ConsoleError(
    `voucher "${index}" from input "${input}" was already executed`,
    "a voucher executes once; `voucher list` shows which ones are executed",
  );
}

/** `CartesiDApp.wasVoucherExecuted(inputIndex, outputIndexWithinInput)`. */
export async function wasVoucherExecuted(
  client: PublicClient,
  dapp: Address,
  input: number,
  index: number,
): Promise<boolean> {
  return (await client.readContract({
    address: dapp,
    abi: OUTPUT_ABI,
    functionName: "wasVoucherExecuted",
    args: [BigInt(input), BigInt(index)],
  })) as boolean;
}

/** A `voucher list` entry: the listed fields, then whether it has a proof and has run on L1. */
export interface ListedVoucher extends ListedOutput {
  executable: boolean;
  executed: boolean;
}

/** How many `wasVoucherExecuted` reads are in flight at once. */
const READS_AT_ONCE = 8;

/**
 * The `voucher list` entries, in `listOutputs` order with its fields first. `executed` is read
 * with `wasExecuted` only for vouchers with a proof: one without could not have been executed,
 * since the contract needs a proof against a claim.
 */
export async function listVouchers(
  nodes: readonly OutputNode[],
  wasExecuted: (input: number, index: number) => Promise<boolean>,
): Promise<ListedVoucher[]> {
  const sorted = [...nodes].sort((a, b) => a.input.index - b.input.index || a.index - b.index);
  const listed = listOutputs(sorted);
  const executed: boolean[] = sorted.map(() => false);
  const pending = sorted.flatMap((n, i) => (n.proof ? [i] : []));
  for (let start = 0; start < pending.length; start += READS_AT_ONCE) {
    await Promise.all(
      pending.slice(start, start + READS_AT_ONCE).map(async (i) => {
        const n = sorted[i];
        if (n !== undefined) executed[i] = await wasExecuted(n.input.index, n.index);
      }),
    );
  }
  return listed.map((entry, i) => ({
    ...entry,
    executable: Boolean(sorted[i]?.proof),
    executed: executed[i] ?? false,
  }));
}

export async function validateNotice(
  l1: L1,
  r: Rollups,
  payload: Hex,
  proof: Proof,
): Promise<void> {
  let valid: unknown;
  try {
    valid = await l1.publicClient.readContract({
      address: r.dapp,
      abi: OUTPUT_ABI,
      functionName: "validateNotice",
      args: [payload, proofStruct(proof)],
    });
  } catch (e) {
    const { reason, name } = explainRevert(e);
    throw new ConsoleError(`COULD NOT VALIDATE NOTICE: ${reason}`, name && PROOF_HINT);
  }
  // The contract reverts rather than answer false; a false is still not a valid notice.
  if (valid !== true) throw new ConsoleError("COULD NOT VALIDATE NOTICE: the contract said false");
}

/** The id `VoucherExecuted` carries: `(outputIndexWithinInput << 128) | inputIndex`. */
export function voucherId(input: number, index: number): bigint {
  return (BigInt(index) << 128n) | BigInt(input);
}

/** Whether the receipt holds the dApp's `VoucherExecuted` for this voucher. */
export function executedIn(
  receipt: TransactionReceipt,
  dapp: Address,
  input: number,
  index: number,
): boolean {
  const id = voucherId(input, index);
  return parseEventLogs({ abi: abis.CartesiDApp, eventName: "VoucherExecuted", logs: receipt.logs })
    .filter((event) => isAddressEqual(event.address, dapp))
    .some((event) => (event.args as { voucherId?: bigint }).voucherId === id);
}

export interface Voucher {
  index: number;
  input: number;
  destination: Address;
  payload: Hex;
}

/**
 * Executes a voucher: refused before sending when `wasVoucherExecuted` says it ran already, when
 * the contract rejects the proof (its decoded revert), or when the voucher's own call would fail
 * (the contract then returns false and leaves the voucher executable, so sending would only cost
 * gas). Checked once more on the receipt's `VoucherExecuted`.
 */
export async function executeVoucher(
  l1: L1,
  r: Rollups,
  voucher: Voucher,
  proof: Proof,
): Promise<TransactionReceipt> {
  const { index, input, destination, payload } = voucher;
  if (await wasVoucherExecuted(l1.publicClient, r.dapp, input, index)) {
    throw alreadyExecuted(index, input);
  }
  const call = {
    address: r.dapp,
    abi: OUTPUT_ABI,
    functionName: "executeVoucher",
    args: [destination, payload, proofStruct(proof)],
  } as const;
  let succeeds: unknown;
  try {
    ({ result: succeeds } = await l1.publicClient.simulateContract({
      account: l1.account,
      ...call,
    }));
  } catch (e) {
    const { reason, name } = explainRevert(e);
    if (name === "VoucherReexecutionNotAllowed") throw alreadyExecuted(index, input);
    throw new ConsoleError(`COULD NOT EXECUTE VOUCHER: ${reason}`, name && PROOF_HINT);
  }
  if (succeeds !== true) {
    throw new ConsoleError(
      `COULD NOT EXECUTE VOUCHER: its call to ${destination} would fail, and the voucher would stay unexecuted`,
      "the destination refuses the call: does the dApp contract hold what the voucher pays?",
    );
  }
  const receipt = await sendExecution(l1, call, "VoucherReexecutionNotAllowed", index, input);
  if (!executedIn(receipt, r.dapp, input, index)) {
    throw new ConsoleError(
      `COULD NOT EXECUTE VOUCHER: transaction ${receipt.transactionHash} ran, but the voucher's call failed`,
      "the voucher stays executable; try `voucher execute` again",
    );
  }
  return receipt;
}

export interface ProofWait {
  /** Called on every poll without a proof; it decides what to print. */
  onWait: () => Promise<void> | void;
  pollMs?: number;
}

/**
 * Calls `read` until it gives something, for at most `timeoutMs`, calling `wait.onWait` between
 * calls; what it gave, or undefined at the deadline.
 */
export async function pollFor<T>(
  read: () => Promise<T | undefined>,
  timeoutMs: number,
  wait: ProofWait,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await read();
    if (found !== undefined) return found;
    if (Date.now() >= deadline) return undefined;
    await wait.onWait();
    const left = deadline - Date.now();
    await new Promise((done) => setTimeout(done, Math.max(0, Math.min(wait.pollMs ?? 500, left))));
  }
}

/**
 * Polls the reader until the output has a proof, for at most `timeoutMs`; the output with its
 * proof, or undefined at the deadline.
 */
export function waitForProof(
  url: string,
  kind: "notice" | "voucher",
  index: number,
  input: number,
  timeoutMs: number,
  wait: ProofWait,
): Promise<(OutputNode & { proof: Proof }) | undefined> {
  return pollFor(
    async () => {
      const node = await fetchOutput(url, kind, index, input);
      return node.proof ? { ...node, proof: node.proof } : undefined;
    },
    timeoutMs,
    wait,
  );
}

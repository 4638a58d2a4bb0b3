/**
 * The L1 side: a client and a local signer from the connect options, and the transactions the
 * console sends (inputs and the portals' deposits), each simulated first so that a revert is
 * reported with its reason and nothing is sent.
 */
import {
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  isAddressEqual,
  parseEventLogs,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { abis, abisV2 } from "./abis.ts";
import {
  type Deployment,
  type RollupsArgs,
  type RollupsVersion,
  contractAddress,
  readDeployment,
  resolveDappAddress,
  rollupsVersion,
} from "./deployments.ts";
import { ConsoleError, firstLine, isUnreachable, unreachable } from "./errors.ts";
import { networkName } from "./networks.ts";

export const DEVNET_MNEMONIC = "test test test test test test test test test test test junk";

export interface ConnectArgs {
  rpc: string;
  mnemonic: string;
  accountIndex: number;
}

export type Log = (line: string) => void;

/** The account at `m/44'/60'/0'/0/<index>` of the mnemonic. */
export function accountFrom(mnemonic: string, accountIndex: number) {
  if (!Number.isInteger(accountIndex) || accountIndex < 0) {
    throw new ConsoleError(`--accountIndex must be a non-negative integer, got ${accountIndex}`);
  }
  try {
    return mnemonicToAccount(mnemonic.trim(), { addressIndex: accountIndex });
  } catch (e) {
    throw new ConsoleError(
      `invalid mnemonic: ${e instanceof Error ? firstLine(e.message) : String(e)}`,
      "pass --mnemonic with a BIP-39 phrase (default: the devnet's)",
    );
  }
}

export async function connect(args: ConnectArgs, log: Log) {
  log(`connecting to ${args.rpc}`);
  const transport = http(args.rpc, { retryCount: 0 });
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport }).getChainId();
  } catch (e) {
    if (isUnreachable(e)) throw unreachable("chain", args.rpc, "--rpc");
    throw e;
  }
  log(`connected to chain ${chainId}`);
  const chain = defineChain({
    id: chainId,
    name: networkName(chainId) ?? `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [args.rpc] } },
  });
  const account = accountFrom(args.mnemonic, args.accountIndex);
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ chain, transport, account });
  return { rpc: args.rpc, chainId, account, publicClient, walletClient, log };
}

export type L1 = Awaited<ReturnType<typeof connect>>;

export interface Rollups {
  /** The application (v1: the CartesiDApp; v2: the Application). */
  dapp: Address;
  deployment: Deployment;
  version: RollupsVersion;
}

export function rollups(l1: L1, args: RollupsArgs): Rollups {
  const version = rollupsVersion(args);
  const dapp = resolveDappAddress(l1.chainId, args);
  const deployment = readDeployment(l1.chainId, args);
  return { dapp, deployment, version };
}

export interface Call {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
}

/** Why a call reverts, from the first ABI that decodes its custom error, else viem's reason. */
export function revertReason(error: unknown): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      if (revert.data?.errorName !== undefined) {
        const args = revert.data.args?.map(String).join(", ") ?? "";
        return `${revert.data.errorName}(${args})`;
      }
      if (revert.reason !== undefined) return revert.reason;
    }
    return firstLine(error.shortMessage);
  }
  return error instanceof Error ? firstLine(error.message) : String(error);
}

/**
 * Whether a transaction was refused because its nonce was already used: another sender of the
 * same account got there first (on the dev chain, the node submits its claims from the first
 * devnet account, the console's default). Nothing was sent, so signing again is safe.
 */
export function isNonceTaken(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e instanceof Error; depth += 1) {
    const details = (e as { details?: unknown }).details;
    const text = `${e.message} ${typeof details === "string" ? details : ""}`;
    if (
      /nonce too low|nonce provided for the transaction is lower|already known|replacement transaction underpriced/i.test(
        text,
      )
    ) {
      return true;
    }
    e = e.cause;
  }
  return false;
}

/** How many times a transaction is signed again after its nonce was taken. */
const NONCE_RETRIES = 3;

/** Simulates, sends and waits for one transaction; a revert or failure is a ConsoleError. */
export async function send(l1: L1, call: Call): Promise<TransactionReceipt> {
  const { publicClient, walletClient, account } = l1;
  let hash: Hex | undefined;
  try {
    for (let attempt = 1; hash === undefined; attempt += 1) {
      try {
        const { request } = await publicClient.simulateContract({
          account,
          address: call.address,
          abi: call.abi,
          functionName: call.functionName,
          args: call.args,
          ...(call.value === undefined ? {} : { value: call.value }),
        });
        hash = await walletClient.writeContract(request);
      } catch (e) {
        if (attempt > NONCE_RETRIES || !isNonceTaken(e)) throw e;
        l1.log(`another transaction of ${account.address} took the nonce; signing again`);
      }
    }
    l1.log(`transaction: ${hash}`);
    l1.log("waiting for confirmation...");
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") {
      throw new ConsoleError(`${call.functionName} reverted in transaction ${hash}`);
    }
    return receipt;
  } catch (e) {
    if (e instanceof ConsoleError) throw e;
    if (hash !== undefined) {
      // Sent, but not seen confirmed: sending it again could do it twice.
      throw new ConsoleError(
        `transaction ${hash} (${call.functionName}) was sent, but its receipt could not be read: ${revertReason(e)}`,
        "look the transaction up before sending it again",
      );
    }
    if (isUnreachable(e)) throw unreachable("chain", l1.rpc, "--rpc");
    throw new ConsoleError(
      `${call.functionName} failed: ${revertReason(e)}`,
      "check the account's balance and the arguments; --accountIndex picks another account",
    );
  }
}

/**
 * The input index of the `InputAdded` event the InputBox emitted for `dapp` in the receipt
 * (v1: `InputAdded(dapp, inputIndex, sender, input)`; v2: `InputAdded(appContract, index, input)`).
 */
export function inputIndexOf(
  receipt: TransactionReceipt,
  inputBox: Address,
  dapp: Address,
  version: RollupsVersion = "v1",
): number {
  const events = parseEventLogs({
    abi: version === "v1" ? abis.InputBox : abisV2.InputBox,
    eventName: "InputAdded",
    logs: receipt.logs,
  });
  for (const event of events) {
    const args = event.args as {
      dapp?: Address;
      inputIndex?: bigint;
      appContract?: Address;
      index?: bigint;
    };
    const app = version === "v1" ? args.dapp : args.appContract;
    const index = version === "v1" ? args.inputIndex : args.index;
    if (!isAddressEqual(event.address, inputBox) || app === undefined) continue;
    if (isAddressEqual(app, dapp) && typeof index === "bigint") return Number(index);
  }
  throw new ConsoleError(
    `InputAdded event not found in receipt of transaction ${receipt.transactionHash}`,
    "check that --deploymentFile names the InputBox the portals use",
  );
}

export interface Sent {
  input: number;
  transaction: Hex;
}

async function sendInput(l1: L1, r: Rollups, call: Call): Promise<Sent> {
  const receipt = await send(l1, call);
  const inputBox = contractAddress(r.deployment, "InputBox");
  return {
    input: inputIndexOf(receipt, inputBox, r.dapp, r.version),
    transaction: receipt.transactionHash,
  };
}

export function addInput(l1: L1, r: Rollups, payload: Hex): Promise<Sent> {
  return sendInput(l1, r, {
    address: contractAddress(r.deployment, "InputBox"),
    abi: r.version === "v1" ? abis.InputBox : abisV2.InputBox,
    functionName: "addInput",
    args: [r.dapp, payload],
  });
}

type Portal =
  "EtherPortal" | "ERC20Portal" | "ERC721Portal" | "ERC1155SinglePortal" | "ERC1155BatchPortal";

/**
 * A deposit: the portal's call, its input found in the receipt. The portals of v1 and v2 take the
 * same arguments (v2's ERC20Portal sends no success byte to the application, which is the
 * portal's business, not the caller's).
 */
function deposit(
  l1: L1,
  r: Rollups,
  portal: Portal,
  functionName: string,
  args: readonly unknown[],
  value?: bigint,
): Promise<Sent> {
  return sendInput(l1, r, {
    address: contractAddress(r.deployment, portal),
    abi: r.version === "v1" ? abis[portal] : abisV2[portal],
    functionName,
    args,
    ...(value === undefined ? {} : { value }),
  });
}

export function depositEther(l1: L1, r: Rollups, wei: bigint, execLayerData: Hex): Promise<Sent> {
  return deposit(l1, r, "EtherPortal", "depositEther", [r.dapp, execLayerData], wei);
}

export async function depositErc20(
  l1: L1,
  r: Rollups,
  token: Address,
  amount: bigint,
  execLayerData: Hex,
): Promise<Sent> {
  const portal = contractAddress(r.deployment, "ERC20Portal");
  const allowance = (await l1.publicClient.readContract({
    address: token,
    abi: abis.ERC20,
    functionName: "allowance",
    args: [l1.account.address, portal],
  })) as bigint;
  // Like the reference console: approve only the shortfall, so a standing allowance is kept.
  if (allowance < amount) {
    l1.log(`approving allowance of ${amount - allowance} tokens...`);
    await send(l1, {
      address: token,
      abi: abis.ERC20,
      functionName: "approve",
      args: [portal, amount - allowance],
    });
  }
  l1.log(`depositing ${amount} tokens...`);
  return deposit(l1, r, "ERC20Portal", "depositERC20Tokens", [
    token,
    r.dapp,
    amount,
    execLayerData,
  ]);
}

export async function depositErc721(
  l1: L1,
  r: Rollups,
  token: Address,
  tokenId: bigint,
): Promise<Sent> {
  const portal = contractAddress(r.deployment, "ERC721Portal");
  await send(l1, {
    address: token,
    abi: abis.ERC721,
    functionName: "approve",
    args: [portal, tokenId],
  });
  return deposit(l1, r, "ERC721Portal", "depositERC721Token", [token, r.dapp, tokenId, "0x", "0x"]);
}

export async function depositErc1155(
  l1: L1,
  r: Rollups,
  token: Address,
  tokenIds: readonly bigint[],
  amounts: readonly bigint[],
): Promise<Sent> {
  const single = tokenIds.length === 1;
  const name = single ? "ERC1155SinglePortal" : "ERC1155BatchPortal";
  const portal = contractAddress(r.deployment, name);
  const approved = (await l1.publicClient.readContract({
    address: token,
    abi: abis.ERC1155,
    functionName: "isApprovedForAll",
    args: [l1.account.address, portal],
  })) as boolean;
  if (!approved) {
    l1.log("approving the portal as operator...");
    await send(l1, {
      address: token,
      abi: abis.ERC1155,
      functionName: "setApprovalForAll",
      args: [portal, true],
    });
  }
  return single
    ? deposit(l1, r, name, "depositSingleERC1155Token", [
        token,
        r.dapp,
        tokenIds[0],
        amounts[0],
        "0x",
        "0x",
      ])
    : deposit(l1, r, name, "depositBatchERC1155Token", [
        token,
        r.dapp,
        tokenIds,
        amounts,
        "0x",
        "0x",
      ]);
}

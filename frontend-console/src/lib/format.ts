/** The ledger's balances as text. */
import { formatEther } from "viem";

export interface Balance {
  asset: string;
  confirmed: string;
  pending: string;
}

/** `1000 (0.000000000000001 ETH)`: base units, and whole units for the 18-decimal assets. */
export function formatUnits(asset: string, amount: string): string {
  if ((asset === "ETH" || asset === "COIN") && /^[0-9]+$/.test(amount) && amount !== "0") {
    return `${amount} (${formatEther(BigInt(amount))} ${asset})`;
  }
  return amount;
}

export function formatBalances(address: string, balances: readonly Balance[]): string[] {
  if (balances.length === 0) return [`${address} holds nothing`];
  const width = Math.max(...balances.map((b) => b.asset.length));
  return [
    address,
    ...balances.map((b) => {
      const pending =
        b.pending === b.confirmed ? "" : `  pending ${formatUnits(b.asset, b.pending)}`;
      return `  ${b.asset.padEnd(width)}  ${formatUnits(b.asset, b.confirmed)}${pending}`;
    }),
  ];
}

/** Chain ids the reference console knows, by the network names used for deployment folders. */
const NETWORKS: Readonly<Record<number, string>> = {
  31337: "localhost",
  5: "goerli",
  97: "bsc_testnet",
  43113: "avax_fuji",
  80001: "polygon_mumbai",
  420: "optimism_goerli",
  421613: "arbitrum_goerli",
  10200: "chiado",
  11155111: "sepolia",
};

export function networkName(chainId: number): string | undefined {
  return NETWORKS[chainId];
}

/**
 * Contract ABIs, taken from the artifacts `@cartesi/rollups` 1.4.5 ships (including the
 * OpenZeppelin token interfaces it exports), and for Rollups v2 from `@cartesi/rollups` 2.2.0
 * (installed as `@cartesi/rollups-v2`; Foundry artifacts `out/<Name>.sol/<Name>.json`), rather
 * than pasted here.
 */
import { createRequire } from "node:module";
import type { Abi } from "viem";

const require = createRequire(import.meta.url);

function artifact(path: string): Abi {
  const json = require(`@cartesi/rollups/export/artifacts/${path}.json`) as { abi: Abi };
  return json.abi;
}

export const abis = {
  InputBox: artifact("contracts/inputs/IInputBox.sol/IInputBox"),
  CartesiDApp: artifact("contracts/dapp/CartesiDApp.sol/CartesiDApp"),
  EtherPortal: artifact("contracts/portals/IEtherPortal.sol/IEtherPortal"),
  ERC20Portal: artifact("contracts/portals/IERC20Portal.sol/IERC20Portal"),
  ERC721Portal: artifact("contracts/portals/IERC721Portal.sol/IERC721Portal"),
  ERC1155SinglePortal: artifact("contracts/portals/IERC1155SinglePortal.sol/IERC1155SinglePortal"),
  ERC1155BatchPortal: artifact("contracts/portals/IERC1155BatchPortal.sol/IERC1155BatchPortal"),
  DAppAddressRelay: artifact("contracts/relays/IDAppAddressRelay.sol/IDAppAddressRelay"),
  LibOutputValidation: artifact("contracts/library/LibOutputValidation.sol/LibOutputValidation"),
  History: artifact("contracts/history/History.sol/History"),
  ERC20: artifact("@openzeppelin/contracts/token/ERC20/IERC20.sol/IERC20"),
  ERC721: artifact("@openzeppelin/contracts/token/ERC721/IERC721.sol/IERC721"),
  ERC1155: artifact("@openzeppelin/contracts/token/ERC1155/IERC1155.sol/IERC1155"),
} as const;

function artifactV2(name: string): Abi {
  const json = require(`@cartesi/rollups-v2/out/${name}.sol/${name}.json`) as { abi: Abi };
  return json.abi;
}

/** Rollups v2 (contracts 2.2.0). The token interfaces are the same as v1's. */
export const abisV2 = {
  InputBox: artifactV2("IInputBox"),
  Application: artifactV2("Application"),
  EtherPortal: artifactV2("IEtherPortal"),
  ERC20Portal: artifactV2("IERC20Portal"),
  ERC721Portal: artifactV2("IERC721Portal"),
  ERC1155SinglePortal: artifactV2("IERC1155SinglePortal"),
  ERC1155BatchPortal: artifactV2("IERC1155BatchPortal"),
} as const;

//! Addresses: CREATE2, EIP-55 checksums, and the address book the dev node prints and writes.

use std::fmt::Write as _;

use ethabi::ethereum_types::{Address, H256};
use sha3::{Digest, Keccak256};

pub fn keccak256(bytes: &[u8]) -> H256 {
    H256::from_slice(&Keccak256::digest(bytes))
}

/// `keccak256(0xff ‖ deployer ‖ salt ‖ keccak256(initcode))[12..]`.
pub(crate) fn create2_address(deployer: Address, salt: H256, initcode: &[u8]) -> Address {
    let mut preimage = Vec::with_capacity(85);
    preimage.push(0xff);
    preimage.extend_from_slice(deployer.as_bytes());
    preimage.extend_from_slice(salt.as_bytes());
    preimage.extend_from_slice(keccak256(initcode).as_bytes());
    Address::from_slice(&keccak256(&preimage).as_bytes()[12..])
}

/// The EIP-55 mixed-case form, as block explorers and hardhat-deploy files write addresses.
pub fn checksum(address: Address) -> String {
    let lower = hex::encode(address.as_bytes());
    let hash = keccak256(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash.as_bytes()[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0xf;
        out.push(if nibble >= 8 { c.to_ascii_uppercase() } else { c });
    }
    out
}

/// Anvil's default mnemonic, behind the devnet accounts. Cartesi CLI 1.5.0's `send` takes it in
/// `--mnemonic-passphrase` (and asks for a wallet interactively without it).
const DEVNET_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The Rollups v1 contracts (1.4.5) and the `@cartesi/util` libraries they link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupsV1 {
    pub input_box: Address,
    pub ether_portal: Address,
    pub erc20_portal: Address,
    pub erc721_portal: Address,
    pub erc1155_single_portal: Address,
    pub erc1155_batch_portal: Address,
    pub dapp_address_relay: Address,
    pub authority_factory: Address,
    pub history_factory: Address,
    pub authority_history_pair_factory: Address,
    pub cartesi_dapp_factory: Address,
    pub self_hosted_application_factory: Address,
    pub bitmask: Address,
    pub cartesi_math_v2: Address,
    pub merkle_v2: Address,
    pub unrolled_cordic: Address,
}

/// The application and its consensus, made by `SelfHostedApplicationFactory.deployContracts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Application {
    pub app: Address,
    pub authority: Address,
    pub history: Address,
    /// The dApp's owner.
    pub owner: Address,
    /// The Authority's owner, who submits claims: the claimer, [`super::DEVNET_CLAIMER`], once
    /// [`super::deploy_devnet`] handed the Authority over.
    pub claimer: Address,
    /// Where the application was created: the watcher starts reading inputs here.
    pub block_number: u64,
    pub block_hash: H256,
    pub transaction_hash: H256,
}

/// Test tokens, minted to the first devnet accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestTokens {
    /// OpenZeppelin 4.9 presets, the console's defaults (`SimpleERC20`, `SimpleERC721`,
    /// `SimpleERC1155`).
    pub erc20: Address,
    pub erc721: Address,
    pub erc1155: Address,
    /// Cartesi CLI 1.x's devnet tokens, at the addresses `cartesi address-book` prints.
    pub cli: CliDevnetTokens,
    /// The accounts that received tokens.
    pub holders: Vec<Address>,
}

/// The test tokens of Cartesi CLI 1.x's devnet (npm `@cartesi/devnet@1.6.0`,
/// `deployments/localhost/*.json`): created by account 0 through the Safe singleton factory with
/// a zero salt and `[account 0]` as constructor argument, so their addresses follow from the
/// package's bytecode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliDevnetTokens {
    /// ERC-20 "TestToken" (TEST); its constructor mints 10^9 tokens to account 0.
    pub test_token: Address,
    /// ERC-721 "TestNFT" (SUNN), owned by account 0 (`safeMint(to, id, uri)`).
    pub test_nft: Address,
    /// ERC-1155 "TestMultiToken", owned by account 0 (`mint(to, id, amount, data)`).
    pub test_multi_token: Address,
}

impl CliDevnetTokens {
    /// The addresses of the CLI's devnet, as its address book prints them.
    pub fn canonical() -> CliDevnetTokens {
        CliDevnetTokens {
            test_token: addr("92C6bcA388E99d6B304f1Af3c3Cd749Ff0b591e2"),
            test_nft: addr("c6582A9b48F211Fa8c2B5b16CB615eC39bcA653B"),
            test_multi_token: addr("04d724738873CB6a86328D2EbAEb2079D715e61e"),
        }
    }

    /// `(name, address)`, names as in the package's deployment files.
    pub fn named(&self) -> Vec<(&'static str, Address)> {
        vec![("TestToken", self.test_token), ("TestNFT", self.test_nft), ("TestMultiToken", self.test_multi_token)]
    }
}

/// Everything deployed, for printing and for the deployment files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressBook {
    pub chain_id: u64,
    /// The L1 RPC the contracts were deployed through, for the tool lines of [`Self::render`].
    pub rpc_url: String,
    pub rollups: RollupsV1,
    pub application: Application,
    pub tokens: Option<TestTokens>,
}

impl RollupsV1 {
    /// The canonical addresses (the same on every chain).
    pub fn canonical() -> RollupsV1 {
        RollupsV1 {
            input_box: addr("59b22D57D4f067708AB0c00552767405926dc768"),
            ether_portal: addr("Ffdbe43d4c855BF7e0f105c400A50857f53AB044"),
            erc20_portal: addr("9C21AEb2093C32DDbC53eEF24B873BDCd1aDa1DB"),
            erc721_portal: addr("237F8DD094C0e47f4236f12b4Fa01d6Dae89fb87"),
            erc1155_single_portal: addr("7CFB0193Ca87eB6e48056885E026552c3A941FC4"),
            erc1155_batch_portal: addr("edB53860A6B52bbb7561Ad596416ee9965B055Aa"),
            dapp_address_relay: addr("F5DE34d6BbC0446E2a45719E718efEbaaE179daE"),
            authority_factory: addr("f26a5b278C25D8D41A136d22Ad719EACEd9c3e63"),
            history_factory: addr("1f158b5320BBf677FdA89F9a438df99BbE560A26"),
            authority_history_pair_factory: addr("3890A047Cf9Af60731E80B2105362BbDCD70142D"),
            cartesi_dapp_factory: addr("7122cd1221C20892234186facfE8615e6743Ab02"),
            self_hosted_application_factory: addr("9E32e06Fd23675b2DF8eA8e6b0A25c3DF6a60AbC"),
            bitmask: addr("F5B2d8c81cDE4D6238bBf20D3D77DB37df13f735"),
            cartesi_math_v2: addr("B634F716BEd5Dd5A2b9a91C92474C499e50Cb27D"),
            merkle_v2: addr("33436035441927Df1a73FE3AAC5906854632e53d"),
            unrolled_cordic: addr("3F8FdcD1B0F421D817BF58C96b7C91B98100B450"),
        }
    }

    /// `(name, address)` in deployment order, names as in the npm deployment files.
    pub fn named(&self) -> Vec<(&'static str, Address)> {
        vec![
            ("CartesiMathV2", self.cartesi_math_v2),
            ("MerkleV2", self.merkle_v2),
            ("Bitmask", self.bitmask),
            ("UnrolledCordic", self.unrolled_cordic),
            ("InputBox", self.input_box),
            ("EtherPortal", self.ether_portal),
            ("ERC20Portal", self.erc20_portal),
            ("ERC721Portal", self.erc721_portal),
            ("ERC1155SinglePortal", self.erc1155_single_portal),
            ("ERC1155BatchPortal", self.erc1155_batch_portal),
            ("DAppAddressRelay", self.dapp_address_relay),
            ("AuthorityFactory", self.authority_factory),
            ("HistoryFactory", self.history_factory),
            ("AuthorityHistoryPairFactory", self.authority_history_pair_factory),
            ("CartesiDAppFactory", self.cartesi_dapp_factory),
            ("SelfHostedApplicationFactory", self.self_hosted_application_factory),
        ]
    }
}

/// Parses one of the literal constants above; a typo is caught by the unit test below.
fn addr(hex40: &str) -> Address {
    let mut bytes = [0u8; 20];
    if hex::decode_to_slice(hex40, &mut bytes).is_err() {
        return Address::zero();
    }
    Address::from(bytes)
}

impl AddressBook {
    /// Every contract with the name used for its deployment file, the application first.
    pub fn named(&self) -> Vec<(&'static str, Address)> {
        let app = &self.application;
        let mut all = vec![("CartesiDApp", app.app), ("Authority", app.authority), ("History", app.history)];
        all.extend(self.rollups.named());
        if let Some(t) = &self.tokens {
            all.extend([("SimpleERC20", t.erc20), ("SimpleERC721", t.erc721), ("SimpleERC1155", t.erc1155)]);
            all.extend(t.cli.named());
        }
        all
    }

    /// A table for the terminal: one `Name  0xChecksummed` line per contract, then how Cartesi's
    /// own tools reach this chain.
    pub fn render(&self) -> String {
        let mut out = format!("L1 chain {} — Cartesi Rollups v1.4.5\n", self.chain_id);
        let width = self.named().iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, address) in self.named() {
            let _ = writeln!(out, "  {name:<width$}  {}", checksum(address));
        }
        let _ = writeln!(out, "  {:<width$}  {}", "(dApp owner)", checksum(self.application.owner));
        let _ = writeln!(out, "  {:<width$}  {}", "(claimer)", checksum(self.application.claimer));
        let _ = writeln!(out, "  {:<width$}  {}", "(deployed in block)", self.application.block_number);
        if let Some(t) = &self.tokens {
            let _ = writeln!(
                out,
                "  test tokens minted to the first {} devnet accounts; TestToken, TestNFT and TestMultiToken are at Cartesi CLI 1.x's devnet addresses",
                t.holders.len()
            );
        }
        out.push_str(&self.tools());
        out
    }

    /// Which of Cartesi's tools work against this chain, and how: the same lines as
    /// `devnode --help`, with this node's addresses filled in.
    pub fn tools(&self) -> String {
        let (rpc, app) = (&self.rpc_url, checksum(self.application.app));
        let mut out = String::from("Cartesi's tools against this node (anvil's accounts are unlocked):\n");
        let _ = writeln!(
            out,
            "  cast                cast send --rpc-url {rpc} --unlocked --from {} {} 'addInput(address,bytes)' {app} 0x…",
            checksum(self.application.owner),
            checksum(self.rollups.input_box)
        );
        let _ = writeln!(
            out,
            "  Cartesi's console   cd frontend-console && yarn start <command> (reads the deployment files)"
        );
        let token = self.tokens.as_ref().map_or_else(|| "<token>".to_owned(), |t| checksum(t.cli.test_token));
        let _ = writeln!(
            out,
            "  cartesi send (1.x)  cartesi send erc20 --rpc-url {rpc} --chain-id {} --dapp {app} --token {token} --amount 1 --mnemonic-passphrase \"{DEVNET_MNEMONIC}\" --mnemonic-index 0 (after approving the ERC20Portal; also ether, erc721, generic)",
            self.chain_id
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_parse_and_keep_their_checksums() {
        // Written above in EIP-55 form (as §7.1 lists them), so the checksum must give them back.
        for (name, address) in RollupsV1::canonical().named() {
            assert_ne!(address, Address::zero(), "{name}");
        }
        assert_eq!(checksum(RollupsV1::canonical().input_box), "0x59b22D57D4f067708AB0c00552767405926dc768");
        assert_eq!(checksum(RollupsV1::canonical().ether_portal), "0xFfdbe43d4c855BF7e0f105c400A50857f53AB044");
    }

    #[test]
    fn create2_matches_the_eip_1014_example() {
        // EIP-1014 example 2: deployer 0xdeadbeef…, salt 0, initcode 0x00.
        let deployer = addr("deadbeef00000000000000000000000000000000");
        let got = create2_address(deployer, H256::zero(), &[0]);
        assert_eq!(got, addr("B928f69Bb1D91Cd65274e3c79d8986362984fDA3"));
    }
}

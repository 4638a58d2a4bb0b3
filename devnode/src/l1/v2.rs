//! Rollups v2 on L1 (contracts 2.2.0, npm `@cartesi/rollups@2.2.0` under the alias
//! `@cartesi/rollups-v2`): the contracts at their zero-salt addresses, the application with its
//! Authority, and the deployment files. The calls the node and its tests make once it is deployed
//! (inputs, deposits, claims, `executeOutput`) are in `v2_calls.rs`.
//!
//! Rollups 2.2.0 is deployed through the Arachnid CREATE2 proxy (anvil has it in its genesis)
//! with a zero salt, as its `script/Deployment.s.sol` does, so every address follows from the
//! artifact alone and a restarted node finds what it deployed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ethabi::ethereum_types::{Address, H256, U256};
use ethabi::{ParamType, Token};
use serde_json::json;

use super::addresses::{checksum, keccak256, RollupsV1, TestTokens};
use super::artifacts::NodeModules;
use super::deploy::{
    artifact, calldata, create2_through, deploy_test_tokens, hand_over, ARACHNID_CREATE2_PROXY, DEVNET_ACCOUNT_0,
    DEVNET_CLAIMER,
};
use super::error::L1Error;
use super::rpc::{Rpc, TxRequest};

/// The application's name in the node's APIs (`/inspect/<name>`, JSON-RPC `application`).
pub const APPLICATION_NAME: &str = "ledger";

/// The Rollups 2.2.0 contracts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupsV2 {
    pub input_box: Address,
    pub ether_portal: Address,
    pub erc20_portal: Address,
    pub erc721_portal: Address,
    pub erc1155_single_portal: Address,
    pub erc1155_batch_portal: Address,
    pub authority_factory: Address,
    pub quorum_factory: Address,
    pub application_factory: Address,
    pub self_hosted_application_factory: Address,
    pub safe_erc20_transfer: Address,
}

fn addr(hex40: &str) -> Address {
    hex40.parse().unwrap_or_default()
}

impl RollupsV2 {
    /// The zero-salt addresses of 2.2.0 (the same on every chain with the Arachnid proxy).
    pub fn canonical() -> RollupsV2 {
        RollupsV2 {
            input_box: addr("1b51e2992A2755Ba4D6F7094032DF91991a0Cfac"),
            ether_portal: addr("A632c5c05812c6a6149B7af5C56117d1D2603828"),
            erc20_portal: addr("ACA6586A0Cf05bD831f2501E7B4aea550dA6562D"),
            erc721_portal: addr("9E8851dadb2b77103928518846c4678d48b5e371"),
            erc1155_single_portal: addr("18558398Dd1a8cE20956287a4Da7B76aE7A96662"),
            erc1155_batch_portal: addr("e246Abb974B307490d9C6932F48EbE79de72338A"),
            authority_factory: addr("5E96408CFE423b01dADeD3bc867E6013135990cc"),
            quorum_factory: addr("1C91Ba8aa5648cdAC77E97eaC781447c646EF239"),
            application_factory: addr("26E758238CB6eC5aB70ce0dd52aF2d7b82e1972E"),
            self_hosted_application_factory: addr("010D3CbB4223F5bCc7b7B03cEE59f3aAea8eDb8A"),
            safe_erc20_transfer: addr("b7C2bcAA4437425cfcE9d233bFf15EF461273D63"),
        }
    }

    /// `(name, address)` in deployment order, names as the artifacts'.
    pub fn named(&self) -> Vec<(&'static str, Address)> {
        vec![
            ("InputBox", self.input_box),
            ("EtherPortal", self.ether_portal),
            ("ERC20Portal", self.erc20_portal),
            ("ERC721Portal", self.erc721_portal),
            ("ERC1155SinglePortal", self.erc1155_single_portal),
            ("ERC1155BatchPortal", self.erc1155_batch_portal),
            ("AuthorityFactory", self.authority_factory),
            ("QuorumFactory", self.quorum_factory),
            ("ApplicationFactory", self.application_factory),
            ("SelfHostedApplicationFactory", self.self_hosted_application_factory),
            ("SafeERC20Transfer", self.safe_erc20_transfer),
        ]
    }
}

/// The application and its Authority, made by `SelfHostedApplicationFactory.deployContracts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationV2 {
    pub app: Address,
    pub authority: Address,
    /// The application's owner.
    pub owner: Address,
    /// The Authority's owner, who submits claims: the claimer, [`super::DEVNET_CLAIMER`], once
    /// [`deploy_devnet_v2`] handed the Authority over.
    pub claimer: Address,
    pub epoch_length: u64,
    pub block_number: u64,
    pub block_hash: H256,
    pub transaction_hash: H256,
}

/// Everything a v2 node deployed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressBookV2 {
    pub chain_id: u64,
    pub rpc_url: String,
    pub rollups: RollupsV2,
    pub application: ApplicationV2,
    pub tokens: Option<TestTokens>,
}

impl AddressBookV2 {
    /// Every contract with the name of its deployment file, the application first.
    pub fn named(&self) -> Vec<(&'static str, Address)> {
        let mut all = vec![("Application", self.application.app), ("Authority", self.application.authority)];
        all.extend(self.rollups.named());
        if let Some(t) = &self.tokens {
            all.extend([("SimpleERC20", t.erc20), ("SimpleERC721", t.erc721), ("SimpleERC1155", t.erc1155)]);
            all.extend(t.cli.named());
        }
        all
    }

    /// A table for the terminal, as the v1 address book's.
    pub fn render(&self) -> String {
        let mut out = format!("L1 chain {} — Cartesi Rollups v2.2.0\n", self.chain_id);
        let width = self.named().iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, address) in self.named() {
            let _ = writeln!(out, "  {name:<width$}  {}", checksum(address));
        }
        let _ = writeln!(out, "  {:<width$}  {}", "(owner)", checksum(self.application.owner));
        let _ = writeln!(out, "  {:<width$}  {}", "(claimer)", checksum(self.application.claimer));
        let _ = writeln!(out, "  {:<width$}  {}", "(epoch length)", self.application.epoch_length);
        let _ = writeln!(out, "  {:<width$}  {}", "(deployed in block)", self.application.block_number);
        let _ = writeln!(
            out,
            "Send an input: cast send --rpc-url {} --unlocked --from {} {} 'addInput(address,bytes)' {} 0x…",
            self.rpc_url,
            checksum(self.application.owner),
            checksum(self.rollups.input_box),
            checksum(self.application.app)
        );
        out
    }
}

/// `DataAvailability.InputBox(inputBox)` calldata, the application's data availability.
pub fn input_box_data_availability(input_box: Address) -> Vec<u8> {
    calldata("InputBox", &[ParamType::Address], &[Token::Address(input_box)])
}

/// Deploys whatever is missing of Rollups 2.2.0, in the order of its deployment script.
pub async fn deploy_rollups_v2(rpc: &Rpc, nm: &NodeModules, from: Address) -> Result<RollupsV2, L1Error> {
    if rpc.get_code(ARACHNID_CREATE2_PROXY).await?.is_empty() {
        return Err(L1Error::NoCreate2Proxy(ARACHNID_CREATE2_PROXY));
    }
    let c = RollupsV2::canonical();
    let input_box = [Token::Address(c.input_box)];
    let factories = [Token::Address(c.authority_factory), Token::Address(c.application_factory)];
    let mut sent = 0;
    for (name, expected) in c.named() {
        let args: &[Token] = match name {
            "EtherPortal" | "ERC20Portal" | "ERC721Portal" | "ERC1155SinglePortal" | "ERC1155BatchPortal" => &input_box,
            "SelfHostedApplicationFactory" => &factories,
            _ => &[],
        };
        let initcode = nm.rollups_v2(name)?.initcode(args);
        let (_, deployed) = create2_through(rpc, ARACHNID_CREATE2_PROXY, from, name, &initcode, Some(expected)).await?;
        sent += usize::from(deployed);
    }
    tracing::info!(sent, "Rollups v2.2.0 contracts in place");
    Ok(c)
}

/// `keccak("ApplicationCreated(address,address,bytes32,bytes,address)")` of ApplicationFactory.
fn application_created_topic() -> H256 {
    keccak256(b"ApplicationCreated(address,address,bytes32,bytes,address)")
}

/// Deploys (once) the application and its Authority with `SelfHostedApplicationFactory`
/// (`deployContracts(owner, epochLength, owner, templateHash = 0, InputBox(inputBox), salt = 0)`),
/// and finds where it was created. The addresses depend on the epoch length: another epoch
/// length is another application.
pub async fn deploy_application_v2(
    rpc: &Rpc,
    rollups: &RollupsV2,
    owner: Address,
    epoch_length: u64,
) -> Result<ApplicationV2, L1Error> {
    let params = [
        ParamType::Address,
        ParamType::Uint(256),
        ParamType::Address,
        ParamType::FixedBytes(32),
        ParamType::Bytes,
        ParamType::FixedBytes(32),
    ];
    let zero = Token::FixedBytes(vec![0; 32]);
    let args = [
        Token::Address(owner),
        Token::Uint(U256::from(epoch_length)),
        Token::Address(owner),
        zero.clone(),
        Token::Bytes(input_box_data_availability(rollups.input_box)),
        zero,
    ];
    let factory = rollups.self_hosted_application_factory;
    let answer = rpc.eth_call(factory, &calldata("calculateAddresses", &params, &args)).await?;
    let words = ethabi::decode(&[ParamType::Address, ParamType::Address], &answer)
        .map_err(|e| L1Error::Abi { what: "calculateAddresses", reason: format!("{e:?}") })?;
    let [Token::Address(app), Token::Address(authority)] = words[..] else {
        return Err(L1Error::BadResponse { method: "calculateAddresses".into(), reason: "not 2 addresses".into() });
    };
    let logs = if rpc.get_code(app).await?.is_empty() {
        let tx = TxRequest {
            from: owner,
            to: Some(factory),
            data: calldata("deployContracts", &params, &args),
            ..Default::default()
        };
        rpc.transact(&tx, "deploy the application").await?.logs
    } else {
        let latest = rpc.block_number().await?;
        rpc.get_logs(rollups.application_factory, &[Some(application_created_topic())], 0, latest).await?
    };
    for (what, address) in [("the application", app), ("its Authority", authority)] {
        if rpc.get_code(address).await?.is_empty() {
            return Err(L1Error::NotDeployed { what: what.into(), address });
        }
    }
    // The event's data is (appOwner, templateHash, dataAvailability offset, appContract, …).
    let created = logs.iter().find(|l| {
        l.address == rollups.application_factory
            && l.topics.first() == Some(&application_created_topic())
            && l.data.len() >= 128
            && l.data[108..128] == app.0
    });
    let Some(created) = created else {
        let reason = format!("no ApplicationCreated event for {}", checksum(app));
        return Err(L1Error::BadResponse { method: "eth_getLogs".into(), reason });
    };
    tracing::info!(app = %checksum(app), block = created.block_number, epoch_length, "v2 application in place");
    Ok(ApplicationV2 {
        app,
        authority,
        owner,
        claimer: owner,
        epoch_length,
        block_number: created.block_number,
        block_hash: created.block_hash,
        transaction_hash: created.transaction_hash,
    })
}

/// Deploys everything of a v2 devnet (idempotently) with account 0 as deployer and owner, then
/// hands the Authority to the claimer ([`DEVNET_CLAIMER`]) as v1 does.
pub async fn deploy_devnet_v2(
    rpc: &Rpc,
    nm: &NodeModules,
    with_tokens: bool,
    epoch_length: u64,
) -> Result<AddressBookV2, L1Error> {
    let chain_id = rpc.chain_id().await?;
    let rollups = deploy_rollups_v2(rpc, nm, DEVNET_ACCOUNT_0).await?;
    let mut application = deploy_application_v2(rpc, &rollups, DEVNET_ACCOUNT_0, epoch_length).await?;
    let tokens = match with_tokens {
        true => Some(deploy_test_tokens(rpc, nm, DEVNET_ACCOUNT_0).await?),
        false => None,
    };
    application.claimer = hand_over(rpc, application.authority, DEVNET_ACCOUNT_0, DEVNET_CLAIMER).await?;
    Ok(AddressBookV2 { chain_id, rpc_url: rpc.url().to_owned(), rollups, application, tokens })
}

/// Deployment-file names only Rollups v1 has: removed when a v2 node writes its files.
const V1_ONLY: &[&str] = &[
    "CartesiDApp",
    "History",
    "CartesiMathV2",
    "MerkleV2",
    "Bitmask",
    "UnrolledCordic",
    "DAppAddressRelay",
    "HistoryFactory",
    "AuthorityHistoryPairFactory",
    "CartesiDAppFactory",
];
/// Deployment-file names only Rollups v2 has: removed when a v1 node writes its files.
pub(super) const V2_ONLY: &[&str] = &["Application", "ApplicationFactory", "QuorumFactory", "SafeERC20Transfer"];

/// Removes `<dir>/<name>.json` for each of `names` (files of the other Rollups version).
pub(super) fn remove_files(dir: &Path, names: &[&str]) -> Result<(), L1Error> {
    for name in names {
        let path = dir.join(format!("{name}.json"));
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::debug!(path = %path.display(), "removed a deployment file of the other Rollups version"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(L1Error::Write { path, source }),
        }
    }
    Ok(())
}

fn write_json(dir: &Path, name: &str, value: &serde_json::Value) -> Result<PathBuf, L1Error> {
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    std::fs::write(&path, text + "\n").map_err(|source| L1Error::Write { path: path.clone(), source })?;
    Ok(path)
}

/// Writes `<deployments>/localhost/<Name>.json` (`{address, abi}`) for every v2 contract and
/// `dapp.json`, as [`super::write_deployment_files`] does for v1, and removes v1's own files.
pub fn write_deployment_files_v2(
    book: &AddressBookV2,
    nm: &NodeModules,
    deployments: &Path,
) -> Result<Vec<PathBuf>, L1Error> {
    let dir = deployments.join("localhost");
    std::fs::create_dir_all(&dir).map_err(|source| L1Error::Write { path: dir.clone(), source })?;
    remove_files(&dir, V1_ONLY)?;
    let mut written = Vec::new();
    for (name, address) in book.named() {
        let abi = match name {
            "SimpleERC20" | "SimpleERC721" | "SimpleERC1155" | "TestToken" | "TestNFT" | "TestMultiToken" => {
                artifact(nm, name, &RollupsV1::canonical())?.abi
            }
            other => nm.rollups_v2(other)?.abi,
        };
        written.push(write_json(&dir, name, &json!({"address": checksum(address), "abi": abi}))?);
    }
    let app = &book.application;
    written.push(write_json(
        &dir,
        "dapp",
        &json!({
            "address": checksum(app.app),
            "blockHash": format!("{:#x}", app.block_hash),
            "blockNumber": app.block_number,
            "transactionHash": format!("{:#x}", app.transaction_hash),
        }),
    )?);
    Ok(written)
}

/// `<deployments>/localhost/rollups.json`: which Rollups version the node runs and where its
/// APIs are, for clients that serve both versions (the console).
pub fn write_rollups_json(deployments: &Path, value: &serde_json::Value) -> Result<PathBuf, L1Error> {
    let dir = deployments.join("localhost");
    std::fs::create_dir_all(&dir).map_err(|source| L1Error::Write { path: dir.clone(), source })?;
    write_json(&dir, "rollups", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_keep_their_checksums() {
        for (name, address) in RollupsV2::canonical().named() {
            assert_ne!(address, Address::zero(), "{name}");
        }
        assert_eq!(checksum(RollupsV2::canonical().input_box), "0x1b51e2992A2755Ba4D6F7094032DF91991a0Cfac");
        assert_eq!(checksum(RollupsV2::canonical().erc20_portal), "0xACA6586A0Cf05bD831f2501E7B4aea550dA6562D");
    }
}

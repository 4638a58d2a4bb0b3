//! The L1 half against a real anvil (from `devnode/npm/node_modules`) on a free port.
//!
//! Without the npm packages these tests fail, on purpose, with the install command: a skipped
//! test would pass in a checkout that never ran them.
//!
//! Here: anvil and the deployment of the Rollups contracts and the application; in `tokens` the
//! test tokens and their deposits through the portals; in `inputs` the deployment files and
//! the InputBox watcher.

mod inputs;
mod tokens;

use std::path::PathBuf;
use std::time::Duration;

use devnode::l1::{
    add_input, checksum, deploy_application, deploy_cli_devnet_tokens, deploy_devnet, deploy_rollups_v1, deposit_ether,
    write_deployment_files, Address, Anvil, AnvilConfig, CliDevnetTokens, InputWatcher, L1Error, NodeModules,
    RollupsV1, Rpc, TxRequest, DEVNET_ACCOUNT_0, DEVNET_CLAIMER, U256,
};
use ethabi::{ParamType, Token};

fn node_modules() -> NodeModules {
    let nm = NodeModules::in_source_tree();
    if let Err(e) = nm.check() {
        panic!("the L1 tests need the pinned npm packages: {e}");
    }
    nm
}

async fn anvil() -> Anvil {
    Anvil::start(&AnvilConfig::new(node_modules(), 0)).await.unwrap()
}

fn scratch_dir(tag: &str) -> PathBuf {
    testkit::scratch_dir("devnode-l1", tag)
}

/// The addresses `cartesi address-book` (CLI 1.5) prints, written out rather than taken from the
/// code under test.
const CLI_TEST_TOKEN: &str = "0x92C6bcA388E99d6B304f1Af3c3Cd749Ff0b591e2";
const CLI_TEST_NFT: &str = "0xc6582A9b48F211Fa8c2B5b16CB615eC39bcA653B";
const CLI_TEST_MULTI_TOKEN: &str = "0x04d724738873CB6a86328D2EbAEb2079D715e61e";

fn account(rpc_accounts: &[Address], i: usize) -> Address {
    rpc_accounts[i]
}

#[test]
fn missing_npm_packages_name_the_install_command() {
    let nm = NodeModules::new("/nonexistent/node_modules");
    let error = nm.check().unwrap_err();
    assert!(matches!(error, L1Error::ToolchainMissing { .. }));
    assert!(error.to_string().contains("npm ci --prefix devnode/npm"), "{error}");
}

#[tokio::test]
async fn anvil_starts_on_a_free_port_and_answers() {
    let anvil = anvil().await;
    assert_ne!(anvil.port(), 0);
    let rpc = anvil.rpc();
    assert_eq!(rpc.chain_id().await.unwrap(), 31337);
    assert_eq!(rpc.accounts().await.unwrap()[0], DEVNET_ACCOUNT_0);
    let url = anvil.url().to_owned();
    anvil.stop().await;
    // Stopped means stopped: nothing answers on that port any more.
    assert!(Rpc::new(&url).unwrap().chain_id().await.is_err());
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = Anvil::start(&AnvilConfig::new(node_modules(), port)).await.unwrap_err();
    assert!(matches!(error, L1Error::AnvilExited { .. }), "{error}");
    assert!(error.to_string().contains("port"), "{error}");
}

#[tokio::test]
async fn rollups_v1_land_at_their_canonical_addresses() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let rollups = deploy_rollups_v1(&rpc, &node_modules(), DEVNET_ACCOUNT_0).await.unwrap();
    assert_eq!(rollups, RollupsV1::canonical());
    // The list of §7.1, written out here rather than taken from the code under test.
    let canonical = [
        ("InputBox", "0x59b22D57D4f067708AB0c00552767405926dc768"),
        ("EtherPortal", "0xFfdbe43d4c855BF7e0f105c400A50857f53AB044"),
        ("ERC20Portal", "0x9C21AEb2093C32DDbC53eEF24B873BDCd1aDa1DB"),
        ("ERC721Portal", "0x237F8DD094C0e47f4236f12b4Fa01d6Dae89fb87"),
        ("ERC1155SinglePortal", "0x7CFB0193Ca87eB6e48056885E026552c3A941FC4"),
        ("ERC1155BatchPortal", "0xedB53860A6B52bbb7561Ad596416ee9965B055Aa"),
        ("DAppAddressRelay", "0xF5DE34d6BbC0446E2a45719E718efEbaaE179daE"),
        ("AuthorityFactory", "0xf26a5b278C25D8D41A136d22Ad719EACEd9c3e63"),
        ("HistoryFactory", "0x1f158b5320BBf677FdA89F9a438df99BbE560A26"),
        ("AuthorityHistoryPairFactory", "0x3890A047Cf9Af60731E80B2105362BbDCD70142D"),
        ("CartesiDAppFactory", "0x7122cd1221C20892234186facfE8615e6743Ab02"),
        ("SelfHostedApplicationFactory", "0x9E32e06Fd23675b2DF8eA8e6b0A25c3DF6a60AbC"),
        ("Bitmask", "0xF5B2d8c81cDE4D6238bBf20D3D77DB37df13f735"),
        ("CartesiMathV2", "0xB634F716BEd5Dd5A2b9a91C92474C499e50Cb27D"),
        ("MerkleV2", "0x33436035441927Df1a73FE3AAC5906854632e53d"),
        ("UnrolledCordic", "0x3F8FdcD1B0F421D817BF58C96b7C91B98100B450"),
    ];
    let named = rollups.named();
    assert_eq!(named.len(), canonical.len());
    for (name, text) in canonical {
        let address: Address = text[2..].parse().unwrap();
        assert_eq!(named.iter().find(|(n, _)| *n == name).map(|(_, a)| *a), Some(address), "{name}");
        assert_eq!(checksum(address), text, "{name}");
        assert!(!rpc.get_code(address).await.unwrap().is_empty(), "{name} has no code at {text}");
    }
}

#[tokio::test]
async fn deploying_twice_changes_nothing() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let nm = node_modules();
    let first = deploy_devnet(&rpc, &nm, true).await.unwrap();
    // The claimer (devnet account 9) owns the Authority; the addresses are the canonical ones.
    assert_eq!(first.application.claimer, DEVNET_CLAIMER);
    assert_eq!(devnode::l1::owner_of(&rpc, first.application.authority).await.unwrap(), DEVNET_CLAIMER);
    assert_eq!(checksum(first.application.app), "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e");
    assert_eq!(first.application.owner, DEVNET_ACCOUNT_0);
    let block = rpc.block_number().await.unwrap();
    let nonce = transaction_count(&rpc, DEVNET_ACCOUNT_0).await;
    assert!(block > 16, "a fresh chain needs transactions, got {block} blocks");

    let second = deploy_devnet(&rpc, &nm, true).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(rpc.block_number().await.unwrap(), block, "the second deployment mined blocks");
    assert_eq!(transaction_count(&rpc, DEVNET_ACCOUNT_0).await, nonce, "the second deployment sent transactions");
}

pub(crate) async fn transaction_count(rpc: &Rpc, of: Address) -> u64 {
    let value = rpc.call("eth_getTransactionCount", serde_json::json!([format!("{of:#x}"), "latest"])).await.unwrap();
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test]
async fn the_application_exists_with_its_consensus() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let rollups = deploy_rollups_v1(&rpc, &node_modules(), DEVNET_ACCOUNT_0).await.unwrap();
    let app = deploy_application(&rpc, &rollups, DEVNET_ACCOUNT_0).await.unwrap();
    for address in [app.app, app.authority, app.history] {
        assert!(!rpc.get_code(address).await.unwrap().is_empty(), "{address:?}");
    }
    assert_eq!(app.owner, DEVNET_ACCOUNT_0);
    // The same addresses as Cartesi CLI 1.5's devnet defaults (`default.env`), which deploys
    // with the same factory call: the recipe is the canonical one end to end.
    assert_eq!(checksum(app.app), "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e");
    assert_eq!(checksum(app.authority), "0x58c93F83fb3304730C95aad2E360cdb88b782010");
    assert_eq!(checksum(app.history), "0x325272217ae6815b494bF38cED004c5Eb8a7CdA7");
    // CartesiDApp.getConsensus() is the authority; owner() is account 0.
    let consensus = rpc.eth_call(app.app, &ethabi::short_signature("getConsensus", &[])).await.unwrap();
    assert_eq!(consensus[12..], app.authority.0);
    let owner = rpc.eth_call(app.app, &ethabi::short_signature("owner", &[])).await.unwrap();
    assert_eq!(owner[12..], DEVNET_ACCOUNT_0.0);
    // The recorded creation block and hash are those of the creation transaction.
    let receipt = rpc.wait_receipt(app.transaction_hash, "the application's creation").await.unwrap();
    assert_eq!((receipt.block_number, receipt.block_hash), (app.block_number, app.block_hash));
    assert_eq!(deploy_application(&rpc, &rollups, DEVNET_ACCOUNT_0).await.unwrap(), app);
}

#[test]
fn the_help_says_how_cartesi_tools_reach_the_node() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_devnode")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let tools = &help[help.find("Cartesi's tools against the node").expect("a section on Cartesi's tools")..];
    for part in ["cast send --rpc-url", "yarn start", "cartesi send erc20", "--rpc-url", "--dapp", "--token"] {
        assert!(tools.contains(part), "{part} missing from the help:\n{tools}");
    }
    for text in [CLI_TEST_TOKEN, CLI_TEST_NFT, CLI_TEST_MULTI_TOKEN, &checksum(DEVNET_CLAIMER)] {
        assert!(tools.contains(text), "{text} missing from the help:\n{tools}");
    }
}

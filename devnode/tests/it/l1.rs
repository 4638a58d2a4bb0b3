//! The L1 half against a real anvil (from `devnode/npm/node_modules`) on a free port.
//!
//! Without the npm packages these tests fail, on purpose, with the install command: a skipped
//! test would pass in a checkout that never ran them.

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

#[tokio::test]
async fn test_tokens_are_minted_to_the_first_accounts() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let book = deploy_devnet(&rpc, &node_modules(), true).await.unwrap();
    let tokens = book.tokens.unwrap();
    let accounts = rpc.accounts().await.unwrap();
    assert_eq!(tokens.holders, accounts[..10]);
    let balance_of = |who: Address| {
        let mut data = ethabi::short_signature("balanceOf", &[ethabi::ParamType::Address]).to_vec();
        data.extend(ethabi::encode(&[ethabi::Token::Address(who)]));
        data
    };
    let word = |bytes: Vec<u8>| U256::from_big_endian(&bytes);
    let last = account(&accounts, 9);
    assert_eq!(word(rpc.eth_call(tokens.erc20, &balance_of(last)).await.unwrap()), U256::exp10(24));
    assert_eq!(word(rpc.eth_call(tokens.erc721, &balance_of(last)).await.unwrap()), U256::one());
    let mut data =
        ethabi::short_signature("balanceOf", &[ethabi::ParamType::Address, ethabi::ParamType::Uint(256)]).to_vec();
    data.extend(ethabi::encode(&[ethabi::Token::Address(last), ethabi::Token::Uint(U256::zero())]));
    assert_eq!(word(rpc.eth_call(tokens.erc1155, &data).await.unwrap()), U256::from(1000));
    // Account 0 can mint more: it holds the minter role.
    let mut mint =
        ethabi::short_signature("mint", &[ethabi::ParamType::Address, ethabi::ParamType::Uint(256)]).to_vec();
    mint.extend(ethabi::encode(&[ethabi::Token::Address(last), ethabi::Token::Uint(U256::one())]));
    let tx = TxRequest { from: DEVNET_ACCOUNT_0, to: Some(tokens.erc20), data: mint, ..Default::default() };
    rpc.transact(&tx, "mint one more").await.unwrap();
    assert_eq!(word(rpc.eth_call(tokens.erc20, &balance_of(last)).await.unwrap()), U256::exp10(24) + 1);

    // Cartesi CLI 1.x's devnet tokens, at the CLI's addresses, handed out the same way.
    let cli = &tokens.cli;
    assert_eq!(checksum(cli.test_token), CLI_TEST_TOKEN);
    assert_eq!(checksum(cli.test_nft), CLI_TEST_NFT);
    assert_eq!(checksum(cli.test_multi_token), CLI_TEST_MULTI_TOKEN);
    assert_eq!(word(rpc.eth_call(cli.test_token, &balance_of(last)).await.unwrap()), U256::exp10(24));
    // The constructor's 10^9 TEST went to account 0, which sent 10^6 to each of the 9 others.
    let kept = U256::exp10(27) - U256::exp10(24) * 9;
    assert_eq!(word(rpc.eth_call(cli.test_token, &balance_of(DEVNET_ACCOUNT_0)).await.unwrap()), kept);
    for (i, holder) in accounts[..10].iter().enumerate() {
        assert_eq!(owner_of(&rpc, cli.test_nft, i as u64).await, *holder, "TestNFT id {i}");
    }
    let mut data = ethabi::short_signature("balanceOf", &[ParamType::Address, ParamType::Uint(256)]).to_vec();
    data.extend(ethabi::encode(&[Token::Address(last), Token::Uint(U256::zero())]));
    assert_eq!(word(rpc.eth_call(cli.test_multi_token, &data).await.unwrap()), U256::from(1000));
}

/// The addresses `cartesi address-book` (CLI 1.5) prints, written out rather than taken from the
/// code under test.
const CLI_TEST_TOKEN: &str = "0x92C6bcA388E99d6B304f1Af3c3Cd749Ff0b591e2";
const CLI_TEST_NFT: &str = "0xc6582A9b48F211Fa8c2B5b16CB615eC39bcA653B";
const CLI_TEST_MULTI_TOKEN: &str = "0x04d724738873CB6a86328D2EbAEb2079D715e61e";

async fn owner_of(rpc: &Rpc, nft: Address, id: u64) -> Address {
    let mut data = ethabi::short_signature("ownerOf", &[ParamType::Uint(256)]).to_vec();
    data.extend(ethabi::encode(&[Token::Uint(id.into())]));
    Address::from_slice(&rpc.eth_call(nft, &data).await.unwrap()[12..])
}

fn hex_word(value: &serde_json::Value) -> U256 {
    U256::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test]
async fn cli_devnet_tokens_are_what_the_cli_devnet_holds() {
    // The CLI's own chain (`@cartesi/devnet`'s anvil state) is the reference: each token has the
    // same runtime code (immutables included, which depend on the chain and the address) and the
    // same storage, slot for slot, as on a fresh chain of ours right after deployment.
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let nm = node_modules();
    let tokens = deploy_cli_devnet_tokens(&rpc, &nm, DEVNET_ACCOUNT_0).await.unwrap();
    assert_eq!(tokens, CliDevnetTokens::canonical());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(nm.cartesi_devnet_state()).unwrap()).unwrap();
    let accounts = state["accounts"].as_object().unwrap();
    for (name, text) in
        [("TestToken", CLI_TEST_TOKEN), ("TestNFT", CLI_TEST_NFT), ("TestMultiToken", CLI_TEST_MULTI_TOKEN)]
    {
        let address: Address = text[2..].parse().unwrap();
        let (_, theirs) = accounts.iter().find(|(a, _)| a.eq_ignore_ascii_case(text)).unwrap();
        let code = rpc.get_code(address).await.unwrap();
        assert!(!code.is_empty(), "{name} has no code at {text}");
        assert_eq!(format!("0x{}", hex::encode(&code)), theirs["code"].as_str().unwrap(), "{name}'s code");
        let storage = theirs["storage"].as_object().unwrap();
        assert!(!storage.is_empty(), "{name}");
        for (slot, value) in storage {
            let ours = rpc.call("eth_getStorageAt", serde_json::json!([text, slot, "latest"])).await.unwrap();
            assert_eq!(hex_word(&ours), hex_word(value), "{name} slot {slot}");
        }
    }
    // Deploying again sends nothing.
    let block = rpc.block_number().await.unwrap();
    deploy_cli_devnet_tokens(&rpc, &nm, DEVNET_ACCOUNT_0).await.unwrap();
    assert_eq!(rpc.block_number().await.unwrap(), block);
}

#[tokio::test]
async fn deployment_files_are_written_where_the_console_reads_them() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let nm = node_modules();
    let book = deploy_devnet(&rpc, &nm, true).await.unwrap();
    let dir = scratch_dir("files");
    let written = write_deployment_files(&book, &nm, &dir).unwrap();
    let localhost = dir.join("localhost");
    for (name, address) in book.named() {
        let path = localhost.join(format!("{name}.json"));
        assert!(written.contains(&path), "{name}");
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["address"].as_str().unwrap(), checksum(address), "{name}");
        // Bitmask has only internal functions, hence an empty ABI; every other contract has one.
        assert_eq!(json["abi"].as_array().unwrap().is_empty(), name == "Bitmask", "{name}");
    }
    // The ABIs are the real ones: the InputBox file declares addInput, the app file executeVoucher.
    let abi_has = |name: &str, function: &str| {
        let text = std::fs::read_to_string(localhost.join(format!("{name}.json"))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["abi"].as_array().unwrap().iter().any(|e| e["name"] == function)
    };
    assert!(abi_has("InputBox", "addInput"));
    assert!(abi_has("CartesiDApp", "executeVoucher"));
    assert!(abi_has("SimpleERC20", "transfer"));
    assert!(abi_has("TestToken", "permit"));
    assert!(abi_has("TestNFT", "safeMint"));
    assert!(abi_has("TestMultiToken", "mintBatch"));
    let file_address = |name: &str| {
        let text = std::fs::read_to_string(localhost.join(format!("{name}.json"))).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["address"].as_str().unwrap().to_owned()
    };
    assert_eq!(file_address("TestToken"), CLI_TEST_TOKEN);
    assert_eq!(file_address("TestNFT"), CLI_TEST_NFT);
    assert_eq!(file_address("TestMultiToken"), CLI_TEST_MULTI_TOKEN);
    let dapp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(localhost.join("dapp.json")).unwrap()).unwrap();
    assert_eq!(dapp["address"].as_str().unwrap(), checksum(book.application.app));
    assert_eq!(dapp["blockNumber"].as_u64().unwrap(), book.application.block_number);
    assert_eq!(dapp["transactionHash"].as_str().unwrap(), format!("{:#x}", book.application.transaction_hash));
    let rendered = book.render();
    assert!(rendered.contains("InputBox") && rendered.contains("0x59b22D57D4f067708AB0c00552767405926dc768"));
    for text in [CLI_TEST_TOKEN, CLI_TEST_NFT, CLI_TEST_MULTI_TOKEN] {
        assert!(rendered.contains(text), "{text} missing from the address book:\n{rendered}");
    }
    // How Cartesi's tools reach this node, with its RPC and application filled in.
    let app = checksum(book.application.app);
    let send = rendered.lines().find(|l| l.trim_start().starts_with("cartesi send")).unwrap();
    for part in ["--rpc-url", rpc.url(), "--dapp", &app, "--token", CLI_TEST_TOKEN] {
        assert!(send.contains(part), "{part} missing from {send}");
    }
    assert!(rendered.lines().any(|l| l.trim_start().starts_with("cast ") && l.contains(rpc.url())), "{rendered}");
    assert!(rendered.contains("yarn start"), "{rendered}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_watcher_sees_deposits_and_direct_inputs() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let book = deploy_devnet(&rpc, &node_modules(), false).await.unwrap();
    let (rollups, app) = (&book.rollups, book.application.app);
    let accounts = rpc.accounts().await.unwrap();
    let (alice, bob) = (account(&accounts, 1), account(&accounts, 2));

    // An input before the watcher starts: it must come from the past logs.
    let first = add_input(&rpc, rollups, alice, app, b"hello").await.unwrap();
    assert_eq!(first.input_index, 0);
    let mut watcher = InputWatcher::new(rpc.clone(), rollups.input_box, app, book.application.block_number, 0)
        .with_poll_interval(Duration::from_millis(20));
    let seen = watcher.next().await.unwrap();
    assert_eq!((seen.index, seen.msg_sender, seen.payload.as_slice()), (0, alice, &b"hello"[..]));
    assert_eq!(seen.block_number, first.block_number);
    assert_eq!(seen.transaction_hash, first.transaction_hash);
    assert_eq!(seen.block_timestamp, rpc.block_timestamp(first.block_number).await.unwrap());

    // Then new blocks, while the watcher waits: a deposit through the Ether portal.
    let amount = U256::exp10(18) * 3;
    let waiting = tokio::spawn(async move {
        let event = watcher.next().await.unwrap();
        (event, watcher)
    });
    let deposit = deposit_ether(&rpc, rollups, bob, app, amount, b"exec").await.unwrap();
    let (seen, mut watcher) = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap();
    assert_eq!(deposit.input_index, 1);
    assert_eq!((seen.index, seen.msg_sender), (1, rollups.ether_portal));
    let mut expected = bob.0.to_vec();
    let mut value = [0u8; 32];
    amount.to_big_endian(&mut value);
    expected.extend(value);
    expected.extend(b"exec");
    assert_eq!(seen.payload, expected, "v1 Ether portal layout: sender(20) ‖ value(32) ‖ data");
    assert_eq!(seen.block_number, deposit.block_number);
    assert_eq!(seen.block_timestamp, rpc.block_timestamp(deposit.block_number).await.unwrap());
    assert!(seen.block_timestamp >= rpc.block_timestamp(first.block_number).await.unwrap());
    assert_eq!(rpc.get_balance(app).await.unwrap(), amount, "the portal forwards the ether to the app");

    // Inputs of another application are not this watcher's business.
    add_input(&rpc, rollups, alice, Address::repeat_byte(0x42), b"elsewhere").await.unwrap();
    let last = add_input(&rpc, rollups, alice, app, &[0xde, 0xad]).await.unwrap();
    let seen = watcher.next().await.unwrap();
    assert_eq!((seen.index, seen.msg_sender, seen.payload), (2, alice, vec![0xde, 0xad]));
    assert_eq!(seen.block_number, last.block_number);
    assert!(watcher.poll().await.unwrap().is_empty());
}

/// `InputBox.addInput(app, payload)` sent without waiting for it to be mined.
async fn send_input(rpc: &Rpc, book: &devnode::l1::AddressBook, payload: &[u8]) {
    let mut data =
        ethabi::short_signature("addInput", &[ethabi::ParamType::Address, ethabi::ParamType::Bytes]).to_vec();
    data.extend(ethabi::encode(&[
        ethabi::Token::Address(book.application.app),
        ethabi::Token::Bytes(payload.to_vec()),
    ]));
    let tx = TxRequest { from: DEVNET_ACCOUNT_0, to: Some(book.rollups.input_box), data, value: U256::zero() };
    rpc.send_transaction(&tx).await.unwrap();
}

#[tokio::test]
async fn a_watcher_resumes_inside_a_block_and_fails_loudly_on_a_gap() {
    let anvil = anvil().await;
    let rpc = anvil.rpc();
    let book = deploy_devnet(&rpc, &node_modules(), false).await.unwrap();
    // Three inputs in one block.
    rpc.call("evm_setAutomine", serde_json::json!([false])).await.unwrap();
    for payload in [&b"a"[..], b"b", b"c"] {
        send_input(&rpc, &book, payload).await;
    }
    rpc.call("evm_mine", serde_json::json!([])).await.unwrap();
    rpc.call("evm_setAutomine", serde_json::json!([true])).await.unwrap();
    let block = rpc.block_number().await.unwrap();

    // A node that stored input 0 resumes from that input's block, not the next one.
    let mut watcher = InputWatcher::new(rpc.clone(), book.rollups.input_box, book.application.app, block, 1);
    let seen: Vec<_> =
        watcher.poll().await.unwrap().into_iter().map(|e| (e.index, e.payload, e.block_number)).collect();
    assert_eq!(seen, [(1, b"b".to_vec(), block), (2, b"c".to_vec(), block)]);

    // Reading past input 0 while expecting it is a gap, said loudly.
    let mut watcher = InputWatcher::new(rpc, book.rollups.input_box, book.application.app, block + 1, 0);
    send_input(&anvil.rpc(), &book, b"d").await;
    let error = loop {
        match watcher.poll().await {
            Err(e) => break e,
            Ok(events) => assert!(events.is_empty(), "{events:?}"),
        }
    };
    assert!(matches!(error, L1Error::InputGap { expected: 0, found: 3 }), "{error}");
}

fn call(name: &str, params: &[ParamType], args: &[Token]) -> Vec<u8> {
    let mut data = ethabi::short_signature(name, params).to_vec();
    data.extend(ethabi::encode(args));
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_devnet_tokens_deposited_through_the_portals_reach_the_backend() {
    // A whole node with the real backend, started with a block time: the contracts are deployed
    // with a block per transaction, then anvil mines on its own at the interval.
    let dir = scratch_dir("cli-tokens");
    let mut config = crate::node::config(&dir, crate::node::backend());
    config.test_tokens = true;
    config.block_time = Some(1);
    let node = crate::node::start_config(config).await;
    let ready = node.ready.clone();
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    let deployed = rpc.block_number().await.unwrap();
    assert!(deployed > 40, "a block per deployment transaction, got {deployed} blocks");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rpc.block_number().await.unwrap() <= deployed + 1 {
        assert!(tokio::time::Instant::now() < deadline, "anvil does not mine on its own at 1 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let tokens = ready.book.tokens.clone().unwrap().cli;
    let (rollups, app) = (&ready.book.rollups, ready.book.application.app);
    let accounts = rpc.accounts().await.unwrap();
    let alice = account(&accounts, 1);
    let send = |to: Address, data: Vec<u8>, what: &'static str| {
        let rpc = rpc.clone();
        async move {
            let tx = TxRequest { from: alice, to: Some(to), data, ..Default::default() };
            rpc.transact(&tx, what).await.unwrap();
        }
    };
    let (address, uint, bytes) = (ParamType::Address, ParamType::Uint(256), ParamType::Bytes);
    let amount = U256::exp10(18) * 3;
    // ERC-20: approve, deposit.
    send(
        tokens.test_token,
        call("approve", &[address.clone(), uint.clone()], &[Token::Address(rollups.erc20_portal), Token::Uint(amount)]),
        "approve TestToken",
    )
    .await;
    let args = [Token::Address(tokens.test_token), Token::Address(app), Token::Uint(amount), Token::Bytes(vec![])];
    let params = [address.clone(), address.clone(), uint.clone(), bytes.clone()];
    send(rollups.erc20_portal, call("depositERC20Tokens", &params, &args), "deposit TestToken").await;
    // ERC-721: approve, deposit the NFT account 1 was given (id 1).
    send(
        tokens.test_nft,
        call(
            "approve",
            &[address.clone(), uint.clone()],
            &[Token::Address(rollups.erc721_portal), Token::Uint(1.into())],
        ),
        "approve TestNFT",
    )
    .await;
    let args = [
        Token::Address(tokens.test_nft),
        Token::Address(app),
        Token::Uint(1.into()),
        Token::Bytes(vec![]),
        Token::Bytes(vec![]),
    ];
    let params = [address.clone(), address.clone(), uint.clone(), bytes.clone(), bytes.clone()];
    send(rollups.erc721_portal, call("depositERC721Token", &params, &args), "deposit TestNFT").await;
    assert_eq!(owner_of(&rpc, tokens.test_nft, 1).await, app, "the portal moved the NFT to the application");
    // ERC-1155: approve the portal for all, deposit one id.
    send(
        tokens.test_multi_token,
        call(
            "setApprovalForAll",
            &[address.clone(), ParamType::Bool],
            &[Token::Address(rollups.erc1155_single_portal), Token::Bool(true)],
        ),
        "approve TestMultiToken",
    )
    .await;
    let args = [
        Token::Address(tokens.test_multi_token),
        Token::Address(app),
        Token::Uint(U256::zero()),
        Token::Uint(10.into()),
        Token::Bytes(vec![]),
        Token::Bytes(vec![]),
    ];
    let params = [address.clone(), address, uint.clone(), uint, bytes.clone(), bytes];
    send(rollups.erc1155_single_portal, call("depositSingleERC1155Token", &params, &args), "deposit TestMultiToken")
        .await;

    // The backend credited each deposit to account 1 (pending until a block is sealed).
    let alice_hex = format!("{alice:?}");
    for (asset, expected) in [
        (format!("erc20:{:?}", tokens.test_token), amount.to_string()),
        (format!("erc721:{:?}:1", tokens.test_nft), "1".to_owned()),
        (format!("erc1155:{:?}:0", tokens.test_multi_token), "10".to_owned()),
    ] {
        let path = format!("balance/{alice_hex}/{asset}");
        let want = expected.clone();
        let balance = crate::node::inspect_until(&ready, &path, move |r| r["pending"] == want.as_str()).await;
        assert_eq!(balance["pending"], expected, "{asset}: {balance}");
    }
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
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

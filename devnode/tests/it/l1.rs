//! The L1 half against a real anvil (from `devnode/npm/node_modules`) on a free port.
//!
//! Without the npm packages these tests fail, on purpose, with the install command: a skipped
//! test would pass in a checkout that never ran them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use devnode::l1::{
    add_input, checksum, deploy_application, deploy_devnet, deploy_rollups_v1, deposit_ether, write_deployment_files,
    Address, Anvil, AnvilConfig, InputWatcher, L1Error, NodeModules, RollupsV1, Rpc, TxRequest, DEVNET_ACCOUNT_0, U256,
};

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
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("devnode-l1-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
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
    let block = rpc.block_number().await.unwrap();
    let nonce = transaction_count(&rpc, DEVNET_ACCOUNT_0).await;
    assert!(block > 16, "a fresh chain needs transactions, got {block} blocks");

    let second = deploy_devnet(&rpc, &nm, true).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(rpc.block_number().await.unwrap(), block, "the second deployment mined blocks");
    assert_eq!(transaction_count(&rpc, DEVNET_ACCOUNT_0).await, nonce, "the second deployment sent transactions");
}

async fn transaction_count(rpc: &Rpc, of: Address) -> u64 {
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
    let dapp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(localhost.join("dapp.json")).unwrap()).unwrap();
    assert_eq!(dapp["address"].as_str().unwrap(), checksum(book.application.app));
    assert_eq!(dapp["blockNumber"].as_u64().unwrap(), book.application.block_number);
    assert_eq!(dapp["transactionHash"].as_str().unwrap(), format!("{:#x}", book.application.transaction_hash));
    let rendered = book.render();
    assert!(rendered.contains("InputBox") && rendered.contains("0x59b22D57D4f067708AB0c00552767405926dc768"));
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

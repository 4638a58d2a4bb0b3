//! The deployment files the console reads, and the InputBox watcher.

use super::*;

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

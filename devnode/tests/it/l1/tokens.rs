//! The test tokens: minted to the devnet accounts, where Cartesi's CLI devnet has them, and
//! deposited through the portals into the backend.

use super::*;

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

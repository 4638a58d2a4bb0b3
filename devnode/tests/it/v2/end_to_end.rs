//! End to end on anvil: deposits, a transfer, a withdrawal whose voucher executes on L1 once, a
//! notice validated, a tampered proof refused, a rejected input, the JSON-RPC answers with every
//! field @cartesi/rpc reads, error codes and paging, and v2 inspect.

use super::*;

/// The fields of @cartesi/rpc 2.0.0-alpha.25's types (`Application`, `Epoch`, `Input`, `Output`).
const APPLICATION_FIELDS: &[&str] = &[
    "name",
    "iapplication_address",
    "iconsensus_address",
    "iinputbox_address",
    "template_hash",
    "epoch_length",
    "claim_staging_period",
    "withdrawal_config",
    "data_availability",
    "consensus_type",
    "enabled",
    "status",
    "reason",
    "iinputbox_block",
    "last_epoch_check_block",
    "last_input_check_block",
    "last_output_check_block",
    "last_tournament_check_block",
    "last_foreclose_check_block",
    "last_accounts_drive_proved_check_block",
    "last_withdrawal_check_block",
    "processed_inputs",
    "foreclose_block",
    "foreclose_transaction",
    "accounts_drive_proved_block",
    "accounts_drive_proved_transaction",
    "accounts_drive_merkle_root",
    "created_at",
    "updated_at",
    "execution_parameters",
];
const WITHDRAWAL_CONFIG_FIELDS: &[&str] = &[
    "guardian",
    "log2_leaves_per_account",
    "log2_max_num_of_accounts",
    "accounts_drive_start_index",
    "withdrawal_output_builder",
];
const EXECUTION_PARAMETERS_FIELDS: &[&str] = &[
    "snapshot_policy",
    "advance_inc_cycles",
    "advance_max_cycles",
    "inspect_inc_cycles",
    "inspect_max_cycles",
    "advance_inc_deadline",
    "advance_max_deadline",
    "inspect_inc_deadline",
    "inspect_max_deadline",
    "load_deadline",
    "store_deadline",
    "fast_deadline",
    "max_concurrent_inspects",
    "created_at",
    "updated_at",
];
const EPOCH_FIELDS: &[&str] = &[
    "index",
    "first_block",
    "last_block",
    "input_index_lower_bound",
    "input_index_upper_bound",
    "machine_hash",
    "outputs_merkle_root",
    "outputs_merkle_proof",
    "commitment",
    "commitment_proof",
    "claim_transaction_hash",
    "tournament_address",
    "status",
    "staged_at_block",
    "virtual_index",
    "created_at",
    "updated_at",
];
const INPUT_FIELDS: &[&str] = &[
    "epoch_index",
    "index",
    "block_number",
    "raw_data",
    "decoded_data",
    "status",
    "machine_hash",
    "outputs_hash",
    "transaction_hash",
    "log_index",
    "created_at",
    "updated_at",
];
const OUTPUT_FIELDS: &[&str] = &[
    "epoch_index",
    "input_index",
    "index",
    "raw_data",
    "decoded_data",
    "hash",
    "output_hashes_siblings",
    "execution_transaction_hash",
    "created_at",
    "updated_at",
];

/// `object` has every one of `fields` (null where the types allow it).
fn has_fields(object: &Value, fields: &[&str]) {
    let map = object.as_object().unwrap_or_else(|| panic!("not an object: {object}"));
    for field in fields {
        assert!(map.contains_key(*field), "no {field:?} in {object}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_withdrawal_executed_on_l1_notice_validated_and_json_rpc() {
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap();
    let rpc = anvil.rpc();
    let dir = scratch("e2e");
    let mut config = v2_config(&dir, &anvil, 1);
    config.test_tokens = true;
    let node = start_config(config).await;
    let ready = node.ready.clone();
    let book = ready.v2.clone().expect("a v2 node says what it deployed");
    let (rollups, app) = (&book.rollups, book.application.app);
    let alice: Address = CAROL.parse().unwrap();
    let bob: Address = BOB.parse().unwrap();

    // 2.2.0 at its zero-salt addresses; the deployment files say v2.
    assert_eq!(l1::checksum(rollups.input_box), "0x1b51e2992A2755Ba4D6F7094032DF91991a0Cfac");
    assert!(!rpc.get_code(rollups.input_box).await.unwrap().is_empty());
    let files = dir.join("deployments/localhost");
    let info: Value = serde_json::from_str(&std::fs::read_to_string(files.join("rollups.json")).unwrap()).unwrap();
    assert_eq!(info["version"], "2.2.0");
    assert_eq!(info["application"], l1::checksum(app));
    assert_eq!(info["rpc"].as_str(), ready.rpc_api_url.as_deref());
    assert!(files.join("Application.json").is_file() && !files.join("CartesiDApp.json").exists());

    // Inputs: an Ether deposit, an ERC-20 deposit, a transfer, a withdrawal and its block, and a
    // payload the dApp rejects.
    let token = book.tokens.as_ref().unwrap().erc20;
    l1::deposit_ether_v2(&rpc, rollups, alice, app, U256::exp10(18)).await.unwrap();
    l1::deposit_erc20_v2(&rpc, rollups, alice, app, token, U256::from(500)).await.unwrap();
    let transfer = format!(r#"{{"op":"transfer","to":"{BOB}","asset":"ETH","amount":"1000"}}"#);
    l1::add_input_v2(&rpc, rollups, alice, app, transfer.as_bytes()).await.unwrap();
    let withdraw = br#"{"op":"withdraw","asset":"ETH","amount":"250000000000000000"}"#;
    l1::add_input_v2(&rpc, rollups, alice, app, withdraw).await.unwrap();
    let mine = l1::add_input_v2(&rpc, rollups, alice, app, br#"{"op":"mine"}"#).await.unwrap().input_index;
    let rejected = l1::add_input_v2(&rpc, rollups, alice, app, b"not an operation").await.unwrap().input_index;
    wait_processed(&ready, 6).await;

    // The rejected input says so, with its EvmAdvance.
    let input =
        result(&ready, "cartesi_getInput", json!({"application": "ledger", "input_index": format!("{rejected:#x}")}))
            .await;
    assert_eq!(input["data"]["status"], "REJECTED", "{input}");
    assert_eq!(input["data"]["decoded_data"]["payload"], format!("0x{}", hex::encode("not an operation")));
    let advance = l1::EvmAdvance::decode(&bytes(&input["data"]["raw_data"])).unwrap();
    assert_eq!((advance.app, advance.sender, advance.index), (app, alice, rejected));

    // The withdrawal's voucher, in the mine input, executes on L1 with the node's proof.
    let vouchers = result(
        &ready,
        "cartesi_listOutputs",
        json!({"application": l1::checksum(app), "output_type": "0x237a816f", "input_index": format!("{mine:#x}")}),
    )
    .await;
    assert_eq!(vouchers["pagination"]["total_count"], 1, "{vouchers}");
    let voucher = proven(&ready, number(&vouchers["data"][0]["index"])).await;
    assert_eq!(book.application.claimer, l1::DEVNET_CLAIMER);
    assert_eq!(l1::owner_of(&rpc, book.application.authority).await.unwrap(), l1::DEVNET_CLAIMER);
    assert!(crate::l1::transaction_count(&rpc, l1::DEVNET_CLAIMER).await > 0, "the claimer sent the claims");
    assert_eq!(voucher["decoded_data"]["type"], "Voucher", "Cartesi's node names the kind: {voucher}");
    assert_eq!(voucher["decoded_data"]["destination"], l1::checksum(alice));
    assert!(voucher["execution_transaction_hash"].is_null());
    let (raw, index, siblings) = proof_of(&voucher);
    assert!(!l1::was_output_executed(&rpc, app, index).await.unwrap());
    let before = rpc.get_balance(alice).await.unwrap();
    let execute = l1::execute_output_calldata(&raw, index, &siblings);
    let tx = TxRequest { from: bob, to: Some(app), data: execute.clone(), value: U256::zero() };
    let receipt = rpc.transact(&tx, "executeOutput").await.unwrap();
    let after = rpc.get_balance(alice).await.unwrap();
    assert_eq!(after - before, U256::exp10(17) * 25 / 10, "the Ether came back to the withdrawer");
    assert!(l1::was_output_executed(&rpc, app, index).await.unwrap());
    let again = rpc.eth_call(app, &execute).await.unwrap_err().to_string();
    assert!(again.contains(&selector("OutputNotReexecutable(bytes)")), "a second execution: {again}");
    let executed =
        result(&ready, "cartesi_getOutput", json!({"application": "ledger", "output_index": format!("{index:#x}")}))
            .await;
    assert_eq!(executed["data"]["execution_transaction_hash"], format!("{:#x}", receipt.transaction_hash));

    // The block notice of the same input validates; a tampered proof does not.
    let notices = result(
        &ready,
        "cartesi_listOutputs",
        json!({"application": "ledger", "output_type": ["0xc258d6e5"], "input_index": format!("{mine:#x}")}),
    )
    .await;
    let notice = proven(&ready, number(&notices["data"][0]["index"])).await;
    let (raw, index, mut siblings) = proof_of(&notice);
    rpc.eth_call(app, &l1::validate_output_calldata(&raw, index, &siblings)).await.unwrap();
    siblings[3][0] ^= 1;
    let refused =
        rpc.eth_call(app, &l1::validate_output_calldata(&raw, index, &siblings)).await.unwrap_err().to_string();
    assert!(refused.contains(&selector("InvalidOutputsMerkleRoot(bytes32)")), "{refused}");

    // Paging and error codes.
    let page = result(&ready, "cartesi_listInputs", json!({"application": "ledger", "limit": 2, "offset": 1})).await;
    assert_eq!(page["pagination"], json!({"total_count": 6, "limit": 2, "offset": 1}));
    assert_eq!(page["data"].as_array().unwrap().iter().map(|i| i["index"].clone()).collect::<Vec<_>>(), ["0x1", "0x2"]);
    assert_eq!(
        error_code(&ready, "cartesi_getInput", json!({"application": "ledger", "input_index": "0x99"})).await,
        -31001
    );
    assert_eq!(
        error_code(&ready, "cartesi_getInput", json!({"application": "other", "input_index": "0x0"})).await,
        -31002
    );
    assert_eq!(
        error_code(&ready, "cartesi_getInput", json!({"application": "ledger", "input_index": 1})).await,
        -32602
    );
    assert_eq!(error_code(&ready, "cartesi_listInputs", json!({"application": "ledger", "limit": 0})).await, -32602);
    // Unknown params are ignored (@cartesi/viem sends its camelCase keys along); `descending`
    // lists newest first.
    let ignored = result(&ready, "cartesi_listInputs", json!({"application": "ledger", "colour": "red"})).await;
    assert_eq!(ignored["pagination"]["total_count"], 6);
    let newest = result(
        &ready,
        "cartesi_listOutputs",
        json!({"application": "ledger", "outputType": "Voucher", "output_type": "0x237a816f", "descending": true}),
    )
    .await;
    assert_eq!(newest["pagination"]["total_count"], 1, "{newest}");
    assert_eq!(newest["data"][0]["decoded_data"]["type"], "Voucher");
    let all = result(&ready, "cartesi_listOutputs", json!({"application": "ledger", "descending": true})).await;
    let indices: Vec<u64> = all["data"].as_array().unwrap().iter().map(|o| number(&o["index"])).collect();
    assert!(indices.len() >= 2 && indices.windows(2).all(|w| w[0] > w[1]), "outputs newest first: {all}");
    let inputs =
        result(&ready, "cartesi_listInputs", json!({"application": "ledger", "descending": true, "limit": 1})).await;
    assert_eq!(inputs["data"][0]["index"], format!("{rejected:#x}"));
    let by_transaction = result(
        &ready,
        "cartesi_listInputs",
        json!({"application": "ledger", "transaction_hash": input["data"]["transaction_hash"]}),
    )
    .await;
    assert_eq!(by_transaction["data"].as_array().unwrap().len(), 1, "{by_transaction}");
    assert_eq!(by_transaction["data"][0]["index"], format!("{rejected:#x}"));
    assert_eq!(
        error_code(&ready, "cartesi_listEpochs", json!({"application": "ledger", "status": "FINISHED"})).await,
        -32602
    );
    assert_eq!(
        error_code(&ready, "cartesi_listInputs", json!({"application": "ledger", "descending": "yes"})).await,
        -32602
    );

    // Every field @cartesi/rpc's types name is there, so @cartesi/viem's mappers do not throw.
    let application = result(&ready, "cartesi_getApplication", json!({"application": "ledger"})).await;
    has_fields(&application["data"], APPLICATION_FIELDS);
    has_fields(&application["data"]["withdrawal_config"], WITHDRAWAL_CONFIG_FIELDS);
    has_fields(&application["data"]["execution_parameters"], EXECUTION_PARAMETERS_FIELDS);
    assert_eq!(application["data"]["withdrawal_config"]["guardian"], l1::checksum(Address::zero()));
    has_fields(&input["data"], INPUT_FIELDS);
    assert!(input["data"]["log_index"].as_str().is_some_and(|i| i.starts_with("0x")), "{input}");
    has_fields(&executed["data"], OUTPUT_FIELDS);
    assert_eq!(error_code(&ready, "cartesi_nothing", json!({})).await, -32601);
    let batch: Vec<Value> =
        (0..2).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "cartesi_getChainId"})).collect();
    let (_, text) = http("POST", ready.rpc_api_url.as_ref().unwrap(), Some(json!(batch).to_string())).await;
    let answers: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answers[1]["result"]["data"], "0x7a69", "{answers}");
    let too_many: Vec<Value> =
        (0..101).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "cartesi_getChainId"})).collect();
    let (_, text) = http("POST", ready.rpc_api_url.as_ref().unwrap(), Some(json!(too_many).to_string())).await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["error"]["code"], -32600);
    let discover = result(&ready, "rpc.discover", json!({})).await;
    assert!(discover["methods"].as_array().unwrap().iter().any(|m| m["name"] == "cartesi_getOutput"));
    let epochs = result(&ready, "cartesi_listEpochs", json!({"application": "ledger"})).await;
    assert!(epochs["data"].as_array().unwrap().iter().any(|e| e["status"] == "CLAIM_ACCEPTED"), "{epochs}");
    has_fields(&epochs["data"][0], EPOCH_FIELDS);

    // v2 inspect, by name or address; the transfer reached Bob.
    let (status, text) =
        http("POST", &format!("{}/ledger", ready.inspect_url), Some(format!("balance/{BOB}/ETH"))).await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["status"], "Accepted");
    let report: Value = serde_json::from_slice(&bytes(&answer["reports"][0]["payload"])).unwrap();
    assert_eq!(report["confirmed"], "1000", "{report}");
    let by_address = format!("{}/{}", ready.inspect_url, l1::checksum(app));
    assert_eq!(http("POST", &by_address, Some("info".into())).await.0, 200);
    assert_eq!(http("POST", &format!("{}/nobody", ready.inspect_url), Some("info".into())).await.0, 404);
    assert_eq!(http("GET", &format!("{}/ledger", ready.inspect_url), None).await.0, 405);

    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

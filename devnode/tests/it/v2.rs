//! Rollups v2 on the dev node: the outputs tree's reference vector, then end to end on anvil with
//! the real 2.2.0 contracts and the real backend, through the node's JSON-RPC API: deposits, a
//! transfer, a withdrawal whose voucher executes on L1 with `executeOutput` (once), a notice
//! validated with `validateOutput`, a tampered proof refused, a rejected input, the JSON-RPC
//! error codes and paging, v2 inspect, and a restart mid-epoch that claims once.

use std::time::Duration;

use devnode::l1::{self, Address, Anvil, AnvilConfig, NodeModules, Rpc, TxRequest, U256};
use devnode::node::{NodeConfig, Ready};
use devnode::settle::tree::{self, OutputsTree};
use devnode::store::Store;
use serde_json::{json, Value};

use super::node::{backend, config, http, start_config};

const BOB: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
/// The user: devnet account 2 (the node's claims come from its claimer, account 9, whatever the
/// user's account).
const CAROL: &str = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("devnode-v2-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn v2_config(dir: &std::path::Path, anvil: &Anvil, epoch_length: u64) -> NodeConfig {
    let mut config = config(dir, backend());
    config.rpc_url = Some(anvil.url().to_string());
    config.rollups = rollup::wire::RollupsVersion::V2;
    config.epoch_length = epoch_length;
    config
}

#[test]
fn the_outputs_tree_reproduces_the_reference_vector() {
    let account: Address = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".parse().unwrap();
    let mut tree = OutputsTree::new();
    tree.push(tree::keccak(&tree::voucher(account, U256::exp10(18), &[0xde, 0xad, 0xbe, 0xef])));
    tree.push(tree::keccak(&tree::notice(b"hello")));
    tree.push(tree::keccak(&tree::delegate_call_voucher(account, &[1, 2])));
    assert_eq!(hex::encode(tree.root()), "3281f314530b7617e23ce7d5782c47d880d91e1d350dc74b7772367f817a714e");
    let siblings = tree.siblings(1).unwrap();
    assert_eq!(tree::root_of(tree::keccak(&tree::notice(b"hello")), 1, &siblings), Some(tree.root()));
}

/// One JSON-RPC call; the whole response.
async fn rpc_call(ready: &Ready, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (status, text) = http("POST", ready.rpc_api_url.as_ref().unwrap(), Some(body)).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A call that must succeed: its `result`.
async fn result(ready: &Ready, method: &str, params: Value) -> Value {
    let answer = rpc_call(ready, method, params).await;
    assert!(answer["error"].is_null(), "{method}: {answer}");
    answer["result"].clone()
}

async fn error_code(ready: &Ready, method: &str, params: Value) -> i64 {
    let answer = rpc_call(ready, method, params).await;
    answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("{method} did not fail: {answer}"))
}

async fn wait_processed(ready: &Ready, count: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let n = result(ready, "cartesi_getProcessedInputCount", json!({"application": "ledger"})).await;
        if n["data"] == format!("{count:#x}") {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{n} inputs processed, waiting for {count}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until output `index` has its siblings (its epoch's claim is accepted).
async fn proven(ready: &Ready, index: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let output =
            result(ready, "cartesi_getOutput", json!({"application": "ledger", "output_index": format!("{index:#x}")}))
                .await;
        if output["data"]["output_hashes_siblings"].is_array() {
            return output["data"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no proof for output {index}: {output}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(&v.as_str().unwrap()[2..]).unwrap()
}

fn number(v: &Value) -> u64 {
    u64::from_str_radix(&v.as_str().unwrap()[2..], 16).unwrap()
}

/// `(raw_data, index, siblings)` of an output from the JSON-RPC API.
fn proof_of(output: &Value) -> (Vec<u8>, u64, Vec<[u8; 32]>) {
    let siblings = output["output_hashes_siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| bytes(s).try_into().unwrap())
        .collect::<Vec<[u8; 32]>>();
    assert_eq!(siblings.len(), 63);
    (bytes(&output["raw_data"]), number(&output["index"]), siblings)
}

fn selector(signature: &str) -> String {
    hex::encode(&l1::keccak256(signature.as_bytes()).as_bytes()[..4])
}

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

async fn submitted_claims(rpc: &Rpc, authority: Address) -> u64 {
    let data = ethabi::short_signature("getNumberOfSubmittedClaims", &[]).to_vec();
    let answer = rpc.eth_call(authority, &data).await.unwrap();
    U256::from_big_endian(&answer).as_u64()
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
    assert!(super::l1::transaction_count(&rpc, l1::DEVNET_CLAIMER).await > 0, "the claimer sent the claims");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_epoch_claims_once_and_proofs_still_verify() {
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap();
    let rpc = anvil.rpc();
    let dir = scratch("restart");
    let epoch_length = 50;
    let node = start_config(v2_config(&dir, &anvil, epoch_length)).await;
    let ready = node.ready.clone();
    let book = ready.v2.clone().unwrap();
    let (rollups, app, authority) = (&book.rollups, book.application.app, book.application.authority);
    // Start the inputs at the beginning of an epoch, so that the restart happens inside it.
    let head = rpc.block_number().await.unwrap();
    let to_next = epoch_length - (head + 1) % epoch_length;
    rpc.call("anvil_mine", json!([format!("{to_next:#x}")])).await.unwrap();
    for payload in [&br#"{"op":"mine"}"#[..], b"nope", br#"{"op":"mine"}"#] {
        l1::add_input_v2(&rpc, rollups, CAROL.parse().unwrap(), app, payload).await.unwrap();
    }
    wait_processed(&ready, 3).await;
    assert_eq!(submitted_claims(&rpc, authority).await, 0, "the epoch is still open");
    node.stop().await.unwrap();

    // The epoch ends while the node is down; the restarted node claims it once.
    rpc.call("anvil_mine", json!([format!("{epoch_length:#x}")])).await.unwrap();
    let node = start_config(v2_config(&dir, &anvil, epoch_length)).await;
    let ready = node.ready.clone();
    let notice = proven(&ready, 1).await;
    assert_eq!(submitted_claims(&rpc, authority).await, 1);
    node.stop().await.unwrap();

    // As if killed between submitting the claim and recording it: L1 has it, so no second one,
    // and the claim's transaction is taken from L1.
    let store = Store::open(&dir.join("data/devnode.sqlite3")).unwrap();
    let claim = store.claims_v2().unwrap().pop().unwrap();
    let transaction = claim.transaction_hash.expect("the node recorded its claim's transaction");
    drop(store);
    let conn = rusqlite::Connection::open(dir.join("data/devnode.sqlite3")).unwrap();
    conn.execute("UPDATE v2_claims SET submitted = 0, transaction_hash = NULL", []).unwrap();
    drop(conn);
    let node = start_config(v2_config(&dir, &anvil, epoch_length)).await;
    let ready = node.ready.clone();
    let again = proven(&ready, 1).await;
    assert_eq!(again["output_hashes_siblings"], notice["output_hashes_siblings"]);
    assert_eq!(submitted_claims(&rpc, authority).await, 1, "no claim was submitted twice");
    let epoch = result(
        &ready,
        "cartesi_getEpoch",
        json!({"application": "ledger", "epoch_index": format!("{:#x}", claim.epoch)}),
    )
    .await;
    assert_eq!(epoch["data"]["claim_transaction_hash"], format!("0x{}", hex::encode(transaction)), "{epoch}");
    let (raw, index, siblings) = proof_of(&again);
    rpc.eth_call(app, &l1::validate_output_calldata(&raw, index, &siblings)).await.unwrap();
    node.stop().await.unwrap();

    // Another epoch length is another application: the data directory refuses it.
    let mut other = v2_config(&dir, &anvil, epoch_length + 1);
    other.data_dir = dir.join("data");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let listeners = devnode::node::Listeners::bind(any, any, any).await.unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let error = devnode::node::run(other, listeners, None, stopped).await.unwrap_err().to_string();
    assert!(error.contains("holds the inputs of application") && error.contains("--data-dir"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The store numbers v2 outputs across the application (accepted inputs only) and reports across
/// every input, keeps delegate-call vouchers, filters by kind and destination, and forgets a
/// claim and its siblings with the inputs it covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_l1_lost_is_made_again_over_the_epoch_s_inputs_on_the_new_chain() {
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap();
    let rpc = anvil.rpc();
    let dir = scratch("lost-claim");
    let epoch_length = 20;
    let node = start_config(v2_config(&dir, &anvil, epoch_length)).await;
    let ready = node.ready.clone();
    let book = ready.v2.clone().unwrap();
    let (rollups, app, authority) = (&book.rollups, book.application.app, book.application.authority);
    // The user is account 0, the console's default: the node's claims come from its own account.
    let user = l1::DEVNET_ACCOUNT_0;
    let head = rpc.block_number().await.unwrap();
    let to_next = epoch_length - (head + 1) % epoch_length;
    rpc.call("anvil_mine", json!([format!("{to_next:#x}")])).await.unwrap();

    // Input 0, then the epoch ends and is claimed; L1 goes back to just after input 0.
    l1::add_input_v2(&rpc, rollups, user, app, br#"{"op":"mine"}"#).await.unwrap();
    let snapshot = rpc.call("evm_snapshot", json!([])).await.unwrap();
    wait_processed(&ready, 1).await;
    rpc.call("anvil_mine", json!([format!("{epoch_length:#x}")])).await.unwrap();
    proven(&ready, 0).await;
    assert_eq!(submitted_claims(&rpc, authority).await, 1);
    rpc.call("evm_revert", json!([snapshot])).await.unwrap();
    assert_eq!(submitted_claims(&rpc, authority).await, 0, "L1 lost the claim");

    // Input 1 lands in the same epoch on the new chain; the epoch's one claim covers both.
    let second = l1::add_input_v2(&rpc, rollups, user, app, br#"{"op":"mine"}"#).await.unwrap();
    wait_processed(&ready, 2).await;
    rpc.call("anvil_mine", json!([format!("{epoch_length:#x}")])).await.unwrap();
    let outputs = result(&ready, "cartesi_listOutputs", json!({"application": "ledger"})).await;
    let count = outputs["pagination"]["total_count"].as_u64().unwrap();
    assert!(count >= 2, "{outputs}");
    let last = proven(&ready, count - 1).await;
    assert_eq!(number(&last["input_index"]), second.input_index);
    for index in 0..count {
        let output = proven(&ready, index).await;
        let (raw, index, siblings) = proof_of(&output);
        rpc.eth_call(app, &l1::validate_output_calldata(&raw, index, &siblings)).await.unwrap();
    }
    assert_eq!(submitted_claims(&rpc, authority).await, 1, "one claim for the epoch on the new chain");
    let epochs = result(&ready, "cartesi_listEpochs", json!({"application": "ledger"})).await;
    assert_eq!(epochs["data"].as_array().unwrap().len(), 1, "{epochs}");
    assert_eq!(epochs["data"][0]["input_index_upper_bound"], "0x2", "{epochs}");
    assert_eq!(epochs["data"][0]["status"], "CLAIM_ACCEPTED", "{epochs}");
    let (status, health) =
        http("GET", &format!("{}/healthz", ready.rpc_api_url.as_ref().unwrap().trim_end_matches("/rpc")), None).await;
    assert_eq!(status, 200, "the node is healthy: {health}");

    // With L1 down, outputs are still served from the store, without their executions.
    anvil.stop().await;
    let output = result(&ready, "cartesi_getOutput", json!({"application": "ledger", "output_index": "0x0"})).await;
    assert!(output["data"]["execution_transaction_hash"].is_null(), "{output}");
    assert!(output["data"]["output_hashes_siblings"].is_array(), "{output}");
    let listed = result(&ready, "cartesi_listOutputs", json!({"application": "ledger"})).await;
    assert_eq!(listed["pagination"]["total_count"], count);
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn outputs_are_numbered_across_the_application_and_claims_follow_rollbacks() {
    use devnode::settle::v2::output_bytes;
    use devnode::store::{ClaimV2, InputRecord, InputStatus, L1Origin, OutputFilterV2, OutputKind};
    use rollup::wire::{DelegateCallVoucher, HexBytes, Output, Voucher};

    let store = Store::open_in_memory().unwrap();
    let record = |index: u64| InputRecord {
        index,
        msg_sender: ledger::Address([0x22; 20]),
        payload: vec![index as u8],
        block_number: 10 + index,
        timestamp: 1_700_000_000,
        origin: L1Origin { block_hash: [index as u8; 32], transaction_hash: [1; 32], log_index: 0 },
    };
    let to = ledger::Address([0xab; 20]);
    let delegate = Output::DelegateCallVoucher(DelegateCallVoucher { destination: to, payload: HexBytes(vec![1, 2]) });
    let voucher = Output::Voucher(Voucher {
        destination: to,
        value: Some(HexBytes::u256(7u64.into())),
        payload: HexBytes(vec![]),
    });
    for i in 0..3 {
        store.add_input_v2(&record(i), [i as u8; 32]).unwrap();
    }
    store
        .complete(
            0,
            InputStatus::Accepted,
            None,
            &[Output::Notice(b"a".to_vec()), Output::Report(b"r0".to_vec()), delegate.clone()],
        )
        .unwrap();
    store.complete(1, InputStatus::Rejected, None, &[Output::Report(b"r1".to_vec())]).unwrap();
    store.complete(2, InputStatus::Accepted, None, &[voucher.clone(), Output::Notice(b"b".to_vec())]).unwrap();
    assert_eq!(store.prev_randao(2).unwrap(), Some([2; 32]));
    assert_eq!(store.outputs_before(2).unwrap(), 2);

    let all = |filter: OutputFilterV2| {
        let (total, page) = store.outputs_v2(&filter, 100, 0, false).unwrap();
        assert_eq!(total as usize, page.len());
        page.into_iter().map(|o| (o.index, o.input_index, o.output)).collect::<Vec<_>>()
    };
    assert_eq!(
        all(OutputFilterV2::default()),
        vec![
            (0, 0, Output::Notice(b"a".to_vec())),
            (1, 0, delegate.clone()),
            (2, 2, voucher.clone()),
            (3, 2, Output::Notice(b"b".to_vec()))
        ]
    );
    let kinds = |k: Vec<OutputKind>| OutputFilterV2 { kinds: Some(k), ..Default::default() };
    assert_eq!(all(kinds(vec![OutputKind::DelegateCallVoucher])).len(), 1);
    assert_eq!(all(kinds(vec![OutputKind::Voucher, OutputKind::Notice])).len(), 3);
    let to_ab = OutputFilterV2 { voucher_address: Some(to), ..Default::default() };
    assert_eq!(all(to_ab).iter().map(|o| o.0).collect::<Vec<_>>(), [1, 2]);
    let (total, page) = store.outputs_v2(&OutputFilterV2::default(), 2, 1, false).unwrap();
    assert_eq!((total, page.iter().map(|o| o.index).collect::<Vec<_>>()), (4, vec![1, 2]));
    assert_eq!(
        output_bytes(&delegate).unwrap(),
        tree::delegate_call_voucher(Address::from(to.0), &[1, 2]),
        "a delegate-call voucher is hashed as the contracts encode it"
    );
    let (reports, page) = store.reports_v2(None, 10, 0, false).unwrap();
    assert_eq!((reports, page[1].index, page[1].input_index, page[1].payload.clone()), (2, 1, 1, b"r1".to_vec()));

    // A claim over inputs 0..=2 with the siblings of its outputs; dropping input 2 drops it.
    let mut tree = OutputsTree::new();
    for (_, _, o) in all(OutputFilterV2::default()) {
        tree.push(tree::keccak(&output_bytes(&o).unwrap()));
    }
    let claim = ClaimV2 {
        epoch: 0,
        last_block: 12,
        input_count: 3,
        output_count: 4,
        root: tree.root(),
        submitted: false,
        transaction_hash: None,
    };
    let siblings: Vec<_> = (0..4).map(|i| (i, tree.siblings(i).unwrap())).collect();
    assert!(store.add_claim_v2(&claim, &siblings).unwrap());
    assert_eq!(store.proof_v2(2).unwrap(), None, "no proof before L1 accepts the claim");
    store.set_claim_v2_submitted(0, true, Some([9; 32])).unwrap();
    assert_eq!(store.proof_v2(2).unwrap(), Some((0, siblings[2].1.clone())));
    assert!(store.add_claim_v2(&claim, &siblings).is_err(), "a claim does not follow itself");
    store.truncate(2).unwrap();
    assert_eq!(store.claims_v2().unwrap(), vec![]);
    assert_eq!(store.proof_v2(0).unwrap(), None);
    assert_eq!(store.prev_randao(2).unwrap(), None);

    // A claim computed before a rollback is refused, and nothing is recorded: its input 2 is
    // gone, then back but unprocessed, then processed with other outputs.
    assert!(!store.add_claim_v2(&claim, &siblings).unwrap(), "a claim over a dropped input");
    store.add_input_v2(&record(2), [2; 32]).unwrap();
    assert!(!store.add_claim_v2(&claim, &siblings).unwrap(), "a claim over an unprocessed input");
    store.complete(2, InputStatus::Accepted, None, std::slice::from_ref(&voucher)).unwrap();
    assert!(!store.add_claim_v2(&claim, &siblings).unwrap(), "a claim over another count of outputs");
    assert_eq!(store.claims_v2().unwrap(), vec![]);
    assert_eq!(store.proof_v2(0).unwrap(), None);
}

//! Claims across a restart mid-epoch (made once, proofs still verify) and a claim L1 lost (made
//! again over the epoch's inputs on the new chain).

use super::*;

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

/// An input whose block is L1's head, with nothing sent after it: its epoch (of one block) ends
/// with that block, and the claim, whose own transaction lands in the next block, needs no other
/// traffic. (A node that waited for L1 to pass the epoch's end waited here for ever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_input_is_claimed_without_further_l1_traffic() {
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap();
    let rpc = anvil.rpc();
    let dir = scratch("quiet-head");
    let node = start_config(v2_config(&dir, &anvil, 1)).await;
    let ready = node.ready.clone();
    let book = ready.v2.clone().unwrap();
    let (rollups, app) = (&book.rollups, book.application.app);
    l1::add_input_v2(&rpc, rollups, CAROL.parse().unwrap(), app, br#"{"op":"mine"}"#).await.unwrap();
    let input_block = rpc.block_number().await.unwrap();
    wait_processed(&ready, 1).await;
    let notice = proven(&ready, 0).await;
    assert_eq!(notice["epoch_index"], format!("{input_block:#x}"), "{notice}");
    node.stop().await.unwrap();
}

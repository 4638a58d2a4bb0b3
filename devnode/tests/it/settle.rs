//! Settlement end to end on anvil with the real Rollups v1 contracts and the real backend: an
//! Ether withdrawal's voucher executes on L1, a block notice validates, an altered proof is
//! refused, a claim is submitted once across restarts, and a validator agrees with the claims or
//! reports the first disagreement.

use std::time::Duration;

use devnode::l1::{self, Address, Anvil, AnvilConfig, NodeModules, Rpc, TxRequest, H256, U256};
use devnode::node::Ready;
use devnode::settle::merkle::Validity;
use devnode::settle::{execute_voucher_calldata, validate_notice_calldata};
use devnode::store::Store;
use ethabi::{ParamType, Token};
use serde_json::Value;

use super::node::{backend, config, graphql, start_config, wait_processed};

const BOB: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

fn scratch(tag: &str) -> std::path::PathBuf {
    testkit::scratch_dir("devnode-settle", tag)
}

fn on_chain(dir: &std::path::Path, anvil: &Anvil) -> devnode::node::NodeConfig {
    let mut config = config(dir, backend());
    config.rpc_url = Some(anvil.url().to_string());
    config
}

fn call(name: &str, params: &[ParamType], args: &[Token]) -> Vec<u8> {
    let mut data = ethabi::short_signature(name, params).to_vec();
    data.extend(ethabi::encode(args));
    data
}

async fn send_input(ready: &Ready, payload: &[u8]) -> u64 {
    let rpc = Rpc::new(&ready.rpc_url).unwrap();
    l1::add_input(&rpc, &ready.book.rollups, l1::DEVNET_ACCOUNT_0, ready.book.application.app, payload)
        .await
        .unwrap()
        .input_index
}

fn hash(v: &Value) -> [u8; 32] {
    hex::decode(&v.as_str().unwrap()[2..]).unwrap().try_into().unwrap()
}

/// The contract's proof from GraphQL's `proof` object.
fn validity(proof: &Value) -> (Validity, u64) {
    let v = &proof["validity"];
    let list = |k: &str| v[k].as_array().unwrap().iter().map(hash).collect::<Vec<_>>();
    let validity = Validity {
        input_index_within_epoch: v["inputIndexWithinEpoch"].as_u64().unwrap(),
        output_index_within_input: v["outputIndexWithinInput"].as_u64().unwrap(),
        output_hashes_root_hash: hash(&v["outputHashesRootHash"]),
        vouchers_epoch_root_hash: hash(&v["vouchersEpochRootHash"]),
        notices_epoch_root_hash: hash(&v["noticesEpochRootHash"]),
        machine_state_hash: hash(&v["machineStateHash"]),
        output_hash_in_output_hashes_siblings: list("outputHashInOutputHashesSiblings"),
        output_hashes_in_epoch_siblings: list("outputHashesInEpochSiblings"),
    };
    let context = hex::decode(&proof["context"].as_str().unwrap()[2..]).unwrap();
    let claim = U256::from_big_endian(&context).as_u64();
    (validity, claim)
}

const PROOF: &str = "proof { validity { inputIndexWithinEpoch outputIndexWithinInput outputHashesRootHash vouchersEpochRootHash noticesEpochRootHash machineStateHash outputHashInOutputHashesSiblings outputHashesInEpochSiblings } context }";

/// Waits until the `index`-th output of `kind` ("voucher" or "notice") of `input` has a proof.
async fn proven(ready: &Ready, kind: &str, input: u64, index: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = graphql(
            ready,
            &format!(
                "{{ {kind}(inputIndex: {input}, {kind}Index: {index}) {{ payload {} {PROOF} }} }}",
                if kind == "voucher" { "destination" } else { "" }
            ),
        )
        .await;
        let output = &v["data"][kind];
        if !output["proof"].is_null() {
            return output.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no proof for {kind} {index} of input {input}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bytes_of(v: &Value) -> Vec<u8> {
    hex::decode(&v.as_str().unwrap()[2..]).unwrap()
}

async fn claims_on_chain(rpc: &Rpc, ready: &Ready) -> u64 {
    let mut n = 0;
    while l1::get_claim(rpc, ready.book.application.authority, ready.book.application.app, n).await.unwrap().is_some() {
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_executes_on_l1_and_a_notice_validates() {
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap();
    let rpc = anvil.rpc();
    let dir = scratch("withdraw");
    let node = start_config(on_chain(&dir, &anvil)).await;
    let ready = node.ready.clone();
    let (rollups, app, alice) = (&ready.book.rollups, ready.book.application.app, l1::DEVNET_ACCOUNT_0);
    let bob: Address = BOB.parse().unwrap();

    l1::deposit_ether(&rpc, rollups, alice, app, U256::exp10(18), b"").await.unwrap();
    let relay = call("relayDAppAddress", &[ParamType::Address], &[Token::Address(app)]);
    rpc.transact(
        &TxRequest { from: alice, to: Some(rollups.dapp_address_relay), data: relay, value: U256::zero() },
        "relay",
    )
    .await
    .unwrap();
    send_input(&ready, br#"{"op":"withdraw","asset":"ETH","amount":"250000000000000000"}"#).await;
    let mine = send_input(&ready, br#"{"op":"mine"}"#).await;
    wait_processed(&ready, 4).await;

    // The voucher (withdrawEther on the application) executes with the node's proof.
    let voucher = proven(&ready, "voucher", mine, 0).await;
    assert!(
        crate::l1::transaction_count(&rpc, l1::DEVNET_CLAIMER).await > 0,
        "the claims come from the claimer, devnet account 9"
    );
    let (proof, claim) = validity(&voucher["proof"]);
    let destination: Address = voucher["destination"].as_str().unwrap().parse().unwrap();
    let payload = bytes_of(&voucher["payload"]);
    assert_eq!(destination, app);
    let execute = execute_voucher_calldata(destination, &payload, &proof, claim);
    let before = rpc.get_balance(alice).await.unwrap();
    let tx = TxRequest { from: bob, to: Some(app), data: execute.clone(), value: U256::zero() };
    rpc.transact(&tx, "executeVoucher").await.unwrap();
    let after = rpc.get_balance(alice).await.unwrap();
    assert_eq!(after - before, U256::exp10(17) * 25 / 10, "the Ether came back to the withdrawer");
    let executed = call(
        "wasVoucherExecuted",
        &[ParamType::Uint(256), ParamType::Uint(256)],
        &[Token::Uint(mine.into()), Token::Uint(0.into())],
    );
    assert_eq!(rpc.eth_call(app, &executed).await.unwrap(), ethabi::encode(&[Token::Bool(true)]));
    let again = rpc.transact(&tx, "executeVoucher again").await;
    assert!(again.is_err(), "a voucher executes once");

    // The block notice of the same input validates; with one sibling altered it does not.
    let notice = proven(&ready, "notice", mine, 0).await;
    let (proof, claim) = validity(&notice["proof"]);
    let payload = bytes_of(&notice["payload"]);
    let answer = rpc.eth_call(app, &validate_notice_calldata(&payload, &proof, claim)).await.unwrap();
    assert_eq!(answer, ethabi::encode(&[Token::Bool(true)]));
    let mut altered = proof.clone();
    altered.output_hashes_in_epoch_siblings[0][31] ^= 1;
    assert!(rpc.eth_call(app, &validate_notice_calldata(&payload, &altered, claim)).await.is_err());

    // The readiness answer describes settlement.
    let settlement = ready.health.to_json()["settlement"].clone();
    assert_eq!(settlement["mode"], "claim");
    assert_eq!(settlement["last_claimed_input"], mine);
    node.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_submitted_once_across_restarts_and_a_validator_checks_them() {
    let anvil = Anvil::start(&AnvilConfig::new(NodeModules::in_source_tree(), 0)).await.unwrap();
    let rpc = anvil.rpc();
    let dir = scratch("once");
    let node = start_config(on_chain(&dir, &anvil)).await;
    let ready = node.ready.clone();
    for payload in [&br#"{"op":"mine"}"#[..], b"not an operation", br#"{"op":"mine"}"#] {
        send_input(&ready, payload).await;
    }
    wait_processed(&ready, 3).await;
    let notice = proven(&ready, "notice", 2, 0).await;
    let claims = claims_on_chain(&rpc, &ready).await;
    assert!(claims >= 1);
    node.stop().await.unwrap();

    // As if the node had been killed between submitting its last claim and recording it.
    let store = Store::open(&dir.join("data/devnode.sqlite3")).unwrap();
    let last = store.claims().unwrap().last().unwrap().index;
    store.set_submitted(last, false).unwrap();
    drop(store);
    let node = start_config(on_chain(&dir, &anvil)).await;
    let ready = node.ready.clone();
    let again = proven(&ready, "notice", 2, 0).await;
    assert_eq!(again, notice, "the same proof after the restart");
    assert_eq!(claims_on_chain(&rpc, &ready).await, claims, "no claim was submitted twice");
    let (proof, claim) = validity(&again["proof"]);
    let payload = bytes_of(&again["payload"]);
    let app = ready.book.application.app;
    assert!(rpc.eth_call(app, &validate_notice_calldata(&payload, &proof, claim)).await.is_ok());

    // A validator on the same chain agrees with every claim.
    let validator_dir = scratch("validator");
    let mut validator = on_chain(&validator_dir, &anvil);
    validator.validate = true;
    let validator = start_config(validator).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let settlement = validator.ready.health.to_json()["settlement"].clone();
        if settlement["agreed"] == claims {
            assert_eq!(settlement["disagreement"], Value::Null);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{settlement}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A claim with a wrong epoch hash, made by someone else, is a disagreement said loudly.
    node.stop().await.unwrap();
    let input = send_input(&validator.ready, br#"{"op":"mine"}"#).await;
    let wrong = l1::Claim { epoch_hash: H256::repeat_byte(0xbd), first_input: input, last_input: input };
    let application = &validator.ready.book.application;
    l1::submit_claim(&rpc, application.authority, application.claimer, application.app, wrong).await.unwrap();
    let reason = super::follow::failure(&validator.ready).await;
    assert!(reason.contains(&format!("inputs {input}..={input}")) && reason.contains("0xbdbd"), "{reason}");
    assert!(validator.ready.health.to_json()["settlement"]["disagreement"].is_string());
    assert!(validator.stop().await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&validator_dir);
}

//! Withdrawal vouchers (reference §9 and §2.3), byte-exact against hand-built calldata, and
//! their JSON bodies.

use ledger::{Address, Asset, U256};
use rollup::{withdrawal_voucher, HexBytes, RollupsVersion, Voucher};
use serde_json::{json, Value};
use testkit::hex::{addr, cat, word as u, DISTINCT, ONE_ETHER, W0, W1, W5, W7, W_3E8, W_A0};

const V1: RollupsVersion = RollupsVersion::V1;
const V2: RollupsVersion = RollupsVersion::V2;

const DAPP: &str = "ab7528bb862fb57e8a2bcd567a2e929a0be56a5e";
const RECEIVER: &str = "70997970c51812dc3a010c7d01b50e0d17dc79c8";
const TOKEN: &str = "5fbdb2315678afecb367f032d93f642f64180aa3";

/// Address words: 12 zero bytes, then the address.
const DAPP_WORD: &str = "000000000000000000000000ab7528bb862fb57e8a2bcd567a2e929a0be56a5e";
const RECEIVER_WORD: &str = "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8";

fn voucher(version: RollupsVersion, asset: Asset, amount: U256) -> Voucher {
    withdrawal_voucher(version, addr(DAPP), addr(RECEIVER), &asset, amount).expect("a withdrawable asset")
}

/// The serialized body must have exactly these keys and string values.
#[track_caller]
fn assert_json(v: &Voucher, expected: Value) {
    let body = serde_json::to_value(v).expect("a voucher serializes");
    assert_eq!(body, expected);
    let text = serde_json::to_string(v).expect("a voucher serializes");
    assert_eq!(text, text.to_lowercase(), "hex in the body must be lower-case: {text}");
    if let Some(value) = body.get("value") {
        let value = value.as_str().expect("value is a string");
        assert_eq!(value.len(), 66, "value must be 0x + 64 digits: {value}");
    }
}

fn zero_value() -> String {
    format!("0x{W0}")
}

#[test]
fn erc20_voucher_calls_transfer_on_the_token() {
    // transfer(address,uint256) = 0xa9059cbb; to = receiver, amount = 1000.
    let payload = cat(&["a9059cbb", RECEIVER_WORD, W_3E8]);
    assert_eq!(payload.len(), 68);
    let asset = Asset::Erc20(addr(TOKEN));

    let v1 = voucher(V1, asset, U256::from(1000));
    assert_eq!(v1, Voucher { destination: addr(TOKEN), value: None, payload: HexBytes(payload.clone()) });
    assert_json(&v1, json!({"destination": format!("0x{TOKEN}"), "payload": format!("0x{}", hex::encode(&payload))}));

    let v2 = voucher(V2, asset, U256::from(1000));
    assert_eq!(v2, Voucher { destination: addr(TOKEN), value: Some(HexBytes(cat(&[W0]))), payload: HexBytes(payload) });
    assert_json(
        &v2,
        json!({
            "destination": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "value": zero_value(),
            "payload": "0xa9059cbb00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c800000000000000000000000000000000000000000000000000000000000003e8",
        }),
    );
}

#[test]
fn erc20_voucher_amount_is_big_endian_and_full_width() {
    let asset = Asset::Erc20(addr(TOKEN));
    for version in [V1, V2] {
        let v = voucher(version, asset, u(DISTINCT));
        assert_eq!(v.payload.0, cat(&["a9059cbb", RECEIVER_WORD, DISTINCT]));
        let v = voucher(version, asset, U256::MAX);
        assert_eq!(v.payload.0, cat(&["a9059cbb", RECEIVER_WORD, &"ff".repeat(32)]));
    }
}

#[test]
fn erc721_voucher_calls_safe_transfer_from_the_dapp() {
    // safeTransferFrom(address,address,uint256) = 0x42842e0e; from = dApp, to = receiver, id = 7.
    let payload = cat(&["42842e0e", DAPP_WORD, RECEIVER_WORD, W7]);
    assert_eq!(payload.len(), 100);
    let asset = Asset::Erc721(addr(TOKEN), U256::from(7));

    let v1 = voucher(V1, asset, U256::one());
    assert_eq!(v1, Voucher { destination: addr(TOKEN), value: None, payload: HexBytes(payload.clone()) });
    assert_json(&v1, json!({"destination": format!("0x{TOKEN}"), "payload": format!("0x{}", hex::encode(&payload))}));

    let v2 = voucher(V2, asset, U256::one());
    assert_eq!(v2, Voucher { destination: addr(TOKEN), value: Some(HexBytes(cat(&[W0]))), payload: HexBytes(payload) });
    assert_json(
        &v2,
        json!({
            "destination": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "value": zero_value(),
            "payload": "0x42842e0e000000000000000000000000ab7528bb862fb57e8a2bcd567a2e929a0be56a5e00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c80000000000000000000000000000000000000000000000000000000000000007",
        }),
    );

    // A wide token id is encoded whole.
    let v = voucher(V2, Asset::Erc721(addr(TOKEN), u(DISTINCT)), U256::one());
    assert_eq!(v.payload.0, cat(&["42842e0e", DAPP_WORD, RECEIVER_WORD, DISTINCT]));
}

#[test]
fn erc1155_voucher_calls_safe_transfer_from_with_empty_data() {
    // safeTransferFrom(address,address,uint256,uint256,bytes) = 0xf242432a;
    // from = dApp, to = receiver, id = 7, amount = 5, data = "" (offset 0xa0, then length 0).
    let payload = cat(&["f242432a", DAPP_WORD, RECEIVER_WORD, W7, W5, W_A0, W0]);
    assert_eq!(payload.len(), 4 + 6 * 32);
    let asset = Asset::Erc1155(addr(TOKEN), U256::from(7));

    let v1 = voucher(V1, asset, U256::from(5));
    assert_eq!(v1, Voucher { destination: addr(TOKEN), value: None, payload: HexBytes(payload.clone()) });
    assert_json(&v1, json!({"destination": format!("0x{TOKEN}"), "payload": format!("0x{}", hex::encode(&payload))}));

    let v2 = voucher(V2, asset, U256::from(5));
    assert_eq!(v2, Voucher { destination: addr(TOKEN), value: Some(HexBytes(cat(&[W0]))), payload: HexBytes(payload) });
    assert_json(
        &v2,
        json!({
            "destination": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "value": zero_value(),
            "payload": concat!(
                "0xf242432a",
                "000000000000000000000000ab7528bb862fb57e8a2bcd567a2e929a0be56a5e",
                "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
                "0000000000000000000000000000000000000000000000000000000000000007",
                "0000000000000000000000000000000000000000000000000000000000000005",
                "00000000000000000000000000000000000000000000000000000000000000a0",
                "0000000000000000000000000000000000000000000000000000000000000000",
            ),
        }),
    );
}

#[test]
fn ether_v1_voucher_calls_withdraw_ether_on_the_dapp() {
    // withdrawEther(address,uint256) = 0x522f6815 on the dApp contract itself; no value.
    let payload = cat(&["522f6815", RECEIVER_WORD, ONE_ETHER]);
    let v = voucher(V1, Asset::Eth, U256::from(1_000_000_000_000_000_000u64));
    assert_eq!(v, Voucher { destination: addr(DAPP), value: None, payload: HexBytes(payload) });
    assert_json(
        &v,
        json!({
            "destination": "0xab7528bb862fb57e8a2bcd567a2e929a0be56a5e",
            "payload": "0x522f681500000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c80000000000000000000000000000000000000000000000000de0b6b3a7640000",
        }),
    );
}

#[test]
fn ether_v2_voucher_pays_the_receiver_with_value_and_no_payload() {
    let v = voucher(V2, Asset::Eth, U256::from(1_000_000_000_000_000_000u64));
    assert_eq!(
        v,
        Voucher { destination: addr(RECEIVER), value: Some(HexBytes(cat(&[ONE_ETHER]))), payload: HexBytes(vec![]) }
    );
    assert_json(
        &v,
        json!({
            "destination": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "value": "0x0000000000000000000000000000000000000000000000000de0b6b3a7640000",
            "payload": "0x",
        }),
    );

    // Full-width values: every byte distinct, and the maximum.
    let v = voucher(V2, Asset::Eth, u(DISTINCT));
    assert_eq!(serde_json::to_value(&v).unwrap()["value"], format!("0x{DISTINCT}"));
    let v = voucher(V2, Asset::Eth, U256::MAX);
    assert_json(
        &v,
        json!({"destination": format!("0x{RECEIVER}"), "value": format!("0x{}", "f".repeat(64)), "payload": "0x"}),
    );
    // A small value is still the full 66-character form (NoNodo v2 insists on it).
    let v = voucher(V2, Asset::Eth, U256::one());
    assert_json(&v, json!({"destination": format!("0x{RECEIVER}"), "value": format!("0x{W1}"), "payload": "0x"}));
}

#[test]
fn coin_has_no_voucher() {
    for version in [V1, V2] {
        assert_eq!(withdrawal_voucher(version, addr(DAPP), addr(RECEIVER), &Asset::Coin, U256::from(5)), None);
    }
}

#[test]
fn v1_vouchers_never_carry_value_and_v2_always_do() {
    let token = addr(TOKEN);
    let assets =
        [Asset::Eth, Asset::Erc20(token), Asset::Erc721(token, U256::from(7)), Asset::Erc1155(token, U256::from(7))];
    for asset in assets {
        let amount = if asset.is_nft() { U256::one() } else { U256::from(5) };
        let v1 = voucher(V1, asset, amount);
        assert_eq!(v1.value, None, "{asset:?}");
        let body = serde_json::to_value(&v1).unwrap();
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 2, "{asset:?}: {body}");
        assert!(keys.contains(&"destination") && keys.contains(&"payload"), "{asset:?}: {body}");

        let v2 = voucher(V2, asset, amount);
        let value = v2.value.clone().expect("v2 vouchers carry a value");
        assert_eq!(value.0.len(), 32, "{asset:?}");
        let body = serde_json::to_value(&v2).unwrap();
        assert_eq!(body.as_object().unwrap().len(), 3, "{asset:?}: {body}");
        assert_eq!(body["value"].as_str().unwrap().len(), 66, "{asset:?}: {body}");
        if asset != Asset::Eth {
            // Tokens: the value is zero, and the call is the same in both versions.
            assert_eq!(value.0, [0u8; 32], "{asset:?}");
            assert_eq!(v1.destination, v2.destination, "{asset:?}");
            assert_eq!(v1.payload, v2.payload, "{asset:?}");
        }
    }
}

#[test]
fn mixed_case_addresses_serialize_lower_case() {
    let dapp: Address = "0xAb7528bB862fB57E8A2BCd567a2e929a0Be56a5e".parse().unwrap();
    let receiver: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".parse().unwrap();
    let v = withdrawal_voucher(V1, dapp, receiver, &Asset::Eth, U256::from(0xABCDEFu64)).unwrap();
    assert_json(
        &v,
        json!({
            "destination": "0xab7528bb862fb57e8a2bcd567a2e929a0be56a5e",
            "payload": "0x522f681500000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c80000000000000000000000000000000000000000000000000000000000abcdef",
        }),
    );
}

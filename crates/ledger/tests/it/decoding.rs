//! Property tests of operation decoding: valid operations round-trip, invalid ones fail with
//! the code `Op::validate` gives, and no input makes the decoder panic.

use ledger::{Address, Asset, Op, U256};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use crate::proptest_config;

// ---------------------------------------------------------------------------------------------
// Operation decoding.
// ---------------------------------------------------------------------------------------------

fn any_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address)
}

fn any_u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::zero()),
        Just(U256::one()),
        Just(U256::MAX),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(|b| U256::from_big_endian(&b)),
    ]
}

fn any_asset_kind() -> impl Strategy<Value = Asset> {
    prop_oneof![
        Just(Asset::Eth),
        Just(Asset::Coin),
        any_address().prop_map(Asset::Erc20),
        (any_address(), any_u256()).prop_map(|(t, id)| Asset::Erc721(t, id)),
        (any_address(), any_u256()).prop_map(|(t, id)| Asset::Erc1155(t, id)),
    ]
}

/// Any operation, including ones the decoder must refuse.
fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any_address(), any_asset_kind(), any_u256()).prop_map(|(to, asset, amount)| Op::Transfer {
            to,
            asset,
            amount
        }),
        (any_asset_kind(), any_u256()).prop_map(|(asset, amount)| Op::Withdraw { asset, amount }),
        Just(Op::Mine),
    ]
}

/// Operations the decoder must accept: positive amounts, exactly 1 for an ERC-721, no COIN
/// withdrawal.
fn valid_op() -> impl Strategy<Value = Op> {
    let amount = || any_u256().prop_filter("amounts are positive", |a| !a.is_zero());
    let withdrawable = any_asset_kind().prop_filter("COIN is not withdrawable", |a| *a != Asset::Coin);
    let whole = |asset: &Asset, amount: U256| if asset.is_nft() { U256::one() } else { amount };
    prop_oneof![
        (any_address(), any_asset_kind(), amount()).prop_map(move |(to, asset, amount)| Op::Transfer {
            to,
            asset,
            amount: whole(&asset, amount)
        }),
        (withdrawable, amount()).prop_map(move |(asset, amount)| Op::Withdraw { asset, amount: whole(&asset, amount) }),
        Just(Op::Mine),
    ]
}

/// Pieces of almost-valid JSON ops, glued at random to reach the decoder's deeper paths.
const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    " ",
    "\"op\"",
    "\"to\"",
    "\"asset\"",
    "\"amount\"",
    "\"from\"",
    "\"transfer\"",
    "\"withdraw\"",
    "\"mine\"",
    "\"MINE\"",
    "\"ETH\"",
    "\"COIN\"",
    "\"erc20:0x2020202020202020202020202020202020202020\"",
    "\"ERC721:0x7272727272727272727272727272727272727272:1\"",
    "\"erc721:0x7272727272727272727272727272727272727272\"",
    "\"erc1155:0x1111111111111111111111111111111111111111:0x\"",
    "\"erc1155:0x11:1:2\"",
    "\"0xA1a1A1a1A1a1A1a1A1a1A1a1A1a1A1a1A1a1A1a1\"",
    "\"0x1234\"",
    "\"0\"",
    "\"1\"",
    "\"0x0\"",
    "\"-1\"",
    "\"1.5\"",
    "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
    "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"",
    "\"0x10000000000000000000000000000000000000000000000000000000000000000\"",
    "1",
    "1e400",
    "-0",
    "null",
    "true",
    "\"\\u0000\"",
    "\"\u{e9}\"",
    "\"\\ud800\"",
];

fn json_ish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(JSON_PIECES.to_vec());
    (prop::bool::weighted(0.8), prop::collection::vec(piece, 0..24))
        .prop_map(|(open, pieces)| format!("{}{}", if open { "{" } else { "" }, pieces.concat()))
}

/// JSON objects with known and unknown keys and values of every JSON type.
fn json_object() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["op", "to", "asset", "amount", "from", "", "OP"]);
    let strings: Vec<&str> = JSON_PIECES.iter().filter_map(|p| p.strip_prefix('"')?.strip_suffix('"')).collect();
    let text = prop::sample::select(strings);
    let value = prop_oneof![
        text.prop_map(|t| Value::String(t.to_string())),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(serde_json::json!([])),
        Just(serde_json::json!({"op": "mine"})),
        any_u256().prop_map(|a| Value::String(a.to_string())),
        any_address().prop_map(|a| Value::String(a.to_string().to_uppercase().replacen("0X", "0x", 1))),
    ];
    prop::collection::btree_map(key, value, 0..5).prop_map(|fields| {
        let object: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Value::Object(object).to_string()
    })
}

/// ABI calls of real selectors with arguments of the right or wrong length, clean or dirty.
fn abi_call() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        any::<[u8; 32]>(),
        any::<[u8; 20]>().prop_map(|a| {
            let mut w = [0u8; 32];
            w[12..].copy_from_slice(&a);
            w
        }),
        any::<u8>().prop_map(|b| {
            let mut w = [0u8; 32];
            w[31] = b;
            w
        }),
    ];
    (
        prop::sample::select(ledger::AbiFunction::ALL.to_vec()),
        prop::collection::vec(word, 0..6),
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(function, words, tail)| {
            let mut payload = function.selector().to_vec();
            payload.extend(words.concat());
            payload.extend(tail);
            payload
        })
}

/// Whatever the decoder accepts must be a valid op that survives a JSON round trip.
fn check_decoded(payload: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(op) = Op::decode(payload) {
        prop_assert_eq!(op.validate().err().map(|r| r.code), None, "{:?} decoded to an invalid op", payload);
        prop_assert_eq!(Op::decode(op.to_json().to_string().as_bytes()), Ok(op));
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(256, "tests/it/proptest-regressions/decoding.txt"))]

    /// Every valid op decodes back to itself from its JSON encoding.
    #[test]
    fn valid_ops_round_trip_through_json(op in valid_op()) {
        prop_assert_eq!(Op::decode(op.to_json().to_string().as_bytes()), Ok(op));
    }

    /// Any op's JSON encoding decodes to the op itself, or is refused with the code the
    /// stateless rules predict.
    #[test]
    fn json_ops_decode_or_fail_with_the_predicted_code(op in any_op()) {
        let decoded = Op::decode(op.to_json().to_string().as_bytes());
        match op.validate().err().map(|r| r.code) {
            Some(code) => prop_assert_eq!(decoded.map_err(|r| r.code), Err(code)),
            None => prop_assert_eq!(decoded, Ok(op)),
        }
    }

    /// Arbitrary bytes never make the decoder panic.
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_decoded(&bytes)?;
    }

    /// Arbitrary text and JSON-like text never make the decoder panic.
    #[test]
    fn decoding_json_ish_text_never_panics(text in prop_oneof![json_ish(), json_object(), any::<String>()]) {
        check_decoded(text.as_bytes())?;
    }

    /// ABI calls with mangled arguments never make the decoder panic.
    #[test]
    fn decoding_abi_like_calls_never_panics(payload in abi_call()) {
        check_decoded(&payload)?;
    }
}

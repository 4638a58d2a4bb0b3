//! The bad-input catalogue: one row per class of malformed or hostile input, advance or inspect,
//! each with the exact error code it must get. For every row the answer is a reject with one
//! report, the report fits the output bound (payload and JSON body), and the whole state
//! fingerprint is unchanged.

use dapp::app::{App, MAX_OUTPUT_BYTES};
use dapp::checks::{advance, checked_advance, deposit_payload, DAPP};
use dapp::settings::Settings;
use ledger::{AbiFunction, Address, ErrorCode, U256};
use rollup::wire::{Output, MAX_BODY_BYTES};
use rollup::{PortalAddresses, PortalKind, RollupsVersion};

const ALICE: Address = Address([0xa1; 20]);
const BOB: Address = Address([0xb0; 20]);
const TOKEN: Address = Address([0x70; 20]);
const NFT: Address = Address([0x72; 20]);
const MULTI: Address = Address([0x73; 20]);

enum Input {
    /// A Rollups v1 advance from the sender.
    Advance(Address, Vec<u8>),
    /// The same, on a backend that has not learned the dApp's address.
    AdvanceWithoutDapp(Address, Vec<u8>),
    Inspect(Vec<u8>),
}

struct Case {
    name: &'static str,
    input: Input,
    code: ErrorCode,
}

fn v1() -> PortalAddresses {
    PortalAddresses::canonical(RollupsVersion::V1)
}

/// Alice holds 1000 wei, 500 of a token, NFT #7 and 30 of an ERC-1155 id; one block is sealed
/// and the dApp's address is known unless `with_dapp` is false. Default settings, so that
/// long strings reach the decoders under the 64 KiB payload limit.
fn world(with_dapp: bool) -> App {
    let mut app = App::new(Settings::from_lookup(|_| None).unwrap()).unwrap();
    let p = v1();
    let mut inputs = Vec::new();
    if with_dapp {
        inputs.push((p.dapp_address_relay.unwrap(), DAPP.0.to_vec()));
    }
    let deposit = |kind, token, id: u64, amount: u64| {
        deposit_payload(kind, RollupsVersion::V1, token, ALICE, U256::from(id), U256::from(amount))
    };
    inputs.push((p.ether, deposit(PortalKind::Ether, Address::ZERO, 0, 1000)));
    inputs.push((p.erc20, deposit(PortalKind::Erc20, TOKEN, 0, 500)));
    inputs.push((p.erc721, deposit(PortalKind::Erc721, NFT, 7, 1)));
    inputs.push((p.erc1155_single, deposit(PortalKind::Erc1155Single, MULTI, 3, 30)));
    inputs.push((ALICE, br#"{"op":"mine"}"#.to_vec()));
    for (i, (sender, payload)) in inputs.into_iter().enumerate() {
        assert!(checked_advance(&mut app, &advance(sender, payload, i as u64, 100, false)), "setup input {i}");
    }
    app
}

fn json(text: impl Into<String>) -> Vec<u8> {
    text.into().into_bytes()
}

fn transfer(to: &str, asset: &str, amount: &str) -> Vec<u8> {
    json(format!(r#"{{"op":"transfer","to":"{to}","asset":"{asset}","amount":"{amount}"}}"#))
}

fn withdraw(asset: &str, amount: &str) -> Vec<u8> {
    json(format!(r#"{{"op":"withdraw","asset":"{asset}","amount":"{amount}"}}"#))
}

fn word(value: U256) -> Vec<u8> {
    ledger::types::u256_be(value).to_vec()
}

fn address_word(a: Address) -> Vec<u8> {
    let mut w = vec![0u8; 12];
    w.extend(a.0);
    w
}

fn call(f: AbiFunction, words: &[Vec<u8>]) -> Vec<u8> {
    let mut p = f.selector().to_vec();
    for w in words {
        p.extend(w);
    }
    p
}

fn cases() -> Vec<Case> {
    use ErrorCode::*;
    use Input::{Advance as A, AdvanceWithoutDapp as NoDapp, Inspect as I};
    let bob = BOB.to_string();
    let token = format!("erc20:{TOKEN}");
    let nft = format!("erc721:{NFT}:7");
    let long = "1".repeat(20_000);
    let p = v1();
    let ether = |depositor: Address, amount: u64| {
        deposit_payload(PortalKind::Ether, RollupsVersion::V1, Address::ZERO, depositor, U256::zero(), amount.into())
    };
    let erc20_v1 = |flag: u8, amount: U256| {
        let mut d = deposit_payload(PortalKind::Erc20, RollupsVersion::V1, TOKEN, BOB, U256::zero(), amount);
        d[0] = flag;
        d
    };
    let batch = |tail: &[u64]| {
        let mut d = TOKEN.0.to_vec();
        d.extend(BOB.0);
        for w in tail {
            d.extend(word(U256::from(*w)));
        }
        d
    };
    let c = |name, input, code| Case { name, input, code };
    vec![
        // JSON structure.
        c("broken JSON", A(ALICE, json(r#"{"op":"mine""#)), MalformedPayload),
        c("JSON with trailing garbage", A(ALICE, json(r#"{"op":"mine"} x"#)), MalformedPayload),
        c("duplicate op key", A(ALICE, json(r#"{"op":"transfer","op":"mine"}"#)), MalformedPayload),
        c(
            "duplicate amount key",
            A(ALICE, json(r#"{"op":"withdraw","asset":"ETH","amount":"1","amount":"2"}"#)),
            MalformedPayload,
        ),
        c("unknown field on mine", A(ALICE, json(format!(r#"{{"op":"mine","from":"{bob}"}}"#))), MalformedPayload),
        c(
            "unknown field on transfer",
            A(
                ALICE,
                json(format!(r#"{{"op":"transfer","recipient":"{bob}","to":"{bob}","asset":"ETH","amount":"1"}}"#)),
            ),
            MalformedPayload,
        ),
        c("JSON array", A(ALICE, json(r#"[{"op":"mine"}]"#)), MalformedPayload),
        c("JSON string", A(ALICE, json(r#""mine""#)), MalformedPayload),
        c("empty JSON object", A(ALICE, json("{}")), MalformedPayload),
        c("op is a number", A(ALICE, json(r#"{"op":1}"#)), MalformedPayload),
        c("op is null", A(ALICE, json(r#"{"op":null}"#)), MalformedPayload),
        c("unknown op", A(ALICE, json(r#"{"op":"steal"}"#)), UnknownOp),
        c("op in upper case", A(ALICE, json(r#"{"op":"MINE"}"#)), UnknownOp),
        c(
            "JSON nested past the parser's depth",
            A(ALICE, json(format!(r#"{{"op":{}{}}}"#, "[".repeat(300), "]".repeat(300)))),
            MalformedPayload,
        ),
        c("plain text", A(ALICE, json("please mine a block")), MalformedPayload),
        c("JSON with a NUL byte", A(ALICE, b"{\"op\":\"mine\"\0}".to_vec()), MalformedPayload),
        c(
            "missing amount",
            A(ALICE, json(format!(r#"{{"op":"transfer","to":"{bob}","asset":"ETH"}}"#))),
            MalformedPayload,
        ),
        c("missing to", A(ALICE, json(r#"{"op":"transfer","asset":"ETH","amount":"1"}"#)), MalformedPayload),
        c(
            "amount as a JSON number",
            A(ALICE, json(format!(r#"{{"op":"transfer","to":"{bob}","asset":"ETH","amount":1}}"#))),
            MalformedPayload,
        ),
        c(
            "asset as an object",
            A(ALICE, json(r#"{"op":"withdraw","asset":{"kind":"ETH"},"amount":"1"}"#)),
            MalformedPayload,
        ),
        // Amounts.
        c("negative amount", A(ALICE, transfer(&bob, "ETH", "-5")), InvalidAmount),
        c("fractional amount", A(ALICE, transfer(&bob, "ETH", "1.5")), InvalidAmount),
        c("amount with an exponent", A(ALICE, transfer(&bob, "ETH", "1e3")), InvalidAmount),
        c("amount with spaces", A(ALICE, transfer(&bob, "ETH", " 1")), InvalidAmount),
        c("empty amount", A(ALICE, transfer(&bob, "ETH", "")), InvalidAmount),
        c("zero amount", A(ALICE, transfer(&bob, "ETH", "0")), InvalidAmount),
        c("hex amount without digits", A(ALICE, transfer(&bob, "ETH", "0x")), InvalidAmount),
        c(
            "amount of 2^256",
            A(
                ALICE,
                transfer(&bob, "ETH", "115792089237316195423570985008687907853269984665640564039457584007913129639936"),
            ),
            Overflow,
        ),
        c("hex amount of 2^256", A(ALICE, transfer(&bob, "ETH", &format!("0x1{}", "0".repeat(64)))), Overflow),
        c("amount of 20,000 digits", A(ALICE, transfer(&bob, "ETH", &long)), Overflow),
        c("ERC-721 amount of 2", A(ALICE, transfer(&bob, &nft, "2")), InvalidAmount),
        // Funds.
        c("transfer of more than held", A(ALICE, transfer(&bob, "ETH", "1001")), InsufficientFunds),
        c("transfer from an empty account", A(BOB, transfer(&ALICE.to_string(), "ETH", "1")), InsufficientFunds),
        c("transfer of an NFT not held", A(BOB, transfer(&ALICE.to_string(), &nft, "1")), InsufficientFunds),
        c(
            "transfer of an ERC-1155 id not held",
            A(ALICE, transfer(&bob, &format!("erc1155:{MULTI}:4"), "1")),
            InsufficientFunds,
        ),
        c("withdrawal of COIN", A(ALICE, withdraw("COIN", "1")), NotWithdrawable),
        c("withdrawal of more ETH than held", A(ALICE, withdraw("ETH", "1001")), InsufficientFunds),
        c("withdrawal of more tokens than held", A(ALICE, withdraw(&token, "501")), InsufficientFunds),
        c("withdrawal before the dApp address is known", NoDapp(ALICE, withdraw("ETH", "1")), DappAddressUnknown),
        // Addresses and assets.
        c("short address", A(ALICE, transfer("0x1234", "ETH", "1")), InvalidAddress),
        c("address without 0x", A(ALICE, transfer(&bob[2..], "ETH", "1")), InvalidAddress),
        c(
            "address with non-hex digits",
            A(ALICE, transfer(&format!("0x{}", "zz".repeat(20)), "ETH", "1")),
            InvalidAddress,
        ),
        c("address of 20,000 characters", A(ALICE, transfer(&format!("0x{long}"), "ETH", "1")), InvalidAddress),
        c("unknown asset", A(ALICE, transfer(&bob, "BTC", "1")), UnknownAsset),
        c("asset of 60,000 characters", A(ALICE, transfer(&bob, &"A".repeat(60_000), "1")), UnknownAsset),
        c("ERC-20 asset with a bad token", A(ALICE, withdraw("erc20:0x12", "1")), InvalidAddress),
        c("ERC-721 asset without an id", A(ALICE, transfer(&bob, &format!("erc721:{NFT}"), "1")), UnknownAsset),
        c("ERC-721 asset with a bad id", A(ALICE, transfer(&bob, &format!("erc721:{NFT}:seven"), "1")), UnknownAsset),
        c("asset with extra parts", A(ALICE, transfer(&bob, &format!("{nft}:1"), "1")), UnknownAsset),
        c("op of 20,000 characters", A(ALICE, json(format!(r#"{{"op":"{long}"}}"#))), UnknownOp),
        c(
            "field name of 20,000 characters",
            A(ALICE, json(format!(r#"{{"op":"mine","{long}":"1"}}"#))),
            MalformedPayload,
        ),
        // Size.
        c(
            "oversized JSON payload",
            A(ALICE, json(format!(r#"{{"op":"mine","x":"{}"}}"#, "a".repeat(70_000)))),
            PayloadTooLarge,
        ),
        c("oversized binary payload", A(ALICE, vec![0xff; 70_000]), PayloadTooLarge),
        // ABI calls.
        c("empty payload", A(ALICE, Vec::new()), MalformedPayload),
        c("payload shorter than a selector", A(ALICE, vec![0xab, 0xcd, 0xef]), MalformedPayload),
        c("unknown selector", A(ALICE, [vec![0xde, 0xad, 0xbe, 0xef], word(U256::one())].concat()), UnknownOp),
        c("truncated ABI call", A(ALICE, call(AbiFunction::TransferEther, &[address_word(BOB)])), MalformedPayload),
        c(
            "ABI call one byte short",
            A(ALICE, call(AbiFunction::TransferEther, &[address_word(BOB), word(1.into())[..31].to_vec()])),
            MalformedPayload,
        ),
        c(
            "oversized ABI call",
            A(ALICE, call(AbiFunction::TransferEther, &[address_word(BOB), word(1.into()), word(1.into())])),
            MalformedPayload,
        ),
        c("mine with arguments", A(ALICE, call(AbiFunction::Mine, &[word(1.into())])), MalformedPayload),
        c(
            "ABI address word with dirty high bytes",
            A(ALICE, call(AbiFunction::TransferEther, &[word(U256::MAX), word(1.into())])),
            InvalidAddress,
        ),
        c(
            "ABI transfer of zero",
            A(ALICE, call(AbiFunction::TransferEther, &[address_word(BOB), word(U256::zero())])),
            InvalidAmount,
        ),
        c(
            "ABI withdrawal of more than held",
            A(ALICE, call(AbiFunction::WithdrawEther, &[word(5000.into())])),
            InsufficientFunds,
        ),
        c(
            "ABI transfer of an NFT not held",
            A(BOB, call(AbiFunction::TransferErc721, &[address_word(NFT), address_word(ALICE), word(7.into())])),
            InsufficientFunds,
        ),
        // Portals and the relay.
        c("Ether deposit spoofed by a user", A(BOB, ether(BOB, 1_000_000)), UnknownOp),
        c(
            "JSON deposit claim from a user",
            A(BOB, json(format!(r#"{{"op":"deposit","asset":"ETH","amount":"5","to":"{bob}"}}"#))),
            UnknownOp,
        ),
        c("relay spoofed by a user", A(BOB, BOB.0.to_vec()), UnknownOp),
        c("relay payload of 19 bytes", A(p.dapp_address_relay.unwrap(), vec![0xbb; 19]), MalformedDeposit),
        c("truncated Ether deposit", A(p.ether, ether(BOB, 5)[..40].to_vec()), MalformedDeposit),
        c("Ether deposit of zero", A(p.ether, ether(BOB, 0)), InvalidAmount),
        c("ERC-20 deposit the portal says failed", A(p.erc20, erc20_v1(0, 5.into())), DepositFailed),
        c("ERC-20 deposit with success flag 2", A(p.erc20, erc20_v1(2, 5.into())), MalformedDeposit),
        c("ERC-20 deposit overflowing the supply", A(p.erc20, erc20_v1(1, U256::MAX)), Overflow),
        c(
            "second deposit of a held NFT",
            A(p.erc721, deposit_payload(PortalKind::Erc721, RollupsVersion::V1, NFT, BOB, 7.into(), 1.into())),
            DuplicateNft,
        ),
        c(
            "truncated ERC-1155 deposit",
            A(
                p.erc1155_single,
                deposit_payload(PortalKind::Erc1155Single, RollupsVersion::V1, MULTI, BOB, 1.into(), 1.into())[..90]
                    .to_vec(),
            ),
            MalformedDeposit,
        ),
        c(
            "batch deposit with arrays of different lengths",
            A(p.erc1155_batch, batch(&[0x80, 0xe0, 0x140, 0x160, 2, 1, 2, 1, 5, 0, 0])),
            MalformedDeposit,
        ),
        c(
            "batch deposit with an offset past the end",
            A(p.erc1155_batch, batch(&[0x8000, 0xc0, 0x100, 0x120, 1, 1, 1, 5, 0, 0])),
            MalformedDeposit,
        ),
        c("batch deposit with only token and sender", A(p.erc1155_batch, batch(&[])), MalformedDeposit),
        // Inspect paths.
        c("unknown inspect route", I(json("steal")), InvalidQuery),
        c("empty inspect path", I(Vec::new()), InvalidQuery),
        c("path traversal", I(json("../../etc/passwd")), InvalidQuery),
        c("path traversal inside a route", I(json("balance/../info")), InvalidAddress),
        c("percent-encoded slash", I(json(format!("balance%2F{bob}"))), InvalidQuery),
        c("percent-encoded address", I(json(format!("balance/%30x{}", &bob[2..]))), InvalidAddress),
        c("unicode route", I(json("bälance/0x00")), InvalidQuery),
        c("right-to-left override in a route", I(json("info\u{202e}")), InvalidQuery),
        c("non-UTF-8 path", I(vec![0x69, 0x6e, 0xff, 0xfe]), InvalidQuery),
        c("NUL byte in a path", I(b"info\0".to_vec()), InvalidQuery),
        c("huge page", I(json("blocks?from=0&limit=1000000")), InvalidQuery),
        c("page of zero", I(json("pool?limit=0")), InvalidQuery),
        c("negative offset", I(json(format!("balance/{bob}?offset=-1"))), InvalidQuery),
        c("offset past 2^64", I(json("blocks?from=18446744073709551616")), InvalidQuery),
        c("parameter given twice", I(json("blocks?limit=1&limit=2")), InvalidQuery),
        c("unknown parameter", I(json("pool?x=1")), InvalidQuery),
        c("parameter on info", I(json("info?verbose")), InvalidQuery),
        c("block past the tip", I(json("block/1000000000")), NotFound),
        c("unknown block hash", I(json(format!("block/0x{}", "00".repeat(32)))), NotFound),
        c("malformed block hash", I(json("block/0x12")), InvalidQuery),
        c("block id that is not a number", I(json("block/-1")), InvalidQuery),
        c("unknown transaction", I(json(format!("tx/0x{}", "ab".repeat(32)))), NotFound),
        c("malformed transaction hash", I(json("tx/abc")), InvalidQuery),
        c("inspect path of 20,000 characters", I(json(long.clone())), InvalidQuery),
        c("balance of an address of 20,000 characters", I(json(format!("balance/0x{long}"))), InvalidAddress),
        c("balance of an asset of 20,000 characters", I(json(format!("balance/{bob}/{long}"))), UnknownAsset),
        c("rich list of an unknown asset", I(json("accounts?asset=BTC")), UnknownAsset),
    ]
}

#[test]
fn every_bad_input_class_gets_its_code_a_bounded_report_and_changes_nothing() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} classes", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "two classes share a name");
    let (mut app, mut fresh) = (world(true), world(false));
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let index = 100 + i as u64;
        let (target, response, before) = match &case.input {
            Input::Advance(sender, payload) => {
                let before = app.ledger().fingerprint();
                let r = app.advance(&advance(*sender, payload.clone(), index, 200, false)).unwrap();
                (&app, r, before)
            }
            Input::AdvanceWithoutDapp(sender, payload) => {
                let before = fresh.ledger().fingerprint();
                let r = fresh.advance(&advance(*sender, payload.clone(), index, 200, false)).unwrap();
                (&fresh, r, before)
            }
            Input::Inspect(path) => {
                let before = app.ledger().fingerprint();
                (&app, app.inspect(path), before)
            }
        };
        assert_eq!(target.ledger().fingerprint(), before, "{}: the state changed", case.name);
        assert!(!response.accept, "{}: accepted", case.name);
        let [Output::Report(report)] = response.outputs.as_slice() else {
            panic!("{}: expected one report, got {:?}", case.name, response.outputs);
        };
        let output = Output::Report(report.clone());
        assert!(
            output.payload_len() <= MAX_OUTPUT_BYTES && output.body_len() <= MAX_BODY_BYTES,
            "{}: a {}-byte report",
            case.name,
            report.len()
        );
        // Error reports are short whatever the input: user data is quoted, not echoed.
        assert!(report.len() <= 1024, "{}: a {}-byte error report", case.name, report.len());
        let report: serde_json::Value = serde_json::from_slice(report).unwrap();
        if report["error"]["code"] != case.code.as_str() {
            failures.push(format!("{}: expected {}, got {report}", case.name, case.code));
        }
    }
    assert!(failures.is_empty(), "{} classes got another answer:\n{}", failures.len(), failures.join("\n"));
}

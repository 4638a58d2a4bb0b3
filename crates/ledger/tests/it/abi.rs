//! The ABI form of operations: selectors pinned to independently computed literals, the
//! function set checked against `abi/ILedger.sol`, and `Op::from_abi` against hand-built
//! calldata.

use std::collections::BTreeSet;

use ledger::{AbiFunction, Address, Asset, ErrorCode, Op, U256};

/// Every function with its canonical signature and selector.
///
/// The selectors were computed outside this repository, with Python's pycryptodome
/// (`pip install pycryptodome` in a throw-away venv):
///
/// ```python
/// from Crypto.Hash import keccak
/// def sel(sig): k = keccak.new(digest_bits=256); k.update(sig.encode()); return k.hexdigest()[:8]
/// ```
///
/// The tool was checked first: `sel("transfer(address,uint256)") == "a9059cbb"` (the ERC-20
/// selector), `sel("safeTransferFrom(address,address,uint256)") == "42842e0e"`,
/// `sel("withdrawEther(address,uint256)") == "522f6815"`, and keccak256 of the empty string is
/// `c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470` (Keccak, not SHA3-256).
const TABLE: &[(AbiFunction, &str, [u8; 4])] = &[
    (AbiFunction::TransferEther, "transferEther(address,uint256)", [0x05, 0xb1, 0x13, 0x7b]),
    (AbiFunction::TransferCoin, "transferCoin(address,uint256)", [0x8d, 0xde, 0x60, 0xfa]),
    (AbiFunction::TransferErc20, "transferERC20(address,address,uint256)", [0x9d, 0xb5, 0xdb, 0xe4]),
    (AbiFunction::TransferErc721, "transferERC721(address,address,uint256)", [0x1a, 0xca, 0x63, 0x76]),
    (AbiFunction::TransferErc1155, "transferERC1155(address,address,uint256,uint256)", [0x0a, 0x7e, 0x88, 0x0c]),
    (AbiFunction::WithdrawEther, "withdrawEther(uint256)", [0x3b, 0xed, 0x33, 0xce]),
    (AbiFunction::WithdrawErc20, "withdrawERC20(address,uint256)", [0xa1, 0xdb, 0x97, 0x82]),
    (AbiFunction::WithdrawErc721, "withdrawERC721(address,uint256)", [0xf3, 0xe4, 0x14, 0xf8]),
    (AbiFunction::WithdrawErc1155, "withdrawERC1155(address,uint256,uint256)", [0x39, 0xea, 0xd7, 0x20]),
    (AbiFunction::Mine, "mine()", [0x99, 0xf4, 0xb2, 0x51]),
];

const TO: &str = "70997970c51812dc3a010c7d01b50e0d17dc79c8";
const TOKEN: &str = "5fbdb2315678afecb367f032d93f642f64180aa3";
const TO_WORD: &str = "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8";
const TOKEN_WORD: &str = "0000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa3";
const W0: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const W1: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const W2: &str = "0000000000000000000000000000000000000000000000000000000000000002";
const W7: &str = "0000000000000000000000000000000000000000000000000000000000000007";
const W_3E8: &str = "00000000000000000000000000000000000000000000000000000000000003e8";
const W_MAX: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

fn cat(parts: &[&str]) -> Vec<u8> {
    hex::decode(parts.concat()).expect("test vectors are valid hex")
}

fn addr(hex20: &str) -> Address {
    Address(hex::decode(hex20).expect("hex").try_into().expect("20 bytes"))
}

fn to() -> Address {
    addr(TO)
}

fn token() -> Address {
    addr(TOKEN)
}

#[track_caller]
fn assert_rejected(calldata: &[u8], code: ErrorCode) {
    match Op::from_abi(calldata) {
        Err(r) => assert_eq!(r.code, code, "0x{}: {r}", hex::encode(calldata)),
        Ok(op) => panic!("0x{} decoded as {op:?}, expected {code}", hex::encode(calldata)),
    }
}

/// Hand-built calldata for every function, and the op it must decode to. The argument words
/// are listed separately so that the rejection tests can tamper with them.
fn valid_calls() -> Vec<(AbiFunction, &'static str, Vec<&'static str>, Op)> {
    vec![
        (
            AbiFunction::TransferEther,
            "05b1137b",
            vec![TO_WORD, W_3E8],
            Op::Transfer { to: to(), asset: Asset::Eth, amount: U256::from(1000) },
        ),
        (
            AbiFunction::TransferCoin,
            "8dde60fa",
            vec![TO_WORD, W_3E8],
            Op::Transfer { to: to(), asset: Asset::Coin, amount: U256::from(1000) },
        ),
        (
            AbiFunction::TransferErc20,
            "9db5dbe4",
            vec![TOKEN_WORD, TO_WORD, W_3E8],
            Op::Transfer { to: to(), asset: Asset::Erc20(token()), amount: U256::from(1000) },
        ),
        (
            AbiFunction::TransferErc721,
            "1aca6376",
            vec![TOKEN_WORD, TO_WORD, W7],
            Op::Transfer { to: to(), asset: Asset::Erc721(token(), U256::from(7)), amount: U256::one() },
        ),
        (
            AbiFunction::TransferErc1155,
            "0a7e880c",
            vec![TOKEN_WORD, TO_WORD, W7, W_3E8],
            Op::Transfer { to: to(), asset: Asset::Erc1155(token(), U256::from(7)), amount: U256::from(1000) },
        ),
        (
            AbiFunction::WithdrawEther,
            "3bed33ce",
            vec![W_3E8],
            Op::Withdraw { asset: Asset::Eth, amount: U256::from(1000) },
        ),
        (
            AbiFunction::WithdrawErc20,
            "a1db9782",
            vec![TOKEN_WORD, W_3E8],
            Op::Withdraw { asset: Asset::Erc20(token()), amount: U256::from(1000) },
        ),
        (
            AbiFunction::WithdrawErc721,
            "f3e414f8",
            vec![TOKEN_WORD, W7],
            Op::Withdraw { asset: Asset::Erc721(token(), U256::from(7)), amount: U256::one() },
        ),
        (
            AbiFunction::WithdrawErc1155,
            "39ead720",
            vec![TOKEN_WORD, W7, W_3E8],
            Op::Withdraw { asset: Asset::Erc1155(token(), U256::from(7)), amount: U256::from(1000) },
        ),
        (AbiFunction::Mine, "99f4b251", vec![], Op::Mine),
    ]
}

fn calldata(selector: &str, words: &[&str]) -> Vec<u8> {
    let mut parts = vec![selector];
    parts.extend_from_slice(words);
    cat(&parts)
}

// (a) Selectors and signatures pinned to literals.

#[test]
fn every_selector_is_pinned() {
    assert_eq!(TABLE.len(), AbiFunction::ALL.len());
    for (f, signature, selector) in TABLE {
        assert_eq!(f.signature(), *signature, "{f:?}");
        assert_eq!(f.selector(), *selector, "{f:?} ({signature})");
    }
    let listed: Vec<AbiFunction> = TABLE.iter().map(|(f, _, _)| *f).collect();
    assert_eq!(listed, AbiFunction::ALL, "the table covers every function, in order");
}

#[test]
fn selectors_are_distinct() {
    let all: BTreeSet<[u8; 4]> = AbiFunction::ALL.iter().map(|f| f.selector()).collect();
    assert_eq!(all.len(), AbiFunction::ALL.len());
}

#[test]
fn the_keccak_used_by_the_code_agrees_with_known_selectors() {
    // The same known vectors used to check the Python tool, through the library the code uses.
    use ethabi::ParamType::{Address as A, Bytes, Uint};
    assert_eq!(ethabi::short_signature("transfer", &[A, Uint(256)]), [0xa9, 0x05, 0x9c, 0xbb]);
    assert_eq!(ethabi::short_signature("safeTransferFrom", &[A, A, Uint(256)]), [0x42, 0x84, 0x2e, 0x0e]);
    assert_eq!(
        ethabi::short_signature("safeTransferFrom", &[A, A, Uint(256), Uint(256), Bytes]),
        [0xf2, 0x42, 0x43, 0x2a]
    );
    assert_eq!(ethabi::short_signature("withdrawEther", &[A, Uint(256)]), [0x52, 0x2f, 0x68, 0x15]);
}

// (b) The Solidity interface and the Rust enum describe the same functions.

/// The canonical signatures of the `function` declarations in a Solidity source.
fn solidity_signatures(source: &str) -> Vec<String> {
    let code: String =
        source.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("function ") {
        rest = &rest[at + "function ".len()..];
        let open = rest.find('(').expect("a parameter list");
        let close = rest.find(')').expect("a closed parameter list");
        let name = rest[..open].trim();
        let types: Vec<String> = rest[open + 1..close]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let ty = p.split_whitespace().next().expect("a type");
                match ty {
                    "uint" => "uint256".to_string(),
                    "int" => "int256".to_string(),
                    other => other.to_string(),
                }
            })
            .collect();
        out.push(format!("{name}({})", types.join(",")));
        rest = &rest[close..];
    }
    out
}

#[test]
fn the_solidity_interface_declares_exactly_the_abi_functions() {
    // Embedded at compile time: the crate does no file I/O, not even in its tests.
    let source = include_str!("../../../../abi/ILedger.sol");
    let declared = solidity_signatures(source);
    let declared_set: BTreeSet<String> = declared.iter().cloned().collect();
    assert_eq!(declared.len(), declared_set.len(), "duplicate declarations: {declared:?}");
    let rust: BTreeSet<String> = AbiFunction::ALL.iter().map(|f| f.signature()).collect();
    assert_eq!(declared_set, rust);
    // And both agree with the pinned table.
    let pinned: BTreeSet<String> = TABLE.iter().map(|(_, s, _)| s.to_string()).collect();
    assert_eq!(declared_set, pinned);
}

#[test]
fn the_solidity_parser_canonicalises_types() {
    let sigs = solidity_signatures(
        "interface X {\n  // function commented(uint a) external;\n  function f(uint a, address payable b,\n bytes calldata c) external;\n  function g() external;\n}",
    );
    assert_eq!(sigs, ["f(uint256,address,bytes)", "g()"]);
}

// (c) No selector can be mistaken for the JSON form.

#[test]
fn no_selector_looks_like_json() {
    for f in AbiFunction::ALL {
        let selector = f.selector();
        assert_ne!(selector[0], 0x7b, "{f:?} starts with '{{'");
        // `Op::decode` skips leading ASCII whitespace before looking for '{'.
        assert_ne!(selector.trim_ascii_start().first(), Some(&b'{'), "{f:?}: whitespace then '{{'");
    }
    for (f, selector, words, expected) in valid_calls() {
        let data = calldata(selector, &words);
        assert_eq!(Op::decode(&data).unwrap(), expected, "{f:?} routed through Op::decode");
    }
}

// (d) Decoding hand-built calldata.

#[test]
fn every_function_decodes_from_hand_built_calldata() {
    let calls = valid_calls();
    assert_eq!(calls.len(), AbiFunction::ALL.len());
    for (f, selector, words, expected) in calls {
        assert_eq!(hex::decode(selector).unwrap(), f.selector(), "{f:?}");
        assert_eq!(words.len(), f.params().len(), "{f:?}");
        let data = calldata(selector, &words);
        assert_eq!(Op::from_abi(&data).unwrap(), expected, "{f:?}");
    }
}

#[test]
fn full_width_amounts_and_ids_decode_whole() {
    let data = calldata("0a7e880c", &[TOKEN_WORD, TO_WORD, W_MAX, W_MAX]);
    assert_eq!(
        Op::from_abi(&data).unwrap(),
        Op::Transfer { to: to(), asset: Asset::Erc1155(token(), U256::MAX), amount: U256::MAX }
    );
    let distinct = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    let data = calldata("3bed33ce", &[distinct]);
    assert_eq!(
        Op::from_abi(&data).unwrap(),
        Op::Withdraw { asset: Asset::Eth, amount: U256::from_str_radix(distinct, 16).unwrap() }
    );
    // An ERC-721 token id of zero is a valid id (the amount is implicitly 1).
    let data = calldata("f3e414f8", &[TOKEN_WORD, W0]);
    assert_eq!(
        Op::from_abi(&data).unwrap(),
        Op::Withdraw { asset: Asset::Erc721(token(), U256::zero()), amount: U256::one() }
    );
}

#[test]
fn wrong_argument_lengths_are_malformed() {
    for (_, selector, words, _) in valid_calls() {
        let good = calldata(selector, &words);
        // Selector alone (for functions with arguments), one byte short, one byte over, one
        // word over, one word short.
        let mut variants = vec![good[..good.len().saturating_sub(1)].to_vec(), [good.clone(), vec![0]].concat()];
        variants.push([good.clone(), cat(&[W1])].concat());
        if !words.is_empty() {
            variants.push(good[..4].to_vec());
            variants.push(good[..good.len() - 32].to_vec());
        }
        for data in variants {
            if data.len() < 4 {
                continue; // covered below
            }
            assert_rejected(&data, ErrorCode::MalformedPayload);
        }
    }
    // Shorter than a selector.
    for data in [&b""[..], &[0x99], &[0x99, 0xf4], &[0x99, 0xf4, 0xb2]] {
        assert_rejected(data, ErrorCode::MalformedPayload);
    }
}

#[test]
fn dirty_address_words_are_invalid_addresses() {
    for (_, selector, words, _) in valid_calls() {
        for (i, word) in words.iter().enumerate() {
            if !(*word == TO_WORD || *word == TOKEN_WORD) {
                continue;
            }
            // Any non-zero byte among the 12 high bytes: the first, the last, and all of them.
            let low = &word[24..];
            for high in ["010000000000000000000000", "000000000000000000000001", "ffffffffffffffffffffffff"] {
                let dirty = format!("{high}{low}");
                let mut tampered = words.clone();
                tampered[i] = &dirty;
                let data = calldata(selector, &tampered);
                assert_rejected(&data, ErrorCode::InvalidAddress);
            }
        }
    }
}

#[test]
fn zero_amounts_are_invalid() {
    let zero_amount = [
        calldata("05b1137b", &[TO_WORD, W0]),
        calldata("8dde60fa", &[TO_WORD, W0]),
        calldata("9db5dbe4", &[TOKEN_WORD, TO_WORD, W0]),
        calldata("0a7e880c", &[TOKEN_WORD, TO_WORD, W7, W0]),
        calldata("3bed33ce", &[W0]),
        calldata("a1db9782", &[TOKEN_WORD, W0]),
        calldata("39ead720", &[TOKEN_WORD, W7, W0]),
    ];
    for data in zero_amount {
        assert_rejected(&data, ErrorCode::InvalidAmount);
    }
    // The other argument positions are not amounts: a zero there is fine.
    assert!(Op::from_abi(&calldata("0a7e880c", &[TOKEN_WORD, TO_WORD, W0, W2])).is_ok());
}

#[test]
fn unknown_selectors_are_unknown_ops() {
    let unknown = [
        calldata("00000000", &[]),
        calldata("ffffffff", &[TO_WORD, W_3E8]),
        // ERC-20 transfer(address,uint256): a real selector, not one of ours.
        calldata("a9059cbb", &[TO_WORD, W_3E8]),
        // The v1 CartesiDApp's withdrawEther(address,uint256).
        calldata("522f6815", &[TO_WORD, W_3E8]),
        // One bit off transferEther.
        calldata("05b1137a", &[TO_WORD, W_3E8]),
        // mine() byte-reversed.
        calldata("51b2f499", &[]),
    ];
    for data in unknown {
        assert_rejected(&data, ErrorCode::UnknownOp);
    }
}

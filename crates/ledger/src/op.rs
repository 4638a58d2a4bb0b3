//! User operations and their two encodings: JSON (for people) and ABI (for contracts).
//!
//! The ABI form is documented by `abi/ILedger.sol` at the repository root.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::asset::Asset;
use crate::error::{quote, ErrorCode, Rejection};
use crate::types::{parse_amount, Address, U256};

/// One operation carried by a user input. Who acts is never part of the operation: it is the
/// input's `msg_sender`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Moves `amount` of `asset` from the sender to `to`.
    Transfer { to: Address, asset: Asset, amount: U256 },
    /// Debits the sender and, once sealed, emits a voucher paying the sender on L1.
    Withdraw { asset: Asset, amount: U256 },
    /// Seals a block now, possibly empty.
    Mine,
}

impl Op {
    /// Decodes a user payload: JSON when it starts with `{` (after optional whitespace),
    /// otherwise an ABI call of `ILedger`.
    pub fn decode(payload: &[u8]) -> Result<Op, Rejection> {
        let trimmed = payload.trim_ascii_start();
        match trimmed.first() {
            Some(b'{' | b'[' | b'"') => Op::from_json(trimmed),
            _ => Op::from_abi(payload).map_err(|e| {
                // Text that is not JSON was meant as JSON more often than as an ABI call.
                let is_text = std::str::from_utf8(payload).is_ok_and(|t| !t.chars().any(char::is_control));
                if e.code == ErrorCode::UnknownOp && is_text {
                    Rejection::new(
                        ErrorCode::MalformedPayload,
                        r#"payload is text but not a JSON object; send e.g. {"op":"mine"} or an ILedger ABI call"#,
                    )
                } else {
                    e
                }
            }),
        }
    }

    /// Decodes the JSON form, e.g. `{"op":"transfer","to":"0x…","asset":"ETH","amount":"1000"}`.
    pub fn from_json(payload: &[u8]) -> Result<Op, Rejection> {
        if payload.trim_ascii_start().first() != Some(&b'{') {
            return Err(Rejection::new(ErrorCode::MalformedPayload, "payload must be a JSON object"));
        }
        let UniqueKeys(obj) = serde_json::from_slice(payload).map_err(|e| {
            let message = match e.classify() {
                serde_json::error::Category::Data => format!("payload refused: {e}"),
                _ => format!("payload is not valid JSON: {e}"),
            };
            Rejection::new(ErrorCode::MalformedPayload, message)
        })?;
        let op = str_field(&obj, "op")?;
        let (op, allowed): (Op, &[&str]) = match op {
            "transfer" => {
                let asset: Asset = str_field(&obj, "asset")?.parse()?;
                let amount = amount_field(&obj, &asset)?;
                (Op::Transfer { to: str_field(&obj, "to")?.parse()?, asset, amount }, &["op", "to", "asset", "amount"])
            }
            "withdraw" => {
                let asset: Asset = str_field(&obj, "asset")?.parse()?;
                let amount = amount_field(&obj, &asset)?;
                (Op::Withdraw { asset, amount }, &["op", "asset", "amount"])
            }
            "mine" => (Op::Mine, &["op"]),
            other => {
                return Err(Rejection::new(
                    ErrorCode::UnknownOp,
                    format!("unknown op {}: expected transfer, withdraw or mine", quote(other)),
                ));
            }
        };
        // An unexpected field is most likely a mistake (say, `from`, or `recipient` for `to`):
        // refusing it is clearer than ignoring it.
        if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Rejection::new(
                ErrorCode::MalformedPayload,
                format!("unexpected field {} for op {}", quote(extra), quote(str_field(&obj, "op")?)),
            ));
        }
        op.validate()?;
        Ok(op)
    }

    /// Decodes the ABI form: a 4-byte selector of `ILedger` and its static arguments, exactly.
    pub fn from_abi(payload: &[u8]) -> Result<Op, Rejection> {
        if payload.len() < 4 {
            return Err(Rejection::new(
                ErrorCode::MalformedPayload,
                format!("payload of {} bytes is neither a JSON object nor an ABI call", payload.len()),
            ));
        }
        let (selector, args) = payload.split_at(4);
        let function = AbiFunction::ALL.iter().find(|f| f.selector() == selector).ok_or_else(|| {
            Rejection::new(ErrorCode::UnknownOp, format!("unknown selector 0x{}", hex::encode(selector)))
        })?;
        let params = function.params();
        if args.len() != 32 * params.len() {
            return Err(Rejection::new(
                ErrorCode::MalformedPayload,
                format!("{} takes {} bytes of arguments, got {}", function.signature(), 32 * params.len(), args.len()),
            ));
        }
        let words: Vec<&[u8; 32]> = args.chunks_exact(32).filter_map(|w| w.try_into().ok()).collect();
        let address = |i: usize| {
            Address::from_word(words[i]).ok_or_else(|| {
                Rejection::new(
                    ErrorCode::InvalidAddress,
                    format!("argument {i} of {} is not a clean address word", function.signature()),
                )
            })
        };
        let uint = |i: usize| U256::from_big_endian(words[i]);
        use AbiFunction::*;
        let op = match function {
            TransferEther => Op::Transfer { to: address(0)?, asset: Asset::Eth, amount: uint(1) },
            TransferCoin => Op::Transfer { to: address(0)?, asset: Asset::Coin, amount: uint(1) },
            TransferErc20 => Op::Transfer { to: address(1)?, asset: Asset::Erc20(address(0)?), amount: uint(2) },
            TransferErc721 => {
                Op::Transfer { to: address(1)?, asset: Asset::Erc721(address(0)?, uint(2)), amount: U256::one() }
            }
            TransferErc1155 => {
                Op::Transfer { to: address(1)?, asset: Asset::Erc1155(address(0)?, uint(2)), amount: uint(3) }
            }
            WithdrawEther => Op::Withdraw { asset: Asset::Eth, amount: uint(0) },
            WithdrawErc20 => Op::Withdraw { asset: Asset::Erc20(address(0)?), amount: uint(1) },
            WithdrawErc721 => Op::Withdraw { asset: Asset::Erc721(address(0)?, uint(1)), amount: U256::one() },
            WithdrawErc1155 => Op::Withdraw { asset: Asset::Erc1155(address(0)?, uint(1)), amount: uint(2) },
            Mine => Op::Mine,
        };
        op.validate()?;
        Ok(op)
    }

    /// The checks an operation passes before it reaches the ledger's state, shared by both
    /// encodings and by [`crate::Ledger::advance`]: a positive amount, 1 for an ERC-721 token,
    /// and no COIN withdrawal. The one place these rules are written.
    pub fn validate(&self) -> Result<(), Rejection> {
        match self {
            Op::Transfer { asset, amount, .. } => validate_amount(asset, *amount),
            Op::Withdraw { asset, amount } => {
                validate_amount(asset, *amount)?;
                if !asset.is_withdrawable() {
                    return Err(Rejection::new(
                        ErrorCode::NotWithdrawable,
                        "COIN exists only inside the ledger and cannot be withdrawn",
                    ));
                }
                Ok(())
            }
            Op::Mine => Ok(()),
        }
    }

    /// The JSON encoding of this operation (the inverse of [`Op::from_json`]).
    pub fn to_json(&self) -> Value {
        match self {
            Op::Transfer { to, asset, amount } => {
                serde_json::json!({"op": "transfer", "to": to, "asset": asset, "amount": amount.to_string()})
            }
            Op::Withdraw { asset, amount } => {
                serde_json::json!({"op": "withdraw", "asset": asset, "amount": amount.to_string()})
            }
            Op::Mine => serde_json::json!({"op": "mine"}),
        }
    }
}

/// The amount rule every transaction obeys, deposits included: greater than zero, and exactly
/// 1 for an ERC-721 token.
pub fn validate_amount(asset: &Asset, amount: U256) -> Result<(), Rejection> {
    if amount.is_zero() {
        return Err(Rejection::new(ErrorCode::InvalidAmount, "amount must be greater than zero"));
    }
    if asset.is_nft() && amount != U256::one() {
        return Err(Rejection::new(
            ErrorCode::InvalidAmount,
            format!("an ERC-721 token moves whole: amount must be 1, got {amount}"),
        ));
    }
    Ok(())
}

/// A JSON object whose keys are all distinct. `serde_json` keeps the last of repeated keys, so
/// `{"op":"transfer","op":"mine"}` would silently mine; a repeated key is refused instead, as an
/// unknown one is: whoever wrote it meant something the ledger cannot guess.
struct UniqueKeys(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueKeys;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<UniqueKeys, A::Error> {
                let mut map = Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    if map.contains_key(&key) {
                        return Err(serde::de::Error::custom(format_args!("duplicate field {}", quote(&key))));
                    }
                    let value: Value = access.next_value()?;
                    map.insert(key, value);
                }
                Ok(UniqueKeys(map))
            }
        }
        d.deserialize_map(Visitor)
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, Rejection> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Rejection::new(ErrorCode::MalformedPayload, format!("field {name:?} must be a string"))),
        None => Err(Rejection::new(ErrorCode::MalformedPayload, format!("missing field {name:?}"))),
    }
}

/// `amount` is required, except for ERC-721 where it defaults to 1.
fn amount_field(obj: &Map<String, Value>, asset: &Asset) -> Result<U256, Rejection> {
    if asset.is_nft() && !obj.contains_key("amount") {
        return Ok(U256::one());
    }
    parse_amount(str_field(obj, "amount")?)
}

/// The functions of `ILedger`, the ABI form of [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiFunction {
    TransferEther,
    TransferCoin,
    TransferErc20,
    TransferErc721,
    TransferErc1155,
    WithdrawEther,
    WithdrawErc20,
    WithdrawErc721,
    WithdrawErc1155,
    Mine,
}

impl AbiFunction {
    pub const ALL: &'static [AbiFunction] = &[
        AbiFunction::TransferEther,
        AbiFunction::TransferCoin,
        AbiFunction::TransferErc20,
        AbiFunction::TransferErc721,
        AbiFunction::TransferErc1155,
        AbiFunction::WithdrawEther,
        AbiFunction::WithdrawErc20,
        AbiFunction::WithdrawErc721,
        AbiFunction::WithdrawErc1155,
        AbiFunction::Mine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AbiFunction::TransferEther => "transferEther",
            AbiFunction::TransferCoin => "transferCoin",
            AbiFunction::TransferErc20 => "transferERC20",
            AbiFunction::TransferErc721 => "transferERC721",
            AbiFunction::TransferErc1155 => "transferERC1155",
            AbiFunction::WithdrawEther => "withdrawEther",
            AbiFunction::WithdrawErc20 => "withdrawERC20",
            AbiFunction::WithdrawErc721 => "withdrawERC721",
            AbiFunction::WithdrawErc1155 => "withdrawERC1155",
            AbiFunction::Mine => "mine",
        }
    }

    pub fn params(self) -> Vec<ethabi::ParamType> {
        use ethabi::ParamType::{Address as A, Uint};
        let u = || Uint(256);
        match self {
            AbiFunction::TransferEther | AbiFunction::TransferCoin => vec![A, u()],
            AbiFunction::TransferErc20 | AbiFunction::TransferErc721 => vec![A, A, u()],
            AbiFunction::TransferErc1155 => vec![A, A, u(), u()],
            AbiFunction::WithdrawEther => vec![u()],
            AbiFunction::WithdrawErc20 | AbiFunction::WithdrawErc721 => vec![A, u()],
            AbiFunction::WithdrawErc1155 => vec![A, u(), u()],
            AbiFunction::Mine => vec![],
        }
    }

    /// The canonical signature, e.g. `transferEther(address,uint256)`.
    pub fn signature(self) -> String {
        let params: Vec<String> = self.params().iter().map(ToString::to_string).collect();
        format!("{}({})", self.name(), params.join(","))
    }

    /// The first four bytes of keccak256 of the signature.
    pub fn selector(self) -> [u8; 4] {
        static SELECTORS: OnceLock<Vec<[u8; 4]>> = OnceLock::new();
        let all = SELECTORS
            .get_or_init(|| AbiFunction::ALL.iter().map(|f| ethabi::short_signature(f.name(), &f.params())).collect());
        let i = AbiFunction::ALL.iter().position(|f| *f == self).unwrap_or_default();
        all[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_like_unknown_ones() {
        for payload in [
            r#"{"op":"transfer","op":"mine"}"#,
            r#"{"op":"mine","op":"mine"}"#,
            r#"{"op":"withdraw","asset":"ETH","amount":"1","amount":"2"}"#,
        ] {
            let e = Op::decode(payload.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::MalformedPayload, "{payload}: {e}");
            assert!(e.message.contains("duplicate field"), "{payload}: {e}");
        }
        assert_eq!(Op::decode(br#"{"op":"mine"}"#), Ok(Op::Mine));
        let e = Op::decode(br#"{"op":"mine","from":"0x"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedPayload);
    }

    #[test]
    fn long_user_strings_are_quoted_short() {
        let to = format!("0x{}", "1".repeat(20_000));
        let e = Op::decode(format!(r#"{{"op":"transfer","to":"{to}","asset":"ETH","amount":"1"}}"#).as_bytes())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidAddress);
        assert!(e.message.len() < 300 && e.message.contains("(20002 bytes)"), "{}", e.message);
    }
}

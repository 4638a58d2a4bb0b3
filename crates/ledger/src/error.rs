//! The closed set of result codes for rejected inputs and queries.
//!
//! Business rejections are data, not errors: the shell turns a [`Rejection`] into a JSON report
//! and a `reject`. The set is closed so that clients can match on it.

use std::fmt;

macro_rules! codes {
    ($($variant:ident => $code:literal, $doc:literal;)*) => {
        /// Why an input or a query was refused. `as_str` is the stable wire form.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $doc,)*
                }
            }
        }
    };
}

codes! {
    MalformedPayload => "MALFORMED_PAYLOAD", "The payload is neither valid JSON nor a known ABI call, or a field is missing or of the wrong type.";
    UnknownOp => "UNKNOWN_OP", "The JSON `op` or the ABI selector names no operation.";
    InvalidAddress => "INVALID_ADDRESS", "An address is not 0x followed by 40 hex digits.";
    InvalidAmount => "INVALID_AMOUNT", "An amount is not a base-unit integer, is zero, or is not 1 for an ERC-721 token.";
    Overflow => "OVERFLOW", "The amount, or a resulting balance or supply, does not fit in 256 bits.";
    InsufficientFunds => "INSUFFICIENT_FUNDS", "The sender's pending balance is lower than the amount.";
    UnknownAsset => "UNKNOWN_ASSET", "The asset is not ETH, COIN, erc20:<token>, erc721:<token>:<id> or erc1155:<token>:<id>.";
    NotWithdrawable => "NOT_WITHDRAWABLE", "COIN exists only inside the ledger and cannot be withdrawn.";
    DappAddressUnknown => "DAPP_ADDRESS_UNKNOWN", "A withdrawal needs the dApp's own address, which is not known yet.";
    PayloadTooLarge => "PAYLOAD_TOO_LARGE", "The payload is longer than the configured limit.";
    DepositFailed => "DEPOSIT_FAILED", "The portal reported that the L1 transfer failed (v1 ERC-20 success byte 0).";
    MalformedDeposit => "MALFORMED_DEPOSIT", "A portal or relay payload does not have the documented layout.";
    DuplicateNft => "DUPLICATE_NFT", "An ERC-721 deposit names a token the ledger already holds.";
    NonceExhausted => "NONCE_EXHAUSTED", "No proof-of-work nonce was found within the configured bound.";
    InvalidQuery => "INVALID_QUERY", "An inspect path or parameter is malformed or out of range.";
    NotFound => "NOT_FOUND", "An inspect query names a block or transaction that does not exist.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused input or query: a code from the closed set and a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: ErrorCode,
    pub message: String,
}

impl Rejection {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Rejection {
        Rejection { code, message: message.into() }
    }

    /// The wire form shared by reports and inspect answers:
    /// `{"error":{"code":"…","message":"…"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code.as_str(), "message": self.message}})
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Rejection {}

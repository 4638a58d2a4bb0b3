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

/// Longest message a [`Rejection`] carries, in bytes. Messages quote user data only through
/// [`quote`], so they stay far below this; the cap is the backstop that keeps every error
/// report within [`crate::MAX_OUTPUT_BYTES`] even if a message forgets to (JSON escaping can at
/// most multiply it by six).
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Characters of user data an error message quotes before cutting it short.
pub const QUOTE_CHARS: usize = 64;

/// Quotes user data for an error message: the whole text in Rust debug form when it is short,
/// else its first [`QUOTE_CHARS`] characters followed by a marker with the full length, e.g.
/// `"0x1111…"…(20000 bytes)`. Echoing unbounded input would let any user grow a report past
/// what the rollup server accepts.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}…({} bytes)", &text[..cut], text.len()),
    }
}

/// Cuts `message` to at most [`MAX_MESSAGE_BYTES`] on a character boundary, marking the cut.
pub(crate) fn cap_message(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let total = message.len();
        let mut cut = MAX_MESSAGE_BYTES - 32;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push_str(&format!("…({total} bytes)"));
    }
    message
}

impl Rejection {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Rejection {
        Rejection { code, message: cap_message(message.into()) }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_short_and_marked() {
        assert_eq!(quote("ETH"), "\"ETH\"");
        let long = "é".repeat(10_000);
        let q = quote(&long);
        assert!(q.starts_with(&format!("\"{}\"…", "é".repeat(QUOTE_CHARS))), "{q}");
        assert!(q.ends_with("…(20000 bytes)"), "{q}");
        assert!(q.len() < 4 * QUOTE_CHARS, "{}", q.len());
    }

    #[test]
    fn messages_are_capped_on_a_character_boundary() {
        let r = Rejection::new(ErrorCode::InvalidQuery, "ü".repeat(5_000));
        assert!(r.message.len() <= MAX_MESSAGE_BYTES, "{}", r.message.len());
        assert!(r.message.ends_with("…(10000 bytes)"));
        let raw = Rejection { code: ErrorCode::InvalidQuery, message: "x".repeat(100_000) };
        assert!(raw.to_json().to_string().len() < 2 * MAX_MESSAGE_BYTES);
    }
}

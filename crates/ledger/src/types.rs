//! Primitive value types: addresses, 32-byte hashes and 256-bit amounts.

use std::fmt;
use std::str::FromStr;

pub use ethabi::ethereum_types::U256;

use crate::error::{quote, ErrorCode, Rejection};

/// Fixed-size byte strings written as `0x` + lower-case hex, parsed case-insensitively.
macro_rules! hex_bytes {
    ($(#[$doc:meta])* $name:ident, $len:literal, $what:literal, $code:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const ZERO: $name = $name([0; $len]);
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = Rejection;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let invalid = || {
                    Rejection::new($code, format!("invalid {} {}: expected 0x followed by {} hex digits", $what, quote(s), 2 * $len))
                };
                let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or_else(invalid)?;
                if digits.len() != 2 * $len {
                    return Err(invalid());
                }
                let mut out = [0u8; $len];
                hex::decode_to_slice(digits, &mut out).map_err(|_| invalid())?;
                Ok($name(out))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(|e: Rejection| serde::de::Error::custom(e.message))
            }
        }
    };
}

hex_bytes!(
    /// A 20-byte account or contract address. Parsed case-insensitively, always shown lower-case.
    Address, 20, "address", ErrorCode::InvalidAddress
);

hex_bytes!(
    /// A SHA-256 digest: block hashes, transaction hashes, Merkle roots.
    Hash, 32, "hash", ErrorCode::InvalidQuery
);

impl Address {
    /// Reads an address from exactly 20 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Address> {
        bytes.try_into().ok().map(Address)
    }

    /// Reads an address from a 32-byte ABI word whose first 12 bytes must be zero.
    pub fn from_word(word: &[u8; 32]) -> Option<Address> {
        if word[..12].iter().any(|&b| b != 0) {
            return None;
        }
        Address::from_slice(&word[12..])
    }

    pub fn to_ethabi(self) -> ethabi::Address {
        ethabi::Address::from(self.0)
    }
}

/// The first 8 bytes as a big-endian integer: a compact, order-preserving index key.
pub(crate) fn prefix_u64<const N: usize>(bytes: &[u8; N]) -> u64 {
    const { assert!(N >= 8) };
    u64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
}

/// Big-endian 32-byte encoding of an amount.
pub fn u256_be(value: U256) -> [u8; 32] {
    let mut out = [0u8; 32];
    value.to_big_endian(&mut out);
    out
}

/// Parses an amount written as a decimal string or as a `0x` hex string.
///
/// Zero is accepted here; whether zero is allowed is the caller's rule.
pub fn parse_amount(s: &str) -> Result<U256, Rejection> {
    let invalid = |why: &str| Rejection::new(ErrorCode::InvalidAmount, format!("invalid amount {}: {why}", quote(s)));
    if let Some(digits) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("expected hex digits after 0x"));
        }
        let significant = digits.trim_start_matches('0');
        if significant.len() > 64 {
            return Err(Rejection::new(ErrorCode::Overflow, format!("amount {} does not fit in 256 bits", quote(s))));
        }
        if significant.is_empty() {
            return Ok(U256::zero());
        }
        return U256::from_str_radix(significant, 16).map_err(|_| invalid("expected hex digits after 0x"));
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("expected a decimal integer string (base units) or 0x hex"));
    }
    U256::from_dec_str(s)
        .map_err(|_| Rejection::new(ErrorCode::Overflow, format!("amount {} does not fit in 256 bits", quote(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_case_insensitively_and_print_lower_case() {
        let a: Address = "0xFfdbe43d4c855BF7e0f105c400A50857f53AB044".parse().unwrap();
        assert_eq!(a.to_string(), "0xffdbe43d4c855bf7e0f105c400a50857f53ab044");
        assert_eq!(a, "0xffdbe43d4c855bf7e0f105c400a50857f53ab044".parse().unwrap());
        for bad in [
            "",
            "0x",
            "ffdbe43d4c855bf7e0f105c400a50857f53ab044",
            "0xffdbe43d4c855bf7e0f105c400a50857f53ab04",
            "0xgfdbe43d4c855bf7e0f105c400a50857f53ab044",
        ] {
            assert_eq!(bad.parse::<Address>().unwrap_err().code, ErrorCode::InvalidAddress, "{bad}");
        }
    }

    #[test]
    fn amounts_parse_in_decimal_and_hex_with_overflow_detected() {
        assert_eq!(parse_amount("1000").unwrap(), U256::from(1000));
        assert_eq!(parse_amount("0x3e8").unwrap(), U256::from(1000));
        assert_eq!(
            parse_amount("0x0000000000000000000000000000000000000000000000000000000000000000003e8").unwrap(),
            U256::from(1000)
        );
        assert_eq!(parse_amount("0").unwrap(), U256::zero());
        let max = U256::MAX.to_string();
        assert_eq!(parse_amount(&max).unwrap(), U256::MAX);
        assert_eq!(parse_amount(&format!("{max}0")).unwrap_err().code, ErrorCode::Overflow);
        assert_eq!(parse_amount(&format!("0x1{}", "0".repeat(64))).unwrap_err().code, ErrorCode::Overflow);
        for bad in ["", "-1", "1.5", "1e3", "0x", "0xzz", " 1", "1_000"] {
            assert_eq!(parse_amount(bad).unwrap_err().code, ErrorCode::InvalidAmount, "{bad}");
        }
    }
}

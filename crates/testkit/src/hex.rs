//! Hand-built test vectors: 32-byte words and addresses written as hex, concatenated into bytes.
//! Nothing here is produced by the code under test or by an ABI encoder.

use ledger::{Address, U256};

/// 1 ether = 10^18 wei = 0x0de0b6b3a7640000, as a 32-byte big-endian word.
pub const ONE_ETHER: &str = "0000000000000000000000000000000000000000000000000de0b6b3a7640000";
/// A word with every byte distinct, to catch byte-order and offset mistakes.
pub const DISTINCT: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
pub const W0: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub const W1: &str = "0000000000000000000000000000000000000000000000000000000000000001";
pub const W2: &str = "0000000000000000000000000000000000000000000000000000000000000002";
pub const W3: &str = "0000000000000000000000000000000000000000000000000000000000000003";
pub const W4: &str = "0000000000000000000000000000000000000000000000000000000000000004";
pub const W5: &str = "0000000000000000000000000000000000000000000000000000000000000005";
pub const W7: &str = "0000000000000000000000000000000000000000000000000000000000000007";
pub const W_3E8: &str = "00000000000000000000000000000000000000000000000000000000000003e8";
pub const W_40: &str = "0000000000000000000000000000000000000000000000000000000000000040";
pub const W_60: &str = "0000000000000000000000000000000000000000000000000000000000000060";
pub const W_80: &str = "0000000000000000000000000000000000000000000000000000000000000080";
pub const W_A0: &str = "00000000000000000000000000000000000000000000000000000000000000a0";
pub const W_C0: &str = "00000000000000000000000000000000000000000000000000000000000000c0";
pub const W_E0: &str = "00000000000000000000000000000000000000000000000000000000000000e0";
pub const W_120: &str = "0000000000000000000000000000000000000000000000000000000000000120";
pub const W_140: &str = "0000000000000000000000000000000000000000000000000000000000000140";
pub const W_160: &str = "0000000000000000000000000000000000000000000000000000000000000160";
/// 2^64: does not fit a `usize` on 64-bit targets.
pub const W_2_POW_64: &str = "0000000000000000000000000000000000000000000000010000000000000000";
/// 2^32 - 1: the largest length some decoders accept before checking the data is there.
pub const W_U32_MAX: &str = "00000000000000000000000000000000000000000000000000000000ffffffff";
pub const W_MAX: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

/// Concatenates hex pieces into bytes.
pub fn cat(parts: &[&str]) -> Vec<u8> {
    hex::decode(parts.concat()).expect("test vectors are valid hex")
}

/// An address from 40 hex digits.
pub fn addr(hex20: &str) -> Address {
    Address(hex::decode(hex20).expect("hex").try_into().expect("20 bytes"))
}

/// A number from a hex word.
pub fn word(hex_word: &str) -> U256 {
    U256::from_str_radix(hex_word, 16).expect("hex word")
}

/// Bytes from Ethereum's `0x…` form, as the node's APIs give them.
pub fn from_0x(text: &str) -> Vec<u8> {
    let digits = text.strip_prefix("0x").unwrap_or_else(|| panic!("{text:?} does not start with 0x"));
    hex::decode(digits).unwrap_or_else(|e| panic!("{text:?} is not hex: {e}"))
}

/// Bytes in Ethereum's `0x…` form.
pub fn to_0x(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

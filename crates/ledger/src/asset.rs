//! Assets: what a balance is denominated in.

use std::fmt;
use std::str::FromStr;

use crate::error::{quote, ErrorCode, Rejection};
use crate::types::{parse_amount, u256_be, Address, U256};

/// One kind of value held in the balance table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Asset {
    /// Ether deposited through the EtherPortal.
    Eth,
    /// The ledger's own coin, created only as block rewards. Transferable, not withdrawable.
    Coin,
    /// ERC-20 tokens of one contract.
    Erc20(Address),
    /// One ERC-721 token (balance 0 or 1).
    Erc721(Address, U256),
    /// ERC-1155 amounts of one token id.
    Erc1155(Address, U256),
}

/// Length of [`Asset::encode`]: tag (1) ‖ token (20) ‖ id (32), zeros where unused.
pub const ASSET_ENCODED_LEN: usize = 53;

impl Asset {
    /// Fixed-size canonical binary encoding, used inside transaction encodings and leaf hashes.
    pub fn encode(&self) -> [u8; ASSET_ENCODED_LEN] {
        let mut out = [0u8; ASSET_ENCODED_LEN];
        let (tag, token, id) = match *self {
            Asset::Eth => (0u8, None, None),
            Asset::Coin => (1, None, None),
            Asset::Erc20(t) => (2, Some(t), None),
            Asset::Erc721(t, id) => (3, Some(t), Some(id)),
            Asset::Erc1155(t, id) => (4, Some(t), Some(id)),
        };
        out[0] = tag;
        if let Some(t) = token {
            out[1..21].copy_from_slice(&t.0);
        }
        if let Some(id) = id {
            out[21..].copy_from_slice(&u256_be(id));
        }
        out
    }

    /// Whether a balance of this asset may be withdrawn to L1.
    pub fn is_withdrawable(&self) -> bool {
        !matches!(self, Asset::Coin)
    }

    /// Whether the asset is a non-fungible token whose balances are 0 or 1.
    pub fn is_nft(&self) -> bool {
        matches!(self, Asset::Erc721(..))
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Asset::Eth => f.write_str("ETH"),
            Asset::Coin => f.write_str("COIN"),
            Asset::Erc20(t) => write!(f, "erc20:{t}"),
            Asset::Erc721(t, id) => write!(f, "erc721:{t}:{id}"),
            Asset::Erc1155(t, id) => write!(f, "erc1155:{t}:{id}"),
        }
    }
}

impl FromStr for Asset {
    type Err = Rejection;

    /// Parses `ETH`, `COIN`, `erc20:<token>`, `erc721:<token>:<id>`, `erc1155:<token>:<id>`.
    /// Kind names are case-insensitive; ids are decimal or 0x hex.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || {
            Rejection::new(
                ErrorCode::UnknownAsset,
                format!(
                    "unknown asset {}: expected ETH, COIN, erc20:<token>, erc721:<token>:<id> or erc1155:<token>:<id>",
                    quote(s)
                ),
            )
        };
        let mut parts = s.split(':');
        let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
        let rest: Vec<&str> = parts.collect();
        let id = |text: &str| {
            parse_amount(text).map_err(|e| {
                Rejection::new(
                    ErrorCode::UnknownAsset,
                    format!("invalid token id in asset {}: {}", quote(s), e.message),
                )
            })
        };
        match (kind.as_str(), rest.as_slice()) {
            ("eth", []) => Ok(Asset::Eth),
            ("coin", []) => Ok(Asset::Coin),
            ("erc20", [token]) => Ok(Asset::Erc20(token.parse()?)),
            ("erc721", [token, i]) => Ok(Asset::Erc721(token.parse()?, id(i)?)),
            ("erc1155", [token, i]) => Ok(Asset::Erc1155(token.parse()?, id(i)?)),
            _ => Err(unknown()),
        }
    }
}

impl serde::Serialize for Asset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_round_trip_through_their_text_form() {
        let token = "0x92c6bca388e99d6b304f1af3c3cd749ff0b591e2";
        for text in [
            "ETH".to_string(),
            "COIN".into(),
            format!("erc20:{token}"),
            format!("erc721:{token}:7"),
            format!("erc1155:{token}:0"),
        ] {
            let asset: Asset = text.parse().unwrap();
            assert_eq!(asset.to_string(), text);
        }
        assert_eq!("eth".parse::<Asset>().unwrap(), Asset::Eth);
        let upper: Asset = format!("ERC721:{}:0x10", token.to_uppercase().replace("0X", "0x")).parse().unwrap();
        assert_eq!(upper.to_string(), format!("erc721:{token}:16"));
    }

    #[test]
    fn malformed_assets_are_rejected_with_the_right_code() {
        for bad in [
            "",
            "BTC",
            "erc20",
            "erc20:0x12",
            "erc721:0x92c6bca388e99d6b304f1af3c3cd749ff0b591e2",
            "ETH:1",
            "erc1155:0x92c6bca388e99d6b304f1af3c3cd749ff0b591e2:x",
        ] {
            let code = bad.parse::<Asset>().unwrap_err().code;
            assert!(matches!(code, ErrorCode::UnknownAsset | ErrorCode::InvalidAddress), "{bad}: {code}");
        }
    }

    #[test]
    fn encodings_are_distinct_per_kind() {
        let t = Address([7; 20]);
        let all =
            [Asset::Eth, Asset::Coin, Asset::Erc20(t), Asset::Erc721(t, U256::one()), Asset::Erc1155(t, U256::one())];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.encode(), b.encode());
            }
        }
    }
}

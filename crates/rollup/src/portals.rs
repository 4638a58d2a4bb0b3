//! Portals: canonical addresses and the `abi.encodePacked` layouts of their deposit payloads.

use ledger::{Address, Asset, ErrorCode, Rejection, U256};

use crate::wire::RollupsVersion;

/// The contracts whose inputs are deposits (and, in v1, the relay of the dApp's address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalAddresses {
    pub ether: Address,
    pub erc20: Address,
    pub erc721: Address,
    pub erc1155_single: Address,
    pub erc1155_batch: Address,
    /// DAppAddressRelay; v2 has none (the address arrives as `app_contract`).
    pub dapp_address_relay: Option<Address>,
}

fn addr(text: &str) -> Address {
    // Only called on the literal constants below, which are checked by a test.
    text.parse().unwrap_or_default()
}

impl PortalAddresses {
    /// The canonical deployments: Rollups contracts v1.0–1.4, or v2.2.0 (the zero-salt addresses
    /// of its deployment script, which the dev node and the console use too). The v2.0.x
    /// addresses are [`PortalAddresses::v2_0`], selectable with the `LEDGER_*_PORTAL` settings.
    pub fn canonical(version: RollupsVersion) -> PortalAddresses {
        match version {
            RollupsVersion::V1 => PortalAddresses {
                ether: addr("0xFfdbe43d4c855BF7e0f105c400A50857f53AB044"),
                erc20: addr("0x9C21AEb2093C32DDbC53eEF24B873BDCd1aDa1DB"),
                erc721: addr("0x237F8DD094C0e47f4236f12b4Fa01d6Dae89fb87"),
                erc1155_single: addr("0x7CFB0193Ca87eB6e48056885E026552c3A941FC4"),
                erc1155_batch: addr("0xedB53860A6B52bbb7561Ad596416ee9965B055Aa"),
                dapp_address_relay: Some(addr("0xF5DE34d6BbC0446E2a45719E718efEbaaE179daE")),
            },
            RollupsVersion::V2 => PortalAddresses {
                ether: addr("0xA632c5c05812c6a6149B7af5C56117d1D2603828"),
                erc20: addr("0xACA6586A0Cf05bD831f2501E7B4aea550dA6562D"),
                erc721: addr("0x9E8851dadb2b77103928518846c4678d48b5e371"),
                erc1155_single: addr("0x18558398Dd1a8cE20956287a4Da7B76aE7A96662"),
                erc1155_batch: addr("0xe246Abb974B307490d9C6932F48EbE79de72338A"),
                dapp_address_relay: None,
            },
        }
    }

    /// The Rollups v2.0.x portals (the `0xc700…0051` vanity addresses of its cannonfile), for a
    /// chain with that release: set them with `LEDGER_ETHER_PORTAL` and its siblings.
    pub fn v2_0() -> PortalAddresses {
        PortalAddresses {
            ether: addr("0xc70076a466789B595b50959cdc261227F0D70051"),
            erc20: addr("0xc700D6aDd016eECd59d989C028214Eaa0fCC0051"),
            erc721: addr("0xc700d52F5290e978e9CAe7D1E092935263b60051"),
            erc1155_single: addr("0xc700A261279aFC6F755A3a67D86ae43E2eBD0051"),
            erc1155_batch: addr("0xc700A2e5531E720a2434433b6ccf4c0eA2400051"),
            dapp_address_relay: None,
        }
    }

    /// Which portal, if any, `sender` is.
    pub fn classify(&self, sender: &Address) -> Option<PortalKind> {
        [
            (self.ether, PortalKind::Ether),
            (self.erc20, PortalKind::Erc20),
            (self.erc721, PortalKind::Erc721),
            (self.erc1155_single, PortalKind::Erc1155Single),
            (self.erc1155_batch, PortalKind::Erc1155Batch),
        ]
        .into_iter()
        .find(|(a, _)| a == sender)
        .map(|(_, k)| k)
    }

    /// A canonical binary encoding, hashed into the ledger's genesis.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for a in [self.ether, self.erc20, self.erc721, self.erc1155_single, self.erc1155_batch] {
            out.extend(a.0);
        }
        out.extend(self.dapp_address_relay.map_or([0; 20], |a| a.0));
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortalKind {
    Ether,
    Erc20,
    Erc721,
    Erc1155Single,
    Erc1155Batch,
}

fn malformed(what: &str, message: impl std::fmt::Display) -> Rejection {
    Rejection::new(ErrorCode::MalformedDeposit, format!("{what} deposit: {message}"))
}

fn need(payload: &[u8], len: usize, what: &str) -> Result<(), Rejection> {
    if payload.len() < len {
        return Err(malformed(
            what,
            format_args!("payload is {} bytes, the layout needs at least {len}", payload.len()),
        ));
    }
    Ok(())
}

fn address_at(p: &[u8], at: usize) -> Address {
    let mut a = [0u8; 20];
    a.copy_from_slice(&p[at..at + 20]);
    Address(a)
}

fn u256_at(p: &[u8], at: usize) -> U256 {
    U256::from_big_endian(&p[at..at + 32])
}

/// Decodes a portal payload into the depositor and what to credit.
///
/// Layouts (byte ranges, end-exclusive; trailing data such as `execLayerData` is ignored):
/// - Ether: `[0:20]` sender, `[20:52]` value.
/// - ERC-20 v1: `[0:1]` success flag, `[1:21]` token, `[21:41]` sender, `[41:73]` amount.
/// - ERC-20 v2: `[0:20]` token, `[20:40]` sender, `[40:72]` amount.
/// - ERC-721: `[0:20]` token, `[20:40]` sender, `[40:72]` token id.
/// - ERC-1155 single: `[0:20]` token, `[20:40]` sender, `[40:72]` id, `[72:104]` value.
/// - ERC-1155 batch: `[0:20]` token, `[20:40]` sender, then
///   `abi.encode(uint256[] ids, uint256[] values, bytes, bytes)`.
pub fn decode_deposit(
    kind: PortalKind,
    version: RollupsVersion,
    payload: &[u8],
) -> Result<(Address, Vec<(Asset, U256)>), Rejection> {
    match kind {
        PortalKind::Ether => {
            need(payload, 52, "Ether")?;
            Ok((address_at(payload, 0), vec![(Asset::Eth, u256_at(payload, 20))]))
        }
        PortalKind::Erc20 if version == RollupsVersion::V1 => {
            need(payload, 73, "ERC-20")?;
            match payload[0] {
                1 => {}
                0 => {
                    return Err(Rejection::new(
                        ErrorCode::DepositFailed,
                        "ERC-20 deposit: the portal reports that transferFrom failed; nothing is credited",
                    ))
                }
                other => return Err(malformed("ERC-20", format_args!("success flag is {other}, expected 0 or 1"))),
            }
            Ok((address_at(payload, 21), vec![(Asset::Erc20(address_at(payload, 1)), u256_at(payload, 41))]))
        }
        PortalKind::Erc20 => {
            need(payload, 72, "ERC-20")?;
            Ok((address_at(payload, 20), vec![(Asset::Erc20(address_at(payload, 0)), u256_at(payload, 40))]))
        }
        PortalKind::Erc721 => {
            need(payload, 72, "ERC-721")?;
            let asset = Asset::Erc721(address_at(payload, 0), u256_at(payload, 40));
            Ok((address_at(payload, 20), vec![(asset, U256::one())]))
        }
        PortalKind::Erc1155Single => {
            need(payload, 104, "ERC-1155")?;
            let asset = Asset::Erc1155(address_at(payload, 0), u256_at(payload, 40));
            Ok((address_at(payload, 20), vec![(asset, u256_at(payload, 72))]))
        }
        PortalKind::Erc1155Batch => {
            need(payload, 40, "ERC-1155 batch")?;
            let token = address_at(payload, 0);
            use ethabi::ParamType::{Array, Bytes, Uint};
            let types = [Array(Box::new(Uint(256))), Array(Box::new(Uint(256))), Bytes, Bytes];
            let tokens = ethabi::decode(&types, &payload[40..]).map_err(|e| {
                malformed(
                    "ERC-1155 batch",
                    format_args!(
                        "bytes after token and sender are not abi.encode(uint256[], uint256[], bytes, bytes): {e:?}"
                    ),
                )
            })?;
            let list = |i: usize| -> Vec<U256> {
                tokens
                    .get(i)
                    .cloned()
                    .and_then(|t| t.into_array())
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.into_uint())
                    .collect()
            };
            let (ids, values) = (list(0), list(1));
            if ids.len() != values.len() {
                return Err(malformed("ERC-1155 batch", format_args!("{} ids but {} values", ids.len(), values.len())));
            }
            if ids.is_empty() {
                return Err(malformed("ERC-1155 batch", "no tokens"));
            }
            let credits = ids.into_iter().zip(values).map(|(id, v)| (Asset::Erc1155(token, id), v)).collect();
            Ok((address_at(payload, 20), credits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_addresses_parse() {
        for v in [RollupsVersion::V1, RollupsVersion::V2] {
            let p = PortalAddresses::canonical(v);
            for a in [p.ether, p.erc20, p.erc721, p.erc1155_single, p.erc1155_batch] {
                assert_ne!(a, Address::ZERO);
            }
        }
        let v1 = PortalAddresses::canonical(RollupsVersion::V1);
        assert_eq!(v1.ether.to_string(), "0xffdbe43d4c855bf7e0f105c400a50857f53ab044");
        assert_eq!(v1.classify(&v1.erc1155_batch), Some(PortalKind::Erc1155Batch));
        assert_eq!(v1.classify(&Address([1; 20])), None);
        let v2 = PortalAddresses::canonical(RollupsVersion::V2);
        assert_eq!(v2.erc20.to_string(), "0xaca6586a0cf05bd831f2501e7b4aea550da6562d");
        assert_eq!(v2.ether.to_string(), "0xa632c5c05812c6a6149b7af5c56117d1d2603828");
        assert_eq!(v2.dapp_address_relay, None);
        let v2_0 = PortalAddresses::v2_0();
        assert_eq!(v2_0.erc20.to_string(), "0xc700d6add016eecd59d989c028214eaa0fcc0051");
        for a in [v2_0.ether, v2_0.erc20, v2_0.erc721, v2_0.erc1155_single, v2_0.erc1155_batch] {
            assert_ne!(a, Address::ZERO);
        }
    }
}

//! A small script language for ledger scenarios, and the transcript format that both the
//! in-process golden tests and the end-to-end test against the real binary produce.
//!
//! One command per line; `#` starts a comment. Names written `@alice` are accounts or contracts
//! with fixed addresses (the first 20 bytes of sha256 of the name); transcripts print them back.
//!
//! ```text
//! set LEDGER_MAX_BLOCK_TXS=3        settings, before any input
//! version v2                        metadata shape of the following advances (default v1)
//! at 100 / tick 60                  block timestamp of the following advances
//! advance @alice {"op":"mine"}      a user input with a JSON payload
//! advance @alice abi transferEther(@bob,10)
//! advance @alice hex 0x1234
//! deposit ether @alice 1000         a portal input (the sender is the portal)
//! deposit erc20 @alice @token 50    (erc20-failed: v1 success byte 0)
//! deposit erc721 @alice @nft 7
//! deposit erc1155 @alice @multi 3 100
//! deposit batch @alice @multi 1:10,2:20
//! deposit raw ether 0x…             a portal input with raw payload bytes
//! relay @dapp                       the v1 DAppAddressRelay input
//! inspect balance/@alice
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ethabi::Token;
use ledger::merkle::sha256;
use ledger::{Address, U256};
use rollup::wire::{Advance, AdvanceMetadata, HexBytes, Inspect, Output};
use rollup::{PortalAddresses, RollupRequest, RollupsVersion};

/// A parsed script: settings and the rollup requests to replay, each with its source line.
#[derive(Debug, Clone)]
pub struct Script {
    pub settings: BTreeMap<String, String>,
    pub requests: Vec<(String, RollupRequest)>,
    names: BTreeMap<Address, String>,
}

/// The address of a script name.
pub fn named(name: &str) -> Address {
    let mut a = [0u8; 20];
    a.copy_from_slice(&sha256(&[name.as_bytes()]).0[..20]);
    Address(a)
}

fn word(value: U256) -> [u8; 32] {
    ledger::types::u256_be(value)
}

impl Script {
    pub fn parse(text: &str) -> Result<Script, String> {
        let mut script = Script { settings: BTreeMap::new(), requests: Vec::new(), names: BTreeMap::new() };
        let mut version = RollupsVersion::V1;
        let mut time = 0u64;
        let mut index = 0u64;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |why: String| format!("line {}: {why}: {line}", n + 1);
            let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            let portals = PortalAddresses::canonical(version);
            let mut advance = |sender: Address, payload: Vec<u8>| {
                let metadata = match version {
                    RollupsVersion::V1 => AdvanceMetadata::v1(sender, index, 100 + index, time),
                    RollupsVersion::V2 => AdvanceMetadata::v2(
                        sender,
                        index,
                        100 + index,
                        time,
                        13370,
                        named("dapp"),
                        Some(HexBytes(vec![1; 32])),
                    ),
                };
                index += 1;
                RollupRequest::AdvanceState(Advance { metadata, payload: HexBytes(payload) })
            };
            let request = match cmd {
                "set" => {
                    let (k, v) = rest.split_once('=').ok_or_else(|| fail("expected NAME=VALUE".into()))?;
                    let v = script.substitute(v);
                    script.settings.insert(k.to_string(), v);
                    continue;
                }
                "version" => {
                    version = rest.parse().map_err(fail)?;
                    continue;
                }
                "at" => {
                    time = rest.parse().map_err(|_| fail("expected seconds".into()))?;
                    continue;
                }
                "tick" => {
                    time += rest.parse::<u64>().map_err(|_| fail("expected seconds".into()))?;
                    continue;
                }
                "advance" => {
                    let (who, payload) = rest.split_once(' ').ok_or_else(|| fail("expected @sender payload".into()))?;
                    let sender = script.address(who).map_err(fail)?;
                    let payload = script.payload(payload.trim()).map_err(fail)?;
                    advance(sender, payload)
                }
                "relay" => {
                    let relay = PortalAddresses::canonical(RollupsVersion::V1).dapp_address_relay.unwrap_or_default();
                    let dapp = script.address(rest).map_err(fail)?;
                    advance(relay, dapp.0.to_vec())
                }
                "deposit" => {
                    let (sender, payload) = script.deposit(&portals, version, rest).map_err(fail)?;
                    advance(sender, payload)
                }
                "inspect" => {
                    RollupRequest::InspectState(Inspect { payload: HexBytes(script.substitute(rest).into_bytes()) })
                }
                _ => return Err(fail(format!("unknown command {cmd:?}"))),
            };
            script.requests.push((line.to_string(), request));
        }
        for (label, p) in [
            ("v1", PortalAddresses::canonical(RollupsVersion::V1)),
            ("v2", PortalAddresses::canonical(RollupsVersion::V2)),
        ] {
            for (name, a) in [
                ("ether-portal", p.ether),
                ("erc20-portal", p.erc20),
                ("erc721-portal", p.erc721),
                ("erc1155-single-portal", p.erc1155_single),
                ("erc1155-batch-portal", p.erc1155_batch),
            ] {
                script.names.insert(a, format!("{label}-{name}"));
            }
        }
        script.names.insert(named("dapp"), "@dapp".into());
        Ok(script)
    }

    fn address(&mut self, text: &str) -> Result<Address, String> {
        let name = text.strip_prefix('@').ok_or_else(|| format!("expected an @name, got {text:?}"))?;
        let a = named(name);
        self.names.insert(a, format!("@{name}"));
        Ok(a)
    }

    /// Replaces every `@name` with its address.
    fn substitute(&mut self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('@') {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 1..];
            let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(tail.len());
            let name = &tail[..end];
            let a = named(name);
            self.names.insert(a, format!("@{name}"));
            out.push_str(&a.to_string());
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    fn payload(&mut self, text: &str) -> Result<Vec<u8>, String> {
        if let Some(hex) = text.strip_prefix("hex ") {
            return hex::decode(hex.trim().trim_start_matches("0x")).map_err(|e| e.to_string());
        }
        if let Some(call) = text.strip_prefix("abi ") {
            let (name, args) = call.trim().split_once('(').ok_or("expected fn(args)")?;
            let args: Vec<&str> =
                args.trim_end_matches(')').split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
            let mut tokens = Vec::new();
            let mut types = Vec::new();
            for a in args {
                if a.starts_with('@') {
                    tokens.push(Token::Address(self.address(a)?.to_ethabi()));
                    types.push(ethabi::ParamType::Address);
                } else {
                    tokens.push(Token::Uint(U256::from_dec_str(a).map_err(|e| format!("{e:?}"))?));
                    types.push(ethabi::ParamType::Uint(256));
                }
            }
            let mut out = ethabi::short_signature(name, &types).to_vec();
            out.extend(ethabi::encode(&tokens));
            return Ok(out);
        }
        Ok(self.substitute(text).into_bytes())
    }

    /// Builds a portal payload by hand, byte by byte, from the documented layouts.
    fn deposit(
        &mut self,
        p: &PortalAddresses,
        version: RollupsVersion,
        text: &str,
    ) -> Result<(Address, Vec<u8>), String> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let num = |s: &str| U256::from_dec_str(s).map_err(|e| format!("bad number {s:?}: {e:?}"));
        let mut out = Vec::new();
        let sender = match parts.as_slice() {
            ["raw", kind, hex] => {
                out = hex::decode(hex.trim_start_matches("0x")).map_err(|e| e.to_string())?;
                match *kind {
                    "ether" => p.ether,
                    "erc20" => p.erc20,
                    "erc721" => p.erc721,
                    "erc1155" => p.erc1155_single,
                    "batch" => p.erc1155_batch,
                    _ => return Err(format!("unknown portal {kind:?}")),
                }
            }
            ["ether", who, amount] => {
                out.extend(self.address(who)?.0);
                out.extend(word(num(amount)?));
                out.extend(b"exec-layer-data");
                p.ether
            }
            [kind @ ("erc20" | "erc20-failed"), who, token, amount] => {
                if version == RollupsVersion::V1 {
                    out.push(u8::from(*kind == "erc20"));
                }
                out.extend(self.address(token)?.0);
                out.extend(self.address(who)?.0);
                out.extend(word(num(amount)?));
                p.erc20
            }
            ["erc721", who, token, id] => {
                out.extend(self.address(token)?.0);
                out.extend(self.address(who)?.0);
                out.extend(word(num(id)?));
                out.extend(ethabi::encode(&[Token::Bytes(vec![]), Token::Bytes(vec![])]));
                p.erc721
            }
            ["erc1155", who, token, id, amount] => {
                out.extend(self.address(token)?.0);
                out.extend(self.address(who)?.0);
                out.extend(word(num(id)?));
                out.extend(word(num(amount)?));
                out.extend(ethabi::encode(&[Token::Bytes(vec![]), Token::Bytes(vec![])]));
                p.erc1155_single
            }
            ["batch", who, token, pairs] => {
                out.extend(self.address(token)?.0);
                out.extend(self.address(who)?.0);
                let mut ids = Vec::new();
                let mut values = Vec::new();
                for pair in pairs.split(',') {
                    let (id, v) = pair.split_once(':').ok_or("expected id:amount pairs")?;
                    ids.push(Token::Uint(num(id)?));
                    values.push(Token::Uint(num(v)?));
                }
                out.extend(ethabi::encode(&[
                    Token::Array(ids),
                    Token::Array(values),
                    Token::Bytes(vec![]),
                    Token::Bytes(vec![]),
                ]));
                p.erc1155_batch
            }
            _ => return Err("unknown deposit form".into()),
        };
        Ok((sender, out))
    }

    /// Renders text with every known address replaced by its name.
    pub fn readable(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (a, name) in &self.names {
            out = out.replace(&a.to_string(), name);
        }
        out
    }
}

pub use testkit::rollup_server::Exchange;

fn show(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => format!("0x{}", hex::encode(bytes)),
    }
}

/// The transcript: each request's source line, its outputs and its status, and, when given, the
/// state root after it.
pub fn transcript(script: &Script, exchanges: &[Exchange], roots: Option<&[String]>) -> String {
    let mut out = String::new();
    for (i, ((line, _), ex)) in script.requests.iter().zip(exchanges).enumerate() {
        let _ = writeln!(out, "> {line}");
        for o in &ex.outputs {
            let _ = match o {
                Output::Notice(p) => writeln!(out, "  notice {}", show(p)),
                Output::Report(p) => writeln!(out, "  report {}", show(p)),
                Output::Voucher(v) => writeln!(
                    out,
                    "  voucher destination={} value={} payload={:?}",
                    v.destination,
                    v.value.as_ref().map_or("-".to_string(), |x| format!("{x:?}")),
                    v.payload
                ),
                Output::DelegateCallVoucher(v) => {
                    writeln!(out, "  delegate-call-voucher destination={} payload={:?}", v.destination, v.payload)
                }
            };
        }
        let _ = write!(out, "  => {}", if ex.accept { "accept" } else { "reject" });
        if let Some(root) = roots.and_then(|r| r.get(i)) {
            let _ = write!(out, "  state_root={root}");
        }
        out.push('\n');
    }
    script.readable(&out)
}

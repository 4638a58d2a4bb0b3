//! Invariant checks over arbitrary bytes, shared by the fuzz targets (`fuzz/`) and the test that
//! replays their committed corpus on stable Rust.
//!
//! Each check takes whatever bytes it is given, runs them through one decoder or through the
//! whole [`App`], and panics when an invariant breaks. A rejection is a correct answer, never a
//! failure: what must hold is that nothing panics, that every output fits the output bound
//! (payload within [`MAX_OUTPUT_BYTES`], JSON body within [`MAX_BODY_BYTES`]), that a rejected
//! input leaves the state fingerprint unchanged, and that money is conserved.

use std::sync::OnceLock;

use ledger::error::MAX_MESSAGE_BYTES;
use ledger::{Address, ErrorCode, Op, Rejection, U256};
use rollup::wire::{Advance, AdvanceMetadata, HexBytes, Output, MAX_BODY_BYTES};
use rollup::{decode_deposit, PortalAddresses, PortalKind, RollupRequest, RollupsVersion};

use crate::app::{App, Response, MAX_OUTPUT_BYTES};
use crate::settings::Settings;

/// One invariant check over arbitrary bytes.
pub type Check = fn(&[u8]);

/// Every check by the name of its fuzz target.
pub const TARGETS: &[(&str, Check)] = &[
    ("finish_request", finish_request),
    ("operation", operation),
    ("portal_payload", portal_payload),
    ("inspect_path", inspect_path),
    ("app_steps", app_steps),
];

/// Settings that make sealing cheap and frequent: proof of work of 1 to 2 bits, blocks of three
/// transactions, and a small payload limit so that oversized payloads are cheap to reach.
pub fn fuzz_settings() -> Settings {
    Settings::from_lookup(|k| {
        let v = match k {
            "LEDGER_DIFFICULTY_BITS" | "LEDGER_MIN_DIFFICULTY_BITS" => "1",
            "LEDGER_MAX_DIFFICULTY_BITS" => "2",
            "LEDGER_MAX_BLOCK_TXS" => "3",
            "LEDGER_MAX_PAYLOAD_BYTES" => "4096",
            _ => return None,
        };
        Some(v.to_string())
    })
    .unwrap_or_else(|e| panic!("the fuzzing settings are invalid: {e}"))
}

/// A rejection's message is bounded and its report fits an output.
pub fn check_rejection(r: &Rejection) {
    assert!(r.message.len() <= MAX_MESSAGE_BYTES, "a {}-byte message: {}", r.message.len(), r.message);
    let report = Output::Report(r.to_json().to_string().into_bytes());
    assert!(report.payload_len() <= MAX_OUTPUT_BYTES, "a {}-byte error report", report.payload_len());
}

/// Every output fits the bound; the last one is a JSON report; a reject has that report only,
/// and it carries an error code from the closed set.
pub fn check_response(response: &Response) {
    for output in &response.outputs {
        assert!(output.payload_len() <= MAX_OUTPUT_BYTES, "a {}-byte output payload", output.payload_len());
        assert!(output.body_len() <= MAX_BODY_BYTES, "a {}-byte output body", output.body_len());
    }
    let Some(Output::Report(report)) = response.outputs.last() else {
        panic!("every answer ends with a report: {:?}", response.outputs)
    };
    let report: serde_json::Value =
        serde_json::from_slice(report).unwrap_or_else(|e| panic!("a report that is not JSON: {e}"));
    let code = report["error"]["code"].as_str();
    if response.accept {
        assert!(code.is_none(), "an accepted answer with an error: {report}");
    } else {
        assert_eq!(response.outputs.len(), 1, "a rejection with outputs besides its report");
        assert!(ErrorCode::ALL.iter().any(|c| Some(c.as_str()) == code), "a rejection without a known code: {report}");
    }
}

/// Advances `app` and checks the invariants of one step; returns whether it was accepted.
pub fn checked_advance(app: &mut App, advance: &Advance) -> bool {
    let before = app.ledger().fingerprint();
    let processed = app.ledger().processed_inputs();
    let response = app.advance(advance).unwrap_or_else(|fatal| panic!("fatal ledger error: {fatal}"));
    check_response(&response);
    if response.accept {
        assert_eq!(app.ledger().processed_inputs(), processed + 1);
    } else {
        assert_eq!(app.ledger().fingerprint(), before, "a rejected input changed the state");
    }
    if let Err(e) = app.ledger().check_supply() {
        panic!("money not conserved: {e}");
    }
    response.accept
}

/// Inspects `app` and checks the invariants: the answer fits and the state is unchanged.
pub fn checked_inspect(app: &App, path: &[u8]) -> Response {
    let before = app.ledger().fingerprint();
    let response = app.inspect(path);
    check_response(&response);
    assert_eq!(app.ledger().fingerprint(), before, "an inspect changed the state");
    response
}

/// An advance from `sender` at `index`, in the v1 or v2 metadata shape.
pub fn advance(sender: Address, payload: Vec<u8>, index: u64, timestamp: u64, v2: bool) -> Advance {
    let metadata = if v2 {
        AdvanceMetadata::v2(sender, index, index, timestamp, 13370, DAPP, Some(HexBytes(vec![0; 32])))
    } else {
        AdvanceMetadata::v1(sender, index, index, timestamp)
    };
    Advance { metadata, payload: HexBytes(payload) }
}

/// The dApp's address in the fuzzed streams (relayed in v1, in the metadata in v2).
pub const DAPP: Address = Address([0xda; 20]);
const USERS: [Address; 4] = [Address([0x11; 20]), Address([0x22; 20]), Address([0x33; 20]), Address([0x44; 20])];
const TOKENS: [Address; 2] = [Address([0x70; 20]), Address([0x71; 20])];

fn word(value: U256) -> [u8; 32] {
    ledger::types::u256_be(value)
}

/// A well-formed portal payload (the layouts of `rollup::portals`).
pub fn deposit_payload(
    kind: PortalKind,
    version: RollupsVersion,
    token: Address,
    depositor: Address,
    id: U256,
    amount: U256,
) -> Vec<u8> {
    let mut p = Vec::new();
    match kind {
        PortalKind::Ether => {
            p.extend(depositor.0);
            p.extend(word(amount));
        }
        PortalKind::Erc20 => {
            if version == RollupsVersion::V1 {
                p.push(1);
            }
            p.extend(token.0);
            p.extend(depositor.0);
            p.extend(word(amount));
        }
        PortalKind::Erc721 => {
            p.extend(token.0);
            p.extend(depositor.0);
            p.extend(word(id));
        }
        PortalKind::Erc1155Single => {
            p.extend(token.0);
            p.extend(depositor.0);
            p.extend(word(id));
            p.extend(word(amount));
        }
        PortalKind::Erc1155Batch => {
            p.extend(token.0);
            p.extend(depositor.0);
            // abi.encode(uint256[] [id], uint256[] [amount], bytes "", bytes ""): four offsets,
            // then each array as length and element, then each empty bytes as its length.
            for w in [0x80u64, 0xc0, 0x100, 0x120, 1].map(U256::from) {
                p.extend(word(w));
            }
            p.extend(word(id));
            p.extend(word(U256::one()));
            p.extend(word(amount));
            p.extend([0u8; 64]);
        }
    }
    p
}

fn portal(portals: &PortalAddresses, kind: PortalKind) -> Address {
    match kind {
        PortalKind::Ether => portals.ether,
        PortalKind::Erc20 => portals.erc20,
        PortalKind::Erc721 => portals.erc721,
        PortalKind::Erc1155Single => portals.erc1155_single,
        PortalKind::Erc1155Batch => portals.erc1155_batch,
    }
}

const KINDS: [PortalKind; 5] =
    [PortalKind::Ether, PortalKind::Erc20, PortalKind::Erc721, PortalKind::Erc1155Single, PortalKind::Erc1155Batch];

/// `/finish` reply bodies: a request that parses survives a round trip and is handled with
/// every invariant kept (on a fresh backend); one that does not gets a bounded report.
pub fn finish_request(data: &[u8]) {
    let mut app = App::new(fuzz_settings()).unwrap_or_else(|e| panic!("genesis: {e}"));
    match serde_json::from_slice::<RollupRequest>(data) {
        Ok(request) => {
            let text = serde_json::to_vec(&request).unwrap_or_else(|e| panic!("cannot serialize {request:?}: {e}"));
            let again: RollupRequest =
                serde_json::from_slice(&text).unwrap_or_else(|e| panic!("a request does not round-trip: {e}"));
            assert_eq!(again, request);
            match &request {
                RollupRequest::AdvanceState(a) => {
                    checked_advance(&mut app, a);
                }
                RollupRequest::InspectState(i) => {
                    checked_inspect(&app, &i.payload.0);
                }
            }
        }
        Err(e) => {
            let response = app.unreadable_request(&e.to_string());
            check_response(&response);
            assert!(!response.accept);
        }
    }
}

/// User operations, JSON and ABI: a decoded operation survives a round trip through its JSON
/// form; a refused one has a bounded message.
pub fn operation(data: &[u8]) {
    for decoded in [Op::decode(data), Op::from_json(data), Op::from_abi(data)] {
        match decoded {
            Ok(op) => {
                let json = op.to_json().to_string();
                assert_eq!(Op::from_json(json.as_bytes()), Ok(op.clone()), "{json}");
            }
            Err(r) => check_rejection(&r),
        }
    }
}

/// Portal payloads: the first byte picks the portal and the version, the rest is the payload.
/// Decoding is deterministic and a refusal has a bounded message.
pub fn portal_payload(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else { return };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    let version = if selector & 0x80 == 0 { RollupsVersion::V1 } else { RollupsVersion::V2 };
    let first = decode_deposit(kind, version, payload);
    assert_eq!(first, decode_deposit(kind, version, payload));
    if let Err(r) = &first {
        check_rejection(r);
    }
}

/// A backend with some of everything: several assets and holders, sealed blocks, a pending
/// transaction, the dApp address. Built once per process.
pub fn fixture() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let mut app = App::new(fuzz_settings()).unwrap_or_else(|e| panic!("genesis: {e}"));
        let v1 = PortalAddresses::canonical(RollupsVersion::V1);
        let mut inputs = vec![(v1.dapp_address_relay.unwrap_or(DAPP), DAPP.0.to_vec())];
        for (i, kind) in KINDS.into_iter().enumerate() {
            let amount = U256::from(1000 * (i + 1));
            for (j, user) in USERS[..2].iter().enumerate() {
                let id = U256::from(10 * i + j + 1);
                let p = deposit_payload(kind, RollupsVersion::V1, TOKENS[i % 2], *user, id, amount);
                inputs.push((portal(&v1, kind), p));
            }
        }
        let transfer = format!(r#"{{"op":"transfer","to":"{}","asset":"ETH","amount":"5"}}"#, USERS[2]);
        inputs.push((USERS[0], transfer.into_bytes()));
        inputs.push((USERS[1], br#"{"op":"mine"}"#.to_vec()));
        inputs.push((USERS[0], br#"{"op":"withdraw","asset":"ETH","amount":"7"}"#.to_vec()));
        for (index, (sender, payload)) in inputs.into_iter().enumerate() {
            let index = index as u64;
            assert!(
                checked_advance(&mut app, &advance(sender, payload, index, 100 + index, false)),
                "fixture input {index}"
            );
        }
        app
    })
}

/// Inspect paths against the fixture: every answer fits, nothing changes.
pub fn inspect_path(data: &[u8]) {
    checked_inspect(fixture(), data);
}

/// Reads a fuzzer's bytes as a stream of choices; zeros once exhausted.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head.to_vec()
    }

    /// A length byte, then that many bytes.
    fn sized(&mut self) -> Vec<u8> {
        let n = usize::from(self.byte());
        self.take(n)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.byte()) % from.len()]
    }

    /// Mostly small amounts, sometimes zero, the largest value, or a value just past a balance.
    fn amount(&mut self) -> U256 {
        match self.byte() {
            0 => U256::zero(),
            255 => U256::MAX,
            254 => U256::MAX - U256::from(self.byte()),
            b => U256::from(b) * U256::from(1 + u64::from(self.byte())),
        }
    }
}

fn asset_text(c: &mut Choices) -> String {
    let token = c.pick(&TOKENS);
    match c.byte() % 6 {
        0 => "ETH".into(),
        1 => "COIN".into(),
        2 => format!("erc20:{token}"),
        3 => format!("erc721:{token}:{}", c.byte() % 8),
        4 => format!("erc1155:{token}:{}", c.byte() % 8),
        _ => String::from_utf8_lossy(&c.sized()).into_owned(),
    }
}

/// A structured stream of advances and inspects from arbitrary senders, mostly well-formed so
/// that the fuzzer reaches deposits, transfers, withdrawals, seals and retargeting, checking
/// every invariant after each step and the whole chain at the end.
pub fn app_steps(data: &[u8]) {
    let mut app = App::new(fuzz_settings()).unwrap_or_else(|e| panic!("genesis: {e}"));
    let mut c = Choices(data);
    let mut time = 100u64;
    let mut index = 0u64;
    for _ in 0..64 {
        if c.0.is_empty() {
            break;
        }
        let step = c.byte();
        time += u64::from(c.byte());
        let v2 = step & 0x80 != 0;
        let version = if v2 { RollupsVersion::V2 } else { RollupsVersion::V1 };
        let portals = PortalAddresses::canonical(version);
        let (sender, payload) = match step % 8 {
            0 => {
                let mut senders = USERS.to_vec();
                senders.extend(KINDS.map(|k| portal(&portals, k)));
                senders.extend(portals.dapp_address_relay);
                let sender = c.pick(&senders);
                let len = usize::from(c.byte()) * (1 + usize::from(step >> 3 & 0x0f));
                (sender, c.take(len))
            }
            1..=3 => {
                let kind = c.pick(&KINDS);
                let (token, depositor, id, amount) = (c.pick(&TOKENS), c.pick(&USERS), c.byte() % 8, c.amount());
                let mut p = deposit_payload(kind, version, token, depositor, U256::from(id), amount);
                // Sometimes the payload is cut or lengthened, or comes from someone else.
                match c.byte() % 8 {
                    0 => p.truncate(usize::from(c.byte())),
                    1 => p.extend(c.sized()),
                    _ => {}
                }
                let sender = if c.byte() % 8 == 0 { c.pick(&USERS) } else { portal(&portals, kind) };
                (sender, p)
            }
            4 | 5 => {
                let sender = c.pick(&USERS);
                let (to, asset, amount) = (c.pick(&USERS), asset_text(&mut c), c.amount());
                let op = if step % 8 == 4 {
                    format!(r#"{{"op":"transfer","to":"{to}","asset":"{asset}","amount":"{amount}"}}"#)
                } else {
                    format!(r#"{{"op":"withdraw","asset":"{asset}","amount":"{amount}"}}"#)
                };
                (sender, op.into_bytes())
            }
            6 => match portals.dapp_address_relay {
                Some(relay) if c.byte() % 4 == 0 => (relay, DAPP.0.to_vec()),
                _ => (c.pick(&USERS), br#"{"op":"mine"}"#.to_vec()),
            },
            _ => {
                let user = c.pick(&USERS);
                let path = match c.byte() % 8 {
                    0 => "info".to_string(),
                    1 => format!("balance/{user}"),
                    2 => format!("balance/{user}/{}", asset_text(&mut c)),
                    3 => format!("blocks?from={}&limit={}", c.byte(), c.byte()),
                    4 => format!("block/{}", c.byte() % 4),
                    5 => "pool".into(),
                    6 => format!("accounts?asset={}", asset_text(&mut c)),
                    _ => String::from_utf8_lossy(&c.sized()).into_owned(),
                };
                checked_inspect(&app, path.as_bytes());
                continue;
            }
        };
        checked_advance(&mut app, &advance(sender, payload, index, time, v2));
        index += 1;
    }
    if let Err(e) = app.ledger().verify_chain() {
        panic!("the chain does not verify: {e}");
    }
}

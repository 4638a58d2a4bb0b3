//! Determinism at scale: a generated stream of mixed requests (every portal's deposits, transfers
//! and withdrawals in JSON and ABI form, mines, rejections, inspects, time passing) served to the
//! built backend over HTTP, whose outputs must equal the in-process run of the same stream.
//!
//! `DETERMINISM_INPUTS` sets the length (default 300) and `DETERMINISM_SEED` the seed;
//! `DETERMINISM_LIBRARY=0` skips the in-process run (this debug build of the library is an order
//! of magnitude slower than a release backend; the script compares two backends instead);
//! `DETERMINISM_DIR` saves the binary's transcript (`stream.out`, every output byte for byte,
//! the state root in each block notice and in an `info` every 1,000 requests and at the end) and
//! its run time in seconds (`stream.seconds`). With `DAPP_BIN`/`DAPP_RUNNER` (see `e2e.rs`) it
//! runs another build, e.g. the riscv64 one under qemu-user: `scripts/determinism.sh` runs both
//! and compares the transcripts.

use std::fmt::Write as _;
use std::time::Instant;

use dapp::app::App;
use dapp::settings::Settings;
use rollup::wire::Output;
use rollup::RollupRequest;

use testkit::rollup_server::Style;

use crate::e2e::run_binary;
use crate::script::{Exchange, Script};

/// splitmix64: a tiny deterministic generator, so the stream depends on the seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ACCOUNTS: u64 = 32;

/// A script of exactly `requests` requests (advances and inspects), mixed by `seed`.
pub fn generate(requests: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::from(
        "set LEDGER_MAX_BLOCK_TXS=16\nset LEDGER_BLOCK_INTERVAL=60\nset LEDGER_DIFFICULTY_BITS=6\nat 1700000000\n",
    );
    let mut count = 0;
    let push = |out: &mut String, line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    // NFTs deposited and not withdrawn, with their owner as the stream intends it.
    let mut nfts: Vec<(u64, u64)> = Vec::new();
    let mut next_nft = 0u64;
    while count < requests {
        let u = rng.below(ACCOUNTS);
        let v = (u + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
        let token = rng.below(3);
        let line = if count == 0 {
            "relay @dapp".to_string()
        } else if count % 1000 == 999 || count + 1 == requests {
            "inspect info".to_string()
        } else {
            match rng.below(100) {
                0..=7 => format!("deposit ether @u{u} {}", 1_000_000 + rng.below(1_000_000_000)),
                8..=11 => format!("deposit erc20 @u{u} @token{token} {}", 1 + rng.below(100_000)),
                12 => format!("deposit erc20-failed @u{u} @token{token} {}", 1 + rng.below(100_000)),
                13..=15 => {
                    next_nft += 1;
                    nfts.push((next_nft, u));
                    format!("deposit erc721 @u{u} @nft {next_nft}")
                }
                16..=18 => format!("deposit erc1155 @u{u} @multi {} {}", rng.below(8), 1 + rng.below(1000)),
                19..=20 => format!(
                    "deposit batch @u{u} @multi {}:{},{}:{}",
                    rng.below(4),
                    1 + rng.below(100),
                    4 + rng.below(4),
                    1 + rng.below(100)
                ),
                21 => "deposit raw erc721 0xdeadbeef".to_string(),
                22..=45 => format!(
                    r#"advance @u{u} {{"op":"transfer","to":"@u{v}","asset":"ETH","amount":"{}"}}"#,
                    1 + rng.below(2_000_000)
                ),
                46..=48 => format!("advance @u{u} abi transferEther(@u{v},{})", 1 + rng.below(1000)),
                49..=50 => format!("advance @u{u} abi transferERC20(@token{token},@u{v},{})", 1 + rng.below(500)),
                51 => format!("advance @u{u} abi transferCoin(@u{v},{})", 1 + rng.below(10u64.pow(19))),
                52..=53 => {
                    format!("advance @u{u} abi transferERC1155(@multi,@u{v},{},{})", rng.below(8), 1 + rng.below(50))
                }
                54..=56 => match nfts.len() {
                    0 => format!(r#"advance @u{u} {{"op":"transfer","to":"@u{v}","asset":"erc721:@nft:1"}}"#),
                    n => {
                        let (id, owner) = &mut nfts[rng.below(n as u64) as usize];
                        let from = *owner;
                        *owner = if from == v { u } else { v };
                        format!(
                            r#"advance @u{from} {{"op":"transfer","to":"@u{}","asset":"erc721:@nft:{id}"}}"#,
                            *owner
                        )
                    }
                },
                57..=59 => {
                    format!(r#"advance @u{u} {{"op":"withdraw","asset":"ETH","amount":"{}"}}"#, 1 + rng.below(100_000))
                }
                60 => format!(
                    r#"advance @u{u} {{"op":"withdraw","asset":"erc20:@token{token}","amount":"{}"}}"#,
                    1 + rng.below(100)
                ),
                61 => format!("advance @u{u} abi withdrawERC1155(@multi,{},{})", rng.below(8), 1 + rng.below(20)),
                62 => format!("advance @u{u} abi withdrawEther({})", 1 + rng.below(1000)),
                63 => match nfts.len() {
                    0 => format!("advance @u{u} abi withdrawERC721(@nft,1)"),
                    n => {
                        let (id, owner) = nfts.swap_remove(rng.below(n as u64) as usize);
                        format!("advance @u{owner} abi withdrawERC721(@nft,{id})")
                    }
                },
                64..=69 => format!(r#"advance @u{u} {{"op":"mine"}}"#),
                // Rejections: not an operation, unknown operations, malformed JSON, zero and
                // unknown assets, more than the sender has.
                70 => format!("advance @u{u} hex 0x{:08x}", rng.next() as u32),
                71 => format!(r#"advance @u{u} {{"op":"teleport"}}"#),
                72 => format!(r#"advance @u{u} {{"op":"transfer","to":"@u{v}","asset":"ETH""#),
                73 => format!(r#"advance @u{u} {{"op":"transfer","to":"@u{v}","asset":"ETH","amount":"0"}}"#),
                74 => format!(r#"advance @u{u} {{"op":"transfer","to":"@u{v}","asset":"DOGE","amount":"1"}}"#),
                75 => format!(r#"advance @u{u} {{"op":"withdraw","asset":"ETH","amount":"{}"}}"#, 10u64.pow(18)),
                76..=80 => format!("inspect balance/@u{u}"),
                81 => "inspect info".to_string(),
                82 => "inspect pool".to_string(),
                83 => "inspect block/latest".to_string(),
                84 => "inspect supply".to_string(),
                85 => "inspect accounts?asset=ETH".to_string(),
                86 => format!("inspect blocks?from={}&limit=3", rng.below(20)),
                87 => "inspect nonsense".to_string(),
                _ => {
                    // Time passes (no request): some inputs fire the time-triggered seal.
                    push(&mut out, format!("tick {}", 1 + rng.below(90)));
                    continue;
                }
            }
        };
        push(&mut out, line);
        count += 1;
    }
    out
}

/// Every output byte for byte and every status, one request per block of lines: what the
/// native and riscv64 runs must agree on exactly.
fn raw_transcript(exchanges: &[Exchange]) -> String {
    let mut out = String::new();
    for (i, ex) in exchanges.iter().enumerate() {
        let _ = writeln!(out, "{i} {}", if ex.accept { "accept" } else { "reject" });
        for o in &ex.outputs {
            let _ = match o {
                Output::Notice(p) => writeln!(out, "  notice {}", String::from_utf8_lossy(p)),
                Output::Report(p) => writeln!(out, "  report {}", String::from_utf8_lossy(p)),
                Output::Voucher(v) => writeln!(
                    out,
                    "  voucher {} {} {}",
                    v.destination,
                    v.value.as_ref().map_or("-".to_string(), |x| format!("{x:?}")),
                    hex::encode(&v.payload.0)
                ),
                Output::DelegateCallVoucher(v) => {
                    writeln!(out, "  delegate-call-voucher {} {}", v.destination, hex::encode(&v.payload.0))
                }
            };
        }
    }
    out
}

fn in_process(script: &Script) -> Vec<Exchange> {
    let settings = Settings::from_lookup(|k| script.settings.get(k).cloned()).unwrap();
    let mut app = App::new(settings).unwrap();
    let mut exchanges = Vec::with_capacity(script.requests.len());
    for (_, request) in &script.requests {
        let response = match request {
            RollupRequest::AdvanceState(advance) => app.advance(advance).unwrap(),
            RollupRequest::InspectState(inspect) => app.inspect(&inspect.payload.0),
        };
        exchanges.push(Exchange { outputs: response.outputs, accept: response.accept });
    }
    app.ledger().verify_chain().unwrap();
    exchanges
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

#[test]
fn the_generated_stream_has_exactly_the_requests_asked_for_and_depends_on_the_seed_alone() {
    let a = generate(500, 7);
    assert_eq!(a, generate(500, 7));
    assert_ne!(a, generate(500, 8));
    assert_eq!(Script::parse(&a).unwrap().requests.len(), 500);
    assert!(a.ends_with("inspect info\n"), "the stream ends with the state root");
}

#[tokio::test]
async fn a_generated_stream_runs_the_same_in_the_binary_and_in_process() {
    let requests = env_number("DETERMINISM_INPUTS", 300) as usize;
    let seed = env_number("DETERMINISM_SEED", 1);
    let script = Script::parse(&generate(requests, seed)).unwrap();
    let started = Instant::now();
    let (exchanges, exception, mut child) = run_binary(&script, Style::Stream).await;
    let seconds = started.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(exception, None, "the backend raised an exception");
    assert_eq!(exchanges.len(), requests);
    let text = raw_transcript(&exchanges);
    let library = std::env::var("DETERMINISM_LIBRARY").map_or(true, |v| v != "0");
    let expected = if library { raw_transcript(&in_process(&script)) } else { text.clone() };
    if text != expected {
        let (line, (got, want)) =
            text.lines().zip(expected.lines()).enumerate().find(|(_, (a, b))| a != b).unwrap_or((0, ("", "")));
        panic!(
            "the binary and the library disagree at transcript line {}:\n  binary:  {got}\n  library: {want}",
            line + 1
        );
    }
    // The stream is as mixed as it claims: every kind of output and both statuses occur.
    let outputs = || exchanges.iter().flat_map(|e| &e.outputs);
    assert!(exchanges.iter().any(|e| !e.accept), "no rejection");
    assert!(outputs().any(|o| matches!(o, Output::Voucher(_))), "no voucher");
    assert!(outputs().any(|o| matches!(o, Output::Notice(_))), "no block notice");
    if let Ok(dir) = std::env::var("DETERMINISM_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("stream.out"), &text).unwrap();
        std::fs::write(dir.join("stream.seconds"), format!("{seconds:.3}\n")).unwrap();
    }
    eprintln!(
        "{requests} requests through the backend in {seconds:.2} s ({:.0} requests/s)",
        requests as f64 / seconds
    );
}

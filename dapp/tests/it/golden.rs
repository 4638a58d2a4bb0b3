//! Golden scripts: `tests/golden/*.script` run through the backend in-process; the transcript
//! (every output, status and state root) must equal `tests/golden/<name>.out`.
//! Regenerate after an intended change with `UPDATE_EXPECT=1 cargo test -p dapp --test it golden`.

use std::path::{Path, PathBuf};

use dapp::app::App;
use dapp::settings::Settings;
use rollup::wire::Output;
use rollup::RollupRequest;

use crate::script::{transcript, Exchange, Script};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a script through [`App`] and checks, for every request, the invariants that hold
/// whatever the scenario: a rejected advance and every inspect leave the whole state unchanged,
/// and the chain verifies at the end. Returns the exchanges and the state root after each.
pub fn run_in_process(script: &Script) -> (Vec<Exchange>, Vec<String>, App) {
    let settings = Settings::from_lookup(|k| script.settings.get(k).cloned()).expect("script settings are valid");
    let mut app = App::new(settings).expect("genesis");
    let mut exchanges = Vec::new();
    let mut roots = Vec::new();
    // `$tx` and `$block` in an inspect path stand for the last transaction hash and the last
    // sealed block hash reported so far.
    let (mut last_tx, mut last_block) = (String::new(), String::new());
    for (line, request) in &script.requests {
        let before = app.ledger().fingerprint();
        let response = match request {
            RollupRequest::AdvanceState(advance) => app.advance(advance).expect("no fatal error"),
            RollupRequest::InspectState(inspect) => {
                let path =
                    String::from_utf8_lossy(&inspect.payload.0).replace("$tx", &last_tx).replace("$block", &last_block);
                let response = app.inspect(path.as_bytes());
                assert_eq!(app.ledger().fingerprint(), before, "inspect changed state: {line}");
                response
            }
        };
        for output in &response.outputs {
            assert!(
                output.payload_len() <= dapp::app::MAX_OUTPUT_BYTES
                    && output.body_len() <= rollup::wire::MAX_BODY_BYTES,
                "{line}: a {}-byte output ({}-byte body) exceeds the output bound",
                output.payload_len(),
                output.body_len()
            );
        }
        if !response.accept {
            assert_eq!(app.ledger().fingerprint(), before, "rejected input changed state: {line}");
        }
        if let Some(Output::Report(report)) = response.outputs.last() {
            let v: serde_json::Value = serde_json::from_slice(report).expect("reports are JSON");
            if let Some(h) = v["accepted"]["txs"].as_array().and_then(|t| t.last()) {
                last_tx = h["hash"].as_str().unwrap_or_default().to_string();
            }
            if let Some(b) = v["accepted"]["sealed_blocks"].as_array().and_then(|b| b.last()) {
                last_block = b["hash"].as_str().unwrap_or_default().to_string();
            }
        }
        roots.push(app.ledger().state_root().to_string()[..18].to_string());
        exchanges.push(Exchange { outputs: response.outputs, accept: response.accept });
    }
    app.ledger().verify_chain().expect("chain verifies");
    (exchanges, roots, app)
}

/// Runs `tests/golden/<name>.script` and compares its transcript with `<name>.out`.
fn check_golden(name: &str) {
    let path = repo_root().join("tests/golden").join(format!("{name}.script"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let script = Script::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (exchanges, roots, _) = run_in_process(&script);
    let out = path.with_extension("out");
    expect_test::expect_file![out].assert_eq(&transcript(&script, &exchanges, Some(&roots)));
}

/// One test per golden script, so that one failure does not hide the others.
macro_rules! golden_scripts {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_golden($name);
            }
        )*
        const LISTED: &[&str] = &[$($name),*];
    };
}

golden_scripts! {
    script_abi => "abi",
    script_account_txs => "account-txs",
    script_errors => "errors",
    script_inspect => "inspect",
    script_notices => "notices",
    script_portals_v1 => "portals-v1",
    script_portals_v2 => "portals-v2",
    script_retarget => "retarget",
    script_reward => "reward",
    script_transfer => "transfer",
    script_triggers => "triggers",
    script_withdrawals_v1 => "withdrawals-v1",
    script_withdrawals_v2 => "withdrawals-v2",
}

#[test]
fn every_golden_script_has_its_test() {
    let dir = repo_root().join("tests/golden");
    let mut scripts: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/golden exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "script"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    scripts.sort();
    let mut listed: Vec<String> = LISTED.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(scripts, listed, "add each script of tests/golden to golden_scripts! in dapp/tests/it/golden.rs");
}

/// Inside the Cartesi Machine a rejected input reverts the whole process, so the machine's
/// backend is one that never saw it. Host mode must match: for every golden script, a backend
/// fed every input and one fed only the accepted ones hold the same state and give the same
/// answers (`info` included) at every step.
#[test]
fn a_backend_that_saw_rejected_inputs_answers_like_one_that_never_did() {
    let dir = repo_root().join("tests/golden");
    let mut rejected = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "script") {
            continue;
        }
        let script = Script::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let settings = || Settings::from_lookup(|k| script.settings.get(k).cloned()).unwrap();
        let (mut host, mut machine) = (App::new(settings()).unwrap(), App::new(settings()).unwrap());
        for (line, request) in &script.requests {
            match request {
                RollupRequest::AdvanceState(advance) => {
                    if host.advance(advance).unwrap().accept {
                        assert!(machine.advance(advance).unwrap().accept, "{}: {line}", path.display());
                    } else {
                        rejected += 1;
                    }
                }
                RollupRequest::InspectState(inspect) => {
                    let path_text = String::from_utf8_lossy(&inspect.payload.0);
                    if !path_text.contains('$') {
                        let (h, m) = (host.inspect(&inspect.payload.0), machine.inspect(&inspect.payload.0));
                        assert_eq!(h, m, "{}: {line}", path.display());
                    }
                }
            }
            assert_eq!(host.ledger().fingerprint(), machine.ledger().fingerprint(), "{}: {line}", path.display());
            assert_eq!(host.inspect(b"info"), machine.inspect(b"info"), "{}: {line}", path.display());
        }
    }
    assert!(rejected >= 10, "the golden scripts should reject some inputs, found {rejected}");
}

//! End-to-end: the built `dapp` binary against a minimal rollup HTTP server (testkit's).
//!
//! Each `tests/e2e/*.script` is served request by request through `/finish`; everything the
//! backend posts is recorded. The transcript must equal the in-process run of the same script
//! (so the binary and the library agree) and the snapshot `tests/e2e/<name>.out`.
//!
//! `DAPP_BIN` runs another build of the backend (e.g. the riscv64 one) and `DAPP_RUNNER` a
//! program to run it with (e.g. `qemu-riscv64-static`); `E2E_TRANSCRIPT_DIR` saves each
//! transcript so CI can compare architectures byte for byte.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rollup::wire::Output;
use testkit::rollup_server::{Server, Style};

use crate::golden::{repo_root, run_in_process};
use crate::script::{transcript, Exchange, Script};

/// The backend command (`DAPP_BIN` under `DAPP_RUNNER`, or the native build) with a clean
/// environment: the server URL, `settings`, and RUST_LOG if set.
fn backend_command(url: String, settings: &std::collections::BTreeMap<String, String>) -> Command {
    // A relative DAPP_BIN is relative to the repository root (tests run in the package dir).
    let bin = std::env::var("DAPP_BIN")
        .map(|b| repo_root().join(b).to_string_lossy().into_owned())
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_dapp").to_string());
    assert!(std::path::Path::new(&bin).exists(), "backend binary {bin} does not exist");
    let mut command = match std::env::var("DAPP_RUNNER").ok().filter(|r| !r.is_empty()) {
        Some(runner) => {
            let mut c = Command::new(runner);
            c.arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    command
        .env_clear()
        .env("ROLLUP_HTTP_SERVER_URL", url)
        .envs(settings)
        .envs(std::env::var("RUST_LOG").ok().map(|v| ("RUST_LOG", v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

pub(crate) fn spawn_backend(url: String, settings: &std::collections::BTreeMap<String, String>) -> Child {
    backend_command(url, settings).spawn().unwrap_or_else(|e| panic!("cannot start the backend: {e}"))
}

/// Serves a script to the binary and returns the transcript of what it posted.
async fn run_binary(script: &Script, style: Style) -> (Vec<Exchange>, Option<String>, Child) {
    let requests = script.requests.iter().map(|(_, r)| serde_json::to_value(r).unwrap()).collect();
    run_requests(requests, &script.settings, style).await
}

/// Serves raw requests (they need not be valid) to the binary.
async fn run_requests(
    requests: Vec<serde_json::Value>,
    settings: &std::collections::BTreeMap<String, String>,
    style: Style,
) -> (Vec<Exchange>, Option<String>, Child) {
    let server = Server::start(style, requests).await;
    let mut child = spawn_backend(server.url(), settings);
    // Generous: under qemu-user the riscv64 build is an order of magnitude slower. Poll the
    // child too, so a backend that dies early fails the test at once.
    let done = server.done();
    tokio::pin!(done);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        tokio::select! {
            _ = &mut done => break,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let exited = child.try_wait().unwrap();
        let exception = server.exception().is_some();
        if let Some(status) = exited.filter(|_| !exception) {
            panic!("the backend exited early with {status}");
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the backend did not finish the script within 300 s");
        }
    }
    assert!(!server.status_changed_after_202(), "the backend changed its finish status after a 202");
    (server.exchanges(), server.exception(), child)
}

fn scripts() -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(repo_root().join("tests/e2e"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "script"))
        .collect();
    scripts.sort();
    scripts
}

#[tokio::test]
async fn binary_matches_the_library_and_the_snapshots() {
    let scripts = scripts();
    assert!(!scripts.is_empty());
    for (i, path) in scripts.iter().enumerate() {
        let script = Script::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        // Alternate server styles: any 2xx from an output endpoint is success.
        let style = if i % 2 == 0 { Style::Cartesi } else { Style::HostRunner };
        let (exchanges, exception, mut child) = run_binary(&script, style).await;
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(exception, None, "{}: the backend raised an exception", path.display());
        assert_eq!(exchanges.len(), script.requests.len(), "{}", path.display());
        let text = transcript(&script, &exchanges, None);
        let (expected, _, _) = run_in_process(&script);
        assert_eq!(text, transcript(&script, &expected, None), "{}: binary and library disagree", path.display());
        if let Ok(dir) = std::env::var("E2E_TRANSCRIPT_DIR") {
            let name = path.file_name().unwrap();
            std::fs::write(PathBuf::from(dir).join(name).with_extension("out"), &text).unwrap();
        }
        expect_test::expect_file![path.with_extension("out")].assert_eq(&text);
    }
}

#[test]
fn an_unknown_ledger_setting_is_a_one_line_start_error() {
    let settings = [("LEDGER_DIFICULTY_BITS".to_string(), "4".to_string())].into();
    // Nothing listens there: the backend must stop before it tries to connect.
    let output = backend_command("http://127.0.0.1:9".into(), &settings)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unknown setting LEDGER_DIFICULTY_BITS"), "{stderr}");
    assert!(stderr.contains("LEDGER_DIFFICULTY_BITS") && stderr.contains("LEDGER_ROLLUPS_VERSION"), "{stderr}");
}

#[tokio::test]
async fn a_failed_output_post_raises_an_exception_and_stops() {
    let text = "at 100\ndeposit ether @alice 10\nadvance @alice {\"op\":\"mine\"}\n";
    let script = Script::parse(text).unwrap();
    let (exchanges, exception, mut child) = run_binary(&script, Style::FailNotices).await;
    let reason = exception.expect("the backend raised an exception");
    assert!(reason.contains("/notice") && reason.contains("500"), "{reason}");
    // The deposit completed; the mine never finished.
    assert_eq!(exchanges.len(), 1);
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(!status.success(), "the backend must exit with failure, got {status}");
}

#[tokio::test]
async fn a_malformed_request_gets_a_report_and_a_reject_and_the_backend_goes_on() {
    let script = Script::parse("at 100\ndeposit ether @alice 10\ninspect balance/@alice/ETH\n").unwrap();
    let mut requests: Vec<serde_json::Value> =
        script.requests.iter().map(|(_, r)| serde_json::to_value(r).unwrap()).collect();
    let bad = serde_json::json!({"request_type": "advance_state", "data": {"metadata": {"msg_sender": "0x12"}, "payload": "0x"}});
    requests.insert(1, bad);
    let (exchanges, exception, mut child) = run_requests(requests, &script.settings, Style::Cartesi).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(exception, None);
    assert_eq!(exchanges.len(), 3);
    assert!(exchanges[0].accept && !exchanges[1].accept && exchanges[2].accept);
    let Some(Output::Report(report)) = exchanges[1].outputs.first() else { panic!("no report") };
    let report: serde_json::Value = serde_json::from_slice(report).unwrap();
    assert_eq!(report["error"]["code"], "MALFORMED_PAYLOAD", "{report}");
    // The deposit before it still counts.
    let Some(Output::Report(balance)) = exchanges[2].outputs.first() else { panic!("no report") };
    let balance: serde_json::Value = serde_json::from_slice(balance).unwrap();
    assert_eq!(balance["pending"], "10", "{balance}");
}

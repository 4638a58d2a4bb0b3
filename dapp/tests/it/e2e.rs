//! End-to-end: the built `dapp` binary against a minimal rollup HTTP server written here.
//!
//! Each `tests/e2e/*.script` is served request by request through `/finish`; everything the
//! backend posts is recorded. The transcript must equal the in-process run of the same script
//! (so the binary and the library agree) and the snapshot `tests/e2e/<name>.out`.
//!
//! `DAPP_BIN` runs another build of the backend (e.g. the riscv64 one) and `DAPP_RUNNER` a
//! program to run it with (e.g. `qemu-riscv64-static`); `E2E_TRANSCRIPT_DIR` saves each
//! transcript so CI can compare architectures byte for byte.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rollup::wire::{Finish, FinishStatus, Output, Payload, Voucher};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::golden::{repo_root, run_in_process};
use crate::script::{transcript, Exchange, Script};

/// How the server answers outputs: like Cartesi's in-machine server, or like the v1 host-runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Cartesi,
    HostRunner,
    /// Answers every `/notice` with 500, to check that a failed post is never dropped.
    FailNotices,
    /// Like `Cartesi`, but hands out the next request at once, without a 202 first: for long
    /// generated streams (`determinism.rs`), where a pause per request would dominate.
    Stream,
}

#[derive(Default)]
struct State {
    requests: Vec<serde_json::Value>,
    next: usize,
    /// Outputs of the request being processed, and the finished exchanges.
    current: Option<Vec<Output>>,
    exchanges: Vec<Exchange>,
    exception: Option<String>,
    /// Whether the next `/finish` gets a 202 first (one before every request).
    owe_202: bool,
    /// The status of the last `/finish`, and any call after a 202 that changed it.
    last_status: Option<FinishStatus>,
    status_changed_after_202: bool,
    advancing: bool,
}

struct Server {
    state: Mutex<State>,
    done: Notify,
    style: Style,
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

impl Server {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
        let mut response = self.route(req).await?;
        if self.style == Style::HostRunner {
            // Like servers that open a connection per call: the client must reconnect each time.
            response.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
        }
        Ok(response)
    }

    async fn route(&self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
        let full = req.uri().path().to_string();
        // The host-runner style serves under a path prefix, as NoNodo does (`…/rollup/finish`).
        let path = match self.style {
            Style::HostRunner => match full.strip_prefix("/rollup") {
                Some(rest) => rest.to_string(),
                None => return Ok(reply(StatusCode::NOT_FOUND, "expected the /rollup prefix")),
            },
            _ => full,
        };
        let json = req
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let body = req.into_body().collect().await?.to_bytes();
        if !json {
            return Ok(reply(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json"));
        }
        if path == "/finish" {
            return Ok(self.finish(&body).await);
        }
        let mut st = self.state.lock().unwrap();
        let output = match path.as_str() {
            "/notice" | "/report" => match serde_json::from_slice::<Payload>(&body) {
                Ok(p) if path == "/notice" => Output::Notice(p.payload.0),
                Ok(p) => Output::Report(p.payload.0),
                Err(e) => return Ok(reply(StatusCode::BAD_REQUEST, e.to_string())),
            },
            "/voucher" => match serde_json::from_slice::<Voucher>(&body) {
                Ok(v) => Output::Voucher(v),
                Err(e) => return Ok(reply(StatusCode::BAD_REQUEST, e.to_string())),
            },
            "/exception" => {
                let p: Payload = serde_json::from_slice(&body).unwrap();
                st.exception = Some(String::from_utf8_lossy(&p.payload.0).into_owned());
                self.done.notify_one();
                return Ok(reply(StatusCode::ACCEPTED, ""));
            }
            _ => return Ok(reply(StatusCode::NOT_FOUND, "")),
        };
        if !matches!(output, Output::Report(_)) && !st.advancing {
            return Ok(reply(StatusCode::BAD_REQUEST, format!("invalid request {path} in inspect state")));
        }
        if self.style == Style::FailNotices && matches!(output, Output::Notice(_)) {
            return Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, "notice storage is broken"));
        }
        let Some(current) = st.current.as_mut() else {
            return Ok(reply(StatusCode::BAD_REQUEST, "no request is being processed"));
        };
        current.push(output.clone());
        let index = current.len() - 1;
        Ok(match (self.style, output) {
            (Style::HostRunner, _) => reply(StatusCode::OK, format!(r#"{{"index":{index}}}"#)),
            (_, Output::Report(_)) => reply(StatusCode::ACCEPTED, ""),
            _ => reply(StatusCode::CREATED, format!(r#"{{"index":{index}}}"#)),
        })
    }

    async fn finish(&self, body: &[u8]) -> Response<Full<Bytes>> {
        let Ok(finish) = serde_json::from_slice::<Finish>(body) else {
            return reply(StatusCode::BAD_REQUEST, "status must be 'accept' or 'reject'");
        };
        let wait = {
            let mut st = self.state.lock().unwrap();
            if let Some(outputs) = st.current.take() {
                st.exchanges.push(Exchange { outputs, accept: finish.status == FinishStatus::Accept });
                st.owe_202 = true;
            } else if st.last_status.is_some_and(|s| s != finish.status) {
                // A call after a 202 must repeat the status it asked with.
                st.status_changed_after_202 = true;
            }
            st.last_status = Some(finish.status);
            // Every request is preceded by one 202, so "ask again" is exercised after accepts
            // and rejects alike.
            if st.owe_202 && self.style != Style::Stream {
                st.owe_202 = false;
                true
            } else if st.next < st.requests.len() {
                let request = st.requests[st.next].clone();
                st.next += 1;
                st.advancing = request["request_type"] == "advance_state";
                st.current = Some(Vec::new());
                return reply(StatusCode::OK, request.to_string());
            } else {
                self.done.notify_one();
                true
            }
        };
        if wait {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        reply(StatusCode::ACCEPTED, "no rollup request available")
    }
}

async fn serve(style: Style, requests: Vec<serde_json::Value>) -> (Arc<Server>, SocketAddr) {
    let server =
        Arc::new(Server { state: Mutex::new(State { requests, ..State::default() }), done: Notify::new(), style });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = server.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| s.clone().handle(req));
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    (server, addr)
}

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
pub(crate) async fn run_binary(script: &Script, style: Style) -> (Vec<Exchange>, Option<String>, Child) {
    let requests = script.requests.iter().map(|(_, r)| serde_json::to_value(r).unwrap()).collect();
    run_requests(requests, &script.settings, style).await
}

/// Serves raw requests (they need not be valid) to the binary.
async fn run_requests(
    requests: Vec<serde_json::Value>,
    settings: &std::collections::BTreeMap<String, String>,
    style: Style,
) -> (Vec<Exchange>, Option<String>, Child) {
    let (server, addr) = serve(style, requests).await;
    let url = match style {
        Style::HostRunner => format!("http://{addr}/rollup"),
        _ => format!("http://{addr}"),
    };
    let mut child = spawn_backend(url, settings);
    // Generous: under qemu-user the riscv64 build is an order of magnitude slower. Poll the
    // child too, so a backend that dies early fails the test at once.
    let done = server.done.notified();
    tokio::pin!(done);
    let limit =
        Duration::from_secs(300) + Duration::from_millis(100) * server.state.lock().unwrap().requests.len() as u32;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        tokio::select! {
            _ = &mut done => break,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let exited = child.try_wait().unwrap();
        let exception = server.state.lock().unwrap().exception.is_some();
        if let Some(status) = exited.filter(|_| !exception) {
            panic!("the backend exited early with {status}");
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the backend did not finish the script within {limit:?}");
        }
    }
    let st = server.state.lock().unwrap();
    assert!(!st.status_changed_after_202, "the backend changed its finish status after a 202");
    (st.exchanges.clone(), st.exception.clone(), child)
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

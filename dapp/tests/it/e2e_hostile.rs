//! End-to-end: the built `dapp` binary against a hostile rollup HTTP server, written here on raw
//! TCP so that it can do what real servers do and hyper's server would not: close a kept-alive
//! connection after a short idle time (Cartesi's actix-web server closes them after 5 s), answer
//! `/finish` with 202 at once, refuse JSON bodies over 32,768 bytes (guest tools 0.15/0.16), and
//! cut a `/finish` reply in the middle of its body.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rollup::wire::{Finish, FinishStatus, Output, Payload, Voucher, MAX_BODY_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::e2e::spawn_backend;
use crate::golden::run_in_process;
use crate::script::{transcript, Exchange, Script};

struct Config {
    /// An idle kept-alive connection is closed after this long.
    keep_alive: Duration,
    /// `/finish` answers this many immediate 202s before handing out each request.
    immediate_202s: usize,
    /// The reply handing out this request (by position) is cut in the middle of its body.
    cut_reply_of: Option<usize>,
    /// Requests to this path are read in full, then the connection is closed without a reply.
    drop_reply_to: Option<&'static str>,
}

#[derive(Default)]
struct State {
    next: usize,
    owed_202s: usize,
    current: Option<Vec<Output>>,
    advancing: bool,
    exchanges: Vec<Exchange>,
    exception: Option<String>,
    finish_calls: usize,
    /// `/finish` calls after a cut reply: each would be a verdict sent again.
    finish_calls_after_cut: usize,
    cut: bool,
    /// Requests read and left without a reply.
    dropped: usize,
    oversized_bodies: usize,
    largest_body: usize,
    connections: usize,
    idle_closes: usize,
    stream_done: bool,
}

struct Server {
    config: Config,
    requests: Vec<serde_json::Value>,
    state: Mutex<State>,
    done: Notify,
}

enum Reply {
    Full(u16, Vec<u8>),
    /// A 200 whose Content-Length announces `body` but only half of it is sent.
    Cut(Vec<u8>),
}

/// Reads one request: the path and the body (by Content-Length). `None` at end of stream.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1)?.to_string();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    buffer.drain(..head_end);
    while buffer.len() < length {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer.drain(..length).collect();
    Some((path, body))
}

impl Server {
    async fn connection(self: Arc<Self>, mut stream: TcpStream) {
        self.state.lock().unwrap().connections += 1;
        let mut buffer = Vec::new();
        let mut first = true;
        loop {
            let request = if first {
                read_request(&mut stream, &mut buffer).await
            } else {
                match tokio::time::timeout(self.config.keep_alive, read_request(&mut stream, &mut buffer)).await {
                    Ok(request) => request,
                    Err(_) => {
                        // Idle too long: close, as actix-web does, without telling the client.
                        self.state.lock().unwrap().idle_closes += 1;
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            };
            first = false;
            let Some((path, body)) = request else { return };
            if self.config.drop_reply_to == Some(path.as_str()) {
                // The server got the request, then died or timed out before answering.
                self.state.lock().unwrap().dropped += 1;
                let _ = stream.shutdown().await;
                return;
            }
            let (code, body) = match self.route(&path, &body) {
                Reply::Full(code, body) => (code, body),
                Reply::Cut(body) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&body[..body.len() / 2]).await;
                    let _ = stream.shutdown().await;
                    return;
                }
            };
            let head = format!(
                "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&body).await.is_err() {
                return;
            }
        }
    }

    fn route(&self, path: &str, body: &[u8]) -> Reply {
        let mut st = self.state.lock().unwrap();
        st.largest_body = st.largest_body.max(body.len());
        if body.len() > MAX_BODY_BYTES {
            // Like actix_web_validator's default JsonConfig: the body is refused.
            st.oversized_bodies += 1;
            return Reply::Full(413, b"JSON payload is larger than allowed (limit: 32768 bytes)".to_vec());
        }
        if path == "/finish" {
            return self.finish(&mut st, body);
        }
        let output = match path {
            "/notice" | "/report" => match serde_json::from_slice::<Payload>(body) {
                Ok(p) if path == "/notice" => Output::Notice(p.payload.0),
                Ok(p) => Output::Report(p.payload.0),
                Err(e) => return Reply::Full(400, e.to_string().into_bytes()),
            },
            "/voucher" => match serde_json::from_slice::<Voucher>(body) {
                Ok(v) => Output::Voucher(v),
                Err(e) => return Reply::Full(400, e.to_string().into_bytes()),
            },
            "/exception" => {
                let p: Payload = serde_json::from_slice(body).unwrap();
                st.exception = Some(String::from_utf8_lossy(&p.payload.0).into_owned());
                self.done.notify_one();
                return Reply::Full(202, Vec::new());
            }
            _ => return Reply::Full(404, Vec::new()),
        };
        if !matches!(output, Output::Report(_)) && !st.advancing {
            return Reply::Full(400, format!("invalid request {path} in inspect state").into_bytes());
        }
        let Some(current) = st.current.as_mut() else {
            return Reply::Full(400, b"no request is being processed".to_vec());
        };
        current.push(output);
        Reply::Full(201, format!(r#"{{"index":{}}}"#, current.len() - 1).into_bytes())
    }

    fn finish(&self, st: &mut State, body: &[u8]) -> Reply {
        let Ok(finish) = serde_json::from_slice::<Finish>(body) else {
            return Reply::Full(400, b"status must be 'accept' or 'reject'".to_vec());
        };
        st.finish_calls += 1;
        if st.cut {
            st.finish_calls_after_cut += 1;
        }
        if let Some(outputs) = st.current.take() {
            st.exchanges.push(Exchange { outputs, accept: finish.status == FinishStatus::Accept });
            st.owed_202s = self.config.immediate_202s;
        }
        if st.owed_202s > 0 {
            st.owed_202s -= 1;
            return Reply::Full(202, b"no rollup request available".to_vec());
        }
        if st.next < self.requests.len() {
            let request = self.requests[st.next].clone();
            let position = st.next;
            st.next += 1;
            st.advancing = request["request_type"] == "advance_state";
            st.current = Some(Vec::new());
            let body = request.to_string().into_bytes();
            if self.config.cut_reply_of == Some(position) {
                st.cut = true;
                return Reply::Cut(body);
            }
            return Reply::Full(200, body);
        }
        if !st.stream_done {
            st.stream_done = true;
            self.done.notify_one();
        }
        Reply::Full(202, b"no rollup request available".to_vec())
    }
}

async fn serve(config: Config, requests: Vec<serde_json::Value>) -> (Arc<Server>, String) {
    let server = Arc::new(Server { config, requests, state: Mutex::default(), done: Notify::new() });
    let listener = testkit::local_listener().await;
    let url = format!("http://{}", listener.local_addr().unwrap());
    let s = server.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(s.clone().connection(stream));
        }
    });
    (server, url)
}

/// Waits for the stream to be served or an exception, failing at once if the backend exits.
async fn wait_done(server: &Server, child: &mut std::process::Child) {
    let done = server.done.notified();
    tokio::pin!(done);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        tokio::select! {
            _ = &mut done => return,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let exception = server.state.lock().unwrap().exception.clone();
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the backend exited early with {status} (exception: {exception:?})");
        }
        assert!(tokio::time::Instant::now() < deadline, "the backend did not finish within 600 s");
    }
}

/// A stream with slow seals (17-bit proof of work, pinned: most take longer than the keep-alive), inputs whose error reports would
/// exceed the server's limit if they echoed user data, a block whose notice must be split,
/// and 202s at once before every request.
fn hostile_stream() -> Script {
    let mut text = String::from(
        "set LEDGER_DIFFICULTY_BITS=17\nset LEDGER_MIN_DIFFICULTY_BITS=17\nset LEDGER_MAX_DIFFICULTY_BITS=17\n\
         set LEDGER_MAX_BLOCK_TXS=100\nat 100\nrelay @dapp\ndeposit ether @alice 100000\n",
    );
    for who in ["@alice", "@bob", "@carol"] {
        text.push_str(&format!("advance {who} {{\"op\":\"mine\"}}\n"));
    }
    let long = "1".repeat(20_000);
    text.push_str(&format!(
        "advance @alice {{\"op\":\"transfer\",\"to\":\"0x{long}\",\"asset\":\"ETH\",\"amount\":\"1\"}}\n"
    ));
    text.push_str(&format!("advance @alice {{\"op\":\"withdraw\",\"asset\":\"erc20:0x{long}\",\"amount\":\"1\"}}\n"));
    text.push_str(&format!("inspect balance/0x{long}\n"));
    for _ in 0..70 {
        text.push_str("advance @alice {\"op\":\"transfer\",\"to\":\"@bob\",\"asset\":\"ETH\",\"amount\":\"1\"}\n");
    }
    text.push_str("advance @alice {\"op\":\"withdraw\",\"asset\":\"ETH\",\"amount\":\"5\"}\n");
    text.push_str("advance @carol {\"op\":\"mine\"}\ninspect info\n");
    Script::parse(&text).unwrap()
}

#[tokio::test]
async fn a_hostile_server_is_served_without_exception_busy_loop_or_oversized_body() {
    let script = hostile_stream();
    let requests: Vec<serde_json::Value> =
        script.requests.iter().map(|(_, r)| serde_json::to_value(r).unwrap()).collect();
    // 300 ms lies between the backend's 202 pauses (200 and 400 ms): a pause that ended just
    // as the server closed would race it, as any client would.
    let config =
        Config { keep_alive: Duration::from_millis(300), immediate_202s: 3, cut_reply_of: None, drop_reply_to: None };
    let (server, url) = serve(config, requests).await;
    let mut child = spawn_backend(url, &script.settings);
    wait_done(&server, &mut child).await;

    // Once the stream is served, the server answers every /finish with 202 at once: the
    // backend must back off rather than spin. Count its calls over a window of 3 s; without a
    // pause it makes thousands, with the bounded backoff about ten.
    let before = server.state.lock().unwrap().finish_calls;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = server.state.lock().unwrap().finish_calls - before;
    let _ = child.kill();
    let _ = child.wait();

    let st = server.state.lock().unwrap();
    assert_eq!(st.exception, None, "the backend raised an exception");
    assert_eq!(st.oversized_bodies, 0, "the backend sent a body over {MAX_BODY_BYTES} bytes");
    assert!(st.largest_body > MAX_BODY_BYTES / 2, "the stream should come near the limit: {}", st.largest_body);
    assert!(calls <= 40, "{calls} /finish calls in 3 s of immediate 202s: a busy loop");
    assert!(calls >= 2, "the backend stopped asking /finish ({calls} calls)");
    // The server closed idle connections under the backend (while it sealed, typically, and
    // surely during the longer 202 pauses), and the backend went on over new ones.
    assert!(
        st.idle_closes >= 1 && st.connections >= 2,
        "{} idle closes, {} connections",
        st.idle_closes,
        st.connections
    );
    assert_eq!(st.exchanges.len(), script.requests.len());
    let (expected, _, _) = run_in_process(&script);
    assert_eq!(transcript(&script, &st.exchanges, None), transcript(&script, &expected, None));
}

#[tokio::test]
async fn a_cut_finish_reply_is_a_protocol_failure_and_its_status_is_never_sent_again() {
    let script =
        Script::parse("at 100\ndeposit ether @alice 10\nadvance @alice {\"op\":\"mine\"}\ninspect info\n").unwrap();
    let requests: Vec<serde_json::Value> =
        script.requests.iter().map(|(_, r)| serde_json::to_value(r).unwrap()).collect();
    let config =
        Config { keep_alive: Duration::from_secs(30), immediate_202s: 1, cut_reply_of: Some(1), drop_reply_to: None };
    let (server, url) = serve(config, requests).await;
    let mut child = spawn_backend(url, &script.settings);
    let done = server.done.notified();
    tokio::pin!(done);
    tokio::select! {
        _ = &mut done => {}
        _ = tokio::time::sleep(Duration::from_secs(300)) => panic!("no exception within 300 s"),
    }
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(!status.success(), "the backend must exit with failure, got {status}");
    let st = server.state.lock().unwrap();
    let reason = st.exception.clone().expect("an exception, not the end of the stream");
    assert!(reason.contains("/finish") && reason.contains("protocol failure"), "{reason}");
    assert_eq!(st.finish_calls_after_cut, 0, "the backend sent a status again after the cut reply");
    // Only the deposit was finished; the cut request was never processed.
    assert_eq!(st.exchanges.len(), 1);
    assert!(st.current.as_ref().is_some_and(Vec::is_empty), "outputs were posted for the cut request");
}

#[tokio::test]
async fn an_output_the_server_may_have_received_is_never_posted_again() {
    let script = Script::parse("at 100\ndeposit ether @alice 10\nadvance @alice {\"op\":\"mine\"}\n").unwrap();
    let requests: Vec<serde_json::Value> =
        script.requests.iter().map(|(_, r)| serde_json::to_value(r).unwrap()).collect();
    let config = Config {
        keep_alive: Duration::from_secs(30),
        immediate_202s: 1,
        cut_reply_of: None,
        drop_reply_to: Some("/notice"),
    };
    let (server, url) = serve(config, requests).await;
    let mut child = spawn_backend(url, &script.settings);
    let done = server.done.notified();
    tokio::pin!(done);
    tokio::select! {
        _ = &mut done => {}
        _ = tokio::time::sleep(Duration::from_secs(300)) => panic!("no exception within 300 s"),
    }
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(!status.success(), "the backend must exit with failure, got {status}");
    let st = server.state.lock().unwrap();
    let reason = st.exception.clone().expect("an exception, not the end of the stream");
    assert!(reason.contains("/notice"), "{reason}");
    // The notice reached the server once and was not sent again on a new connection.
    assert_eq!(st.dropped, 1);
    assert_eq!(st.exchanges.len(), 1, "only the deposit finished");
}

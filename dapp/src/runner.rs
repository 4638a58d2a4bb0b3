//! The shell: long-polls `/finish`, hands each request to the [`App`], posts the outputs.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rollup::wire::{Finish, FinishStatus, HexBytes, Output, Payload, MAX_BODY_BYTES};
use rollup::RollupRequest;
use tokio::net::TcpStream;
use tracing::{debug, info, warn};

use crate::app::App;

/// Infrastructure failures of the rollup HTTP API. Business rejections never get here.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid ROLLUP_HTTP_SERVER_URL {0:?}: expected http://host:port[/prefix]")]
    Url(String),
    #[error(
        "cannot reach the rollup HTTP server at {url}: {source} (start one, e.g. Cartesi's host-runner or NoNodo, or point ROLLUP_HTTP_SERVER_URL at it)"
    )]
    Connect { url: String, source: std::io::Error },
    /// The request may have reached the server, so it is never sent again.
    #[error("HTTP error on POST {path}: {source}")]
    Http { path: String, source: hyper::Error },
    #[error("POST {path} answered {status}: {body}")]
    Status { path: String, status: StatusCode, body: String },
    /// The server may already have handed out the next request and taken the status for the
    /// previous one: sending the status again would finish a request never processed.
    #[error("protocol failure: the reply to POST /finish was lost or cut ({0}); the server may have handed out the next request already, so the status is not sent again")]
    FinishLost(String),
    #[error("refusing to POST /{path} with a {len}-byte body: the limit is {MAX_BODY_BYTES} bytes")]
    Oversized { path: String, len: usize },
    /// A request that could not be built or a connection that could not be used: a bug of this
    /// client, said as it is.
    #[error("internal error of the rollup client: {0}")]
    Client(String),
    #[error("ledger failure: {0}")]
    Fatal(#[from] ledger::Fatal),
}

/// A kept-alive connection idle for longer than this is replaced before use rather than
/// reused: Cartesi's in-machine server (actix-web) closes idle connections after 5 s, and a
/// request written just as the server closes may or may not have reached it.
const MAX_IDLE: Duration = Duration::from_secs(3);

/// How many times a request the connection gave back unsent is tried on a fresh connection.
const MAX_UNSENT_RETRIES: u32 = 3;

/// A `/finish` answered 202 faster than this counts as immediate (a long-polling server waits
/// seconds before its 202; one that answers at once would otherwise be polled in a busy loop).
const IMMEDIATE_202: Duration = Duration::from_millis(100);

/// The pause before asking `/finish` again after `immediate` consecutive immediate 202s:
/// none after the first, then 25 ms doubling up to 1 s.
pub fn pause_after_immediate_202s(immediate: u32) -> Duration {
    match immediate {
        0 | 1 => Duration::ZERO,
        n => (Duration::from_millis(25) * (1 << (n - 2).min(6))).min(Duration::from_secs(1)),
    }
}

/// A keep-alive HTTP/1.1 client for one rollup server, reconnecting when the connection drops.
#[derive(Debug)]
pub struct RollupClient {
    authority: String,
    prefix: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// When the connection last finished an exchange.
    idle_since: Instant,
}

impl RollupClient {
    /// `url` is `http://host:port` with an optional path prefix (e.g. `http://127.0.0.1:8080/rollup`).
    pub fn new(url: &str) -> Result<RollupClient, RunError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| RunError::Url(url.to_string()))?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(RunError::Url(url.to_string()));
        }
        let authority = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
        Ok(RollupClient { authority, prefix: prefix.to_string(), sender: None, idle_since: Instant::now() })
    }

    /// A connection ready to take a request: the kept-alive one if it is still open and was
    /// not idle too long, else a new one. Nothing has been sent when this fails.
    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, RunError> {
        // Sealing a block runs on this thread without yielding, so a close that arrived
        // meanwhile is not seen until the runtime polls its I/O driver. A yield lets it do so,
        // and lets the connection task read the end of stream, before anything is written.
        tokio::task::yield_now().await;
        let reuse = match self.sender.as_mut() {
            Some(s) if !s.is_closed() && self.idle_since.elapsed() < MAX_IDLE => s.ready().await.is_ok(),
            _ => false,
        };
        if !reuse {
            self.sender = None;
            let url = format!("http://{}", self.authority);
            let stream =
                TcpStream::connect(&self.authority).await.map_err(|source| RunError::Connect { url, source })?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| RunError::Connect { url: format!("http://{}", self.authority), source: io_error(e) })?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    debug!("rollup server connection closed: {e}");
                }
            });
            self.sender = Some(sender);
        }
        match self.sender.as_mut() {
            Some(s) => Ok(s),
            None => Err(RunError::Client("no connection after connecting".into())),
        }
    }

    /// POSTs a JSON body and returns the status and body. A request the connection gives back
    /// unsent (it was closed first) is sent again on a fresh connection; one that may have
    /// reached the server never is: its failure is returned.
    pub async fn post(&mut self, path: &str, body: &serde_json::Value) -> Result<(StatusCode, Bytes), RunError> {
        let body = Bytes::from(body.to_string());
        if body.len() > MAX_BODY_BYTES {
            return Err(RunError::Oversized { path: path.to_string(), len: body.len() });
        }
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/{path}", self.prefix))
            .header(hyper::header::HOST, self.authority.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| RunError::Client(format!("cannot build the request: {e}")))?;
        let http = |source| RunError::Http { path: format!("/{path}"), source };
        let mut unsent_retries = 0;
        loop {
            let sender = self.ready_sender().await?;
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    let collected = response.into_body().collect().await;
                    self.idle_since = Instant::now();
                    let bytes = collected.map_err(|e| {
                        self.sender = None;
                        http(e)
                    })?;
                    return Ok((status, bytes.to_bytes()));
                }
                Err(mut e) => {
                    self.sender = None;
                    match e.take_message() {
                        Some(unsent) if unsent_retries < MAX_UNSENT_RETRIES => {
                            debug!("the connection closed before POST /{path} was sent ({}); reconnecting", e.error());
                            unsent_retries += 1;
                            request = unsent;
                        }
                        _ => return Err(http(e.into_error())),
                    }
                }
            }
        }
    }

    /// POSTs an output; any 2xx is success (servers answer 200, 201 or 202).
    pub async fn post_output(&mut self, output: &Output) -> Result<(), RunError> {
        let (path, body) = output.to_request();
        let (status, reply) = self.post(path, &body).await?;
        if !status.is_success() {
            return Err(RunError::Status { path: format!("/{path}"), status, body: quote_reply(&reply) });
        }
        debug!(path, %status, "output posted");
        Ok(())
    }

    /// Raises a rollup exception with `reason` (cut to a bounded length) as the payload.
    pub async fn exception(&mut self, reason: &str) -> Result<(), RunError> {
        let mut cut = reason.len().min(MAX_EXCEPTION_BYTES);
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        let body = serde_json::json!(Payload { payload: HexBytes(reason.as_bytes()[..cut].to_vec()) });
        let (status, reply) = self.post("exception", &body).await?;
        if !status.is_success() {
            return Err(RunError::Status { path: "/exception".into(), status, body: quote_reply(&reply) });
        }
        Ok(())
    }

    /// Calls `/finish` until a request arrives: 202 means "nothing yet, ask again with the same
    /// status", after a growing pause when the 202s come at once. Failures to connect (nothing
    /// was sent) are retried for `patience`; a reply lost or cut after the status was sent is
    /// a protocol failure, never answered by sending the status again.
    pub async fn finish(&mut self, status: FinishStatus, patience: Duration) -> Result<Bytes, RunError> {
        let body = serde_json::json!(Finish { status });
        let mut waited = Duration::ZERO;
        let mut backoff = Duration::from_millis(50);
        let mut immediate = 0;
        loop {
            let asked = Instant::now();
            match self.post("finish", &body).await {
                Ok((StatusCode::ACCEPTED, _)) => {
                    immediate = if asked.elapsed() < IMMEDIATE_202 { immediate + 1 } else { 0 };
                    let pause = pause_after_immediate_202s(immediate);
                    debug!("no pending rollup request, asking again in {pause:?}");
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                }
                Ok((s, bytes)) if s.is_success() => return Ok(bytes),
                Ok((s, bytes)) => {
                    return Err(RunError::Status { path: "/finish".into(), status: s, body: quote_reply(&bytes) })
                }
                Err(e @ RunError::Connect { .. }) if waited < patience => {
                    warn!("{e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    waited += backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(RunError::Http { source, .. }) => return Err(RunError::FinishLost(source.to_string())),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Longest exception payload sent; the reason is for people reading the node's logs.
const MAX_EXCEPTION_BYTES: usize = 1024;

/// A server's error body, quoted short for an error message.
fn quote_reply(body: &[u8]) -> String {
    ledger::error::quote(&String::from_utf8_lossy(body))
}

fn io_error(e: hyper::Error) -> std::io::Error {
    std::io::Error::other(e)
}

/// Runs the backend loop until an unrecoverable error. On any failure to deliver an output the
/// reason is raised as a rollup exception before returning, so nothing is dropped silently.
pub async fn run(mut app: App, client: &mut RollupClient, patience: Duration) -> Result<(), RunError> {
    let mut status = FinishStatus::Accept;
    loop {
        let bytes = match client.finish(status, patience).await {
            Ok(bytes) => bytes,
            Err(e @ RunError::FinishLost(_)) => {
                // Say so where the node records it; if even that fails, the exit says it.
                let _ = client.exception(&e.to_string()).await;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let response = match serde_json::from_slice::<RollupRequest>(&bytes) {
            Ok(RollupRequest::AdvanceState(advance)) => {
                info!(input = advance.metadata.input_index, sender = %advance.metadata.msg_sender, "advance");
                match app.advance(&advance) {
                    Ok(response) => response,
                    Err(fatal) => {
                        let reason = fatal.to_string();
                        client.exception(&reason).await?;
                        return Err(fatal.into());
                    }
                }
            }
            Ok(RollupRequest::InspectState(inspect)) => {
                info!(payload = %ledger::error::quote(&String::from_utf8_lossy(&inspect.payload.0)), "inspect");
                app.inspect(&inspect.payload.0)
            }
            Err(e) => {
                warn!("unreadable rollup request: {e}");
                app.unreadable_request(&e.to_string())
            }
        };
        for output in &response.outputs {
            if let Err(e) = client.post_output(output).await {
                let reason = format!("could not deliver an output: {e}");
                tracing::error!("{reason}");
                client.exception(&reason).await?;
                return Err(e);
            }
        }
        status = if response.accept { FinishStatus::Accept } else { FinishStatus::Reject };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_parse_with_or_without_a_prefix() {
        let c = RollupClient::new("http://127.0.0.1:5004").unwrap();
        assert_eq!((c.authority.as_str(), c.prefix.as_str()), ("127.0.0.1:5004", ""));
        let c = RollupClient::new("http://localhost:8080/rollup/").unwrap();
        assert_eq!((c.authority.as_str(), c.prefix.as_str()), ("localhost:8080", "/rollup"));
        let c = RollupClient::new("http://validator/host-runner").unwrap();
        assert_eq!((c.authority.as_str(), c.prefix.as_str()), ("validator:80", "/host-runner"));
        for bad in ["https://127.0.0.1:5004", "http://", "127.0.0.1:5004", ""] {
            assert!(matches!(RollupClient::new(bad), Err(RunError::Url(_))), "{bad}");
        }
    }

    #[test]
    fn immediate_202s_back_off_to_a_bounded_pause() {
        let pauses: Vec<u128> = (0..12).map(|n| pause_after_immediate_202s(n).as_millis()).collect();
        assert_eq!(pauses, [0, 0, 25, 50, 100, 200, 400, 800, 1000, 1000, 1000, 1000]);
        assert_eq!(pause_after_immediate_202s(u32::MAX), Duration::from_secs(1));
    }
}

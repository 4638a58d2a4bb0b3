//! The shell: long-polls `/finish`, hands each request to the [`App`], posts the outputs.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rollup::wire::{Finish, FinishStatus, HexBytes, Output, Payload};
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
    #[error("HTTP error talking to the rollup server: {0}")]
    Http(#[from] hyper::Error),
    #[error("POST {path} answered {status}: {body}")]
    Status { path: String, status: StatusCode, body: String },
    #[error("ledger failure: {0}")]
    Fatal(#[from] ledger::Fatal),
}

/// A keep-alive HTTP/1.1 client for one rollup server, reconnecting when the connection drops.
#[derive(Debug)]
pub struct RollupClient {
    authority: String,
    prefix: String,
    sender: Option<SendRequest<Full<Bytes>>>,
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
        Ok(RollupClient { authority, prefix: prefix.to_string(), sender: None })
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, RunError> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let url = format!("http://{}", self.authority);
            let stream =
                TcpStream::connect(&self.authority).await.map_err(|source| RunError::Connect { url, source })?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    debug!("rollup server connection closed: {e}");
                }
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or_else(|| RunError::Url("connection vanished".into()))
    }

    /// POSTs a JSON body and returns the status and body. Retries once on a fresh connection
    /// if a kept-alive one turns out to be closed before the request was sent.
    pub async fn post(&mut self, path: &str, body: &serde_json::Value) -> Result<(StatusCode, Bytes), RunError> {
        let body = Bytes::from(body.to_string());
        let uri = format!("{}/{path}", self.prefix);
        let mut retried = false;
        loop {
            let authority = self.authority.clone();
            let sender = self.connect().await?;
            // A kept-alive connection takes the next request only once it is ready again; one
            // that closed meanwhile is replaced.
            if sender.ready().await.is_err() {
                self.sender = None;
                if retried {
                    return Err(RunError::Url(format!("the connection to {} keeps closing", self.authority)));
                }
                retried = true;
                continue;
            }
            let request = Request::builder()
                .method(Method::POST)
                .uri(&uri)
                .header(hyper::header::HOST, authority)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(body.clone()))
                .map_err(|e| RunError::Url(e.to_string()))?;
            match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    let bytes = response.into_body().collect().await?.to_bytes();
                    return Ok((status, bytes));
                }
                // Canceled means the request was never sent, so sending it again cannot
                // duplicate an output.
                Err(e) if !retried && e.is_canceled() => {
                    self.sender = None;
                    retried = true;
                }
                Err(e) => {
                    self.sender = None;
                    return Err(e.into());
                }
            }
        }
    }

    /// POSTs an output; any 2xx is success (servers answer 200, 201 or 202).
    pub async fn post_output(&mut self, output: &Output) -> Result<(), RunError> {
        let (path, body) = output.to_request();
        let (status, reply) = self.post(path, &body).await?;
        if !status.is_success() {
            return Err(RunError::Status {
                path: format!("/{path}"),
                status,
                body: String::from_utf8_lossy(&reply).into_owned(),
            });
        }
        debug!(path, %status, "output posted");
        Ok(())
    }

    /// Raises a rollup exception with `reason` as the payload.
    pub async fn exception(&mut self, reason: &str) -> Result<(), RunError> {
        let body = serde_json::json!(Payload { payload: HexBytes(reason.as_bytes().to_vec()) });
        let (status, reply) = self.post("exception", &body).await?;
        if !status.is_success() {
            return Err(RunError::Status {
                path: "/exception".into(),
                status,
                body: String::from_utf8_lossy(&reply).into_owned(),
            });
        }
        Ok(())
    }

    /// Calls `/finish` until a request arrives: 202 means "nothing yet, ask again with the same
    /// status". Connection failures are retried with a short backoff for `patience`.
    pub async fn finish(&mut self, status: FinishStatus, patience: Duration) -> Result<Bytes, RunError> {
        let body = serde_json::json!(Finish { status });
        let mut waited = Duration::ZERO;
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.post("finish", &body).await {
                Ok((StatusCode::ACCEPTED, _)) => debug!("no pending rollup request, asking again"),
                Ok((s, bytes)) if s.is_success() => return Ok(bytes),
                Ok((s, bytes)) => {
                    return Err(RunError::Status {
                        path: "/finish".into(),
                        status: s,
                        body: String::from_utf8_lossy(&bytes).into_owned(),
                    })
                }
                Err(e @ (RunError::Connect { .. } | RunError::Http(_))) if waited < patience => {
                    warn!("{e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    waited += backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Runs the backend loop until an unrecoverable error. On any failure to deliver an output the
/// reason is raised as a rollup exception before returning, so nothing is dropped silently.
pub async fn run(mut app: App, client: &mut RollupClient, patience: Duration) -> Result<(), RunError> {
    let mut status = FinishStatus::Accept;
    loop {
        let bytes = client.finish(status, patience).await?;
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
                info!(payload = %String::from_utf8_lossy(&inspect.payload.0), "inspect");
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
}

//! A fake rollup HTTP server for end-to-end tests of a backend: it hands out the requests it was
//! given through `/finish`, one at a time (each after one 202, so "ask again" is exercised), and
//! records what the backend posts for each: its outputs and whether it accepted. It checks what a
//! real server checks (JSON bodies, outputs only while a request is processed, vouchers and
//! notices only in an advance) and, in the host-runner style, serves under a path prefix and
//! closes every connection after its reply.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rollup::wire::{Finish, FinishStatus, Output, Payload, Voucher};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One request's outputs and finish status, as seen by the rollup server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub outputs: Vec<Output>,
    pub accept: bool,
}

/// How the server answers outputs: like Cartesi's in-machine server, or like the v1 host-runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Cartesi,
    HostRunner,
    /// Answers every `/notice` with 500, to check that a failed post is never dropped.
    FailNotices,
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

/// The server: start it with [`Server::start`], point the backend at [`Server::url`], wait
/// for [`Server::done`], then read what it recorded.
pub struct Server {
    state: Mutex<State>,
    done: Notify,
    style: Style,
    addr: SocketAddr,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("style", &self.style).field("addr", &self.addr).finish_non_exhaustive()
    }
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
            if st.owe_202 {
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

impl Server {
    /// Serves `requests` (JSON values, which need not be valid requests) on a free local port.
    pub async fn start(style: Style, requests: Vec<serde_json::Value>) -> Arc<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Mutex::new(State { requests, ..State::default() });
        let server = Arc::new(Server { state, done: Notify::new(), style, addr });
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| s.clone().handle(req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        server
    }

    /// The URL to give the backend (`ROLLUP_HTTP_SERVER_URL`).
    pub fn url(&self) -> String {
        match self.style {
            Style::HostRunner => format!("http://{}/rollup", self.addr),
            _ => format!("http://{}", self.addr),
        }
    }

    /// Completes once every request was served (or the backend raised an exception). Only one
    /// waiter is woken; take it before the backend starts to miss nothing.
    pub fn done(&self) -> tokio::sync::futures::Notified<'_> {
        self.done.notified()
    }

    /// The exchanges finished so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.state.lock().unwrap().exchanges.clone()
    }

    /// The payload of the backend's `/exception`, as text, if it raised one.
    pub fn exception(&self) -> Option<String> {
        self.state.lock().unwrap().exception.clone()
    }

    /// Whether the backend called `/finish` with another status after a 202, which it must not.
    pub fn status_changed_after_202(&self) -> bool {
        self.state.lock().unwrap().status_changed_after_202
    }
}

//! The Rollups v2 node's APIs on the reader address: JSON-RPC 2.0 at `POST /rpc` (Cartesi's
//! `cartesi_*` methods, reference §5), v2 inspect at `POST /inspect/<application name or
//! address>` (§2.3), and `/healthz`.
//!
//! Params are a named object with snake_case names; indices are hex strings (`"0x1"`); lists
//! answer `{data, pagination: {total_count, limit, offset}}`, gets and scalars `{data}`. Errors
//! use the codes of newer Cartesi nodes (−31001 not found, −31002 application not found, −32602
//! invalid params). A batch holds at most [`MAX_BATCH`] requests and a body at most
//! [`MAX_BODY`] bytes.

mod methods;

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::health::Health;
use crate::http::reply_any_origin as reply;
use crate::inspect::{Answer, Inspects, Job};
use crate::l1::{self, AddressBookV2, Rpc};
use crate::store::Store;

pub use methods::METHODS;

/// Most requests in one batch.
pub const MAX_BATCH: usize = 100;
/// Largest JSON-RPC request body.
pub const MAX_BODY: usize = 1 << 20;
/// Largest v2 inspect payload (the Go node's `1 << 21`).
pub const MAX_INSPECT: usize = 1 << 21;
/// `limit` when none is given, and the most it may be.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 10_000;

/// The node's version, as `cartesi_getNodeVersion` reports it.
pub const NODE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the v2 servers read.
#[derive(Clone, Debug)]
pub struct State {
    pub store: Arc<Store>,
    pub health: Health,
    pub inspects: Inspects,
    pub book: AddressBookV2,
    /// L1, for the transactions that executed outputs.
    pub rpc: Rpc,
    /// The last L1 block whose inputs are all stored: epochs past it are open.
    pub read_through: Arc<AtomicU64>,
    /// How many inputs the backend has processed (inspect answers carry it).
    pub processed: Arc<AtomicU64>,
}

/// A JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError { code: -32602, message: message.into() }
    }
    pub fn not_found(message: impl Into<String>) -> RpcError {
        RpcError { code: -31001, message: message.into() }
    }
    pub fn application_not_found() -> RpcError {
        RpcError { code: -31002, message: "application not found".into() }
    }
    pub fn internal(message: impl Into<String>) -> RpcError {
        RpcError { code: -32603, message: message.into() }
    }
}

/// Serves `/rpc`, `/inspect/<app>` and `/healthz` on `listener` until `shutdown` completes.
pub async fn serve(state: State, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let state = Arc::new(state);
    crate::http::serve(listener, shutdown, "JSON-RPC", move |req| {
        let state = state.clone();
        async move { handle(&state, req).await }
    })
    .await
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if path == "/healthz" || path == "/readyz" {
        let status = if state.health.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        return reply(status, "application/json", state.health.to_json().to_string());
    }
    if req.method() == Method::OPTIONS {
        return reply(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
    }
    if let Some(app) = path.strip_prefix("/inspect/") {
        return inspect(state, app.trim_end_matches('/').to_owned(), req).await;
    }
    if path.trim_end_matches('/') != "/rpc" {
        let message = format!("no route {path}; this Rollups v2 node serves POST /rpc and POST /inspect/<application>");
        return reply(StatusCode::NOT_FOUND, "text/plain", message);
    }
    if req.method() != Method::POST {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "JSON-RPC is served with POST");
        r.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let error = error_response(
                Value::Null,
                &RpcError { code: -32600, message: format!("request body above {MAX_BODY} bytes") },
            );
            return reply(StatusCode::PAYLOAD_TOO_LARGE, "application/json", error.to_string());
        }
    };
    let answer = answer(state, &body).await;
    match answer {
        Some(v) => reply(StatusCode::OK, "application/json", v.to_string()),
        None => reply(StatusCode::NO_CONTENT, "application/json", Bytes::new()),
    }
}

fn error_response(id: Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

/// The answer to a request body: one response, an array of them for a batch, or nothing when
/// every request was a notification.
pub async fn answer(state: &State, body: &[u8]) -> Option<Value> {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Some(error_response(Value::Null, &RpcError { code: -32700, message: format!("parse error: {e}") }))
        }
    };
    match parsed {
        Value::Array(requests) => {
            if requests.is_empty() {
                return Some(error_response(Value::Null, &RpcError { code: -32600, message: "empty batch".into() }));
            }
            if requests.len() > MAX_BATCH {
                let message = format!("a batch holds at most {MAX_BATCH} requests, not {}", requests.len());
                return Some(error_response(Value::Null, &RpcError { code: -32600, message }));
            }
            let mut out = Vec::new();
            for request in requests {
                if let Some(r) = one(state, request).await {
                    out.push(r);
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        request => one(state, request).await,
    }
}

async fn one(state: &State, request: Value) -> Option<Value> {
    let Value::Object(request) = request else {
        return Some(error_response(Value::Null, &RpcError { code: -32600, message: "a request is an object".into() }));
    };
    let id = request.get("id").cloned();
    let invalid = |message: &str| {
        Some(error_response(id.clone().unwrap_or(Value::Null), &RpcError { code: -32600, message: message.into() }))
    };
    if request.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("jsonrpc must be \"2.0\"");
    }
    let Some(method) = request.get("method").and_then(Value::as_str) else { return invalid("no method") };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let result = methods::call(state, method, params).await;
    // A request without an id is a notification: it gets no answer.
    let id = id?;
    Some(match result {
        Ok(value) => json!({"jsonrpc": "2.0", "id": id, "result": value}),
        Err(e) => error_response(id, &e),
    })
}

/// Whether `name` names the application: its name or its address (any case).
pub fn is_application(book: &AddressBookV2, name: &str) -> bool {
    if name == l1::APPLICATION_NAME {
        return true;
    }
    name.parse::<l1::Address>().is_ok_and(|a| a == book.application.app)
        || name.strip_prefix("0x").or_else(|| name.strip_prefix("0X")).and_then(|h| h.parse::<l1::Address>().ok())
            == Some(book.application.app)
}

/// `POST /inspect/<application>`: the payload is the raw body; the answer has the v2 shape.
async fn inspect(state: &State, app: String, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::POST {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "v2 inspect is POST /inspect/<application>");
        r.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    if !is_application(&state.book, &app) {
        return reply(StatusCode::NOT_FOUND, "text/plain", "Application not found");
    }
    let payload = match Limited::new(req.into_body(), MAX_INSPECT).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => {
            return reply(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", format!("payload above {MAX_INSPECT} bytes"))
        }
    };
    let (reply_to, answer) = oneshot::channel();
    match state.inspects.try_send(Job { payload, reply: reply_to }) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "too many inspects are waiting; try again shortly",
            )
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {
            return reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "the dev node is stopping")
        }
    }
    let Answer { completion, processed } = match answer.await {
        Ok(Ok(a)) => a,
        Ok(Err(refusal)) => return reply(refusal.status, "text/plain", refusal.message),
        Err(_) => return reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "Machine not ready"),
    };
    reply(StatusCode::OK, "application/json", inspect_answer(&completion, processed).to_string())
}

/// The v2 inspect answer (§2.3): the reports, the processed input count, the status, and the
/// exception's message when there is one.
fn inspect_answer(completion: &crate::rollup_api::Completion, processed: u64) -> Value {
    let mut body = json!({
        "reports": completion.inspect_reports(),
        "processed_input_count": processed,
        "status": completion.inspect_status(),
    });
    // §2.3: the key is there only when the exception has a message.
    let message = completion.exception.as_deref().unwrap_or_default();
    if completion.inspect_status() == "Exception" && !message.is_empty() {
        body["exception"] = json!(String::from_utf8_lossy(message));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup_api::Completion;
    use rollup::wire::Output;
    use rollup::InputStatus;

    #[test]
    fn an_inspect_exception_carries_its_message_only_when_it_has_one() {
        let exception = |message: Option<&[u8]>| Completion {
            status: InputStatus::Exception,
            exception: message.map(<[u8]>::to_vec),
            outputs: vec![Output::Report(b"r".to_vec())],
        };
        let answer = inspect_answer(&exception(Some(b"boom")), 3);
        assert_eq!(answer["status"], "Exception");
        assert_eq!(answer["exception"], "boom");
        assert_eq!(answer["processed_input_count"], 3);
        assert_eq!(answer["reports"][0]["payload"], "0x72");
        for empty in [None, Some(&b""[..])] {
            let answer = inspect_answer(&exception(empty), 3);
            assert_eq!(answer["status"], "Exception");
            assert!(answer.get("exception").is_none(), "{answer}");
        }
        let accepted = Completion { status: InputStatus::Accepted, exception: None, outputs: vec![] };
        assert!(inspect_answer(&accepted, 0).get("exception").is_none());
    }
}

//! The inspect API of Rollups v1 (`GET /inspect/<payload>`, `POST /inspect`), answered by the
//! backend through the rollup API, in turn with advances, never changing state.
//!
//! Requests go to whoever answers them through a bounded queue ([`Inspects`]): in the node, its
//! supervisor, which runs them between advances, holds them while a fresh backend replays, and
//! answers with an error when the backend dies during one or the node has failed.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use rollup::wire::{HexBytes, Inspect};
use rollup::RollupRequest;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::http::reply_any_origin;
use crate::rollup_api::{Completion, RollupApi};

/// Inspects waiting for their turn beyond this many are refused with 503: a client flooding the
/// node must not grow its memory without bound.
pub(crate) const MAX_QUEUED: usize = 256;

/// An inspect's answer: the backend's completion and the number of processed inputs it saw.
#[derive(Clone, Debug)]
pub struct Answer {
    pub completion: Completion,
    pub processed: u64,
}

/// Why an inspect got no answer from the backend: the HTTP status and a message for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

/// One inspect in the queue.
#[derive(Debug)]
pub struct Job {
    pub payload: Vec<u8>,
    pub reply: oneshot::Sender<Result<Answer, Refusal>>,
}

/// The sending side of the inspect queue.
pub type Inspects = mpsc::Sender<Job>;

/// An inspect queue answered straight through `api` (benches and tests, where nothing else
/// submits requests): `processed` is reported in every answer.
pub fn direct(api: RollupApi, processed: Arc<AtomicU64>) -> Inspects {
    let (queue, mut jobs) = mpsc::channel::<Job>(MAX_QUEUED);
    tokio::spawn(async move {
        while let Some(job) = jobs.recv().await {
            let request = RollupRequest::InspectState(Inspect { payload: HexBytes(job.payload) });
            let answer = match api.submit(request).await {
                Ok(completion) => Ok(Answer { completion, processed: processed.load(Ordering::Relaxed) }),
                Err(e) => Err(Refusal { status: StatusCode::SERVICE_UNAVAILABLE, message: e.to_string() }),
            };
            let _ = job.reply.send(answer);
        }
    });
    queue
}

/// Largest `POST /inspect` body, as Cartesi's inspect server (1 MiB).
pub(crate) const MAX_PAYLOAD: usize = 1 << 20;

/// Decodes `%XX` sequences into bytes; anything else, including `+` and malformed sequences, is
/// kept as it is (the v1 inspect server decodes the path the same way).
pub(crate) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The inspect payload of a request URI: the path after `/inspect/`, percent-decoded, with the
/// query string appended as it came (`?key=value` reaches the backend intact).
pub(crate) fn payload_of(path: &str, query: Option<&str>) -> Option<Vec<u8>> {
    let rest = path.strip_prefix("/inspect/").or_else(|| (path == "/inspect").then_some(""))?;
    let mut payload = percent_decode(rest);
    if let Some(q) = query {
        payload.push(b'?');
        payload.extend_from_slice(q.as_bytes());
    }
    Some(payload)
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    reply_any_origin(status, "text/plain", body)
}

/// Serves inspect on `listener` until `shutdown`, handing each request to `queue`.
pub async fn serve(queue: Inspects, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    crate::http::serve(listener, shutdown, "inspect", move |req| {
        let queue = queue.clone();
        async move { handle(&queue, req).await }
    })
    .await
}

async fn handle(queue: &Inspects, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (method, path, query) =
        (req.method().clone(), req.uri().path().to_string(), req.uri().query().map(str::to_string));
    let payload = match method {
        Method::OPTIONS => return text(StatusCode::NO_CONTENT, ""),
        Method::GET => match payload_of(&path, query.as_deref()) {
            Some(p) => p,
            None => return text(StatusCode::NOT_FOUND, "use GET /inspect/<payload> or POST /inspect"),
        },
        Method::POST if path == "/inspect" || path == "/inspect/" => {
            match Limited::new(req.into_body(), MAX_PAYLOAD).collect().await {
                Ok(body) => body.to_bytes().to_vec(),
                Err(_) => return text(StatusCode::BAD_REQUEST, "Payload reached size limit"),
            }
        }
        _ => return text(StatusCode::NOT_FOUND, "use GET /inspect/<payload> or POST /inspect"),
    };
    let (reply, answer) = oneshot::channel();
    match queue.try_send(Job { payload, reply }) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{MAX_QUEUED} inspects are already waiting for the backend; try again shortly"),
            )
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {
            return text(StatusCode::SERVICE_UNAVAILABLE, "the dev node is stopping")
        }
    }
    let (completion, processed) = match answer.await {
        Ok(Ok(Answer { completion, processed })) => (completion, processed),
        Ok(Err(refusal)) => return text(refusal.status, refusal.message),
        Err(_) => return text(StatusCode::SERVICE_UNAVAILABLE, "the dev node is stopping"),
    };
    let status = completion.inspect_status();
    let exception = completion.exception.clone().map(HexBytes);
    let reports = completion.inspect_reports();
    let body = json!({
        "status": status,
        "exception_payload": exception,
        "reports": reports,
        "processed_input_count": processed,
    });
    reply_any_origin(StatusCode::OK, "application/json", body.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rollup::wire::{Finish, FinishStatus, Payload};
    use std::time::Duration;

    #[test]
    fn payloads_are_the_percent_decoded_path_with_the_query_kept() {
        let p = |path: &str, q: Option<&str>| payload_of(path, q).map(|b| String::from_utf8(b).unwrap());
        assert_eq!(p("/inspect/hello%20world", None).as_deref(), Some("hello world"));
        assert_eq!(p("/inspect/user/123/name", None).as_deref(), Some("user/123/name"));
        assert_eq!(
            p("/inspect/user/data", Some("key=value&key2=value2")).as_deref(),
            Some("user/data?key=value&key2=value2")
        );
        assert_eq!(p("/inspect/0xdeadbeef", None).as_deref(), Some("0xdeadbeef"));
        assert_eq!(p("/inspect/a+b", None).as_deref(), Some("a+b"));
        assert_eq!(p("/inspect/100%zz%4", None).as_deref(), Some("100%zz%4"));
        assert_eq!(p("/inspect", None).as_deref(), Some(""));
        assert_eq!(p("/inspect/", None).as_deref(), Some(""));
        assert_eq!(p("/graphql", None), None);
        assert_eq!(payload_of("/inspect/%C3%A9", None).unwrap(), "é".as_bytes());
    }

    async fn call(addr: std::net::SocketAddr, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let reply = testkit::http::json(addr, method.as_str(), path, body).await;
        (StatusCode::from_u16(reply.status).unwrap(), reply.body)
    }

    /// A backend that answers each inspect with one report: the payload reversed; it rejects
    /// payloads starting with "bad".
    async fn fake_backend(rollup: std::net::SocketAddr) {
        let mut status = FinishStatus::Accept;
        loop {
            let finish = serde_json::to_vec(&Finish { status }).unwrap();
            let (code, body) = call(rollup, Method::POST, "/finish", finish).await;
            if code != StatusCode::OK {
                continue;
            }
            let RollupRequest::InspectState(inspect) = serde_json::from_slice(&body).unwrap() else { panic!() };
            let mut reversed = inspect.payload.0.clone();
            reversed.reverse();
            let report = serde_json::to_vec(&Payload { payload: HexBytes(reversed) }).unwrap();
            call(rollup, Method::POST, "/report", report).await;
            status = if inspect.payload.0.starts_with(b"bad") { FinishStatus::Reject } else { FinishStatus::Accept };
        }
    }

    #[tokio::test]
    async fn inspect_answers_have_the_v1_shape() {
        let api = RollupApi::new(Duration::from_millis(50));
        let [rollup, inspect] = testkit::local_listeners().await;
        let rollup_addr = rollup.local_addr().unwrap();
        let server = api.clone();
        tokio::spawn(async move { server.serve(rollup, std::future::pending()).await });
        let addr = inspect.local_addr().unwrap();
        let processed = Arc::new(AtomicU64::new(7));
        tokio::spawn(serve(direct(api, processed), inspect, std::future::pending()));
        tokio::spawn(fake_backend(rollup_addr));

        let (status, body) = call(addr, Method::GET, "/inspect/hello%20world", vec![]).await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"status": "Accepted", "exception_payload": null, "reports": [{"payload": testkit::hex::to_0x(b"dlrow olleh")}], "processed_input_count": 7})
        );

        let (_, body) = call(addr, Method::POST, "/inspect", b"bad idea".to_vec()).await;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], "Rejected");
        assert_eq!(v["reports"][0]["payload"], testkit::hex::to_0x(b"aedi dab"));

        let (status, _) = call(addr, Method::POST, "/inspect", vec![0; MAX_PAYLOAD + 1]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(call(addr, Method::GET, "/other", vec![]).await.0, StatusCode::NOT_FOUND);
    }
}

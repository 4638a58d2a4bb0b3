//! The rollup HTTP API that the backend long-polls: the dev node's stand-in for the server inside
//! the Cartesi Machine (like Cartesi's host-runner or NoNodo), with the same state machine.
//!
//! Requests are submitted with [`RollupApi::submit`] and handed to the backend one at a time
//! through `/finish`; the submitter gets a [`Completion`] when the backend finishes the request.
//! Vouchers and notices are accepted only during an advance and kept only if the advance is
//! accepted; reports are always kept. With nothing to hand out, `/finish` answers 202 after
//! `finish_timeout`, and the backend asks again.
//!
//! **Sessions.** The node gives every backend it spawns a private URL: [`RollupApi::begin_session`]
//! draws a fresh secret path prefix, drops whatever the previous backend left (its request in
//! progress and any request not yet handed out), and from then on refuses with 403 every call
//! that does not carry the prefix. A stale backend of an earlier spawn or a stray `curl` can
//! therefore never take a request or finish one. The first `/finish` of a session only says the
//! backend is ready: its status never completes a request. Before any session (benches, tests)
//! the API serves unprefixed paths.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use rollup::wire::{DelegateCallVoucher, Finish, FinishStatus, Output, Payload, Voucher};
use rollup::{InputStatus, RollupRequest};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};

use crate::http::{reply, reply_typed};

/// Largest request body: the limit of Cartesi's own server from guest tools 0.17 on.
const MAX_BODY: usize = 5 << 20;

/// How long a kept-alive connection of the backend may stay idle. The backend is the only client
/// (behind its private URL) and may compute for a long time between two posts (a block's proof of
/// work): its connection must not be closed under it. The liveness timeout of the supervisor,
/// not this, decides when a backend is stuck.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// A finished request: its status and the outputs that count (vouchers and notices only when
/// accepted; reports always), in the order they were posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// `Accepted`, `Rejected` or `Exception`.
    pub status: InputStatus,
    /// What the backend raised, or why it died, when `status` is `Exception`.
    pub exception: Option<Vec<u8>>,
    pub outputs: Vec<Output>,
}

impl Completion {
    /// The status as Cartesi's inspect answers spell it (v1 and v2 alike).
    pub(crate) fn inspect_status(&self) -> &'static str {
        match self.status {
            InputStatus::Accepted => "Accepted",
            InputStatus::Rejected => "Rejected",
            InputStatus::Exception | InputStatus::Unprocessed => "Exception",
        }
    }

    /// The reports, as inspect answers list them: `[{"payload": "0x…"}]`.
    pub(crate) fn inspect_reports(&self) -> Vec<serde_json::Value> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                Output::Report(p) => Some(serde_json::json!({"payload": rollup::HexBytes(p.clone())})),
                _ => None,
            })
            .collect()
    }
}

/// The request will never finish: the API is gone, or a new session dropped it before a backend
/// finished it.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request was dropped before a backend finished it")
    }
}

impl std::error::Error for Closed {}

struct Job {
    request: RollupRequest,
    /// Rollups v2: the global index of the advance's first output (see [`RollupApi::submit_v2`]).
    output_base: Option<u64>,
    done: oneshot::Sender<Completion>,
}

/// The request the backend is working on.
struct Current {
    advance: bool,
    outputs: Vec<Output>,
    vouchers: u64,
    notices: u64,
    delegate_calls: u64,
    output_base: Option<u64>,
    done: oneshot::Sender<Completion>,
}

impl Current {
    fn complete(self, status: InputStatus, exception: Option<Vec<u8>>) {
        let keep_all = status.keeps_outputs();
        let outputs = self.outputs.into_iter().filter(|o| keep_all || matches!(o, Output::Report(_))).collect();
        // The submitter may have gone away; nothing else is waiting for this.
        let _ = self.done.send(Completion { status, exception, outputs });
    }
}

#[derive(Default)]
struct State {
    /// The current session's path prefix (`/<secret>`); `None` before the first session.
    prefix: Option<String>,
    /// Whether the current session's backend has called `/finish`.
    greeted: bool,
    /// Requests not yet handed out, in submission order.
    pending: VecDeque<Job>,
    current: Option<Current>,
}

struct Shared {
    state: Mutex<State>,
    /// A request was submitted.
    available: Notify,
    /// A backend called `/finish` for the first time in its session.
    greeted: Notify,
    finish_timeout: Duration,
}

/// A handle on the rollup API: submit requests, serve the backend, abort the current request.
#[derive(Clone)]
pub struct RollupApi {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RollupApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupApi").field("finish_timeout", &self.shared.finish_timeout).finish()
    }
}

/// 128 bits from the kernel's generator, as hex: the secret of a session's URL.
fn secret() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

const FORBIDDEN: &str =
    "forbidden: this rollup API serves only the backend the dev node started (the URL's secret prefix does not match)";

impl RollupApi {
    /// `finish_timeout`: how long `/finish` waits for a request before answering 202. Cartesi's
    /// host-runner waits 10 s; a short wait makes backends busy-loop.
    pub fn new(finish_timeout: Duration) -> RollupApi {
        let shared = Shared {
            state: Mutex::new(State::default()),
            available: Notify::new(),
            greeted: Notify::new(),
            finish_timeout,
        };
        RollupApi { shared: Arc::new(shared) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock would be a bug in this module; the data stay usable.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for a new backend and returns the path prefix its URL must carry
    /// (`http://host:port<prefix>`). Whatever the previous backend had in progress or not yet
    /// taken is dropped: its submitters get [`Closed`].
    pub(crate) fn begin_session(&self) -> std::io::Result<String> {
        let prefix = format!("/{}", secret()?);
        let mut state = self.lock();
        state.prefix = Some(prefix.clone());
        state.greeted = false;
        state.pending.clear();
        state.current = None;
        Ok(prefix)
    }

    /// Waits until the current session's backend has called `/finish` once.
    pub(crate) async fn greeted(&self) {
        loop {
            let notified = self.shared.greeted.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().greeted {
                return;
            }
            notified.await;
        }
    }

    /// Queues a request for the backend and waits until the backend finishes it.
    pub async fn submit(&self, request: RollupRequest) -> Result<Completion, Closed> {
        self.queue(request, None).await
    }

    /// [`submit`](Self::submit) for a Rollups v2 advance: `/notice` and `/voucher` answer with the
    /// output's global index (`first_output` for the advance's first one), as the in-machine
    /// server does, instead of its index within the input.
    pub async fn submit_v2(&self, request: RollupRequest, first_output: u64) -> Result<Completion, Closed> {
        self.queue(request, Some(first_output)).await
    }

    /// Queues a request for the backend now and returns a future of its completion
    /// (`output_base`: see [`submit_v2`](Self::submit_v2)). Queuing the next request before the
    /// current one finishes lets `/finish` hand it out at once, without waiting for the submitter
    /// to wake up: the supervisor keeps one input queued ahead this way.
    pub fn queue(
        &self,
        request: RollupRequest,
        output_base: Option<u64>,
    ) -> impl Future<Output = Result<Completion, Closed>> + use<> {
        let (done, finished) = oneshot::channel();
        self.lock().pending.push_back(Job { request, output_base, done });
        self.shared.available.notify_one();
        async move { finished.await.map_err(|_| Closed) }
    }

    /// Ends the current request as an exception, for when the backend dies during it (as a real
    /// node marks the input EXCEPTION). Returns whether a request was in progress.
    pub fn abort_current(&self, reason: &str) -> bool {
        let current = self.lock().current.take();
        match current {
            Some(c) => {
                c.complete(InputStatus::Exception, Some(reason.as_bytes().to_vec()));
                true
            }
            None => false,
        }
    }

    /// Serves the API on `listener` until `shutdown` completes.
    pub async fn serve(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let api = self.clone();
        let options = crate::http::Options { header_read_timeout: IDLE_TIMEOUT, ..Default::default() };
        crate::http::serve_with(listener, shutdown, "rollup API", options, move |req| {
            let api = api.clone();
            async move { api.handle(req).await }
        })
        .await
    }

    /// The route of `path` within the current session, or `None` when the path does not carry
    /// the session's prefix.
    fn route(&self, path: &str) -> Option<(Option<String>, String)> {
        let prefix = self.lock().prefix.clone();
        match &prefix {
            None => Some((None, path.to_owned())),
            Some(p) => {
                let rest = path.strip_prefix(p.as_str())?;
                rest.starts_with('/').then(|| (prefix.clone(), rest.to_owned()))
            }
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let Some((session, path)) = self.route(req.uri().path()) else {
            return reply(StatusCode::FORBIDDEN, FORBIDDEN);
        };
        if req.method() != Method::POST {
            return reply(StatusCode::METHOD_NOT_ALLOWED, "only POST is served");
        }
        let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return reply(StatusCode::PAYLOAD_TOO_LARGE, format!("request body above {MAX_BODY} bytes")),
        };
        match path.as_str() {
            "/finish" => self.finish(session, &body).await,
            "/voucher" => match serde_json::from_slice::<Voucher>(&body) {
                Ok(v) => self.output(session, Output::Voucher(v)),
                Err(e) => reply(StatusCode::BAD_REQUEST, format!("invalid voucher: {e}")),
            },
            "/delegate-call-voucher" => match serde_json::from_slice::<DelegateCallVoucher>(&body) {
                Ok(v) => self.output(session, Output::DelegateCallVoucher(v)),
                Err(e) => reply(StatusCode::BAD_REQUEST, format!("invalid delegate-call voucher: {e}")),
            },
            "/notice" | "/report" | "/exception" => match serde_json::from_slice::<Payload>(&body) {
                Ok(p) if path == "/notice" => self.output(session, Output::Notice(p.payload.0)),
                Ok(p) if path == "/report" => self.output(session, Output::Report(p.payload.0)),
                Ok(p) => self.exception(session, p.payload.0),
                Err(e) => reply(StatusCode::BAD_REQUEST, format!("invalid payload: {e}")),
            },
            _ => reply(StatusCode::NOT_FOUND, format!("no route {path}")),
        }
    }

    /// The state, if `session` is still the current one.
    fn session_state(&self, session: &Option<String>) -> Option<std::sync::MutexGuard<'_, State>> {
        let state = self.lock();
        (state.prefix == *session).then_some(state)
    }

    async fn finish(&self, session: Option<String>, body: &[u8]) -> Response<Full<Bytes>> {
        let Ok(finish) = serde_json::from_slice::<Finish>(body) else {
            return reply(StatusCode::BAD_REQUEST, "status must be 'accept' or 'reject'");
        };
        {
            let Some(mut state) = self.session_state(&session) else {
                return reply(StatusCode::FORBIDDEN, FORBIDDEN);
            };
            if !state.greeted {
                // The first call of a session only says the backend is ready.
                state.greeted = true;
                self.shared.greeted.notify_waiters();
            } else if let Some(current) = state.current.take() {
                let status = match finish.status {
                    FinishStatus::Accept => InputStatus::Accepted,
                    FinishStatus::Reject => InputStatus::Rejected,
                };
                current.complete(status, None);
            }
        }
        let deadline = tokio::time::Instant::now() + self.shared.finish_timeout;
        loop {
            let available = self.shared.available.notified();
            tokio::pin!(available);
            available.as_mut().enable();
            {
                let Some(mut state) = self.session_state(&session) else {
                    return reply(StatusCode::FORBIDDEN, FORBIDDEN);
                };
                while let Some(job) = state.pending.pop_front() {
                    if job.done.is_closed() {
                        // Its submitter went away (an inspect whose client hung up).
                        continue;
                    }
                    let body = match serde_json::to_string(&job.request) {
                        Ok(b) => b,
                        Err(e) => {
                            return reply(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the request: {e}"))
                        }
                    };
                    let advance = matches!(job.request, RollupRequest::AdvanceState(_));
                    state.current = Some(Current {
                        advance,
                        outputs: Vec::new(),
                        vouchers: 0,
                        notices: 0,
                        delegate_calls: 0,
                        output_base: job.output_base,
                        done: job.done,
                    });
                    return reply_typed(StatusCode::OK, "application/json", body);
                }
            }
            tokio::select! {
                () = &mut available => {}
                () = tokio::time::sleep_until(deadline) => {
                    return reply(StatusCode::ACCEPTED, "no rollup request available");
                }
            }
        }
    }

    fn output(&self, session: Option<String>, output: Output) -> Response<Full<Bytes>> {
        let Some(mut state) = self.session_state(&session) else {
            return reply(StatusCode::FORBIDDEN, FORBIDDEN);
        };
        let Some(current) = state.current.as_mut() else {
            return reply(StatusCode::BAD_REQUEST, format!("invalid request {} in idle state", output.kind().name()));
        };
        let index = match &output {
            Output::Report(_) => None,
            _ if !current.advance => {
                return reply(
                    StatusCode::BAD_REQUEST,
                    format!("invalid request {} in inspect state", output.kind().name()),
                );
            }
            Output::Voucher(_) => {
                current.vouchers += 1;
                Some(current.vouchers - 1)
            }
            Output::Notice(_) => {
                current.notices += 1;
                Some(current.notices - 1)
            }
            Output::DelegateCallVoucher(_) if current.output_base.is_none() => {
                return reply(
                    StatusCode::BAD_REQUEST,
                    "invalid request delegate-call-voucher: a Rollups v2 output, and this is a v1 advance",
                );
            }
            Output::DelegateCallVoucher(_) => {
                current.delegate_calls += 1;
                Some(current.delegate_calls - 1)
            }
        };
        current.outputs.push(output);
        // v2 numbers outputs across the application: every kind but reports shares one sequence.
        let index = match current.output_base {
            Some(base) => index.map(|_| base + current.vouchers + current.notices + current.delegate_calls - 1),
            None => index,
        };
        // As Cartesi's server: 201 with the output's index (within the input in v1, global in
        // v2), 202 for reports.
        match index {
            Some(i) => reply_typed(StatusCode::CREATED, "application/json", format!(r#"{{"index":{i}}}"#)),
            None => reply(StatusCode::ACCEPTED, ""),
        }
    }

    fn exception(&self, session: Option<String>, payload: Vec<u8>) -> Response<Full<Bytes>> {
        let Some(mut state) = self.session_state(&session) else {
            return reply(StatusCode::FORBIDDEN, FORBIDDEN);
        };
        match state.current.take() {
            Some(current) => {
                current.complete(InputStatus::Exception, Some(payload));
                reply(StatusCode::ACCEPTED, "")
            }
            None => reply(StatusCode::BAD_REQUEST, "invalid request exception in idle state"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

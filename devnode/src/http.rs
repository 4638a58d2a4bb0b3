//! The accept loop shared by the node's HTTP servers (rollup API, inspect, GraphQL).
//!
//! A server must outlive its clients' mistakes and the host's bad moments: an `accept()` error
//! (out of file descriptors, a connection aborted before it was accepted) is logged and retried
//! after a short pause, never the end of the server; a client that sends its headers slowly, or
//! keeps an idle connection open, is disconnected after a timeout; and the number of open
//! connections is capped, so a flood of them cannot take every descriptor of the process.
//!
//! The servers' replies are built here too, with the same CORS headers wherever they are sent.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How long a client may take to send a request's headers, counted from the moment the server
/// waits for them: on a new connection, and on a kept-alive connection after each response, so
/// it is also how long an idle connection is kept. Every client of the dev node is local and
/// sends its headers in one write; ten seconds only matter to a stalled or hostile client.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Open connections per server. Each holds a file descriptor, and the common default limit is
/// 1,024 descriptors per process for the node's three servers, its database and its children's
/// pipes: 256 each leaves room for the rest, and is far more than a developer's tools open.
pub(crate) const MAX_CONNECTIONS: usize = 256;

/// The first pause after an `accept()` error, doubled after each further error up to
/// [`ACCEPT_BACKOFF_MAX`] and reset by the next accepted connection. Descriptors run out for a
/// while (EMFILE, ENFILE): retrying at once would spin and flood the log, waiting too long would
/// leave clients waiting after the descriptors are back.
pub(crate) const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(50);

/// The longest pause between two `accept()` attempts after errors.
pub(crate) const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A reply with `status` and `body`, and no other header (the rollup API's plain answers, as
/// Cartesi's host-runner sends them).
pub(crate) fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

/// A reply whose body is of `content_type`.
pub(crate) fn reply_typed(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut r = reply(status, body);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A typed reply that allows any origin: the console and browser tools call inspect and GraphQL
/// from other origins, as Cartesi's servers (permissive CORS) allow.
pub(crate) fn reply_any_origin(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut r = reply_typed(status, content_type, body);
    let headers = r.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("*"));
    r
}

/// The limits of one server. [`serve`] uses the defaults; tests shorten them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`MAX_CONNECTIONS`]; at least one connection is always allowed.
    pub max_connections: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { header_read_timeout: HEADER_READ_TIMEOUT, max_connections: MAX_CONNECTIONS }
    }
}

/// Where connections come from: a TCP listener in the node, something that can fail on demand
/// in tests (real descriptor exhaustion cannot be arranged safely inside a test process).
pub trait Accept: Send {
    /// One accepted connection.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Waits for the next connection.
    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Io>> + Send;
}

impl Accept for TcpListener {
    type Io = TcpStream;

    async fn accept(&mut self) -> io::Result<TcpStream> {
        let (stream, _) = TcpListener::accept(self).await?;
        // Small request/response exchanges: do not let Nagle's algorithm hold replies back.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

/// Serves HTTP/1.1 connections from `listener` with `handle` until `shutdown` completes, with the
/// default [`Options`]. Connections in progress finish on their own tasks. `what` names the
/// server in logs. Accept errors do not end the loop; the result is kept for the callers' sake
/// and is always `Ok` once `shutdown` completes.
pub async fn serve<H, F>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    what: &'static str,
    handle: H,
) -> io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    serve_with(listener, shutdown, what, Options::default(), handle).await
}

/// [`serve`] with explicit limits, from any source of connections.
pub async fn serve_with<A, H, F>(
    mut connections: A,
    shutdown: impl Future<Output = ()>,
    what: &'static str,
    options: Options,
    handle: H,
) -> io::Result<()>
where
    A: Accept,
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    tokio::pin!(shutdown);
    // A connection above the cap waits in the kernel's listen queue until an open one closes,
    // rather than being accepted and answered 503: accepting it would already spend the
    // descriptor the cap is there to save, and a client that waits a moment is served normally
    // instead of failing. The header timeout bounds how long a stalled connection holds a slot.
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    let mut backoff = Backoff::default();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => return Ok(()),
        };
        // The semaphore is never closed; if it were, there would be nothing left to serve.
        let Ok(slot) = slot else { return Ok(()) };
        let accepted = tokio::select! {
            accepted = connections.accept() => accepted,
            () = &mut shutdown => return Ok(()),
        };
        let stream = match accepted {
            Ok(stream) => {
                let failures = backoff.reset();
                if failures > 0 {
                    tracing::warn!("{what}: accepting connections again after {failures} failed attempts");
                }
                stream
            }
            // The client gave up before the connection was accepted: nothing is wrong here.
            Err(e) if is_per_connection(&e) => {
                tracing::debug!("{what}: a connection ended before it was accepted: {e}");
                continue;
            }
            Err(e) => {
                let pause = backoff.next_pause();
                // One warning per streak of failures, not one a second while it lasts.
                if backoff.failures == 1 {
                    tracing::warn!(
                        "{what}: cannot accept connections: {e}; retrying with pauses of up to {} ms",
                        ACCEPT_BACKOFF_MAX.as_millis()
                    );
                } else {
                    tracing::debug!("{what}: cannot accept connections: {e}; retrying in {} ms", pause.as_millis());
                }
                tokio::select! {
                    () = tokio::time::sleep(pause) => continue,
                    () = &mut shutdown => return Ok(()),
                }
            }
        };
        let handle = handle.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let reply = handle(req);
                async move { Ok::<_, hyper::Error>(reply.await) }
            });
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!("{what} connection ended: {e}");
            }
            // The slot is free again once the connection is closed.
            drop(slot);
        });
    }
}

/// Errors that concern one connection, not the listener: the next `accept()` can succeed at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

/// The pause before the next `accept()` after consecutive errors.
#[derive(Debug, Default)]
struct Backoff {
    last: Option<Duration>,
    /// Errors since the last accepted connection.
    failures: u64,
}

impl Backoff {
    fn next_pause(&mut self) -> Duration {
        let pause = match self.last {
            None => ACCEPT_BACKOFF_FIRST,
            Some(last) => (last * 2).min(ACCEPT_BACKOFF_MAX),
        };
        self.last = Some(pause);
        self.failures += 1;
        pause
    }

    /// Starts over after a success; returns how many errors came before it.
    fn reset(&mut self) -> u64 {
        self.last = None;
        std::mem::take(&mut self.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_resets() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..7).map(|_| backoff.next_pause().as_millis()).collect();
        assert_eq!(pauses, [50, 100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff.reset(), 7);
        assert_eq!(backoff.next_pause(), ACCEPT_BACKOFF_FIRST);
        assert_eq!(backoff.reset(), 1);
        assert_eq!(backoff.reset(), 0);
    }

    #[test]
    fn aborted_connections_are_not_listener_errors() {
        assert!(is_per_connection(&io::Error::from(io::ErrorKind::ConnectionAborted)));
        assert!(!is_per_connection(&io::Error::other("Too many open files (os error 24)")));
    }
}

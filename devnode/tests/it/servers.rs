//! The accept loop every server of the node shares: it survives accept errors, disconnects slow
//! and idle clients, and caps its connections.
//!
//! These tests use real sockets, so time is real: each limit is set short (a fraction of a
//! second) and each assertion waits with a generous deadline, never a fixed sleep, except where a
//! test shows that something does *not* happen within a while.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use devnode::http::{serve_with, Accept, Options};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Far longer than any step takes on a loaded machine; only a broken server reaches it.
const DEADLINE: Duration = Duration::from_secs(20);

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n";

async fn ok(_req: Request<Incoming>) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"ok")))
}

/// A server on port 0 with `options`, from connections given by `wrap(listener)`.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

async fn start_from<A: Accept + 'static>(wrap: impl FnOnce(TcpListener) -> A, options: Options) -> Server {
    let listener = testkit::local_listener().await;
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve_with(wrap(listener), shutdown, "test", options, ok));
    Server { addr, stop: Some(stop), task }
}

async fn start(options: Options) -> Server {
    start_from(|listener| listener, options).await
}

impl Server {
    /// Stops the accept loop and waits for it to return.
    async fn stop(mut self) -> io::Result<()> {
        drop(self.stop.take());
        tokio::time::timeout(DEADLINE, &mut self.task).await.expect("the server did not stop").unwrap()
    }
}

/// Reads one response to [`REQUEST`] (the handler always answers "ok") and returns its text.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 1024];
    while !text.ends_with(b"\r\n\r\nok") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed before the answer: {:?}", String::from_utf8_lossy(&text));
        text.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(text).unwrap()
}

/// Sends one request on `stream` and waits for its answer.
async fn roundtrip(stream: &mut TcpStream) -> String {
    stream.write_all(REQUEST).await.unwrap();
    tokio::time::timeout(DEADLINE, read_response(stream)).await.expect("no answer")
}

/// Waits until the server closes `stream`: a read returns end of file (or a reset).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                // Anything the server sends before closing is not an answer to a request.
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(DEADLINE, read).await.unwrap_or(false)
}

/// A listener whose first `failures` accepts fail, as `accept()` does when the process is out
/// of file descriptors; it counts every call.
struct Flaky {
    listener: TcpListener,
    failures: Vec<io::Error>,
    calls: Arc<AtomicUsize>,
}

impl Accept for Flaky {
    type Io = TcpStream;

    async fn accept(&mut self) -> io::Result<TcpStream> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = self.failures.pop() {
            return Err(e);
        }
        let (stream, _) = self.listener.accept().await?;
        Ok(stream)
    }
}

fn emfile() -> io::Error {
    io::Error::other("Too many open files (os error 24)")
}

#[tokio::test]
async fn accept_errors_are_retried_and_the_server_keeps_serving() {
    let calls = Arc::new(AtomicUsize::new(0));
    let failures = vec![emfile(), io::Error::from(io::ErrorKind::ConnectionAborted), emfile(), emfile()];
    let counted = calls.clone();
    let server = start_from(move |listener| Flaky { listener, failures, calls: counted }, Options::default()).await;
    // The connection waits in the listen queue while the server backs off from the errors.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let answer = roundtrip(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Four failed accepts, then the one that brought this connection.
    assert!(calls.load(Ordering::SeqCst) >= 5);
    // More connections are served as usual afterwards.
    let mut again = TcpStream::connect(server.addr).await.unwrap();
    assert!(roundtrip(&mut again).await.starts_with("HTTP/1.1 200"));
    assert!(server.stop().await.is_ok());
}

#[tokio::test]
async fn shutdown_ends_the_loop_while_it_backs_off() {
    // A listener that never accepts again keeps the loop in its pauses; stopping must still work.
    let failures: Vec<io::Error> = (0..10_000).map(|_| emfile()).collect();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = start_from(move |listener| Flaky { listener, failures, calls: counted }, Options::default()).await;
    tokio::time::timeout(DEADLINE, async {
        while calls.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server did not retry");
    assert!(server.stop().await.is_ok());
    // Backing off, not spinning: a few tries in the time it took, not thousands.
    assert!(calls.load(Ordering::SeqCst) < 100, "{} accepts", calls.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_client_sending_half_a_header_is_disconnected() {
    let options = Options { header_read_timeout: Duration::from_millis(200), ..Options::default() };
    let server = start(options).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: te").await.unwrap();
    assert!(closed_by_server(&mut slow).await, "a half-sent header kept the connection open");
    // A client that never sends a byte is dropped the same way.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_by_server(&mut silent).await, "a silent client kept the connection open");
    // Prompt clients are still served.
    let mut prompt = TcpStream::connect(server.addr).await.unwrap();
    assert!(roundtrip(&mut prompt).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let options = Options { header_read_timeout: Duration::from_millis(200), ..Options::default() };
    let server = start(options).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    // Two requests on one connection: it is kept alive between them...
    assert!(roundtrip(&mut client).await.starts_with("HTTP/1.1 200"));
    assert!(roundtrip(&mut client).await.starts_with("HTTP/1.1 200"));
    // ...and closed once it has been idle for the header timeout.
    assert!(closed_by_server(&mut client).await, "an idle connection was kept open");
}

#[tokio::test]
async fn connections_above_the_cap_wait_until_one_closes() {
    let options = Options { max_connections: 2, header_read_timeout: Duration::from_secs(60) };
    let server = start(options).await;
    // Two kept-alive connections, each answered once so it is known to hold a slot.
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    assert!(roundtrip(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(roundtrip(&mut second).await.starts_with("HTTP/1.1 200"));
    // The third connects (the kernel queues it) but is not served while both are open.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third.write_all(REQUEST).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), read_response(&mut third)).await;
    assert!(early.is_err(), "a connection above the cap was served: {early:?}");
    // The open ones keep working.
    assert!(roundtrip(&mut first).await.starts_with("HTTP/1.1 200"));
    // Closing one lets the third in, and its request (sent while it waited) is answered.
    drop(second);
    let answer = tokio::time::timeout(DEADLINE, read_response(&mut third)).await.expect("still not served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

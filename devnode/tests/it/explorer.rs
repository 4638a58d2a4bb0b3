//! The web explorer on the GraphQL address: its page, assets and configuration next to the
//! reader API and readiness, and still served when the node has failed (the page says why).

use std::net::SocketAddr;
use std::sync::Arc;

use devnode::explorer::{Explorer, Links};
use devnode::health::{Health, Phase};
use devnode::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

async fn start(health: Health) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = testkit::local_listener().await;
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let explorer = Explorer::new(&Links {
        inspect_url: "http://127.0.0.1:5005/inspect".into(),
        rpc_url: "http://127.0.0.1:8545".into(),
        application: "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e".into(),
        backend: "dapp".into(),
    });
    let store = Arc::new(Store::open_in_memory().unwrap());
    tokio::spawn(devnode::graphql::serve(store, health, explorer, listener, async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// One request on a fresh connection that the server closes after answering: (status line,
/// headers and body). Raw, since the test reads headers that `testkit::http` does not keep.
async fn get(addr: SocketAddr, method: &str, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (status, rest) = answer.split_once("\r\n").unwrap();
    (status.to_string(), rest.to_string())
}

#[tokio::test]
async fn the_graphql_address_serves_the_explorer_beside_the_reader_api() {
    let health = Health::new();
    health.set(Phase::Ready);
    let (addr, _stop) = start(health).await;

    let (status, page) = get(addr, "GET", "/explorer/").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(page.contains("content-type: text/html; charset=utf-8"), "{page}");
    assert!(page.contains(r#"<script type="module" src="/explorer/explorer.js">"#), "{page}");

    let (status, script) = get(addr, "GET", "/explorer/explorer.js").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(script.contains("content-type: text/javascript"), "{}", &script[..200]);

    let (status, config) = get(addr, "GET", "/explorer/config.json").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(config.contains(r#""inspect":"http://127.0.0.1:5005/inspect""#), "{config}");

    let (status, redirect) = get(addr, "GET", "/explorer").await;
    assert_eq!(status, "HTTP/1.1 301 Moved Permanently");
    assert!(redirect.contains("location: /explorer/"), "{redirect}");

    // The reader API and readiness answer as before.
    let (status, _) = get(addr, "GET", "/healthz").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (status, playground) = get(addr, "GET", "/graphql").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(playground.contains("text/html"), "{playground}");
    let (status, _) = get(addr, "GET", "/nothing").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

#[tokio::test]
async fn a_failed_node_still_serves_the_explorer_which_shows_why() {
    let health = Health::new();
    health.fail("the chain contradicts itself", "start a fresh node");
    let (addr, _stop) = start(health).await;
    let (status, _) = get(addr, "GET", "/explorer/").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (status, body) = get(addr, "GET", "/healthz").await;
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    assert!(body.contains("the chain contradicts itself"), "{body}");
}

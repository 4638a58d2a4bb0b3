//! The reader API over HTTP: the console's queries (`console`), pagination (`pagination`), the
//! schema against Cartesi's file (`schema`), the cost and size limits (`limits`), and the
//! transport: routes, accepted content types and readiness (`transport`).

mod console;
mod limits;
mod pagination;
mod schema;
mod transport;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::parser::types::{InputValueDefinition, TypeKind, TypeSystemDefinition};
use devnode::health::{Health, Phase};
use devnode::store::{InputRecord, InputStatus, Store};
use ledger::Address;
use rollup::wire::{HexBytes, Output, Voucher};
use serde_json::{json, Value};
use tokio::sync::oneshot;

const SENDER: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const DESTINATION: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

/// A store with four inputs: #0 accepted with notices "hello" and "world", a voucher and a
/// report; #1 rejected with a report; #2 accepted with one notice; #3 not processed yet.
fn filled_store() -> Arc<Store> {
    let store = Store::open_in_memory().unwrap();
    let sender: Address = SENDER.parse().unwrap();
    for i in 0..4u64 {
        let record = InputRecord {
            index: i,
            msg_sender: sender,
            payload: format!("input {i}").into_bytes(),
            block_number: 20 + i,
            timestamp: 1_700_000_000 + i,
            origin: Default::default(),
        };
        store.add_input(&record).unwrap();
    }
    let voucher = Output::Voucher(Voucher {
        destination: DESTINATION.parse().unwrap(),
        value: None,
        payload: HexBytes(vec![0xde, 0xad, 0xbe, 0xef]),
    });
    let outputs0 = [
        Output::Notice(b"hello".to_vec()),
        voucher,
        Output::Report(b"log 0".to_vec()),
        Output::Notice(b"world".to_vec()),
    ];
    store.complete(0, InputStatus::Accepted, None, &outputs0).unwrap();
    store.complete(1, InputStatus::Rejected, None, &[Output::Report(b"rejected".to_vec())]).unwrap();
    store.complete(2, InputStatus::Accepted, None, &[Output::Notice(b"third".to_vec())]).unwrap();
    Arc::new(store)
}

/// The reader API on port 0, stopped when dropped.
struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start(store: Arc<Store>) -> Server {
    let health = Health::new();
    health.set(Phase::Ready);
    start_with(store, health).await
}

async fn start_with(store: Arc<Store>, health: Health) -> Server {
    let listener = testkit::local_listener().await;
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let explorer = devnode::explorer::Explorer::new(&devnode::explorer::Links::default());
    tokio::spawn(devnode::graphql::serve(store, health, explorer, listener, async move {
        let _ = stopped.await;
    }));
    Server { addr, _stop: stop }
}

/// One HTTP request on a fresh connection, with a JSON body: (status, content type, body).
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String, String) {
    http_typed(addr, method, path, Some("application/json"), body).await
}

/// One HTTP request with the given Content-Type, or none.
async fn http_typed(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let accept = ("accept", "application/graphql-response+json, application/graphql+json, application/json");
    let mut headers = vec![accept];
    headers.extend(content_type.map(|t| ("content-type", t)));
    let reply = testkit::http::request(addr, method, path, &headers, body.to_string()).await;
    (reply.status, reply.content_type, String::from_utf8(reply.body).unwrap())
}

/// Sends a query as urql does (`{query, operationName, variables}`) and returns the JSON answer.
/// An empty operation name is sent as null, as for an anonymous query.
async fn query(server: &Server, operation: &str, query: &str, variables: Value) -> Value {
    let operation = if operation.is_empty() { Value::Null } else { json!(operation) };
    let body = json!({ "query": query, "operationName": operation, "variables": variables }).to_string();
    let (status, content_type, text) = http(server.addr, "POST", "/graphql", &body).await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    serde_json::from_str(&text).unwrap()
}

/// The data of an answer that must have no errors.
fn data(answer: Value) -> Value {
    assert!(answer.get("errors").is_none(), "unexpected errors: {answer}");
    answer["data"].clone()
}

fn error_message(answer: &Value) -> String {
    answer["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("no error in {answer}")).to_string()
}

fn hex(text: &str) -> String {
    testkit::hex::to_0x(text)
}

// The console's queries (frontend-console/graphql/queries.graphql), as urql sends them: with
// `__typename` added to every selection set below the root.

/// Posts `q` and returns (status, raw body, parsed answer).
async fn post_raw(server: &Server, body: &Value) -> (u16, String, Value) {
    let (status, _, text) = http(server.addr, "POST", "/graphql", &body.to_string()).await;
    let answer = serde_json::from_str(&text).unwrap();
    (status, text, answer)
}

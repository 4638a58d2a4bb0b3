//! The reader API over HTTP: the console's queries, the schema against Cartesi's file, pagination
//! and errors, the cost and size limits, the accepted content types, and readiness.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::parser::types::{InputValueDefinition, TypeKind, TypeSystemDefinition};
use devnode::health::{Health, Phase};
use devnode::store::{InputRecord, InputStatus, Store};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
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
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("accept", "application/graphql-response+json, application/graphql+json, application/json");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let request = request.body(Full::new(Bytes::from(body.to_string()))).unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
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
    format!("0x{}", ::hex::encode(text))
}

// The console's queries (frontend-console/graphql/queries.graphql), as urql sends them: with
// `__typename` added to every selection set below the root.

const PROOF: &str = "proof {
      validity {
        inputIndexWithinEpoch
        outputIndexWithinInput
        outputHashesRootHash
        vouchersEpochRootHash
        noticesEpochRootHash
        machineStateHash
        outputHashInOutputHashesSiblings
        outputHashesInEpochSiblings
        __typename
      }
      context
      __typename
    }";

fn notice_query() -> String {
    format!(
        "query notice($noticeIndex: Int!, $inputIndex: Int!) {{
  notice(noticeIndex: $noticeIndex, inputIndex: $inputIndex) {{
    index
    input {{
      index
      __typename
    }}
    payload
    {PROOF}
    __typename
  }}
}}"
    )
}

fn voucher_query() -> String {
    format!(
        "query voucher($voucherIndex: Int!, $inputIndex: Int!) {{
  voucher(voucherIndex: $voucherIndex, inputIndex: $inputIndex) {{
    index
    input {{
      index
      __typename
    }}
    destination
    payload
    {PROOF}
    __typename
  }}
}}"
    )
}

const REPORT: &str = "query report($reportIndex: Int!, $inputIndex: Int!) {
  report(reportIndex: $reportIndex, inputIndex: $inputIndex) {
    index
    input {
      index
      __typename
    }
    payload
    __typename
  }
}";

/// `notices`, `vouchers` or `reports` (all, no arguments); `extra` is `destination` for vouchers.
fn list_query(plural: &str, extra: &str) -> String {
    format!(
        "query {plural} {{
  {plural} {{
    edges {{
      node {{
        index
        input {{
          index
          __typename
        }}
        {extra}
        payload
        __typename
      }}
      __typename
    }}
    __typename
  }}
}}"
    )
}

/// `noticesByInput`, `vouchersByInput` or `reportsByInput`.
fn by_input_query(plural: &str, extra: &str) -> String {
    format!(
        "query {plural}ByInput($inputIndex: Int!) {{
  input(index: $inputIndex) {{
    {plural} {{
      edges {{
        node {{
          index
          input {{
            index
            __typename
          }}
          {extra}
          payload
          __typename
        }}
        __typename
      }}
      __typename
    }}
    __typename
  }}
}}"
    )
}

fn node(kind: &str, index: u64, input: u64, payload: &str) -> Value {
    json!({ "index": index, "input": { "index": input, "__typename": "Input" }, "payload": hex(payload), "__typename": kind })
}

fn edges(nodes: Vec<Value>, edge: &str, connection: &str) -> Value {
    let edges: Vec<Value> = nodes.into_iter().map(|n| json!({ "node": n, "__typename": edge })).collect();
    json!({ "edges": edges, "__typename": connection })
}

fn voucher_node() -> Value {
    json!({
        "index": 0,
        "input": { "index": 0, "__typename": "Input" },
        "destination": DESTINATION,
        "payload": "0xdeadbeef",
        "__typename": "Voucher",
    })
}

#[tokio::test]
async fn console_notice_queries() {
    let server = start(filled_store()).await;
    let one = data(query(&server, "notice", &notice_query(), json!({ "noticeIndex": 1, "inputIndex": 0 })).await);
    let mut expected = node("Notice", 1, 0, "world");
    expected["proof"] = Value::Null;
    assert_eq!(one, json!({ "notice": expected }));

    let all = data(query(&server, "notices", &list_query("notices", ""), json!({})).await);
    let nodes = vec![node("Notice", 0, 0, "hello"), node("Notice", 1, 0, "world"), node("Notice", 0, 2, "third")];
    assert_eq!(all, json!({ "notices": edges(nodes, "NoticeEdge", "NoticeConnection") }));

    let q = by_input_query("notices", "");
    let by_input = data(query(&server, "noticesByInput", &q, json!({ "inputIndex": 0 })).await);
    let nodes = vec![node("Notice", 0, 0, "hello"), node("Notice", 1, 0, "world")];
    let expected =
        json!({ "input": { "notices": edges(nodes, "NoticeEdge", "NoticeConnection"), "__typename": "Input" } });
    assert_eq!(by_input, expected);

    // A rejected input keeps no notices.
    let rejected = data(query(&server, "noticesByInput", &q, json!({ "inputIndex": 1 })).await);
    assert_eq!(rejected["input"]["notices"]["edges"], json!([]));
}

#[tokio::test]
async fn console_voucher_queries() {
    let server = start(filled_store()).await;
    let one = data(query(&server, "voucher", &voucher_query(), json!({ "voucherIndex": 0, "inputIndex": 0 })).await);
    let mut expected = voucher_node();
    expected["proof"] = Value::Null;
    assert_eq!(one, json!({ "voucher": expected }));

    let all = data(query(&server, "vouchers", &list_query("vouchers", "destination"), json!({})).await);
    assert_eq!(all, json!({ "vouchers": edges(vec![voucher_node()], "VoucherEdge", "VoucherConnection") }));

    let q = by_input_query("vouchers", "destination");
    let by_input = data(query(&server, "vouchersByInput", &q, json!({ "inputIndex": 0 })).await);
    let expected = json!({
        "input": { "vouchers": edges(vec![voucher_node()], "VoucherEdge", "VoucherConnection"), "__typename": "Input" }
    });
    assert_eq!(by_input, expected);
    let none = data(query(&server, "vouchersByInput", &q, json!({ "inputIndex": 2 })).await);
    assert_eq!(none["input"]["vouchers"]["edges"], json!([]));
}

#[tokio::test]
async fn console_report_queries() {
    let server = start(filled_store()).await;
    let one = data(query(&server, "report", REPORT, json!({ "reportIndex": 0, "inputIndex": 1 })).await);
    assert_eq!(one, json!({ "report": node("Report", 0, 1, "rejected") }));

    let all = data(query(&server, "reports", &list_query("reports", ""), json!({})).await);
    let nodes = vec![node("Report", 0, 0, "log 0"), node("Report", 0, 1, "rejected")];
    assert_eq!(all, json!({ "reports": edges(nodes, "ReportEdge", "ReportConnection") }));

    let q = by_input_query("reports", "");
    let by_input = data(query(&server, "reportsByInput", &q, json!({ "inputIndex": 1 })).await);
    let nodes = vec![node("Report", 0, 1, "rejected")];
    let expected =
        json!({ "input": { "reports": edges(nodes, "ReportEdge", "ReportConnection"), "__typename": "Input" } });
    assert_eq!(by_input, expected);
}

#[tokio::test]
async fn input_fields_status_and_big_ints() {
    let server = start(filled_store()).await;
    let q = "query { inputs { totalCount edges { node { index status msgSender timestamp blockNumber payload } } } }";
    let answer = data(query(&server, "", q, json!({})).await);
    let nodes: Vec<Value> = answer["inputs"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect();
    assert_eq!(answer["inputs"]["totalCount"], 4);
    let statuses: Vec<&str> = nodes.iter().map(|n| n["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ACCEPTED", "REJECTED", "ACCEPTED", "UNPROCESSED"]);
    // BigInt is a decimal string, as Cartesi's scalar serializes it.
    assert_eq!(
        nodes[1],
        json!({
            "index": 1,
            "status": "REJECTED",
            "msgSender": SENDER,
            "timestamp": "1700000001",
            "blockNumber": "21",
            "payload": hex("input 1"),
        })
    );
    let q = "query { input(index: 0) { voucher(index: 0) { destination } notice(index: 1) { payload } report(index: 0) { payload } } }";
    let answer = data(query(&server, "", q, json!({})).await);
    assert_eq!(
        answer,
        json!({ "input": {
            "voucher": { "destination": DESTINATION },
            "notice": { "payload": hex("world") },
            "report": { "payload": hex("log 0") },
        } })
    );
    let q =
        "query { inputs(where: { indexGreaterThan: 0, indexLowerThan: 3 }) { totalCount edges { node { index } } } }";
    let answer = data(query(&server, "", q, json!({})).await);
    assert_eq!(answer["inputs"]["totalCount"], 2);
    assert_eq!(answer["inputs"]["edges"], json!([{ "node": { "index": 1 } }, { "node": { "index": 2 } }]));
}

#[tokio::test]
async fn missing_items_give_cartesi_errors() {
    let server = start(filled_store()).await;
    for (q, message) in [
        ("query { input(index: 9) { index } }", "input not found"),
        ("query { notice(noticeIndex: 0, inputIndex: 1) { index } }", "notice not found"),
        ("query { voucher(voucherIndex: 1, inputIndex: 0) { index } }", "voucher not found"),
        ("query { report(reportIndex: 5, inputIndex: 0) { index } }", "report not found"),
        ("query { input(index: 0) { notice(index: 2) { index } } }", "notice not found"),
        ("query { notice(noticeIndex: -1, inputIndex: 0) { index } }", "notice not found"),
    ] {
        let answer = query(&server, "", q, json!({})).await;
        assert_eq!(error_message(&answer), message, "{q}");
        assert_eq!(answer["data"], Value::Null, "{q}: {answer}");
    }
}

async fn inputs_page(server: &Server, args: &str) -> Value {
    let q = format!(
        "query {{ inputs{args} {{ totalCount edges {{ node {{ index }} cursor }} \
         pageInfo {{ startCursor endCursor hasNextPage hasPreviousPage }} }} }}"
    );
    let answer = query(server, "", &q, json!({})).await;
    // Errors are returned whole so the caller can read their message.
    if answer.get("errors").is_some() {
        answer
    } else {
        answer["data"]["inputs"].clone()
    }
}

fn indices(page: &Value) -> Vec<u64> {
    page["edges"].as_array().unwrap().iter().map(|e| e["node"]["index"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn pagination_follows_cartesi_cursors() {
    let store = Store::open_in_memory().unwrap();
    for i in 0..7u64 {
        let record = InputRecord {
            index: i,
            msg_sender: Address::ZERO,
            payload: vec![],
            block_number: i,
            timestamp: i,
            origin: Default::default(),
        };
        store.add_input(&record).unwrap();
    }
    let server = start(Arc::new(store)).await;

    let first = inputs_page(&server, "(first: 3)").await;
    assert_eq!(indices(&first), [0, 1, 2]);
    assert_eq!(first["totalCount"], 7);
    assert_eq!(first["edges"][0]["cursor"], "MA==");
    assert_eq!(
        first["pageInfo"],
        json!({ "startCursor": "MA==", "endCursor": "Mg==", "hasNextPage": true, "hasPreviousPage": false })
    );

    // Walking forward with endCursor visits every input once.
    let mut seen = indices(&first);
    let mut cursor = first["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    loop {
        let page = inputs_page(&server, &format!("(first: 3, after: \"{cursor}\")")).await;
        seen.extend(indices(&page));
        assert_eq!(page["totalCount"], 7);
        assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        cursor = page["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    }
    assert_eq!(seen, (0..7).collect::<Vec<_>>());

    // Backward: the last items, then the ones before a cursor.
    let last = inputs_page(&server, "(last: 2)").await;
    assert_eq!(indices(&last), [5, 6]);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    let start = last["pageInfo"]["startCursor"].as_str().unwrap();
    let before = inputs_page(&server, &format!("(last: 3, before: \"{start}\")")).await;
    assert_eq!(indices(&before), [2, 3, 4]);
    assert_eq!(before["pageInfo"]["hasNextPage"], true);
    let before_all = inputs_page(&server, "(before: \"Mg==\")").await;
    assert_eq!(indices(&before_all), [0, 1]);

    // Each edge's cursor, fed back as `after`, starts the page at the next item.
    for edge in first["edges"].as_array().unwrap() {
        let after = inputs_page(&server, &format!("(first: 1, after: \"{}\")", edge["cursor"].as_str().unwrap())).await;
        assert_eq!(indices(&after), [edge["node"]["index"].as_u64().unwrap() + 1]);
    }

    // An empty page has null cursors and no neighbours.
    let empty = inputs_page(&server, "(first: 0)").await;
    assert_eq!(indices(&empty), Vec::<u64>::new());
    assert_eq!(
        empty["pageInfo"],
        json!({ "startCursor": null, "endCursor": null, "hasNextPage": false, "hasPreviousPage": false })
    );
    assert_eq!(empty["totalCount"], 7);

    // Nested connections page the same way.
    let q = "query { input(index: 0) { notices(first: 1) { totalCount pageInfo { hasNextPage } } } }";
    let answer = data(query(&server, "", q, json!({})).await);
    assert_eq!(answer["input"]["notices"], json!({ "totalCount": 0, "pageInfo": { "hasNextPage": false } }));

    // Errors: mixed directions, negative limits, cursors outside the listing.
    let mixed = inputs_page(&server, "(first: 1, last: 1)").await;
    assert!(error_message(&mixed).contains("cannot mix"), "{mixed}");
    let negative = inputs_page(&server, "(first: -1)").await;
    assert!(error_message(&negative).contains("negative"), "{negative}");
    for bad in ["Nw==", "bm9wZQ==", "???"] {
        let answer = inputs_page(&server, &format!("(after: \"{bad}\")")).await;
        assert!(error_message(&answer).starts_with("invalid pagination cursor"), "{bad}: {answer}");
    }
}

#[tokio::test]
async fn transport_playground_cors_and_bad_requests() {
    let server = start(filled_store()).await;
    let (status, content_type, body) = http(server.addr, "GET", "/graphql", "").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("graphiql"), "{body}");
    let (status, _, _) = http(server.addr, "OPTIONS", "/graphql", "").await;
    assert_eq!(status, 204);
    let (status, _, body) = http(server.addr, "POST", "/graphql", "not json").await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid GraphQL request"), "{body}");
    let (status, _, _) = http(server.addr, "POST", "/other", "{}").await;
    assert_eq!(status, 404);
}

/// The shape of introspection GraphiQL and codegen tools send: `ofType` nested seven deep.
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    queryType { name }
    types { kind name description fields(includeDeprecated: true) { name args { name type { ...TypeRef } } type { ...TypeRef } } }
  }
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}";

#[tokio::test]
async fn introspection_works_over_http() {
    let server = start(filled_store()).await;
    let answer = data(query(&server, "IntrospectionQuery", INTROSPECTION, json!({})).await);
    assert_eq!(answer["__schema"]["queryType"]["name"], "Query");
    let input = answer["__schema"]["types"].as_array().unwrap().iter().find(|t| t["name"] == "Input").unwrap();
    let timestamp = input["fields"].as_array().unwrap().iter().find(|f| f["name"] == "timestamp").unwrap();
    assert_eq!(
        timestamp["type"],
        json!({ "kind": "NON_NULL", "name": null, "ofType": { "kind": "SCALAR", "name": "BigInt", "ofType": null } })
    );
}

/// A type system in a form that ignores formatting and the order of types, fields, arguments and
/// values: one line per member, with its type and description.
fn normalize(sdl: &str) -> BTreeMap<String, Vec<String>> {
    let doc = async_graphql::parser::parse_schema(sdl).unwrap();
    let describe = |d: &Option<async_graphql::parser::Positioned<String>>| {
        d.as_ref().map(|d| d.node.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default()
    };
    let value = |v: &InputValueDefinition| {
        let default = v.default_value.as_ref().map(|d| format!(" = {}", d.node)).unwrap_or_default();
        format!("{}: {}{default}", v.name.node, v.ty.node)
    };
    let mut types = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let t = t.node;
        let mut members = match &t.kind {
            TypeKind::Scalar => vec!["scalar".to_string()],
            TypeKind::Object(o) => o
                .fields
                .iter()
                .map(|f| {
                    let mut args: Vec<String> = f.node.arguments.iter().map(|a| value(&a.node)).collect();
                    args.sort();
                    let f = &f.node;
                    format!(
                        "field {}({}): {} \"{}\"",
                        f.name.node,
                        args.join(", "),
                        f.ty.node,
                        describe(&f.description)
                    )
                })
                .collect(),
            TypeKind::Enum(e) => e.values.iter().map(|v| format!("value {}", v.node.value.node)).collect(),
            TypeKind::InputObject(i) => i
                .fields
                .iter()
                .map(|f| format!("input {} \"{}\"", value(&f.node), describe(&f.node.description)))
                .collect(),
            TypeKind::Interface(_) | TypeKind::Union(_) => vec!["unexpected kind".to_string()],
        };
        members.sort();
        members.insert(0, format!("description \"{}\"", describe(&t.description)));
        types.insert(t.name.node.to_string(), members);
    }
    types
}

/// The keccak-256 of Cartesi's `api/graphql/reader.graphql` of rollups-node v1.5.1.
const READER_V1_KECCAK: &str = "aa7e45947321445bfcf7337025f38d0b156cd735bd259ba97b56d351355073c1";

#[test]
fn served_schema_is_cartesis_reader_v1() {
    // Cartesi's file, unmodified (tests/data/cartesi/README.md says where it comes from).
    let reference = include_str!("../data/cartesi/reader-v1.graphql");
    assert_eq!(
        hex::encode(devnode::l1::keccak256(reference.as_bytes()).0),
        READER_V1_KECCAK,
        "tests/data/cartesi/reader-v1.graphql is not Cartesi's file any more"
    );
    let served = devnode::graphql::schema(Arc::new(Store::open_in_memory().unwrap())).sdl();
    let expected = normalize(reference);
    let actual = normalize(&served);
    assert!(expected.len() >= 18, "the reference parsed into too few types: {expected:?}");
    for (name, members) in &expected {
        assert_eq!(actual.get(name), Some(members), "type {name} differs");
    }
    let extra: Vec<&String> = actual.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(extra.is_empty(), "served schema has types Cartesi's has not: {extra:?}");
}

// ----- The console's own queries and GraphiQL's introspection, within the limits -----

/// The queries of frontend-console/src/lib/graphql.ts, as it sends them (`{query, variables}`):
/// pages of 1000 outputs, one output with its proof, and an input's result with its reports.
#[tokio::test]
async fn the_consoles_queries_fit_the_limits() {
    let server = start(filled_store()).await;
    let post = |q: String, variables: Value| {
        let body = json!({ "query": q, "variables": variables }).to_string();
        let addr = server.addr;
        async move {
            let (status, _, text) = http(addr, "POST", "/graphql", &body).await;
            assert_eq!(status, 200, "{text}");
            data(serde_json::from_str(&text).unwrap())
        }
    };
    for (kind, fields, first_payload) in [
        ("notice", "index input { index } payload", hex("hello")),
        ("voucher", "index input { index } destination payload", "0xdeadbeef".to_string()),
        ("report", "index input { index } payload", hex("log 0")),
    ] {
        let plural = format!("{kind}s");
        let page = format!(
            "{plural}(first: $first, after: $after) {{ edges {{ node {{ {fields} }} }} pageInfo {{ hasNextPage endCursor }} }}"
        );
        let all = format!("query {plural}($first: Int, $after: String) {{ {page} }}");
        let answer = post(all, json!({ "first": 1000, "after": null })).await;
        assert_eq!(answer[&plural]["edges"][0]["node"]["payload"], first_payload.as_str(), "{answer}");
        let by_input = format!(
            "query {plural}ByInput($inputIndex: Int!, $first: Int, $after: String) {{ input(index: $inputIndex) {{ {page} }} }}"
        );
        let answer = post(by_input, json!({ "inputIndex": 0, "first": 1000, "after": null })).await;
        assert_eq!(answer["input"][&plural]["edges"][0]["node"]["payload"], first_payload.as_str(), "{answer}");
    }
    let proof = "proof { validity { inputIndexWithinEpoch outputIndexWithinInput outputHashesRootHash
      vouchersEpochRootHash noticesEpochRootHash machineStateHash outputHashInOutputHashesSiblings
      outputHashesInEpochSiblings } context }";
    for (kind, fields) in
        [("notice", "index input { index } payload"), ("voucher", "index input { index } destination payload")]
    {
        let q = format!(
            "query {kind}($outputIndex: Int!, $inputIndex: Int!) {{
    {kind}({kind}Index: $outputIndex, inputIndex: $inputIndex) {{ {fields} {proof} }} }}"
        );
        let answer = post(q, json!({ "outputIndex": 0, "inputIndex": 0 })).await;
        assert_eq!(answer[kind]["index"], 0, "{answer}");
        assert_eq!(answer[kind]["proof"], Value::Null, "{answer}");
    }
    let q = "query inputResult($before: Int!) { inputs(where: { indexGreaterThan: $before }, first: 1) {
    edges { node { index status reports { edges { node { payload } } } } } } }";
    let answer = post(q.to_string(), json!({ "before": -1 })).await;
    let node = &answer["inputs"]["edges"][0]["node"];
    assert_eq!(node["status"], "ACCEPTED");
    assert_eq!(node["reports"]["edges"][0]["node"]["payload"], hex("log 0"));
}

/// graphql-js's `getIntrospectionQuery` with every option GraphiQL may turn on, and `ofType`
/// nested nine deep.
const FULL_INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}";

#[tokio::test]
async fn graphiqls_introspection_fits_the_limits() {
    let server = start(filled_store()).await;
    let answer = data(query(&server, "IntrospectionQuery", FULL_INTROSPECTION, json!({})).await);
    let types = answer["__schema"]["types"].as_array().unwrap();
    let query_type = types.iter().find(|t| t["name"] == "Query").unwrap();
    let inputs = query_type["fields"].as_array().unwrap().iter().find(|f| f["name"] == "inputs").unwrap();
    assert_eq!(inputs["type"]["ofType"]["name"], "InputConnection", "{inputs}");
    assert!(answer["__schema"]["directives"].as_array().unwrap().iter().any(|d| d["name"] == "skip"));
}

// ----- Limits -----

/// Posts `q` and returns (status, raw body, parsed answer).
async fn post_raw(server: &Server, body: &Value) -> (u16, String, Value) {
    let (status, _, text) = http(server.addr, "POST", "/graphql", &body.to_string()).await;
    let answer = serde_json::from_str(&text).unwrap();
    (status, text, answer)
}

fn aliased_lists(count: usize, first: &str) -> String {
    let lists: String =
        (0..count).map(|i| format!(" a{i}: inputs(first: {first}) {{ edges {{ node {{ payload }} }} }}")).collect();
    format!("{{{lists} }}")
}

#[tokio::test]
async fn the_alias_bomb_is_refused_with_a_short_answer() {
    let server = start(filled_store()).await;
    // 400 aliases of a full page of inputs: 22 KB of query that would ask for 400,000 payloads.
    let bomb = aliased_lists(400, "1000");
    assert!(bomb.len() > 20_000);
    let (status, text, answer) = post_raw(&server, &json!({ "query": bomb })).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"], Value::Null);
    assert!(error_message(&answer).contains(&format!("more than {} aliases", devnode::graphql::MAX_ALIASES)), "{text}");
    assert!(text.len() < 1024, "the refusal is {} bytes", text.len());
}

#[tokio::test]
async fn a_query_costs_the_items_its_lists_ask_for() {
    let server = start(filled_store()).await;
    // Twenty lists of 1000 (3,001 each) pass the alias limit but not the cost limit.
    let (_, text, answer) = post_raw(&server, &json!({ "query": aliased_lists(20, "1000") })).await;
    assert_eq!(answer["data"], Value::Null);
    let message = error_message(&answer);
    assert!(message.starts_with("the query costs 60020, above the limit of 50000"), "{message}");
    assert!(message.contains("ask for smaller pages"), "{message}");
    assert!(text.len() < 1024);
    // The same lists asking for ten items each are cheap; the size comes from variables too.
    let small = data(query(&server, "", &aliased_lists(20, "10"), json!({})).await);
    assert_eq!(small["a19"]["edges"].as_array().unwrap().len(), 4);
    let with_variable = format!("query lists($n: Int) {}", aliased_lists(20, "$n"));
    let answer = query(&server, "lists", &with_variable, json!({ "n": 1000 })).await;
    assert!(error_message(&answer).starts_with("the query costs 60020"), "{answer}");
    assert!(query(&server, "lists", &with_variable, json!({ "n": 10 })).await.get("errors").is_none());
    // Nested lists cost the product of their sizes.
    let paged = "{ inputs(first: 200) { edges { node { notices(first: 100) { edges { node { payload } } } } } } }";
    let answer = query(&server, "", paged, json!({})).await;
    assert!(error_message(&answer).starts_with("the query costs 60601"), "{answer}");
    let paged = paged.replace("notices(first: 100)", "notices(first: 10)");
    let answer = data(query(&server, "", &paged, json!({})).await);
    assert_eq!(answer["inputs"]["edges"][0]["node"]["notices"]["edges"][1]["node"]["payload"], hex("world"));
}

/// A store with `count` inputs of `payload_len` bytes each.
fn many_inputs(count: u64, payload_len: usize) -> Arc<Store> {
    let store = Store::open_in_memory().unwrap();
    for i in 0..count {
        let record = InputRecord {
            index: i,
            msg_sender: Address::ZERO,
            payload: vec![0xab; payload_len],
            block_number: i,
            timestamp: i,
            origin: Default::default(),
        };
        store.add_input(&record).unwrap();
    }
    Arc::new(store)
}

#[tokio::test]
async fn lists_without_a_size_take_their_real_size_from_an_item_budget() {
    // Listing everything with everything nested, the common way to read a small dev chain, is
    // served: it asks for no size, and holds a handful of items.
    let server = start(filled_store()).await;
    let everything = "{ inputs { edges { node { index notices { edges { node { payload } } } \
                      reports { edges { node { payload } } } } } } }";
    let answer = data(query(&server, "", everything, json!({})).await);
    assert_eq!(answer["inputs"]["edges"][0]["node"]["notices"]["edges"][1]["node"]["payload"], hex("world"));

    // On a chain of 1000 inputs, twenty such lists are twenty thousand items: the budget.
    let server = start(many_inputs(1000, 1)).await;
    let lists = |count: usize| {
        let lists: String = (0..count).map(|i| format!(" a{i}: inputs {{ edges {{ node {{ index }} }} }}")).collect();
        format!("{{{lists} }}")
    };
    let answer = data(query(&server, "", &lists(20), json!({})).await);
    assert_eq!(answer["a19"]["edges"][999]["node"]["index"], 999);
    let (status, text, answer) = post_raw(&server, &json!({ "query": lists(21) })).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"], Value::Null, "{}", &text[..200]);
    assert!(error_message(&answer).starts_with("the answer would hold more than 20000 list items"), "{text}");
    assert!(text.len() < 16 * 1024, "the refusal is {} bytes", text.len());
    // A batch shares the budget.
    let batch = Value::Array(vec![json!({ "query": lists(15) }); 2]);
    let (_, _, answer) = post_raw(&server, &batch).await;
    assert!(answer[0].get("errors").is_none());
    assert!(error_message(&answer[1]).starts_with("the answer would hold more than 20000 list items"));
}

#[tokio::test]
async fn deep_queries_are_refused() {
    let server = start(filled_store()).await;
    // Each level adds four fields: notices, edges, node, input.
    let nested = |levels: usize| {
        let open = "notices(first: 1) { edges { node { input { ".repeat(levels);
        let close = " } } } }".repeat(levels);
        format!("{{ input(index: 0) {{ {open}index{close} }} }}")
    };
    // 1 + 4 × 7 + 1 = 30 fields deep: served.
    let answer = data(query(&server, "", &nested(7), json!({})).await);
    let mut level = &answer["input"];
    for _ in 0..7 {
        level = &level["notices"]["edges"][0]["node"]["input"];
    }
    assert_eq!(level["index"], 0, "{answer}");
    // 34 deep: refused before it runs.
    let answer = query(&server, "", &nested(8), json!({})).await;
    assert_eq!(answer["data"], Value::Null);
    assert_eq!(error_message(&answer), "the query nests fields more than 32 deep");
}

#[tokio::test]
async fn a_batch_shares_one_budget() {
    let server = start(filled_store()).await;
    // Each request asks for three lists of 1000 (9,003); five fit in the budget, the sixth not.
    let request = json!({ "query": aliased_lists(3, "1000") });
    let batch = Value::Array(vec![request.clone(); 6]);
    let (status, _, answer) = post_raw(&server, &batch).await;
    assert_eq!(status, 200);
    let answers = answer.as_array().unwrap();
    for served in &answers[..5] {
        assert!(served.get("errors").is_none(), "{served}");
    }
    assert!(error_message(&answers[5]).starts_with("the query costs 9003, above the 4985 left"), "{}", answers[5]);
    // Aliases are counted over the whole batch too.
    let many = Value::Array(vec![json!({ "query": aliased_lists(40, "1") }); 2]);
    let (_, _, answer) = post_raw(&server, &many).await;
    assert!(answer[0].get("errors").is_none(), "{}", answer[0]);
    assert!(error_message(&answer[1]).contains("aliases"), "{}", answer[1]);
    // And a batch is short.
    let (status, _, answer) = post_raw(&server, &Value::Array(vec![request; 17])).await;
    assert_eq!(status, 400);
    assert_eq!(error_message(&answer), "a batch holds at most 16 queries (this one has 17)");
}

#[tokio::test]
async fn an_answer_above_the_size_cap_is_refused() {
    // 1000 inputs of 9 KiB: 18 KiB each in hex, about 18 MB for a page of all of them.
    let server = start(many_inputs(1000, 9 * 1024)).await;
    let (status, text, answer) =
        post_raw(&server, &json!({ "query": "{ inputs(first: 1000) { edges { node { payload } } } }" })).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"], Value::Null);
    assert!(error_message(&answer).starts_with("the answer is larger than 16 MiB"), "{}", &text[..text.len().min(500)]);
    // One error says it, however many payloads found the budget spent.
    assert_eq!(answer["errors"].as_array().unwrap().len(), 1);
    assert!(text.len() < 1024);
    // Payloads are counted each time they are asked for, under any alias.
    let aliased_payloads = "{ inputs(first: 100) { edges { node { a: payload b: payload c: payload d: payload \
                             e: payload f: payload g: payload h: payload i: payload j: payload } } } }";
    let (_, text, answer) = post_raw(&server, &json!({ "query": aliased_payloads })).await;
    assert_eq!(answer["data"], Value::Null);
    assert!(error_message(&answer).starts_with("the answer is larger than 16 MiB"), "{}", &text[..text.len().min(500)]);
    assert!(text.len() < 1024);
    // Half the page is under the cap.
    let half = data(query(&server, "", "{ inputs(first: 500) { edges { node { index payload } } } }", json!({})).await);
    let edges = half["inputs"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 500);
    assert_eq!(edges[499]["node"]["payload"].as_str().unwrap().len(), 2 + 2 * 9 * 1024);
}

// ----- Content types -----

#[tokio::test]
async fn only_json_bodies_are_accepted() {
    let server = start(filled_store()).await;
    let body = json!({ "query": "{ inputs { totalCount } }" }).to_string();
    // The types a web page can send without a preflight, no type at all, and JSON in a charset
    // other than UTF-8.
    for refused in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
        Some("application/json; charset=iso-8859-1"),
    ] {
        let (status, content_type, text) = http_typed(server.addr, "POST", "/graphql", refused, &body).await;
        assert_eq!(status, 415, "{refused:?}: {text}");
        assert!(content_type.starts_with("application/json"), "{content_type}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["data"], Value::Null);
        assert!(error_message(&answer).contains("Content-Type: application/json"), "{text}");
    }
    for accepted in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=\"UTF-8\"",
        "application/graphql+json",
    ] {
        let (status, _, text) = http_typed(server.addr, "POST", "/graphql", Some(accepted), &body).await;
        assert_eq!(status, 200, "{accepted}: {text}");
        let answer = data(serde_json::from_str(&text).unwrap());
        assert_eq!(answer["inputs"]["totalCount"], 4, "{accepted}");
    }
}

// ----- Readiness -----

async fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let (status, content_type, text) = http(server.addr, "GET", path, "").await;
    assert!(content_type.starts_with("application/json"), "{content_type}");
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn readiness_follows_the_phase_and_a_failed_node_serves_no_data() {
    let health = Health::new();
    let server = start_with(filled_store(), health.clone()).await;
    let count = json!({ "query": "{ inputs { totalCount } }" });
    // Stored inputs and outputs come from L1 and the processed path: they are served while the
    // node starts and replays, though it is not ready yet.
    assert_eq!(get_json(&server, "/healthz").await, (503, json!({ "status": "starting" })));
    let (status, _, answer) = post_raw(&server, &count).await;
    assert_eq!((status, &answer["data"]["inputs"]["totalCount"]), (200, &json!(4)));
    health.set(Phase::Replaying { done: 1, total: 3 });
    assert_eq!(get_json(&server, "/readyz").await, (503, json!({ "status": "replaying", "replayed": 1, "total": 3 })));
    let (status, _, answer) = post_raw(&server, &count).await;
    assert_eq!((status, &answer["data"]["inputs"]["totalCount"]), (200, &json!(4)));
    health.set(Phase::Ready);
    assert_eq!(get_json(&server, "/healthz").await, (200, json!({ "status": "ready" })));
    assert_eq!(get_json(&server, "/readyz/").await, (200, json!({ "status": "ready" })));

    health.fail("replay of input 2 differs from what was stored", "restart with the same LEDGER_* settings");
    let (status, body) = get_json(&server, "/healthz").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "failed");
    assert_eq!(body["reason"], "replay of input 2 differs from what was stored");
    let failure = health.failure().unwrap();
    for request in [count.clone(), Value::Array(vec![count.clone()])] {
        let (status, _, answer) = post_raw(&server, &request).await;
        assert_eq!(status, 503);
        assert_eq!(answer, json!({ "data": null, "errors": [{ "message": failure }] }));
    }
}

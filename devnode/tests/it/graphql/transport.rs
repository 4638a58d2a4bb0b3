//! The HTTP side: routes, the GraphiQL page, CORS, accepted content types, and readiness.

use super::*;

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

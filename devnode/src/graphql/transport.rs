//! The reader API over HTTP: `/graphql` takes POSTed JSON queries (one or a batch) and gives a
//! browser the GraphiQL page; `/healthz` (or `/readyz`) tells the node's phase. Bodies are
//! checked before they are read (type, size, time), batches share one set of budgets, and the
//! answer is cut at [`MAX_ANSWER`] bytes.

use std::time::Duration;

use async_graphql::Value;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use super::limits::{self, MAX_ANSWER, MAX_BATCH};
use super::ReaderSchema;
use crate::health::Health;
use crate::http::reply_any_origin as reply;

/// Largest request body: queries are small; this only stops a client from filling memory.
const MAX_BODY: usize = 1 << 20;

/// Errors in one answer: the distinct ones are what a client needs, not thousands.
const MAX_ERRORS: usize = 100;

/// How long a client may take to send a request's body once its headers are in; the accept
/// loop's header timeout does not cover the body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// GraphiQL from its CDN: the page is for a developer's browser, which has the network; the dev
/// node itself ships no web assets.
const GRAPHIQL: &str = include_str!("graphiql.html");

/// A failure in the shape of a GraphQL response, so clients show the message.
fn request_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "data": null, "errors": [{ "message": message }] });
    reply(status, "application/json", body.to_string())
}

pub(super) async fn handle(schema: &ReaderSchema, health: &Health, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().trim_end_matches('/');
    if path == "/healthz" || path == "/readyz" {
        return match *req.method() {
            Method::GET | Method::HEAD => {
                let status = if health.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                reply(status, "application/json", health.to_json().to_string())
            }
            _ => reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "the readiness endpoint serves GET"),
        };
    }
    if path != "/graphql" {
        return reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            format!("no route {}; the reader API is at /graphql", req.uri().path()),
        );
    }
    match *req.method() {
        Method::GET => reply(StatusCode::OK, "text/html; charset=utf-8", GRAPHIQL),
        Method::OPTIONS => reply(StatusCode::NO_CONTENT, "text/plain", Bytes::new()),
        Method::POST => post(schema, health, req).await,
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "the reader API serves GET and POST"),
    }
}

/// Whether a request's Content-Type is one a web page cannot send without the browser asking the
/// server first (a CORS preflight). `text/plain`, `application/x-www-form-urlencoded` and
/// `multipart/form-data` are "simple" types any page can POST to the node behind the user's
/// back, and a body with no type at all is sent the same way; only JSON, with an optional UTF-8
/// charset, is accepted: `application/json` as GraphQL-over-HTTP requires, and the
/// `application/graphql+json` of its earlier drafts.
fn accepted_content_type(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else { return false };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") && !essence.eq_ignore_ascii_case("application/graphql+json") {
        return false;
    }
    parts.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            let charset = value.trim().trim_matches('"');
            charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
        }
        // Other parameters do not change how the body reads.
        _ => true,
    })
}

/// A POSTed query or batch of queries.
async fn post(schema: &ReaderSchema, health: &Health, req: Request<Incoming>) -> Response<Full<Bytes>> {
    // A node that has stopped processing knows its data may be wrong: it says why instead.
    if let Some(failure) = health.failure() {
        return request_error(StatusCode::SERVICE_UNAVAILABLE, &failure);
    }
    if !accepted_content_type(req.headers().get(CONTENT_TYPE)) {
        let sent = match req.headers().get(CONTENT_TYPE) {
            Some(value) => format!("Content-Type {}", String::from_utf8_lossy(value.as_bytes())),
            None => "a body without a Content-Type".to_string(),
        };
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!(
                "{sent} is not accepted (a web page could send it without asking); send the query as JSON \
                 with Content-Type: application/json"
            ),
        );
    }
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(req.into_body(), MAX_BODY).collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => {
            return request_error(StatusCode::PAYLOAD_TOO_LARGE, &format!("request body above {MAX_BODY} bytes"))
        }
        Err(_) => {
            return request_error(
                StatusCode::REQUEST_TIMEOUT,
                &format!("the request body did not arrive within {} s", BODY_READ_TIMEOUT.as_secs()),
            )
        }
    };
    // A batch (a JSON array) is accepted too; most clients send one request.
    let request: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &format!("invalid GraphQL request: {e}; expected JSON {{query, operationName, variables}}"),
            )
        }
    };
    let mut response = match request {
        async_graphql::BatchRequest::Single(r) => async_graphql::BatchResponse::Single(execute(schema, r).await),
        async_graphql::BatchRequest::Batch(requests) => {
            if requests.len() > MAX_BATCH {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    &format!("a batch holds at most {MAX_BATCH} queries (this one has {})", requests.len()),
                );
            }
            let mut responses = Vec::with_capacity(requests.len());
            let mut budgets = limits::Budgets::new();
            for request in requests {
                responses.push(execute_within(schema, request, &mut budgets).await);
            }
            async_graphql::BatchResponse::Batch(responses)
        }
    };
    match &mut response {
        async_graphql::BatchResponse::Single(r) => propagate_root_nulls(r),
        async_graphql::BatchResponse::Batch(rs) => rs.iter_mut().for_each(propagate_root_nulls),
    }
    let mut body = limits::CappedBody::new(MAX_ANSWER);
    match serde_json::to_writer(&mut body, &response) {
        Ok(()) => {}
        Err(_) if body.overflowed() => return request_error(StatusCode::OK, &limits::too_large()),
        Err(e) => return request_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot encode the response: {e}")),
    }
    match body.finish() {
        Some(json) => reply(StatusCode::OK, "application/json", json),
        None => request_error(StatusCode::INTERNAL_SERVER_ERROR, "the answer was cut short"),
    }
}

/// Runs one request with a budget of its own.
async fn execute(schema: &ReaderSchema, request: async_graphql::Request) -> async_graphql::Response {
    execute_within(schema, request, &mut limits::Budgets::new()).await
}

/// Runs one request, refused before it runs when its document or its cost passes what is left
/// of the budgets it shares with the rest of its batch, and stopped before it reads more list
/// items or builds more payload bytes than are left.
async fn execute_within(
    schema: &ReaderSchema,
    mut request: async_graphql::Request,
    budgets: &mut limits::Budgets,
) -> async_graphql::Response {
    // A document that does not parse is left to `execute`, which reports the syntax error.
    if let Ok(doc) = request.parsed_query() {
        if let Err(refusal) = budgets.documents.spend(doc) {
            return async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
                refusal.message(),
                None,
            )]);
        }
    }
    let request = request.data(budgets.cost.clone()).data(budgets.answer.clone());
    let mut response = schema.execute(request).await;
    keep_distinct_errors(&mut response);
    response
}

/// Once a budget is spent, every field that needs it fails the same way: one error says it.
/// Distinct errors are kept, up to [`MAX_ERRORS`].
fn keep_distinct_errors(response: &mut async_graphql::Response) {
    let mut seen = std::collections::BTreeSet::new();
    response.errors.retain(|e| seen.len() < MAX_ERRORS && seen.insert(e.message.clone()));
}

/// Every root field of the reader schema is non-null, so GraphQL's null propagation makes `data`
/// null as soon as one of them is null (Cartesi's reader answers a missing item with data null).
/// async-graphql stops the propagation at a root field when the error happened deeper, as in
/// `input(index: 0) { notice(index: 9) { … } }`, and leaves a root field that failed itself out
/// of `data` (a list refused by the item budget); this finishes it.
fn propagate_root_nulls(response: &mut async_graphql::Response) {
    let Value::Object(fields) = &response.data else { return };
    let null_field = fields.values().any(|v| matches!(v, Value::Null));
    let missing_field = response.errors.iter().any(|e| match e.path.first() {
        Some(async_graphql::PathSegment::Field(name)) => !fields.contains_key(name.as_str()),
        _ => false,
    });
    if null_field || missing_field {
        response.data = Value::Null;
    }
}

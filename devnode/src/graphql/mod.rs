//! The reader API: Cartesi's v1 GraphQL schema (node 1.3–1.5) over the store, served at
//! `/graphql` (POST queries, GET a GraphiQL page), so the frontend-console and other Cartesi
//! clients read inputs, notices, vouchers and reports from the dev node unchanged.
//!
//! Pagination follows Cartesi's reader exactly: a cursor is the base64 of the item's decimal
//! offset in the listing, pages hold at most 1000 items, forward (`first`/`after`) and backward
//! (`last`/`before`) arguments cannot be mixed, and a missing item is the error "<type> not found".
//! An output's `proof` is null until the claim of its epoch is on L1, then filled from the store.
//!
//! Every request is bounded before it runs (depth, aliases, fields, and a cost that follows the
//! page sizes asked for; see `limits.rs`), and so is every answer (16 MiB). Only JSON bodies are
//! accepted, so a web page cannot make the node work for it without the browser asking first.
//! The same server answers `/healthz` with the node's phase, and a node that has failed answers
//! every query with its failure instead of data it knows may be wrong.

mod limits;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, InputObject, InputValueError, InputValueResult, Object, Scalar,
    ScalarType, SimpleObject, Value,
};
use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE,
};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

use crate::explorer::Explorer;
use crate::health::Health;
use crate::store::{InputRange, InputRecord, InputStatus, OutputKind, Store, StoredOutput};
use limits::page_cost;
pub use limits::{
    MAX_ALIASES, MAX_ANSWER, MAX_BATCH, MAX_COMPLEXITY, MAX_DEPTH, MAX_DIRECTIVES, MAX_ITEMS, MAX_SELECTIONS,
};

/// The largest page, and the page size when neither `first` nor `last` is given (Cartesi's
/// reader uses the same number).
pub const MAX_PAGE: u64 = 1000;

/// Largest request body: queries are small; this only stops a client from filling memory.
const MAX_BODY: usize = 1 << 20;

/// Errors in one answer: the distinct ones are what a client needs, not thousands.
const MAX_ERRORS: usize = 100;

/// How long a client may take to send a request's body once its headers are in; the accept
/// loop's header timeout does not cover the body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The executable reader schema.
pub type ReaderSchema = async_graphql::Schema<Query, EmptyMutation, EmptySubscription>;

/// Builds the reader schema over `store`, with the cost limits of `limits.rs`. async-graphql's
/// own recursion limit counts fragments and inline fragments as levels too; it is set above
/// [`MAX_DEPTH`] so that the field depth, checked first with a clearer message, is what a query
/// meets.
pub fn schema(store: Arc<Store>) -> ReaderSchema {
    async_graphql::Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(store)
        .limit_recursive_depth(2 * MAX_DEPTH)
        .limit_directives(MAX_DIRECTIVES)
        .extension(limits::CostCheck)
        .finish()
}

/// Serves the reader API on `listener` until `shutdown` completes, and the node's readiness at
/// `/healthz` (or `/readyz`), and the web explorer at `/explorer/`. Connections already open are left to finish on their own tasks.
pub async fn serve(
    store: Arc<Store>,
    health: Health,
    explorer: Explorer,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let schema = schema(store);
    crate::http::serve(listener, shutdown, "GraphQL", move |req| {
        let schema = schema.clone();
        let health = health.clone();
        let explorer = explorer.clone();
        async move {
            match explorer.route(req.method(), req.uri().path()) {
                Some(page) => page,
                None => handle(&schema, &health, req).await,
            }
        }
    })
    .await
}

/// Every answer allows any origin: the console and browser tools call from other origins, as
/// Cartesi's server (permissive CORS) allows.
fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("*"));
    r
}

/// A failure in the shape of a GraphQL response, so clients show the message.
fn request_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "data": null, "errors": [{ "message": message }] });
    reply(status, "application/json", body.to_string())
}

async fn handle(schema: &ReaderSchema, health: &Health, req: Request<Incoming>) -> Response<Full<Bytes>> {
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
        Method::GET => reply(StatusCode::OK, "text/html; charset=utf-8", PLAYGROUND),
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

/// GraphiQL from its CDN: the page is for a developer's browser, which has the network; the dev
/// node itself ships no web assets.
const PLAYGROUND: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Dev node reader API</title>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.href });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, { fetcher }));
  </script>
</body>
</html>
"#;

// ----- Errors -----

/// A missing item, with the message of Cartesi's reader.
fn not_found(what: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("{what} not found"))
}

/// Database failures reach the client as the query's error; the node's log has them too.
fn internal(e: crate::store::StoreError) -> async_graphql::Error {
    tracing::error!("reader API: {e}");
    async_graphql::Error::new(format!("internal error: {e}"))
}

fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<Store>> {
    ctx.data::<Arc<Store>>()
}

/// GraphQL `Int` is 32-bit; an index or count beyond it cannot be shown and is an error rather
/// than a wrapped number.
fn int(value: u64) -> async_graphql::Result<i32> {
    i32::try_from(value).map_err(|_| async_graphql::Error::new(format!("value {value} exceeds GraphQL Int")))
}

// ----- Scalars and enums -----

/// A 64-bit number shown as a decimal string, as Cartesi's `BigInt` scalar is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BigInt(pub u64);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                s.parse().map(BigInt).map_err(|_| InputValueError::custom(format!("invalid BigInt {s:?}")))
            }
            Value::Number(n) => n.as_u64().map(BigInt).ok_or_else(|| InputValueError::expected_type(value.clone())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

// The last four values belong to Cartesi Machine failures; the dev node runs the backend as a host
// process and never produces them, but they are part of the schema clients see.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionStatus {
    Unprocessed,
    Accepted,
    Rejected,
    Exception,
    MachineHalted,
    CycleLimitExceeded,
    TimeLimitExceeded,
    PayloadLengthLimitExceeded,
}

impl From<InputStatus> for CompletionStatus {
    fn from(s: InputStatus) -> Self {
        match s {
            InputStatus::Unprocessed => CompletionStatus::Unprocessed,
            InputStatus::Accepted => CompletionStatus::Accepted,
            InputStatus::Rejected => CompletionStatus::Rejected,
            InputStatus::Exception => CompletionStatus::Exception,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

// ----- Pagination -----

/// Which slice of a listing a page covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Page {
    offset: u64,
    limit: u64,
}

/// The pagination arguments of every connection field.
struct PageArgs {
    first: Option<i32>,
    last: Option<i32>,
    after: Option<String>,
    before: Option<String>,
}

fn encode_cursor(offset: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(offset.to_string())
}

/// A cursor must name an item of the listing: `0 ≤ offset < total`.
fn decode_cursor(cursor: &str, total: u64) -> async_graphql::Result<u64> {
    let invalid = || async_graphql::Error::new(format!("invalid pagination cursor {cursor:?}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(cursor).map_err(|_| invalid())?;
    let offset: u64 = std::str::from_utf8(&bytes).ok().and_then(|s| s.parse().ok()).ok_or_else(invalid)?;
    if offset >= total {
        return Err(invalid());
    }
    Ok(offset)
}

fn limit(value: Option<i32>) -> async_graphql::Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(|n| Some(n.min(MAX_PAGE)))
            .map_err(|_| async_graphql::Error::new(format!("pagination limit must not be negative (got {n})"))),
    }
}

impl PageArgs {
    /// The slice of a listing of `total` items these arguments select.
    fn page(&self, total: u64) -> async_graphql::Result<Page> {
        let forward = self.first.is_some() || self.after.is_some();
        let backward = self.last.is_some() || self.before.is_some();
        if forward && backward {
            return Err(async_graphql::Error::new(
                "cannot mix forward pagination (first, after) with backward pagination (last, before)",
            ));
        }
        if backward {
            let end = match &self.before {
                Some(c) => decode_cursor(c, total)?,
                None => total,
            };
            let count = limit(self.last)?.unwrap_or(MAX_PAGE).min(end);
            Ok(Page { offset: end - count, limit: count })
        } else {
            let start = match &self.after {
                Some(c) => decode_cursor(c, total)? + 1,
                None => 0,
            };
            let count = limit(self.first)?.unwrap_or(MAX_PAGE).min(total.saturating_sub(start));
            Ok(Page { offset: start, limit: count })
        }
    }
}

/// Page metadata for the cursor-based Connection pagination pattern
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// Cursor pointing to the first entry of the page
    start_cursor: Option<String>,
    /// Cursor pointing to the last entry of the page
    end_cursor: Option<String>,
    /// Indicates if there are additional entries after the end curs
    has_next_page: bool,
    /// Indicates if there are additional entries before the start curs
    has_previous_page: bool,
}

/// What every connection holds, whatever its node type: the total, the nodes with their
/// cursors, and the page metadata.
struct Parts<T> {
    total: i32,
    edges: Vec<(T, String)>,
    info: PageInfo,
}

impl<T> Parts<T> {
    fn map<U>(self, f: impl Fn(T) -> U) -> Parts<U> {
        Parts { total: self.total, edges: self.edges.into_iter().map(|(t, c)| (f(t), c)).collect(), info: self.info }
    }
}

/// The parts of a connection, given the items fetched for `page`.
fn paged<T>(total: u64, page: Page, items: Vec<T>) -> async_graphql::Result<Parts<T>> {
    let count = items.len() as u64;
    let info = if count == 0 {
        PageInfo { start_cursor: None, end_cursor: None, has_next_page: false, has_previous_page: false }
    } else {
        let last = page.offset + count - 1;
        PageInfo {
            start_cursor: Some(encode_cursor(page.offset)),
            end_cursor: Some(encode_cursor(last)),
            has_next_page: last + 1 < total,
            has_previous_page: page.offset > 0,
        }
    };
    let edges = items.into_iter().zip(page.offset..).map(|(item, offset)| (item, encode_cursor(offset))).collect();
    Ok(Parts { total: int(total)?, edges, info })
}

macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        /// Pagination result
        #[derive(SimpleObject)]
        pub struct $conn {
            /// Total number of entries that match the query
            total_count: i32,
            /// Pagination entries returned for the current page
            edges: Vec<$edge>,
            /// Pagination metadata
            page_info: PageInfo,
        }

        /// Pagination entry
        #[derive(SimpleObject)]
        pub struct $edge {
            /// Node instance
            node: $node,
            /// Pagination cursor
            cursor: String,
        }

        impl $conn {
            fn new(parts: Parts<$node>) -> $conn {
                let edges = parts.edges.into_iter().map(|(node, cursor)| $edge { node, cursor }).collect();
                $conn { total_count: parts.total, edges, page_info: parts.info }
            }
        }

        impl std::fmt::Debug for $conn {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($conn)).field("total_count", &self.total_count).finish_non_exhaustive()
            }
        }

        impl std::fmt::Debug for $edge {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($edge)).field("cursor", &self.cursor).finish_non_exhaustive()
            }
        }
    };
}

connection!(InputConnection, InputEdge, Input);
connection!(VoucherConnection, VoucherEdge, Voucher);
connection!(NoticeConnection, NoticeEdge, Notice);
connection!(ReportConnection, ReportEdge, Report);

/// One page of outputs of `kind`, of one input or of all.
fn output_page(
    ctx: &Context<'_>,
    kind: OutputKind,
    input: Option<u64>,
    args: PageArgs,
) -> async_graphql::Result<Parts<StoredOutput>> {
    let store = store(ctx)?;
    let total = store.count_outputs(kind, input).map_err(internal)?;
    let page = args.page(total)?;
    spend_items(ctx, page)?;
    let items = if page.limit == 0 {
        Vec::new()
    } else {
        store.outputs(kind, input, page.offset, page.limit).map_err(internal)?
    };
    paged(total, page, items)
}

/// Takes a page's items from the request's answer budget before they are read. A schema run
/// outside the HTTP handler has no budget.
fn spend_items(ctx: &Context<'_>, page: Page) -> async_graphql::Result<()> {
    match ctx.data_opt::<limits::AnswerBudget>() {
        Some(budget) => budget.spend_items(page.limit),
        None => Ok(()),
    }
}

/// One output by its index within its input, or "<kind> not found".
fn find_output(store: &Store, kind: OutputKind, input_index: i32, index: i32) -> async_graphql::Result<StoredOutput> {
    let (Ok(input_index), Ok(index)) = (u64::try_from(input_index), u64::try_from(index)) else {
        return Err(not_found(kind.name()));
    };
    store.output(kind, input_index, index).map_err(internal)?.ok_or_else(|| not_found(kind.name()))
}

fn find_input(store: &Store, index: u64) -> async_graphql::Result<Input> {
    let (record, status) = store.input(index).map_err(internal)?.ok_or_else(|| not_found("input"))?;
    Ok(Input { record, status })
}

// ----- Object types -----

/// Filter object to restrict results depending on input properties
#[derive(InputObject, Clone, Copy, Debug)]
pub struct InputFilter {
    /// Filter only inputs with index lower than a given value
    index_lower_than: Option<i32>,
    /// Filter only inputs with index greater than a given value
    index_greater_than: Option<i32>,
}

impl InputFilter {
    /// Both bounds are strict. A negative lower-than bound admits nothing; a negative
    /// greater-than bound excludes nothing.
    fn range(self) -> InputRange {
        InputRange {
            index_lower_than: self.index_lower_than.map(|v| u64::try_from(v).unwrap_or(0)),
            index_greater_than: self.index_greater_than.and_then(|v| u64::try_from(v).ok()),
        }
    }
}

/// The root of the reader schema; it reads everything from the store in the context.
#[derive(Debug)]
pub struct Query;

/// Top level queries
#[Object]
impl Query {
    /// Get input based on its identifier
    async fn input(&self, ctx: &Context<'_>, index: i32) -> async_graphql::Result<Input> {
        let index = u64::try_from(index).map_err(|_| not_found("input"))?;
        find_input(store(ctx)?, index)
    }

    /// Get voucher based on its index
    async fn voucher(&self, ctx: &Context<'_>, voucher_index: i32, input_index: i32) -> async_graphql::Result<Voucher> {
        find_output(store(ctx)?, OutputKind::Voucher, input_index, voucher_index).map(Voucher)
    }

    /// Get notice based on its index
    async fn notice(&self, ctx: &Context<'_>, notice_index: i32, input_index: i32) -> async_graphql::Result<Notice> {
        find_output(store(ctx)?, OutputKind::Notice, input_index, notice_index).map(Notice)
    }

    /// Get report based on its index
    async fn report(&self, ctx: &Context<'_>, report_index: i32, input_index: i32) -> async_graphql::Result<Report> {
        find_output(store(ctx)?, OutputKind::Report, input_index, report_index).map(Report)
    }

    /// Get inputs with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn inputs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
        #[graphql(name = "where")] filter: Option<InputFilter>,
    ) -> async_graphql::Result<InputConnection> {
        let store = store(ctx)?;
        let range = filter.map(InputFilter::range).unwrap_or_default();
        let total = store.count_inputs(range).map_err(internal)?;
        let page = PageArgs { first, last, after, before }.page(total)?;
        spend_items(ctx, page)?;
        let items = if page.limit == 0 {
            Vec::new()
        } else {
            store.inputs(range, page.offset, page.limit).map_err(internal)?
        };
        let parts = paged(total, page, items)?;
        Ok(InputConnection::new(parts.map(|(record, status)| Input { record, status })))
    }

    /// Get vouchers with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn vouchers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
    ) -> async_graphql::Result<VoucherConnection> {
        let parts = output_page(ctx, OutputKind::Voucher, None, PageArgs { first, last, after, before })?;
        Ok(VoucherConnection::new(parts.map(Voucher)))
    }

    /// Get notices with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn notices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
    ) -> async_graphql::Result<NoticeConnection> {
        let parts = output_page(ctx, OutputKind::Notice, None, PageArgs { first, last, after, before })?;
        Ok(NoticeConnection::new(parts.map(Notice)))
    }

    /// Get reports with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
    ) -> async_graphql::Result<ReportConnection> {
        let parts = output_page(ctx, OutputKind::Report, None, PageArgs { first, last, after, before })?;
        Ok(ReportConnection::new(parts.map(Report)))
    }
}

/// An input with its status, as stored.
#[derive(Debug)]
pub struct Input {
    record: InputRecord,
    status: InputStatus,
}

/// Request submitted to the application to advance its state
#[Object]
impl Input {
    /// Input index starting from genesis
    async fn index(&self) -> async_graphql::Result<i32> {
        int(self.record.index)
    }

    /// Status of the input
    async fn status(&self) -> CompletionStatus {
        self.status.into()
    }

    /// Address responsible for submitting the input
    async fn msg_sender(&self) -> String {
        self.record.msg_sender.to_string()
    }

    /// Timestamp associated with the input submission, as defined by the base layer's block in which it was recorded
    async fn timestamp(&self) -> BigInt {
        BigInt(self.record.timestamp)
    }

    /// Number of the base layer block in which the input was recorded
    async fn block_number(&self) -> BigInt {
        BigInt(self.record.block_number)
    }

    /// Input payload in Ethereum hex binary format, starting with '0x'
    async fn payload(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        hex_within_budget(ctx, &self.record.payload)
    }

    /// Get voucher from this particular input given the voucher's index
    async fn voucher(&self, ctx: &Context<'_>, index: i32) -> async_graphql::Result<Voucher> {
        find_output(store(ctx)?, OutputKind::Voucher, int(self.record.index)?, index).map(Voucher)
    }

    /// Get notice from this particular input given the notice's index
    async fn notice(&self, ctx: &Context<'_>, index: i32) -> async_graphql::Result<Notice> {
        find_output(store(ctx)?, OutputKind::Notice, int(self.record.index)?, index).map(Notice)
    }

    /// Get report from this particular input given the report's index
    async fn report(&self, ctx: &Context<'_>, index: i32) -> async_graphql::Result<Report> {
        find_output(store(ctx)?, OutputKind::Report, int(self.record.index)?, index).map(Report)
    }

    /// Get vouchers from this particular input with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn vouchers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
    ) -> async_graphql::Result<VoucherConnection> {
        let args = PageArgs { first, last, after, before };
        let parts = output_page(ctx, OutputKind::Voucher, Some(self.record.index), args)?;
        Ok(VoucherConnection::new(parts.map(Voucher)))
    }

    /// Get notices from this particular input with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn notices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
    ) -> async_graphql::Result<NoticeConnection> {
        let args = PageArgs { first, last, after, before };
        let parts = output_page(ctx, OutputKind::Notice, Some(self.record.index), args)?;
        Ok(NoticeConnection::new(parts.map(Notice)))
    }

    /// Get reports from this particular input with support for pagination
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
    ) -> async_graphql::Result<ReportConnection> {
        let args = PageArgs { first, last, after, before };
        let parts = output_page(ctx, OutputKind::Report, Some(self.record.index), args)?;
        Ok(ReportConnection::new(parts.map(Report)))
    }
}

/// The payload of any stored output; destinations exist only on vouchers.
fn output_payload(ctx: &Context<'_>, output: &StoredOutput) -> async_graphql::Result<String> {
    match &output.output {
        rollup::wire::Output::Notice(p) | rollup::wire::Output::Report(p) => hex_within_budget(ctx, p),
        rollup::wire::Output::Voucher(v) => hex_within_budget(ctx, &v.payload.0),
    }
}

/// A payload in hex, once its size is taken from the request's answer budget: payloads are most
/// of an answer's bytes, and this refuses them before they are built rather than once the whole
/// answer is. A schema run outside the HTTP handler has no budget.
fn hex_within_budget(ctx: &Context<'_>, bytes: &[u8]) -> async_graphql::Result<String> {
    if let Some(budget) = ctx.data_opt::<limits::AnswerBudget>() {
        budget.spend_bytes(2 + 2 * bytes.len())?;
    }
    Ok(hex(bytes))
}

/// A stored voucher.
#[derive(Debug)]
pub struct Voucher(StoredOutput);

/// Representation of a transaction that can be carried out on the base layer blockchain, such as a transfer of assets
#[Object]
impl Voucher {
    /// Voucher index within the context of the input that produced it
    async fn index(&self) -> async_graphql::Result<i32> {
        int(self.0.index)
    }

    /// Input whose processing produced the voucher
    async fn input(&self, ctx: &Context<'_>) -> async_graphql::Result<Input> {
        find_input(store(ctx)?, self.0.input_index)
    }

    /// Transaction destination address in Ethereum hex binary format (20 bytes), starting with '0x'
    async fn destination(&self) -> async_graphql::Result<String> {
        match &self.0.output {
            rollup::wire::Output::Voucher(v) => Ok(v.destination.to_string()),
            _ => Err(async_graphql::Error::new("internal error: a voucher listing returned another output")),
        }
    }

    /// Transaction payload in Ethereum hex binary format, starting with '0x'
    async fn payload(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        output_payload(ctx, &self.0)
    }

    /// Proof object that allows this voucher to be validated and executed on the base layer blockchain
    async fn proof(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Proof>> {
        proof_of(store(ctx)?, OutputKind::Voucher, &self.0)
    }
}

/// A stored notice.
#[derive(Debug)]
pub struct Notice(StoredOutput);

/// Informational statement that can be validated in the base layer blockchain
#[Object]
impl Notice {
    /// Notice index within the context of the input that produced it
    async fn index(&self) -> async_graphql::Result<i32> {
        int(self.0.index)
    }

    /// Input whose processing produced the notice
    async fn input(&self, ctx: &Context<'_>) -> async_graphql::Result<Input> {
        find_input(store(ctx)?, self.0.input_index)
    }

    /// Notice data as a payload in Ethereum hex binary format, starting with '0x'
    async fn payload(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        output_payload(ctx, &self.0)
    }

    /// Proof object that allows this notice to be validated by the base layer blockchain
    async fn proof(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Proof>> {
        proof_of(store(ctx)?, OutputKind::Notice, &self.0)
    }
}

/// A stored report.
#[derive(Debug)]
pub struct Report(StoredOutput);

/// Application log or diagnostic information
#[Object]
impl Report {
    /// Report index within the context of the input that produced it
    async fn index(&self) -> async_graphql::Result<i32> {
        int(self.0.index)
    }

    /// Input whose processing produced the report
    async fn input(&self, ctx: &Context<'_>) -> async_graphql::Result<Input> {
        find_input(store(ctx)?, self.0.input_index)
    }

    /// Report data as a payload in Ethereum hex binary format, starting with '0x'
    async fn payload(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        output_payload(ctx, &self.0)
    }
}

/// The proof of a stored output, once its epoch's claim is on L1.
fn proof_of(store: &Store, kind: OutputKind, output: &StoredOutput) -> async_graphql::Result<Option<Proof>> {
    let Some((claim, bytes)) = store.proof(kind, output.input_index, output.index).map_err(internal)? else {
        return Ok(None);
    };
    let v = crate::settle::merkle::Validity::from_bytes(&bytes).ok_or_else(|| {
        internal(crate::store::StoreError::Corrupt(format!("a stored proof of {} bytes", bytes.len())))
    })?;
    let hex = |h: &[u8; 32]| format!("0x{}", hex::encode(h));
    Ok(Some(Proof {
        validity: OutputValidityProof {
            input_index_within_epoch: int(v.input_index_within_epoch)?,
            output_index_within_input: int(v.output_index_within_input)?,
            output_hashes_root_hash: hex(&v.output_hashes_root_hash),
            vouchers_epoch_root_hash: hex(&v.vouchers_epoch_root_hash),
            notices_epoch_root_hash: hex(&v.notices_epoch_root_hash),
            machine_state_hash: hex(&v.machine_state_hash),
            output_hash_in_output_hashes_siblings: v.output_hash_in_output_hashes_siblings.iter().map(hex).collect(),
            output_hashes_in_epoch_siblings: v.output_hashes_in_epoch_siblings.iter().map(hex).collect(),
        },
        context: format!("0x{}", hex::encode(crate::l1::claim_context(claim))),
    }))
}

/// Data that can be used as proof to validate notices and execute vouchers on the base layer blockchain
#[derive(SimpleObject, Debug)]
pub struct Proof {
    /// Validity proof for an output
    validity: OutputValidityProof,
    /// Data that allows the validity proof to be contextualized within submitted claims, given as a payload in Ethereum hex binary format, starting with '0x'
    context: String,
}

/// Validity proof for an output
#[derive(SimpleObject, Debug)]
pub struct OutputValidityProof {
    /// Local input index within the context of the related epoch
    input_index_within_epoch: i32,
    /// Output index within the context of the input that produced it
    output_index_within_input: i32,
    /// Merkle root of all output hashes of the related input, given in Ethereum hex binary format (32 bytes), starting with '0x'
    output_hashes_root_hash: String,
    /// Merkle root of all voucher hashes of the related epoch, given in Ethereum hex binary format (32 bytes), starting with '0x'
    vouchers_epoch_root_hash: String,
    /// Merkle root of all notice hashes of the related epoch, given in Ethereum hex binary format (32 bytes), starting with '0x'
    notices_epoch_root_hash: String,
    /// Hash of the machine state claimed for the related epoch, given in Ethereum hex binary format (32 bytes), starting with '0x'
    machine_state_hash: String,
    /// Proof that this output hash is in the output-hashes merkle tree. This array of siblings is bottom-up ordered (from the leaf to the root). Each hash is given in Ethereum hex binary format (32 bytes), starting with '0x'.
    output_hash_in_output_hashes_siblings: Vec<String>,
    /// Proof that this output-hashes root hash is in epoch's output merkle tree. This array of siblings is bottom-up ordered (from the leaf to the root). Each hash is given in Ethereum hex binary format (32 bytes), starting with '0x'.
    output_hashes_in_epoch_siblings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_base64_of_the_decimal_offset() {
        assert_eq!(encode_cursor(0), "MA==");
        assert_eq!(encode_cursor(12), "MTI=");
        assert_eq!(decode_cursor("MTI=", 13).ok(), Some(12));
        assert!(decode_cursor("MTI=", 12).is_err());
        assert!(decode_cursor("not base64!", 12).is_err());
    }

    #[test]
    fn pages_follow_cartesi_rules() {
        let args = |first, last, after: Option<u64>, before: Option<u64>| PageArgs {
            first,
            last,
            after: after.map(encode_cursor),
            before: before.map(encode_cursor),
        };
        assert_eq!(args(None, None, None, None).page(5).ok(), Some(Page { offset: 0, limit: 5 }));
        assert_eq!(args(None, None, None, None).page(5000).ok(), Some(Page { offset: 0, limit: MAX_PAGE }));
        assert_eq!(args(Some(2), None, Some(1), None).page(5).ok(), Some(Page { offset: 2, limit: 2 }));
        assert_eq!(args(Some(9), None, Some(3), None).page(5).ok(), Some(Page { offset: 4, limit: 1 }));
        assert_eq!(args(None, Some(2), None, None).page(5).ok(), Some(Page { offset: 3, limit: 2 }));
        assert_eq!(args(None, Some(9), None, Some(2)).page(5).ok(), Some(Page { offset: 0, limit: 2 }));
        assert_eq!(args(None, None, None, Some(0)).page(5).ok(), Some(Page { offset: 0, limit: 0 }));
        assert!(args(Some(1), Some(1), None, None).page(5).is_err());
        assert!(args(Some(-1), None, None, None).page(5).is_err());
        assert!(args(None, None, Some(5), None).page(5).is_err());
    }
}

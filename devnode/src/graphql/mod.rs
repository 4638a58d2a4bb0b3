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
//!
//! The files: `transport.rs` is the HTTP side (routes, body checks, batches, the answer's size),
//! `graphiql.html` the page a browser gets, `pagination.rs` cursors, pages and connections,
//! `schema.rs` the types and resolvers of Cartesi's schema, `proof.rs` an output's proof,
//! `limits.rs` what a request may cost.

mod limits;
mod pagination;
mod proof;
mod schema;
mod transport;

use std::future::Future;
use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription};
use tokio::net::TcpListener;

use crate::health::Health;
use crate::store::Store;
pub use limits::MAX_ALIASES;
use limits::{MAX_DEPTH, MAX_DIRECTIVES};
pub use schema::Query;

/// The executable reader schema.
pub(crate) type ReaderSchema = async_graphql::Schema<Query, EmptyMutation, EmptySubscription>;

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
/// `/healthz` (or `/readyz`). Connections already open are left to finish on their own tasks.
pub async fn serve(
    store: Arc<Store>,
    health: Health,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let schema = schema(store);
    crate::http::serve(listener, shutdown, "GraphQL", move |req| {
        let schema = schema.clone();
        let health = health.clone();
        async move { transport::handle(&schema, &health, req).await }
    })
    .await
}

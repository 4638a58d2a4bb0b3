//! The web explorer: a page served at `/explorer` on the GraphQL address, showing the ledger's
//! chain (blocks, transactions, accounts) and the node (inputs, outputs, epochs and claims).
//!
//! The pages are a client of the node's public APIs and nothing else: GraphQL (`/graphql`, same
//! origin), `/healthz`, inspect (its own address, which answers any origin) and the L1 RPC (for
//! the chain's block and whether a voucher was executed). This module only serves the bundle,
//! built from `frontend-console/src/explorer/` and committed under `devnode/explorer/` (a console
//! test fails when the committed bundle differs from its sources), and a small `config.json`
//! telling the page where those APIs are. Every asset is inside the binary: no network needed.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS,
};
use hyper::{Method, Response, StatusCode};
use serde_json::json;

const INDEX: &[u8] = include_bytes!("../explorer/index.html");
const SCRIPT: &[u8] = include_bytes!("../explorer/explorer.js");
const STYLE: &[u8] = include_bytes!("../explorer/explorer.css");

/// Where the explorer is served on the GraphQL address.
pub const PATH: &str = "/explorer/";

/// Where the page finds the APIs that are not on its own origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// The inspect URL, e.g. `http://127.0.0.1:5005/inspect`.
    pub inspect_url: String,
    /// The L1 JSON-RPC URL.
    pub rpc_url: String,
    /// The application's address on L1 (checksummed).
    pub application: String,
    /// How the backend runs, for the status page.
    pub backend: String,
}

/// The explorer's routes, with its configuration rendered once.
#[derive(Clone, Debug)]
pub struct Explorer {
    config: Bytes,
    /// The page's Content-Security-Policy: its own scripts and styles only, and requests only to
    /// its own origin and the two APIs it is given.
    policy: HeaderValue,
}

impl Explorer {
    pub fn new(links: &Links) -> Explorer {
        let config = json!({
            "inspect": links.inspect_url,
            "rpc": links.rpc_url,
            "application": links.application,
            "backend": links.backend,
        });
        let apis: Vec<&str> = [&links.inspect_url, &links.rpc_url].into_iter().filter_map(|u| origin(u)).collect();
        let policy = format!(
            "default-src 'self'; connect-src 'self' {}; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            apis.join(" ")
        );
        // An origin is scheme, host and port: nothing a header value cannot hold; a URL that is
        // not one leaves the page to its own origin.
        let policy = HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'"));
        Explorer { config: Bytes::from(config.to_string()), policy }
    }

    /// The answer to a request for `path`, or `None` when the path is not the explorer's.
    pub fn route(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>> {
        if path != "/explorer" && !path.starts_with(PATH) {
            return None;
        }
        if method != Method::GET && method != Method::HEAD {
            return Some(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "the explorer serves GET"));
        }
        Some(match path {
            // Asset paths in the page are absolute, but a relative link from `/explorer` would
            // miss the folder: one address for the page.
            "/explorer" => {
                let mut r = reply(StatusCode::MOVED_PERMANENTLY, "text/plain", "see /explorer/");
                r.headers_mut().insert(LOCATION, HeaderValue::from_static(PATH));
                r
            }
            "/explorer/" | "/explorer/index.html" => {
                let mut r = reply(StatusCode::OK, "text/html; charset=utf-8", INDEX);
                r.headers_mut().insert(CONTENT_SECURITY_POLICY, self.policy.clone());
                r
            }
            "/explorer/explorer.js" => reply(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT),
            "/explorer/explorer.css" => reply(StatusCode::OK, "text/css; charset=utf-8", STYLE),
            "/explorer/config.json" => reply(StatusCode::OK, "application/json", self.config.clone()),
            _ => reply(
                StatusCode::NOT_FOUND,
                "text/plain",
                format!("no explorer file {path}; the explorer is at {PATH}"),
            ),
        })
    }
}

/// `http://host:port` of a URL; `None` for anything else.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let valid = !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    valid.then(|| &url[..scheme.len() + 3 + authority.len()])
}

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A rebuilt node serves a new bundle at the same address: browsers revalidate every time.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn explorer() -> Explorer {
        Explorer::new(&Links {
            inspect_url: "http://127.0.0.1:5005/inspect".into(),
            rpc_url: "http://127.0.0.1:8545".into(),
            application: "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e".into(),
            backend: "dapp".into(),
        })
    }

    async fn body(r: Response<Full<Bytes>>) -> Bytes {
        r.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn serves_the_page_its_assets_and_where_the_apis_are() {
        let e = explorer();
        let page = e.route(&Method::GET, "/explorer/").unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(
            page.headers()[CONTENT_SECURITY_POLICY],
            "default-src 'self'; connect-src 'self' http://127.0.0.1:5005 http://127.0.0.1:8545; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        let html = String::from_utf8(body(page).await.to_vec()).unwrap();
        assert!(html.contains("/explorer/explorer.js") && html.contains("/explorer/explorer.css"), "{html}");

        let script = e.route(&Method::GET, "/explorer/explorer.js").unwrap();
        assert_eq!(script.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(body(script).await, SCRIPT);

        let config = e.route(&Method::GET, "/explorer/config.json").unwrap();
        let config: serde_json::Value = serde_json::from_slice(&body(config).await).unwrap();
        assert_eq!(config["inspect"], "http://127.0.0.1:5005/inspect");
        assert_eq!(config["rpc"], "http://127.0.0.1:8545");
        assert_eq!(config["application"], "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e");
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(origin("http://127.0.0.1:5005/inspect"), Some("http://127.0.0.1:5005"));
        assert_eq!(origin("https://node.example:8545"), Some("https://node.example:8545"));
        assert_eq!(origin("http://[::1]:8545/?x"), Some("http://[::1]:8545"));
        assert_eq!(origin("ws://127.0.0.1:8545"), None);
        assert_eq!(origin("http://a b/"), None);
        assert_eq!(origin("http:///x"), None);
        assert_eq!(origin(""), None);
    }

    #[tokio::test]
    async fn leaves_other_paths_alone_and_refuses_what_it_does_not_serve() {
        let e = explorer();
        assert!(e.route(&Method::GET, "/graphql").is_none());
        assert!(e.route(&Method::GET, "/explorers").is_none());
        let redirect = e.route(&Method::GET, "/explorer").unwrap();
        assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(redirect.headers()[LOCATION], PATH);
        assert_eq!(e.route(&Method::GET, "/explorer/nope.js").unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(e.route(&Method::POST, "/explorer/").unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}

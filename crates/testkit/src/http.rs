//! A small HTTP/1.1 client over hyper: one request per connection, enough for the servers under
//! test (the rollup API, inspect, GraphQL).

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// An answer: its status, Content-Type (empty when none) and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request to `addr` with `headers` (besides Host) and returns the answer.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut request = hyper::Request::builder().method(method).uri(path).header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Full::new(body.into())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, content_type, body }
}

/// Sends a JSON body (`Content-Type: application/json`) to `addr`.
pub async fn json(addr: SocketAddr, method: &str, path: &str, body: impl Into<Bytes>) -> Reply {
    request(addr, method, path, &[("content-type", "application/json")], body).await
}

/// Sends a JSON body to a full `http://host:port/path?query` URL.
pub async fn json_url(method: &str, url: &str, body: impl Into<Bytes>) -> Reply {
    let uri: hyper::Uri = url.parse().unwrap();
    let host = uri.host().unwrap();
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    let addr: SocketAddr = format!("{host}:{}", uri.port_u16().unwrap()).parse().unwrap();
    json(addr, method, uri.path_and_query().unwrap().as_str(), body).await
}

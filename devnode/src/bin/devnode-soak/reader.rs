//! Reading a node over HTTP: GraphQL (every input with its status and outputs, progress,
//! health) and inspect (the ledger's state root).

use super::*;

pub(crate) async fn http(method: &str, url: &str, body: Option<String>) -> Result<(u16, String), String> {
    let request = async {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        let host = uri.host().ok_or_else(|| format!("no host in {url}"))?;
        let authority = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        let stream = tokio::net::TcpStream::connect(&authority).await.map_err(|e| format!("{url}: {e}"))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("{url}: {e}"))?;
        tokio::spawn(connection);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        let response = sender.send_request(req).await.map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|e| format!("{url}: {e}"))?.to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    };
    tokio::time::timeout(HTTP_TIMEOUT, request)
        .await
        .map_err(|_| format!("{url}: no answer within {HTTP_TIMEOUT:?}"))?
}

pub(crate) async fn graphql(url: &str, query: &str, variables: Value) -> Result<Value, String> {
    let body = json!({"query": query, "variables": variables}).to_string();
    let (status, text) = http("POST", url, Some(body)).await?;
    let answer: Value =
        serde_json::from_str(&text).map_err(|e| format!("GraphQL {url}: HTTP {status}, {e}: {text}"))?;
    if status != 200 || answer.get("errors").is_some_and(|e| !e.is_null()) {
        return Err(format!("GraphQL {url}: HTTP {status}: {text}"));
    }
    Ok(answer["data"].clone())
}

/// Follows a connection's pages; `field` is the root field, `node` the selection of each node.
pub(crate) async fn all_nodes(url: &str, field: &str, node: &str) -> Result<Vec<Value>, String> {
    let query = format!(
        "query($after: String) {{ {field}(first: {PAGE}, after: $after) {{ pageInfo {{ endCursor hasNextPage }} edges {{ node {{ {node} }} }} }} }}"
    );
    let mut after: Option<String> = None;
    let mut nodes = Vec::new();
    loop {
        let data = graphql(url, &query, json!({"after": after})).await?;
        let conn = &data[field];
        let edges = conn["edges"].as_array().ok_or_else(|| format!("GraphQL {field}: no edges in {conn}"))?;
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        let next = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if conn["pageInfo"]["hasNextPage"] != true || next.is_none() || next == after {
            return Ok(nodes);
        }
        after = next;
    }
}

/// What processing an input gave: its status and outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) status: String,
    pub(crate) notices: Vec<String>,
    /// `(destination, payload)`.
    pub(crate) vouchers: Vec<(String, String)>,
    pub(crate) reports: Vec<String>,
}

/// One input as a node holds it, with its status and outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeInput {
    pub(crate) sender: String,
    pub(crate) payload: String,
    pub(crate) block: String,
    pub(crate) outcome: Outcome,
}

pub(crate) fn index_of(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// Everything a node serves over GraphQL, by input index.
pub(crate) async fn read_node(url: &str) -> Result<HashMap<u64, NodeInput>, String> {
    let mut inputs = HashMap::new();
    for n in all_nodes(url, "inputs", "index status msgSender blockNumber payload").await? {
        let index = index_of(&n["index"]).ok_or_else(|| format!("input without index: {n}"))?;
        let text = |k: &str| n[k].as_str().unwrap_or_default().to_lowercase();
        let input = NodeInput {
            sender: text("msgSender"),
            payload: text("payload"),
            block: text("blockNumber"),
            outcome: Outcome { status: n["status"].as_str().unwrap_or_default().to_owned(), ..Outcome::default() },
        };
        if inputs.insert(index, input).is_some() {
            return Err(format!("GraphQL lists input {index} twice"));
        }
    }
    let mut outputs: Vec<(u64, u64, &str, Value)> = Vec::new();
    for (field, node) in [
        ("notices", "index payload input { index }"),
        ("vouchers", "index destination payload input { index }"),
        ("reports", "index payload input { index }"),
    ] {
        for n in all_nodes(url, field, node).await? {
            let input = index_of(&n["input"]["index"]).ok_or_else(|| format!("{field}: no input index in {n}"))?;
            outputs.push((input, index_of(&n["index"]).unwrap_or(0), field, n));
        }
    }
    outputs.sort_by_key(|(input, index, field, _)| (*input, *field, *index));
    for (input, _, field, n) in outputs {
        let entry = inputs.entry(input).or_default();
        let payload = n["payload"].as_str().unwrap_or_default().to_lowercase();
        match field {
            "notices" => entry.outcome.notices.push(payload),
            "vouchers" => {
                entry.outcome.vouchers.push((n["destination"].as_str().unwrap_or_default().to_lowercase(), payload))
            }
            _ => entry.outcome.reports.push(payload),
        }
    }
    Ok(inputs)
}

/// `(inputs held, inputs processed)`: the node processes in index order, so the processed ones
/// are a prefix, found by bisection on `input(index) { status }`.
pub(crate) async fn progress(url: &str) -> Result<(u64, u64), String> {
    let data = graphql(url, "{ inputs(first: 1) { totalCount } }", json!({})).await?;
    let total = data["inputs"]["totalCount"].as_u64().ok_or_else(|| format!("GraphQL {url}: no totalCount"))?;
    let (mut low, mut high) = (0, total);
    while low < high {
        let mid = low + (high - low) / 2;
        let query = format!("{{ input(index: {mid}) {{ status }} }}");
        let data = graphql(url, &query, json!({})).await?;
        if data["input"]["status"] == "UNPROCESSED" {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok((total, low))
}

/// Waits until the node holds and has processed at least `count` inputs; gives up after
/// STALL_TIMEOUT without progress. Returns whether it got there.
pub(crate) async fn wait_caught_up(name: &str, url: &str, count: u64) -> bool {
    let mut last = Err(String::new());
    let mut since = Instant::now();
    loop {
        let now = progress(url).await;
        if let Ok((total, processed)) = now {
            if total >= count && processed == total {
                return true;
            }
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= STALL_TIMEOUT {
            let state = match &last {
                Ok((total, processed)) => format!("holds {total} inputs, {processed} processed"),
                Err(e) => e.clone(),
            };
            eprintln!(
                "devnode-soak: the {name} node {state}, of the {count} on L1, without progress for {STALL_TIMEOUT:?}"
            );
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The node's readiness answer (`/healthz` beside `/graphql`): its phase, a failure's reason, and
/// settlement; `None` from a node without one.
pub(crate) async fn health(graphql_url: &str) -> Option<Value> {
    let url = graphql_url.replace("/graphql", "/healthz");
    let (_, body) = http("GET", &url, None).await.ok()?;
    serde_json::from_str(&body).ok()
}

/// Waits until the reference (a validator) has checked as many claims as the soaked node made,
/// or found a disagreement; gives up after STALL_TIMEOUT. Returns `(claims made, agreed,
/// disagreement)`, or `None` when the nodes do not report settlement.
pub(crate) async fn wait_claims_checked(soak: &Urls, reference: &Urls) -> Option<(u64, u64, Option<String>)> {
    let deadline = Instant::now() + STALL_TIMEOUT;
    loop {
        let made = health(&soak.graphql).await?["settlement"]["claims"].as_u64()?;
        let checked = health(&reference.graphql).await?["settlement"].clone();
        let agreed = checked["agreed"].as_u64()?;
        let disagreement = checked["disagreement"].as_str().map(str::to_owned);
        if agreed >= made || disagreement.is_some() || Instant::now() >= deadline {
            return Some((made, agreed, disagreement));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The ledger's `info` report, through inspect.
pub(crate) async fn ledger_info(inspect_url: &str) -> Result<Value, String> {
    let url = format!("{inspect_url}/info");
    let (status, body) = http("GET", &url, None).await?;
    let answer: Value =
        serde_json::from_str(&body).map_err(|e| format!("inspect {url}: HTTP {status}, {e}: {body}"))?;
    let hex = answer["reports"][0]["payload"].as_str().unwrap_or("0x");
    let bytes = hex::decode(hex.trim_start_matches("0x")).map_err(|e| format!("inspect {url}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("inspect {url}: the report is not JSON ({e}): {body}"))
}

/// The ledger's state root once the node is done: its readiness endpoint (when it has one) says
/// "ready" (not replaying), and two `info` answers in a row agree. The last answer if that does
/// not happen within STALL_TIMEOUT.
pub(crate) async fn state_root(urls: &Urls) -> Result<String, String> {
    let deadline = Instant::now() + STALL_TIMEOUT;
    let mut previous: Option<Value> = None;
    loop {
        let ready = health(&urls.graphql).await.is_none_or(|h| h["status"] == "ready");
        let info = ledger_info(&urls.inspect).await?;
        let root = info["state_root"].as_str().unwrap_or_default().to_owned();
        if (ready && previous.as_ref() == Some(&info)) || Instant::now() >= deadline {
            return Ok(root);
        }
        previous = Some(info);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

//! What a query may cost, within the limits the console's and GraphiQL's queries fit.

use super::*;

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

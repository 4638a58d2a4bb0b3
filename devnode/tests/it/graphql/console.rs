//! The console's queries, as it sends them, and the fields and errors they read.

use super::*;

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

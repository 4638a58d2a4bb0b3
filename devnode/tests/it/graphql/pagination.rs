//! Cartesi's cursors and pages.

use super::*;

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

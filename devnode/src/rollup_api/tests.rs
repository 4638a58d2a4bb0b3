//! The rollup API against a client written here: the host-runner's states, outputs and their
//! indices, exceptions and aborts, malformed calls, and the order of requests.

use super::*;
use ledger::Address;
use rollup::wire::{Advance, AdvanceMetadata, HexBytes, Inspect};

async fn start(timeout_ms: u64) -> (RollupApi, std::net::SocketAddr) {
    let api = RollupApi::new(Duration::from_millis(timeout_ms));
    let listener = testkit::local_listener().await;
    let addr = listener.local_addr().unwrap();
    let server = api.clone();
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    (api, addr)
}

async fn post(addr: std::net::SocketAddr, method: Method, path: &str, body: &str) -> (StatusCode, String) {
    let reply = testkit::http::json(addr, method.as_str(), path, body.to_string()).await;
    (StatusCode::from_u16(reply.status).unwrap(), reply.text())
}

fn advance(index: u64) -> RollupRequest {
    RollupRequest::AdvanceState(Advance {
        metadata: AdvanceMetadata::v1(Address([0x11; 20]), index, 7, 1_700_000_000),
        payload: HexBytes(b"hi".to_vec()),
    })
}

const VOUCHER: &str = r#"{"destination":"0x1111111111111111111111111111111111111111","payload":"0xdeadbeef"}"#;

#[tokio::test]
async fn v2_advances_number_outputs_globally() {
    let (api, addr) = start(50).await;
    let submitter = api.clone();
    let done = tokio::spawn(async move { submitter.submit_v2(advance(3), 7).await });
    let (status, _) = post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        post(addr, Method::POST, "/notice", r#"{"payload":"0x01"}"#).await,
        (StatusCode::CREATED, r#"{"index":7}"#.into())
    );
    assert_eq!(post(addr, Method::POST, "/report", r#"{"payload":"0x02"}"#).await.0, StatusCode::ACCEPTED);
    assert_eq!(post(addr, Method::POST, "/voucher", VOUCHER).await, (StatusCode::CREATED, r#"{"index":8}"#.into()));
    let delegate = r#"{"destination":"0x1111111111111111111111111111111111111111","payload":"0x0102"}"#;
    assert_eq!(
        post(addr, Method::POST, "/delegate-call-voucher", delegate).await,
        (StatusCode::CREATED, r#"{"index":9}"#.into())
    );
    assert_eq!(
        post(addr, Method::POST, "/notice", r#"{"payload":"0x03"}"#).await,
        (StatusCode::CREATED, r#"{"index":10}"#.into())
    );
    let finish = tokio::spawn(async move { post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await });
    let completion = done.await.unwrap().unwrap();
    assert_eq!(completion.status, InputStatus::Accepted);
    assert_eq!(completion.outputs.len(), 5);
    assert!(matches!(completion.outputs[3], Output::DelegateCallVoucher(_)));

    // A v1 advance has no delegate-call vouchers.
    let submitter = api.clone();
    let done = tokio::spawn(async move { submitter.submit(advance(4)).await });
    assert_eq!(finish.await.unwrap().0, StatusCode::OK);
    let (status, body) = post(addr, Method::POST, "/delegate-call-voucher", delegate).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let finish = tokio::spawn(async move { post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await });
    assert!(done.await.unwrap().unwrap().outputs.is_empty());
    finish.abort();
}

#[tokio::test]
async fn finish_waits_then_answers_202_and_the_first_status_only_announces_readiness() {
    let (_api, addr) = start(30).await;
    let (status, body) = post(addr, Method::POST, "/finish", r#"{"status":"reject"}"#).await;
    assert_eq!((status, body.as_str()), (StatusCode::ACCEPTED, "no rollup request available"));
}

#[tokio::test]
async fn an_accepted_advance_keeps_every_output_in_order_with_per_input_indices() {
    let (api, addr) = start(30).await;
    let submitted = tokio::spawn({
        let api = api.clone();
        async move { api.submit(advance(0)).await }
    });
    let (status, body) = post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<RollupRequest>(&body).unwrap(), advance(0));
    assert_eq!(
        post(addr, Method::POST, "/notice", r#"{"payload":"0x01"}"#).await,
        (StatusCode::CREATED, r#"{"index":0}"#.into())
    );
    assert_eq!(post(addr, Method::POST, "/voucher", VOUCHER).await, (StatusCode::CREATED, r#"{"index":0}"#.into()));
    assert_eq!(
        post(addr, Method::POST, "/notice", r#"{"payload":"0x02"}"#).await,
        (StatusCode::CREATED, r#"{"index":1}"#.into())
    );
    assert_eq!(post(addr, Method::POST, "/report", r#"{"payload":"0x03"}"#).await.0, StatusCode::ACCEPTED);
    assert_eq!(post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await.0, StatusCode::ACCEPTED);
    let completion = submitted.await.unwrap().unwrap();
    assert_eq!(completion.status, InputStatus::Accepted);
    let kinds: Vec<&str> = completion.outputs.iter().map(|o| o.kind().name()).collect();
    assert_eq!(kinds, ["notice", "voucher", "notice", "report"]);
}

#[tokio::test]
async fn a_rejected_advance_drops_vouchers_and_notices_but_keeps_reports() {
    let (api, addr) = start(30).await;
    let submitted = tokio::spawn({
        let api = api.clone();
        async move { api.submit(advance(3)).await }
    });
    assert_eq!(post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await.0, StatusCode::OK);
    post(addr, Method::POST, "/voucher", VOUCHER).await;
    post(addr, Method::POST, "/notice", r#"{"payload":"0x01"}"#).await;
    post(addr, Method::POST, "/report", r#"{"payload":"0x72"}"#).await;
    post(addr, Method::POST, "/finish", r#"{"status":"reject"}"#).await;
    let completion = submitted.await.unwrap().unwrap();
    assert_eq!(
        completion,
        Completion { status: InputStatus::Rejected, exception: None, outputs: vec![Output::Report(b"r".to_vec())] }
    );
}

#[tokio::test]
async fn outputs_outside_an_advance_are_refused() {
    let (api, addr) = start(30).await;
    let (status, body) = post(addr, Method::POST, "/voucher", VOUCHER).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "invalid request voucher in idle state"));
    assert_eq!(post(addr, Method::POST, "/report", r#"{"payload":"0x"}"#).await.0, StatusCode::BAD_REQUEST);
    let inspect = RollupRequest::InspectState(Inspect { payload: HexBytes(b"info".to_vec()) });
    let submitted = tokio::spawn({
        let api = api.clone();
        async move { api.submit(inspect).await }
    });
    assert_eq!(post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await.0, StatusCode::OK);
    let (status, body) = post(addr, Method::POST, "/notice", r#"{"payload":"0x01"}"#).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "invalid request notice in inspect state"));
    assert_eq!(post(addr, Method::POST, "/report", r#"{"payload":"0x6f6b"}"#).await.0, StatusCode::ACCEPTED);
    post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await;
    let completion = submitted.await.unwrap().unwrap();
    assert_eq!(completion.outputs, vec![Output::Report(b"ok".to_vec())]);
}

#[tokio::test]
async fn an_exception_ends_the_request_and_keeps_only_reports() {
    let (api, addr) = start(30).await;
    let submitted = tokio::spawn({
        let api = api.clone();
        async move { api.submit(advance(1)).await }
    });
    post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await;
    post(addr, Method::POST, "/notice", r#"{"payload":"0x01"}"#).await;
    post(addr, Method::POST, "/report", r#"{"payload":"0x02"}"#).await;
    assert_eq!(post(addr, Method::POST, "/exception", r#"{"payload":"0x626f6f6d"}"#).await.0, StatusCode::ACCEPTED);
    let completion = submitted.await.unwrap().unwrap();
    assert_eq!((completion.status, completion.exception), (InputStatus::Exception, Some(b"boom".to_vec())));
    assert_eq!(completion.outputs, vec![Output::Report(vec![2])]);
    // Nothing is in progress any more: outputs are refused, finish waits.
    assert_eq!(post(addr, Method::POST, "/notice", r#"{"payload":"0x01"}"#).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_dead_backend_aborts_the_current_request_as_an_exception() {
    let (api, addr) = start(30).await;
    let submitted = tokio::spawn({
        let api = api.clone();
        async move { api.submit(advance(2)).await }
    });
    post(addr, Method::POST, "/finish", r#"{"status":"accept"}"#).await;
    assert!(api.abort_current("backend exited with status 1"));
    assert!(!api.abort_current("again"));
    let completion = submitted.await.unwrap().unwrap();
    assert_eq!(
        (completion.status, completion.exception),
        (InputStatus::Exception, Some(b"backend exited with status 1".to_vec()))
    );
}

#[tokio::test]
async fn malformed_calls_get_clear_errors() {
    let (_api, addr) = start(30).await;
    let (status, body) = post(addr, Method::POST, "/finish", r#"{"status":"maybe"}"#).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "status must be 'accept' or 'reject'"));
    let bad_voucher = r#"{"destination":"0x12","payload":"0x"}"#;
    assert_eq!(post(addr, Method::POST, "/voucher", bad_voucher).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(post(addr, Method::POST, "/notice", r#"{"payload":"0xzz"}"#).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(post(addr, Method::GET, "/finish", "").await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post(addr, Method::POST, "/gio", "{}").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn requests_are_served_in_submission_order() {
    let (api, addr) = start(30).await;
    let mut waiting = Vec::new();
    for i in 0..3 {
        let api = api.clone();
        waiting.push(tokio::spawn(async move { api.submit(advance(i)).await }));
        // Submission order is the queue order.
        tokio::task::yield_now().await;
    }
    let mut seen = Vec::new();
    let mut status = r#"{"status":"accept"}"#;
    for _ in 0..3 {
        let (code, body) = post(addr, Method::POST, "/finish", status).await;
        assert_eq!(code, StatusCode::OK);
        let RollupRequest::AdvanceState(a) = serde_json::from_str(&body).unwrap() else { panic!() };
        seen.push(a.metadata.input_index);
        status = r#"{"status":"accept"}"#;
    }
    post(addr, Method::POST, "/finish", status).await;
    assert_eq!(seen, [0, 1, 2]);
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap().status, InputStatus::Accepted);
    }
}

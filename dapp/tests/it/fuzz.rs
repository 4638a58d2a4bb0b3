//! Property tests at the shell boundary: whatever arrives from L1 or an inspect, the backend
//! answers with a report and never panics, and a rejected input leaves the ledger untouched.

use dapp::app::App;
use dapp::settings::Settings;
use ledger::Address;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rollup::wire::{Advance, AdvanceMetadata, HexBytes, Output};
use rollup::{PortalAddresses, RollupsVersion};

fn senders() -> Vec<Address> {
    let mut all = vec![Address([0x11; 20]), Address([0x22; 20])];
    for v in [RollupsVersion::V1, RollupsVersion::V2] {
        let p = PortalAddresses::canonical(v);
        all.extend([p.ether, p.erc20, p.erc721, p.erc1155_single, p.erc1155_batch]);
        all.extend(p.dapp_address_relay);
    }
    all
}

/// Payloads that reach deep: raw bytes, JSON-ish text, and portal-shaped bytes with junk tails.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "\\{\"op\":\"(transfer|withdraw|mine|x)\",\"to\":\"0x[0-9a-f]{0,41}\",\"asset\":\"(ETH|COIN|erc20:0x[0-9a-f]{40}|erc721:0x[0-9a-f]{40}:[0-9]{1,3}|x)\",\"amount\":\"[0-9x]{0,80}\"\\}"
            .prop_map(String::into_bytes),
        (proptest::collection::vec(any::<u8>(), 40..41), proptest::collection::vec(any::<u8>(), 0..200)).prop_map(
            |(head, tail)| {
                let mut p = head;
                p.extend(tail);
                p
            }
        ),
    ]
}

fn advance(sender: Address, payload: Vec<u8>, index: u64, v2: bool) -> Advance {
    let time = 1000 + index * 7;
    let metadata = if v2 {
        AdvanceMetadata::v2(sender, index, index, time, 13370, Address([0xda; 20]), None)
    } else {
        AdvanceMetadata::v1(sender, index, index, time)
    };
    Advance { metadata, payload: HexBytes(payload) }
}

proptest! {
    // A failure's seed is saved in tests/proptest-regressions/fuzz.txt, which is committed, and
    // every later run tries it first.
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_inputs_get_a_report_and_rejections_change_nothing(
        inputs in proptest::collection::vec((0usize..13, payload(), any::<bool>()), 1..40),
        paths in proptest::collection::vec("[ -~]{0,60}", 0..10),
    ) {
        let settings = Settings::from_lookup(|k| (k == "LEDGER_DIFFICULTY_BITS").then(|| "4".into())).unwrap();
        let mut app = App::new(settings).unwrap();
        let senders = senders();
        for (i, (who, payload, v2)) in inputs.into_iter().enumerate() {
            let before = app.ledger().fingerprint();
            let response = app.advance(&advance(senders[who % senders.len()], payload, i as u64, v2)).unwrap();
            let Some(Output::Report(report)) = response.outputs.last() else {
                panic!("every advance ends with a report");
            };
            let report: serde_json::Value = serde_json::from_slice(report).unwrap();
            prop_assert_eq!(report.get("error").is_none(), response.accept);
            if !response.accept {
                prop_assert_eq!(app.ledger().fingerprint(), before);
                prop_assert_eq!(response.outputs.len(), 1);
            }
        }
        for path in paths {
            let before = app.ledger().fingerprint();
            let response = app.inspect(path.as_bytes());
            prop_assert_eq!(response.outputs.len(), 1);
            prop_assert_eq!(app.ledger().fingerprint(), before);
        }
        prop_assert!(app.ledger().verify_chain().is_ok());
    }
}

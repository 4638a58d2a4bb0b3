//! Rollups v2 outputs without a chain: the outputs tree against the reference vector, and the
//! store's numbering of outputs and reports, its filters, and its claims across rollbacks.

use super::*;

#[test]
fn the_outputs_tree_reproduces_the_reference_vector() {
    let account: Address = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".parse().unwrap();
    let mut tree = OutputsTree::new();
    tree.push(tree::keccak(&tree::voucher(account, U256::exp10(18), &[0xde, 0xad, 0xbe, 0xef])));
    tree.push(tree::keccak(&tree::notice(b"hello")));
    tree.push(tree::keccak(&tree::delegate_call_voucher(account, &[1, 2])));
    assert_eq!(hex::encode(tree.root()), "3281f314530b7617e23ce7d5782c47d880d91e1d350dc74b7772367f817a714e");
    let siblings = tree.siblings(1).unwrap();
    assert_eq!(tree::root_of(tree::keccak(&tree::notice(b"hello")), 1, &siblings), Some(tree.root()));
}

/// The store numbers v2 outputs across the application (accepted inputs only) and reports across
/// every input, keeps delegate-call vouchers, filters by kind and destination, and forgets a
/// claim and its siblings with the inputs it covers.

#[test]
fn outputs_are_numbered_across_the_application_and_claims_follow_rollbacks() {
    use devnode::settle::v2::output_bytes;
    use devnode::store::{ClaimV2, InputRecord, InputStatus, L1Origin, OutputFilterV2, OutputKind};
    use rollup::wire::{DelegateCallVoucher, HexBytes, Output, Voucher};

    let store = Store::open_in_memory().unwrap();
    let record = |index: u64| InputRecord {
        index,
        msg_sender: ledger::Address([0x22; 20]),
        payload: vec![index as u8],
        block_number: 10 + index,
        timestamp: 1_700_000_000,
        origin: L1Origin { block_hash: [index as u8; 32], transaction_hash: [1; 32], log_index: 0 },
    };
    let to = ledger::Address([0xab; 20]);
    let delegate = Output::DelegateCallVoucher(DelegateCallVoucher { destination: to, payload: HexBytes(vec![1, 2]) });
    let voucher = Output::Voucher(Voucher {
        destination: to,
        value: Some(HexBytes::u256(7u64.into())),
        payload: HexBytes(vec![]),
    });
    for i in 0..3 {
        store.add_input_v2(&record(i), [i as u8; 32]).unwrap();
    }
    store
        .complete(
            0,
            InputStatus::Accepted,
            None,
            &[Output::Notice(b"a".to_vec()), Output::Report(b"r0".to_vec()), delegate.clone()],
        )
        .unwrap();
    store.complete(1, InputStatus::Rejected, None, &[Output::Report(b"r1".to_vec())]).unwrap();
    store.complete(2, InputStatus::Accepted, None, &[voucher.clone(), Output::Notice(b"b".to_vec())]).unwrap();
    assert_eq!(store.prev_randao(2).unwrap(), Some([2; 32]));
    assert_eq!(store.outputs_before(2).unwrap(), 2);

    let all = |filter: OutputFilterV2| {
        let (total, page) = store.outputs_v2(&filter, 100, 0, false).unwrap();
        assert_eq!(total as usize, page.len());
        page.into_iter().map(|o| (o.index, o.input_index, o.output)).collect::<Vec<_>>()
    };
    assert_eq!(
        all(OutputFilterV2::default()),
        vec![
            (0, 0, Output::Notice(b"a".to_vec())),
            (1, 0, delegate.clone()),
            (2, 2, voucher.clone()),
            (3, 2, Output::Notice(b"b".to_vec()))
        ]
    );
    let kinds = |k: Vec<OutputKind>| OutputFilterV2 { kinds: Some(k), ..Default::default() };
    assert_eq!(all(kinds(vec![OutputKind::DelegateCallVoucher])).len(), 1);
    assert_eq!(all(kinds(vec![OutputKind::Voucher, OutputKind::Notice])).len(), 3);
    let to_ab = OutputFilterV2 { voucher_address: Some(to), ..Default::default() };
    assert_eq!(all(to_ab).iter().map(|o| o.0).collect::<Vec<_>>(), [1, 2]);
    let (total, page) = store.outputs_v2(&OutputFilterV2::default(), 2, 1, false).unwrap();
    assert_eq!((total, page.iter().map(|o| o.index).collect::<Vec<_>>()), (4, vec![1, 2]));
    assert_eq!(
        output_bytes(&delegate).unwrap(),
        tree::delegate_call_voucher(Address::from(to.0), &[1, 2]),
        "a delegate-call voucher is hashed as the contracts encode it"
    );
    let (reports, page) = store.reports_v2(None, 10, 0, false).unwrap();
    assert_eq!((reports, page[1].index, page[1].input_index, page[1].payload.clone()), (2, 1, 1, b"r1".to_vec()));

    // A claim over inputs 0..=2 with the siblings of its outputs; dropping input 2 drops it.
    let mut tree = OutputsTree::new();
    for (_, _, o) in all(OutputFilterV2::default()) {
        tree.push(tree::keccak(&output_bytes(&o).unwrap()));
    }
    let claim = ClaimV2 {
        epoch: 0,
        last_block: 12,
        input_count: 3,
        output_count: 4,
        root: tree.root(),
        submitted: false,
        transaction_hash: None,
    };
    let siblings: Vec<_> = (0..4).map(|i| (i, tree.siblings(i).unwrap())).collect();
    assert!(store.add_claim_v2(&claim, &siblings).unwrap());
    assert_eq!(store.proof_v2(2).unwrap(), None, "no proof before L1 accepts the claim");
    store.set_claim_v2_submitted(0, true, Some([9; 32])).unwrap();
    assert_eq!(store.proof_v2(2).unwrap(), Some((0, siblings[2].1.clone())));
    assert!(store.add_claim_v2(&claim, &siblings).is_err(), "a claim does not follow itself");
    store.truncate(2).unwrap();
    assert_eq!(store.claims_v2().unwrap(), vec![]);
    assert_eq!(store.proof_v2(0).unwrap(), None);
    assert_eq!(store.prev_randao(2).unwrap(), None);

    // A claim computed before a rollback is refused, and nothing is recorded: its input 2 is
    // gone, then back but unprocessed, then processed with other outputs.
    assert!(!store.add_claim_v2(&claim, &siblings).unwrap(), "a claim over a dropped input");
    store.add_input_v2(&record(2), [2; 32]).unwrap();
    assert!(!store.add_claim_v2(&claim, &siblings).unwrap(), "a claim over an unprocessed input");
    store.complete(2, InputStatus::Accepted, None, std::slice::from_ref(&voucher)).unwrap();
    assert!(!store.add_claim_v2(&claim, &siblings).unwrap(), "a claim over another count of outputs");
    assert_eq!(store.claims_v2().unwrap(), vec![]);
    assert_eq!(store.proof_v2(0).unwrap(), None);
}

//! The SQLite store: round trips through a real file, idempotence, conflicts and ordering.

use std::path::PathBuf;

use devnode::store::{InputRange, InputRecord, InputStatus, L1Origin, OutputKind, Store, StoreError};
use ledger::Address;
use rollup::wire::{HexBytes, Output, Voucher};

/// A database file under the temp dir with a name no other test or run uses; removed (with its
/// WAL side files) when dropped, even if the test fails.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        TempDb(std::env::temp_dir().join(format!("devnode-store-{name}-{}-{nanos}.sqlite", std::process::id())))
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

fn input(index: u64, block: u64) -> InputRecord {
    InputRecord {
        index,
        msg_sender: Address([0x11 + index as u8; 20]),
        payload: format!("input {index}").into_bytes(),
        block_number: block,
        timestamp: 1_700_000_000 + index,
        origin: L1Origin { block_hash: [block as u8; 32], transaction_hash: [index as u8; 32], log_index: index },
    }
}

fn voucher(byte: u8, value: Option<Vec<u8>>) -> Output {
    Output::Voucher(Voucher {
        destination: Address([byte; 20]),
        value: value.map(HexBytes),
        payload: HexBytes(vec![byte, 0xde, 0xad]),
    })
}

fn accepted_outputs() -> Vec<Output> {
    vec![
        Output::Notice(b"n0".to_vec()),
        Output::Report(b"r0".to_vec()),
        voucher(0xaa, None),
        Output::Notice(b"n1".to_vec()),
        voucher(0xbb, Some(vec![0; 32])),
        Output::Report(b"r1".to_vec()),
    ]
}

#[test]
fn round_trip_through_a_file_survives_reopening() {
    let db = TempDb::new("round-trip");
    {
        let store = Store::open(&db.0).unwrap();
        assert_eq!(store.input_count().unwrap(), 0);
        assert_eq!(store.last_input().unwrap(), None);
        assert_eq!(store.next_unprocessed().unwrap(), None);
        for (i, block) in [(0, 10), (1, 12), (2, 12)] {
            store.add_input(&input(i, block)).unwrap();
        }
        store.complete(0, InputStatus::Accepted, None, &accepted_outputs()).unwrap();
        store.complete(1, InputStatus::Rejected, None, &[Output::Report(b"why".to_vec())]).unwrap();
        // WAL mode: while the database is open its writes go through the `-wal` file.
        let mut wal = db.0.clone().into_os_string();
        wal.push("-wal");
        assert!(std::path::Path::new(&wal).exists(), "no WAL file beside {}", db.0.display());
    }
    let store = Store::open(&db.0).unwrap();
    assert_eq!(store.input_count().unwrap(), 3);
    assert_eq!(store.processed_count().unwrap(), 2);
    assert_eq!(store.last_input().unwrap(), Some(input(2, 12)));
    assert_eq!(store.next_unprocessed().unwrap(), Some(input(2, 12)));
    let processed = store.processed().unwrap();
    assert_eq!(
        processed,
        vec![
            (input(0, 10), InputStatus::Accepted, accepted_outputs()),
            (input(1, 12), InputStatus::Rejected, vec![Output::Report(b"why".to_vec())]),
        ]
    );
    // Each kind is numbered from 0 within its input, in the order it was produced.
    let n1 = store.output(OutputKind::Notice, 0, 1).unwrap().unwrap();
    assert_eq!(n1.output, Output::Notice(b"n1".to_vec()));
    let v1 = store.output(OutputKind::Voucher, 0, 1).unwrap().unwrap();
    assert_eq!(v1.output, voucher(0xbb, Some(vec![0; 32])));
    assert_eq!(store.output(OutputKind::Report, 1, 0).unwrap().unwrap().output, Output::Report(b"why".to_vec()));
    assert_eq!(store.output(OutputKind::Notice, 1, 0).unwrap(), None);
    assert_eq!(store.input(1).unwrap(), Some((input(1, 12), InputStatus::Rejected)));
    assert_eq!(store.input(2).unwrap(), Some((input(2, 12), InputStatus::Unprocessed)));
}

#[test]
fn add_input_is_idempotent_and_refuses_conflicts() {
    let store = Store::open_in_memory().unwrap();
    store.add_input(&input(0, 5)).unwrap();
    store.add_input(&input(0, 5)).unwrap();
    assert_eq!(store.input_count().unwrap(), 1);
    let mut other = input(0, 5);
    other.payload = b"something else".to_vec();
    assert!(matches!(store.add_input(&other), Err(StoreError::Conflict { index: 0 })));
    let mut other_block = input(0, 5);
    other_block.block_number = 6;
    assert!(matches!(store.add_input(&other_block), Err(StoreError::Conflict { index: 0 })));
    // Re-adding a completed input does not reset its status.
    store.complete(0, InputStatus::Accepted, None, &[]).unwrap();
    store.add_input(&input(0, 5)).unwrap();
    assert_eq!(store.processed_count().unwrap(), 1);
    assert_eq!(store.next_unprocessed().unwrap(), None);
}

#[test]
fn processed_gives_each_input_its_own_outputs_in_order_whatever_lies_between() {
    let store = Store::open_in_memory().unwrap();
    for i in 0..5 {
        store.add_input(&input(i, 10 + i)).unwrap();
    }
    let report = |text: &str| Output::Report(text.as_bytes().to_vec());
    store.complete(0, InputStatus::Accepted, None, &accepted_outputs()).unwrap();
    // No outputs at all, then an exception with its reports only.
    store.complete(1, InputStatus::Accepted, None, &[]).unwrap();
    store.complete(2, InputStatus::Exception, Some(b"boom"), &[report("r2")]).unwrap();
    store.complete(3, InputStatus::Rejected, None, &[report("r3a"), report("r3b")]).unwrap();
    // Input 4 stays unprocessed: it is not replayed.
    assert_eq!(
        store.processed().unwrap(),
        vec![
            (input(0, 10), InputStatus::Accepted, accepted_outputs()),
            (input(1, 11), InputStatus::Accepted, vec![]),
            (input(2, 12), InputStatus::Exception, vec![report("r2")]),
            (input(3, 13), InputStatus::Rejected, vec![report("r3a"), report("r3b")]),
        ]
    );
}

#[test]
fn inputs_are_stored_in_order_without_gaps() {
    let store = Store::open_in_memory().unwrap();
    assert!(matches!(store.add_input(&input(1, 100)), Err(StoreError::OutOfOrder { index: 1, expected: 0 })));
    store.add_input(&input(0, 100)).unwrap();
    assert!(matches!(store.add_input(&input(2, 100)), Err(StoreError::OutOfOrder { index: 2, expected: 1 })));
    assert_eq!(store.input_count().unwrap(), 1);
}

#[test]
fn truncate_forgets_inputs_from_an_index_on_with_their_outputs() {
    let store = Store::open_in_memory().unwrap();
    for i in 0..4 {
        store.add_input(&input(i, 100 + i)).unwrap();
    }
    store.complete(0, InputStatus::Accepted, None, &accepted_outputs()).unwrap();
    store.complete(1, InputStatus::Accepted, None, &[Output::Notice(b"one".to_vec())]).unwrap();
    store.complete(2, InputStatus::Rejected, None, &[Output::Report(b"two".to_vec())]).unwrap();
    assert_eq!(store.truncate(1).unwrap(), 3);
    assert_eq!(store.input_count().unwrap(), 1);
    assert_eq!(store.processed_count().unwrap(), 1);
    assert_eq!(store.last_input().unwrap(), Some(input(0, 100)));
    assert_eq!(store.count_outputs(OutputKind::Notice, None).unwrap(), 2);
    assert_eq!(store.count_outputs(OutputKind::Report, None).unwrap(), 2);
    // The indices are free again, for what the new chain has there.
    let mut other = input(1, 200);
    other.payload = b"the new chain's input 1".to_vec();
    store.add_input(&other).unwrap();
    assert_eq!(store.next_unprocessed().unwrap(), Some(other));
    assert_eq!(store.truncate(0).unwrap(), 2);
    assert_eq!(store.input_count().unwrap(), 0);
    assert_eq!(store.count_outputs(OutputKind::Notice, None).unwrap(), 0);
}

#[test]
fn a_database_of_the_first_layout_is_emptied_to_be_read_from_l1_again() {
    let db = TempDb::new("layout-1");
    {
        let conn = rusqlite::Connection::open(&db.0).unwrap();
        conn.execute_batch(
            "CREATE TABLE inputs (idx INTEGER PRIMARY KEY, msg_sender BLOB NOT NULL, payload BLOB NOT NULL,
                 block_number INTEGER NOT NULL, timestamp INTEGER NOT NULL, status INTEGER NOT NULL,
                 exception_payload BLOB);
             CREATE TABLE outputs (input_idx INTEGER NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL,
                 kind_idx INTEGER NOT NULL, destination BLOB, value BLOB, payload BLOB NOT NULL);
             INSERT INTO inputs VALUES (0, x'1111111111111111111111111111111111111111', x'00', 5, 6, 1, NULL);
             INSERT INTO outputs VALUES (0, 0, 0, 0, NULL, NULL, x'01');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = Store::open(&db.0).unwrap();
    assert_eq!(store.input_count().unwrap(), 0);
    assert_eq!(store.count_outputs(OutputKind::Notice, None).unwrap(), 0);
    store.add_input(&input(0, 5)).unwrap();
    assert_eq!(store.input(0).unwrap(), Some((input(0, 5), InputStatus::Unprocessed)));
}

#[test]
fn next_unprocessed_follows_index_order() {
    let store = Store::open_in_memory().unwrap();
    for i in [0, 1, 2, 3] {
        store.add_input(&input(i, 100 + i)).unwrap();
    }
    assert_eq!(store.last_input().unwrap(), Some(input(3, 103)));
    let mut order = Vec::new();
    while let Some(next) = store.next_unprocessed().unwrap() {
        order.push(next.index);
        store.complete(next.index, InputStatus::Accepted, None, &[Output::Notice(vec![next.index as u8])]).unwrap();
    }
    assert_eq!(order, vec![0, 1, 2, 3]);
    let replay: Vec<_> = store.processed().unwrap().into_iter().map(|(r, _, o)| (r.index, o)).collect();
    assert_eq!(replay, (0..4).map(|i| (i, vec![Output::Notice(vec![i as u8])])).collect::<Vec<_>>());
}

#[test]
fn complete_is_checked_and_idempotent() {
    let store = Store::open_in_memory().unwrap();
    assert!(matches!(store.complete(0, InputStatus::Accepted, None, &[]), Err(StoreError::MissingInput { index: 0 })));
    store.add_input(&input(0, 1)).unwrap();
    assert!(matches!(store.complete(0, InputStatus::Unprocessed, None, &[]), Err(StoreError::UnprocessedCompletion)));
    let reports = [Output::Report(b"boom".to_vec())];
    store.complete(0, InputStatus::Exception, Some(b"boom"), &reports).unwrap();
    store.complete(0, InputStatus::Exception, Some(b"boom"), &reports).unwrap();
    assert!(matches!(
        store.complete(0, InputStatus::Accepted, None, &reports),
        Err(StoreError::AlreadyComplete { index: 0 })
    ));
    assert!(matches!(
        store.complete(0, InputStatus::Exception, Some(b"boom"), &[]),
        Err(StoreError::AlreadyComplete { index: 0 })
    ));
    assert_eq!(store.processed().unwrap(), vec![(input(0, 1), InputStatus::Exception, reports.to_vec())]);
}

#[test]
fn listings_page_in_reader_order() {
    let store = Store::open_in_memory().unwrap();
    for i in 0..5 {
        store.add_input(&input(i, i)).unwrap();
        store
            .complete(
                i,
                InputStatus::Accepted,
                None,
                &[Output::Notice(vec![i as u8, 0]), Output::Notice(vec![i as u8, 1])],
            )
            .unwrap();
    }
    let range = InputRange { index_greater_than: Some(0), index_lower_than: Some(4) };
    assert_eq!(store.count_inputs(range).unwrap(), 3);
    let page: Vec<u64> = store.inputs(range, 1, 10).unwrap().into_iter().map(|(r, _)| r.index).collect();
    assert_eq!(page, vec![2, 3]);
    assert_eq!(store.count_outputs(OutputKind::Notice, None).unwrap(), 10);
    assert_eq!(store.count_outputs(OutputKind::Notice, Some(3)).unwrap(), 2);
    assert_eq!(store.count_outputs(OutputKind::Voucher, None).unwrap(), 0);
    let notices: Vec<(u64, u64)> =
        store.outputs(OutputKind::Notice, None, 3, 3).unwrap().into_iter().map(|o| (o.input_index, o.index)).collect();
    assert_eq!(notices, vec![(1, 1), (2, 0), (2, 1)]);
}

#[test]
fn a_database_of_another_layout_is_refused() {
    let db = TempDb::new("version");
    // A fresh database, closed (SQLite checkpoints the WAL into the file on the last close), then
    // its layout version patched in the header: SQLite keeps `user_version` as a big-endian u32 at
    // offset 60. This needs no SQLite dependency in the tests.
    drop(Store::open(&db.0).unwrap());
    let mut bytes = std::fs::read(&db.0).unwrap();
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&db.0, bytes).unwrap();
    let err = Store::open(&db.0).unwrap_err();
    assert!(matches!(err, StoreError::Version { found: 99, expected: 2 }), "{err}");
}

//! Portal payload layouts (reference §8), byte-exact against hand-built vectors.
//!
//! Every payload here is built by concatenating hex literals; nothing is produced by the code
//! under test or by an ABI encoder.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ledger::{Address, Asset, ErrorCode, Rejection, U256};
use rollup::{decode_deposit, PortalKind, RollupsVersion};
use testkit::hex::{
    addr, cat, word as u, DISTINCT, ONE_ETHER, W0, W1, W2, W3, W4, W_120, W_140, W_160, W_2_POW_64, W_3E8, W_40, W_60,
    W_80, W_A0, W_C0, W_E0, W_MAX, W_U32_MAX,
};

const V1: RollupsVersion = RollupsVersion::V1;
const V2: RollupsVersion = RollupsVersion::V2;
const BOTH: [RollupsVersion; 2] = [V1, V2];

/// The depositor (20 bytes).
const SENDER: &str = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266";
/// A token contract (20 bytes).
const TOKEN: &str = "5fbdb2315678afecb367f032d93f642f64180aa3";

fn sender() -> Address {
    addr(SENDER)
}

fn token() -> Address {
    addr(TOKEN)
}

fn decode(
    kind: PortalKind,
    version: RollupsVersion,
    payload: &[u8],
) -> Result<(Address, Vec<(Asset, U256)>), Rejection> {
    decode_deposit(kind, version, payload)
}

#[track_caller]
fn assert_code(result: Result<(Address, Vec<(Asset, U256)>), Rejection>, code: ErrorCode) {
    match result {
        Err(rejection) => assert_eq!(rejection.code, code, "{rejection}"),
        Ok(ok) => panic!("expected {code}, decoded {ok:?}"),
    }
}

/// Every strict prefix of `payload` shorter than `min_len` is a MALFORMED_DEPOSIT.
#[track_caller]
fn assert_prefixes_malformed(kind: PortalKind, version: RollupsVersion, payload: &[u8], min_len: usize) {
    for len in 0..min_len {
        match decode(kind, version, &payload[..len]) {
            Err(r) => assert_eq!(r.code, ErrorCode::MalformedDeposit, "{kind:?} {version} truncated to {len}: {r}"),
            Ok(ok) => panic!("{kind:?} {version} truncated to {len} bytes decoded as {ok:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ether: [0:20] sender, [20:52] value, [52:] execLayerData. Same in v1 and v2.

#[test]
fn ether_deposit_without_exec_layer_data() {
    let payload = cat(&[SENDER, ONE_ETHER]);
    assert_eq!(payload.len(), 52);
    let expected_value = U256::from(1_000_000_000_000_000_000u64);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Ether, v, &payload).unwrap(), (sender(), vec![(Asset::Eth, expected_value)]));
    }
}

#[test]
fn ether_deposit_with_exec_layer_data_ignores_the_tail() {
    let payload = cat(&[SENDER, DISTINCT, "deadbeef", "7b7d"]);
    let expected = (sender(), vec![(Asset::Eth, u(DISTINCT))]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Ether, v, &payload).unwrap(), expected);
    }
    // The value is read big-endian: its last byte is the least significant.
    assert_eq!(u(DISTINCT).low_u64(), 0x191a_1b1c_1d1e_1f20);
}

#[test]
fn ether_deposit_of_the_maximum_value() {
    let payload = cat(&[SENDER, W_MAX]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Ether, v, &payload).unwrap(), (sender(), vec![(Asset::Eth, U256::MAX)]));
    }
}

#[test]
fn ether_deposit_truncated_is_malformed() {
    let payload = cat(&[SENDER, ONE_ETHER]);
    for v in BOTH {
        assert_prefixes_malformed(PortalKind::Ether, v, &payload, 52);
    }
}

// ---------------------------------------------------------------------------------------------
// ERC-20 v1: [0:1] success, [1:21] token, [21:41] sender, [41:73] amount, [73:] execLayerData.

#[test]
fn erc20_v1_success_byte_01_is_credited() {
    let expected = (sender(), vec![(Asset::Erc20(token()), U256::from(1000))]);
    let payload = cat(&["01", TOKEN, SENDER, W_3E8]);
    assert_eq!(payload.len(), 73);
    assert_eq!(decode(PortalKind::Erc20, V1, &payload).unwrap(), expected);
    let with_tail = cat(&["01", TOKEN, SENDER, W_3E8, "cafebabe"]);
    assert_eq!(decode(PortalKind::Erc20, V1, &with_tail).unwrap(), expected);
    let distinct = cat(&["01", TOKEN, SENDER, DISTINCT]);
    assert_eq!(
        decode(PortalKind::Erc20, V1, &distinct).unwrap(),
        (sender(), vec![(Asset::Erc20(token()), u(DISTINCT))])
    );
}

#[test]
fn erc20_v1_success_byte_00_is_deposit_failed() {
    let payload = cat(&["00", TOKEN, SENDER, W_3E8]);
    assert_code(decode(PortalKind::Erc20, V1, &payload), ErrorCode::DepositFailed);
    let with_tail = cat(&["00", TOKEN, SENDER, W_3E8, "cafebabe"]);
    assert_code(decode(PortalKind::Erc20, V1, &with_tail), ErrorCode::DepositFailed);
}

#[test]
fn erc20_v1_other_success_bytes_are_malformed() {
    for flag in ["02", "ff", "10", "80"] {
        let payload = cat(&[flag, TOKEN, SENDER, W_3E8]);
        assert_code(decode(PortalKind::Erc20, V1, &payload), ErrorCode::MalformedDeposit);
    }
}

#[test]
fn erc20_v1_truncated_is_malformed_whatever_the_flag() {
    for flag in ["01", "00"] {
        let payload = cat(&[flag, TOKEN, SENDER, W_3E8]);
        assert_prefixes_malformed(PortalKind::Erc20, V1, &payload, 73);
    }
}

// ERC-20 v2: [0:20] token, [20:40] sender, [40:72] amount, [72:] execLayerData.

#[test]
fn erc20_v2_has_no_success_byte() {
    let expected = (sender(), vec![(Asset::Erc20(token()), U256::from(1000))]);
    let payload = cat(&[TOKEN, SENDER, W_3E8]);
    assert_eq!(payload.len(), 72);
    assert_eq!(decode(PortalKind::Erc20, V2, &payload).unwrap(), expected);
    let with_tail = cat(&[TOKEN, SENDER, W_3E8, "cafebabe"]);
    assert_eq!(decode(PortalKind::Erc20, V2, &with_tail).unwrap(), expected);
}

#[test]
fn erc20_v2_truncated_is_malformed() {
    let payload = cat(&[TOKEN, SENDER, W_3E8]);
    assert_prefixes_malformed(PortalKind::Erc20, V2, &payload, 72);
}

#[test]
fn erc20_bytes_decoded_with_the_wrong_version_do_not_give_the_right_credit() {
    let right = (sender(), vec![(Asset::Erc20(token()), U256::from(1000))]);

    // A 72-byte v2 payload is one byte short of the v1 layout.
    let v2 = cat(&[TOKEN, SENDER, W_3E8]);
    assert_code(decode(PortalKind::Erc20, V1, &v2), ErrorCode::MalformedDeposit);
    // With execLayerData it is long enough, but the token's first byte (0x5f) is no flag.
    let v2_tail = cat(&[TOKEN, SENDER, W_3E8, "01"]);
    assert_code(decode(PortalKind::Erc20, V1, &v2_tail), ErrorCode::MalformedDeposit);
    // A token whose first byte is 0x01 passes as a flag: the decode "succeeds" but shifted.
    let token01 = "01bdb2315678afecb367f032d93f642f64180aa3";
    let v2_flaglike = cat(&[token01, SENDER, W_3E8, "ab"]);
    let good = decode(PortalKind::Erc20, V2, &v2_flaglike).unwrap();
    assert_eq!(good, (sender(), vec![(Asset::Erc20(addr(token01)), U256::from(1000))]));
    let shifted = decode(PortalKind::Erc20, V1, &v2_flaglike).unwrap();
    assert_ne!(shifted, good);
    assert_eq!(
        shifted,
        (
            addr("9fd6e51aad88f6f4ce6ab8827279cfffb9226600"),
            vec![(
                Asset::Erc20(addr("bdb2315678afecb367f032d93f642f64180aa3f3")),
                u("000000000000000000000000000000000000000000000000000000000003e8ab")
            )]
        )
    );

    // A v1 payload read as v2: the flag byte shifts every field by one.
    let v1 = cat(&["01", TOKEN, SENDER, W_3E8]);
    let misread = decode(PortalKind::Erc20, V2, &v1).unwrap();
    assert_ne!(misread, right);
    assert_eq!(
        misread,
        (
            addr("a3f39fd6e51aad88f6f4ce6ab8827279cfffb922"),
            vec![(
                Asset::Erc20(addr("015fbdb2315678afecb367f032d93f642f64180a")),
                u("6600000000000000000000000000000000000000000000000000000000000003")
            )]
        )
    );
    // So would a failed v1 deposit (flag 0): the version must come from the input, not a guess.
    let v1_failed = cat(&["00", TOKEN, SENDER, W_3E8]);
    assert_ne!(decode(PortalKind::Erc20, V2, &v1_failed).unwrap(), right);
}

// ---------------------------------------------------------------------------------------------
// ERC-721: [0:20] token, [20:40] sender, [40:72] tokenId, [72:] abi.encode(bytes, bytes).

#[test]
fn erc721_deposit_as_in_the_reference_example() {
    // token ‖ sender ‖ tokenId=1 ‖ 0x…40 ‖ 0x…60 ‖ 0 ‖ 0 (docs version-2.0 marketplace tutorial).
    let payload = cat(&[TOKEN, SENDER, W1, W_40, W_60, W0, W0]);
    assert_eq!(payload.len(), 40 + 5 * 32);
    let expected = (sender(), vec![(Asset::Erc721(token(), U256::from(1)), U256::from(1))]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Erc721, v, &payload).unwrap(), expected);
    }
}

#[test]
fn erc721_deposit_with_data_and_a_wide_token_id() {
    // baseLayerData = 0xdeadbeef (padded), execLayerData = 0x7b7d (padded).
    let base = "deadbeef00000000000000000000000000000000000000000000000000000000";
    let exec = "7b7d000000000000000000000000000000000000000000000000000000000000";
    let payload = cat(&[TOKEN, SENDER, DISTINCT, W_40, W_80, W4, base, W2, exec]);
    let expected = (sender(), vec![(Asset::Erc721(token(), u(DISTINCT)), U256::one())]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Erc721, v, &payload).unwrap(), expected);
    }
}

#[test]
fn erc721_deposit_truncated_is_malformed() {
    let payload = cat(&[TOKEN, SENDER, W1, W_40, W_60, W0, W0]);
    for v in BOTH {
        assert_prefixes_malformed(PortalKind::Erc721, v, &payload, 72);
    }
}

// ---------------------------------------------------------------------------------------------
// ERC-1155 single: [0:20] token, [20:40] sender, [40:72] id, [72:104] value,
// [104:] abi.encode(bytes, bytes).

#[test]
fn erc1155_single_deposit() {
    let payload = cat(&[TOKEN, SENDER, W4, W_3E8, W_40, W_60, W0, W0]);
    assert_eq!(payload.len(), 40 + 6 * 32);
    let expected = (sender(), vec![(Asset::Erc1155(token(), U256::from(4)), U256::from(1000))]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Erc1155Single, v, &payload).unwrap(), expected);
    }
    let wide = cat(&[TOKEN, SENDER, DISTINCT, W_MAX, W_40, W_60, W0, W0]);
    let expected = (sender(), vec![(Asset::Erc1155(token(), u(DISTINCT)), U256::MAX)]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Erc1155Single, v, &wide).unwrap(), expected);
    }
}

#[test]
fn erc1155_single_deposit_truncated_is_malformed() {
    let payload = cat(&[TOKEN, SENDER, W4, W_3E8, W_40, W_60, W0, W0]);
    for v in BOTH {
        assert_prefixes_malformed(PortalKind::Erc1155Single, v, &payload, 104);
    }
}

// ---------------------------------------------------------------------------------------------
// ERC-1155 batch: [0:20] token, [20:40] sender,
// [40:] abi.encode(uint256[] ids, uint256[] values, bytes base, bytes exec).
// Offsets in the ABI head are relative to byte 40.

/// ids = [1, 4], values = [1000, 3], base = exec = "".
fn batch_two() -> Vec<u8> {
    cat(&[
        TOKEN, SENDER, //
        W_80, W_E0, W_140, W_160, // head: offsets of ids, values, base, exec
        W2, W1, W4, // ids at 0x80: length 2, then 1, 4
        W2, W_3E8, W3, // values at 0xe0: length 2, then 1000, 3
        W0, // base at 0x140: length 0
        W0, // exec at 0x160: length 0
    ])
}

#[test]
fn erc1155_batch_deposit() {
    let payload = batch_two();
    assert_eq!(payload.len(), 40 + 0x180);
    let expected = (
        sender(),
        vec![
            (Asset::Erc1155(token(), U256::from(1)), U256::from(1000)),
            (Asset::Erc1155(token(), U256::from(4)), U256::from(3)),
        ],
    );
    for v in BOTH {
        assert_eq!(decode(PortalKind::Erc1155Batch, v, &payload).unwrap(), expected);
    }
}

#[test]
fn erc1155_batch_deposit_with_layer_data() {
    // base = 0xdeadbeef, exec = 0x7b7d, each padded to a word.
    let payload = cat(&[
        TOKEN,
        SENDER,
        W_80,
        W_C0,
        "0000000000000000000000000000000000000000000000000000000000000100",
        W_140,
        W1,
        DISTINCT, // ids at 0x80
        W1,
        W_MAX, // values at 0xc0
        W4,
        "deadbeef00000000000000000000000000000000000000000000000000000000", // base at 0x100
        W2,
        "7b7d000000000000000000000000000000000000000000000000000000000000", // exec at 0x140
    ]);
    let expected = (sender(), vec![(Asset::Erc1155(token(), u(DISTINCT)), U256::MAX)]);
    for v in BOTH {
        assert_eq!(decode(PortalKind::Erc1155Batch, v, &payload).unwrap(), expected);
    }
}

#[test]
fn erc1155_batch_mismatched_lengths_are_malformed() {
    // ids = [1, 4], values = [1000].
    let payload = cat(&[TOKEN, SENDER, W_80, W_E0, W_120, W_140, W2, W1, W4, W1, W_3E8, W0, W0]);
    for v in BOTH {
        assert_code(decode(PortalKind::Erc1155Batch, v, &payload), ErrorCode::MalformedDeposit);
    }
    // ids = [1], values = [1000, 3].
    let payload = cat(&[TOKEN, SENDER, W_80, W_C0, W_120, W_140, W1, W1, W2, W_3E8, W3, W0, W0]);
    for v in BOTH {
        assert_code(decode(PortalKind::Erc1155Batch, v, &payload), ErrorCode::MalformedDeposit);
    }
}

#[test]
fn erc1155_batch_empty_arrays_are_malformed() {
    let payload = cat(&[TOKEN, SENDER, W_80, W_A0, W_C0, W_E0, W0, W0, W0, W0]);
    for v in BOTH {
        assert_code(decode(PortalKind::Erc1155Batch, v, &payload), ErrorCode::MalformedDeposit);
    }
}

#[test]
fn erc1155_batch_truncated_is_malformed() {
    // The last word (exec's length) is needed, so every strict prefix is malformed.
    let payload = batch_two();
    for v in BOTH {
        assert_prefixes_malformed(PortalKind::Erc1155Batch, v, &payload, payload.len());
    }
}

// A counting allocator, to show that hostile length words do not make the decoder reserve
// memory in proportion to the claimed length. It counts per thread, so parallel tests do not
// disturb each other.
struct CountingAlloc;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    let _ = ALLOCATED.try_with(|c| c.set(c.get().saturating_add(bytes)));
}

#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` unchanged; counting touches only a const-initialised
// thread-local `Cell` without destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Bytes allocated on this thread while running `f`.
fn allocated_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

#[test]
fn the_allocation_counter_sees_large_allocations() {
    let (v, bytes) = allocated_during(|| vec![0u8; 1 << 20]);
    assert_eq!(v.len(), 1 << 20);
    assert!(bytes >= 1 << 20, "counted {bytes}");
}

#[test]
fn erc1155_batch_huge_lengths_and_offsets_error_without_panicking_or_allocating() {
    let hostile = [
        // ids length 2^64.
        ("ids length 2^64", cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W_2_POW_64, W1, W4, W2, W_3E8, W3, W0, W0])),
        // ids length 2^256 - 1.
        ("ids length 2^256-1", cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W_MAX, W1, W4, W2, W_3E8, W3, W0, W0])),
        // ids length 2^32 - 1, with only two elements present.
        (
            "ids length 2^32-1",
            cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W_U32_MAX, W1, W4, W2, W_3E8, W3, W0, W0]),
        ),
        // values length 2^64.
        (
            "values length 2^64",
            cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W2, W1, W4, W_2_POW_64, W_3E8, W3, W0, W0]),
        ),
        // exec bytes length 2^64 and 2^32 - 1.
        (
            "exec length 2^64",
            cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W2, W1, W4, W2, W_3E8, W3, W0, W_2_POW_64]),
        ),
        (
            "exec length 2^32-1",
            cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W2, W1, W4, W2, W_3E8, W3, W0, W_U32_MAX]),
        ),
        // Offsets far outside the payload.
        ("ids offset 2^64", cat(&[TOKEN, SENDER, W_2_POW_64, W_E0, W_140, W_160, W2, W1, W4, W2, W_3E8, W3, W0, W0])),
        ("ids offset 2^32-1", cat(&[TOKEN, SENDER, W_U32_MAX, W_E0, W_140, W_160, W2, W1, W4, W2, W_3E8, W3, W0, W0])),
        ("base offset 2^256-1", cat(&[TOKEN, SENDER, W_80, W_E0, W_MAX, W_160, W2, W1, W4, W2, W_3E8, W3, W0, W0])),
        // Only the length word of ids, nothing after it.
        ("ids length 2^64, no data", cat(&[TOKEN, SENDER, W_80, W_E0, W_140, W_160, W_2_POW_64])),
    ];
    for (what, payload) in hostile {
        for v in BOTH {
            let result =
                std::panic::catch_unwind(|| allocated_during(|| decode(PortalKind::Erc1155Batch, v, &payload)));
            let Ok((result, bytes)) = result else { panic!("{what} ({v}): the decoder panicked") };
            assert_code(result, ErrorCode::MalformedDeposit);
            assert!(
                bytes < 64 * 1024,
                "{what} ({v}): the decoder allocated {bytes} bytes for a {}-byte payload",
                payload.len()
            );
        }
    }
}

#[test]
fn no_portal_panics_on_short_or_junk_payloads() {
    // Arbitrary short and odd-sized inputs to every portal: errors, never panics.
    let kinds =
        [PortalKind::Ether, PortalKind::Erc20, PortalKind::Erc721, PortalKind::Erc1155Single, PortalKind::Erc1155Batch];
    let junk = cat(&[TOKEN, SENDER, W_MAX, W_MAX, W_MAX, W_MAX, W_MAX]);
    for kind in kinds {
        for v in BOTH {
            for len in 0..=junk.len() {
                let result = std::panic::catch_unwind(|| decode(kind, v, &junk[..len]));
                assert!(result.is_ok(), "{kind:?} {v} panicked on {len} bytes");
            }
        }
    }
}

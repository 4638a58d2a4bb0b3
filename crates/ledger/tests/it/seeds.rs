//! One test per mistake the seed nodes made (ledger.md, "What the seed nodes got wrong").

use ledger::block::{leading_zero_bits, Header};
use ledger::{Action, Address, Asset, Config, ErrorCode, Input, Ledger, Op, U256};

const ALICE: Address = Address([0xa1; 20]);
const BOB: Address = Address([0xb0; 20]);
const CAROL: Address = Address([0xc0; 20]);

fn ledger() -> Ledger {
    Ledger::new(Config { difficulty_bits: 6, min_difficulty_bits: 2, max_difficulty_bits: 10, ..Config::default() })
        .unwrap()
}

fn input(index: u64, sender: Address, timestamp: u64, action: Action) -> Input {
    Input { index, sender, timestamp, app_contract: None, action }
}

fn deposit(l: &mut Ledger, index: u64, who: Address, amount: u64) {
    let action = Action::Deposit { depositor: who, credits: vec![(Asset::Eth, U256::from(amount))] };
    l.advance(input(index, Address([0xee; 20]), 10, action)).unwrap().unwrap();
}

fn transfer(to: Address, amount: u64) -> Action {
    Action::Op(Op::Transfer { to, asset: Asset::Eth, amount: U256::from(amount) })
}

#[test]
fn the_pool_never_accepts_an_overspend() {
    let mut l = ledger();
    deposit(&mut l, 0, ALICE, 1000);
    l.advance(input(1, ALICE, 10, Action::Op(Op::Mine))).unwrap().unwrap();
    // Confirmed 1000; 600 already pending to Bob: another 600 must be refused, though the
    // confirmed balance alone would cover it.
    l.advance(input(2, ALICE, 11, transfer(BOB, 600))).unwrap().unwrap();
    let second = l.advance(input(3, ALICE, 12, transfer(CAROL, 600))).unwrap();
    assert_eq!(second.unwrap_err().code, ErrorCode::InsufficientFunds);
    assert_eq!(l.confirmed_balance(&ALICE, &Asset::Eth), U256::from(1000));
    assert_eq!(l.pending_balance(&ALICE, &Asset::Eth), U256::from(400));
    l.advance(input(4, BOB, 13, Action::Op(Op::Mine))).unwrap().unwrap();
    assert_eq!(l.confirmed_balance(&ALICE, &Asset::Eth), U256::from(400));
}

#[test]
fn a_rejected_input_never_half_applies() {
    let mut l = ledger();
    deposit(&mut l, 0, ALICE, 1000);
    // A batch whose second credit overflows the supply: the first credit must not land.
    let action =
        Action::Deposit { depositor: BOB, credits: vec![(Asset::Eth, U256::from(5)), (Asset::Eth, U256::MAX)] };
    let before = l.fingerprint();
    let out = l.advance(input(1, Address([0xee; 20]), 1000, action)).unwrap();
    assert_eq!(out.unwrap_err().code, ErrorCode::Overflow);
    // The time trigger was due (the pool waits and 990 s passed), yet nothing was sealed.
    assert_eq!(l.fingerprint(), before);
    assert_eq!(l.height(), 0);
    assert_eq!(l.pending_balance(&BOB, &Asset::Eth), U256::zero());
}

#[test]
fn a_nonce_try_does_not_rehash_the_transactions() {
    // A block of 50 transactions is mined from its 200-byte header alone: a search that sees
    // nothing but the header (through its midstate) finds the very nonce the ledger sealed with.
    let mut l = ledger();
    for i in 0..50 {
        deposit(&mut l, i, Address([i as u8; 20]), 1 + i);
    }
    l.advance(input(50, ALICE, 10, Action::Op(Op::Mine))).unwrap().unwrap();
    let sealed = l.tip().header.clone();
    assert_eq!(sealed.tx_count, 50);
    let mut unmined = sealed.clone();
    unmined.nonce = 0;
    let found = ledger::block::NonceSearch::new(&unmined).search(0, 1 << 20);
    assert_eq!(found, Some(sealed.nonce));
    assert_eq!(ledger::block::NONCE_OFFSET % 64, 0, "the bytes before the nonce must be whole SHA-256 blocks");
}

#[test]
fn every_block_has_its_own_hash_taken_over_its_header_bytes() {
    let mut l = ledger();
    for i in 0..6 {
        l.advance(input(i, ALICE, 10 + i, Action::Op(Op::Mine))).unwrap().unwrap();
    }
    let hashes: std::collections::BTreeSet<_> = (0..=6).map(|h| l.block(h).unwrap().hash()).collect();
    assert_eq!(hashes.len(), 7, "two blocks share a hash");
    for h in 1..=6 {
        let b = l.block(h).unwrap();
        assert_eq!(b.hash(), ledger::merkle::sha256(&[&b.header.encode()]));
        assert_eq!(b.header.prev_hash, l.block(h - 1).unwrap().hash());
    }
}

#[test]
fn a_block_without_proof_of_work_is_refused() {
    let mut l = ledger();
    l.advance(input(0, ALICE, 10, Action::Op(Op::Mine))).unwrap().unwrap();
    let mut header = l.tip().header.clone();
    assert!(leading_zero_bits(&header.hash().0) >= header.difficulty);
    // Any other nonce that misses the target is refused on decode.
    header.nonce = (header.nonce + 1..)
        .find(|&n| {
            let mut h = header.clone();
            h.nonce = n;
            h.check_pow().is_err()
        })
        .unwrap();
    assert!(Header::decode(&header.encode()).is_err());
}

#[test]
fn amounts_are_integers_never_floats() {
    for text in ["1.5", "1e3", "0.1", "-1", "NaN"] {
        let payload = format!(r#"{{"op":"transfer","to":"{BOB}","asset":"ETH","amount":"{text}"}}"#);
        assert_eq!(Op::decode(payload.as_bytes()).unwrap_err().code, ErrorCode::InvalidAmount, "{text}");
    }
    // Precision beyond 2^53 is kept exactly.
    let big = "123456789012345678901234567890";
    let payload = format!(r#"{{"op":"transfer","to":"{BOB}","asset":"ETH","amount":"{big}"}}"#);
    let Op::Transfer { amount, .. } = Op::decode(payload.as_bytes()).unwrap() else { panic!() };
    assert_eq!(amount.to_string(), big);
}

#[test]
fn difficulty_follows_input_timestamps_not_the_wall_clock() {
    // Two ledgers fed the same inputs agree on every difficulty, and the difficulty moves with
    // the timestamps carried by the inputs: fast blocks up, slow blocks down.
    let run = || {
        let mut l = ledger();
        let mut t = 100;
        for (i, gap) in [1u64, 1, 1, 500, 500, 500].into_iter().enumerate() {
            t += gap;
            l.advance(input(i as u64, ALICE, t, Action::Op(Op::Mine))).unwrap().unwrap();
        }
        (1..=6).map(|h| l.block(h).unwrap().header.difficulty).collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a, vec![5, 6, 7, 6, 5, 4]);
}

//! Model-based and property tests of the ledger state machine.
//!
//! The model test replays random input streams through the real ledger and through a naive
//! reference ledger written here from `shared/design/ledger.md` (plain maps, a cloned state per
//! input for atomicity, real seals in the middle of an input). Any disagreement in outcome,
//! error code, balance, supply, pool or block header fields fails the test.

use std::collections::BTreeMap;

use ledger::{Action, Address, Asset, Config, ErrorCode, Input, Ledger, Op, Tx, TxKind, TxLocation, U256};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use crate::proptest_config;
use crate::streams::{assets, scenario, ADDRESSES};

// ---------------------------------------------------------------------------------------------
// The naive reference ledger.
// ---------------------------------------------------------------------------------------------

/// A sealed block as the model sees it: the header fields it can predict and the transactions.
#[derive(Clone, Debug)]
struct ModelBlock {
    timestamp: u64,
    difficulty: u32,
    miner: Address,
    reward: U256,
    txs: Vec<Tx>,
}

/// The reference ledger: whole maps for both views, copied on every seal.
#[derive(Clone, Debug)]
struct Model {
    config: Config,
    confirmed: BTreeMap<(Address, Asset), U256>,
    pending: BTreeMap<(Address, Asset), U256>,
    confirmed_supply: BTreeMap<Asset, U256>,
    pending_supply: BTreeMap<Asset, U256>,
    pool: Vec<Tx>,
    blocks: Vec<ModelBlock>,
    dapp: Option<Address>,
}

/// What the model predicts for an accepted input: the transactions it created and the heights
/// it sealed.
type ModelReceipt = (Vec<Tx>, Vec<u64>);

fn get<K: Ord>(map: &BTreeMap<K, U256>, key: &K) -> U256 {
    map.get(key).copied().unwrap_or_default()
}

impl Model {
    fn new(config: Config) -> Model {
        let genesis = ModelBlock {
            timestamp: config.genesis_timestamp,
            difficulty: config.difficulty_bits,
            miner: Address::ZERO,
            reward: U256::zero(),
            txs: Vec::new(),
        };
        Model {
            dapp: config.dapp_address,
            config,
            confirmed: BTreeMap::new(),
            pending: BTreeMap::new(),
            confirmed_supply: BTreeMap::new(),
            pending_supply: BTreeMap::new(),
            pool: Vec::new(),
            blocks: vec![genesis],
        }
    }

    fn height(&self) -> u64 {
        self.blocks.len() as u64 - 1
    }

    fn tip(&self) -> &ModelBlock {
        &self.blocks[self.blocks.len() - 1]
    }

    /// Applies an input to a copy and keeps the copy only if the whole input was valid, so a
    /// rejection changes nothing (not even the time-triggered seal).
    fn advance(&mut self, input: &Input) -> Result<ModelReceipt, ErrorCode> {
        let mut next = self.clone();
        let receipt = next.apply(input)?;
        *self = next;
        Ok(receipt)
    }

    fn apply(&mut self, input: &Input) -> Result<ModelReceipt, ErrorCode> {
        let acting = match &input.action {
            Action::Deposit { depositor, .. } => *depositor,
            _ => input.sender,
        };
        if input.app_contract.is_some() {
            self.dapp = input.app_contract;
        }
        let mut receipt = (Vec::new(), Vec::new());
        // A waiting pool is sealed first once the input is a block interval past the tip; a
        // `mine` seals the pool itself instead.
        let is_mine = matches!(input.action, Action::Op(Op::Mine));
        if !is_mine && !self.pool.is_empty() && input.timestamp >= self.tip().timestamp + self.config.block_interval {
            receipt.1.push(self.seal(acting, input.timestamp));
        }
        let tx = |kind, sub, from, to, asset, amount| Tx { kind, input: input.index, sub, from, to, asset, amount };
        match &input.action {
            Action::Deposit { depositor, credits } => {
                // A zero entry of a batch is skipped (it locked nothing on L1); a deposit whose
                // every entry is zero is refused.
                if credits.iter().all(|(_, amount)| amount.is_zero()) {
                    return Err(ErrorCode::InvalidAmount);
                }
                for (sub, &(asset, amount)) in (0u32..).zip(credits) {
                    if amount.is_zero() {
                        continue;
                    }
                    let supply = get(&self.pending_supply, &asset);
                    let new_supply = supply.checked_add(amount).ok_or(ErrorCode::Overflow)?;
                    if asset.is_nft() && !supply.is_zero() {
                        return Err(ErrorCode::DuplicateNft);
                    }
                    let balance = get(&self.pending, &(*depositor, asset));
                    self.pending.insert((*depositor, asset), balance + amount);
                    self.pending_supply.insert(asset, new_supply);
                    let deposit = tx(TxKind::Deposit, sub, *depositor, *depositor, asset, amount);
                    self.admit(deposit, acting, input.timestamp, &mut receipt);
                }
            }
            Action::Op(Op::Transfer { to, asset, amount }) => {
                self.debit(acting, *asset, *amount)?;
                let balance = get(&self.pending, &(*to, *asset));
                self.pending.insert((*to, *asset), balance + *amount);
                let transfer = tx(TxKind::Transfer, 0, acting, *to, *asset, *amount);
                self.admit(transfer, acting, input.timestamp, &mut receipt);
            }
            Action::Op(Op::Withdraw { asset, amount }) => {
                if self.dapp.is_none() {
                    return Err(ErrorCode::DappAddressUnknown);
                }
                self.debit(acting, *asset, *amount)?;
                let supply = get(&self.pending_supply, asset);
                self.pending_supply.insert(*asset, supply - *amount);
                let withdraw = tx(TxKind::Withdraw, 0, acting, acting, *asset, *amount);
                self.admit(withdraw, acting, input.timestamp, &mut receipt);
            }
            Action::Op(Op::Mine) => receipt.1.push(self.seal(acting, input.timestamp)),
            Action::SetDappAddress(address) => self.dapp = Some(*address),
        }
        Ok(receipt)
    }

    /// Takes `amount` from `account`'s pending balance, or says why it cannot.
    fn debit(&mut self, account: Address, asset: Asset, amount: U256) -> Result<(), ErrorCode> {
        if amount.is_zero() {
            return Err(ErrorCode::InvalidAmount);
        }
        let balance = get(&self.pending, &(account, asset));
        let left = balance.checked_sub(amount).ok_or(ErrorCode::InsufficientFunds)?;
        self.pending.insert((account, asset), left);
        Ok(())
    }

    /// Puts a transaction in the pool and seals as soon as the pool is full, mined by the
    /// account behind the input.
    fn admit(&mut self, tx: Tx, acting: Address, timestamp: u64, receipt: &mut ModelReceipt) {
        receipt.0.push(tx.clone());
        self.pool.push(tx);
        if self.pool.len() >= self.config.max_block_txs as usize {
            receipt.1.push(self.seal(acting, timestamp));
        }
    }

    fn seal(&mut self, miner: Address, timestamp: u64) -> u64 {
        let tip = self.tip();
        let timestamp = timestamp.max(tip.timestamp);
        let elapsed = timestamp - tip.timestamp;
        let interval = self.config.block_interval;
        let difficulty = match elapsed.cmp(&interval) {
            std::cmp::Ordering::Less => tip.difficulty + 1,
            std::cmp::Ordering::Greater => tip.difficulty.saturating_sub(1),
            std::cmp::Ordering::Equal => tip.difficulty,
        }
        .clamp(self.config.min_difficulty_bits, self.config.max_difficulty_bits);
        let reward = self.config.block_reward;
        if !reward.is_zero() {
            let balance = get(&self.pending, &(miner, Asset::Coin));
            self.pending.insert((miner, Asset::Coin), balance + reward);
            let supply = get(&self.pending_supply, &Asset::Coin);
            self.pending_supply.insert(Asset::Coin, supply + reward);
        }
        self.confirmed = self.pending.clone();
        self.confirmed_supply = self.pending_supply.clone();
        let txs = std::mem::take(&mut self.pool);
        self.blocks.push(ModelBlock { timestamp, difficulty, miner, reward, txs });
        self.height()
    }
}

/// The code the decoder refuses `op` with, if any: `Op::validate`'s rules, applied in the shell
/// so that an op failing them never reaches the ledger.
fn decode_rejection(op: &Op) -> Option<ErrorCode> {
    op.validate().err().map(|r| r.code)
}

fn sum_by_asset(map: &BTreeMap<(Address, Asset), U256>, asset: Asset) -> U256 {
    map.iter().filter(|((_, a), _)| *a == asset).fold(U256::zero(), |sum, (_, v)| sum + *v)
}

/// Compares every balance, supply and the pool the model predicts with the ledger's views.
fn compare(ledger: &Ledger, model: &Model) -> Result<(), TestCaseError> {
    for address in ADDRESSES {
        for asset in assets() {
            let key = (address, asset);
            prop_assert_eq!(
                ledger.confirmed_balance(&address, &asset),
                get(&model.confirmed, &key),
                "confirmed {} of {}",
                asset,
                address
            );
            prop_assert_eq!(
                ledger.pending_balance(&address, &asset),
                get(&model.pending, &key),
                "pending {} of {}",
                asset,
                address
            );
        }
    }
    for asset in assets() {
        prop_assert_eq!(ledger.confirmed_supply(&asset), get(&model.confirmed_supply, &asset), "confirmed {}", asset);
        prop_assert_eq!(ledger.pending_supply(&asset), get(&model.pending_supply, &asset), "pending {}", asset);
        // The model's own sanity: value is conserved, so balances add up to the supply.
        prop_assert_eq!(sum_by_asset(&model.confirmed, asset), get(&model.confirmed_supply, &asset));
        prop_assert_eq!(sum_by_asset(&model.pending, asset), get(&model.pending_supply, &asset));
    }
    prop_assert_eq!(ledger.height(), model.height());
    let pool: Vec<&Tx> = ledger.pool().iter().map(|(_, tx)| tx).collect();
    prop_assert_eq!(pool, model.pool.iter().collect::<Vec<_>>());
    prop_assert_eq!(ledger.dapp_address(), model.dapp);
    Ok(())
}

/// Compares a sealed block's header fields and transactions with the model's block.
fn compare_block(ledger: &Ledger, model: &Model, height: u64) -> Result<(), TestCaseError> {
    let Some(block) = ledger.block(height) else {
        return Err(TestCaseError::fail(format!("the ledger has no block {height}")));
    };
    let expected = &model.blocks[height as usize];
    let header = &block.header;
    prop_assert_eq!(header.height, height);
    prop_assert_eq!(header.timestamp, expected.timestamp, "timestamp of block {}", height);
    prop_assert_eq!(header.difficulty, expected.difficulty, "difficulty of block {}", height);
    prop_assert_eq!(header.miner, expected.miner, "miner of block {}", height);
    prop_assert_eq!(header.reward, expected.reward, "reward of block {}", height);
    prop_assert_eq!(header.tx_count as usize, expected.txs.len(), "tx count of block {}", height);
    let stored = ledger.block_txs(block);
    let txs: Vec<&Tx> = stored.iter().map(|(_, tx)| tx).collect();
    prop_assert_eq!(txs, expected.txs.iter().collect::<Vec<_>>(), "transactions of block {}", height);
    prop_assert!(header.check_pow().is_ok(), "block {} lacks its proof of work", height);
    Ok(())
}

/// Compares every account's `txs/<address>` answer, followed page by page, with the model's
/// blocks and pool: sealed transactions newest first with their block, then pending ones.
fn compare_account_txs(ledger: &Ledger, model: &Model) -> Result<(), TestCaseError> {
    for address in ADDRESSES {
        let touches = |tx: &Tx| tx.from == address || tx.to == address;
        let mut expected: Vec<(String, Value)> = Vec::new();
        for (height, block) in model.blocks.iter().enumerate().rev() {
            for tx in block.txs.iter().rev().filter(|tx| touches(tx)) {
                expected.push((tx.hash().to_string(), Value::from(height)));
            }
        }
        expected.extend(model.pool.iter().filter(|tx| touches(tx)).map(|tx| (tx.hash().to_string(), Value::Null)));
        let mut listed = Vec::new();
        let mut offset = 0;
        loop {
            let page = ledger
                .query(&format!("txs/{address}?offset={offset}"))
                .map_err(|r| TestCaseError::fail(format!("txs/{address}: {r}")))?;
            for tx in page["txs"].as_array().into_iter().flatten() {
                listed.push((tx["hash"].as_str().unwrap_or_default().to_string(), tx["block"].clone()));
            }
            match page["next_offset"].as_u64() {
                Some(next) if next > offset => offset = next,
                Some(next) => {
                    return Err(TestCaseError::fail(format!("txs/{address}: next_offset {next} does not advance")))
                }
                None => break,
            }
        }
        prop_assert_eq!(&listed, &expected, "transactions of {}", address);
    }
    Ok(())
}

fn fatal(f: ledger::Fatal) -> TestCaseError {
    TestCaseError::fail(format!("fatal ledger error: {f}"))
}

/// Replays `inputs` through the ledger and the model and compares them after every input.
fn run_model(config: Config, inputs: Vec<Input>) -> Result<(), TestCaseError> {
    let mut ledger = Ledger::new(config.clone()).map_err(fatal)?;
    let mut model = Model::new(config);
    compare(&ledger, &model)?;
    compare_block(&ledger, &model, 0)?;
    for input in inputs {
        // Ops travel as JSON through `Op::decode`, as in the shell; an op the decoder refuses is
        // counted and never reaches the ledger.
        if let Action::Op(op) = &input.action {
            let decoded = Op::decode(op.to_json().to_string().as_bytes());
            if let Some(code) = decode_rejection(op) {
                prop_assert_eq!(decoded.map_err(|r| r.code), Err(code), "decoding {:?}", op);
                compare(&ledger, &model)?;
                continue;
            }
            prop_assert_eq!(decoded.as_ref().ok(), Some(op), "decoding {:?}", op);
        }
        let expected = model.advance(&input);
        let outcome = ledger.advance(input.clone()).map_err(fatal)?;
        match (outcome, expected) {
            (Ok(receipt), Ok((txs, sealed))) => {
                prop_assert_eq!(receipt.input, input.index);
                let hashes: Vec<_> = txs.iter().map(Tx::hash).collect();
                prop_assert_eq!(&receipt.txs, &hashes, "transactions of {:?}", input);
                prop_assert_eq!(&receipt.sealed, &sealed, "blocks sealed by {:?}", input);
                for &height in &sealed {
                    compare_block(&ledger, &model, height)?;
                }
                for (hash, tx) in hashes.iter().zip(&txs) {
                    let found = ledger.tx(hash);
                    prop_assert_eq!(found.as_ref().map(|(t, _)| t.clone()), Some(tx.clone()));
                    let pending = matches!(found, Some((_, TxLocation::Pending(_))));
                    prop_assert_eq!(pending, model.pool.contains(tx), "location of {:?}", tx);
                }
            }
            (Err(rejection), Err(code)) => {
                prop_assert_eq!(rejection.code, code, "{:?} was rejected: {}", input, rejection.message);
            }
            (outcome, expected) => {
                return Err(TestCaseError::fail(format!(
                    "{input:?}: the ledger answered {outcome:?}, the model expected {expected:?}"
                )));
            }
        }
        compare(&ledger, &model)?;
    }
    compare_account_txs(&ledger, &model)?;
    prop_assert_eq!(ledger.verify_chain(), Ok(()));
    Ok(())
}

/// Everything a rejected input must leave untouched, including the whole `info` answer (its
/// `processed_inputs` counts accepted inputs only, as inside the machine).
fn snapshot(ledger: &Ledger) -> Result<(ledger::Hash, ledger::Hash, u64, Value), TestCaseError> {
    let info = ledger.query("info").map_err(|r| TestCaseError::fail(format!("info: {r}")))?;
    Ok((ledger.fingerprint(), ledger.state_root(), ledger.height(), info))
}

proptest! {
    #![proptest_config(proptest_config(128, "tests/it/proptest-regressions/model.txt"))]

    /// The ledger agrees with the naive model on every outcome and every view.
    #[test]
    fn ledger_matches_a_naive_model((config, inputs) in scenario()) {
        run_model(config, inputs)?;
    }

    /// Two fresh ledgers fed the same inputs answer alike and end byte-identical.
    #[test]
    fn the_same_inputs_give_the_same_ledger((config, inputs) in scenario()) {
        let mut a = Ledger::new(config.clone()).map_err(fatal)?;
        let mut b = Ledger::new(config).map_err(fatal)?;
        for input in inputs {
            let outcome = a.advance(input.clone()).map_err(fatal)?;
            prop_assert_eq!(outcome, b.advance(input).map_err(fatal)?);
        }
        prop_assert_eq!(a.state_root(), b.state_root());
        prop_assert_eq!(a.fingerprint(), b.fingerprint());
        prop_assert_eq!(a.tip().hash(), b.tip().hash());
        prop_assert_eq!(a.query("info"), b.query("info"));
        prop_assert_eq!(a.pool(), b.pool());
        for height in 0..=a.height() {
            prop_assert_eq!(a.block(height), b.block(height));
        }
    }

    /// A rejected input leaves the fingerprint (confirmed and pending state), the state root,
    /// the height and the `info` answer unchanged. Ops go to the ledger directly here, without
    /// the decoder's filter, so the ledger's own checks are exercised too.
    #[test]
    fn a_rejected_input_changes_nothing((config, inputs) in scenario()) {
        let mut ledger = Ledger::new(config).map_err(fatal)?;
        for input in inputs {
            let before = snapshot(&ledger)?;
            let processed = ledger.processed_inputs();
            let outcome = ledger.advance(input.clone()).map_err(fatal)?;
            prop_assert_eq!(ledger.processed_inputs(), processed + u64::from(outcome.is_ok()));
            if let Err(rejection) = outcome {
                prop_assert_eq!(snapshot(&ledger)?, before, "{:?} was rejected ({}) but changed the ledger", input, rejection);
            }
        }
    }
}

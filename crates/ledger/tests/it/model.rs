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

/// The accounts that act in the random streams.
const ACCOUNTS: [Address; 5] =
    [Address([0xa1; 20]), Address([0x3b; 20]), Address([0xc7; 20]), Address([0x04; 20]), Address([0xf5; 20])];
/// An address that never deposits and is never picked as a sender; it acts only on value it
/// received by transfer (see [`follow`]).
const STRANGER: Address = Address([0x55; 20]);
/// The sender of every deposit, standing in for the portals (the shell has already decoded them).
const PORTAL: Address = Address([0xee; 20]);
/// The sender of `SetDappAddress`, standing in for the DAppAddressRelay.
const RELAY: Address = Address([0xdd; 20]);
/// The address the relay announces.
const DAPP_RELAYED: Address = Address([0xda; 20]);
/// The address v2 metadata (`app_contract`) carries.
const DAPP_METADATA: Address = Address([0xdb; 20]);
/// The address a configuration may know in advance.
const DAPP_CONFIGURED: Address = Address([0xdc; 20]);

const TOKEN_20: Address = Address([0x20; 20]);
const TOKEN_721: Address = Address([0x72; 20]);
const TOKEN_1155: Address = Address([0x11; 20]);

/// Every address whose balances are compared after each input: anyone who can act, receive,
/// mine or be named by an input.
const ADDRESSES: [Address; 11] = [
    ACCOUNTS[0],
    ACCOUNTS[1],
    ACCOUNTS[2],
    ACCOUNTS[3],
    ACCOUNTS[4],
    STRANGER,
    PORTAL,
    RELAY,
    DAPP_RELAYED,
    DAPP_METADATA,
    DAPP_CONFIGURED,
];

const BLOCK_INTERVAL: u64 = 10;
const BLOCK_REWARD: u64 = 7;

/// Every asset the streams use, so every asset is compared after each input.
fn assets() -> [Asset; 7] {
    [
        Asset::Eth,
        Asset::Coin,
        Asset::Erc20(TOKEN_20),
        Asset::Erc721(TOKEN_721, U256::from(1)),
        Asset::Erc721(TOKEN_721, U256::from(7)),
        Asset::Erc1155(TOKEN_1155, U256::zero()),
        Asset::Erc1155(TOKEN_1155, U256::MAX),
    ]
}

/// A small configuration whose blocks seal often and mine in a handful of tries.
fn config(max_block_txs: u32, reward: u64, dapp_address: Option<Address>) -> Config {
    Config {
        difficulty_bits: 1,
        min_difficulty_bits: 0,
        max_difficulty_bits: 4,
        // `Config::validate` demands at least 2^(max + 6) tries; a few times more costs nothing
        // because the search stops at the first good nonce.
        max_nonce_tries: 1 << 12,
        block_reward: U256::from(reward),
        max_block_txs,
        block_interval: BLOCK_INTERVAL,
        genesis_timestamp: 0,
        dapp_address,
        ..Config::default()
    }
}

/// Proptest settings: moderate case counts keep the file fast in debug builds, and failures are
/// reported rather than written into the source tree.
fn proptest_config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// Random input streams.
// ---------------------------------------------------------------------------------------------

/// One generated input before it gets its index and timestamp.
#[derive(Clone, Debug)]
struct Step {
    /// Seconds since the previous input; some steps are long enough to fire the time trigger.
    dt: u64,
    /// Whether the metadata carries `app_contract` (Rollups v2).
    app_contract: bool,
    /// Whether a transfer or withdrawal acts on the last value received (see [`follow`]).
    follow: bool,
    sender: Address,
    action: Action,
}

/// Amounts biased towards small values, with zero and near-`U256::MAX` values to reach the
/// INVALID_AMOUNT and OVERFLOW paths.
fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        8 => (0u64..=12).prop_map(U256::from),
        1 => Just(U256::MAX),
        1 => (1u64..4).prop_map(|k| U256::MAX - U256::from(k)),
        1 => Just(U256::one() << 255),
    ]
}

/// Transfer and withdrawal amounts: mostly small, so many succeed; often exactly 1, so NFTs
/// move as well as fail to.
fn op_amount() -> impl Strategy<Value = U256> {
    prop_oneof![3 => Just(U256::one()), 3 => (2u64..=5).prop_map(U256::from), 2 => amount()]
}

fn account() -> impl Strategy<Value = Address> {
    prop::sample::select(ACCOUNTS.to_vec())
}

/// Assets of operations, biased towards the fungible ones that accounts are likely to hold.
fn any_asset() -> impl Strategy<Value = Asset> {
    prop_oneof![
        3 => Just(Asset::Eth),
        3 => Just(Asset::Coin),
        2 => Just(Asset::Erc20(TOKEN_20)),
        3 => prop::sample::select(assets()[3..].to_vec()),
    ]
}

/// Deposits shaped as the portals deliver them: one credit per portal, an ERC-721 always 1, an
/// ERC-1155 batch one to three credits (ids may repeat, as on L1).
fn deposit() -> impl Strategy<Value = Action> {
    let [_, _, erc20, nft_a, nft_b, multi_a, multi_b] = assets();
    let nft = prop::sample::select(vec![nft_a, nft_b]);
    let multi = prop::sample::select(vec![multi_a, multi_b]);
    prop_oneof![
        (account(), amount()).prop_map(|(d, a)| vec![(d, Asset::Eth, a)]),
        (account(), amount()).prop_map(move |(d, a)| vec![(d, erc20, a)]),
        (account(), nft).prop_map(|(d, n)| vec![(d, n, U256::one())]),
        (account(), multi.clone(), amount()).prop_map(|(d, m, a)| vec![(d, m, a)]),
        (account(), prop::collection::vec((multi, amount()), 1..=3))
            .prop_map(|(d, credits)| credits.into_iter().map(|(m, a)| (d, m, a)).collect()),
    ]
    .prop_map(|credits: Vec<(Address, Asset, U256)>| Action::Deposit {
        depositor: credits[0].0,
        credits: credits.into_iter().map(|(_, asset, a)| (asset, a)).collect(),
    })
}

fn op() -> impl Strategy<Value = Op> {
    let to = prop_oneof![5 => account(), 1 => Just(STRANGER)];
    prop_oneof![
        4 => (to, any_asset(), op_amount()).prop_map(|(to, asset, amount)| Op::Transfer { to, asset, amount }),
        2 => (any_asset(), op_amount()).prop_map(|(asset, amount)| Op::Withdraw { asset, amount }),
        1 => Just(Op::Mine),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let action = prop_oneof![
        8 => deposit().prop_map(|a| (PORTAL, a)),
        14 => (account(), op()).prop_map(|(sender, op)| (sender, Action::Op(op))),
        1 => Just((RELAY, Action::SetDappAddress(DAPP_RELAYED))),
    ];
    let dt = prop_oneof![6 => 0u64..=3, 1 => 4u64..=15];
    (dt, prop::bool::weighted(0.15), prop::bool::weighted(0.5), action)
        .prop_map(|(dt, app_contract, follow, (sender, action))| Step { dt, app_contract, follow, sender, action })
}

/// Makes a transfer or withdrawal act on the account and asset that last received value, when
/// the step asks to. Independent choices would pick an empty balance most of the time and
/// leave the accepting paths thinly tested.
fn follow(step: &mut Step, last: &mut Option<(Address, Asset)>) {
    match &mut step.action {
        Action::Deposit { depositor, credits } => *last = Some((*depositor, credits[0].0)),
        Action::Op(Op::Transfer { to, asset, .. }) => {
            if let (true, Some((holder, held))) = (step.follow, *last) {
                step.sender = holder;
                *asset = held;
            }
            *last = Some((*to, *asset));
        }
        Action::Op(Op::Withdraw { asset, .. }) => {
            if let (true, Some((holder, held))) = (step.follow, *last) {
                step.sender = holder;
                *asset = held;
            }
        }
        Action::Op(Op::Mine) | Action::SetDappAddress(_) => {}
    }
}

/// A configuration and a stream of inputs with consecutive indices and non-decreasing timestamps.
fn scenario() -> impl Strategy<Value = (Config, Vec<Input>)> {
    let reward = prop_oneof![3 => Just(BLOCK_REWARD), 1 => Just(0)];
    let dapp = prop::option::weighted(0.25, Just(DAPP_CONFIGURED));
    ((1u32..=4, reward, dapp).prop_map(|(m, r, d)| config(m, r, d)), prop::collection::vec(step(), 1..=40)).prop_map(
        |(config, steps)| {
            let mut timestamp = 0;
            let mut last = None;
            let inputs = steps
                .into_iter()
                .zip(0u64..)
                .map(|(mut step, index)| {
                    follow(&mut step, &mut last);
                    timestamp += step.dt;
                    Input {
                        index,
                        sender: step.sender,
                        timestamp,
                        app_contract: step.app_contract.then_some(DAPP_METADATA),
                        action: step.action,
                    }
                })
                .collect();
            (config, inputs)
        },
    )
}

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

/// The stateless checks `Op::decode` applies in the shell, so an op that fails them never
/// reaches the ledger: zero amounts, ERC-721 amounts other than 1, and COIN withdrawals.
fn decode_rejection(op: &Op) -> Option<ErrorCode> {
    let (asset, amount, withdraw) = match op {
        Op::Transfer { asset, amount, .. } => (asset, amount, false),
        Op::Withdraw { asset, amount } => (asset, amount, true),
        Op::Mine => return None,
    };
    if amount.is_zero() || (asset.is_nft() && *amount != U256::one()) {
        Some(ErrorCode::InvalidAmount)
    } else if withdraw && *asset == Asset::Coin {
        Some(ErrorCode::NotWithdrawable)
    } else {
        None
    }
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
    #![proptest_config(proptest_config(128))]

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
        prop_assert_eq!(a.tip().hash, b.tip().hash);
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

// ---------------------------------------------------------------------------------------------
// Operation decoding.
// ---------------------------------------------------------------------------------------------

fn any_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address)
}

fn any_u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::zero()),
        Just(U256::one()),
        Just(U256::MAX),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(|b| U256::from_big_endian(&b)),
    ]
}

fn any_asset_kind() -> impl Strategy<Value = Asset> {
    prop_oneof![
        Just(Asset::Eth),
        Just(Asset::Coin),
        any_address().prop_map(Asset::Erc20),
        (any_address(), any_u256()).prop_map(|(t, id)| Asset::Erc721(t, id)),
        (any_address(), any_u256()).prop_map(|(t, id)| Asset::Erc1155(t, id)),
    ]
}

/// Any operation, including ones the decoder must refuse.
fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any_address(), any_asset_kind(), any_u256()).prop_map(|(to, asset, amount)| Op::Transfer {
            to,
            asset,
            amount
        }),
        (any_asset_kind(), any_u256()).prop_map(|(asset, amount)| Op::Withdraw { asset, amount }),
        Just(Op::Mine),
    ]
}

/// Operations the decoder must accept: positive amounts, exactly 1 for an ERC-721, no COIN
/// withdrawal.
fn valid_op() -> impl Strategy<Value = Op> {
    let amount = || any_u256().prop_filter("amounts are positive", |a| !a.is_zero());
    let withdrawable = any_asset_kind().prop_filter("COIN is not withdrawable", |a| *a != Asset::Coin);
    let whole = |asset: &Asset, amount: U256| if asset.is_nft() { U256::one() } else { amount };
    prop_oneof![
        (any_address(), any_asset_kind(), amount()).prop_map(move |(to, asset, amount)| Op::Transfer {
            to,
            asset,
            amount: whole(&asset, amount)
        }),
        (withdrawable, amount()).prop_map(move |(asset, amount)| Op::Withdraw { asset, amount: whole(&asset, amount) }),
        Just(Op::Mine),
    ]
}

/// Pieces of almost-valid JSON ops, glued at random to reach the decoder's deeper paths.
const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    " ",
    "\"op\"",
    "\"to\"",
    "\"asset\"",
    "\"amount\"",
    "\"from\"",
    "\"transfer\"",
    "\"withdraw\"",
    "\"mine\"",
    "\"MINE\"",
    "\"ETH\"",
    "\"COIN\"",
    "\"erc20:0x2020202020202020202020202020202020202020\"",
    "\"ERC721:0x7272727272727272727272727272727272727272:1\"",
    "\"erc721:0x7272727272727272727272727272727272727272\"",
    "\"erc1155:0x1111111111111111111111111111111111111111:0x\"",
    "\"erc1155:0x11:1:2\"",
    "\"0xA1a1A1a1A1a1A1a1A1a1A1a1A1a1A1a1A1a1A1a1\"",
    "\"0x1234\"",
    "\"0\"",
    "\"1\"",
    "\"0x0\"",
    "\"-1\"",
    "\"1.5\"",
    "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
    "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"",
    "\"0x10000000000000000000000000000000000000000000000000000000000000000\"",
    "1",
    "1e400",
    "-0",
    "null",
    "true",
    "\"\\u0000\"",
    "\"\u{e9}\"",
    "\"\\ud800\"",
];

fn json_ish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(JSON_PIECES.to_vec());
    (prop::bool::weighted(0.8), prop::collection::vec(piece, 0..24))
        .prop_map(|(open, pieces)| format!("{}{}", if open { "{" } else { "" }, pieces.concat()))
}

/// JSON objects with known and unknown keys and values of every JSON type.
fn json_object() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["op", "to", "asset", "amount", "from", "", "OP"]);
    let strings: Vec<&str> = JSON_PIECES.iter().filter_map(|p| p.strip_prefix('"')?.strip_suffix('"')).collect();
    let text = prop::sample::select(strings);
    let value = prop_oneof![
        text.prop_map(|t| Value::String(t.to_string())),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(serde_json::json!([])),
        Just(serde_json::json!({"op": "mine"})),
        any_u256().prop_map(|a| Value::String(a.to_string())),
        any_address().prop_map(|a| Value::String(a.to_string().to_uppercase().replacen("0X", "0x", 1))),
    ];
    prop::collection::btree_map(key, value, 0..5).prop_map(|fields| {
        let object: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Value::Object(object).to_string()
    })
}

/// ABI calls of real selectors with arguments of the right or wrong length, clean or dirty.
fn abi_call() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        any::<[u8; 32]>(),
        any::<[u8; 20]>().prop_map(|a| {
            let mut w = [0u8; 32];
            w[12..].copy_from_slice(&a);
            w
        }),
        any::<u8>().prop_map(|b| {
            let mut w = [0u8; 32];
            w[31] = b;
            w
        }),
    ];
    (
        prop::sample::select(ledger::AbiFunction::ALL.to_vec()),
        prop::collection::vec(word, 0..6),
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(function, words, tail)| {
            let mut payload = function.selector().to_vec();
            payload.extend(words.concat());
            payload.extend(tail);
            payload
        })
}

/// Whatever the decoder accepts must be a valid op that survives a JSON round trip.
fn check_decoded(payload: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(op) = Op::decode(payload) {
        prop_assert_eq!(decode_rejection(&op), None, "{:?} decoded to an invalid op", payload);
        prop_assert_eq!(Op::decode(op.to_json().to_string().as_bytes()), Ok(op));
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(256))]

    /// Every valid op decodes back to itself from its JSON encoding.
    #[test]
    fn valid_ops_round_trip_through_json(op in valid_op()) {
        prop_assert_eq!(Op::decode(op.to_json().to_string().as_bytes()), Ok(op));
    }

    /// Any op's JSON encoding decodes to the op itself, or is refused with the code the
    /// stateless rules predict.
    #[test]
    fn json_ops_decode_or_fail_with_the_predicted_code(op in any_op()) {
        let decoded = Op::decode(op.to_json().to_string().as_bytes());
        match decode_rejection(&op) {
            Some(code) => prop_assert_eq!(decoded.map_err(|r| r.code), Err(code)),
            None => prop_assert_eq!(decoded, Ok(op)),
        }
    }

    /// Arbitrary bytes never make the decoder panic.
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_decoded(&bytes)?;
    }

    /// Arbitrary text and JSON-like text never make the decoder panic.
    #[test]
    fn decoding_json_ish_text_never_panics(text in prop_oneof![json_ish(), json_object(), any::<String>()]) {
        check_decoded(text.as_bytes())?;
    }

    /// ABI calls with mangled arguments never make the decoder panic.
    #[test]
    fn decoding_abi_like_calls_never_panics(payload in abi_call()) {
        check_decoded(&payload)?;
    }
}

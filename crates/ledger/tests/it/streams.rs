//! Random input streams for the model tests: accounts, assets, amounts and inputs biased
//! towards the paths that matter (overspends, overflows, duplicate NFTs, time-triggered seals).

use ledger::{Action, Address, Asset, Config, Input, Op, U256};
use proptest::prelude::*;

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
pub(crate) const ADDRESSES: [Address; 11] = [
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
pub(crate) fn assets() -> [Asset; 7] {
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
pub(crate) fn scenario() -> impl Strategy<Value = (Config, Vec<Input>)> {
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

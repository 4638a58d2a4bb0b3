//! The ledger state machine: `advance(input) -> outcome`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::asset::Asset;
use crate::block::{Header, HEADER_VERSION};
use crate::config::Config;
use crate::error::{ErrorCode, Rejection};
use crate::merkle::{sha256, tx_root, StateTree};
use crate::op::Op;
use crate::slots::SlotIndex;
use crate::tx::{Tx, TxKind};
use crate::txindex::TxIndex;
use crate::types::{u256_be, Address, Hash, U256};

/// One advance input, already classified by the shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The rollup input index (unique, increasing).
    pub index: u64,
    /// The L1 account that added the input (a portal or relay for deposits).
    pub sender: Address,
    /// Seconds, from the input's metadata. The ledger has no other clock.
    pub timestamp: u64,
    /// The application's own address when the metadata carries it (Rollups v2).
    pub app_contract: Option<Address>,
    pub action: Action,
}

/// What an input asks of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Portal deposit: credit `depositor` with each `(asset, amount)`.
    Deposit { depositor: Address, credits: Vec<(Asset, U256)> },
    /// The DAppAddressRelay told us our own address.
    SetDappAddress(Address),
    /// A user operation, acted by the input's sender.
    Op(Op),
}

/// What happened to an accepted input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub input: u64,
    /// Hashes of the transactions the input created, in order.
    pub txs: Vec<Hash>,
    /// For each of `txs`, the height of the block that sealed it during this input, if any.
    pub tx_blocks: Vec<Option<u64>>,
    /// Heights of the blocks this input sealed, in order.
    pub sealed: Vec<u64>,
}

/// The result of one advance: accepted with a receipt, or rejected with nothing changed.
pub type Outcome = Result<Receipt, Rejection>;

/// A failure that is not the input's fault and leaves the ledger unusable: the shell must raise
/// a rollup exception. Unreachable with a validated configuration, except by a broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// No nonce met the target within `max_nonce_tries` (probability below e^-64 per block).
    NonceExhausted { height: u64 },
    /// An internal consistency check failed.
    Invariant(String),
    /// A previous fatal error stopped the ledger.
    Stopped(String),
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fatal::NonceExhausted { height } => {
                write!(f, "no proof-of-work nonce found for block {height} within the configured bound")
            }
            Fatal::Invariant(m) => write!(f, "ledger invariant broken: {m}"),
            Fatal::Stopped(m) => write!(f, "ledger stopped after an earlier fatal error: {m}"),
        }
    }
}

impl std::error::Error for Fatal {}

/// A sealed block: its header, hash and transactions (stored compactly; see
/// [`Ledger::block_txs`] for the full form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub hash: Hash,
    pub(crate) txs: Vec<StoredTx>,
}

impl Block {
    pub fn tx_count(&self) -> usize {
        self.txs.len()
    }
}

/// A sealed transaction without its hash (recomputed on demand) and with an asset id in place
/// of the asset: 96 bytes instead of 176, for every transaction the chain ever held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredTx {
    amount: U256,
    input: u64,
    from: Address,
    to: Address,
    asset: u32,
    sub: u32,
    kind: TxKind,
}

/// Where a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxLocation {
    Pending(u32),
    Sealed { height: u64, index: u32 },
}

#[derive(Clone, Debug)]
pub(crate) struct AssetEntry {
    pub(crate) asset: Asset,
    /// sha256 of the asset's canonical encoding, used in state-tree leaves.
    pub(crate) digest: [u8; 32],
    pub(crate) supply: U256,
    pub(crate) pending_supply: U256,
    dirty: bool,
}

/// One balance entry: its confirmed value (as of the tip) and its pending value (with the pool).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Balance {
    pub(crate) confirmed: U256,
    pub(crate) pending: U256,
}

/// Asset ids of the two assets every ledger has, registered at genesis.
const ETH_ID: u32 = 0;
const COIN_ID: u32 = 1;

/// A planned balance write: the absolute new pending value, and where it goes if known.
#[derive(Clone, Copy, Debug)]
struct Write {
    account: Address,
    asset: Asset,
    asset_id: Option<u32>,
    slot: Option<u32>,
    value: U256,
}

/// The effect of one planned transaction: absolute new balances and supply.
#[derive(Clone, Debug)]
struct Planned {
    tx: Tx,
    writes: [Option<Write>; 2],
    supply: Option<(Asset, Option<u32>, U256)>,
}

/// Values computed so far while planning an input, read through to the pending view. Inputs
/// hold few transactions, so a vector beats a map here.
#[derive(Default)]
struct Scratch {
    balances: Vec<(Address, Asset, U256)>,
    supply: Vec<(Asset, U256)>,
}

impl Scratch {
    fn balance(&self, account: &Address, asset: &Asset) -> Option<U256> {
        self.balances.iter().rev().find(|(a, s, _)| a == account && s == asset).map(|e| e.2)
    }

    fn supply(&self, asset: &Asset) -> Option<U256> {
        self.supply.iter().rev().find(|(s, _)| s == asset).map(|e| e.1)
    }
}

/// The ledger. Confirmed state is as of the tip; pending is confirmed plus the pool.
#[derive(Clone, Debug)]
pub struct Ledger {
    pub(crate) config: Config,
    pub(crate) assets: Vec<AssetEntry>,
    pub(crate) asset_ids: BTreeMap<Asset, u32>,
    /// (account, asset id) → slot in `balances` and in the state tree. A slot is assigned when
    /// a transaction first writes the entry; every admitted transaction is sealed with the next
    /// block, so slots below `balances.len()` always reach the tree, in order.
    pub(crate) slots: SlotIndex,
    pub(crate) balances: Vec<Balance>,
    /// Slots whose pending value may differ from the confirmed one, and a flag per slot.
    dirty: Vec<u32>,
    dirty_flags: Vec<bool>,
    dirty_assets: Vec<u32>,
    pub(crate) tree: StateTree,
    pub(crate) addresses: u64,
    pending_addresses: u64,
    pub(crate) dapp: Option<Address>,
    /// The dApp address as of the tip: the state root commits to this one, so it changes only
    /// when a block is sealed.
    confirmed_dapp: Option<Address>,
    pub(crate) pool: Vec<(Hash, Tx)>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) block_ids: BTreeMap<Hash, u64>,
    /// Sealed transactions by hash prefix; candidates are checked against the stored block.
    tx_index: TxIndex,
    pub(crate) sealed_txs: u64,
    pub(crate) inputs: u64,
    stopped: Option<String>,
}

impl Ledger {
    /// A ledger at genesis. Genesis is derived from the configuration alone: its `prev_hash` is
    /// the configuration hash, so nodes with different settings never share a chain.
    pub fn new(config: Config) -> Result<Ledger, Fatal> {
        config.validate().map_err(|e| Fatal::Invariant(e.0))?;
        let mut ledger = Ledger {
            assets: Vec::new(),
            asset_ids: BTreeMap::new(),
            slots: SlotIndex::default(),
            balances: Vec::new(),
            dirty: Vec::new(),
            dirty_flags: Vec::new(),
            dirty_assets: Vec::new(),
            tree: StateTree::default(),
            addresses: 0,
            pending_addresses: 0,
            dapp: config.dapp_address,
            confirmed_dapp: config.dapp_address,
            pool: Vec::new(),
            blocks: Vec::new(),
            block_ids: BTreeMap::new(),
            tx_index: TxIndex::default(),
            sealed_txs: 0,
            inputs: 0,
            stopped: None,
            config,
        };
        ledger.register(Asset::Eth);
        ledger.register(Asset::Coin);
        let mut header = Header {
            version: HEADER_VERSION,
            height: 0,
            timestamp: ledger.config.genesis_timestamp,
            difficulty: ledger.config.difficulty_bits,
            tx_count: 0,
            miner: Address::ZERO,
            reward: U256::zero(),
            prev_hash: ledger.config.hash(),
            tx_root: Hash::ZERO,
            state_root: ledger.state_root(),
            nonce: 0,
        };
        header.mine(ledger.config.max_nonce_tries).ok_or(Fatal::NonceExhausted { height: 0 })?;
        let hash = header.hash();
        ledger.block_ids.insert(hash, 0);
        ledger.blocks.push(Block { header, hash, txs: Vec::new() });
        Ok(ledger)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn tip(&self) -> &Block {
        // There is always a genesis block.
        &self.blocks[self.blocks.len() - 1]
    }

    pub fn height(&self) -> u64 {
        self.tip().header.height
    }

    pub fn block(&self, height: u64) -> Option<&Block> {
        usize::try_from(height).ok().and_then(|h| self.blocks.get(h))
    }

    pub fn block_by_hash(&self, hash: &Hash) -> Option<&Block> {
        self.block_ids.get(hash).and_then(|h| self.block(*h))
    }

    pub(crate) fn materialize(&self, s: &StoredTx) -> Tx {
        Tx {
            kind: s.kind,
            input: s.input,
            sub: s.sub,
            from: s.from,
            to: s.to,
            asset: self.assets[s.asset as usize].asset,
            amount: s.amount,
        }
    }

    /// A block's transactions with their hashes, in block order.
    pub fn block_txs(&self, block: &Block) -> Vec<(Hash, Tx)> {
        self.block_txs_range(block, 0..block.txs.len())
    }

    pub(crate) fn block_txs_range(&self, block: &Block, range: std::ops::Range<usize>) -> Vec<(Hash, Tx)> {
        let stored = block.txs.get(range).unwrap_or_default();
        stored.iter().map(|s| self.materialize(s)).map(|tx| (tx.hash(), tx)).collect()
    }

    pub fn pool(&self) -> &[(Hash, Tx)] {
        &self.pool
    }

    pub fn dapp_address(&self) -> Option<Address> {
        self.dapp
    }

    pub fn tx_location(&self, hash: &Hash) -> Option<TxLocation> {
        self.tx(hash).map(|(_, loc)| loc)
    }

    /// A transaction by hash: pending (searched in the bounded pool) or sealed (indexed).
    pub fn tx(&self, hash: &Hash) -> Option<(Tx, TxLocation)> {
        if let Some(i) = self.pool.iter().position(|(h, _)| h == hash) {
            return Some((self.pool[i].1.clone(), TxLocation::Pending(i as u32)));
        }
        self.tx_index.candidates(hash).find_map(|(height, index)| {
            let tx = self.materialize(self.block(height)?.txs.get(index as usize)?);
            (tx.hash() == *hash).then_some((tx, TxLocation::Sealed { height, index }))
        })
    }

    /// Number of advance inputs accepted. Rejected inputs are not counted: inside the Cartesi
    /// Machine a reject reverts the whole process, so a count that included them would differ
    /// between the machine and host mode for the same history.
    pub fn processed_inputs(&self) -> u64 {
        self.inputs
    }

    /// The commitment to the whole confirmed state: sha256 of a domain tag, the state tree's root
    /// and leaf count, and the dApp address if known.
    pub fn state_root(&self) -> Hash {
        let (flag, dapp) = match self.confirmed_dapp {
            Some(a) => (1u8, a.0),
            None => (0u8, [0u8; 20]),
        };
        sha256(&[b"ledger/state/v1", &self.tree.root().0, &self.tree.len().to_be_bytes(), &[flag], &dapp])
    }

    fn known_id(&self, asset: &Asset) -> Option<u32> {
        match asset {
            Asset::Eth => Some(ETH_ID),
            Asset::Coin => Some(COIN_ID),
            _ => self.asset_ids.get(asset).copied(),
        }
    }

    fn entry(&self, account: &Address, asset: &Asset) -> Option<&Balance> {
        let id = self.known_id(asset)?;
        self.slots.get(account, id).map(|s| &self.balances[s as usize])
    }

    pub fn confirmed_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.entry(account, asset).map_or_else(U256::zero, |b| b.confirmed)
    }

    pub fn pending_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.entry(account, asset).map_or_else(U256::zero, |b| b.pending)
    }

    pub fn confirmed_supply(&self, asset: &Asset) -> U256 {
        self.known_id(asset).map_or_else(U256::zero, |id| self.assets[id as usize].supply)
    }

    pub fn pending_supply(&self, asset: &Asset) -> U256 {
        self.known_id(asset).map_or_else(U256::zero, |id| self.assets[id as usize].pending_supply)
    }

    /// Processes one advance input. Rejected inputs change nothing; `Err(Fatal)` means the
    /// ledger can no longer be trusted and the shell must raise an exception.
    pub fn advance(&mut self, input: Input) -> Result<Outcome, Fatal> {
        if let Some(why) = &self.stopped {
            return Err(Fatal::Stopped(why.clone()));
        }
        let result = self.advance_inner(input);
        match &result {
            Ok(Ok(_)) => self.inputs += 1,
            Ok(Err(_)) => {}
            Err(fatal) => self.stopped = Some(fatal.to_string()),
        }
        result
    }

    fn advance_inner(&mut self, input: Input) -> Result<Outcome, Fatal> {
        let acting = match &input.action {
            Action::Deposit { depositor, .. } => *depositor,
            _ => input.sender,
        };
        let is_mine = matches!(input.action, Action::Op(Op::Mine));
        let tip_time = self.tip().header.timestamp;
        // The time trigger: a waiting pool is sealed before the input is handled. A `mine`
        // seals the pool itself, so it needs no separate block.
        let time_seal =
            !is_mine && !self.pool.is_empty() && input.timestamp >= tip_time.saturating_add(self.config.block_interval);

        // Plan everything against the view the input will see, then commit. Nothing is
        // written unless the whole input is valid.
        let planned = match self.plan(&input, acting, time_seal) {
            Ok(p) => p,
            Err(rejection) => return Ok(Err(rejection)),
        };

        if let Some(app) = input.app_contract {
            self.dapp = Some(app);
        }
        let mut sealed = Vec::new();
        if time_seal {
            sealed.push(self.seal(acting, input.timestamp)?);
        }
        let mut txs = Vec::with_capacity(planned.len());
        let mut tx_blocks = Vec::with_capacity(planned.len());
        // Marks the input's transactions still in the pool as sealed at `height`.
        let mark = |tx_blocks: &mut Vec<Option<u64>>, height: u64| {
            for b in tx_blocks.iter_mut().filter(|b| b.is_none()) {
                *b = Some(height);
            }
        };
        for p in planned {
            txs.push(self.admit(p));
            tx_blocks.push(None);
            if self.pool.len() >= self.config.max_block_txs as usize {
                let height = self.seal(acting, input.timestamp)?;
                mark(&mut tx_blocks, height);
                sealed.push(height);
            }
        }
        match input.action {
            Action::SetDappAddress(address) => self.dapp = Some(address),
            Action::Op(Op::Mine) => sealed.push(self.seal(acting, input.timestamp)?),
            _ => {}
        }
        Ok(Ok(Receipt { input: input.index, txs, tx_blocks, sealed }))
    }

    /// Validates an input and computes the absolute balances each of its transactions writes.
    fn plan(&self, input: &Input, acting: Address, time_seal: bool) -> Result<Vec<Planned>, Rejection> {
        let mut scratch = Scratch::default();
        if time_seal {
            // The block sealed first credits its reward to the acting account.
            let reward = self.config.block_reward;
            let balance = self.pending_balance(&acting, &Asset::Coin);
            scratch.balances.push((acting, Asset::Coin, balance.saturating_add(reward)));
            scratch.supply.push((Asset::Coin, self.pending_supply(&Asset::Coin).saturating_add(reward)));
        }
        let tx = |kind, sub, from, to, asset, amount| Tx { kind, input: input.index, sub, from, to, asset, amount };
        let txs: Vec<Tx> = match &input.action {
            Action::Deposit { depositor, credits } => {
                if credits.iter().any(|(a, _)| *a == Asset::Coin) {
                    return Err(Rejection::new(ErrorCode::UnknownAsset, "COIN is created only as block rewards"));
                }
                // A zero entry of a batch locked nothing on L1: skip it rather than refuse the
                // batch, which would strand the other entries' assets. `sub` keeps the entry's
                // position in the batch.
                let txs: Vec<Tx> = credits
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, amount))| credits.len() == 1 || !amount.is_zero())
                    .map(|(i, (asset, amount))| tx(TxKind::Deposit, i as u32, *depositor, *depositor, *asset, *amount))
                    .collect();
                if txs.is_empty() {
                    return Err(Rejection::new(ErrorCode::InvalidAmount, "every amount of the deposit is zero"));
                }
                txs
            }
            Action::SetDappAddress(_) | Action::Op(Op::Mine) => Vec::new(),
            Action::Op(Op::Transfer { to, asset, amount }) => {
                vec![tx(TxKind::Transfer, 0, acting, *to, *asset, *amount)]
            }
            Action::Op(Op::Withdraw { asset, amount }) => {
                if !asset.is_withdrawable() {
                    return Err(Rejection::new(
                        ErrorCode::NotWithdrawable,
                        "COIN exists only inside the ledger and cannot be withdrawn",
                    ));
                }
                if self.dapp.is_none() && input.app_contract.is_none() {
                    return Err(Rejection::new(
                        ErrorCode::DappAddressUnknown,
                        "withdrawals need the dApp's own address, which is not known yet: relay it with DAppAddressRelay (Rollups v1) or set LEDGER_DAPP_ADDRESS",
                    ));
                }
                vec![tx(TxKind::Withdraw, 0, acting, acting, *asset, *amount)]
            }
        };
        txs.into_iter().map(|tx| self.step(&mut scratch, tx)).collect()
    }

    /// Applies one transaction to the scratch view and records its writes.
    fn step(&self, s: &mut Scratch, tx: Tx) -> Result<Planned, Rejection> {
        let asset_id = self.known_id(&tx.asset);
        // Reads through the scratch values to the pending view, noting the slot if it exists.
        let read = |s: &Scratch, account: Address| -> (U256, Option<u32>) {
            let slot = asset_id.and_then(|id| self.slots.get(&account, id));
            let stored = slot.map_or_else(U256::zero, |slot| self.balances[slot as usize].pending);
            (s.balance(&account, &tx.asset).unwrap_or(stored), slot)
        };
        let supply = |s: &Scratch| {
            s.supply(&tx.asset)
                .unwrap_or_else(|| asset_id.map_or_else(U256::zero, |id| self.assets[id as usize].pending_supply))
        };
        let write =
            |account, (value, slot): (U256, Option<u32>)| Write { account, asset: tx.asset, asset_id, slot, value };
        let amount = tx.amount;
        if amount.is_zero() {
            return Err(Rejection::new(ErrorCode::InvalidAmount, "amount must be greater than zero"));
        }
        if tx.asset.is_nft() && amount != U256::one() {
            return Err(Rejection::new(
                ErrorCode::InvalidAmount,
                format!("an ERC-721 token moves whole: amount must be 1, got {amount}"),
            ));
        }
        let mut writes = [None, None];
        let mut new_supply = None;
        match tx.kind {
            TxKind::Deposit => {
                let total = supply(s);
                let next = total.checked_add(amount).ok_or_else(|| {
                    Rejection::new(
                        ErrorCode::Overflow,
                        format!("depositing {amount} would overflow the total supply of {}", tx.asset),
                    )
                })?;
                if tx.asset.is_nft() && !total.is_zero() {
                    return Err(Rejection::new(
                        ErrorCode::DuplicateNft,
                        format!("the ledger already holds {}", tx.asset),
                    ));
                }
                // A balance never exceeds its asset's supply, so this cannot overflow.
                let (to, slot) = read(s, tx.to);
                writes[0] = Some(write(tx.to, (to.saturating_add(amount), slot)));
                new_supply = Some(next);
            }
            TxKind::Transfer | TxKind::Withdraw => {
                let (from, from_slot) = read(s, tx.from);
                let Some(left) = from.checked_sub(amount) else {
                    return Err(Rejection::new(
                        ErrorCode::InsufficientFunds,
                        format!("{} holds {from} of {} (pending), needs {amount}", tx.from, tx.asset),
                    ));
                };
                if tx.kind == TxKind::Withdraw {
                    writes[0] = Some(write(tx.from, (left, from_slot)));
                    new_supply = Some(supply(s).saturating_sub(amount));
                } else if tx.to == tx.from {
                    writes[0] = Some(write(tx.from, (from, from_slot)));
                } else {
                    let (to, to_slot) = read(s, tx.to);
                    writes[0] = Some(write(tx.from, (left, from_slot)));
                    writes[1] = Some(write(tx.to, (to.saturating_add(amount), to_slot)));
                }
            }
        }
        for w in writes.iter().flatten() {
            s.balances.push((w.account, w.asset, w.value));
        }
        if let Some(v) = new_supply {
            s.supply.push((tx.asset, v));
        }
        Ok(Planned { supply: new_supply.map(|v| (tx.asset, asset_id, v)), tx, writes })
    }

    fn register(&mut self, asset: Asset) -> u32 {
        if let Some(&id) = self.asset_ids.get(&asset) {
            return id;
        }
        let id = self.assets.len() as u32;
        self.assets.push(AssetEntry {
            asset,
            digest: sha256(&[&asset.encode()]).0,
            supply: U256::zero(),
            pending_supply: U256::zero(),
            dirty: false,
        });
        self.asset_ids.insert(asset, id);
        id
    }

    /// The slot of an entry, creating it (as a pending entry of the next block) if needed.
    fn slot(&mut self, account: Address, id: u32) -> u32 {
        if let Some(slot) = self.slots.get(&account, id) {
            return slot;
        }
        self.pending_addresses += u64::from(!self.slots.has_account(&account));
        let slot = self.slots.insert(account, id);
        self.balances.push(Balance::default());
        self.dirty_flags.push(false);
        slot
    }

    fn set_pending(&mut self, slot: u32, value: U256) {
        self.balances[slot as usize].pending = value;
        if !self.dirty_flags[slot as usize] {
            self.dirty_flags[slot as usize] = true;
            self.dirty.push(slot);
        }
    }

    fn set_pending_supply(&mut self, id: u32, value: U256) {
        let entry = &mut self.assets[id as usize];
        entry.pending_supply = value;
        if !entry.dirty {
            entry.dirty = true;
            self.dirty_assets.push(id);
        }
    }

    /// Writes a planned transaction into the pending view and the pool.
    fn admit(&mut self, p: Planned) -> Hash {
        for w in p.writes.into_iter().flatten() {
            let id = w.asset_id.unwrap_or_else(|| self.register(w.asset));
            // A slot unknown at planning time may have been created by an earlier transaction
            // of the same input.
            let slot = w.slot.unwrap_or_else(|| self.slot(w.account, id));
            self.set_pending(slot, w.value);
        }
        if let Some((asset, id, value)) = p.supply {
            let id = id.unwrap_or_else(|| self.register(asset));
            self.set_pending_supply(id, value);
        }
        let digest = self.known_id(&p.tx.asset).map(|id| self.assets[id as usize].digest);
        let hash = match digest {
            Some(d) => sha256(&[&p.tx.encode_with(&d)]),
            None => p.tx.hash(),
        };
        self.pool.push((hash, p.tx));
        hash
    }

    /// Difficulty of the next block: one bit up when it comes faster than `block_interval` after
    /// the tip, one bit down when slower, unchanged on time; clamped. Uses header timestamps only.
    pub fn next_difficulty(&self, timestamp: u64) -> u32 {
        let tip = &self.tip().header;
        let elapsed = timestamp.saturating_sub(tip.timestamp);
        let target = self.config.block_interval;
        let d = if elapsed < target {
            tip.difficulty.saturating_add(1)
        } else if elapsed > target {
            tip.difficulty.saturating_sub(1)
        } else {
            tip.difficulty
        };
        d.clamp(self.config.min_difficulty_bits, self.config.max_difficulty_bits)
    }

    /// Seals the whole pool into a block mined by `miner`; pending becomes confirmed.
    fn seal(&mut self, miner: Address, timestamp: u64) -> Result<u64, Fatal> {
        let tip = &self.tip().header;
        let height = tip.height + 1;
        let prev_hash = self.tip().hash;
        let timestamp = timestamp.max(tip.timestamp);
        let difficulty = self.next_difficulty(timestamp);
        let reward = self.config.block_reward;

        if !reward.is_zero() {
            let slot = self.slot(miner, COIN_ID);
            let balance = self.balances[slot as usize].pending;
            self.set_pending(slot, balance.saturating_add(reward));
            let supply = self.assets[COIN_ID as usize].pending_supply;
            self.set_pending_supply(COIN_ID, supply.saturating_add(reward));
        }

        // Confirm every changed entry; new entries append to the tree in slot order.
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        // Gather first (independent loads, many cache misses in flight), then hash.
        let gathered: Vec<(u32, (Address, u32), U256)> = dirty
            .iter()
            .map(|&slot| {
                let i = slot as usize;
                self.dirty_flags[i] = false;
                let b = &mut self.balances[i];
                b.confirmed = b.pending;
                (slot, self.slots.key(slot), b.confirmed)
            })
            .collect();
        let leaves: Vec<(u64, [u8; 32])> = gathered
            .iter()
            .map(|&(slot, (account, id), value)| {
                (u64::from(slot), leaf_hash(&account, &self.assets[id as usize].digest, value))
            })
            .collect();
        dirty.clear();
        self.dirty = dirty;
        if !self.tree.update(&leaves) || self.tree.len() != self.balances.len() as u64 {
            return Err(Fatal::Invariant("state tree update out of order".into()));
        }
        for id in std::mem::take(&mut self.dirty_assets) {
            let entry = &mut self.assets[id as usize];
            entry.supply = entry.pending_supply;
            entry.dirty = false;
        }
        self.addresses += std::mem::take(&mut self.pending_addresses);
        self.confirmed_dapp = self.dapp;

        let pool = std::mem::take(&mut self.pool);
        let hashes: Vec<Hash> = pool.iter().map(|(h, _)| *h).collect();
        let mut header = Header {
            version: HEADER_VERSION,
            height,
            timestamp,
            difficulty,
            tx_count: pool.len() as u32,
            miner,
            reward,
            prev_hash,
            tx_root: tx_root(&hashes),
            state_root: self.state_root(),
            nonce: 0,
        };
        header.mine(self.config.max_nonce_tries).ok_or(Fatal::NonceExhausted { height })?;
        let hash = header.hash();
        self.tx_index.push_block(height, &hashes);
        let mut txs = Vec::with_capacity(pool.len());
        for (_, tx) in pool {
            let asset =
                self.known_id(&tx.asset).ok_or_else(|| Fatal::Invariant(format!("unregistered asset {}", tx.asset)))?;
            txs.push(StoredTx {
                amount: tx.amount,
                input: tx.input,
                from: tx.from,
                to: tx.to,
                asset,
                sub: tx.sub,
                kind: tx.kind,
            });
        }
        self.sealed_txs += txs.len() as u64;
        self.block_ids.insert(hash, height);
        self.blocks.push(Block { header, hash, txs });
        Ok(height)
    }

    /// A fingerprint of everything the ledger holds, confirmed and pending (for checks such as
    /// "a rejected input changes nothing"). Linear in the state size; not used on the hot path.
    pub fn fingerprint(&self) -> Hash {
        let mut bytes = Vec::new();
        bytes.extend(self.state_root().0);
        bytes.extend(self.tip().hash.0);
        for (slot, (a, id)) in self.slots.keys().iter().enumerate() {
            let b = &self.balances[slot];
            bytes.extend(a.0);
            bytes.extend(self.assets[*id as usize].digest);
            bytes.extend(u256_be(b.confirmed));
            bytes.extend(u256_be(b.pending));
        }
        for (h, _) in &self.pool {
            bytes.extend(h.0);
        }
        for a in &self.assets {
            bytes.extend(a.digest);
            bytes.extend(u256_be(a.supply));
            bytes.extend(u256_be(a.pending_supply));
        }
        bytes.extend(self.addresses.to_be_bytes());
        bytes.extend(self.pending_addresses.to_be_bytes());
        bytes.extend(self.dapp.unwrap_or_default().0);
        bytes.extend(self.confirmed_dapp.unwrap_or_default().0);
        bytes.extend(self.inputs.to_be_bytes());
        sha256(&[&bytes])
    }

    /// Checks the chain from genesis: hash links, heights, proof of work, transaction roots and
    /// the hash index, and that the incremental state tree equals a full recomputation.
    pub fn verify_chain(&self) -> Result<(), String> {
        for (i, block) in self.blocks.iter().enumerate() {
            let decoded = Header::decode(&block.header.encode()).map_err(|e| format!("block {i}: {e}"))?;
            if decoded.hash() != block.hash || decoded.height != i as u64 {
                return Err(format!("block {i}: stored hash or height does not match its header"));
            }
            let txs = self.block_txs(block);
            let hashes: Vec<Hash> = txs.iter().map(|(h, _)| *h).collect();
            if tx_root(&hashes) != block.header.tx_root || txs.len() != block.header.tx_count as usize {
                return Err(format!("block {i}: transaction root or count does not match"));
            }
            for (index, h) in hashes.iter().enumerate() {
                if self.tx_location(h) != Some(TxLocation::Sealed { height: i as u64, index: index as u32 }) {
                    return Err(format!("block {i}: transaction {h} is not indexed"));
                }
            }
            if i > 0 && block.header.prev_hash != self.blocks[i - 1].hash {
                return Err(format!("block {i}: prev_hash does not link to block {}", i - 1));
            }
        }
        if self.state_root() != self.tip().header.state_root {
            return Err("the state root differs from the tip header's".into());
        }
        if self.tree.root() != self.tree.recompute_root() {
            return Err("incremental state tree differs from a full recomputation".into());
        }
        Ok(())
    }

    /// Checks that money is conserved: for every asset, the confirmed balances add up to the
    /// confirmed supply and the pending balances to the pending supply. Linear in the state
    /// size; for tests and fuzzing.
    pub fn check_supply(&self) -> Result<(), String> {
        let mut sums = vec![(U256::zero(), U256::zero()); self.assets.len()];
        for (slot, (_, id)) in self.slots.keys().iter().enumerate() {
            let b = &self.balances[slot];
            let sum = &mut sums[*id as usize];
            sum.0 = sum.0.checked_add(b.confirmed).ok_or("confirmed balances overflow")?;
            sum.1 = sum.1.checked_add(b.pending).ok_or("pending balances overflow")?;
        }
        for (asset, (confirmed, pending)) in self.assets.iter().zip(sums) {
            if confirmed != asset.supply || pending != asset.pending_supply {
                return Err(format!(
                    "{}: balances add up to {confirmed} confirmed and {pending} pending, the supply is {} and {}",
                    asset.asset, asset.supply, asset.pending_supply
                ));
            }
        }
        Ok(())
    }

    /// Inner state-tree nodes hashed by every seal so far (one SHA-256 compression each): the
    /// deterministic part of sealing's cost, for benchmarks.
    pub fn state_tree_nodes_hashed(&self) -> u64 {
        self.tree.nodes_hashed()
    }

    /// Heap bytes of the confirmed state: the slot index, balances, and the state tree.
    pub fn state_heap_bytes(&self) -> usize {
        self.slots.heap_bytes()
            + self.balances.capacity() * std::mem::size_of::<Balance>()
            + self.dirty_flags.capacity()
            + self.tree.heap_bytes()
    }

    /// The JSON receipt reported for an accepted input. Its lists are capped (a batch deposit may
    /// create hundreds of transactions and blocks) so the report stays within
    /// [`crate::MAX_OUTPUT_BYTES`]; the counts are always complete, and every transaction is in
    /// the notices of its block.
    pub fn receipt_json(&self, receipt: &Receipt) -> Value {
        const LISTED: usize = 64;
        let txs: Vec<Value> = receipt
            .txs
            .iter()
            .zip(&receipt.tx_blocks)
            .take(LISTED)
            .map(|(h, block)| match block {
                Some(height) => json!({"hash": h, "status": "sealed", "block": height}),
                None => json!({"hash": h, "status": "pending"}),
            })
            .collect();
        let sealed: Vec<Value> = receipt
            .sealed
            .iter()
            .take(LISTED)
            .filter_map(|&h| self.block(h))
            .map(|b| json!({"height": b.header.height, "hash": b.hash, "tx_count": b.header.tx_count}))
            .collect();
        json!({"accepted": {
            "input": receipt.input,
            "tx_count": receipt.txs.len(),
            "txs": txs,
            "sealed_count": receipt.sealed.len(),
            "sealed_blocks": sealed,
        }})
    }
}

/// A state-tree leaf: sha256 over a tag, the account, the asset digest and the amount.
fn leaf_hash(account: &Address, asset_digest: &[u8; 32], amount: U256) -> [u8; 32] {
    sha256(&[b"L", &account.0, asset_digest, &u256_be(amount)]).0
}

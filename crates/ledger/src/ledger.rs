//! The ledger state machine: `advance(input) -> outcome`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::asset::Asset;
use crate::block::{Header, HEADER_VERSION};
use crate::config::Config;
use crate::error::{ErrorCode, Rejection};
use crate::merkle::{sha256, tx_root, StateTree};
use crate::op::Op;
use crate::tx::{Tx, TxKind};
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

/// A sealed block: its header, hash and transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub hash: Hash,
    pub txs: Vec<(Hash, Tx)>,
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
}

/// The effect of one planned transaction: absolute new balances and supply.
#[derive(Clone, Debug)]
struct Planned {
    tx: Tx,
    writes: [(Address, Asset, U256); 2],
    write_count: usize,
    supply: Option<(Asset, U256)>,
}

/// Balances and supplies computed so far while planning an input, read through to pending.
#[derive(Default)]
struct Scratch {
    balances: BTreeMap<(Address, Asset), U256>,
    supply: BTreeMap<Asset, U256>,
}

/// The ledger. Confirmed state is as of the tip; pending is confirmed plus the pool.
#[derive(Clone, Debug)]
pub struct Ledger {
    pub(crate) config: Config,
    pub(crate) assets: Vec<AssetEntry>,
    pub(crate) asset_ids: BTreeMap<Asset, u32>,
    /// Confirmed balances: (account, asset id) → slot in `amounts` and in the state tree.
    pub(crate) slots: BTreeMap<(Address, u32), u32>,
    pub(crate) amounts: Vec<U256>,
    pub(crate) tree: StateTree,
    pub(crate) addresses: u64,
    pub(crate) dapp: Option<Address>,
    /// Pending balances and supplies that differ from confirmed (the pool's effect).
    pub(crate) pending: BTreeMap<(Address, u32), U256>,
    pub(crate) pending_supply: BTreeMap<u32, U256>,
    pub(crate) pool: Vec<(Hash, Tx)>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) block_ids: BTreeMap<Hash, u64>,
    pub(crate) tx_index: BTreeMap<Hash, TxLocation>,
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
            slots: BTreeMap::new(),
            amounts: Vec::new(),
            tree: StateTree::default(),
            addresses: 0,
            dapp: config.dapp_address,
            pending: BTreeMap::new(),
            pending_supply: BTreeMap::new(),
            pool: Vec::new(),
            blocks: Vec::new(),
            block_ids: BTreeMap::new(),
            tx_index: BTreeMap::new(),
            sealed_txs: 0,
            inputs: 0,
            stopped: None,
            config,
        };
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

    pub fn pool(&self) -> &[(Hash, Tx)] {
        &self.pool
    }

    pub fn dapp_address(&self) -> Option<Address> {
        self.dapp
    }

    pub fn tx_location(&self, hash: &Hash) -> Option<TxLocation> {
        self.tx_index.get(hash).copied()
    }

    pub fn tx(&self, hash: &Hash) -> Option<(&Tx, TxLocation)> {
        let loc = self.tx_location(hash)?;
        let tx = match loc {
            TxLocation::Pending(i) => &self.pool.get(i as usize)?.1,
            TxLocation::Sealed { height, index } => &self.block(height)?.txs.get(index as usize)?.1,
        };
        Some((tx, loc))
    }

    /// Number of advance inputs processed (accepted or rejected).
    pub fn processed_inputs(&self) -> u64 {
        self.inputs
    }

    /// The commitment to the whole confirmed state: sha256 of a domain tag, the state tree's root
    /// and leaf count, and the dApp address if known.
    pub fn state_root(&self) -> Hash {
        let (flag, dapp) = match self.dapp {
            Some(a) => (1u8, a.0),
            None => (0u8, [0u8; 20]),
        };
        sha256(&[b"ledger/state/v1", &self.tree.root().0, &self.tree.len().to_be_bytes(), &[flag], &dapp])
    }

    pub fn confirmed_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.asset_ids.get(asset).map_or_else(U256::zero, |&id| self.confirmed_by_id(account, id))
    }

    pub fn pending_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.asset_ids.get(asset).map_or_else(U256::zero, |&id| self.pending_by_id(account, id))
    }

    pub fn confirmed_supply(&self, asset: &Asset) -> U256 {
        self.asset_ids.get(asset).map_or_else(U256::zero, |&id| self.assets[id as usize].supply)
    }

    pub fn pending_supply(&self, asset: &Asset) -> U256 {
        self.asset_ids.get(asset).map_or_else(U256::zero, |&id| self.pending_supply_by_id(id))
    }

    pub(crate) fn confirmed_by_id(&self, account: &Address, id: u32) -> U256 {
        self.slots.get(&(*account, id)).map_or_else(U256::zero, |&s| self.amounts[s as usize])
    }

    pub(crate) fn pending_by_id(&self, account: &Address, id: u32) -> U256 {
        match self.pending.get(&(*account, id)) {
            Some(v) => *v,
            None => self.confirmed_by_id(account, id),
        }
    }

    pub(crate) fn pending_supply_by_id(&self, id: u32) -> U256 {
        self.pending_supply.get(&id).copied().unwrap_or(self.assets[id as usize].supply)
    }

    /// Processes one advance input. Rejected inputs change nothing; `Err(Fatal)` means the
    /// ledger can no longer be trusted and the shell must raise an exception.
    pub fn advance(&mut self, input: Input) -> Result<Outcome, Fatal> {
        if let Some(why) = &self.stopped {
            return Err(Fatal::Stopped(why.clone()));
        }
        self.inputs += 1;
        let result = self.advance_inner(input);
        if let Err(fatal) = &result {
            self.stopped = Some(fatal.to_string());
        }
        result
    }

    /// Counts a rejected input that never reached the ledger (the shell could not decode it).
    pub fn count_rejected_input(&mut self) {
        self.inputs += 1;
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
        for p in planned {
            txs.push(self.admit(p));
            if self.pool.len() >= self.config.max_block_txs as usize {
                sealed.push(self.seal(acting, input.timestamp)?);
            }
        }
        match input.action {
            Action::SetDappAddress(address) => self.dapp = Some(address),
            Action::Op(Op::Mine) => sealed.push(self.seal(acting, input.timestamp)?),
            _ => {}
        }
        Ok(Ok(Receipt { input: input.index, txs, sealed }))
    }

    /// Validates an input and computes the absolute balances each of its transactions writes.
    fn plan(&self, input: &Input, acting: Address, time_seal: bool) -> Result<Vec<Planned>, Rejection> {
        let mut scratch = Scratch::default();
        if time_seal {
            // The block sealed first credits its reward to the acting account.
            let reward = self.config.block_reward;
            let balance = self.pending_balance(&acting, &Asset::Coin);
            scratch.balances.insert((acting, Asset::Coin), balance.saturating_add(reward));
            scratch.supply.insert(Asset::Coin, self.pending_supply(&Asset::Coin).saturating_add(reward));
        }
        let txs: Vec<Tx> = match &input.action {
            Action::Deposit { depositor, credits } => credits
                .iter()
                .enumerate()
                .map(|(i, (asset, amount))| Tx {
                    kind: TxKind::Deposit,
                    input: input.index,
                    sub: i as u32,
                    from: *depositor,
                    to: *depositor,
                    asset: *asset,
                    amount: *amount,
                })
                .collect(),
            Action::SetDappAddress(_) | Action::Op(Op::Mine) => Vec::new(),
            Action::Op(Op::Transfer { to, asset, amount }) => {
                vec![Tx {
                    kind: TxKind::Transfer,
                    input: input.index,
                    sub: 0,
                    from: acting,
                    to: *to,
                    asset: *asset,
                    amount: *amount,
                }]
            }
            Action::Op(Op::Withdraw { asset, amount }) => {
                if self.dapp.is_none() && input.app_contract.is_none() {
                    return Err(Rejection::new(
                        ErrorCode::DappAddressUnknown,
                        "withdrawals need the dApp's own address, which is not known yet: relay it with DAppAddressRelay (Rollups v1) or set LEDGER_DAPP_ADDRESS",
                    ));
                }
                vec![Tx {
                    kind: TxKind::Withdraw,
                    input: input.index,
                    sub: 0,
                    from: acting,
                    to: acting,
                    asset: *asset,
                    amount: *amount,
                }]
            }
        };
        if txs.len() > 1 && txs.iter().any(|t| t.asset == Asset::Coin) {
            // Multi-transaction inputs may cross a seal whose reward changes COIN balances; the
            // absolute writes below assume they never touch COIN (deposits never do).
            return Err(Rejection::new(ErrorCode::UnknownAsset, "COIN cannot be deposited"));
        }
        txs.into_iter().map(|tx| self.step(&mut scratch, tx)).collect()
    }

    /// Applies one transaction to the scratch view and records its writes.
    fn step(&self, s: &mut Scratch, tx: Tx) -> Result<Planned, Rejection> {
        let balance = |s: &Scratch, a: Address, asset: Asset| {
            s.balances.get(&(a, asset)).copied().unwrap_or_else(|| self.pending_balance(&a, &asset))
        };
        let supply =
            |s: &Scratch, asset: Asset| s.supply.get(&asset).copied().unwrap_or_else(|| self.pending_supply(&asset));
        let amount = tx.amount;
        if amount.is_zero() {
            return Err(Rejection::new(ErrorCode::InvalidAmount, "amount must be greater than zero"));
        }
        let mut p =
            Planned { writes: [(Address::ZERO, Asset::Eth, U256::zero()); 2], write_count: 0, supply: None, tx };
        let tx = &p.tx;
        match tx.kind {
            TxKind::Deposit => {
                let total = supply(s, tx.asset);
                let new_total = total.checked_add(amount).ok_or_else(|| {
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
                let to = balance(s, tx.to, tx.asset).saturating_add(amount);
                p.writes[0] = (tx.to, tx.asset, to);
                p.write_count = 1;
                p.supply = Some((tx.asset, new_total));
            }
            TxKind::Transfer | TxKind::Withdraw => {
                let from = balance(s, tx.from, tx.asset);
                let Some(left) = from.checked_sub(amount) else {
                    return Err(Rejection::new(
                        ErrorCode::InsufficientFunds,
                        format!("{} holds {from} of {} (pending), needs {amount}", tx.from, tx.asset),
                    ));
                };
                p.writes[0] = (tx.from, tx.asset, left);
                p.write_count = 1;
                if tx.kind == TxKind::Transfer {
                    if tx.to != tx.from {
                        let to = balance(s, tx.to, tx.asset).saturating_add(amount);
                        p.writes[1] = (tx.to, tx.asset, to);
                        p.write_count = 2;
                    } else {
                        p.writes[0].2 = from;
                    }
                } else {
                    p.supply = Some((tx.asset, supply(s, tx.asset).saturating_sub(amount)));
                }
            }
        }
        for &(a, asset, v) in &p.writes[..p.write_count] {
            s.balances.insert((a, asset), v);
        }
        if let Some((asset, v)) = p.supply {
            s.supply.insert(asset, v);
        }
        Ok(p)
    }

    fn asset_id(&mut self, asset: Asset) -> u32 {
        if let Some(&id) = self.asset_ids.get(&asset) {
            return id;
        }
        let id = self.assets.len() as u32;
        self.assets.push(AssetEntry { asset, digest: sha256(&[&asset.encode()]).0, supply: U256::zero() });
        self.asset_ids.insert(asset, id);
        id
    }

    /// Writes a planned transaction into the pending view and the pool.
    fn admit(&mut self, p: Planned) -> Hash {
        for &(account, asset, value) in &p.writes[..p.write_count] {
            let id = self.asset_id(asset);
            self.pending.insert((account, id), value);
        }
        if let Some((asset, value)) = p.supply {
            let id = self.asset_id(asset);
            self.pending_supply.insert(id, value);
        }
        let hash = p.tx.hash();
        self.tx_index.insert(hash, TxLocation::Pending(self.pool.len() as u32));
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
            let coin = self.asset_id(Asset::Coin);
            let balance = self.pending_by_id(&miner, coin);
            let supply = self.pending_supply_by_id(coin);
            self.pending.insert((miner, coin), balance.saturating_add(reward));
            self.pending_supply.insert(coin, supply.saturating_add(reward));
        }

        // Flush pending into confirmed in key order; new entries get the next slots.
        let pending = std::mem::take(&mut self.pending);
        let mut leaves = Vec::with_capacity(pending.len());
        for ((account, id), value) in pending {
            let slot = match self.slots.get(&(account, id)) {
                Some(&slot) => {
                    self.amounts[slot as usize] = value;
                    slot
                }
                None => {
                    let slot = u32::try_from(self.amounts.len())
                        .map_err(|_| Fatal::Invariant("more than 2^32 balance entries".into()))?;
                    let first_of_account = self.slots.range((account, 0)..=(account, u32::MAX)).next().is_none();
                    self.addresses += u64::from(first_of_account);
                    self.slots.insert((account, id), slot);
                    self.amounts.push(value);
                    slot
                }
            };
            leaves.push((u64::from(slot), leaf_hash(&account, &self.assets[id as usize].digest, value)));
        }
        leaves.sort_unstable_by_key(|l| l.0);
        if !self.tree.update(&leaves) {
            return Err(Fatal::Invariant("state tree update out of order".into()));
        }
        for (id, supply) in std::mem::take(&mut self.pending_supply) {
            self.assets[id as usize].supply = supply;
        }

        let txs = std::mem::take(&mut self.pool);
        let hashes: Vec<Hash> = txs.iter().map(|(h, _)| *h).collect();
        let mut header = Header {
            version: HEADER_VERSION,
            height,
            timestamp,
            difficulty,
            tx_count: txs.len() as u32,
            miner,
            reward,
            prev_hash,
            tx_root: tx_root(&hashes),
            state_root: self.state_root(),
            nonce: 0,
        };
        header.mine(self.config.max_nonce_tries).ok_or(Fatal::NonceExhausted { height })?;
        let hash = header.hash();
        for (index, h) in hashes.iter().enumerate() {
            self.tx_index.insert(*h, TxLocation::Sealed { height, index: index as u32 });
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
        for ((a, id), v) in &self.pending {
            bytes.extend(a.0);
            bytes.extend(self.assets[*id as usize].digest);
            bytes.extend(u256_be(*v));
        }
        for (id, v) in &self.pending_supply {
            bytes.extend(self.assets[*id as usize].digest);
            bytes.extend(u256_be(*v));
        }
        for (h, _) in &self.pool {
            bytes.extend(h.0);
        }
        for a in &self.assets {
            bytes.extend(a.digest);
            bytes.extend(u256_be(a.supply));
        }
        sha256(&[&bytes])
    }

    /// Checks the chain from genesis: hash links, heights, proof of work, transaction roots,
    /// and that the incremental state tree equals a full recomputation.
    pub fn verify_chain(&self) -> Result<(), String> {
        for (i, block) in self.blocks.iter().enumerate() {
            let decoded = Header::decode(&block.header.encode()).map_err(|e| format!("block {i}: {e}"))?;
            if decoded.hash() != block.hash || decoded.height != i as u64 {
                return Err(format!("block {i}: stored hash or height does not match its header"));
            }
            let hashes: Vec<Hash> = block.txs.iter().map(|(h, _)| *h).collect();
            if tx_root(&hashes) != block.header.tx_root || block.txs.iter().any(|(h, tx)| tx.hash() != *h) {
                return Err(format!("block {i}: transaction root or hashes do not match"));
            }
            if i > 0 && block.header.prev_hash != self.blocks[i - 1].hash {
                return Err(format!("block {i}: prev_hash does not link to block {}", i - 1));
            }
        }
        if self.tree.root() != self.tree.recompute_root() {
            return Err("incremental state tree differs from a full recomputation".into());
        }
        Ok(())
    }

    /// Approximate heap bytes of the confirmed state (balances, slot index, state tree).
    pub fn state_heap_bytes(&self) -> usize {
        // A BTreeMap node holds up to 11 entries plus edges; 1.5x the entry size is a fair mean.
        let slot_entry = std::mem::size_of::<((Address, u32), u32)>();
        self.slots.len() * slot_entry * 3 / 2
            + self.amounts.capacity() * std::mem::size_of::<U256>()
            + self.tree.heap_bytes()
    }

    /// The JSON receipt reported for an accepted input.
    pub fn receipt_json(&self, receipt: &Receipt) -> Value {
        let txs: Vec<Value> = receipt
            .txs
            .iter()
            .map(|h| match self.tx_location(h) {
                Some(TxLocation::Sealed { height, .. }) => json!({"hash": h, "status": "sealed", "block": height}),
                _ => json!({"hash": h, "status": "pending"}),
            })
            .collect();
        let sealed: Vec<Value> = receipt
            .sealed
            .iter()
            .filter_map(|&h| self.block(h))
            .map(|b| json!({"height": b.header.height, "hash": b.hash, "tx_count": b.header.tx_count}))
            .collect();
        json!({"accepted": {"input": receipt.input, "txs": txs, "sealed_blocks": sealed}})
    }
}

/// A state-tree leaf: sha256 over a tag, the account, the asset digest and the amount.
fn leaf_hash(account: &Address, asset_digest: &[u8; 32], amount: U256) -> [u8; 32] {
    sha256(&[b"L", &account.0, asset_digest, &u256_be(amount)]).0
}

//! The ledger state machine: `advance(input) -> outcome`. An input is planned through `&self`
//! (`plan`), then committed here; `seal` builds blocks, `verify` re-checks what was built, and
//! [`crate::render`] turns it all into JSON.

mod plan;
mod seal;
mod verify;

use crate::asset::Asset;
use crate::block::{Header, HEADER_VERSION};
use crate::chain::{Block, Chain, StoredTx, TxLocation};
use crate::config::Config;
use crate::input::{Action, Fatal, Input, Outcome, Receipt};
use crate::merkle::{sha256, sha256_compressions};
use crate::op::Op;
use crate::state::State;
use crate::tx::{Tx, TX_ENCODED_LEN};
use crate::types::{Address, Hash, U256};
use plan::Planned;

/// SHA-256 compressions the ledger has run since it was created, by purpose: where the hashing
/// of admission and sealing goes (for benchmarks; not part of the state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compressions {
    /// Transaction hashes (sha256 of the canonical encoding).
    pub tx_hashes: u64,
    /// Transaction roots: the inner nodes of each block's transaction tree, and its domain block.
    pub tx_roots: u64,
    /// State-tree leaves: balances and asset-registry entries.
    pub leaves: u64,
    /// State-tree inner nodes: the paths above changed leaves.
    pub tree_nodes: u64,
    /// Headers: the state root, the midstate, every nonce try, and block hashes.
    pub headers: u64,
}

impl Compressions {
    pub fn total(&self) -> u64 {
        self.tx_hashes + self.tx_roots + self.leaves + self.tree_nodes + self.headers
    }
}

/// The ledger. Confirmed state is as of the tip; pending is confirmed plus the pool.
#[derive(Clone, Debug)]
pub struct Ledger {
    config: Config,
    state: State,
    dapp: Option<Address>,
    /// The dApp address as of the tip: the state root commits to this one, so it changes only
    /// when a block is sealed.
    confirmed_dapp: Option<Address>,
    pool: Vec<(Hash, Tx)>,
    chain: Chain,
    inputs: u64,
    stopped: Option<String>,
    /// Compressions counted where they happen (leaves and tree nodes are counted by the state).
    work: Compressions,
}

impl Ledger {
    /// A ledger at genesis. Genesis is derived from the configuration alone: its `prev_hash` is
    /// the configuration hash, so nodes with different settings never share a chain.
    pub fn new(config: Config) -> Result<Ledger, Fatal> {
        config.validate().map_err(|e| Fatal::Invariant(e.0))?;
        let state = State::new();
        let mut genesis = Header {
            version: HEADER_VERSION,
            height: 0,
            timestamp: config.genesis_timestamp,
            difficulty: config.difficulty_bits,
            tx_count: 0,
            miner: Address::ZERO,
            reward: U256::zero(),
            prev_hash: config.hash(),
            tx_root: Hash::ZERO,
            state_root: state_root(&state, config.dapp_address),
            nonce: 0,
        };
        genesis.mine(config.max_nonce_tries).ok_or(Fatal::NonceExhausted { height: 0 })?;
        Ok(Ledger {
            state,
            dapp: config.dapp_address,
            confirmed_dapp: config.dapp_address,
            pool: Vec::new(),
            chain: Chain::new(genesis),
            inputs: 0,
            stopped: None,
            work: Compressions::default(),
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    pub(crate) fn chain(&self) -> &Chain {
        &self.chain
    }

    pub fn tip(&self) -> &Block {
        self.chain.tip()
    }

    pub fn height(&self) -> u64 {
        self.tip().header.height
    }

    pub fn block(&self, height: u64) -> Option<&Block> {
        self.chain.block(height)
    }

    pub fn block_by_hash(&self, hash: &Hash) -> Option<&Block> {
        self.chain.height_of(hash).and_then(|h| self.block(h))
    }

    pub(crate) fn materialize(&self, s: &StoredTx) -> Tx {
        Tx {
            kind: s.kind,
            input: s.input,
            sub: s.sub,
            from: s.from,
            to: s.to,
            asset: self.state.asset(s.asset).asset,
            amount: s.amount,
        }
    }

    /// A block's transactions with their hashes, in block order.
    pub fn block_txs(&self, block: &Block) -> Vec<(Hash, Tx)> {
        block.txs.iter().map(|s| self.materialize(s)).map(|tx| (tx.hash(), tx)).collect()
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
        self.chain.tx_candidates(hash).find_map(|(height, index)| {
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

    /// The commitment to the whole confirmed state: sha256 of a domain tag, the balance and
    /// asset trees' roots and leaf counts, and the dApp address if known.
    pub fn state_root(&self) -> Hash {
        state_root(&self.state, self.confirmed_dapp)
    }

    /// SHA-256 compressions run so far, by purpose.
    pub fn compressions(&self) -> Compressions {
        let (leaves, tree_nodes) = self.state.tree_compressions();
        Compressions { leaves, tree_nodes, ..self.work }
    }

    pub fn confirmed_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.state.confirmed_balance(account, asset)
    }

    pub fn pending_balance(&self, account: &Address, asset: &Asset) -> U256 {
        self.state.pending_balance(account, asset)
    }

    pub fn confirmed_supply(&self, asset: &Asset) -> U256 {
        self.state.confirmed_supply(asset)
    }

    pub fn pending_supply(&self, asset: &Asset) -> U256 {
        self.state.pending_supply(asset)
    }

    /// Processes one advance input. Rejected inputs change nothing; `Err(Fatal)` means the
    /// ledger can no longer be trusted and the shell must raise an exception.
    pub fn advance(&mut self, input: Input) -> Result<Outcome, Fatal> {
        if let Some(why) = &self.stopped {
            return Err(Fatal::Stopped(why.clone()));
        }
        // The time trigger: a waiting pool is sealed before the input is handled. A `mine`
        // seals the pool itself, so it needs no separate block.
        let is_mine = matches!(input.action, Action::Op(Op::Mine));
        let time_seal = !is_mine
            && !self.pool.is_empty()
            && input.timestamp >= self.tip().header.timestamp.saturating_add(self.config.block_interval);
        // Plan everything against the view the input will see, then commit. Nothing is
        // written unless the whole input is valid.
        let planned = match self.plan(&input, time_seal) {
            Ok(p) => p,
            Err(rejection) => return Ok(Err(rejection)),
        };
        let result = self.commit(input, time_seal, planned);
        match &result {
            Ok(_) => self.inputs += 1,
            Err(fatal) => self.stopped = Some(fatal.to_string()),
        }
        result.map(Ok)
    }

    /// Applies a valid input's plan: the time-triggered seal, each transaction's admission
    /// (sealing whenever the pool is full), and the input's own effect.
    fn commit(&mut self, input: Input, time_seal: bool, planned: Vec<Planned>) -> Result<Receipt, Fatal> {
        let acting = input.acting();
        if let Some(app) = input.app_contract {
            self.dapp = Some(app);
        }
        let mut sealed = Vec::new();
        if time_seal {
            sealed.push(self.seal(acting, input.timestamp)?);
        }
        let mut txs = Vec::with_capacity(planned.len());
        let mut tx_blocks = Vec::with_capacity(planned.len());
        for p in planned {
            txs.push(self.admit(p));
            tx_blocks.push(None);
            if self.pool.len() >= self.config.max_block_txs as usize {
                let height = self.seal(acting, input.timestamp)?;
                // The input's transactions still in the pool are sealed at `height`.
                for b in tx_blocks.iter_mut().filter(|b| b.is_none()) {
                    *b = Some(height);
                }
                sealed.push(height);
            }
        }
        match input.action {
            Action::SetDappAddress(address) => self.dapp = Some(address),
            Action::Op(Op::Mine) => sealed.push(self.seal(acting, input.timestamp)?),
            _ => {}
        }
        Ok(Receipt { input: input.index, txs, tx_blocks, sealed })
    }

    /// Writes a planned transaction into the pending view and the pool.
    fn admit(&mut self, p: Planned) -> Hash {
        for w in p.writes.into_iter().flatten() {
            let id = w.asset_id.unwrap_or_else(|| self.state.register(w.asset));
            // A slot unknown at planning time may have been created by an earlier transaction
            // of the same input.
            let slot = w.slot.unwrap_or_else(|| self.state.slot(w.account, id));
            self.state.set_pending(slot, w.value);
        }
        if let Some((asset, id, value)) = p.supply {
            let id = id.unwrap_or_else(|| self.state.register(asset));
            self.state.set_pending_supply(id, value);
        }
        let digest = self.state.known_id(&p.tx.asset).map(|id| self.state.asset(id).digest);
        let hash = match digest {
            Some(d) => sha256(&[&p.tx.encode_with(&d)]),
            None => p.tx.hash(),
        };
        self.work.tx_hashes += sha256_compressions(TX_ENCODED_LEN);
        self.pool.push((hash, p.tx));
        hash
    }
}

/// Length of the message [`state_root`] hashes.
const STATE_ROOT_LEN: usize = 15 + 32 + 8 + 32 + 8 + 1 + 20;

/// sha256 of a domain tag, the balance tree's root and leaf count, the asset tree's root and
/// leaf count, and the dApp address if known.
fn state_root(state: &State, dapp: Option<Address>) -> Hash {
    let (flag, dapp) = match dapp {
        Some(a) => (1u8, a.0),
        None => (0u8, [0u8; 20]),
    };
    let [(balances, entries), (assets, registered)] = state.tree_commitment();
    sha256(&[
        b"ledger/state/v2",
        &balances.0,
        &entries.to_be_bytes(),
        &assets.0,
        &registered.to_be_bytes(),
        &[flag],
        &dapp,
    ])
}

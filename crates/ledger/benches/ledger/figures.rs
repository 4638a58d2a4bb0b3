//! The figures: each runs its workload and prints what it measured.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ledger::block::{Header, NonceSearch, HEADER_VERSION};
use ledger::merkle::compress;
use ledger::{Action, Asset, Compressions, Hash, Op, U256};

use crate::support::{account, bench_config, live_bytes, transfer, CpuClock, Driver, Sizes, SplitMix, T0};

pub(crate) struct CoreResult {
    pub(crate) block_txs: u32,
    pub(crate) transfers: u64,
    pub(crate) total: Duration,
    /// Compressions the ledger counted during the timed transfers.
    pub(crate) work: Compressions,
}

impl CoreResult {
    pub(crate) fn per_sec(&self) -> f64 {
        self.transfers as f64 / self.total.as_secs_f64()
    }

    /// Compressions counted per transfer, in total.
    pub(crate) fn compressions(&self) -> f64 {
        self.work.total() as f64 / self.transfers as f64
    }

    /// Where the counted compressions go, per transfer.
    pub(crate) fn breakdown(&self) -> String {
        let w = &self.work;
        let per = |n: u64| n as f64 / self.transfers as f64;
        format!(
            "tx hash {:.2}, tx root {:.2}, leaves {:.2}, tree nodes {:.2}, headers {:.3}",
            per(w.tx_hashes),
            per(w.tx_roots),
            per(w.leaves),
            per(w.tree_nodes),
            per(w.headers)
        )
    }
}

fn minus(a: Compressions, b: Compressions) -> Compressions {
    Compressions {
        tx_hashes: a.tx_hashes - b.tx_hashes,
        tx_roots: a.tx_roots - b.tx_roots,
        leaves: a.leaves - b.leaves,
        tree_nodes: a.tree_nodes - b.tree_nodes,
        headers: a.headers - b.headers,
    }
}

/// Figure 1: random ETH transfers between funded accounts through `advance`, sealing by the
/// pool-full trigger, sealing included. The input whose admission fills the pool (and so seals)
/// is timed separately too, to split admission from sealing.
pub(crate) fn core_throughput(sizes: &Sizes, block_txs: u32) -> CoreResult {
    let accounts = sizes.core_accounts;
    let mut d = Driver::new(bench_config(block_txs));
    let funding = d.fund(accounts);
    let blocks = if sizes.quick { sizes.core_blocks } else { 500_000 / u64::from(block_txs) };
    let mut rng = SplitMix(0xC0FFEE ^ u64::from(block_txs));
    let mut wall = Duration::ZERO;
    let mut sealing_inputs = Duration::ZERO;
    let height_before = d.ledger.height();
    let work_before = d.ledger.compressions();
    let clock = CpuClock::start();
    for _ in 0..blocks {
        let t0 = Instant::now();
        for _ in 1..block_txs {
            let (from, action) = transfer(&mut rng, accounts);
            let r = d.advance(from, action);
            if !r.sealed.is_empty() {
                panic!("a transfer sealed before the pool was full");
            }
        }
        let t1 = Instant::now();
        let (from, action) = transfer(&mut rng, accounts);
        let r = d.advance(from, action);
        let t2 = Instant::now();
        if r.sealed.len() != 1 {
            panic!("the pool-full trigger did not seal");
        }
        wall += t2 - t0;
        sealing_inputs += t2 - t1;
    }
    let total = clock.elapsed();
    let transfers = blocks * u64::from(block_txs);
    if d.ledger.height() - height_before != blocks || !d.ledger.pool().is_empty() {
        panic!("unexpected chain shape after the throughput run");
    }
    println!(
        "  [1] {accounts} accounts funded by {accounts} Deposit inputs in {:.2} s (untimed for the figure: {:.0} deposits/s)",
        funding.as_secs_f64(),
        accounts as f64 / funding.as_secs_f64()
    );
    let r = CoreResult { block_txs, transfers, total, work: minus(d.ledger.compressions(), work_before) };
    println!(
        "  [1] max_block_txs {block_txs}: {transfers} transfers in {blocks} blocks, {:.3} s {} => {:.0} transfers/s \
         ({:.2} us/transfer; wall time {:.3} s: admission {:.2} us, sealing {:.1} us/block = {:.2} us/transfer)",
        total.as_secs_f64(),
        CpuClock::kind(),
        r.per_sec(),
        total.as_secs_f64() * 1e6 / transfers as f64,
        wall.as_secs_f64(),
        (wall - sealing_inputs).as_secs_f64() * 1e6 / transfers as f64,
        sealing_inputs.as_secs_f64() * 1e6 / blocks as f64,
        sealing_inputs.as_secs_f64() * 1e6 / transfers as f64,
    );
    println!(
        "  [1] max_block_txs {block_txs}: {:.2} SHA-256 compressions counted per transfer ({})",
        r.compressions(),
        r.breakdown()
    );
    r
}

pub(crate) struct PowResult {
    pub(crate) tries_per_sec: f64,
    pub(crate) compress_per_sec: f64,
}

/// Figure 2: `NonceSearch::meets_target` at 64 bits of difficulty (never met) against raw
/// `merkle::compress` of a 64-byte block, interleaved rounds, best round of each.
pub(crate) fn proof_of_work(sizes: &Sizes) -> PowResult {
    let header = Header {
        version: HEADER_VERSION,
        height: 1,
        timestamp: T0,
        difficulty: 64,
        tx_count: 0,
        miner: account(1),
        reward: U256::from(50u64),
        prev_hash: Hash([7; 32]),
        tx_root: Hash([8; 32]),
        state_root: Hash([9; 32]),
        nonce: 0,
    };
    let n = sizes.pow_tries;
    let mut best_tries = f64::MAX;
    let mut best_compress = f64::MAX;
    for _ in 0..sizes.pow_rounds {
        let mut search = NonceSearch::new(black_box(&header));
        let start = CpuClock::start();
        let mut met = 0u64;
        for nonce in 0..n {
            met += u64::from(search.meets_target(black_box(nonce)));
        }
        let t = start.elapsed().as_secs_f64();
        if black_box(met) != 0 {
            panic!("a 64-bit target was met");
        }
        best_tries = best_tries.min(t);

        let iv: [u32; 8] =
            [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        let mut block = [0x5au8; 64];
        let mut acc = 0u32;
        let start = CpuClock::start();
        for i in 0..n {
            block[..8].copy_from_slice(&i.to_be_bytes());
            let mut state = iv;
            compress(&mut state, black_box(&block));
            acc ^= state[0];
        }
        let t = start.elapsed().as_secs_f64();
        black_box(acc);
        best_compress = best_compress.min(t);
    }
    let r = PowResult { tries_per_sec: n as f64 / best_tries, compress_per_sec: n as f64 / best_compress };
    println!(
        "  [2] {n} tries x {} rounds (best): meets_target {:.2} M tries/s ({:.1} ns/try); \
         raw compress {:.2} M/s ({:.1} ns); ratio {:.3}",
        sizes.pow_rounds,
        r.tries_per_sec / 1e6,
        1e9 / r.tries_per_sec,
        r.compress_per_sec / 1e6,
        1e9 / r.compress_per_sec,
        r.tries_per_sec / r.compress_per_sec
    );
    r
}

pub(crate) struct SealResult {
    /// State-tree inner nodes hashed per block: the deterministic part of the cost.
    pub(crate) nodes: f64,
    pub(crate) accounts: u64,
    pub(crate) mean: Duration,
    pub(crate) min: Duration,
    pub(crate) distinct_accounts: f64,
}

/// Figure 3: with `max_block_txs` above the block size, admit `seal_block_txs` transfers between
/// accounts all distinct within the block (untimed), then time the `mine` input that seals them;
/// mean over several blocks. Both ledger sizes thus write the same number of balances per
/// block, so the ratio isolates the effect of the account count.
pub(crate) fn sealing_cost(sizes: &Sizes, d: &mut Driver, accounts: u64) -> SealResult {
    let mut rng = SplitMix(0x5EA1 ^ accounts);
    let mut total = Duration::ZERO;
    let mut min = Duration::MAX;
    let mut distinct = 0usize;
    let hashed_before = d.ledger.state_tree_nodes_hashed();
    for _ in 0..sizes.seal_blocks {
        let mut touched = BTreeSet::new();
        let mut pick = |rng: &mut SplitMix| loop {
            let a = rng.below(accounts);
            if touched.insert(a) {
                return a;
            }
        };
        for _ in 0..sizes.seal_block_txs {
            let (from, to) = (pick(&mut rng), pick(&mut rng));
            let amount = U256::from(1 + rng.below(1000));
            d.advance(account(from), Action::Op(Op::Transfer { to: account(to), asset: Asset::Eth, amount }));
        }
        distinct += touched.len();
        let miner = account(0);
        let start = Instant::now();
        let r = d.advance(miner, Action::Op(Op::Mine));
        let t = start.elapsed();
        if r.sealed.len() != 1 || !d.ledger.pool().is_empty() {
            panic!("mine did not seal the pool");
        }
        total += t;
        min = min.min(t);
    }
    let r = SealResult {
        accounts,
        mean: total / sizes.seal_blocks as u32,
        min,
        distinct_accounts: distinct as f64 / sizes.seal_blocks as f64,
        nodes: (d.ledger.state_tree_nodes_hashed() - hashed_before) as f64 / sizes.seal_blocks as f64,
    };
    println!(
        "  [3] {accounts} accounts: sealing a {}-transfer block (mean of {}): {:.1} us (min {:.1} us), \
         {:.0} distinct accounts written per block",
        sizes.seal_block_txs,
        sizes.seal_blocks,
        r.mean.as_secs_f64() * 1e6,
        r.min.as_secs_f64() * 1e6,
        r.distinct_accounts
    );
    r
}

pub(crate) struct MemResult {
    pub(crate) accounts: u64,
    pub(crate) total_per_account: f64,
    pub(crate) state_per_account: f64,
}

pub(crate) struct LargeResults {
    pub(crate) mem: MemResult,
    pub(crate) seal_small: SealResult,
    pub(crate) seal_large: SealResult,
}

/// Figures 4 and 3: fund a large ledger while counting live heap bytes, then compare sealing
/// cost against a small ledger.
pub(crate) fn large_ledger(sizes: &Sizes) -> LargeResults {
    println!(
        "\n[4] memory: live heap (counting global allocator) of a ledger funded with {} accounts \
         (one Deposit each, max_block_txs 10000)",
        sizes.large_accounts
    );
    let before = live_bytes();
    let mut large = Driver::new(bench_config(10_000));
    let funding = large.fund(sizes.large_accounts);
    let total_bytes = live_bytes().saturating_sub(before);
    let state_bytes = large.ledger.state_heap_bytes();
    let n = sizes.large_accounts as f64;
    let mem = MemResult {
        accounts: sizes.large_accounts,
        total_per_account: total_bytes as f64 / n,
        state_per_account: state_bytes as f64 / n,
    };
    // Where the bytes go (type sizes, for the report).
    println!(
        "  [4] funding {} accounts took {:.2} s ({:.0} deposits/s), height {}",
        sizes.large_accounts,
        funding.as_secs_f64(),
        n / funding.as_secs_f64(),
        large.ledger.height()
    );
    println!(
        "  [4] (a) total live heap {:.1} MiB => {:.0} bytes/account (state, blocks, tx history and index)",
        total_bytes as f64 / f64::from(1 << 20),
        mem.total_per_account
    );
    println!(
        "  [4] (b) state_heap_bytes() {:.1} MiB => {:.0} bytes/account (balances, slot index, state tree)",
        state_bytes as f64 / f64::from(1 << 20),
        mem.state_per_account
    );
    println!(
        "\n[3] sealing cost: {} vs {} funded accounts, blocks of {} random transfers sealed by a timed `mine` input",
        sizes.small_accounts, sizes.large_accounts, sizes.seal_block_txs
    );
    let mut small = Driver::new(bench_config(10_000));
    small.fund(sizes.small_accounts);
    let seal_small = sealing_cost(sizes, &mut small, sizes.small_accounts);
    let seal_large = sealing_cost(sizes, &mut large, sizes.large_accounts);
    println!(
        "  [3] ratio {} / {} accounts: {:.2}",
        seal_large.accounts,
        seal_small.accounts,
        seal_large.mean.as_secs_f64() / seal_small.mean.as_secs_f64()
    );
    LargeResults { mem, seal_small, seal_large }
}

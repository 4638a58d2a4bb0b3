//! Ledger benchmarks. They print figures and assert nothing about timings.
//!
//! Run: `cargo bench -p ledger --bench ledger`. Quick variant (small sizes, for a CI smoke run):
//! `LEDGER_BENCH_QUICK=1 cargo bench -p ledger --bench ledger` or
//! `cargo bench -p ledger --bench ledger -- --quick`. When the binary is run without cargo
//! bench's `--bench` flag (e.g. by `cargo test --all-targets`) it also runs the quick variant.
//! `LEDGER_BENCH_ONLY=1,2` runs only the listed figures (3 and 4 share their 1M-account ledger),
//! which is handy under a profiler.
//!
//! Figures:
//! 1. transfers/s through `Ledger::advance`, admission and sealing included;
//! 2. proof-of-work nonce tries/s against raw SHA-256 compressions/s;
//! 3. sealing cost per block with 1M accounts against 1k accounts;
//! 4. heap bytes per account with 1M accounts (a counting global allocator).

// Benches measure wall time (`Instant`) and read their own knobs from the environment; the
// ledger itself never does either (its clippy.toml forbids both in the library).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// The counting global allocator below needs `unsafe impl GlobalAlloc`; it only forwards to
// `System` and adjusts a counter.
#![allow(unsafe_code)]
// A benchmark's output is its figures on stdout.
#![allow(clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ledger::block::{Header, NonceSearch, HEADER_VERSION};
use ledger::merkle::compress;
use ledger::{Action, Address, Asset, Config, Hash, Input, Ledger, Op, Receipt, U256};

// ---------------------------------------------------------------------------------------------
// Counting allocator: live heap bytes of the whole process (the bench is single-threaded).

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// is only bookkeeping and never influences what is returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Deterministic inputs.

/// splitmix64: a small deterministic PRNG (no `rand` dependency).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Account `i`: pseudo-random bytes (so map keys arrive in no particular order), unique because
/// the last four bytes are `i` itself.
fn account(i: u64) -> Address {
    let mut a = [0u8; 20];
    a[..8].copy_from_slice(&mix(i ^ 0xA5A5_0000_0000_0001).to_be_bytes());
    a[8..16].copy_from_slice(&mix(i.wrapping_add(0x1234_5678)).to_be_bytes());
    a[16..].copy_from_slice(&(i as u32).to_be_bytes());
    Address(a)
}

const PORTAL: Address = Address([0xee; 20]);
const T0: u64 = 1_700_000_000;
const ONE_ETH: u64 = 1_000_000_000_000_000_000;

/// Low difficulty (1 bit at genesis, retargeting within 0..=4 bits); every input carries the
/// same timestamp and the block interval is huge, so only the pool-full and `mine` triggers seal.
fn bench_config(max_block_txs: u32) -> Config {
    Config {
        difficulty_bits: 1,
        min_difficulty_bits: 0,
        max_difficulty_bits: 4,
        // validate() requires at least 2^(max + 6).
        max_nonce_tries: 1 << 10,
        max_block_txs,
        block_interval: 1 << 40,
        genesis_timestamp: T0,
        ..Config::default()
    }
}

/// A ledger plus the input counter that feeds it.
struct Driver {
    ledger: Ledger,
    next_input: u64,
}

impl Driver {
    fn new(config: Config) -> Driver {
        Driver { ledger: Ledger::new(config).expect("valid bench configuration"), next_input: 0 }
    }

    /// Feeds one input; a rejection or a fatal error is a broken bench, not a figure.
    #[inline]
    fn advance(&mut self, sender: Address, action: Action) -> Receipt {
        let input = Input { index: self.next_input, sender, timestamp: T0, app_contract: None, action };
        self.next_input += 1;
        match self.ledger.advance(input) {
            Ok(Ok(receipt)) => receipt,
            Ok(Err(rejection)) => panic!("bench input rejected: {rejection:?}"),
            Err(fatal) => panic!("ledger fatal error: {fatal}"),
        }
    }

    /// Deposits 1 ETH to each of accounts `0..n`, one Deposit input per account, then seals any
    /// remainder with a `mine`. Returns the time taken.
    fn fund(&mut self, n: u64) -> Duration {
        let start = Instant::now();
        for i in 0..n {
            let action = Action::Deposit { depositor: account(i), credits: vec![(Asset::Eth, U256::from(ONE_ETH))] };
            self.advance(PORTAL, action);
        }
        if !self.ledger.pool().is_empty() {
            self.advance(account(0), Action::Op(Op::Mine));
        }
        start.elapsed()
    }
}

fn transfer(rng: &mut SplitMix, accounts: u64) -> (Address, Action) {
    let from = rng.below(accounts);
    let mut to = rng.below(accounts - 1);
    if to >= from {
        to += 1;
    }
    let amount = U256::from(1 + rng.below(1000));
    (account(from), Action::Op(Op::Transfer { to: account(to), asset: Asset::Eth, amount }))
}

// ---------------------------------------------------------------------------------------------
// Figures.

struct Sizes {
    quick: bool,
    core_accounts: u64,
    core_blocks: u64,
    pow_tries: u64,
    pow_rounds: u32,
    small_accounts: u64,
    large_accounts: u64,
    seal_block_txs: u64,
    seal_blocks: u64,
}

impl Sizes {
    fn pick(quick: bool) -> Sizes {
        if quick {
            Sizes {
                quick,
                core_accounts: 10_000,
                core_blocks: 4,
                pow_tries: 200_000,
                pow_rounds: 1,
                small_accounts: 1_000,
                large_accounts: 20_000,
                seal_block_txs: 250,
                seal_blocks: 3,
            }
        } else {
            Sizes {
                quick,
                core_accounts: 100_000,
                core_blocks: 0, // derived per block size: 500k transfers
                pow_tries: 20_000_000,
                pow_rounds: 3,
                small_accounts: 1_000,
                large_accounts: 1_000_000,
                seal_block_txs: 250,
                seal_blocks: 20,
            }
        }
    }
}

struct CoreResult {
    block_txs: u32,
    transfers: u64,
    total: Duration,
}

impl CoreResult {
    fn per_sec(&self) -> f64 {
        self.transfers as f64 / self.total.as_secs_f64()
    }
}

/// Figure 1: random ETH transfers between funded accounts through `advance`, sealing by the
/// pool-full trigger, sealing included. The input whose admission fills the pool (and so seals)
/// is timed separately too, to split admission from sealing.
fn core_throughput(sizes: &Sizes, block_txs: u32) -> CoreResult {
    let accounts = sizes.core_accounts;
    let mut d = Driver::new(bench_config(block_txs));
    let funding = d.fund(accounts);
    let blocks = if sizes.quick { sizes.core_blocks } else { 500_000 / u64::from(block_txs) };
    let mut rng = SplitMix(0xC0FFEE ^ u64::from(block_txs));
    let mut total = Duration::ZERO;
    let mut sealing_inputs = Duration::ZERO;
    let height_before = d.ledger.height();
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
        total += t2 - t0;
        sealing_inputs += t2 - t1;
    }
    let transfers = blocks * u64::from(block_txs);
    if d.ledger.height() - height_before != blocks || !d.ledger.pool().is_empty() {
        panic!("unexpected chain shape after the throughput run");
    }
    println!(
        "  [1] {accounts} accounts funded by {accounts} Deposit inputs in {:.2} s (untimed for the figure: {:.0} deposits/s)",
        funding.as_secs_f64(),
        accounts as f64 / funding.as_secs_f64()
    );
    let r = CoreResult { block_txs, transfers, total };
    println!(
        "  [1] max_block_txs {block_txs}: {transfers} transfers in {blocks} blocks, {:.3} s => {:.0} transfers/s \
         ({:.2} us/transfer; admission {:.2} us, sealing {:.1} us/block = {:.2} us/transfer)",
        total.as_secs_f64(),
        r.per_sec(),
        total.as_secs_f64() * 1e6 / transfers as f64,
        (total - sealing_inputs).as_secs_f64() * 1e6 / transfers as f64,
        sealing_inputs.as_secs_f64() * 1e6 / blocks as f64,
        sealing_inputs.as_secs_f64() * 1e6 / transfers as f64,
    );
    r
}

struct PowResult {
    tries_per_sec: f64,
    compress_per_sec: f64,
}

/// Figure 2: `NonceSearch::meets_target` at 64 bits of difficulty (never met) against raw
/// `merkle::compress` of a 64-byte block, interleaved rounds, best round of each.
fn proof_of_work(sizes: &Sizes) -> PowResult {
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
        let start = Instant::now();
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
        let start = Instant::now();
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

struct SealResult {
    /// State-tree inner nodes hashed per block: the deterministic part of the cost.
    nodes: f64,
    accounts: u64,
    mean: Duration,
    min: Duration,
    distinct_accounts: f64,
}

/// Figure 3: with `max_block_txs` above the block size, admit `seal_block_txs` transfers between
/// accounts all distinct within the block (untimed), then time the `mine` input that seals them;
/// mean over several blocks. Both ledger sizes thus write the same number of balances per
/// block, so the ratio isolates the effect of the account count.
fn sealing_cost(sizes: &Sizes, d: &mut Driver, accounts: u64) -> SealResult {
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

struct MemResult {
    accounts: u64,
    total_per_account: f64,
    state_per_account: f64,
}

struct LargeResults {
    mem: MemResult,
    seal_small: SealResult,
    seal_large: SealResult,
}

/// Figures 4 and 3: fund a large ledger while counting live heap bytes, then compare sealing
/// cost against a small ledger.
fn large_ledger(sizes: &Sizes) -> LargeResults {
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env_quick = std::env::var("LEDGER_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let arg_quick = args.iter().any(|a| a == "--quick");
    let under_cargo_bench = args.iter().any(|a| a == "--bench");
    let quick = env_quick || arg_quick || !under_cargo_bench;
    let only = std::env::var("LEDGER_BENCH_ONLY").unwrap_or_default();
    let wanted = |fig: &str| only.trim().is_empty() || only.split(',').any(|f| f.trim() == fig);
    let sizes = Sizes::pick(quick);
    let variant = if quick { "QUICK" } else { "full" };
    let run = Instant::now();
    println!(
        "ledger bench ({variant} variant{}); single thread; figures only, nothing asserted",
        if quick && !env_quick && !arg_quick { ": not run by cargo bench" } else { "" }
    );

    // 2 first: it allocates nothing, so nothing else perturbs it.
    let pow = wanted("2").then(|| {
        println!("\n[2] proof of work: NonceSearch::meets_target (difficulty 64, never met) vs merkle::compress");
        proof_of_work(&sizes)
    });

    // Speeds are also given relative to raw SHA-256 compressions/s measured in this run, which
    // cancels most of the machine's speed and load out of the comparison between runs.
    let reference = pow.as_ref().map_or_else(
        || proof_of_work(&Sizes { pow_rounds: 1, ..Sizes::pick(true) }).compress_per_sec,
        |p| p.compress_per_sec,
    );
    let core: Vec<CoreResult> = if wanted("1") {
        println!(
            "\n[1] core throughput: {} funded accounts, random ETH transfers via Ledger::advance, \
             sealed by the pool-full trigger (difficulty 1, clamp 0..=4), sealing included",
            sizes.core_accounts
        );
        [1_000u32, 10_000].iter().map(|&b| core_throughput(&sizes, b)).collect()
    } else {
        Vec::new()
    };

    let large = (wanted("3") || wanted("4")).then(|| large_ledger(&sizes));

    let status = |ok: bool| if ok { "met" } else { "MISSED" };
    let row = |name: String, value: String, target: &str, status: &str| {
        println!("{name:<52} {value:>16} {target:>10} {status:>7}");
    };
    println!("\n== summary ({variant} variant, {:.1} s) ==", run.elapsed().as_secs_f64());
    row("figure".into(), "value".into(), "target", "status");
    for c in &core {
        row(
            format!("1 transfers/s ({}k acc, max_block_txs {})", sizes.core_accounts / 1000, c.block_txs),
            format!("{:.0}", c.per_sec()),
            ">= 500000",
            status(c.per_sec() >= 500_000.0),
        );
        row(
            format!("1 cost per transfer in SHA-256 compressions (max_block_txs {})", c.block_txs),
            format!("{:.1}", reference / c.per_sec()),
            "",
            "",
        );
    }
    if let Some(pow) = &pow {
        let ratio = pow.tries_per_sec / pow.compress_per_sec;
        row("2 nonce tries/s (meets_target)".into(), format!("{:.0}", pow.tries_per_sec), "", "");
        row("2 raw compressions/s (merkle::compress)".into(), format!("{:.0}", pow.compress_per_sec), "", "");
        row("2 ratio tries / compressions".into(), format!("{ratio:.3}"), ">= 0.7", status(ratio >= 0.7));
    }
    if let Some(l) = &large {
        for s in [&l.seal_small, &l.seal_large] {
            row(
                format!("3 seal us/block of {} txs, {} accounts", sizes.seal_block_txs, s.accounts),
                format!("{:.1}", s.mean.as_secs_f64() * 1e6),
                "",
                "",
            );
        }
        let ratio = l.seal_large.mean.as_secs_f64() / l.seal_small.mean.as_secs_f64();
        row("3 ratio large / small (time)".into(), format!("{ratio:.2}"), "", "");
        for s in [&l.seal_small, &l.seal_large] {
            row(
                format!("3 state-tree nodes hashed per block, {} accounts", s.accounts),
                format!("{:.0}", s.nodes),
                "",
                "",
            );
        }
        row(
            "3 ratio large / small (nodes hashed)".into(),
            format!("{:.2}", l.seal_large.nodes / l.seal_small.nodes),
            "",
            "",
        );
        // Memory is accounts x (state per account) + sealed transactions x (history per
        // transaction); this run seals exactly one transaction per account.
        row(
            format!("4 state bytes/account ({} accounts)", l.mem.accounts),
            format!("{:.0}", l.mem.state_per_account),
            "<= 300",
            status(l.mem.state_per_account <= 300.0),
        );
        row(
            "4 history bytes/sealed transaction".into(),
            format!("{:.0}", l.mem.total_per_account - l.mem.state_per_account),
            "",
            "",
        );
        row("4 total live heap bytes/account (1 tx each)".into(), format!("{:.0}", l.mem.total_per_account), "", "");
    }
}

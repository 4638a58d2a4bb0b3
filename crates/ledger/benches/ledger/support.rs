//! What every figure uses: the counting allocator, deterministic accounts and transfers, the
//! bench configuration and the driver that feeds a ledger.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ledger::{Action, Address, Asset, Config, Input, Ledger, Op, Receipt, U256};

// ---------------------------------------------------------------------------------------------
// Counting allocator: live heap bytes of the whole process (the bench is single-threaded).

pub(crate) struct Counting;

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

pub(crate) fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Time.

/// A stopwatch of this thread's on-CPU time (Linux `/proc/thread-self/schedstat`, in
/// nanoseconds), falling back to wall time elsewhere: on a shared machine, time spent waiting
/// for a core is not the ledger's cost, and both a figure and its reference are taken this way.
/// The kernel brings the count up to date at scheduler ticks, so it serves intervals of a
/// second or so (figures 1 and 2), not the sub-millisecond seal of figure 3.
pub(crate) struct CpuClock {
    wall: Instant,
    cpu: Option<Duration>,
}

fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

impl CpuClock {
    pub(crate) fn start() -> CpuClock {
        CpuClock { wall: Instant::now(), cpu: thread_cpu_time() }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        match (self.cpu, thread_cpu_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall.elapsed(),
        }
    }

    /// What [`CpuClock::elapsed`] measures, for the report.
    pub(crate) fn kind() -> &'static str {
        if thread_cpu_time().is_some() {
            "on-CPU time"
        } else {
            "wall time"
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic inputs.

/// splitmix64: a small deterministic PRNG (no `rand` dependency).
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is irrelevant here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Account `i`: pseudo-random bytes (so map keys arrive in no particular order), unique because
/// the last four bytes are `i` itself.
pub(crate) fn account(i: u64) -> Address {
    let mut a = [0u8; 20];
    a[..8].copy_from_slice(&mix(i ^ 0xA5A5_0000_0000_0001).to_be_bytes());
    a[8..16].copy_from_slice(&mix(i.wrapping_add(0x1234_5678)).to_be_bytes());
    a[16..].copy_from_slice(&(i as u32).to_be_bytes());
    Address(a)
}

pub(crate) const PORTAL: Address = Address([0xee; 20]);
pub(crate) const T0: u64 = 1_700_000_000;
pub(crate) const ONE_ETH: u64 = 1_000_000_000_000_000_000;

/// Low difficulty (1 bit at genesis, retargeting within 0..=4 bits); every input carries the
/// same timestamp and the block interval is huge, so only the pool-full and `mine` triggers seal.
pub(crate) fn bench_config(max_block_txs: u32) -> Config {
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
pub(crate) struct Driver {
    pub(crate) ledger: Ledger,
    pub(crate) next_input: u64,
}

impl Driver {
    pub(crate) fn new(config: Config) -> Driver {
        Driver { ledger: Ledger::new(config).expect("valid bench configuration"), next_input: 0 }
    }

    /// Feeds one input; a rejection or a fatal error is a broken bench, not a figure.
    #[inline]
    pub(crate) fn advance(&mut self, sender: Address, action: Action) -> Receipt {
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
    pub(crate) fn fund(&mut self, n: u64) -> Duration {
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

pub(crate) fn transfer(rng: &mut SplitMix, accounts: u64) -> (Address, Action) {
    let from = rng.below(accounts);
    let mut to = rng.below(accounts - 1);
    if to >= from {
        to += 1;
    }
    let amount = U256::from(1 + rng.below(1000));
    (account(from), Action::Op(Op::Transfer { to: account(to), asset: Asset::Eth, amount }))
}

// ---------------------------------------------------------------------------------------------
// Sizes.

pub(crate) struct Sizes {
    pub(crate) quick: bool,
    pub(crate) core_accounts: u64,
    pub(crate) core_blocks: u64,
    pub(crate) pow_tries: u64,
    pub(crate) pow_rounds: u32,
    pub(crate) small_accounts: u64,
    pub(crate) large_accounts: u64,
    pub(crate) seal_block_txs: u64,
    pub(crate) seal_blocks: u64,
}

impl Sizes {
    pub(crate) fn pick(quick: bool) -> Sizes {
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

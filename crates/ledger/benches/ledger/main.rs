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
//! 1. transfers/s through `Ledger::advance`, admission and sealing included, as a ratio to raw
//!    SHA-256 compressions/s of the same run (cost in compression times), and the compressions
//!    the ledger counts per transfer, by purpose (`Ledger::compressions`);
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

mod figures;
mod support;

use std::time::Instant;

use figures::{core_throughput, large_ledger, proof_of_work, CoreResult};
use support::{CpuClock, Sizes};

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
        "ledger bench ({variant} variant{}); single thread; figures only, nothing asserted; \
         speeds of figures 1 and 2 in {}",
        if quick && !env_quick && !arg_quick { ": not run by cargo bench" } else { "" },
        CpuClock::kind()
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
        let speed = c.per_sec();
        let cost = reference / speed;
        row(
            format!("1 transfers/s ({}k acc, max_block_txs {})", sizes.core_accounts / 1000, c.block_txs),
            format!("{speed:.0}"),
            ">= 800000",
            status(speed >= 800_000.0),
        );
        // The speed as a ratio to raw compressions/s of this run: the cost of a transfer in
        // compression times, which cancels most of the machine's speed and load.
        row(
            format!("1 cost per transfer in compression times (max_block_txs {})", c.block_txs),
            format!("{cost:.1}"),
            "<= 30",
            status(cost <= 30.0),
        );
        row(
            format!("1 compressions counted per transfer (max_block_txs {})", c.block_txs),
            format!("{:.1}", c.compressions()),
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

//! Settlement benchmark: the cost of closing an epoch (the v1 output trees, the epoch hash and
//! the proof of every output) for 1, 100 and 10,000 inputs, as a ratio to keccak-256 calls
//! measured in the same run. It prints figures and asserts nothing about timings.
//!
//! Run: `cargo bench -p devnode --bench settle` (`DEVNODE_BENCH_QUICK=1` for small sizes). The
//! time from a withdrawal's inclusion to an executable voucher is measured end to end by
//! `cargo bench -p devnode --bench node` (it needs anvil).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use devnode::settle::epoch_of;
use devnode::store::InputStatus;
use ledger::Address;
use rollup::wire::{HexBytes, Output, Voucher};
use sha3::{Digest, Keccak256};

/// An epoch shaped like the ledger's: every input has a report; every 64th seals a block (a
/// notice of about 2 KiB) and every 10th of those also pays out a withdrawal (a voucher); every
/// 20th input is rejected.
fn inputs(n: u64) -> Vec<(InputStatus, Vec<Output>)> {
    (0..n)
        .map(|i| {
            if i % 20 == 19 {
                return (InputStatus::Rejected, vec![Output::Report(vec![1; 100])]);
            }
            let mut outputs = vec![];
            if i % 64 == 63 || n < 64 {
                outputs.push(Output::Notice(vec![i as u8; 2048]));
                if i % 640 == 639 || n < 64 {
                    outputs.push(Output::Voucher(Voucher {
                        destination: Address([7; 20]),
                        value: None,
                        payload: HexBytes(vec![0xa9; 68]),
                    }));
                }
            }
            outputs.push(Output::Report(vec![2; 200]));
            (InputStatus::Accepted, outputs)
        })
        .collect()
}

fn main() {
    let quick = std::env::var("DEVNODE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
        || !std::env::args().any(|a| a == "--bench");
    let sizes: &[u64] = if quick { &[1, 100] } else { &[1, 100, 10_000] };

    // Reference: keccak-256 of 64 bytes (one tree node), in the same run.
    let rounds = if quick { 20_000 } else { 1_000_000 };
    let mut h = [0u8; 32];
    let start = Instant::now();
    for _ in 0..rounds {
        let mut k = Keccak256::new();
        k.update(h);
        k.update(h);
        h = k.finalize().into();
    }
    let per_hash = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!(
        "settle bench ({}): keccak-256 of a tree node {:.0} ns",
        if quick { "quick" } else { "full" },
        per_hash * 1e9
    );

    for &n in sizes {
        let epoch = inputs(n);
        let runs = if n >= 10_000 { 3 } else { 20 };
        let start = Instant::now();
        let mut proofs = 0;
        for _ in 0..runs {
            let (e, p) = epoch_of(0, &epoch);
            proofs = p.len();
            std::hint::black_box(e.hash());
        }
        let took = start.elapsed().as_secs_f64() / f64::from(runs);
        println!(
            "epoch of {n:>6} inputs: {:>9.2} ms to compute trees, hash and {proofs} proofs ({:.0} keccak-node equivalents)",
            took * 1e3,
            took / per_hash
        );
    }
}

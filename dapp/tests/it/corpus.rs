//! The fuzz targets' committed corpus (`fuzz/corpus/<target>/`), replayed on stable Rust through
//! the same invariant checks (`dapp::checks`) the fuzz targets run, plus the inputs that once
//! broke an invariant, each as its own test.

use dapp::app::Response;
use dapp::checks::{check_response, TARGETS};
use rollup::wire::Output;

use crate::golden::repo_root;

#[test]
fn the_fuzz_corpus_replays_through_the_invariant_checks() {
    for (name, check) in TARGETS {
        let dir = repo_root().join("fuzz/corpus").join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        assert!(files.len() >= 4, "{}: only {} corpus files", dir.display(), files.len());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{}: the {name} check fails on this input", file.display());
            }
        }
    }
}

#[test]
#[should_panic(expected = "output payload")]
fn the_checks_catch_an_oversized_output() {
    let report = serde_json::json!({"accepted": {"padding": "x".repeat(dapp::app::MAX_OUTPUT_BYTES)}});
    check_response(&Response { outputs: vec![Output::Report(report.to_string().into_bytes())], accept: true });
}

#[test]
#[should_panic(expected = "a rejection with outputs besides its report")]
fn the_checks_catch_a_rejection_with_outputs() {
    let report = br#"{"error":{"code":"UNKNOWN_OP","message":"x"}}"#.to_vec();
    check_response(&Response { outputs: vec![Output::Notice(vec![1]), Output::Report(report)], accept: false });
}

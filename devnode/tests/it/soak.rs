//! The kill -9 soak at CI size: the `devnode-soak` binary runs the debug `devnode` (anvil as its
//! child) and `dapp`, kills the node and its backend mid-stream, and compares the result with an
//! uninterrupted node reading the same chain.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `label → value` from the table the soak prints (`  <label>   <value>` lines).
fn figures(table: &str) -> HashMap<String, String> {
    table
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().rsplit_once(char::is_whitespace))
        .map(|(label, value)| (label.trim().to_owned(), value.to_owned()))
        .collect()
}

#[test]
fn the_node_follows_l1_through_kills_of_itself_and_its_backend() {
    let soak = PathBuf::from(env!("CARGO_BIN_EXE_devnode-soak"));
    let bin = soak.parent().unwrap();
    for name in ["devnode", "dapp"] {
        let path = bin.join(name);
        assert!(path.exists(), "{} is missing: run `cargo build -p devnode -p dapp` first", path.display());
    }
    let mut child = Command::new(&soak)
        .args(["--inputs", "80", "--restarts", "10", "--backend-kills", "3", "--seed", "7"])
        .env("LEDGER_DIFFICULTY_BITS", "4")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    // A soak that hangs is stopped with SIGTERM, on which it stops its nodes.
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    let status = status.unwrap_or_else(|| panic!("the soak ran past its deadline; {context}"));
    let f = figures(&stdout);
    let number = |label: &str| -> u64 {
        let value = f.get(label).unwrap_or_else(|| panic!("no {label:?} in the table; {context}"));
        value.parse().unwrap_or_else(|_| panic!("{label:?} is {value:?}; {context}"))
    };
    assert!(number("node restarts (kill -9)") >= 10, "{context}");
    assert!(number("backend kills (kill -9)") >= 3, "{context}");
    assert_eq!(number("inputs sent on L1 (receipts)"), 80, "{context}");
    assert_eq!(
        number("inputs on L1 at the end") + number("dropped by L1 itself"),
        number("inputs sent on L1 (receipts)"),
        "{context}"
    );
    // Half of the kills wait for the chain to be saved: L1 itself must keep a good part of the stream.
    assert!(number("inputs on L1 at the end") >= 20, "{context}");
    assert_eq!(number("stored by the node"), number("inputs on L1 at the end"), "{context}");
    for label in [
        "lost",
        "duplicated",
        "stale (not on L1)",
        "mismatched outputs/statuses",
        "children left after a kill",
        "node stopped by itself",
        "on L1, not sent by the soak",
        "claim disagreements",
        "not stopped in time (killed)",
        "inputs L1 lost in a clean stop",
        "inspects unanswered meanwhile",
        "not at the reference either",
    ] {
        assert_eq!(number(label), 0, "{label}; {context}");
    }
    assert_eq!(f.get("state roots equal").map(String::as_str), Some("yes"), "{context}");
    assert_eq!(f.get("L1 count equals its logs").map(String::as_str), Some("yes"), "{context}");
    assert!(status.success(), "{status}; {context}");
}

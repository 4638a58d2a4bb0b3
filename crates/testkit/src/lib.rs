//! Helpers shared by the tests of `rollup`, `dapp` and `devnode`, so each is written once: an HTTP
//! client ([`http`]), hand-built hex vectors ([`hex`]), local listeners and scratch directories,
//! the path of a workspace binary, and a fake rollup HTTP server ([`rollup_server`]) that serves
//! requests to a backend and records what it posts.
//!
//! Only ever a dev-dependency: nothing here is part of a shipped binary.

#![allow(clippy::unwrap_used)] // Test helpers fail loudly by design.

pub mod hex;
pub mod http;
pub mod rollup_server;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A TCP listener on a free local port: servers under test take their listener.
pub async fn local_listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// `N` listeners on free local ports.
pub async fn local_listeners<const N: usize>() -> [tokio::net::TcpListener; N] {
    let mut listeners = Vec::with_capacity(N);
    for _ in 0..N {
        listeners.push(local_listener().await);
    }
    listeners.try_into().unwrap_or_else(|_| unreachable!("N listeners were bound"))
}

/// A port that was free a moment ago, for programs that bind their own (a child process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh, empty path under the system's temporary directory, unique to this process and call:
/// `<prefix>-<tag>-<pid>-<n>`. The caller creates what it needs there.
pub fn scratch_dir(prefix: &str, tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{prefix}-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The repository's root (tests run in their package's folder, one or two levels below).
pub fn repo_root() -> PathBuf {
    let mut dir = std::env::current_dir().unwrap();
    while !dir.join("Cargo.lock").is_file() {
        assert!(dir.pop(), "no Cargo.lock above the test's folder");
    }
    dir
}

/// A binary of another package of the workspace: `$env_var` when set (relative to the
/// repository's root), else the one built into the running test's own target directory (the
/// test runs as `<target>/<profile>/deps/<name>-<hash>`), wherever `CARGO_TARGET_DIR` put it.
pub fn workspace_binary(name: &str, env_var: &str) -> PathBuf {
    let program = match std::env::var_os(env_var) {
        Some(path) => repo_root().join(path),
        None => {
            let exe = std::env::current_exe().unwrap();
            exe.parent().and_then(|deps| deps.parent()).unwrap().join(name)
        }
    };
    assert!(program.exists(), "{} is missing: build it (`cargo build -p {name}`) or set {env_var}", program.display());
    program
}

//! Process ownership: one node per data directory, and children that never outlive the node.
//!
//! Three mechanisms, each covering what the others cannot:
//!
//! - [`DataDir::acquire`] takes an exclusive lock on `<data-dir>/devnode.lock` for the node's whole
//!   life, so a second node on the same directory is refused instead of sharing anvil's state file
//!   and the SQLite store. The kernel drops the lock when the node dies, however it dies.
//! - [`own`] makes a spawned child receive SIGKILL when the node dies (`PR_SET_PDEATHSIG`), and puts
//!   it in its own process group so that a Ctrl-C in the terminal reaches only the node, which then
//!   stops its children in order (anvil saves its chain first).
//! - `<data-dir>/children` lists the running children with their process start time. If the node
//!   was killed in a way the death signal did not cover (it fires when the spawning *thread* exits,
//!   see [`own`]), the next node finds the leftovers there and stops them before it starts its own.
//!   The start time makes sure a recycled pid is never killed by mistake.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a leftover child may take to disappear after SIGKILL.
const STOP_DEADLINE: Duration = Duration::from_secs(5);
const STOP_POLL: Duration = Duration::from_millis(10);
/// Longest `children` file read back: a few lines are expected; anything larger is not ours.
const MAX_CHILDREN_FILE: u64 = 64 << 10;

/// What can go wrong owning the data directory and the children. Every message names the path
/// or process and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("the data directory {} exists and is not a directory; choose another --data-dir", .path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot create the data directory {}: {source}; choose another --data-dir", .path.display())]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot lock {}: {source}", .path.display())]
    Lock { path: PathBuf, source: std::io::Error },
    #[error(
        "another devnode{} is using {}; stop it or choose another --data-dir",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        .path.display()
    )]
    Busy { pid: Option<u32>, path: PathBuf },
    #[error("cannot {what} {}: {source}", .path.display())]
    File { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error(
        "a leftover {kind} (pid {pid}) of a previous run cannot be stopped: {reason}; stop it by hand (kill -9 {pid})"
    )]
    Unstoppable { kind: String, pid: u32, reason: String },
    #[error("cannot record the {kind} (pid {pid}): it is not running")]
    NotRunning { kind: String, pid: u32 },
}

/// One child as recorded in `<data-dir>/children`: `<pid> <kind> <start time>` per line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ChildRecord {
    pid: u32,
    kind: String,
    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot. With the pid, it names one process.
    start_time: u64,
}

impl ChildRecord {
    fn line(&self) -> String {
        format!("{} {} {}\n", self.pid, self.kind, self.start_time)
    }

    fn parse(line: &str) -> Option<ChildRecord> {
        let mut parts = line.split_whitespace();
        let pid = parts.next()?.parse().ok()?;
        let kind = parts.next()?.to_owned();
        let start_time = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(ChildRecord { pid, kind, start_time })
    }
}

/// The node's data directory, locked for as long as this value lives.
///
/// Acquire it before anything else touches the directory (the store, anvil's state file), then
/// [`record_child`](DataDir::record_child) each child right after spawning it and
/// [`forget_child`](DataDir::forget_child) it once it has exited.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    /// Holds the lock; closing it (when the node exits or dies) releases it.
    _lock: File,
    children: Mutex<Vec<ChildRecord>>,
}

impl DataDir {
    /// Creates the directory if missing, locks it, and stops the leftover children of a previous
    /// run that was killed. Blocks for up to a few seconds while leftovers exit: call it before
    /// starting the runtime, or from `spawn_blocking`.
    pub fn acquire(path: &Path) -> Result<DataDir, OwnerError> {
        if path.exists() && !path.is_dir() {
            return Err(OwnerError::NotADirectory { path: path.to_owned() });
        }
        std::fs::create_dir_all(path).map_err(|source| OwnerError::Create { path: path.to_owned(), source })?;

        let lock_path = path.join("devnode.lock");
        // Not truncated on open: the pid written by the node holding the lock is read below.
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|source| OwnerError::Lock { path: lock_path.clone(), source })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = lock.read_to_string(&mut text).ok().and_then(|_| text.trim().parse().ok());
                return Err(OwnerError::Busy { pid, path: path.to_owned() });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(OwnerError::Lock { path: lock_path, source }),
        }
        let write_pid = |lock: &mut File| -> std::io::Result<()> {
            lock.set_len(0)?;
            lock.write_all(format!("{}\n", std::process::id()).as_bytes())?;
            lock.sync_all()
        };
        write_pid(&mut lock).map_err(|source| OwnerError::File { what: "write", path: lock_path, source })?;

        let dir = DataDir { path: path.to_owned(), _lock: lock, children: Mutex::new(Vec::new()) };
        for leftover in dir.read_children()? {
            stop_leftover(&leftover)?;
        }
        dir.write_children(&[])?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a running child (`kind` is a word such as "anvil" or "backend") so that the next
    /// node can stop it if this one dies without stopping it.
    pub fn record_child(&self, kind: &str, pid: u32) -> Result<(), OwnerError> {
        // The kind is one word of a line; a stray space must not shift the start time.
        let kind: String = kind.chars().map(|c| if c.is_whitespace() { '-' } else { c }).collect();
        let Some(start_time) = process_start_time(pid) else {
            return Err(OwnerError::NotRunning { kind, pid });
        };
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        children.retain(|c| c.pid != pid);
        children.push(ChildRecord { pid, kind, start_time });
        self.write_children(&children)
    }

    /// Removes a child that has exited (or was stopped) from the record. A failure to rewrite the
    /// file is only logged: at worst the next node checks a pid whose start time no longer matches.
    pub fn forget_child(&self, pid: u32) {
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        children.retain(|c| c.pid != pid);
        if let Err(e) = self.write_children(&children) {
            tracing::warn!("{e}");
        }
    }

    fn children_path(&self) -> PathBuf {
        self.path.join("children")
    }

    fn read_children(&self) -> Result<Vec<ChildRecord>, OwnerError> {
        let path = self.children_path();
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(OwnerError::File { what: "read", path, source }),
        };
        let mut text = String::new();
        file.take(MAX_CHILDREN_FILE).read_to_string(&mut text).map_err(|source| OwnerError::File {
            what: "read",
            path: path.clone(),
            source,
        })?;
        let mut records = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match ChildRecord::parse(line) {
                Some(record) => records.push(record),
                None => tracing::warn!("ignoring a malformed line in {}: {line:?}", path.display()),
            }
        }
        Ok(records)
    }

    /// Replaces the file atomically: a reader (the next node) sees the old list or the new one.
    fn write_children(&self, children: &[ChildRecord]) -> Result<(), OwnerError> {
        let text: String = children.iter().map(ChildRecord::line).collect();
        write_atomically(&self.children_path(), text.as_bytes()).map_err(|source| OwnerError::File {
            what: "write",
            path: self.children_path(),
            source,
        })
    }
}

/// Writes `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the directory, so that after
/// a crash `path` holds either its old content or the new one, never a part.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ProcStat {
    /// Field 3: `Z` for a zombie, which has exited and only waits to be reaped.
    state: char,
    /// Field 5.
    process_group: i32,
    /// Field 22.
    start_time: u64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses `pid (comm) state ppid pgrp … starttime …`. The command name may contain spaces and
/// parentheses, so fields are counted after its last `)`.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3.
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        process_group: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// The start time of a live (not zombie) process.
fn process_start_time(pid: u32) -> Option<u64> {
    proc_stat(pid).filter(|s| s.state != 'Z').map(|s| s.start_time)
}

/// Whether the process recorded in `record` is still running (the same pid and start time).
fn still_running(record: &ChildRecord) -> bool {
    process_start_time(record.pid) == Some(record.start_time)
}

/// Kills a recorded child of a previous run if that very process is still running, with its
/// process group if it leads one, and waits until it is gone.
fn stop_leftover(record: &ChildRecord) -> Result<(), OwnerError> {
    let unstoppable = |reason: String| OwnerError::Unstoppable { kind: record.kind.clone(), pid: record.pid, reason };
    let Some(stat) = proc_stat(record.pid).filter(|s| s.state != 'Z' && s.start_time == record.start_time) else {
        return Ok(());
    };
    // Never signal init, the kernel's pids, or this very process (a pid recorded by an old node
    // can equal ours after a reboot; the start time makes that near impossible, this makes it so).
    let pid = i32::try_from(record.pid).map_err(|_| unstoppable("not a valid pid".into()))?;
    if pid <= 1 || record.pid == std::process::id() {
        return Ok(());
    }
    if stat.process_group == pid {
        // Its group holds what it started itself (a runner's emulated backend, for instance). An
        // error here is not fatal: the leader is killed below, and checked.
        let _ = sys::kill(-pid, libc::SIGKILL);
    }
    if let Err(e) = sys::kill(pid, libc::SIGKILL) {
        if e.raw_os_error() != Some(libc::ESRCH) {
            return Err(unstoppable(e.to_string()));
        }
    }
    let deadline = Instant::now() + STOP_DEADLINE;
    while still_running(record) {
        if Instant::now() >= deadline {
            return Err(unstoppable(format!("still running {STOP_DEADLINE:?} after SIGKILL")));
        }
        std::thread::sleep(STOP_POLL);
    }
    tracing::warn!("stopped a leftover {} (pid {}) of a previous run", record.kind, record.pid);
    Ok(())
}

/// Makes a child die with the node: it gets SIGKILL when the node dies (`PR_SET_PDEATHSIG`), and
/// it runs in its own process group, so that a Ctrl-C in the terminal reaches only the node,
/// which stops its children in order.
///
/// The death signal fires when the *thread* that spawned the child exits, not only the process.
/// Spawn owned commands from async code on the runtime (tokio's worker threads, and the thread
/// that runs `block_on`, live as long as the runtime), never from inside `spawn_blocking` or
/// `block_in_place`, whose threads exit when idle and would take the child with them.
pub fn own(cmd: &mut tokio::process::Command) {
    cmd.process_group(0);
    sys::die_with_parent(cmd);
}

/// The only unsafe code of the dev node: two system calls std does not wrap.
#[allow(unsafe_code)]
mod sys {
    /// Sends `signal` to a process (`pid > 0`) or a process group (`pid < 0`).
    pub(super) fn kill(pid: i32, signal: i32) -> std::io::Result<()> {
        // SAFETY: kill(2) takes two integers and touches no memory of ours.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    pub(super) fn die_with_parent(cmd: &mut tokio::process::Command) {
        let parent = std::process::id();
        let hook = move || {
            // SAFETY: this runs in the child between fork and exec, where only async-signal-safe
            // functions may be called; prctl(2) and getppid(2) are plain system calls, and the
            // closure allocates nothing (the error is built from a raw errno).
            unsafe {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl, before the death signal was
                // armed: then the child has been reparented already, and must not run orphaned.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            Ok(())
        };
        // SAFETY: the hook only makes async-signal-safe system calls (see above).
        unsafe {
            cmd.pre_exec(hook);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 \
                    1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(line), Some(ProcStat { state: 'S', process_group: 4242, start_time: 987654 }));
        assert_eq!(parse_stat("4242 (sleep) S 1"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn this_process_has_a_start_time() {
        let own = process_start_time(std::process::id());
        assert!(own.is_some());
        assert_eq!(process_start_time(std::process::id()), own, "a start time does not change");
    }

    #[test]
    fn child_records_round_trip_and_malformed_lines_are_refused() {
        let record = ChildRecord { pid: 12, kind: "anvil".into(), start_time: 345 };
        assert_eq!(ChildRecord::parse(record.line().trim_end()), Some(record));
        assert_eq!(ChildRecord::parse("12 anvil"), None);
        assert_eq!(ChildRecord::parse("12 anvil 345 extra"), None);
        assert_eq!(ChildRecord::parse("x anvil 345"), None);
    }

    #[test]
    fn atomic_writes_replace_the_file_and_leave_no_temporary() {
        let dir = std::env::temp_dir().join(format!("devnode-owner-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join("state");
        write_atomically(&file, b"old").unwrap_or_else(|e| panic!("{e}"));
        write_atomically(&file, b"new").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&file).unwrap_or_default(), b"new");
        assert!(!dir.join("state.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Process ownership: the data directory's lock, leftover children of a killed node, children
//! that die with their parent, and anvil's chain surviving stops and kills.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use devnode::l1::{Anvil, AnvilConfig, NodeModules, TxRequest, DEVNET_ACCOUNT_0, H256, U256};
use devnode::owner::{own, DataDir};

const HELPER_ENV: &str = "DEVNODE_OWN_HELPER";

fn scratch_dir(tag: &str) -> PathBuf {
    testkit::scratch_dir("devnode-owner", tag)
}

/// Fields 3 (state) and 5 (process group) of `/proc/<pid>/stat`; `None` once the process is gone.
fn state_and_group(pid: u32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    Some((fields.first()?.chars().next()?, fields.get(2)?.parse().ok()?))
}

/// Gone, or a zombie: exited and only waiting for its parent to reap it.
fn has_exited(pid: u32) -> bool {
    state_and_group(pid).is_none_or(|(state, _)| state == 'Z')
}

fn wait_until_exited(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !has_exited(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

fn sleeper() -> std::process::Child {
    std::process::Command::new("sleep").arg("60").stdin(Stdio::null()).spawn().unwrap()
}

#[test]
fn a_second_node_on_the_same_directory_is_refused_with_the_owner_s_pid() {
    let dir = scratch_dir("lock");
    let first = DataDir::acquire(&dir).unwrap();
    let error = DataDir::acquire(&dir).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "another devnode (pid {}) is using {}; stop it or choose another --data-dir",
            std::process::id(),
            dir.display()
        )
    );
    drop(first);
    // Another test of this binary spawning a process at this moment holds a copy of the lock's
    // descriptor between its fork and its exec (a few milliseconds): allow for that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let again = loop {
        match DataDir::acquire(&dir) {
            Err(e) if std::time::Instant::now() < deadline && e.to_string().starts_with("another devnode") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => break result,
        }
    };
    assert!(again.is_ok(), "the lock is released with the DataDir: {again:?}");
}

#[test]
fn a_data_dir_that_is_a_file_is_named_in_the_error() {
    let dir = scratch_dir("file");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let error = DataDir::acquire(&file).unwrap_err().to_string();
    assert!(error.contains(&file.display().to_string()), "{error}");
    assert!(error.contains("--data-dir"), "{error}");
    assert!(!error.contains("os error 17"), "{error}");
    // Below a file: the path is named too, not only the system's reason.
    let below = file.join("data");
    let error = DataDir::acquire(&below).unwrap_err().to_string();
    assert!(error.contains(&below.display().to_string()), "{error}");
}

#[test]
fn a_leftover_child_of_a_killed_node_is_stopped() {
    let dir = scratch_dir("leftover");
    let mut child = sleeper();
    let data = DataDir::acquire(&dir).unwrap();
    data.record_child("anvil", child.id()).unwrap();
    // The node "dies": the lock goes, the record stays.
    drop(data);
    let _data = DataDir::acquire(&dir).unwrap();
    assert!(has_exited(child.id()), "the leftover is gone when acquire returns");
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert_eq!(std::fs::read_to_string(dir.join("children")).unwrap(), "", "the record is cleared");
}

#[test]
fn a_leftover_s_process_group_is_stopped_with_it() {
    use std::os::unix::process::CommandExt;
    let dir = scratch_dir("group");
    // A leader that started a child of its own, as a runner or a shell would.
    let mut leader = std::process::Command::new("sh")
        .args(["-c", "sleep 60 & echo $!; wait"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(leader.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let grandchild: u32 = line.trim().parse().unwrap();
    assert!(!has_exited(grandchild));
    let data = DataDir::acquire(&dir).unwrap();
    data.record_child("backend", leader.id()).unwrap();
    drop(data);
    let _data = DataDir::acquire(&dir).unwrap();
    assert_eq!(leader.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(wait_until_exited(grandchild), "the leader's own child {grandchild} is stopped too");
}

#[test]
fn a_forgotten_child_is_left_alone() {
    let dir = scratch_dir("forget");
    let mut child = sleeper();
    let data = DataDir::acquire(&dir).unwrap();
    data.record_child("backend", child.id()).unwrap();
    data.forget_child(child.id());
    drop(data);
    let _data = DataDir::acquire(&dir).unwrap();
    assert_eq!(child.try_wait().unwrap(), None, "a forgotten child is not a leftover");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_recycled_pid_is_not_killed() {
    let dir = scratch_dir("recycled");
    let mut child = sleeper();
    let data = DataDir::acquire(&dir).unwrap();
    data.record_child("anvil", child.id()).unwrap();
    drop(data);
    // Same pid, another start time: the recorded process has gone and the pid was reused.
    let file = dir.join("children");
    let line = std::fs::read_to_string(&file).unwrap();
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts.len(), 3, "{line:?}");
    let other_start: u64 = parts[2].parse::<u64>().unwrap() + 1;
    std::fs::write(&file, format!("{} {} {other_start}\n", parts[0], parts[1])).unwrap();
    let _data = DataDir::acquire(&dir).unwrap();
    assert_eq!(child.try_wait().unwrap(), None, "a process with another start time is not ours");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Not a test: the helper process of `an_owned_child_dies_with_its_parent`, which runs this test
/// binary with only this function and `DEVNODE_OWN_HELPER` set. It spawns `sleep` with `own`,
/// prints its pid and waits to be killed.
#[test]
#[ignore = "a helper process, run by an_owned_child_dies_with_its_parent"]
fn own_helper() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut command = tokio::process::Command::new("sleep");
        command.arg("60");
        own(&mut command);
        let child = command.spawn().unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "OWNED_PID={}", child.id().unwrap()).unwrap();
        out.flush().unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
}

#[test]
fn an_owned_child_dies_with_its_parent() {
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["owner::own_helper", "--exact", "--include-ignored", "--nocapture", "--test-threads=1"])
        .env(HELPER_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = helper.stdout.take().unwrap();
    let pid: u32 = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // The harness prints the test's name on the same line, before the test's output.
        .find_map(|line| line.split_once("OWNED_PID=").map(|(_, p)| p.trim().parse().unwrap()))
        .expect("the helper prints the pid of its child");
    let (state, group) = state_and_group(pid).expect("the owned child runs");
    assert_ne!(state, 'Z');
    assert_eq!(group, pid as i32, "an owned child leads its own process group, away from the terminal's Ctrl-C");

    helper.kill().unwrap(); // SIGKILL: no chance to clean up.
    helper.wait().unwrap();
    assert!(wait_until_exited(pid), "the owned child {pid} outlived its parent");
}

fn node_modules() -> NodeModules {
    let nm = NodeModules::in_source_tree();
    if let Err(e) = nm.check() {
        panic!("the anvil tests need the pinned npm packages: {e}");
    }
    nm
}

fn anvil_config(state: &Path) -> AnvilConfig {
    let mut config = AnvilConfig::new(node_modules(), 0);
    config.state_file = Some(state.to_owned());
    config
}

async fn transfer(anvil: &Anvil) -> (H256, u64, H256) {
    let tx = TxRequest {
        from: DEVNET_ACCOUNT_0,
        to: Some(devnode::l1::Address::repeat_byte(0x42)),
        data: Vec::new(),
        value: U256::from(1),
    };
    let receipt = anvil.rpc().transact(&tx, "a transfer").await.unwrap();
    (receipt.transaction_hash, receipt.block_number, receipt.block_hash)
}

#[tokio::test]
async fn anvil_s_chain_survives_a_stop_right_after_a_transaction() {
    let dir = scratch_dir("anvil-stop");
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("anvil-state.json");
    let anvil = Anvil::start(&anvil_config(&state)).await.unwrap();
    assert_ne!(anvil.pid(), 0);
    let (hash, number, block_hash) = transfer(&anvil).await;
    anvil.stop().await; // At once: well within the saving interval.

    let anvil = Anvil::start(&anvil_config(&state)).await.unwrap();
    let rpc = anvil.rpc();
    assert_eq!(rpc.block_number().await.unwrap(), number);
    let receipt = rpc.wait_receipt(hash, "the transfer after a restart").await.unwrap();
    assert_eq!((receipt.block_number, receipt.block_hash), (number, block_hash));
    // And the restarted chain goes on from there.
    let (_, next, _) = transfer(&anvil).await;
    assert_eq!(next, number + 1);
    anvil.stop().await;
    assert!(!dir.join("anvil-state.json.tmp").exists(), "no temporary file is left behind");
}

#[tokio::test]
async fn anvil_s_chain_is_saved_while_it_runs_and_survives_a_kill() {
    let dir = scratch_dir("anvil-kill");
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("anvil-state.json");
    let mut anvil = Anvil::start(&anvil_config(&state)).await.unwrap();
    let (hash, number, block_hash) = transfer(&anvil).await;
    // The periodic save (every second when the chain changed) writes the file without a stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !state.exists() {
        assert!(Instant::now() < deadline, "the chain was not saved within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Killed, as by a crash: no final save.
    kill_9(anvil.pid());
    let status = tokio::time::timeout(Duration::from_secs(10), anvil.exited()).await.unwrap().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    drop(anvil);

    let anvil = Anvil::start(&anvil_config(&state)).await.unwrap();
    let receipt = anvil.rpc().wait_receipt(hash, "the transfer after a kill").await.unwrap();
    assert_eq!((receipt.block_number, receipt.block_hash), (number, block_hash));
    anvil.stop().await;
}

fn kill_9(pid: u32) {
    let status = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_leftover_anvil_of_a_killed_node_is_stopped_and_its_port_is_free_again() {
    let dir = scratch_dir("anvil-leftover");
    let data = DataDir::acquire(&dir).unwrap();
    let anvil = Anvil::start(&AnvilConfig::new(node_modules(), 0)).await.unwrap();
    let (pid, port) = (anvil.pid(), anvil.port());
    data.record_child("anvil", pid).unwrap();
    // The node dies without stopping anvil, and (in this test process) without the death signal.
    std::mem::forget(anvil);
    drop(data);

    let _data = tokio::task::spawn_blocking(move || DataDir::acquire(&dir)).await.unwrap().unwrap();
    assert!(has_exited(pid), "the leftover anvil {pid} is gone");
    let anvil = Anvil::start(&AnvilConfig::new(node_modules(), port)).await.unwrap();
    assert_eq!(anvil.port(), port);
    anvil.stop().await;
}

#[tokio::test]
async fn a_truncated_state_file_is_named_with_a_way_out() {
    let dir = scratch_dir("anvil-truncated");
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("anvil-state.json");
    let anvil = Anvil::start(&anvil_config(&state)).await.unwrap();
    transfer(&anvil).await;
    anvil.stop().await;
    let full = std::fs::read(&state).unwrap();
    std::fs::write(&state, &full[..full.len() / 2]).unwrap();

    let error = Anvil::start(&anvil_config(&state)).await.unwrap_err().to_string();
    assert!(error.contains(&state.display().to_string()), "{error}");
    assert!(error.contains("move it away"), "{error}");
    assert!(error.contains("EOF while parsing"), "anvil's own reason is quoted: {error}");
    assert!(!error.contains("is the port taken"), "{error}");
}

#[tokio::test]
async fn a_taken_anvil_port_names_the_port_and_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = Anvil::start(&AnvilConfig::new(node_modules(), port)).await.unwrap_err().to_string();
    assert!(error.contains(&format!("port {port}")), "{error}");
    assert!(error.contains("--anvil-port"), "{error}");
}

//! The ledger dApp backend binary. See `dapp --help`.

#![warn(unreachable_pub)]

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use dapp::app::App;
use dapp::runner::{run, RollupClient};
use dapp::settings::{Settings, SHELL_SETTINGS};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

fn help() -> String {
    let mut text = String::from(
        "dapp: the ledger dApp backend for Cartesi Rollups.\n\n\
         Long-polls the rollup HTTP server's /finish, applies advance inputs to the ledger and answers\n\
         inspect queries. Configured only through the environment, read once at start:\n\n",
    );
    let ledger = ledger::config::SETTINGS.iter().map(|s| (s.env, s.help));
    for (name, help) in SHELL_SETTINGS.iter().copied().chain(ledger) {
        text.push_str(&format!("  {name:<30} {help}\n"));
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        #[allow(clippy::print_stdout)]
        {
            print!("{}", help());
        }
        return ExitCode::SUCCESS;
    }
    if let Some(arg) = args.first() {
        eprintln!("dapp: unexpected argument {arg:?}; it takes none (see --help)");
        return ExitCode::from(2);
    }
    // RUST_LOG in the env_logger syntax (`warn`, `dapp=debug,info`); quiet by default.
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) => text.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("dapp: ignoring RUST_LOG={text:?} ({e}); logging warnings");
            Targets::new().with_default(LevelFilter::WARN)
        }),
        Err(_) => Targets::new().with_default(LevelFilter::WARN),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    tracing_subscriber::registry().with(fmt).with(filter).init();

    let names = std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned());
    let settings = match Settings::check_names(names).and_then(|()| Settings::from_lookup(|k| std::env::var(k).ok())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dapp: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut client = match RollupClient::new(&settings.rollup_url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dapp: {e}");
            return ExitCode::from(2);
        }
    };
    let app = match App::new(settings) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("dapp: cannot create the genesis block: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dapp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(app, &mut client, Duration::from_secs(10))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dapp: {e}");
            ExitCode::FAILURE
        }
    }
}

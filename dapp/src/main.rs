//! The ledger dApp backend binary. See `dapp --help`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use dapp::app::App;
use dapp::runner::{run, RollupClient};
use dapp::settings::{Settings, SHELL_SETTINGS};

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
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let settings = match Settings::from_lookup(|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dapp: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let url = std::env::var("ROLLUP_HTTP_SERVER_URL").unwrap_or_else(|_| "http://127.0.0.1:5004".into());
    let mut client = match RollupClient::new(&url) {
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

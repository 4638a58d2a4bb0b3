//! One source of truth for the settings: the README's configuration table and the Dockerfile's
//! ARG defaults must say what the backend does when nothing is set (`Settings` with an empty
//! environment, the ledger's `Config::default()` inside it).

use std::collections::BTreeMap;

use dapp::settings::{Settings, DEFAULT_ROLLUP_URL};

use crate::golden::repo_root;

/// The settings with nothing set.
fn defaults() -> Settings {
    Settings::from_lookup(|_| None).unwrap()
}

/// The settings with only `name` set to `value`.
fn with(name: &str, value: &str) -> Settings {
    Settings::from_lookup(|k| (k == name).then(|| value.to_string()))
        .unwrap_or_else(|e| panic!("{name}={value} is refused: {e}"))
}

/// The README's configuration table: each variable with the text of its default. A row naming
/// several variables gives them the same default (`A`, `B`), or one each (`A` / `B` with
/// `1 / 2`).
fn readme_table() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme.split("\n## Configuration\n").nth(1).expect("README has a Configuration section");
    let mut table = BTreeMap::new();
    for row in section.lines().take_while(|l| !l.starts_with("## ")).filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let names: Vec<String> = cells[0].split(['/', ',']).map(|n| n.trim().trim_matches('`').to_string()).collect();
        let values: Vec<&str> = cells[1].split(" / ").collect();
        for (i, name) in names.into_iter().enumerate() {
            let value = if values.len() == 1 { values[0] } else { values[i] };
            table.insert(name, value.trim_matches('`').to_string());
        }
    }
    table
}

/// A number as the README writes it (`65536`, `2^32`, `50·10^18`), in decimal.
fn readme_number(text: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(text) {
        return Some(text.to_string());
    }
    if let Some((base, exponent)) = text.split_once('^') {
        let exponent: u32 = exponent.parse().ok()?;
        return match base.strip_suffix("·10") {
            Some(factor) if digits(factor) => Some(format!("{factor}{}", "0".repeat(exponent as usize))),
            _ if base == "2" => Some(2u128.checked_pow(exponent)?.to_string()),
            _ => None,
        };
    }
    None
}

/// The Dockerfile's `ARG NAME=value` lines.
fn dockerfile_args() -> BTreeMap<String, String> {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .filter_map(|arg| arg.split_once('='))
        .map(|(name, value)| (name.to_string(), value.trim_matches('"').to_string()))
        .collect()
}

#[test]
fn the_readme_table_lists_every_setting_with_its_default() {
    let table = readme_table();
    let mut expected: Vec<&str> = Settings::known_names();
    expected.extend(["ROLLUP_HTTP_SERVER_URL", "RUST_LOG"]);
    for name in &expected {
        assert!(table.contains_key(*name), "README's configuration table has no row for {name}");
    }
    for name in table.keys() {
        assert!(expected.contains(&name.as_str()), "README documents {name}, which the backend does not read");
    }
    assert_eq!(table["ROLLUP_HTTP_SERVER_URL"], DEFAULT_ROLLUP_URL);
    assert_eq!(defaults().rollup_url, DEFAULT_ROLLUP_URL);
    // The ledger's numbers: the README's value, set explicitly, changes nothing.
    let mut numbers = 0;
    for setting in ledger::config::SETTINGS {
        let text = &table[setting.env];
        let Some(value) = readme_number(text) else { continue };
        assert_eq!(
            with(setting.env, &value),
            defaults(),
            "README's default of {} ({text}) is not the backend's",
            setting.env
        );
        numbers += 1;
    }
    assert!(numbers >= 10, "only {numbers} numeric defaults were read from the README: {table:?}");
    // The rest are described in words: no pinned version, no dApp address until one is learned.
    assert_eq!(table["LEDGER_ROLLUPS_VERSION"], "detected per input");
    assert_eq!(defaults().pinned_version, None);
    assert!(table["LEDGER_DAPP_ADDRESS"].starts_with("learned from"));
    assert_eq!(defaults().ledger.dapp_address, None);
}

#[test]
fn the_dockerfile_args_are_the_defaults() {
    let args = dockerfile_args();
    let mut checked = 0;
    for setting in ledger::config::SETTINGS {
        let Some(value) = args.get(setting.env) else {
            // Learned from the inputs on the real stack, never baked into the image.
            assert_eq!(setting.env, "LEDGER_DAPP_ADDRESS", "the Dockerfile has no ARG {}", setting.env);
            continue;
        };
        assert_eq!(with(setting.env, value), defaults(), "the Dockerfile's {}={value} is not the default", setting.env);
        checked += 1;
    }
    assert_eq!(checked, ledger::config::SETTINGS.len() - 1);
    // The image runs under Cartesi's v1 stack (its machine-emulator-tools are of the v1 line), so
    // it pins the version the backend would otherwise detect per input.
    assert_eq!(args.get("LEDGER_ROLLUPS_VERSION").map(String::as_str), Some("v1"));
    for name in args.keys().filter(|n| n.starts_with("LEDGER_")) {
        assert!(
            Settings::known_names().contains(&name.as_str()),
            "the Dockerfile sets {name}, which the backend does not read"
        );
    }
}

#[test]
fn readme_numbers_read_as_written() {
    assert_eq!(readme_number("65536").as_deref(), Some("65536"));
    assert_eq!(readme_number("2^32").as_deref(), Some("4294967296"));
    assert_eq!(readme_number("50·10^18").as_deref(), Some("50000000000000000000"));
    assert_eq!(readme_number("detected per input"), None);
}

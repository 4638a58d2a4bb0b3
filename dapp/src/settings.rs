//! Configuration from the environment, read once at start.

use ledger::merkle::sha256;
use ledger::{Address, Config, ConfigError};
use rollup::{PortalAddresses, RollupsVersion};

/// Everything the backend is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub ledger: Config,
    /// `None`: detect the version from each input's metadata.
    pub pinned_version: Option<RollupsVersion>,
    pub portals_v1: PortalAddresses,
    pub portals_v2: PortalAddresses,
    /// `ROLLUP_HTTP_SERVER_URL`: the rollup HTTP server the shell talks to.
    pub rollup_url: String,
}

/// The rollup HTTP server when `ROLLUP_HTTP_SERVER_URL` is not set (Cartesi's default port).
pub const DEFAULT_ROLLUP_URL: &str = "http://127.0.0.1:5004";

/// The prefix of the backend's own environment settings.
const PREFIX: &str = "LEDGER_";

/// Names with the prefix that belong to other tools of this repository (the ledger benchmark's
/// quick mode): a shell that exported one for them must not stop the backend.
const OTHER_TOOLS: &[&str] = &["LEDGER_BENCH_QUICK"];

/// The shell's settings (the ledger's are in [`ledger::config::SETTINGS`]).
pub const SHELL_SETTINGS: &[(&str, &str)] = &[
    ("ROLLUP_HTTP_SERVER_URL", "the rollup HTTP server (default http://127.0.0.1:5004)"),
    ("LEDGER_ROLLUPS_VERSION", "v1 or v2 to pin the Rollups version; default: detected per input from its metadata"),
    (
        "LEDGER_ETHER_PORTAL",
        "EtherPortal address (default: canonical of the version; v2: 2.2.0's, set the v2.0 ones for a 2.0 chain)",
    ),
    ("LEDGER_ERC20_PORTAL", "ERC20Portal address (default: canonical of the version)"),
    ("LEDGER_ERC721_PORTAL", "ERC721Portal address (default: canonical of the version)"),
    ("LEDGER_ERC1155_SINGLE_PORTAL", "ERC1155SinglePortal address (default: canonical of the version)"),
    ("LEDGER_ERC1155_BATCH_PORTAL", "ERC1155BatchPortal address (default: canonical of the version)"),
    ("LEDGER_DAPP_ADDRESS_RELAY", "DAppAddressRelay address, v1 only (default: canonical v1)"),
    ("RUST_LOG", "log filter for stderr (default warn)"),
];

impl Settings {
    /// Every `LEDGER_*` name the backend reads, shell and ledger settings alike, in the order
    /// `--help` lists them.
    pub fn known_names() -> Vec<&'static str> {
        let shell = SHELL_SETTINGS.iter().map(|(name, _)| *name).filter(|n| n.starts_with(PREFIX));
        shell.chain(ledger::config::SETTINGS.iter().map(|s| s.env)).collect()
    }

    /// Refuses any `LEDGER_*` name among `names` (the process environment's, in `main`) that
    /// the backend does not read. A misspelled setting would otherwise be ignored silently and
    /// the backend would run, and seed genesis, with the default instead. Other names (RUST_LOG,
    /// PATH, …) are none of its business.
    pub fn check_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<(), ConfigError> {
        let known = Settings::known_names();
        let mut unknown: Vec<String> = names
            .into_iter()
            .filter(|n| {
                let n = n.as_ref();
                n.starts_with(PREFIX) && !known.contains(&n) && !OTHER_TOOLS.contains(&n)
            })
            .map(|n| ledger::error::quote(n.as_ref()).trim_matches('"').to_string())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort();
        let (what, list) = match unknown.as_slice() {
            [one] => ("unknown setting", one.clone()),
            many => ("unknown settings", many.join(", ")),
        };
        Err(ConfigError(format!("{what} {list}; the known {PREFIX}* settings are {} (see --help)", known.join(", "))))
    }

    /// Reads the settings through `lookup` (the process environment in `main`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let lookup = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let pinned_version = match lookup("LEDGER_ROLLUPS_VERSION") {
            None => None,
            Some(v) if v.trim().eq_ignore_ascii_case("auto") => None,
            Some(v) => Some(v.trim().parse().map_err(|e| ConfigError(format!("LEDGER_ROLLUPS_VERSION: {e}")))?),
        };
        let address = |name: &str| -> Result<Option<Address>, ConfigError> {
            lookup(name)
                .map(|v| v.trim().parse().map_err(|e: ledger::Rejection| ConfigError(format!("{name}: {}", e.message))))
                .transpose()
        };
        let mut portals =
            [PortalAddresses::canonical(RollupsVersion::V1), PortalAddresses::canonical(RollupsVersion::V2)];
        // An override applies to the pinned version, or to both when the version is detected.
        for (i, p) in portals.iter_mut().enumerate() {
            let version = if i == 0 { RollupsVersion::V1 } else { RollupsVersion::V2 };
            if pinned_version.is_some_and(|v| v != version) {
                continue;
            }
            p.ether = address("LEDGER_ETHER_PORTAL")?.unwrap_or(p.ether);
            p.erc20 = address("LEDGER_ERC20_PORTAL")?.unwrap_or(p.erc20);
            p.erc721 = address("LEDGER_ERC721_PORTAL")?.unwrap_or(p.erc721);
            p.erc1155_single = address("LEDGER_ERC1155_SINGLE_PORTAL")?.unwrap_or(p.erc1155_single);
            p.erc1155_batch = address("LEDGER_ERC1155_BATCH_PORTAL")?.unwrap_or(p.erc1155_batch);
            if version == RollupsVersion::V1 {
                p.dapp_address_relay = address("LEDGER_DAPP_ADDRESS_RELAY")?.or(p.dapp_address_relay);
            }
        }
        let [portals_v1, portals_v2] = portals;
        let mut ledger = Config::from_lookup(lookup)?;
        let mut params = b"dapp/settings/v1".to_vec();
        params.push(match pinned_version {
            None => 0,
            Some(RollupsVersion::V1) => 1,
            Some(RollupsVersion::V2) => 2,
        });
        params.extend(portals_v1.encode());
        params.extend(portals_v2.encode());
        // Portal addresses decide which inputs are deposits, so they are part of consensus.
        ledger.shell_params = sha256(&[&params]);
        let rollup_url = lookup("ROLLUP_HTTP_SERVER_URL").unwrap_or_else(|| DEFAULT_ROLLUP_URL.to_owned());
        Ok(Settings { ledger, pinned_version, portals_v1, portals_v2, rollup_url })
    }

    pub fn portals(&self, version: RollupsVersion) -> &PortalAddresses {
        match version {
            RollupsVersion::V1 => &self.portals_v1,
            RollupsVersion::V2 => &self.portals_v2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollup_url_is_read_with_the_other_settings() {
        assert_eq!(Settings::from_lookup(|_| None).unwrap().rollup_url, DEFAULT_ROLLUP_URL);
        let url = "http://127.0.0.1:9/secret";
        let settings = Settings::from_lookup(|k| (k == "ROLLUP_HTTP_SERVER_URL").then(|| url.into())).unwrap();
        assert_eq!(settings.rollup_url, url);
    }

    #[test]
    fn defaults_are_canonical_and_overrides_are_part_of_genesis() {
        let default = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(default.pinned_version, None);
        assert_eq!(default.portals_v1, PortalAddresses::canonical(RollupsVersion::V1));
        let custom = "0x1111111111111111111111111111111111111111";
        let pinned = Settings::from_lookup(|k| match k {
            "LEDGER_ROLLUPS_VERSION" => Some("v2".into()),
            "LEDGER_ETHER_PORTAL" => Some(custom.into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(pinned.pinned_version, Some(RollupsVersion::V2));
        assert_eq!(pinned.portals_v2.ether.to_string(), custom);
        assert_eq!(pinned.portals_v1.ether, default.portals_v1.ether);
        assert_ne!(pinned.ledger.hash(), default.ledger.hash());
    }

    #[test]
    fn unknown_ledger_names_are_refused_and_listed() {
        assert_eq!(
            Settings::check_names(["PATH", "RUST_LOG", "LEDGER_DIFFICULTY_BITS", "LEDGER_ETHER_PORTAL"]),
            Ok(())
        );
        assert_eq!(Settings::check_names(["LEDGER_BENCH_QUICK"]), Ok(()));
        let e = Settings::check_names(["RUST_LOG", "LEDGER_DIFICULTY_BITS"]).unwrap_err();
        assert!(e.0.starts_with("unknown setting LEDGER_DIFICULTY_BITS;"), "{e}");
        for known in Settings::known_names() {
            assert!(e.0.contains(known), "{known} missing from {e}");
        }
        assert!(!e.0.contains('\n'), "{e}");
        let e = Settings::check_names(["LEDGER_B", "LEDGER_A"]).unwrap_err();
        assert!(e.0.starts_with("unknown settings LEDGER_A, LEDGER_B;"), "{e}");
        // Every documented setting is known, and nothing else with the prefix.
        let documented = SHELL_SETTINGS.len() - 2 + ledger::config::SETTINGS.len();
        assert_eq!(Settings::known_names().len(), documented);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = Settings::from_lookup(|k| (k == "LEDGER_ERC20_PORTAL").then(|| "0x12".into())).unwrap_err();
        assert!(e.0.starts_with("LEDGER_ERC20_PORTAL"), "{e}");
        let e = Settings::from_lookup(|k| (k == "LEDGER_ROLLUPS_VERSION").then(|| "v3".into())).unwrap_err();
        assert!(e.0.starts_with("LEDGER_ROLLUPS_VERSION"), "{e}");
    }
}

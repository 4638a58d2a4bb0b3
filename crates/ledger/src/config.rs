//! The ledger's configuration: read once by the shell, hashed into genesis.

use crate::merkle::sha256;
use crate::types::{parse_amount, u256_be, Address, Hash, U256};

/// Parameters every node replaying the chain must share. Their hash (together with the shell's
/// own parameters, such as portal addresses) is the genesis block's `prev_hash`.
/// A configuration that cannot be used, with the setting at fault named in the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Difficulty (leading zero bits) of genesis and the first block.
    pub difficulty_bits: u32,
    /// Retargeting never goes below this.
    pub min_difficulty_bits: u32,
    /// Retargeting never goes above this.
    pub max_difficulty_bits: u32,
    /// COIN base units credited to each block's miner.
    pub block_reward: U256,
    /// The pool is sealed as soon as it holds this many transactions.
    pub max_block_txs: u32,
    /// Target seconds between blocks; a waiting pool is sealed once an input is this far past the tip.
    pub block_interval: u64,
    /// Upper bound of the nonce search of one block.
    pub max_nonce_tries: u64,
    /// Timestamp of the genesis block.
    pub genesis_timestamp: u64,
    /// Largest accepted user-operation payload in bytes (deposits are exempt: their assets are
    /// already locked on L1).
    pub max_payload_bytes: u32,
    /// Largest page an inspect query may ask for.
    pub max_page: u32,
    /// The dApp's own address, when known before any input (otherwise learned from the
    /// DAppAddressRelay or from v2 metadata). Withdrawal vouchers need it.
    pub dapp_address: Option<Address>,
    /// Hash of the shell's own consensus parameters (portal addresses, Rollups version, …).
    pub shell_params: Hash,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            difficulty_bits: 8,
            min_difficulty_bits: 4,
            max_difficulty_bits: 16,
            block_reward: U256::from(50u64) * U256::exp10(18),
            max_block_txs: 64,
            block_interval: 60,
            max_nonce_tries: 1 << 32,
            genesis_timestamp: 0,
            max_payload_bytes: 65_536,
            max_page: 50,
            dapp_address: None,
            shell_params: Hash::ZERO,
        }
    }
}

/// One documented setting: its environment name, its meaning and its default.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub env: &'static str,
    pub help: &'static str,
}

/// The ledger's settings, in the order they are documented.
pub const SETTINGS: &[Setting] = &[
    Setting { env: "LEDGER_DIFFICULTY_BITS", help: "genesis difficulty in leading zero bits (default 8)" },
    Setting { env: "LEDGER_MIN_DIFFICULTY_BITS", help: "lowest difficulty retargeting may reach (default 4)" },
    Setting {
        env: "LEDGER_MAX_DIFFICULTY_BITS",
        help: "highest difficulty retargeting may reach, at most 40 (default 16: about 65k tries a block on average)",
    },
    Setting { env: "LEDGER_BLOCK_REWARD", help: "COIN base units per block, decimal or 0x hex (default 50e18)" },
    Setting { env: "LEDGER_MAX_BLOCK_TXS", help: "pool size that seals a block, 1..=10000 (default 64)" },
    Setting { env: "LEDGER_BLOCK_INTERVAL", help: "target seconds between blocks (default 60)" },
    Setting { env: "LEDGER_MAX_NONCE_TRIES", help: "nonce search bound per block (default 2^32)" },
    Setting { env: "LEDGER_GENESIS_TIMESTAMP", help: "genesis timestamp in seconds (default 0)" },
    Setting {
        env: "LEDGER_MAX_PAYLOAD_BYTES",
        help: "largest user-operation payload; deposits are never refused for size (default 65536)",
    },
    Setting { env: "LEDGER_MAX_PAGE", help: "largest inspect page (default 50)" },
    Setting {
        env: "LEDGER_DAPP_ADDRESS",
        help: "the dApp's own address, if known in advance (default: learned from inputs)",
    },
];

impl Config {
    /// Builds a configuration from a lookup function (the shell passes the environment), using
    /// defaults for absent names, and validates it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let num = |name: &str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) => {
                    v.trim().parse().map_err(|_| ConfigError(format!("{name}={v:?} is not an unsigned integer")))
                }
            }
        };
        let small = |name: &str, default: u32| -> Result<u32, ConfigError> {
            let v = num(name, default.into())?;
            u32::try_from(v).map_err(|_| ConfigError(format!("{name}={v} is too large")))
        };
        c.difficulty_bits = small("LEDGER_DIFFICULTY_BITS", c.difficulty_bits)?;
        c.min_difficulty_bits = small("LEDGER_MIN_DIFFICULTY_BITS", c.min_difficulty_bits.min(c.difficulty_bits))?;
        c.max_difficulty_bits = small("LEDGER_MAX_DIFFICULTY_BITS", c.max_difficulty_bits.max(c.difficulty_bits))?;
        if let Some(v) = lookup("LEDGER_BLOCK_REWARD") {
            c.block_reward =
                parse_amount(v.trim()).map_err(|e| ConfigError(format!("LEDGER_BLOCK_REWARD: {}", e.message)))?;
        }
        c.max_block_txs = small("LEDGER_MAX_BLOCK_TXS", c.max_block_txs)?;
        c.block_interval = num("LEDGER_BLOCK_INTERVAL", c.block_interval)?;
        c.max_nonce_tries = num("LEDGER_MAX_NONCE_TRIES", c.max_nonce_tries)?;
        c.genesis_timestamp = num("LEDGER_GENESIS_TIMESTAMP", c.genesis_timestamp)?;
        c.max_payload_bytes = small("LEDGER_MAX_PAYLOAD_BYTES", c.max_payload_bytes)?;
        c.max_page = small("LEDGER_MAX_PAGE", c.max_page)?;
        if let Some(v) = lookup("LEDGER_DAPP_ADDRESS").filter(|v| !v.trim().is_empty()) {
            c.dapp_address = Some(
                v.trim()
                    .parse()
                    .map_err(|e: crate::Rejection| ConfigError(format!("LEDGER_DAPP_ADDRESS: {}", e.message)))?,
            );
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks the bounds that keep the ledger's guarantees true.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        if !(self.min_difficulty_bits <= self.difficulty_bits && self.difficulty_bits <= self.max_difficulty_bits) {
            return bad(format!(
                "difficulty bits must satisfy LEDGER_MIN_DIFFICULTY_BITS <= LEDGER_DIFFICULTY_BITS <= LEDGER_MAX_DIFFICULTY_BITS, got {} <= {} <= {}",
                self.min_difficulty_bits, self.difficulty_bits, self.max_difficulty_bits
            ));
        }
        if self.max_difficulty_bits > 40 {
            return bad(format!(
                "LEDGER_MAX_DIFFICULTY_BITS={} is beyond what any node could mine; at most 40",
                self.max_difficulty_bits
            ));
        }
        // Exhausting the nonce bound must be negligible (probability below e^-64 per block).
        let needed = 1u128 << (self.max_difficulty_bits + 6);
        if u128::from(self.max_nonce_tries) < needed {
            return bad(format!(
                "LEDGER_MAX_NONCE_TRIES={} is too small for LEDGER_MAX_DIFFICULTY_BITS={}; need at least {needed}",
                self.max_nonce_tries, self.max_difficulty_bits
            ));
        }
        // Rewards can then never overflow a balance or the COIN supply within 2^64 blocks.
        if self.block_reward >= U256::one() << 192 {
            return bad("LEDGER_BLOCK_REWARD must be below 2^192".into());
        }
        if !(1..=10_000).contains(&self.max_block_txs) {
            return bad(format!("LEDGER_MAX_BLOCK_TXS must be in 1..=10000, got {}", self.max_block_txs));
        }
        if self.block_interval == 0 {
            return bad("LEDGER_BLOCK_INTERVAL must be at least 1 second".into());
        }
        if !(1..=1 << 21).contains(&self.max_payload_bytes) {
            return bad(format!("LEDGER_MAX_PAYLOAD_BYTES must be in 1..=2097152, got {}", self.max_payload_bytes));
        }
        if !(1..=1000).contains(&self.max_page) {
            return bad(format!("LEDGER_MAX_PAGE must be in 1..=1000, got {}", self.max_page));
        }
        Ok(())
    }

    /// A canonical binary encoding of every field; its hash seeds genesis.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = b"ledger/config/v1".to_vec();
        out.extend(self.difficulty_bits.to_be_bytes());
        out.extend(self.min_difficulty_bits.to_be_bytes());
        out.extend(self.max_difficulty_bits.to_be_bytes());
        out.extend(u256_be(self.block_reward));
        out.extend(self.max_block_txs.to_be_bytes());
        out.extend(self.block_interval.to_be_bytes());
        out.extend(self.max_nonce_tries.to_be_bytes());
        out.extend(self.genesis_timestamp.to_be_bytes());
        out.extend(self.max_payload_bytes.to_be_bytes());
        out.extend(self.max_page.to_be_bytes());
        out.push(u8::from(self.dapp_address.is_some()));
        out.extend(self.dapp_address.unwrap_or_default().0);
        out.extend(self.shell_params.0);
        out
    }

    pub fn hash(&self) -> Hash {
        sha256(&[&self.encode()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_overrides_apply() {
        assert_eq!(Config::from_lookup(|_| None).unwrap(), Config::default());
        let c = Config::from_lookup(|k| match k {
            "LEDGER_MAX_BLOCK_TXS" => Some("3".into()),
            "LEDGER_BLOCK_REWARD" => Some("0x10".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.max_block_txs, 3);
        assert_eq!(c.block_reward, U256::from(16));
        assert_ne!(c.hash(), Config::default().hash());
    }

    #[test]
    fn invalid_settings_are_refused_with_the_setting_named() {
        let cases = [
            ("LEDGER_MAX_BLOCK_TXS", "0"),
            ("LEDGER_MAX_BLOCK_TXS", "ten"),
            ("LEDGER_BLOCK_INTERVAL", "0"),
            ("LEDGER_MAX_DIFFICULTY_BITS", "41"),
            ("LEDGER_MAX_NONCE_TRIES", "1000"),
            ("LEDGER_BLOCK_REWARD", "-5"),
        ];
        for (key, value) in cases {
            let err = Config::from_lookup(|k| (k == key).then(|| value.to_string())).unwrap_err();
            assert!(err.0.contains(key), "{key}={value}: {err}");
        }
        let err = Config::from_lookup(|k| (k == "LEDGER_MAX_BLOCK_TXS").then(|| "ten".to_string())).unwrap_err();
        assert!(err.0.contains("LEDGER_MAX_BLOCK_TXS"));
    }
}

//! The pinned npm packages (`devnode/npm`): the anvil binary and the contract artifacts.

use std::path::{Path, PathBuf};

use ethabi::ethereum_types::Address;
use serde_json::Value;

use super::error::L1Error;

/// What to tell a developer whose checkout lacks the npm packages.
pub const NPM_HINT: &str = "run `npm ci --prefix devnode/npm`";

/// Artifacts larger than this are refused; the largest one used (a hardhat-deploy file with its
/// sources) is about 250 KiB.
const MAX_ARTIFACT_BYTES: u64 = 8 << 20;

/// A `node_modules` directory holding the packages pinned in `devnode/npm/package.json`.
#[derive(Clone, Debug)]
pub struct NodeModules {
    root: PathBuf,
}

/// A compiled contract: its ABI (kept as JSON, it is only copied into deployment files) and its
/// creation bytecode with every library reference already linked.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub name: String,
    pub abi: Value,
    pub bytecode: Vec<u8>,
}

impl NodeModules {
    pub fn new(root: impl Into<PathBuf>) -> NodeModules {
        NodeModules { root: root.into() }
    }

    /// `devnode/npm/node_modules` of this source tree, where `npm ci --prefix devnode/npm` puts it.
    pub fn in_source_tree() -> NodeModules {
        NodeModules::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("npm").join("node_modules"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Fails with the install hint unless every package the L1 code reads is present.
    pub fn check(&self) -> Result<(), L1Error> {
        let required = [
            ("the anvil binary", self.anvil_binary()),
            ("@cartesi/rollups@1.4.5", self.root.join("@cartesi/rollups/package.json")),
            ("@cartesi/util@6.3.0", self.root.join("@cartesi/util/package.json")),
            ("@openzeppelin/contracts", self.root.join("@openzeppelin/contracts/package.json")),
            ("@cartesi/devnet@1.6.0", self.root.join("@cartesi/devnet/package.json")),
            ("@cartesi/rollups@2.2.0 (as @cartesi/rollups-v2)", self.root.join("@cartesi/rollups-v2/package.json")),
        ];
        for (what, path) in required {
            if !path.is_file() {
                return Err(L1Error::ToolchainMissing { what, path });
            }
        }
        Ok(())
    }

    /// The binary itself rather than the `.bin` shim, so that nothing depends on npm's links.
    pub(crate) fn anvil_binary(&self) -> PathBuf {
        self.root.join("@foundry-rs/anvil-linux-amd64/bin/anvil")
    }

    /// A Rollups v1 contract from `@cartesi/rollups/export/artifacts/contracts/<dir>/<Name>.sol/`.
    pub fn rollups(&self, dir: &str, name: &str, libraries: &[(&str, Address)]) -> Result<Artifact, L1Error> {
        let path = self.root.join(format!("@cartesi/rollups/export/artifacts/contracts/{dir}/{name}.sol/{name}.json"));
        Artifact::load(&path, name, libraries)
    }

    /// A Rollups 2.2.0 contract from the npm alias `@cartesi/rollups-v2`: the Foundry artifact
    /// `out/<Name>.sol/<Name>.json` (nothing to link).
    pub fn rollups_v2(&self, name: &str) -> Result<Artifact, L1Error> {
        let path = self.root.join(format!("@cartesi/rollups-v2/out/{name}.sol/{name}.json"));
        Artifact::load(&path, name, &[])
    }

    /// A library of `@cartesi/util`, from its mainnet deployment file: that bytecode (already
    /// linked) is what produced the canonical addresses; the compiled copies inside
    /// `@cartesi/rollups` differ and would land elsewhere.
    pub(crate) fn util_library(&self, name: &str) -> Result<Artifact, L1Error> {
        let path = self.root.join(format!("@cartesi/util/deployments/mainnet/{name}.json"));
        Artifact::load(&path, name, &[])
    }

    /// A test token of Cartesi CLI 1.x's devnet, from `@cartesi/devnet`'s hardhat-deploy file
    /// `deployments/localhost/<Name>.json`: the bytecode that, with account 0 as constructor
    /// argument, created the token at the address the CLI prints.
    pub(crate) fn cartesi_devnet(&self, name: &str) -> Result<Artifact, L1Error> {
        let path = self.root.join(format!("@cartesi/devnet/deployments/localhost/{name}.json"));
        Artifact::load(&path, name, &[])
    }

    /// The CLI devnet's anvil state (`anvil --load-state` JSON), which holds the accounts of its
    /// test tokens as the CLI's deployment left them: what the dev node's tokens are checked
    /// against.
    pub fn cartesi_devnet_state(&self) -> PathBuf {
        self.root.join("@cartesi/devnet/build/anvil_state.json")
    }

    /// An OpenZeppelin 4.x contract from `build/contracts/<Name>.json`.
    pub(crate) fn openzeppelin(&self, name: &str) -> Result<Artifact, L1Error> {
        let path = self.root.join(format!("@openzeppelin/contracts/build/contracts/{name}.json"));
        Artifact::load(&path, name, &[])
    }
}

impl Artifact {
    /// Reads a hardhat (or hardhat-deploy) artifact and links `libraries` (by library name) at the
    /// byte offsets its `linkReferences` list.
    pub fn load(path: &Path, name: &str, libraries: &[(&str, Address)]) -> Result<Artifact, L1Error> {
        let fail = |reason: String| L1Error::Artifact { path: path.to_owned(), reason };
        let missing = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => {
                L1Error::ToolchainMissing { what: "a contract artifact", path: path.to_owned() }
            }
            _ => fail(e.to_string()),
        };
        let size = std::fs::metadata(path).map_err(missing)?.len();
        if size > MAX_ARTIFACT_BYTES {
            return Err(fail(format!("{size} bytes is more than any artifact should be")));
        }
        let text = std::fs::read_to_string(path).map_err(missing)?;
        let json: Value = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let abi = json.get("abi").cloned().ok_or_else(|| fail("no abi".into()))?;
        // Hardhat puts the creation code in `bytecode` and the links beside it; Foundry (Rollups
        // 2.x) puts both inside `bytecode` as `{object, linkReferences}`.
        let (code, links) = match json.get("bytecode") {
            Some(Value::Object(foundry)) => (foundry.get("object"), foundry.get("linkReferences")),
            other => (other, json.get("linkReferences")),
        };
        let code = code.and_then(Value::as_str).ok_or_else(|| fail("no bytecode".into()))?;
        let mut code = code.strip_prefix("0x").unwrap_or(code).to_owned();
        let mut linked = 0;
        if let Some(references) = links.and_then(Value::as_object) {
            for per_library in references.values().filter_map(Value::as_object) {
                for (library, places) in per_library {
                    let (_, at) = libraries
                        .iter()
                        .find(|(n, _)| n == library)
                        .ok_or_else(|| fail(format!("needs library {library}, which was not given")))?;
                    for place in places.as_array().into_iter().flatten() {
                        let start =
                            place.get("start").and_then(Value::as_u64).ok_or_else(|| fail("bad link".into()))?;
                        let start = usize::try_from(start).map_err(|_| fail("bad link offset".into()))? * 2;
                        let slot = code.get(start..start + 40).ok_or_else(|| fail("link past the code".into()))?;
                        // A placeholder is `__$<34 hex>$__`; anything else means the offsets are
                        // not the ones of this bytecode.
                        if !slot.starts_with("__$") {
                            return Err(fail(format!("no placeholder at byte {} for {library}", start / 2)));
                        }
                        code.replace_range(start..start + 40, &hex::encode(at.as_bytes()));
                        linked += 1;
                    }
                }
            }
        }
        if code.contains("__") {
            return Err(fail("unlinked library placeholder left in the bytecode".into()));
        }
        let bytecode = hex::decode(&code).map_err(|e| fail(format!("bytecode: {e}")))?;
        if bytecode.is_empty() {
            return Err(fail("empty bytecode (an interface or abstract contract?)".into()));
        }
        tracing::trace!(name, linked, "artifact loaded");
        Ok(Artifact { name: name.to_owned(), abi, bytecode })
    }

    /// Creation code followed by the ABI-encoded constructor arguments.
    pub(crate) fn initcode(&self, constructor_args: &[ethabi::Token]) -> Vec<u8> {
        let mut code = self.bytecode.clone();
        code.extend(ethabi::encode(constructor_args));
        code
    }
}

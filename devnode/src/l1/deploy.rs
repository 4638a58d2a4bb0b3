//! Idempotent deployment: the Rollups v1 contracts at their canonical addresses, the application,
//! test tokens, and the deployment files the Cartesi console reads.
//!
//! Every contract is created through the Safe singleton factory with a zero salt, exactly as
//! hardhat-deploy did for the public deployments, so the address is a function of the initcode
//! alone. That gives idempotency for free: if the address already has code, it is skipped.

use std::path::{Path, PathBuf};

use ethabi::ethereum_types::{Address, H160, H256, U256};
use ethabi::{ParamType, Token};
use serde_json::json;

use super::addresses::{
    checksum, create2_address, keccak256, AddressBook, Application, CliDevnetTokens, RollupsV1, TestTokens,
};
use super::artifacts::{Artifact, NodeModules};
use super::error::L1Error;
use super::rpc::{Rpc, TxRequest};

/// Anvil's default account 0 (from the `test … junk` mnemonic): deployer and dApp owner.
pub const DEVNET_ACCOUNT_0: Address = h160("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
/// Anvil's default account 9, the last of its ten: the dev node's claimer. It owns the
/// application's Authority (in v1 the Authority owns the History) and sends every claim, so the
/// node's transactions never take a nonce of account 0, which users and the console send from.
pub const DEVNET_CLAIMER: Address = h160("a0Ee7A142d267C1f36714E4a8F75612F20a79720");
/// The deterministic-deployment proxy that anvil puts in its genesis.
pub(crate) const ARACHNID_CREATE2_PROXY: Address = h160("4e59b44847b379578588920cA78FbF26c0B4956C");
/// The factory behind the canonical v1 addresses; its runtime code is the Arachnid proxy's.
pub(crate) const SAFE_SINGLETON_FACTORY: Address = h160("914d7Fec6aaC8cd542e72Bca78B30650d45643d7");

/// How many devnet accounts receive test tokens at most.
const MAX_TOKEN_HOLDERS: usize = 10;

const fn h160(hex40: &str) -> Address {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            // Only reached while compiling a bad literal: a compile error, never a runtime panic.
            _ => panic!("not a hex digit"),
        }
    }
    let b = hex40.as_bytes();
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    H160(out)
}

pub(super) fn calldata(name: &str, params: &[ParamType], args: &[Token]) -> Vec<u8> {
    let mut data = ethabi::short_signature(name, params).to_vec();
    data.extend(ethabi::encode(args));
    data
}

/// Puts the Arachnid proxy's code at the Safe singleton factory's address if nothing is there.
pub(crate) async fn ensure_create2_factory(rpc: &Rpc) -> Result<(), L1Error> {
    if !rpc.get_code(SAFE_SINGLETON_FACTORY).await?.is_empty() {
        return Ok(());
    }
    let proxy = rpc.get_code(ARACHNID_CREATE2_PROXY).await?;
    if proxy.is_empty() {
        return Err(L1Error::NoCreate2Proxy(ARACHNID_CREATE2_PROXY));
    }
    rpc.set_code(SAFE_SINGLETON_FACTORY, &proxy).await?;
    tracing::info!("Safe singleton factory put in place with anvil_setCode");
    Ok(())
}

/// Creates `initcode` through the factory unless its address already has code. Returns the
/// address and whether a transaction was sent. With `expected`, a different address is an error
/// naming the contract, raised before anything is sent.
async fn create2(
    rpc: &Rpc,
    from: Address,
    name: &str,
    initcode: &[u8],
    expected: Option<Address>,
) -> Result<(Address, bool), L1Error> {
    create2_through(rpc, SAFE_SINGLETON_FACTORY, from, name, initcode, expected).await
}

/// [`create2`] through another CREATE2 factory of the same calling convention (`salt ‖ initcode`),
/// such as the Arachnid proxy behind the Rollups 2.x addresses.
pub(super) async fn create2_through(
    rpc: &Rpc,
    factory: Address,
    from: Address,
    name: &str,
    initcode: &[u8],
    expected: Option<Address>,
) -> Result<(Address, bool), L1Error> {
    let address = create2_address(factory, H256::zero(), initcode);
    if let Some(expected) = expected.filter(|e| *e != address) {
        let reason = format!("but its initcode from the npm artifact gives {}", checksum(address));
        return Err(L1Error::WrongAddress { name: name.to_owned(), expected, reason });
    }
    if !rpc.get_code(address).await?.is_empty() {
        tracing::debug!(name, address = %checksum(address), "already deployed");
        return Ok((address, false));
    }
    let mut data = H256::zero().as_bytes().to_vec();
    data.extend_from_slice(initcode);
    let tx = TxRequest { from, to: Some(factory), data, value: U256::zero() };
    rpc.transact(&tx, &format!("deploy {name}")).await?;
    if rpc.get_code(address).await?.is_empty() {
        return Err(L1Error::NotDeployed { what: name.to_owned(), address });
    }
    tracing::info!(name, address = %checksum(address), "deployed");
    Ok((address, true))
}

/// The artifact of every contract the dev node deploys or lists, by deployment-file name.
pub(super) fn artifact(nm: &NodeModules, name: &str, c: &RollupsV1) -> Result<Artifact, L1Error> {
    let libraries = [("Bitmask", c.bitmask), ("MerkleV2", c.merkle_v2), ("CartesiMathV2", c.cartesi_math_v2)];
    match name {
        "CartesiMathV2" | "MerkleV2" | "Bitmask" | "UnrolledCordic" => nm.util_library(name),
        "InputBox" => nm.rollups("inputs", name, &[]),
        "EtherPortal" | "ERC20Portal" | "ERC721Portal" | "ERC1155SinglePortal" | "ERC1155BatchPortal" => {
            nm.rollups("portals", name, &[])
        }
        "DAppAddressRelay" => nm.rollups("relays", name, &[]),
        "AuthorityFactory" | "AuthorityHistoryPairFactory" | "Authority" => {
            nm.rollups("consensus/authority", name, &[])
        }
        "HistoryFactory" | "History" => nm.rollups("history", name, &[]),
        "CartesiDAppFactory" | "SelfHostedApplicationFactory" | "CartesiDApp" => nm.rollups("dapp", name, &libraries),
        "SimpleERC20" => nm.openzeppelin("ERC20PresetMinterPauser"),
        "SimpleERC721" => nm.openzeppelin("ERC721PresetMinterPauserAutoId"),
        "SimpleERC1155" => nm.openzeppelin("ERC1155PresetMinterPauser"),
        "TestToken" | "TestNFT" | "TestMultiToken" => nm.cartesi_devnet(name),
        other => {
            Err(L1Error::Artifact { path: nm.root().to_owned(), reason: format!("no artifact known for {other}") })
        }
    }
}

/// Deploys whatever is missing of Rollups v1.4.5 at the canonical addresses (§7.1 of the node
/// reference), in the order and with the constructor arguments of the original deployment.
pub async fn deploy_rollups_v1(rpc: &Rpc, nm: &NodeModules, from: Address) -> Result<RollupsV1, L1Error> {
    ensure_create2_factory(rpc).await?;
    let c = RollupsV1::canonical();
    let input_box = Token::Address(c.input_box);
    let pair_args = [Token::Address(c.authority_factory), Token::Address(c.history_factory)];
    let self_hosted_args = [Token::Address(c.authority_history_pair_factory), Token::Address(c.cartesi_dapp_factory)];
    let mut sent = 0;
    for (name, expected) in c.named() {
        let args: &[Token] = match name {
            "EtherPortal"
            | "ERC20Portal"
            | "ERC721Portal"
            | "ERC1155SinglePortal"
            | "ERC1155BatchPortal"
            | "DAppAddressRelay" => std::slice::from_ref(&input_box),
            "AuthorityHistoryPairFactory" => &pair_args,
            "SelfHostedApplicationFactory" => &self_hosted_args,
            _ => &[],
        };
        let initcode = artifact(nm, name, &c)?.initcode(args);
        let (_, deployed) = create2(rpc, from, name, &initcode, Some(expected)).await?;
        sent += usize::from(deployed);
    }
    tracing::info!(sent, "Rollups v1 contracts in place");
    Ok(c)
}

/// `keccak("ApplicationCreated(address,address,bytes32,address)")`, emitted by CartesiDAppFactory.
fn application_created_topic() -> H256 {
    keccak256(b"ApplicationCreated(address,address,bytes32,address)")
}

/// Deploys (once) the application with its own Authority + History through
/// `SelfHostedApplicationFactory.deployContracts(owner, owner, templateHash = 0, salt = 0)`, as
/// Cartesi's CLI does, and finds the block where it was created.
pub async fn deploy_application(rpc: &Rpc, rollups: &RollupsV1, owner: Address) -> Result<Application, L1Error> {
    let params = [ParamType::Address, ParamType::Address, ParamType::FixedBytes(32), ParamType::FixedBytes(32)];
    let zero = Token::FixedBytes(vec![0; 32]);
    let args = [Token::Address(owner), Token::Address(owner), zero.clone(), zero];
    let factory = rollups.self_hosted_application_factory;

    let answer = rpc.eth_call(factory, &calldata("calculateAddresses", &params, &args)).await?;
    let words = ethabi::decode(&[ParamType::Address, ParamType::Address, ParamType::Address], &answer)
        .map_err(|e| L1Error::Abi { what: "calculateAddresses", reason: format!("{e:?}") })?;
    let [Token::Address(app), Token::Address(authority), Token::Address(history)] = words[..] else {
        return Err(L1Error::BadResponse { method: "calculateAddresses".into(), reason: "not 3 addresses".into() });
    };

    let creation_logs = if rpc.get_code(app).await?.is_empty() {
        let tx = TxRequest {
            from: owner,
            to: Some(factory),
            data: calldata("deployContracts", &params, &args),
            ..Default::default()
        };
        rpc.transact(&tx, "deploy the application").await?.logs
    } else {
        let latest = rpc.block_number().await?;
        rpc.get_logs(rollups.cartesi_dapp_factory, &[Some(application_created_topic())], 0, latest).await?
    };
    for (what, address) in [("the application", app), ("its Authority", authority), ("its History", history)] {
        if rpc.get_code(address).await?.is_empty() {
            return Err(L1Error::NotDeployed { what: what.into(), address });
        }
    }
    // The event's data is (dappOwner, templateHash, application); the last word names the app.
    let created = creation_logs.iter().find(|l| {
        l.address == rollups.cartesi_dapp_factory
            && l.topics.first() == Some(&application_created_topic())
            && l.data.len() == 96
            && l.data[76..96] == app.0
    });
    let Some(created) = created else {
        let reason = format!("no ApplicationCreated event for {}", checksum(app));
        return Err(L1Error::BadResponse { method: "eth_getLogs".into(), reason });
    };
    tracing::info!(app = %checksum(app), block = created.block_number, "application in place");
    Ok(Application {
        app,
        authority,
        history,
        owner,
        claimer: owner,
        block_number: created.block_number,
        block_hash: created.block_hash,
        transaction_hash: created.transaction_hash,
    })
}

/// Creates (once) Cartesi CLI 1.x's devnet tokens the way its devnet package did
/// (`@cartesi/devnet@1.6.0`, `deploy/0{1,2,3}_*`: hardhat-deploy's deterministic deployment, that
/// is the Safe singleton factory with a zero salt, and account 0 as the only constructor
/// argument), so they land at the addresses the CLI prints; an address that does not come out
/// is an error before anything is sent. Nothing is minted here beyond what the constructors do
/// (TestToken mints 10^9 TEST to account 0), so a fresh chain holds exactly what the CLI's
/// devnet holds.
pub async fn deploy_cli_devnet_tokens(rpc: &Rpc, nm: &NodeModules, from: Address) -> Result<CliDevnetTokens, L1Error> {
    Ok(create_cli_devnet_tokens(rpc, nm, from).await?.0)
}

/// [`deploy_cli_devnet_tokens`], also saying which tokens were created just now.
async fn create_cli_devnet_tokens(
    rpc: &Rpc,
    nm: &NodeModules,
    from: Address,
) -> Result<(CliDevnetTokens, [bool; 3]), L1Error> {
    ensure_create2_factory(rpc).await?;
    let tokens = CliDevnetTokens::canonical();
    let c = RollupsV1::canonical();
    let mut fresh = [false; 3];
    for (i, (name, expected)) in tokens.named().into_iter().enumerate() {
        let initcode = artifact(nm, name, &c)?.initcode(&[Token::Address(DEVNET_ACCOUNT_0)]);
        fresh[i] = create2(rpc, from, name, &initcode, Some(expected)).await?.1;
    }
    Ok((tokens, fresh))
}

/// Deploys (once) the test tokens and mints them to the first devnet accounts; tokens that
/// already exist are left as they are, minted or not.
///
/// - Cartesi CLI 1.x's devnet tokens at the CLI's addresses ([`deploy_cli_devnet_tokens`]):
///   account 0 sends 1,000,000 TestToken (18 decimals) to each other account, mints TestNFT id
///   `i` to account `i`, and 1,000 of TestMultiToken id 0 to each account. Account 0 owns TestNFT
///   and TestMultiToken, so developers can mint more with its key; TestToken has no mint, and
///   account 0 keeps the rest of its supply.
/// - An ERC-20, an ERC-721 and an ERC-1155 (OpenZeppelin 4.9 presets, the console's defaults
///   `SimpleERC20`, `SimpleERC721`, `SimpleERC1155`) through the same factory, with `from` as
///   admin and minter: 1,000,000 tokens (18 decimals) each, one NFT each (ids 0, 1, …), and
///   1,000 of multi-token id 0 each.
pub(crate) async fn deploy_test_tokens(rpc: &Rpc, nm: &NodeModules, from: Address) -> Result<TestTokens, L1Error> {
    ensure_create2_factory(rpc).await?;
    let c = RollupsV1::canonical();
    let mut holders = rpc.accounts().await?;
    holders.truncate(MAX_TOKEN_HOLDERS);
    let (cli, cli_fresh) = create_cli_devnet_tokens(rpc, nm, from).await?;
    mint_cli_devnet_tokens(rpc, &cli, cli_fresh, &holders).await?;

    let string = |s: &str| Token::String(s.to_owned());
    let (erc20, new20) = create2(
        rpc,
        from,
        "SimpleERC20",
        &artifact(nm, "SimpleERC20", &c)?.initcode(&[string("SimpleERC20"), string("SIM20")]),
        None,
    )
    .await?;
    let erc721_args = [string("SimpleERC721"), string("SIM721"), string("")];
    let (erc721, new721) =
        create2(rpc, from, "SimpleERC721", &artifact(nm, "SimpleERC721", &c)?.initcode(&erc721_args), None).await?;
    let (erc1155, new1155) =
        create2(rpc, from, "SimpleERC1155", &artifact(nm, "SimpleERC1155", &c)?.initcode(&[string("")]), None).await?;

    let fresh: Vec<Address> = [(erc20, new20), (erc721, new721), (erc1155, new1155)]
        .into_iter()
        .filter(|(_, n)| *n)
        .map(|(a, _)| a)
        .collect();
    if !fresh.is_empty() {
        // The presets give their roles to the creator, which is the factory: act as the factory
        // once to hand both roles to `from`, so that developers can mint more with their own key.
        rpc.impersonate(SAFE_SINGLETON_FACTORY, true).await?;
        if rpc.get_balance(SAFE_SINGLETON_FACTORY).await? < U256::exp10(17) {
            rpc.set_balance(SAFE_SINGLETON_FACTORY, U256::exp10(18)).await?;
        }
        let grant = [ParamType::FixedBytes(32), ParamType::Address];
        for token in &fresh {
            for role in [H256::zero(), keccak256(b"MINTER_ROLE")] {
                let data = calldata("grantRole", &grant, &[Token::FixedBytes(role.0.to_vec()), Token::Address(from)]);
                let tx = TxRequest { from: SAFE_SINGLETON_FACTORY, to: Some(*token), data, ..Default::default() };
                rpc.transact(&tx, "grant a test-token role").await?;
            }
        }
        rpc.impersonate(SAFE_SINGLETON_FACTORY, false).await?;
    }
    for holder in &holders {
        let mut mints = Vec::new();
        if new20 {
            let amount = U256::from(1_000_000u64) * U256::exp10(18);
            let data = calldata(
                "mint",
                &[ParamType::Address, ParamType::Uint(256)],
                &[Token::Address(*holder), Token::Uint(amount)],
            );
            mints.push((erc20, data));
        }
        if new721 {
            mints.push((erc721, calldata("mint", &[ParamType::Address], &[Token::Address(*holder)])));
        }
        if new1155 {
            let params = [ParamType::Address, ParamType::Uint(256), ParamType::Uint(256), ParamType::Bytes];
            let args =
                [Token::Address(*holder), Token::Uint(U256::zero()), Token::Uint(1000.into()), Token::Bytes(vec![])];
            mints.push((erc1155, calldata("mint", &params, &args)));
        }
        for (token, data) in mints {
            rpc.transact(&TxRequest { from, to: Some(token), data, ..Default::default() }, "mint a test token").await?;
        }
    }
    Ok(TestTokens { erc20, erc721, erc1155, cli, holders })
}

/// Hands out the CLI devnet's tokens that were created just now, as account 0 (their owner and
/// the TestToken holder): see [`deploy_test_tokens`].
async fn mint_cli_devnet_tokens(
    rpc: &Rpc,
    tokens: &CliDevnetTokens,
    [token, nft, multi]: [bool; 3],
    holders: &[Address],
) -> Result<(), L1Error> {
    let owner = DEVNET_ACCOUNT_0;
    for (i, holder) in holders.iter().enumerate() {
        let mut calls = Vec::new();
        if token && *holder != owner {
            let amount = U256::from(1_000_000u64) * U256::exp10(18);
            let params = [ParamType::Address, ParamType::Uint(256)];
            calls.push((
                tokens.test_token,
                calldata("transfer", &params, &[Token::Address(*holder), Token::Uint(amount)]),
            ));
        }
        if nft {
            let params = [ParamType::Address, ParamType::Uint(256), ParamType::String];
            let args = [Token::Address(*holder), Token::Uint(i.into()), Token::String(String::new())];
            calls.push((tokens.test_nft, calldata("safeMint", &params, &args)));
        }
        if multi {
            let params = [ParamType::Address, ParamType::Uint(256), ParamType::Uint(256), ParamType::Bytes];
            let args =
                [Token::Address(*holder), Token::Uint(U256::zero()), Token::Uint(1000.into()), Token::Bytes(vec![])];
            calls.push((tokens.test_multi_token, calldata("mint", &params, &args)));
        }
        for (to, data) in calls {
            let tx = TxRequest { from: owner, to: Some(to), data, ..Default::default() };
            rpc.transact(&tx, "hand out a CLI devnet token").await?;
        }
    }
    Ok(())
}

/// Switches anvil from a block per transaction to a block every `seconds` (`evm_setIntervalMining`),
/// as `anvil --block-time` would have started it. The node deploys first and switches after, so
/// that a first start does not wait a block interval for each of its deployment transactions.
pub(crate) async fn mine_every(rpc: &Rpc, seconds: u64) -> Result<(), L1Error> {
    rpc.call("evm_setIntervalMining", json!([seconds])).await?;
    tracing::info!(seconds, "anvil mines a block every {seconds} s from now on");
    Ok(())
}

/// Deploys everything (idempotently) with account 0 as deployer and owner, then hands the
/// Authority to the claimer ([`DEVNET_CLAIMER`]). The hand-over comes last and is a
/// transaction only the first time, so every address and every earlier block stay as they were.
pub async fn deploy_devnet(rpc: &Rpc, nm: &NodeModules, with_tokens: bool) -> Result<AddressBook, L1Error> {
    let chain_id = rpc.chain_id().await?;
    let rollups = deploy_rollups_v1(rpc, nm, DEVNET_ACCOUNT_0).await?;
    let mut application = deploy_application(rpc, &rollups, DEVNET_ACCOUNT_0).await?;
    let tokens = match with_tokens {
        true => Some(deploy_test_tokens(rpc, nm, DEVNET_ACCOUNT_0).await?),
        false => None,
    };
    application.claimer = hand_over(rpc, application.authority, DEVNET_ACCOUNT_0, DEVNET_CLAIMER).await?;
    Ok(AddressBook { chain_id, rpc_url: rpc.url().to_owned(), rollups, application, tokens })
}

/// The owner of an `Ownable` contract.
pub async fn owner_of(rpc: &Rpc, contract: Address) -> Result<Address, L1Error> {
    let answer = rpc.eth_call(contract, &calldata("owner", &[], &[])).await?;
    match answer.get(12..32) {
        Some(word) if answer.len() == 32 => Ok(Address::from_slice(word)),
        _ => Err(L1Error::BadResponse { method: "owner".into(), reason: format!("{} bytes", answer.len()) }),
    }
}

/// Makes `to` the owner of the Authority `authority` (`transferOwnership`, sent by `from`, its
/// owner from the factory), once: nothing when `to` owns it already. Returns `to`.
pub(crate) async fn hand_over(rpc: &Rpc, authority: Address, from: Address, to: Address) -> Result<Address, L1Error> {
    let owner = owner_of(rpc, authority).await?;
    if owner == to {
        return Ok(to);
    }
    if owner != from {
        let reason = format!(
            "the Authority {} is owned by {}, neither the deployer {} nor the claimer {}",
            checksum(authority),
            checksum(owner),
            checksum(from),
            checksum(to)
        );
        return Err(L1Error::BadResponse { method: "owner".into(), reason });
    }
    let data = calldata("transferOwnership", &[ParamType::Address], &[Token::Address(to)]);
    let tx = TxRequest { from, to: Some(authority), data, ..Default::default() };
    rpc.transact(&tx, "hand the Authority to the claimer").await?;
    tracing::info!(authority = %checksum(authority), claimer = %checksum(to), "the claimer owns the Authority");
    Ok(to)
}

/// Writes `<deployments>/localhost/<Name>.json` (`{address, abi}`, hardhat-deploy style) for
/// every contract, and `<deployments>/localhost/dapp.json` (`{address, blockHash, blockNumber,
/// transactionHash}`, as `rollups-cli create` writes it). The console, run from a sibling
/// directory of `<deployments>`, finds them as `../deployments/localhost/*.json`.
pub fn write_deployment_files(
    book: &AddressBook,
    nm: &NodeModules,
    deployments: &Path,
) -> Result<Vec<PathBuf>, L1Error> {
    // The console maps chain id 31337 to `localhost`; a dev node's chain is that network.
    let dir = deployments.join("localhost");
    std::fs::create_dir_all(&dir).map_err(|source| L1Error::Write { path: dir.clone(), source })?;
    super::v2::remove_files(&dir, super::v2::V2_ONLY)?;
    let write = |name: &str, value: serde_json::Value| -> Result<PathBuf, L1Error> {
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(|source| L1Error::Write { path: path.clone(), source })?;
        Ok(path)
    };
    let mut written = Vec::new();
    for (name, address) in book.named() {
        let abi = artifact(nm, name, &book.rollups)?.abi;
        written.push(write(name, json!({"address": checksum(address), "abi": abi}))?);
    }
    let app = &book.application;
    written.push(write(
        "dapp",
        json!({
            "address": checksum(app.app),
            "blockHash": format!("{:#x}", app.block_hash),
            "blockNumber": app.block_number,
            "transactionHash": format!("{:#x}", app.transaction_hash),
        }),
    )?);
    Ok(written)
}

//! The Rollups v2 calls the node and its tests make on a deployed application (`v2.rs` deploys
//! it): inputs and deposits (each finding the input it added), claims through the Authority, and
//! `executeOutput`/`validateOutput` with their proofs.

use ethabi::ethereum_types::{Address, H256, U256};
use ethabi::{ParamType, Token};

use super::addresses::keccak256;
use super::deploy::calldata;
use super::error::L1Error;
use super::rpc::{Receipt, Rpc, TxRequest};
use super::v2::RollupsV2;

/// One v2 input sent: its transaction and index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmittedV2 {
    pub transaction_hash: H256,
    pub block_number: u64,
    pub input_index: u64,
}

/// `keccak("InputAdded(address,uint256,bytes)")`, the v2 InputBox's event.
pub fn input_added_v2_topic() -> H256 {
    keccak256(b"InputAdded(address,uint256,bytes)")
}

fn submitted(receipt: &Receipt, input_box: Address, app: Address) -> Result<SubmittedV2, L1Error> {
    let found = receipt.logs.iter().find(|l| {
        l.address == input_box
            && l.topics.len() == 3
            && l.topics[0] == input_added_v2_topic()
            && l.topics[1] == H256::from(app)
    });
    let Some(log) = found else {
        let reason = "the transaction emitted no InputAdded for the application".into();
        return Err(L1Error::BadInputLog { block: receipt.block_number, reason });
    };
    let index = U256::from_big_endian(log.topics[2].as_bytes());
    let index = u64::try_from(index).map_err(|_| L1Error::BadInputLog {
        block: receipt.block_number,
        reason: format!("input index {index} does not fit 64 bits"),
    })?;
    Ok(SubmittedV2 {
        transaction_hash: receipt.transaction_hash,
        block_number: receipt.block_number,
        input_index: index,
    })
}

/// Sends `data` to `to` from `from` with `value`, and finds the input it added.
async fn send_input(
    rpc: &Rpc,
    rollups: &RollupsV2,
    app: Address,
    tx: TxRequest,
    what: &str,
) -> Result<SubmittedV2, L1Error> {
    let receipt = rpc.transact(&tx, what).await?;
    submitted(&receipt, rollups.input_box, app)
}

/// `InputBox.addInput(app, payload)` from `from`.
pub async fn add_input_v2(
    rpc: &Rpc,
    rollups: &RollupsV2,
    from: Address,
    app: Address,
    payload: &[u8],
) -> Result<SubmittedV2, L1Error> {
    let data = calldata(
        "addInput",
        &[ParamType::Address, ParamType::Bytes],
        &[Token::Address(app), Token::Bytes(payload.to_vec())],
    );
    let tx = TxRequest { from, to: Some(rollups.input_box), data, value: U256::zero() };
    send_input(rpc, rollups, app, tx, "addInput").await
}

/// `EtherPortal.depositEther{value}(app, execLayerData)` from `from`.
pub async fn deposit_ether_v2(
    rpc: &Rpc,
    rollups: &RollupsV2,
    from: Address,
    app: Address,
    amount: U256,
) -> Result<SubmittedV2, L1Error> {
    let data =
        calldata("depositEther", &[ParamType::Address, ParamType::Bytes], &[Token::Address(app), Token::Bytes(vec![])]);
    let tx = TxRequest { from, to: Some(rollups.ether_portal), data, value: amount };
    send_input(rpc, rollups, app, tx, "depositEther").await
}

/// `token.approve(ERC20Portal, amount)`, then `ERC20Portal.depositERC20Tokens(token, app,
/// amount, execLayerData)`, from `from`.
pub async fn deposit_erc20_v2(
    rpc: &Rpc,
    rollups: &RollupsV2,
    from: Address,
    app: Address,
    token: Address,
    amount: U256,
) -> Result<SubmittedV2, L1Error> {
    let approve = calldata(
        "approve",
        &[ParamType::Address, ParamType::Uint(256)],
        &[Token::Address(rollups.erc20_portal), Token::Uint(amount)],
    );
    rpc.transact(&TxRequest { from, to: Some(token), data: approve, value: U256::zero() }, "approve").await?;
    let data = calldata(
        "depositERC20Tokens",
        &[ParamType::Address, ParamType::Address, ParamType::Uint(256), ParamType::Bytes],
        &[Token::Address(token), Token::Address(app), Token::Uint(amount), Token::Bytes(vec![])],
    );
    let tx = TxRequest { from, to: Some(rollups.erc20_portal), data, value: U256::zero() };
    send_input(rpc, rollups, app, tx, "depositERC20Tokens").await
}

/// `Authority.submitClaim(app, lastProcessedBlockNumber, outputsMerkleRoot)` from the Authority's
/// owner.
pub async fn submit_claim_v2(
    rpc: &Rpc,
    authority: Address,
    owner: Address,
    app: Address,
    last_processed_block: u64,
    root: [u8; 32],
) -> Result<Receipt, L1Error> {
    let data = calldata(
        "submitClaim",
        &[ParamType::Address, ParamType::Uint(256), ParamType::FixedBytes(32)],
        &[Token::Address(app), Token::Uint(U256::from(last_processed_block)), Token::FixedBytes(root.to_vec())],
    );
    rpc.transact(&TxRequest { from: owner, to: Some(authority), data, value: U256::zero() }, "submitClaim").await
}

/// The root the Authority accepted for the epoch ending with `last_processed_block`, if any,
/// and the transaction that submitted it: read from its `ClaimAccepted(appContract indexed,
/// lastProcessedBlockNumber, root)` events from `from_block` on. (A claim comes in a block
/// after `last_processed_block`, so that block + 1 is a tight `from_block`.)
pub async fn accepted_claim_v2(
    rpc: &Rpc,
    authority: Address,
    app: Address,
    last_processed_block: u64,
    from_block: u64,
) -> Result<Option<([u8; 32], H256)>, L1Error> {
    let topic = keccak256(b"ClaimAccepted(address,uint256,bytes32)");
    let latest = rpc.block_number().await?;
    if from_block > latest {
        return Ok(None);
    }
    let logs = rpc.get_logs(authority, &[Some(topic), Some(H256::from(app))], from_block, latest).await?;
    Ok(logs.iter().find_map(|l| {
        let block = l.data.get(..32).map(U256::from_big_endian)?;
        let root: [u8; 32] = l.data.get(32..64)?.try_into().ok()?;
        (block == U256::from(last_processed_block)).then_some((root, l.transaction_hash))
    }))
}

/// `Application.isOutputsMerkleRootValid`-style check through the Authority:
/// `Authority.isOutputsMerkleRootValid(app, root)`.
pub async fn is_root_valid_v2(rpc: &Rpc, authority: Address, app: Address, root: [u8; 32]) -> Result<bool, L1Error> {
    let data = calldata(
        "isOutputsMerkleRootValid",
        &[ParamType::Address, ParamType::FixedBytes(32)],
        &[Token::Address(app), Token::FixedBytes(root.to_vec())],
    );
    let answer = rpc.eth_call(authority, &data).await?;
    Ok(answer.get(31) == Some(&1))
}

/// The `OutputValidityProof` tuple `(uint64 outputIndex, bytes32[] outputHashesSiblings)`.
fn proof_token(index: u64, siblings: &[[u8; 32]]) -> Token {
    Token::Tuple(vec![
        Token::Uint(U256::from(index)),
        Token::Array(siblings.iter().map(|s| Token::FixedBytes(s.to_vec())).collect()),
    ])
}

fn proof_param() -> ParamType {
    ParamType::Tuple(vec![ParamType::Uint(64), ParamType::Array(Box::new(ParamType::FixedBytes(32)))])
}

/// Calldata of `Application.executeOutput(output, proof)`.
pub fn execute_output_calldata(output: &[u8], index: u64, siblings: &[[u8; 32]]) -> Vec<u8> {
    calldata(
        "executeOutput",
        &[ParamType::Bytes, proof_param()],
        &[Token::Bytes(output.to_vec()), proof_token(index, siblings)],
    )
}

/// Calldata of `Application.validateOutput(output, proof)`.
pub fn validate_output_calldata(output: &[u8], index: u64, siblings: &[[u8; 32]]) -> Vec<u8> {
    calldata(
        "validateOutput",
        &[ParamType::Bytes, proof_param()],
        &[Token::Bytes(output.to_vec()), proof_token(index, siblings)],
    )
}

/// `Application.wasOutputExecuted(index)`.
pub async fn was_output_executed(rpc: &Rpc, app: Address, index: u64) -> Result<bool, L1Error> {
    let data = calldata("wasOutputExecuted", &[ParamType::Uint(256)], &[Token::Uint(U256::from(index))]);
    Ok(rpc.eth_call(app, &data).await?.get(31) == Some(&1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l1::input_box_data_availability;

    #[test]
    fn selectors_match_the_reference() {
        let proof = [ParamType::Bytes, proof_param()];
        assert_eq!(ethabi::short_signature("executeOutput", &proof), [0x33, 0x13, 0x7b, 0x76]);
        assert_eq!(ethabi::short_signature("wasOutputExecuted", &[ParamType::Uint(256)]), [0x71, 0x89, 0x1d, 0xb0]);
        let claim = [ParamType::Address, ParamType::Uint(256), ParamType::FixedBytes(32)];
        assert_eq!(ethabi::short_signature("submitClaim", &claim), [0x64, 0x70, 0xaf, 0x00]);
        assert_eq!(input_box_data_availability(Address::zero())[..4], [0xb1, 0x2c, 0x9e, 0xde]);
        assert!(format!("{:#x}", input_added_v2_topic()).starts_with("0xc05d3371"));
    }
}

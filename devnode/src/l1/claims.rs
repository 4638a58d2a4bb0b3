//! Claims on L1: `Authority.submitClaim` and `Authority.getClaim` of Rollups v1 (the History
//! behind the Authority keeps the application's claims in order).

use ethabi::ethereum_types::{Address, H256, U256};
use ethabi::{ParamType, Token};

use super::error::L1Error;
use super::rpc::{Receipt, Rpc, TxRequest};

/// A claim as the History keeps it: the epoch hash of inputs `first_input..=last_input`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub epoch_hash: H256,
    pub first_input: u64,
    pub last_input: u64,
}

/// `Authority.submitClaim(abi.encode(app, (epochHash, firstIndex, lastIndex)))` from the
/// Authority's owner.
pub async fn submit_claim(
    rpc: &Rpc,
    authority: Address,
    owner: Address,
    app: Address,
    claim: Claim,
) -> Result<Receipt, L1Error> {
    let claim_data = ethabi::encode(&[
        Token::Address(app),
        Token::Tuple(vec![
            Token::FixedBytes(claim.epoch_hash.0.to_vec()),
            Token::Uint(U256::from(claim.first_input)),
            Token::Uint(U256::from(claim.last_input)),
        ]),
    ]);
    let mut data = ethabi::short_signature("submitClaim", &[ParamType::Bytes]).to_vec();
    data.extend(ethabi::encode(&[Token::Bytes(claim_data)]));
    let tx = TxRequest { from: owner, to: Some(authority), data, value: U256::zero() };
    rpc.transact(&tx, "submitClaim").await
}

/// The proof context of claim `index`: `abi.encode(uint256 index)`.
pub(crate) fn claim_context(index: u64) -> Vec<u8> {
    ethabi::encode(&[Token::Uint(U256::from(index))])
}

/// The application's claim number `index`, or `None` when the History has fewer claims.
pub async fn get_claim(rpc: &Rpc, authority: Address, app: Address, index: u64) -> Result<Option<Claim>, L1Error> {
    let mut data = ethabi::short_signature("getClaim", &[ParamType::Address, ParamType::Bytes]).to_vec();
    data.extend(ethabi::encode(&[Token::Address(app), Token::Bytes(claim_context(index))]));
    let answer = match rpc.eth_call(authority, &data).await {
        Ok(answer) => answer,
        // `InvalidClaimIndex`: there is no such claim (yet).
        Err(L1Error::Rpc { message, .. }) if message.contains("revert") => return Ok(None),
        Err(e) => return Err(e),
    };
    let bad = |reason: String| L1Error::Abi { what: "getClaim", reason };
    let words = ethabi::decode(&[ParamType::FixedBytes(32), ParamType::Uint(256), ParamType::Uint(256)], &answer)
        .map_err(|e| bad(format!("{e:?}")))?;
    match &words[..] {
        [Token::FixedBytes(hash), Token::Uint(first), Token::Uint(last)] if hash.len() == 32 => Ok(Some(Claim {
            epoch_hash: H256::from_slice(hash),
            first_input: u64::try_from(*first).map_err(|_| bad(format!("first index {first}")))?,
            last_input: u64::try_from(*last).map_err(|_| bad(format!("last index {last}")))?,
        })),
        other => Err(bad(format!("unexpected answer {other:?}"))),
    }
}

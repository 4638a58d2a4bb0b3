//! Settlement on the dev node: epochs, claims through the application's Authority, and the
//! proofs that make vouchers executable and notices valid on L1.
//!
//! **Epochs** follow Cartesi node v1.5: epoch `k` is the L1 blocks `[d + k·L, d + (k+1)·L)`,
//! where `d` is the application's deployment block and `L` the epoch length (`--epoch-length`).
//! An epoch closes once L1 is past its last block (no input can join it any more), the node has
//! read L1 that far, and every input of the epoch is processed. Empty epochs are not claimed, so
//! claim `k` covers the `k`-th epoch with inputs, and rejected or EXCEPTION inputs keep their slot.
//!
//! **Claims** are recorded first (with the proof of every output they cover), then submitted
//! through the Authority. L1 is the judge: before submitting claim `k` the settler asks the
//! History whether it already has a claim `k`; if it has one, the settler only compares it with
//! its own. So a claim is submitted once, even across a kill between the transaction and the
//! database, and a claim that L1 lost (the chain went back) is submitted again. An on-chain
//! claim that differs from the node's own puts the node in the failed phase.
//!
//! **Validator mode** submits nothing: it reads each claim another party made, computes its own
//! epoch hash over the same inputs, and reports agreement or the first disagreement.

pub mod merkle;
pub mod tree;
pub mod v2;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::health::Health;
use crate::l1::{self, Address, Claim, Rpc, H256};
use crate::store::{ClaimRecord, InputStatus, OutputKind, Store, StoreError, StoredProof};
use merkle::{Epoch, InputOutputs, Kind};
use rollup::wire::Output;

/// Whether the node claims or checks another party's claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Claim,
    Validate,
}

/// How often the settler looks for an epoch to close when there was nothing to do.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How long it waits after L1 could not be read or written.
const L1_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub(crate) enum SettleError {
    #[error("{0}")]
    L1(#[from] l1::L1Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Disagreement(String),
}

/// The settler's view of L1 and the store.
#[derive(Debug)]
pub(crate) struct Settler {
    pub rpc: Rpc,
    pub store: Arc<Store>,
    pub app: Address,
    pub authority: Address,
    /// The Authority's owner, who submits claims.
    pub owner: Address,
    pub deployment_block: u64,
    pub epoch_length: u64,
    pub mode: Mode,
    pub health: Health,
    /// The last L1 block the follower has read all inputs of.
    pub read_through: Arc<AtomicU64>,
}

/// The hashes of an input's outputs of one kind, in order.
fn hashes(outputs: &[Output], kind: Kind) -> Vec<merkle::Hash> {
    outputs
        .iter()
        .filter_map(|o| match (o, kind) {
            (Output::Voucher(v), Kind::Voucher) => Some(merkle::output_hash(kind, Some(v.destination.0), &v.payload.0)),
            (Output::Notice(p), Kind::Notice) => Some(merkle::output_hash(kind, None, p)),
            _ => None,
        })
        .collect()
}

/// The epoch of inputs `first..` given their statuses and outputs, with the proof of every
/// voucher and notice.
pub fn epoch_of(first: u64, inputs: &[(InputStatus, Vec<Output>)]) -> (Epoch, Vec<StoredProof>) {
    let per_input: Vec<InputOutputs> = inputs
        .iter()
        .map(|(status, outputs)| match status {
            InputStatus::Accepted => InputOutputs::Accepted {
                vouchers: hashes(outputs, Kind::Voucher),
                notices: hashes(outputs, Kind::Notice),
            },
            _ => InputOutputs::Reverted,
        })
        .collect();
    let epoch = Epoch::new(&per_input);
    let mut proofs = Vec::new();
    for (offset, input) in per_input.iter().enumerate() {
        let InputOutputs::Accepted { vouchers, notices } = input else { continue };
        for (kind, count, stored) in
            [(Kind::Voucher, vouchers.len(), OutputKind::Voucher), (Kind::Notice, notices.len(), OutputKind::Notice)]
        {
            for index in 0..count as u64 {
                if let Some(validity) = epoch.proof(kind, offset as u64, index) {
                    proofs.push(StoredProof {
                        kind: stored,
                        input_index: first + offset as u64,
                        index,
                        validity: validity.to_bytes(),
                    });
                }
            }
        }
    }
    (epoch, proofs)
}

fn same(claim: &ClaimRecord, on_chain: &Claim) -> bool {
    on_chain.epoch_hash == H256(claim.epoch_hash)
        && on_chain.first_input == claim.first_input
        && on_chain.last_input == claim.last_input
}

fn describe(claim: &Claim) -> String {
    format!("inputs {}..={} with epoch hash {:#x}", claim.first_input, claim.last_input, claim.epoch_hash)
}

impl Settler {
    /// Runs until the task is aborted. Failures that mean the node's state disagrees with L1 put
    /// the node in the failed phase; L1 being unreachable is retried.
    pub(crate) async fn run(self) {
        let mut rounds = Rounds::default();
        loop {
            let result = self.step().await;
            let hint = match self.mode {
                Mode::Claim => DISAGREEMENT_HINT,
                Mode::Validate => "the claimer's node computed another epoch hash for these inputs than this validator",
            };
            // On a disagreement, the status first: whoever sees the failed phase finds it there.
            let disagreed = |reason: &str| self.report(&self.store.claims().unwrap_or_default(), Some(reason));
            if !rounds.after(result, &self.health, hint, disagreed).await {
                return;
            }
        }
    }

    async fn get_claim(&self, index: u64) -> Result<Option<Claim>, l1::L1Error> {
        l1::get_claim(&self.rpc, self.authority, self.app, index).await
    }

    /// One round. Returns whether there may be more to do at once.
    async fn step(&self) -> Result<bool, SettleError> {
        if self.health.failure().is_some() {
            return Ok(false);
        }
        let claims = self.store.claims()?;
        self.report(&claims, None);

        // L1 still has what was submitted? If it went back, submit again from the first claim it
        // lost.
        if let Some(last) = claims.iter().rev().find(|c| c.submitted) {
            if self.get_claim(last.index).await?.is_none() {
                for claim in claims.iter().rev().filter(|c| c.submitted) {
                    if self.get_claim(claim.index).await?.is_some() {
                        break;
                    }
                    tracing::warn!(
                        "L1 no longer has claim {} (inputs {}..={})",
                        claim.index,
                        claim.first_input,
                        claim.last_input
                    );
                    self.store.set_submitted(claim.index, false)?;
                }
                return Ok(true);
            }
        }

        // The first claim L1 does not have yet: submit it, unless L1 has one at that index.
        if let Some(claim) = claims.iter().find(|c| !c.submitted) {
            match self.get_claim(claim.index).await? {
                Some(on_chain) if same(claim, &on_chain) => {}
                Some(on_chain) => {
                    return Err(SettleError::Disagreement(format!(
                        "claim {}: L1 has {}, this node computes inputs {}..={} with epoch hash 0x{}",
                        claim.index,
                        describe(&on_chain),
                        claim.first_input,
                        claim.last_input,
                        hex::encode(claim.epoch_hash)
                    )))
                }
                None if self.mode == Mode::Validate => return Ok(false),
                None => {
                    let on_chain = Claim {
                        epoch_hash: H256(claim.epoch_hash),
                        first_input: claim.first_input,
                        last_input: claim.last_input,
                    };
                    let receipt = l1::submit_claim(&self.rpc, self.authority, self.owner, self.app, on_chain).await?;
                    tracing::info!(
                        claim = claim.index,
                        inputs = format!("{}..={}", claim.first_input, claim.last_input),
                        block = receipt.block_number,
                        "claim submitted"
                    );
                }
            }
            self.store.set_submitted(claim.index, true)?;
            if self.mode == Mode::Validate {
                tracing::info!(claim = claim.index, "claim agrees with this node's epoch hash");
            }
            return Ok(true);
        }

        // Close the next epoch.
        let first = claims.last().map_or(0, |c| c.last_input + 1);
        let index = claims.len() as u64;
        let last = match self.mode {
            Mode::Claim => {
                let Some((record, _)) = self.store.input(first)? else { return Ok(false) };
                let epoch = record.block_number.saturating_sub(self.deployment_block) / self.epoch_length;
                let end = self.deployment_block + (epoch + 1) * self.epoch_length - 1;
                if self.read_through.load(Ordering::Relaxed) < end {
                    return Ok(false);
                }
                self.store.last_input_up_to_block(end)?.unwrap_or(first)
            }
            Mode::Validate => {
                let Some(on_chain) = self.get_claim(index).await? else { return Ok(false) };
                if on_chain.first_input != first {
                    return Err(SettleError::Disagreement(format!(
                        "claim {index} covers {}, but the previous claim ended before input {first}",
                        describe(&on_chain)
                    )));
                }
                if self.store.input(on_chain.last_input)?.is_none() {
                    return Ok(false);
                }
                on_chain.last_input
            }
        };
        let inputs = self.store.completed_range(first, last)?;
        if inputs.iter().any(|(status, _)| *status == InputStatus::Unprocessed) {
            return Ok(false);
        }
        let (epoch, proofs) = epoch_of(first, &inputs);
        let claim =
            ClaimRecord { index, first_input: first, last_input: last, epoch_hash: epoch.hash(), submitted: false };
        self.store.add_claim(&claim, &proofs)?;
        Ok(true)
    }

    /// What the readiness endpoint says about settlement.
    fn report(&self, claims: &[ClaimRecord], disagreement: Option<&str>) {
        let submitted: Vec<&ClaimRecord> = claims.iter().filter(|c| c.submitted).collect();
        let last_claimed = submitted.last().map(|c| c.last_input);
        let next = claims.last().map_or(0, |c| c.last_input + 1);
        let next_claim_block = match self.store.input(next) {
            Ok(Some((record, _))) if self.mode == Mode::Claim => {
                let epoch = record.block_number.saturating_sub(self.deployment_block) / self.epoch_length;
                Some(self.deployment_block + (epoch + 1) * self.epoch_length - 1)
            }
            _ => None,
        };
        let mode = match self.mode {
            Mode::Claim => "claim",
            Mode::Validate => "validate",
        };
        let mut value = json!({
            "mode": mode,
            "epoch_length": self.epoch_length,
            "claims": submitted.len(),
            "last_claimed_input": last_claimed,
            "next_claim_block": next_claim_block,
        });
        if self.mode == Mode::Validate {
            value["agreed"] = json!(submitted.len());
            value["disagreement"] = json!(disagreement);
        }
        self.health.set_settlement(value);
    }
}

/// The `Proof` struct of CartesiDApp 1.x: `((uint64, uint64, bytes32 × 4, bytes32[], bytes32[]), bytes context)`.
fn proof_token(validity: &merkle::Validity, claim_index: u64) -> ethabi::Token {
    use ethabi::Token;
    let word = |h: &merkle::Hash| Token::FixedBytes(h.to_vec());
    let list = |hs: &[merkle::Hash]| Token::Array(hs.iter().map(word).collect());
    Token::Tuple(vec![
        Token::Tuple(vec![
            Token::Uint(validity.input_index_within_epoch.into()),
            Token::Uint(validity.output_index_within_input.into()),
            word(&validity.output_hashes_root_hash),
            word(&validity.vouchers_epoch_root_hash),
            word(&validity.notices_epoch_root_hash),
            word(&validity.machine_state_hash),
            list(&validity.output_hash_in_output_hashes_siblings),
            list(&validity.output_hashes_in_epoch_siblings),
        ]),
        Token::Bytes(l1::claim_context(claim_index)),
    ])
}

fn proof_param() -> ethabi::ParamType {
    use ethabi::ParamType as P;
    let word = || P::FixedBytes(32);
    P::Tuple(vec![
        P::Tuple(vec![
            P::Uint(64),
            P::Uint(64),
            word(),
            word(),
            word(),
            word(),
            P::Array(Box::new(word())),
            P::Array(Box::new(word())),
        ]),
        P::Bytes,
    ])
}

/// Calldata of `CartesiDApp.executeVoucher(destination, payload, proof)`.
pub fn execute_voucher_calldata(
    destination: Address,
    payload: &[u8],
    validity: &merkle::Validity,
    claim_index: u64,
) -> Vec<u8> {
    use ethabi::{ParamType as P, Token};
    let mut data = ethabi::short_signature("executeVoucher", &[P::Address, P::Bytes, proof_param()]).to_vec();
    data.extend(ethabi::encode(&[
        Token::Address(destination),
        Token::Bytes(payload.to_vec()),
        proof_token(validity, claim_index),
    ]));
    data
}

/// Calldata of `CartesiDApp.validateNotice(payload, proof)`.
pub fn validate_notice_calldata(payload: &[u8], validity: &merkle::Validity, claim_index: u64) -> Vec<u8> {
    use ethabi::{ParamType as P, Token};
    let mut data = ethabi::short_signature("validateNotice", &[P::Bytes, proof_param()]).to_vec();
    data.extend(ethabi::encode(&[Token::Bytes(payload.to_vec()), proof_token(validity, claim_index)]));
    data
}

/// The hint of a claim disagreement on a claiming node.
pub(crate) const DISAGREEMENT_HINT: &str =
    "L1 holds a claim this node did not make for these inputs: use a fresh chain, or a chain where only this node claims";

/// How a settler's loop goes on after one round, the same for Rollups v1 and v2: it pauses when
/// there is nothing to do, retries L1 with one warning per outage, and fails the node on a store
/// error or a claim disagreement.
#[derive(Default)]
pub(crate) struct Rounds {
    l1_down: bool,
}

impl Rounds {
    /// Waits as the round's result says; false when the settler must stop. `disagreed` runs
    /// before the node's failure is published.
    pub(crate) async fn after(
        &mut self,
        result: Result<bool, SettleError>,
        health: &Health,
        disagreement_hint: &str,
        disagreed: impl FnOnce(&str),
    ) -> bool {
        match result {
            Ok(more) => {
                self.l1_down = false;
                if !more {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                true
            }
            Err(SettleError::L1(e)) => {
                if !self.l1_down {
                    tracing::warn!("settlement: {e}; retrying every {L1_RETRY:?}");
                    self.l1_down = true;
                }
                tokio::time::sleep(L1_RETRY).await;
                true
            }
            Err(SettleError::Store(e)) => {
                tracing::error!("settlement cannot use the database: {e}; the node stops processing");
                health
                    .fail(format!("settlement cannot use the database: {e}"), "check the disk, then restart the node");
                false
            }
            Err(SettleError::Disagreement(reason)) => {
                tracing::error!("CLAIM DISAGREEMENT: {reason}");
                disagreed(&reason);
                health.fail(format!("claim disagreement: {reason}"), disagreement_hint);
                false
            }
        }
    }
}

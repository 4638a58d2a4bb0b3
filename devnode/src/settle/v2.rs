//! Settlement on a Rollups v2 node: the outputs tree, one claim per epoch that has inputs, and
//! the 63 siblings of every output.
//!
//! Epochs are aligned to absolute block numbers, as the v2 Authority counts them: epoch `e` is
//! blocks `[e·L, (e+1)·L)`, and its claim is `submitClaim(app, (e+1)·L − 1, root)`, where `root`
//! is the outputs tree after every input of blocks up to `(e+1)·L − 1` (accepted inputs' outputs
//! only). An epoch closes once the follower has read L1 through its last block and every input of
//! it is processed; epochs without inputs are not claimed. The claim's transaction lands in a
//! later block, as `submitClaim` requires.
//!
//! As in v1, the claim is recorded first (with the siblings of each output it adds, against its
//! root), then submitted; before submitting, the settler looks for the Authority's
//! `ClaimAccepted` of that epoch, so a restart never claims twice, and a claim L1 lost (the chain
//! went back) is submitted again. A root on L1 that differs from the node's fails the node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::json;

use super::tree::{self, OutputsTree};
use crate::health::Health;
use crate::l1::{self, Address, Rpc, U256};
use crate::store::{ClaimV2, OutputV2, Store, StoreError};
use rollup::wire::Output;

/// The bytes of a v2 output as the Application checks them (`Notice`, `Voucher` call encodings).
/// A voucher without a value (a v1-form voucher) carries value 0. Reports have none.
pub fn output_bytes(output: &Output) -> Option<Vec<u8>> {
    match output {
        Output::Notice(p) => Some(tree::notice(p)),
        Output::Voucher(v) => {
            let value = v.value.as_ref().map_or(U256::zero(), |x| U256::from_big_endian(&x.0));
            Some(tree::voucher(Address::from(v.destination.0), value, &v.payload.0))
        }
        Output::DelegateCallVoucher(v) => {
            Some(tree::delegate_call_voucher(Address::from(v.destination.0), &v.payload.0))
        }
        Output::Report(_) => None,
    }
}

use super::SettleError;

/// The v2 settler.
#[derive(Debug)]
pub struct SettlerV2 {
    pub rpc: Rpc,
    pub store: Arc<Store>,
    pub app: Address,
    pub authority: Address,
    pub input_box: Address,
    pub owner: Address,
    pub deployment_block: u64,
    pub epoch_length: u64,
    pub health: Health,
    /// The last L1 block the follower has read all inputs of.
    pub read_through: Arc<AtomicU64>,
}

impl SettlerV2 {
    pub async fn run(self) {
        let mut tree = OutputsTree::new();
        let mut rounds = super::Rounds::default();
        loop {
            let result = self.step(&mut tree).await;
            if !rounds.after(result, &self.health, super::DISAGREEMENT_HINT, |_| {}).await {
                return;
            }
        }
    }

    /// The root L1 accepted for the epoch ending with `last_block`, and the claim's transaction.
    /// Only blocks after `last_block` can hold that claim, so only they are read.
    async fn accepted(&self, last_block: u64) -> Result<Option<([u8; 32], l1::H256)>, l1::L1Error> {
        let from = self.deployment_block.max(last_block.saturating_add(1));
        l1::accepted_claim_v2(&self.rpc, self.authority, self.app, last_block, from).await
    }

    /// Makes `tree` hold exactly the outputs of the inputs the last claim covers (after a start
    /// or a rollback it may not).
    fn sync_tree(&self, tree: &mut OutputsTree, claims: &[ClaimV2]) -> Result<(), StoreError> {
        let (inputs, outputs) = claims.last().map_or((0, 0), |c| (c.input_count, c.output_count));
        if tree.len() == outputs {
            return Ok(());
        }
        *tree = OutputsTree::new();
        for o in self.store.outputs_of_inputs(0, inputs)? {
            push(tree, &o)?;
        }
        if tree.len() != outputs {
            return Err(StoreError::Corrupt(format!(
                "the claims cover {outputs} outputs, but the inputs they cover hold {}",
                tree.len()
            )));
        }
        Ok(())
    }

    /// One round; returns whether there may be more to do at once.
    async fn step(&self, tree: &mut OutputsTree) -> Result<bool, SettleError> {
        if self.health.failure().is_some() {
            return Ok(false);
        }
        let claims = self.store.claims_v2()?;
        self.report(&claims);

        // L1 still has the last claim submitted? If the chain went back, the lost claims are
        // dropped with their proofs and the epochs closed again once L1 is past their end: the
        // new chain may hold more inputs in them, and the claims must cover those too.
        if let Some(last) = claims.iter().rev().find(|c| c.submitted) {
            if self.accepted(last.last_block).await?.is_none() {
                let mut lost = None;
                for claim in claims.iter().rev().filter(|c| c.submitted) {
                    if self.accepted(claim.last_block).await?.is_some() {
                        break;
                    }
                    tracing::warn!("L1 no longer has the claim of epoch {} (block {})", claim.epoch, claim.last_block);
                    lost = Some(claim.epoch);
                }
                if let Some(epoch) = lost {
                    self.store.drop_claims_v2_from(epoch)?;
                }
                return Ok(true);
            }
        }

        // The first claim L1 does not have yet: submit it, unless L1 has one for that epoch.
        if let Some(claim) = claims.iter().find(|c| !c.submitted) {
            let hash = match self.accepted(claim.last_block).await? {
                // L1 has it already (a restart after submitting): its transaction is the claim's.
                Some((root, transaction)) if root == claim.root => Some(transaction.0),
                Some((root, _)) => {
                    return Err(SettleError::Disagreement(format!(
                        "epoch {} (block {}): L1 accepted root 0x{}, this node computes 0x{}",
                        claim.epoch,
                        claim.last_block,
                        hex::encode(root),
                        hex::encode(claim.root)
                    )))
                }
                None => {
                    let receipt = l1::submit_claim_v2(
                        &self.rpc,
                        self.authority,
                        self.owner,
                        self.app,
                        claim.last_block,
                        claim.root,
                    )
                    .await?;
                    tracing::info!(
                        epoch = claim.epoch,
                        last_block = claim.last_block,
                        outputs = claim.output_count,
                        block = receipt.block_number,
                        "claim submitted"
                    );
                    Some(receipt.transaction_hash.0)
                }
            };
            self.store.set_claim_v2_submitted(claim.epoch, true, hash)?;
            return Ok(true);
        }

        // Close the next epoch with inputs.
        self.sync_tree(tree, &claims)?;
        let first = claims.last().map_or(0, |c| c.input_count);
        let Some((record, _)) = self.store.input(first)? else { return Ok(false) };
        let epoch = record.block_number / self.epoch_length;
        let last_block = (epoch + 1) * self.epoch_length - 1;
        if self.read_through.load(Ordering::Relaxed) < last_block {
            return Ok(false);
        }
        let last = self.store.last_input_up_to_block(last_block)?.unwrap_or(first);
        // `read_through` may be stale for a moment after L1 went back: close the epoch only when
        // L1, as it is now, has reached its end and has exactly the epoch's inputs held (the
        // `InputAdded` logs of its blocks; logs, unlike old state, survive anvil's saves). Its
        // last block may be L1's head: the claim's own transaction then lands in a later block,
        // as `submitClaim` requires, so an epoch is claimed without waiting for other traffic.
        let latest = self.rpc.block_number().await?;
        if latest < last_block {
            return Ok(false);
        }
        let topics = [Some(l1::input_added_v2_topic()), Some(l1::H256::from(self.app))];
        let logs = self.rpc.get_logs(self.input_box, &topics, epoch * self.epoch_length, last_block).await?;
        if logs.len() as u64 != last + 1 - first {
            return Ok(false);
        }
        let inputs = self.store.completed_range(first, last)?;
        if inputs.iter().any(|(status, _)| *status == crate::store::InputStatus::Unprocessed) {
            return Ok(false);
        }
        let before = tree.len();
        let added = self.store.outputs_of_inputs(first, last + 1)?;
        let mut grown = tree.clone();
        for o in &added {
            push(&mut grown, o)?;
        }
        let siblings = (before..grown.len())
            .map(|i| grown.siblings(i).map(|s| (i, s)).ok_or(StoreError::Corrupt(format!("no output {i}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let claim = ClaimV2 {
            epoch,
            last_block,
            input_count: last + 1,
            output_count: grown.len(),
            root: grown.root(),
            submitted: false,
            transaction_hash: None,
        };
        if !self.store.add_claim_v2(&claim, &siblings)? {
            // A rollback dropped inputs since the reads above: compute again from the store.
            tracing::info!(epoch, "the inputs changed while the claim was computed; computing it again");
            *tree = OutputsTree::new();
            return Ok(true);
        }
        *tree = grown;
        Ok(true)
    }

    /// What `/healthz` says about settlement.
    fn report(&self, claims: &[ClaimV2]) {
        let submitted: Vec<&ClaimV2> = claims.iter().filter(|c| c.submitted).collect();
        let next = claims.last().map_or(0, |c| c.input_count);
        let next_claim_block = match self.store.input(next) {
            Ok(Some((record, _))) => Some((record.block_number / self.epoch_length + 1) * self.epoch_length - 1),
            _ => None,
        };
        self.health.set_settlement(json!({
            "mode": "claim",
            "rollups": "v2",
            "epoch_length": self.epoch_length,
            "claims": submitted.len(),
            "last_claimed_input": submitted.last().map(|c| c.input_count - 1),
            "next_claim_block": next_claim_block,
        }));
    }
}

fn push(tree: &mut OutputsTree, o: &OutputV2) -> Result<(), StoreError> {
    let bytes = output_bytes(&o.output).ok_or_else(|| StoreError::Corrupt("a report among the outputs".into()))?;
    if tree.push(tree::keccak(&bytes)) != o.index {
        return Err(StoreError::Corrupt(format!("output {} is not the tree's next leaf", o.index)));
    }
    Ok(())
}

//! Planning: an input is checked against the pending view and its effects are computed, all
//! through `&Ledger`, so a rejection provably changes nothing. Committing the plan is
//! [`Ledger::advance`]'s job.

use super::Ledger;
use crate::asset::Asset;
use crate::error::{ErrorCode, Rejection};
use crate::input::{Action, Input};
use crate::op::{validate_amount, Op};
use crate::tx::{Tx, TxKind};
use crate::types::{Address, U256};

/// A planned balance write: the absolute new pending value, and where it goes if known.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Write {
    pub(crate) account: Address,
    pub(crate) asset: Asset,
    pub(crate) asset_id: Option<u32>,
    pub(crate) slot: Option<u32>,
    pub(crate) value: U256,
}

/// The effect of one planned transaction: absolute new balances and supply.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub(crate) tx: Tx,
    pub(crate) writes: [Option<Write>; 2],
    pub(crate) supply: Option<(Asset, Option<u32>, U256)>,
}

/// Values computed so far while planning an input, read through to the pending view. Inputs
/// hold few transactions, so a vector beats a map here.
#[derive(Default)]
struct Scratch {
    balances: Vec<(Address, Asset, U256)>,
    supply: Vec<(Asset, U256)>,
}

impl Scratch {
    fn balance(&self, account: &Address, asset: &Asset) -> Option<U256> {
        self.balances.iter().rev().find(|(a, s, _)| a == account && s == asset).map(|e| e.2)
    }

    fn supply(&self, asset: &Asset) -> Option<U256> {
        self.supply.iter().rev().find(|(s, _)| s == asset).map(|e| e.1)
    }
}

impl Ledger {
    /// Validates an input and computes the absolute balances each of its transactions writes.
    /// `time_seal` says that a block is sealed (crediting its reward) before the input's own
    /// transactions.
    pub(crate) fn plan(&self, input: &Input, time_seal: bool) -> Result<Vec<Planned>, Rejection> {
        let acting = input.acting();
        let mut scratch = Scratch::default();
        if time_seal {
            // The block sealed first credits its reward to the acting account.
            let reward = self.config.block_reward;
            let balance = self.pending_balance(&acting, &Asset::Coin);
            scratch.balances.push((acting, Asset::Coin, balance.saturating_add(reward)));
            scratch.supply.push((Asset::Coin, self.pending_supply(&Asset::Coin).saturating_add(reward)));
        }
        let tx = |kind, sub, from, to, asset, amount| Tx { kind, input: input.index, sub, from, to, asset, amount };
        let txs: Vec<Tx> = match &input.action {
            Action::Deposit { depositor, credits } => {
                if credits.iter().any(|(a, _)| *a == Asset::Coin) {
                    return Err(Rejection::new(ErrorCode::UnknownAsset, "COIN is created only as block rewards"));
                }
                // A zero entry of a batch locked nothing on L1: skip it rather than refuse the
                // batch, which would strand the other entries' assets. `sub` keeps the entry's
                // position in the batch.
                let txs: Vec<Tx> = credits
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, amount))| credits.len() == 1 || !amount.is_zero())
                    .map(|(i, (asset, amount))| tx(TxKind::Deposit, i as u32, *depositor, *depositor, *asset, *amount))
                    .collect();
                if txs.is_empty() {
                    return Err(Rejection::new(ErrorCode::InvalidAmount, "every amount of the deposit is zero"));
                }
                for t in &txs {
                    validate_amount(&t.asset, t.amount)?;
                }
                txs
            }
            Action::SetDappAddress(_) => Vec::new(),
            Action::Op(op) => {
                // The decoder checked already; an `Op` built by hand is held to the same rules.
                op.validate()?;
                match *op {
                    Op::Mine => Vec::new(),
                    Op::Transfer { to, asset, amount } => vec![tx(TxKind::Transfer, 0, acting, to, asset, amount)],
                    Op::Withdraw { asset, amount } => {
                        if self.dapp.is_none() && input.app_contract.is_none() {
                            return Err(Rejection::new(
                                ErrorCode::DappAddressUnknown,
                                "withdrawals need the dApp's own address, which is not known yet: relay it with DAppAddressRelay (Rollups v1) or set LEDGER_DAPP_ADDRESS",
                            ));
                        }
                        vec![tx(TxKind::Withdraw, 0, acting, acting, asset, amount)]
                    }
                }
            }
        };
        txs.into_iter().map(|tx| self.step(&mut scratch, tx)).collect()
    }

    /// Applies one transaction to the scratch view and records its writes.
    fn step(&self, s: &mut Scratch, tx: Tx) -> Result<Planned, Rejection> {
        let state = &self.state;
        let asset_id = state.known_id(&tx.asset);
        // Reads through the scratch values to the pending view, noting the slot if it exists.
        let read = |s: &Scratch, account: Address| -> (U256, Option<u32>) {
            let slot = asset_id.and_then(|id| state.slot_of(&account, id));
            let stored = slot.map_or_else(U256::zero, |slot| state.balance_at(slot).pending);
            (s.balance(&account, &tx.asset).unwrap_or(stored), slot)
        };
        let supply = |s: &Scratch| {
            s.supply(&tx.asset).unwrap_or_else(|| asset_id.map_or_else(U256::zero, |id| state.asset(id).pending_supply))
        };
        let write =
            |account, (value, slot): (U256, Option<u32>)| Write { account, asset: tx.asset, asset_id, slot, value };
        let amount = tx.amount;
        let mut writes = [None, None];
        let mut new_supply = None;
        match tx.kind {
            TxKind::Deposit => {
                let total = supply(s);
                let next = total.checked_add(amount).ok_or_else(|| {
                    Rejection::new(
                        ErrorCode::Overflow,
                        format!("depositing {amount} would overflow the total supply of {}", tx.asset),
                    )
                })?;
                if tx.asset.is_nft() && !total.is_zero() {
                    return Err(Rejection::new(
                        ErrorCode::DuplicateNft,
                        format!("the ledger already holds {}", tx.asset),
                    ));
                }
                // A balance never exceeds its asset's supply, so this cannot overflow.
                let (to, slot) = read(s, tx.to);
                writes[0] = Some(write(tx.to, (to.saturating_add(amount), slot)));
                new_supply = Some(next);
            }
            TxKind::Transfer | TxKind::Withdraw => {
                let (from, from_slot) = read(s, tx.from);
                let Some(left) = from.checked_sub(amount) else {
                    return Err(Rejection::new(
                        ErrorCode::InsufficientFunds,
                        format!("{} holds {from} of {} (pending), needs {amount}", tx.from, tx.asset),
                    ));
                };
                if tx.kind == TxKind::Withdraw {
                    writes[0] = Some(write(tx.from, (left, from_slot)));
                    new_supply = Some(supply(s).saturating_sub(amount));
                } else if tx.to == tx.from {
                    writes[0] = Some(write(tx.from, (from, from_slot)));
                } else {
                    let (to, to_slot) = read(s, tx.to);
                    writes[0] = Some(write(tx.from, (left, from_slot)));
                    writes[1] = Some(write(tx.to, (to.saturating_add(amount), to_slot)));
                }
            }
        }
        for w in writes.iter().flatten() {
            s.balances.push((w.account, w.asset, w.value));
        }
        if let Some(v) = new_supply {
            s.supply.push((tx.asset, v));
        }
        Ok(Planned { supply: new_supply.map(|v| (tx.asset, asset_id, v)), tx, writes })
    }
}

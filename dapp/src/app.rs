//! The pure glue between rollup requests and the ledger.

use ledger::{Action, ErrorCode, Fatal, Input, Ledger, Op, Rejection, TxKind};
use rollup::wire::Output;
use rollup::{decode_deposit, withdrawal_voucher, Advance, RollupsVersion};
use serde_json::json;

use crate::settings::Settings;

pub use ledger::MAX_OUTPUT_BYTES;

/// What to post for one request, in order, and how to finish it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub outputs: Vec<Output>,
    pub accept: bool,
}

/// The backend's state: the ledger and what it has learned about the rollup.
#[derive(Debug)]
pub struct App {
    settings: Settings,
    ledger: Ledger,
    seen_version: Option<RollupsVersion>,
}

impl App {
    pub fn new(settings: Settings) -> Result<App, Fatal> {
        let ledger = Ledger::new(settings.ledger.clone())?;
        Ok(App { settings, ledger, seen_version: None })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The version in force for an input: the pinned one, else the one its metadata shows.
    fn version_of(&self, advance: &Advance) -> RollupsVersion {
        self.settings.pinned_version.unwrap_or_else(|| advance.metadata.version())
    }

    /// Turns an input into a ledger action, or says why it cannot be one.
    fn classify(&self, advance: &Advance, version: RollupsVersion) -> Result<Action, Rejection> {
        let payload = &advance.payload.0;
        let sender = advance.metadata.msg_sender;
        let portals = self.settings.portals(version);
        if portals.dapp_address_relay == Some(sender) {
            let address = ledger::Address::from_slice(payload).ok_or_else(|| {
                Rejection::new(
                    ErrorCode::MalformedDeposit,
                    format!("DAppAddressRelay payload is {} bytes, expected 20", payload.len()),
                )
            })?;
            return Ok(Action::SetDappAddress(address));
        }
        if let Some(kind) = portals.classify(&sender) {
            // Deposits are never refused for their size: the assets are already locked on L1,
            // so refusing would strand them. Decoding is linear, and the InputBox bounds inputs.
            let (depositor, credits) = decode_deposit(kind, version, payload)?;
            return Ok(Action::Deposit { depositor, credits });
        }
        let limit = self.settings.ledger.max_payload_bytes as usize;
        if payload.len() > limit {
            return Err(Rejection::new(
                ErrorCode::PayloadTooLarge,
                format!("payload is {} bytes; the limit is {limit}", payload.len()),
            ));
        }
        Ok(Action::Op(Op::decode(payload)?))
    }

    /// Handles an advance: the outputs of every block it sealed (notices, then the vouchers of
    /// its withdrawals), then one JSON report; accept if the input was applied.
    pub fn advance(&mut self, advance: &Advance) -> Result<Response, Fatal> {
        // Nothing is written before the input is known to be accepted: inside the Cartesi
        // Machine a reject reverts the whole process, so host mode must leave no trace either.
        let version = self.version_of(advance);
        let meta = &advance.metadata;
        let action = match self.classify(advance, version) {
            Ok(action) => action,
            Err(rejection) => return Ok(reject(&rejection)),
        };
        let input = Input {
            index: meta.input_index,
            sender: meta.msg_sender,
            timestamp: meta.seconds(),
            app_contract: if version == RollupsVersion::V2 { meta.app_contract } else { None },
            action,
        };
        let receipt = match self.ledger.advance(input)? {
            Ok(receipt) => receipt,
            Err(rejection) => return Ok(reject(&rejection)),
        };
        self.seen_version = Some(version);
        let mut outputs = Vec::new();
        for &height in &receipt.sealed {
            outputs.extend(self.ledger.block_notices(height, MAX_OUTPUT_BYTES).into_iter().map(Output::Notice));
            let block =
                self.ledger.block(height).ok_or_else(|| Fatal::Invariant(format!("sealed block {height} missing")))?;
            for (_, tx) in self.ledger.block_txs(block).iter().filter(|(_, tx)| tx.kind == TxKind::Withdraw) {
                let dapp = self
                    .ledger
                    .dapp_address()
                    .ok_or_else(|| Fatal::Invariant("a withdrawal was admitted without a known dApp address".into()))?;
                if let Some(voucher) = withdrawal_voucher(version, dapp, tx.to, &tx.asset, tx.amount) {
                    outputs.push(Output::Voucher(voucher));
                }
            }
        }
        outputs.push(Output::Report(self.ledger.receipt_json(&receipt).to_string().into_bytes()));
        Ok(Response { outputs, accept: true })
    }

    /// Handles an inspect: the payload is a UTF-8 path; the answer is one JSON report.
    pub fn inspect(&self, payload: &[u8]) -> Response {
        let path = match std::str::from_utf8(payload) {
            Ok(path) => path,
            Err(_) => return reject(&Rejection::new(ErrorCode::InvalidQuery, "inspect payload is not UTF-8")),
        };
        match self.ledger.query(path) {
            Ok(mut value) => {
                if path.trim_start_matches('/') == "info" {
                    // `info` also says which Rollups version the backend is speaking.
                    value["rollups_version"] = json!(self.settings.pinned_version.or(self.seen_version));
                }
                let report = value.to_string().into_bytes();
                if report.len() > MAX_OUTPUT_BYTES {
                    // Routes page by size, so this is a backstop: an answer the rollup server
                    // may refuse would stop the backend.
                    return reject(&Rejection::new(
                        ErrorCode::InvalidQuery,
                        format!("the answer is {} bytes, above the {MAX_OUTPUT_BYTES}-byte output bound; ask for a smaller page", report.len()),
                    ));
                }
                Response { outputs: vec![Output::Report(report)], accept: true }
            }
            Err(rejection) => reject(&rejection),
        }
    }

    /// A request `/finish` returned that could not be parsed: report it and reject.
    pub fn unreadable_request(&self, why: &str) -> Response {
        reject(&Rejection::new(ErrorCode::MalformedPayload, format!("unreadable rollup request: {why}")))
    }
}

fn reject(rejection: &Rejection) -> Response {
    Response { outputs: vec![Output::Report(rejection.to_json().to_string().into_bytes())], accept: false }
}

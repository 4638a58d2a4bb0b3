//! The deterministic input stream: a seeded PRNG and the transactions it draws, each adding
//! one input on L1.

use super::*;

#[derive(Debug)]
pub(crate) struct Prng(pub(crate) u64);

impl Prng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for a test schedule (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// Makes the deterministic stream of transactions, each adding one input.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) prng: Prng,
    pub(crate) users: Vec<Address>,
    pub(crate) rollups: RollupsV1,
    pub(crate) app: Address,
    /// Every payload is made unique with it, so a duplicate is recognised by its content.
    pub(crate) seq: u64,
    pub(crate) mines: u64,
}

impl Stream {
    pub(crate) fn add_input(&self, from: Address, payload: Vec<u8>) -> TxRequest {
        let data = call(
            "addInput",
            &[ParamType::Address, ParamType::Bytes],
            &[Token::Address(self.app), Token::Bytes(payload)],
        );
        TxRequest { from, to: Some(self.rollups.input_box), data, value: U256::zero() }
    }

    pub(crate) fn relay(&self, from: Address) -> TxRequest {
        let data = call("relayDAppAddress", &[ParamType::Address], &[Token::Address(self.app)]);
        TxRequest { from, to: Some(self.rollups.dapp_address_relay), data, value: U256::zero() }
    }

    pub(crate) fn user(&mut self) -> Address {
        let i = self.prng.below(self.users.len() as u64) as usize;
        self.users[i]
    }

    /// One transaction from `from`.
    pub(crate) fn next_from(&mut self, from: Address) -> TxRequest {
        self.seq += 1;
        let seq = self.seq;
        let roll = self.prng.below(100);
        if roll < 25 {
            // An Ether deposit; the value makes it unique.
            let value = U256::from(self.prng.below(1000) + 1) * U256::exp10(12) + U256::from(seq);
            let data = call(
                "depositEther",
                &[ParamType::Address, ParamType::Bytes],
                &[Token::Address(self.app), Token::Bytes(vec![])],
            );
            return TxRequest { from, to: Some(self.rollups.ether_portal), data, value };
        }
        let payload = if roll < 55 {
            let to = if self.prng.percent(10) { Address::from_low_u64_be(0x50a4_0000 + seq) } else { self.user() };
            let amount = self.prng.below(300) * 1_000_000_000 + seq;
            format!(r#"{{"op":"transfer","to":"{to:#x}","asset":"ETH","amount":"{amount}"}}"#).into_bytes()
        } else if roll < 62 {
            let to = self.user();
            let amount = self.prng.below(100) * 1_000_000 + seq;
            format!(r#"{{"op":"transfer","to":"{to:#x}","asset":"COIN","amount":"{amount}"}}"#).into_bytes()
        } else if roll < 74 {
            self.mines += 1;
            format!(r#"{{"op":"mine"}}{}"#, " ".repeat(self.mines as usize)).into_bytes()
        } else if roll < 84 {
            let amount = self.prng.below(50) * 1_000_000_000 + seq;
            format!(r#"{{"op":"withdraw","asset":"ETH","amount":"{amount}"}}"#).into_bytes()
        } else {
            match self.prng.below(5) {
                0 => format!("not an operation #{seq}").into_bytes(),
                1 => format!(r#"{{"op":"transfer","to":"0xnothex","asset":"ETH","amount":"{seq}"}}"#).into_bytes(),
                2 => format!(r#"{{"op":"fly","amount":"{seq}"}}"#).into_bytes(),
                3 => format!(r#"{{"op":"transfer","amount":"{seq}"#).into_bytes(),
                _ => {
                    let mut bytes: Vec<u8> = (0..self.prng.below(40)).map(|_| self.prng.next() as u8).collect();
                    bytes.extend(seq.to_be_bytes());
                    bytes
                }
            }
        };
        self.add_input(from, payload)
    }

    /// The next group: one transaction, or several from distinct accounts for one L1 block.
    pub(crate) fn next_group(&mut self, room: u64) -> Vec<TxRequest> {
        let size = if room >= 2 && self.prng.percent(20) { 2 + self.prng.below(room.min(4) - 1) } else { 1 };
        let start = self.prng.below(self.users.len() as u64) as usize;
        (0..size as usize)
            .map(|k| {
                let from = self.users[(start + k) % self.users.len()];
                self.next_from(from)
            })
            .collect()
    }
}

/// Sends a group: alone with automine, or several mined into one block.
pub(crate) async fn send_group(
    rpc: &Rpc,
    group: &[TxRequest],
    rollups: &RollupsV1,
    app: Address,
) -> (Vec<L1Input>, Option<String>) {
    let mut added_inputs = Vec::new();
    if let [tx] = group {
        return match transact(rpc, tx).await.and_then(|r| added(&r, rollups, app)) {
            Ok(input) => (vec![input], None),
            Err(e) => (vec![], Some(e)),
        };
    }
    let mut hashes = Vec::new();
    let mut error = None;
    if let Err(e) = rpc.call("evm_setAutomine", json!([false])).await {
        return (vec![], Some(e.to_string()));
    }
    for tx in group {
        match rpc.send_transaction(tx).await {
            Ok(hash) => hashes.push(hash),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let mined = rpc.call("evm_mine", json!([])).await;
    let automine = rpc.call("evm_setAutomine", json!([true])).await;
    if let Err(e) = mined.and(automine) {
        return (vec![], Some(e.to_string()));
    }
    let mut blocks = Vec::new();
    for hash in hashes {
        match rpc.wait_receipt(hash, "addInput").await.map_err(|e| e.to_string()).and_then(|r| {
            blocks.push(r.block_number);
            added(&r, rollups, app)
        }) {
            Ok(input) => added_inputs.push(input),
            Err(e) => error = error.or(Some(e)),
        }
    }
    blocks.dedup();
    if blocks.len() > 1 {
        error = error.or(Some(format!("a group of {} landed in blocks {blocks:?}", group.len())));
    }
    (added_inputs, error)
}

pub(crate) async fn transact(rpc: &Rpc, tx: &TxRequest) -> Result<Receipt, String> {
    let hash = rpc.send_transaction(tx).await.map_err(|e| e.to_string())?;
    rpc.wait_receipt(hash, "input").await.map_err(|e| e.to_string())
}

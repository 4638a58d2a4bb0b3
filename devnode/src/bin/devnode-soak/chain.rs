//! L1 as the soak sees it: the inputs the InputBox holds and the ones a receipt says were added.

use super::*;

#[derive(Clone, Debug)]
pub(crate) struct L1Input {
    pub(crate) index: u64,
    pub(crate) sender: Address,
    pub(crate) payload: Vec<u8>,
    pub(crate) block: u64,
    pub(crate) transaction: H256,
}

/// The input `log` added for `app`, if it is an `InputAdded` of that application.
pub(crate) fn decode_input(log: &l1::Log, app: Address) -> Option<L1Input> {
    let (dapp, index, sender, payload) = l1::decode_input_added(log).ok()?;
    (dapp == app).then_some(L1Input {
        index,
        sender,
        payload,
        block: log.block_number,
        transaction: log.transaction_hash,
    })
}

pub(crate) async fn number_of_inputs(rpc: &Rpc, rollups: &RollupsV1, app: Address) -> Result<u64, String> {
    l1::number_of_inputs(rpc, rollups.input_box, app).await.map_err(|e| e.to_string())
}

pub(crate) async fn l1_inputs(rpc: &Rpc, rollups: &RollupsV1, app: Address, from: u64) -> Result<Vec<L1Input>, String> {
    let latest = rpc.block_number().await.map_err(|e| e.to_string())?;
    let topics = [Some(l1::input_added_topic()), Some(H256::from(app))];
    let mut inputs = Vec::new();
    let mut start = from;
    while start <= latest {
        let end = latest.min(start + 4_999);
        let logs = rpc.get_logs(rollups.input_box, &topics, start, end).await.map_err(|e| e.to_string())?;
        inputs.extend(logs.iter().filter_map(|l| decode_input(l, app)));
        start = end + 1;
    }
    Ok(inputs)
}

pub(crate) fn call(name: &str, params: &[ParamType], tokens: &[Token]) -> Vec<u8> {
    let mut data = ethabi::short_signature(name, params).to_vec();
    data.extend(ethabi::encode(tokens));
    data
}

/// The input a receipt added for `app`.
pub(crate) fn added(receipt: &Receipt, rollups: &RollupsV1, app: Address) -> Result<L1Input, String> {
    if !receipt.success {
        return Err(format!("transaction {:#x} reverted", receipt.transaction_hash));
    }
    receipt
        .logs
        .iter()
        .filter(|l| l.address == rollups.input_box)
        .find_map(|l| decode_input(l, app))
        .ok_or_else(|| format!("transaction {:#x} added no input", receipt.transaction_hash))
}

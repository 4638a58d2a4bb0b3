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

pub(crate) fn input_added_topic() -> H256 {
    l1::keccak256(l1::INPUT_ADDED_SIGNATURE.as_bytes())
}

pub(crate) fn decode_input(log: &l1::Log, app: Address) -> Option<L1Input> {
    if log.topics.first() != Some(&input_added_topic()) || log.topics.get(1) != Some(&H256::from(app)) {
        return None;
    }
    let parsed =
        l1::input_added_event().parse_log(RawLog { topics: log.topics.clone(), data: log.data.clone() }).ok()?;
    let mut values = parsed.params.into_iter().map(|p| p.value);
    match (values.next(), values.next(), values.next(), values.next()) {
        (
            Some(Token::Address(_)),
            Some(Token::Uint(index)),
            Some(Token::Address(sender)),
            Some(Token::Bytes(payload)),
        ) => Some(L1Input {
            index: index.low_u64(),
            sender,
            payload,
            block: log.block_number,
            transaction: log.transaction_hash,
        }),
        _ => None,
    }
}

pub(crate) async fn number_of_inputs(rpc: &Rpc, rollups: &RollupsV1, app: Address) -> Result<u64, String> {
    let mut data = ethabi::short_signature("getNumberOfInputs", &[ParamType::Address]).to_vec();
    data.extend(ethabi::encode(&[Token::Address(app)]));
    let out = rpc.eth_call(rollups.input_box, &data).await.map_err(|e| e.to_string())?;
    if out.len() != 32 {
        return Err(format!("getNumberOfInputs returned {} bytes", out.len()));
    }
    Ok(U256::from_big_endian(&out).low_u64())
}

pub(crate) async fn l1_inputs(rpc: &Rpc, rollups: &RollupsV1, app: Address, from: u64) -> Result<Vec<L1Input>, String> {
    let latest = rpc.block_number().await.map_err(|e| e.to_string())?;
    let topics = [Some(input_added_topic()), Some(H256::from(app))];
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

//! Inputs on L1: reading the application's `InputAdded` events from the InputBox, and sending
//! inputs (directly or through the Ether portal) from an unlocked account.

use std::collections::VecDeque;
use std::time::Duration;

use ethabi::ethereum_types::{Address, H256, U256};
use ethabi::{Event, EventParam, ParamType, RawLog, Token};

use super::addresses::{keccak256, RollupsV1};
use super::error::L1Error;
use super::rpc::{Log, Rpc, TxRequest};

/// The v1 event, by its canonical signature (the `InputAdded` of `IInputBox`, Rollups 1.x).
pub const INPUT_ADDED_SIGNATURE: &str = "InputAdded(address,uint256,address,bytes)";

/// `eth_getLogs` asks for at most this many blocks at once, so a long chain is read in bounded
/// pieces.
const MAX_BLOCK_RANGE: u64 = 5_000;
const DEFAULT_POLL: Duration = Duration::from_millis(250);

/// One input, as the dev node hands it to the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputEvent {
    /// Per application, from 0.
    pub index: u64,
    /// The account or contract that called `addInput` (a portal for deposits).
    pub msg_sender: Address,
    pub payload: Vec<u8>,
    pub block_number: u64,
    /// Seconds since the epoch, from the block header.
    pub block_timestamp: u64,
    pub block_hash: H256,
    pub transaction_hash: H256,
    /// The log's index within its block.
    pub log_index: u64,
    /// Rollups v2 only: the block's `prevrandao`, as the InputBox put it in `EvmAdvance`.
    pub prev_randao: Option<H256>,
}

/// The result of sending an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    pub transaction_hash: H256,
    pub block_number: u64,
    pub input_index: u64,
}

/// `InputAdded(address indexed dapp, uint256 indexed inputIndex, address sender, bytes input)`.
pub fn input_added_event() -> Event {
    let param = |name: &str, kind, indexed| EventParam { name: name.to_owned(), kind, indexed };
    Event {
        name: "InputAdded".to_owned(),
        inputs: vec![
            param("dapp", ParamType::Address, true),
            param("inputIndex", ParamType::Uint(256), true),
            param("sender", ParamType::Address, false),
            param("input", ParamType::Bytes, false),
        ],
        anonymous: false,
    }
}

/// The event's topic0, computed from the signature text rather than trusted from ethabi's
/// rendering of the declaration above (a unit test checks that both agree).
pub fn input_added_topic() -> H256 {
    keccak256(INPUT_ADDED_SIGNATURE.as_bytes())
}

/// Decodes one `InputAdded` log into `(dapp, index, sender, input)`.
pub fn decode_input_added(log: &Log) -> Result<(Address, u64, Address, Vec<u8>), L1Error> {
    let bad = |reason: String| L1Error::BadInputLog { block: log.block_number, reason };
    if log.topics.first() != Some(&input_added_topic()) {
        return Err(bad("topic0 is not InputAdded".into()));
    }
    let parsed = input_added_event()
        .parse_log(RawLog { topics: log.topics.clone(), data: log.data.clone() })
        .map_err(|e| bad(format!("{e:?}")))?;
    let mut values = parsed.params.into_iter().map(|p| p.value);
    match (values.next(), values.next(), values.next(), values.next()) {
        (
            Some(Token::Address(dapp)),
            Some(Token::Uint(index)),
            Some(Token::Address(sender)),
            Some(Token::Bytes(input)),
        ) => {
            let index = u64::try_from(index).map_err(|_| bad(format!("input index {index} does not fit 64 bits")))?;
            Ok((dapp, index, sender, input))
        }
        other => Err(bad(format!("unexpected parameters {other:?}"))),
    }
}

/// The fields of a v2 input (`EvmAdvance(chainId, appContract, msgSender, blockNumber,
/// blockTimestamp, prevRandao, index, payload)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmAdvance {
    pub chain_id: u64,
    pub app: Address,
    pub sender: Address,
    pub block_number: u64,
    pub block_timestamp: u64,
    pub prev_randao: H256,
    pub index: u64,
    pub payload: Vec<u8>,
}

/// `EvmAdvance(uint256,address,address,uint256,uint256,uint256,uint256,bytes)`.
pub(super) const EVM_ADVANCE_SELECTOR: [u8; 4] = [0x41, 0x5b, 0xf3, 0x63];

fn evm_advance_params() -> [ParamType; 8] {
    let u = || ParamType::Uint(256);
    [u(), ParamType::Address, ParamType::Address, u(), u(), u(), u(), ParamType::Bytes]
}

impl EvmAdvance {
    /// The calldata the InputBox hashes and emits (the input's `raw_data`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = EVM_ADVANCE_SELECTOR.to_vec();
        out.extend(ethabi::encode(&[
            Token::Uint(self.chain_id.into()),
            Token::Address(self.app),
            Token::Address(self.sender),
            Token::Uint(self.block_number.into()),
            Token::Uint(self.block_timestamp.into()),
            Token::Uint(U256::from_big_endian(self.prev_randao.as_bytes())),
            Token::Uint(self.index.into()),
            Token::Bytes(self.payload.clone()),
        ]));
        out
    }

    /// Decodes `EvmAdvance` calldata.
    pub fn decode(input: &[u8]) -> Result<EvmAdvance, String> {
        let body = input.strip_prefix(&EVM_ADVANCE_SELECTOR[..]).ok_or("not an EvmAdvance call")?;
        let tokens = ethabi::decode(&evm_advance_params(), body).map_err(|e| format!("{e:?}"))?;
        let small = |t: &Token, what: &str| match t {
            Token::Uint(v) => u64::try_from(*v).map_err(|_| format!("{what} {v} does not fit 64 bits")),
            _ => Err(format!("{what} is not a number")),
        };
        match &tokens[..] {
            [chain, Token::Address(app), Token::Address(sender), block, time, Token::Uint(randao), index, Token::Bytes(payload)] =>
            {
                let mut prev_randao = [0u8; 32];
                randao.to_big_endian(&mut prev_randao);
                Ok(EvmAdvance {
                    chain_id: small(chain, "chain id")?,
                    app: *app,
                    sender: *sender,
                    block_number: small(block, "block number")?,
                    block_timestamp: small(time, "block timestamp")?,
                    prev_randao: H256(prev_randao),
                    index: small(index, "input index")?,
                    payload: payload.clone(),
                })
            }
            other => Err(format!("unexpected parameters {other:?}")),
        }
    }
}

/// Decodes one v2 `InputAdded(address indexed appContract, uint256 indexed index, bytes input)`
/// log and its `EvmAdvance`, checking that the event's indexed fields agree with the call's.
fn decode_evm_advance(log: &Log) -> Result<EvmAdvance, L1Error> {
    let bad = |reason: String| L1Error::BadInputLog { block: log.block_number, reason };
    if log.topics.len() != 3 || log.topics[0] != super::v2_calls::input_added_v2_topic() {
        return Err(bad("not a v2 InputAdded log".into()));
    }
    let input = match ethabi::decode(&[ParamType::Bytes], &log.data).map_err(|e| bad(format!("{e:?}")))?.pop() {
        Some(Token::Bytes(b)) => b,
        other => return Err(bad(format!("unexpected data {other:?}"))),
    };
    let advance = EvmAdvance::decode(&input).map_err(bad)?;
    if H256::from(advance.app) != log.topics[1]
        || U256::from(advance.index) != U256::from_big_endian(log.topics[2].as_bytes())
    {
        return Err(bad("the EvmAdvance disagrees with the event's application or index".into()));
    }
    if advance.block_number != log.block_number {
        return Err(bad(format!("the EvmAdvance names block {}", advance.block_number)));
    }
    Ok(advance)
}

/// Follows one application's inputs: the past ones from a given block, then new blocks by
/// polling. Indices are checked to be consecutive, so a missed or repeated input is an error
/// rather than a silently different state.
#[derive(Debug)]
pub struct InputWatcher {
    rpc: Rpc,
    input_box: Address,
    app_topic: H256,
    next_block: u64,
    next_index: u64,
    poll_interval: Duration,
    caught_up: bool,
    buffered: VecDeque<InputEvent>,
    /// The last block whose timestamp was fetched: inputs often share a block.
    last_timestamp: Option<(u64, u64)>,
    /// Reads the Rollups v2 InputBox's `InputAdded(address,uint256,bytes)` with its `EvmAdvance`.
    v2: bool,
}

impl InputWatcher {
    /// Reads from `from_block` and hands out inputs from index `first_index` on: inputs with lower
    /// indices in the blocks read are skipped as already held. A restart therefore resumes from
    /// the block of the last input it holds (not the next block: inputs of one block may have
    /// been stored only in part), or from the application's deployment block when it holds none.
    pub fn new(rpc: Rpc, input_box: Address, app: Address, from_block: u64, first_index: u64) -> InputWatcher {
        InputWatcher {
            rpc,
            input_box,
            app_topic: H256::from(app),
            next_block: from_block,
            next_index: first_index,
            poll_interval: DEFAULT_POLL,
            caught_up: false,
            buffered: VecDeque::new(),
            last_timestamp: None,
            v2: false,
        }
    }

    /// Reads the Rollups v2 InputBox (2.x): `InputAdded` carries the whole `EvmAdvance` call.
    pub fn rollups_v2(mut self) -> InputWatcher {
        self.v2 = true;
        self
    }

    pub fn with_poll_interval(mut self, interval: Duration) -> InputWatcher {
        self.poll_interval = interval;
        self
    }

    /// Reads again from `from_block`, handing out inputs from index `first_index` on: after the
    /// node rolled back to follow a chain that went back.
    pub fn reset(&mut self, from_block: u64, first_index: u64) {
        self.next_block = from_block;
        self.next_index = first_index;
        self.caught_up = false;
        self.buffered.clear();
        self.last_timestamp = None;
    }

    /// The first block not yet read.
    pub(crate) fn next_block(&self) -> u64 {
        self.next_block
    }

    /// The index of the next input [`next`](Self::next) returns.
    pub fn next_index(&self) -> u64 {
        self.next_index - self.buffered.len() as u64
    }

    /// Reads the blocks mined since the last call (at most [`MAX_BLOCK_RANGE`] of them) and
    /// returns their inputs in order, without waiting.
    pub async fn poll(&mut self) -> Result<Vec<InputEvent>, L1Error> {
        let latest = self.rpc.block_number().await?;
        if latest < self.next_block {
            self.caught_up = true;
            return Ok(Vec::new());
        }
        let to = latest.min(self.next_block + MAX_BLOCK_RANGE - 1);
        let topic0 = if self.v2 { super::v2_calls::input_added_v2_topic() } else { input_added_topic() };
        let topics = [Some(topic0), Some(self.app_topic)];
        let logs = self.rpc.get_logs(self.input_box, &topics, self.next_block, to).await?;
        let mut events = Vec::with_capacity(logs.len());
        for log in &logs {
            let (dapp, index, msg_sender, payload, advance) = match self.v2 {
                false => {
                    let (dapp, index, sender, payload) = decode_input_added(log)?;
                    (dapp, index, sender, payload, None)
                }
                true => {
                    let a = decode_evm_advance(log)?;
                    (a.app, a.index, a.sender, a.payload.clone(), Some(a))
                }
            };
            if H256::from(dapp) != self.app_topic {
                return Err(L1Error::BadInputLog {
                    block: log.block_number,
                    reason: "log of another application".into(),
                });
            }
            if index < self.next_index {
                // Held already: its block is read again after a restart.
                continue;
            }
            if index != self.next_index {
                return Err(L1Error::InputGap { expected: self.next_index, found: index });
            }
            let block_timestamp = match &advance {
                Some(a) => a.block_timestamp,
                None => self.timestamp(log.block_number).await?,
            };
            events.push(InputEvent {
                index,
                msg_sender,
                payload,
                block_number: log.block_number,
                block_timestamp,
                block_hash: log.block_hash,
                transaction_hash: log.transaction_hash,
                log_index: log.log_index,
                prev_randao: advance.map(|a| a.prev_randao),
            });
            self.next_index += 1;
        }
        self.next_block = to + 1;
        self.caught_up = to == latest;
        Ok(events)
    }

    /// The next input; waits (polling every `poll_interval`) until there is one. Use either this
    /// or [`poll`](Self::poll), not both: `poll` hands out what it reads without buffering.
    pub async fn next(&mut self) -> Result<InputEvent, L1Error> {
        loop {
            if let Some(event) = self.buffered.pop_front() {
                return Ok(event);
            }
            let events = self.poll().await?;
            self.buffered.extend(events);
            if self.buffered.is_empty() && self.caught_up {
                tokio::time::sleep(self.poll_interval).await;
            }
        }
    }

    async fn timestamp(&mut self, block: u64) -> Result<u64, L1Error> {
        if let Some((_, ts)) = self.last_timestamp.filter(|(n, _)| *n == block) {
            return Ok(ts);
        }
        let ts = self.rpc.block_timestamp(block).await?;
        self.last_timestamp = Some((block, ts));
        Ok(ts)
    }
}

/// `InputBox.getNumberOfInputs(app)` at the latest block.
pub async fn number_of_inputs(rpc: &Rpc, input_box: Address, app: Address) -> Result<u64, L1Error> {
    let mut data = ethabi::short_signature("getNumberOfInputs", &[ParamType::Address]).to_vec();
    data.extend(ethabi::encode(&[Token::Address(app)]));
    let answer = rpc.eth_call(input_box, &data).await?;
    let bad = |reason: String| L1Error::BadResponse { method: "getNumberOfInputs".into(), reason };
    match ethabi::decode(&[ParamType::Uint(256)], &answer).map_err(|e| bad(format!("{e:?}")))?.pop() {
        Some(Token::Uint(n)) => u64::try_from(n).map_err(|_| bad(format!("{n} inputs do not fit 64 bits"))),
        other => Err(bad(format!("unexpected answer {other:?}"))),
    }
}

/// Finds the `InputAdded` of `app` among a receipt's logs.
fn submitted(logs: &[Log], rollups: &RollupsV1, app: Address, hash: H256, block: u64) -> Result<Submitted, L1Error> {
    for log in logs.iter().filter(|l| l.address == rollups.input_box) {
        let (dapp, index, _, _) = decode_input_added(log)?;
        if dapp == app {
            return Ok(Submitted { transaction_hash: hash, block_number: block, input_index: index });
        }
    }
    Err(L1Error::BadInputLog { block, reason: "the transaction emitted no InputAdded for the application".into() })
}

/// `InputBox.addInput(app, payload)` from `from`.
pub async fn add_input(
    rpc: &Rpc,
    rollups: &RollupsV1,
    from: Address,
    app: Address,
    payload: &[u8],
) -> Result<Submitted, L1Error> {
    let call = InputCall { to: rollups.input_box, function: "addInput", app, bytes: payload, value: U256::zero() };
    send_input_call(rpc, rollups, from, call).await
}

/// `EtherPortal.depositEther{value: amount}(app, exec_layer_data)` from `from`. The application
/// sees the portal as `msg_sender` and `sender(20) ‖ value(32) ‖ exec_layer_data` as payload.
pub async fn deposit_ether(
    rpc: &Rpc,
    rollups: &RollupsV1,
    from: Address,
    app: Address,
    amount: U256,
    exec_layer_data: &[u8],
) -> Result<Submitted, L1Error> {
    let call =
        InputCall { to: rollups.ether_portal, function: "depositEther", app, bytes: exec_layer_data, value: amount };
    send_input_call(rpc, rollups, from, call).await
}

/// A call `function(app, bytes)` to `to`, with `value`, that adds one input for `app`.
struct InputCall<'a> {
    to: Address,
    function: &'static str,
    app: Address,
    bytes: &'a [u8],
    value: U256,
}

/// Sends `call` from `from` and reads, from its receipt, the input it added.
async fn send_input_call(
    rpc: &Rpc,
    rollups: &RollupsV1,
    from: Address,
    call: InputCall<'_>,
) -> Result<Submitted, L1Error> {
    let mut data = ethabi::short_signature(call.function, &[ParamType::Address, ParamType::Bytes]).to_vec();
    data.extend(ethabi::encode(&[Token::Address(call.app), Token::Bytes(call.bytes.to_vec())]));
    let tx = TxRequest { from, to: Some(call.to), data, value: call.value };
    let receipt = rpc.transact(&tx, call.function).await?;
    submitted(&receipt.logs, rollups, call.app, receipt.transaction_hash, receipt.block_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic0_is_the_keccak_of_the_signature() {
        let topic = input_added_topic();
        assert_eq!(input_added_event().signature(), topic);
        // The reference's cheat-sheet abbreviates it as 0x6aaa4000…0784.
        let text = format!("{topic:#x}");
        assert!(text.starts_with("0x6aaa4000") && text.ends_with("0784"), "{text}");
    }

    #[test]
    fn evm_advance_round_trips_with_the_references_selector() {
        let selector = ethabi::short_signature("EvmAdvance", &evm_advance_params());
        assert_eq!(selector, EVM_ADVANCE_SELECTOR);
        let a = EvmAdvance {
            chain_id: 31337,
            app: Address::repeat_byte(0xab),
            sender: Address::repeat_byte(0x11),
            block_number: 42,
            block_timestamp: 1_700_000_000,
            prev_randao: H256::repeat_byte(7),
            index: 3,
            payload: b"hello".to_vec(),
        };
        assert_eq!(EvmAdvance::decode(&a.encode()), Ok(a.clone()));
        assert!(EvmAdvance::decode(&a.encode()[1..]).is_err());
        assert!(EvmAdvance::decode(&a.encode()[..100]).is_err());
    }

    #[test]
    fn selectors_match_the_reference() {
        let addr_bytes = [ParamType::Address, ParamType::Bytes];
        assert_eq!(ethabi::short_signature("addInput", &addr_bytes), [0x17, 0x89, 0xcd, 0x63]);
        assert_eq!(ethabi::short_signature("depositEther", &addr_bytes), [0x93, 0x8c, 0x05, 0x4f]);
    }
}

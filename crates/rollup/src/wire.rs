//! The rollup HTTP API's JSON, as the backend sees it.

use std::fmt;

use ledger::{Address, U256};
use serde::{Deserialize, Serialize};

/// Binary data on the wire: `0x` followed by two hex digits per byte (`"0x"` when empty).
/// Decoding accepts upper- and lower-case digits; encoding is lower-case.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl Serialize for HexBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(&self.0)))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .ok_or_else(|| serde::de::Error::custom("hex data must start with 0x"))?;
        hex::decode(digits).map(HexBytes).map_err(|e| serde::de::Error::custom(format!("invalid hex data: {e}")))
    }
}

impl HexBytes {
    /// A 256-bit value as the full 32-byte form (`0x` + 64 digits), the safest voucher `value`.
    pub fn u256(value: U256) -> HexBytes {
        HexBytes(ledger::types::u256_be(value).to_vec())
    }
}

/// Which Rollups generation an input came from; it selects portals, layouts and voucher forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RollupsVersion {
    V1,
    V2,
}

impl std::str::FromStr for RollupsVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(RollupsVersion::V1),
            "v2" | "2" => Ok(RollupsVersion::V2),
            _ => Err(format!("unknown Rollups version {s:?}: expected v1 or v2")),
        }
    }
}

impl fmt::Display for RollupsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RollupsVersion::V1 => "v1",
            RollupsVersion::V2 => "v2",
        })
    }
}

/// Advance metadata, parsed tolerantly: v1 carries `timestamp` and `epoch_index`; v2 carries
/// `block_timestamp`, `chain_id`, `app_contract` and `prev_randao`. Both carry `msg_sender`,
/// `input_index` and `block_number`. Unknown fields are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvanceMetadata {
    pub msg_sender: Address,
    pub input_index: u64,
    #[serde(default)]
    pub block_number: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_timestamp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_contract: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_randao: Option<HexBytes>,
}

impl AdvanceMetadata {
    /// Rollups v1 metadata: the L1 block's number and time in seconds, epoch index 0 (host mode
    /// and the dev node number no epochs in the metadata).
    pub fn v1(msg_sender: Address, input_index: u64, block_number: u64, timestamp: u64) -> AdvanceMetadata {
        AdvanceMetadata {
            msg_sender,
            input_index,
            block_number,
            timestamp: Some(timestamp),
            epoch_index: Some(0),
            block_timestamp: None,
            chain_id: None,
            app_contract: None,
            prev_randao: None,
        }
    }

    /// Rollups v2 metadata.
    pub fn v2(
        msg_sender: Address,
        input_index: u64,
        block_number: u64,
        block_timestamp: u64,
        chain_id: u64,
        app_contract: Address,
        prev_randao: Option<HexBytes>,
    ) -> AdvanceMetadata {
        AdvanceMetadata {
            msg_sender,
            input_index,
            block_number,
            timestamp: None,
            epoch_index: None,
            block_timestamp: Some(block_timestamp),
            chain_id: Some(chain_id),
            app_contract: Some(app_contract),
            prev_randao,
        }
    }

    /// The version these metadata were written in: v2 if any v2-only field is present.
    pub fn version(&self) -> RollupsVersion {
        if self.block_timestamp.is_some() || self.app_contract.is_some() || self.chain_id.is_some() {
            RollupsVersion::V2
        } else {
            RollupsVersion::V1
        }
    }

    /// The L1 block time in seconds, whichever field carried it.
    pub fn seconds(&self) -> u64 {
        self.block_timestamp.or(self.timestamp).unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advance {
    pub metadata: AdvanceMetadata,
    pub payload: HexBytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspect {
    pub payload: HexBytes,
}

/// What `/finish` returns: `{"request_type": "...", "data": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request_type", content = "data", rename_all = "snake_case")]
pub enum RollupRequest {
    AdvanceState(Advance),
    InspectState(Inspect),
}

/// The status a backend reports to `/finish`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishStatus {
    Accept,
    Reject,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finish {
    pub status: FinishStatus,
}

/// The body of `/notice`, `/report` and `/exception`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub payload: HexBytes,
}

/// The body of `/voucher`. `value` is sent only in the v2 form (always as 32 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub destination: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<HexBytes>,
    pub payload: HexBytes,
}

/// The body of `/delegate-call-voucher` (Rollups v2): a `DelegateCallVoucher(destination,
/// payload)` output, executed with `delegatecall` by the application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegateCallVoucher {
    pub destination: Address,
    pub payload: HexBytes,
}

/// The largest request body the backend sends: the tightest limit among the supported rollup
/// servers (see [`ledger::MAX_REQUEST_BODY_BYTES`]).
pub const MAX_BODY_BYTES: usize = ledger::MAX_REQUEST_BODY_BYTES;

/// One output of an advance or inspect, in the order it must be posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Notice(Vec<u8>),
    Voucher(Voucher),
    Report(Vec<u8>),
    /// Rollups v2 only; this backend produces none, the dev node's rollup API accepts them.
    DelegateCallVoucher(DelegateCallVoucher),
}

/// The kind of an output, without its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutputKind {
    Notice,
    Voucher,
    Report,
    DelegateCallVoucher,
}

impl OutputKind {
    /// The kind's name in Cartesi's APIs, lowercase: the rollup API's endpoint path and the
    /// reader's "<kind> not found".
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Notice => "notice",
            OutputKind::Voucher => "voucher",
            OutputKind::Report => "report",
            OutputKind::DelegateCallVoucher => "delegate-call-voucher",
        }
    }
}

impl Output {
    /// Which kind of output this is.
    pub fn kind(&self) -> OutputKind {
        match self {
            Output::Notice(_) => OutputKind::Notice,
            Output::Voucher(_) => OutputKind::Voucher,
            Output::Report(_) => OutputKind::Report,
            Output::DelegateCallVoucher(_) => OutputKind::DelegateCallVoucher,
        }
    }

    /// The endpoint path and JSON body of this output.
    pub fn to_request(&self) -> (&'static str, serde_json::Value) {
        let body = match self {
            Output::Notice(p) | Output::Report(p) => serde_json::json!({"payload": HexBytes(p.clone())}),
            Output::Voucher(v) => serde_json::to_value(v).unwrap_or_default(),
            Output::DelegateCallVoucher(v) => serde_json::to_value(v).unwrap_or_default(),
        };
        (self.kind().name(), body)
    }

    /// The payload bytes, as counted against [`ledger::MAX_OUTPUT_BYTES`].
    pub fn payload_len(&self) -> usize {
        match self {
            Output::Notice(p) | Output::Report(p) => p.len(),
            Output::Voucher(v) => v.payload.0.len(),
            Output::DelegateCallVoucher(v) => v.payload.0.len(),
        }
    }

    /// The size of the JSON body this output is posted with.
    pub fn body_len(&self) -> usize {
        self.to_request().1.to_string().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_advance_parses_with_its_metadata() {
        let text = r#"{"request_type":"advance_state","data":{"metadata":{"msg_sender":"0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266","epoch_index":0,"input_index":7,"block_number":123,"timestamp":1700000000},"payload":"0x7B7D"}}"#;
        let RollupRequest::AdvanceState(a) = serde_json::from_str(text).unwrap() else { panic!("not an advance") };
        assert_eq!(a.metadata.version(), RollupsVersion::V1);
        assert_eq!(a.metadata.seconds(), 1_700_000_000);
        assert_eq!(a.metadata.input_index, 7);
        assert_eq!(a.metadata.msg_sender.to_string(), "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
        assert_eq!(a.payload.0, b"{}");
    }

    #[test]
    fn v2_advance_parses_with_its_metadata() {
        let text = r#"{"request_type":"advance_state","data":{"metadata":{"chain_id":13370,"app_contract":"0xa083af219355288722234c47d4c8469ca9af6605","msg_sender":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","block_number":675,"block_timestamp":1762948794,"prev_randao":"0x0000000000000000000000000000000000000000000000000000000000000001","input_index":0},"payload":"0x"}}"#;
        let RollupRequest::AdvanceState(a) = serde_json::from_str(text).unwrap() else { panic!("not an advance") };
        assert_eq!(a.metadata.version(), RollupsVersion::V2);
        assert_eq!(a.metadata.seconds(), 1_762_948_794);
        assert_eq!(a.metadata.app_contract.unwrap().to_string(), "0xa083af219355288722234c47d4c8469ca9af6605");
        assert!(a.payload.0.is_empty());
    }

    #[test]
    fn inspect_and_bad_requests() {
        let r: RollupRequest =
            serde_json::from_str(r#"{"request_type":"inspect_state","data":{"payload":"0x696e666f"}}"#).unwrap();
        assert_eq!(r, RollupRequest::InspectState(Inspect { payload: HexBytes(b"info".to_vec()) }));
        for bad in [
            r#"{"request_type":"other","data":{}}"#,
            r#"{"request_type":"inspect_state","data":{"payload":"696e666f"}}"#,
            r#"{"request_type":"inspect_state","data":{"payload":"0x6"}}"#,
            r#"{"request_type":"advance_state","data":{"metadata":{"msg_sender":"0x12","input_index":0},"payload":"0x"}}"#,
        ] {
            assert!(serde_json::from_str::<RollupRequest>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs_serialize_to_the_documented_bodies() {
        let (path, body) = Output::Notice(b"hi".to_vec()).to_request();
        assert_eq!((path, body.to_string()), ("notice", r#"{"payload":"0x6869"}"#.to_string()));
        let v1 = Voucher { destination: Address([0xab; 20]), value: None, payload: HexBytes(vec![1, 2]) };
        let (path, body) = Output::Voucher(v1).to_request();
        assert_eq!(path, "voucher");
        assert_eq!(body.to_string(), format!(r#"{{"destination":"0x{}","payload":"0x0102"}}"#, "ab".repeat(20)));
        let v2 = Voucher {
            destination: Address([0xab; 20]),
            value: Some(HexBytes::u256(U256::from(5))),
            payload: HexBytes(vec![]),
        };
        let body = serde_json::to_value(v2).unwrap();
        assert_eq!(body["value"], format!("0x{}05", "0".repeat(62)));
        assert_eq!(body["payload"], "0x");
        assert_eq!(serde_json::to_string(&Finish { status: FinishStatus::Accept }).unwrap(), r#"{"status":"accept"}"#);
    }

    #[test]
    fn outputs_at_the_payload_bound_fit_the_tightest_server() {
        let max = ledger::MAX_OUTPUT_BYTES;
        let v2 = |n: usize| {
            Output::Voucher(Voucher {
                destination: Address([0xff; 20]),
                value: Some(HexBytes::u256(U256::MAX)),
                payload: HexBytes(vec![0xff; n]),
            })
        };
        for output in [Output::Notice(vec![0xff; max]), Output::Report(vec![b'x'; max]), v2(max)] {
            assert_eq!(output.payload_len(), max);
            assert!(output.body_len() <= MAX_BODY_BYTES, "{} > {MAX_BODY_BYTES}", output.body_len());
        }
        // The envelope allowance is not slack to spare: the largest envelope uses most of it.
        assert!(v2(0).body_len() <= ledger::BODY_ENVELOPE_BYTES);
        assert!(v2(0).body_len() > ledger::BODY_ENVELOPE_BYTES / 2);
    }
}

//! A small Ethereum JSON-RPC client over HTTP/1.1: only the calls the dev node makes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ethabi::ethereum_types::{Address, H256, U256};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;

use super::error::L1Error;

/// Every call is bounded, so a stuck node shows up as an error rather than a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// A JSON-RPC answer larger than this is refused (logs of big inputs fit easily).
const MAX_RESPONSE_BYTES: usize = 64 << 20;
/// How long to wait for a transaction's receipt, and how often to ask.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);
const RECEIPT_POLL: Duration = Duration::from_millis(20);

/// A JSON-RPC endpoint such as `http://127.0.0.1:8545`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Rpc {
    url: String,
    /// `host:port`, for the TCP connection and the `Host` header.
    authority: String,
    path: String,
    next_id: Arc<AtomicU64>,
}

/// A transaction sent from an account the node holds unlocked (anvil's default accounts, or one
/// impersonated with `anvil_impersonateAccount`). The node estimates the gas.
#[derive(Clone, Debug, Default)]
pub struct TxRequest {
    pub from: Address,
    /// `None` creates a contract from `data`.
    pub to: Option<Address>,
    pub data: Vec<u8>,
    pub value: U256,
}

/// The parts of a receipt the dev node uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub transaction_hash: H256,
    pub block_number: u64,
    pub block_hash: H256,
    pub success: bool,
    pub logs: Vec<Log>,
}

/// An event log, as returned by `eth_getLogs` and in receipts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<H256>,
    pub data: Vec<u8>,
    pub block_number: u64,
    pub block_hash: H256,
    pub transaction_hash: H256,
    pub log_index: u64,
}

impl Rpc {
    /// Accepts `http://host:port[/path]`; TLS is out of scope for a local dev node.
    pub fn new(url: &str) -> Result<Rpc, L1Error> {
        let bad = |reason| L1Error::BadUrl { url: url.to_owned(), reason };
        let rest = url.strip_prefix("http://").ok_or_else(|| bad("only http:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        let authority = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
        Ok(Rpc { url: url.to_owned(), authority, path: path.to_owned(), next_id: Arc::new(AtomicU64::new(1)) })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// One JSON-RPC call; returns the `result` member. A JSON-RPC error becomes [`L1Error::Rpc`].
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, L1Error> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        let bytes = tokio::time::timeout(CALL_TIMEOUT, self.post(body))
            .await
            .map_err(|_| self.transport(method, format!("no answer within {CALL_TIMEOUT:?}")))?
            .map_err(|reason| self.transport(method, reason))?;
        let mut answer: Value = serde_json::from_slice(&bytes)
            .map_err(|e| L1Error::BadResponse { method: method.to_owned(), reason: e.to_string() })?;
        if let Some(error) = answer.get("error") {
            return Err(L1Error::Rpc {
                method: method.to_owned(),
                code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: error.get("message").and_then(Value::as_str).unwrap_or("").to_owned(),
            });
        }
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(L1Error::BadResponse { method: method.to_owned(), reason: "no result".into() }),
        }
    }

    fn transport(&self, method: &str, reason: String) -> L1Error {
        L1Error::Transport { url: self.url.clone(), method: method.to_owned(), reason }
    }

    /// A fresh connection per call: the node is local, and this keeps no state that a restarted
    /// node could invalidate.
    async fn post(&self, body: String) -> Result<Bytes, String> {
        let stream = TcpStream::connect(&self.authority).await.map_err(|e| e.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("JSON-RPC connection ended: {e}");
            }
        });
        let request = hyper::Request::post(&self.path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
        }
        Ok(body)
    }

    pub async fn chain_id(&self) -> Result<u64, L1Error> {
        quantity("eth_chainId", &self.call("eth_chainId", json!([])).await?)
    }

    pub async fn block_number(&self) -> Result<u64, L1Error> {
        quantity("eth_blockNumber", &self.call("eth_blockNumber", json!([])).await?)
    }

    /// The accounts the node holds unlocked, in order (anvil: the mnemonic's first ten).
    pub async fn accounts(&self) -> Result<Vec<Address>, L1Error> {
        let value = self.call("eth_accounts", json!([])).await?;
        let list = value.as_array().ok_or_else(|| bad("eth_accounts", "not an array"))?;
        list.iter().map(|a| address("eth_accounts", a)).collect()
    }

    pub async fn get_code(&self, at: Address) -> Result<Vec<u8>, L1Error> {
        data("eth_getCode", &self.call("eth_getCode", json!([hx(at), "latest"])).await?)
    }

    pub async fn get_balance(&self, of: Address) -> Result<U256, L1Error> {
        u256("eth_getBalance", &self.call("eth_getBalance", json!([hx(of), "latest"])).await?)
    }

    /// `eth_call` at the latest block; returns the raw return data.
    pub async fn eth_call(&self, to: Address, calldata: &[u8]) -> Result<Vec<u8>, L1Error> {
        let params = json!([{"to": hx(to), "data": hex0x(calldata)}, "latest"]);
        data("eth_call", &self.call("eth_call", params).await?)
    }

    /// The timestamp (seconds) of a block.
    pub async fn block_timestamp(&self, number: u64) -> Result<u64, L1Error> {
        let block = self.call("eth_getBlockByNumber", json!([format!("{number:#x}"), false])).await?;
        let ts = block.get("timestamp").ok_or_else(|| bad("eth_getBlockByNumber", "no block or no timestamp"))?;
        quantity("eth_getBlockByNumber", ts)
    }

    /// The hash of the canonical block at `number`, or `None` when the chain is shorter.
    pub async fn block_hash(&self, number: u64) -> Result<Option<H256>, L1Error> {
        const M: &str = "eth_getBlockByNumber";
        let block = self.call(M, json!([format!("{number:#x}"), false])).await?;
        if block.is_null() {
            return Ok(None);
        }
        h256(M, field(M, &block, "hash")?).map(Some)
    }

    /// Anvil only: replaces the code at an address.
    pub(crate) async fn set_code(&self, at: Address, code: &[u8]) -> Result<(), L1Error> {
        self.call("anvil_setCode", json!([hx(at), hex0x(code)])).await.map(drop)
    }

    /// Anvil only: sets an account's balance.
    pub(crate) async fn set_balance(&self, of: Address, wei: U256) -> Result<(), L1Error> {
        self.call("anvil_setBalance", json!([hx(of), format!("{wei:#x}")])).await.map(drop)
    }

    /// Anvil only: lets `eth_sendTransaction` send from `who` (an EOA or a contract).
    pub(crate) async fn impersonate(&self, who: Address, on: bool) -> Result<(), L1Error> {
        let method = if on { "anvil_impersonateAccount" } else { "anvil_stopImpersonatingAccount" };
        self.call(method, json!([hx(who)])).await.map(drop)
    }

    pub async fn send_transaction(&self, tx: &TxRequest) -> Result<H256, L1Error> {
        let mut object = json!({"from": hx(tx.from), "data": hex0x(&tx.data), "value": format!("{:#x}", tx.value)});
        if let (Some(to), Some(map)) = (tx.to, object.as_object_mut()) {
            map.insert("to".into(), json!(hx(to)));
        }
        let hash = self.call("eth_sendTransaction", json!([object])).await?;
        h256("eth_sendTransaction", &hash)
    }

    /// Polls `eth_getTransactionReceipt` until the transaction is mined (bounded).
    pub async fn wait_receipt(&self, hash: H256, what: &str) -> Result<Receipt, L1Error> {
        let deadline = tokio::time::Instant::now() + RECEIPT_TIMEOUT;
        loop {
            let value = self.call("eth_getTransactionReceipt", json!([hx(hash)])).await?;
            if !value.is_null() {
                return receipt(&value);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(L1Error::ReceiptTimeout { what: what.to_owned(), hash, timeout: RECEIPT_TIMEOUT });
            }
            tokio::time::sleep(RECEIPT_POLL).await;
        }
    }

    /// Sends, waits for the receipt, and turns a revert into an error naming `what`.
    pub async fn transact(&self, tx: &TxRequest, what: &str) -> Result<Receipt, L1Error> {
        let hash = self.send_transaction(tx).await?;
        let receipt = self.wait_receipt(hash, what).await?;
        if !receipt.success {
            return Err(L1Error::Reverted { what: what.to_owned(), hash });
        }
        tracing::debug!(what, block = receipt.block_number, "transaction mined");
        Ok(receipt)
    }

    /// `eth_getLogs` for one contract and topic0 over an inclusive block range.
    pub async fn get_logs(
        &self,
        address: Address,
        topics: &[Option<H256>],
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, L1Error> {
        let filter = json!({
            "address": hx(address),
            "topics": topics.iter().map(|t| t.map(hx)).collect::<Vec<_>>(),
            "fromBlock": format!("{from:#x}"),
            "toBlock": format!("{to:#x}"),
        });
        let value = self.call("eth_getLogs", json!([filter])).await?;
        let list = value.as_array().ok_or_else(|| bad("eth_getLogs", "not an array"))?;
        list.iter().map(|l| log("eth_getLogs", l)).collect()
    }
}

fn bad(method: &str, reason: &str) -> L1Error {
    L1Error::BadResponse { method: method.to_owned(), reason: reason.to_owned() }
}

/// `0x`-prefixed lower-case hex of an address or hash (fixed width).
pub(crate) fn hx(x: impl std::fmt::LowerHex) -> String {
    format!("{x:#x}")
}

pub(crate) fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn str_of<'a>(method: &str, v: &'a Value) -> Result<&'a str, L1Error> {
    v.as_str().and_then(|s| s.strip_prefix("0x")).ok_or_else(|| bad(method, &format!("expected 0x-hex, got {v}")))
}

fn quantity(method: &str, v: &Value) -> Result<u64, L1Error> {
    let s = str_of(method, v)?;
    u64::from_str_radix(s, 16).map_err(|_| bad(method, &format!("bad quantity {v}")))
}

fn u256(method: &str, v: &Value) -> Result<U256, L1Error> {
    let s = str_of(method, v)?;
    U256::from_str_radix(s, 16).map_err(|_| bad(method, &format!("bad quantity {v}")))
}

fn data(method: &str, v: &Value) -> Result<Vec<u8>, L1Error> {
    hex::decode(str_of(method, v)?).map_err(|_| bad(method, &format!("bad hex data {v}")))
}

fn fixed<const N: usize>(method: &str, v: &Value) -> Result<[u8; N], L1Error> {
    data(method, v)?.try_into().map_err(|_| bad(method, &format!("expected {N} bytes, got {v}")))
}

fn address(method: &str, v: &Value) -> Result<Address, L1Error> {
    fixed::<20>(method, v).map(Address::from)
}

fn h256(method: &str, v: &Value) -> Result<H256, L1Error> {
    fixed::<32>(method, v).map(H256::from)
}

fn field<'a>(method: &str, v: &'a Value, name: &str) -> Result<&'a Value, L1Error> {
    v.get(name).ok_or_else(|| bad(method, &format!("missing {name}")))
}

fn log(method: &str, v: &Value) -> Result<Log, L1Error> {
    let topics = field(method, v, "topics")?.as_array().ok_or_else(|| bad(method, "topics is not an array"))?;
    Ok(Log {
        address: address(method, field(method, v, "address")?)?,
        topics: topics.iter().map(|t| h256(method, t)).collect::<Result<_, _>>()?,
        data: data(method, field(method, v, "data")?)?,
        block_number: quantity(method, field(method, v, "blockNumber")?)?,
        block_hash: h256(method, field(method, v, "blockHash")?)?,
        transaction_hash: h256(method, field(method, v, "transactionHash")?)?,
        log_index: quantity(method, field(method, v, "logIndex")?)?,
    })
}

fn receipt(v: &Value) -> Result<Receipt, L1Error> {
    const M: &str = "eth_getTransactionReceipt";
    let logs = field(M, v, "logs")?.as_array().ok_or_else(|| bad(M, "logs is not an array"))?;
    Ok(Receipt {
        transaction_hash: h256(M, field(M, v, "transactionHash")?)?,
        block_number: quantity(M, field(M, v, "blockNumber")?)?,
        block_hash: h256(M, field(M, v, "blockHash")?)?,
        success: quantity(M, field(M, v, "status")?)? == 1,
        logs: logs.iter().map(|l| log(M, l)).collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_authority_and_path() {
        let rpc = Rpc::new("http://127.0.0.1:8545").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((rpc.authority.as_str(), rpc.path.as_str()), ("127.0.0.1:8545", "/"));
        let rpc = Rpc::new("http://localhost/rpc/v1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((rpc.authority.as_str(), rpc.path.as_str()), ("localhost:80", "/rpc/v1"));
        assert!(Rpc::new("https://example.org").is_err());
        assert!(Rpc::new("http:///x").is_err());
    }
}

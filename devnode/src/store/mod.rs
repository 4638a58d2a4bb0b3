//! Durable storage of the dev node: inputs as they were read from L1, their completion status, and
//! the outputs (notices, vouchers, reports) that the backend produced for them.
//!
//! An input is stored before it is processed, and its status and outputs are written in one
//! transaction when it completes, so a restart finds every input either untouched (processed
//! again) or complete with all of its outputs (replayed and compared), never half-done.
//!
//! The data live in an embedded SQLite database in WAL mode. Every call takes a short lock on one
//! connection; the calls are small indexed reads and writes, so async callers use them directly.

mod claims;
mod inputs;
mod reader;
mod v2;

pub use v2::{ClaimV2, OutputFilterV2, OutputV2, ReportV2, Siblings};

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ledger::Address;
pub use rollup::wire::OutputKind;
use rollup::wire::{HexBytes, Output, Voucher};
pub use rollup::InputStatus;
use rusqlite::Connection;

/// The layout version kept in SQLite's `user_version`; a database of another version is refused
/// rather than misread.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE inputs (
    idx               INTEGER PRIMARY KEY,
    msg_sender        BLOB    NOT NULL,
    payload           BLOB    NOT NULL,
    block_number      INTEGER NOT NULL,
    block_hash        BLOB    NOT NULL,
    transaction_hash  BLOB    NOT NULL,
    log_index         INTEGER NOT NULL,
    timestamp         INTEGER NOT NULL,
    status            INTEGER NOT NULL,
    exception_payload BLOB
);
CREATE INDEX inputs_by_status ON inputs (status, idx);
CREATE TABLE outputs (
    input_idx   INTEGER NOT NULL REFERENCES inputs (idx),
    seq         INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    kind_idx    INTEGER NOT NULL,
    destination BLOB,
    value       BLOB,
    payload     BLOB    NOT NULL,
    PRIMARY KEY (input_idx, seq),
    UNIQUE (kind, input_idx, kind_idx)
);
CREATE TABLE claims (
    idx         INTEGER PRIMARY KEY,
    first_input INTEGER NOT NULL,
    last_input  INTEGER NOT NULL,
    epoch_hash  BLOB    NOT NULL,
    submitted   INTEGER NOT NULL
);
CREATE TABLE proofs (
    kind      INTEGER NOT NULL,
    input_idx INTEGER NOT NULL,
    kind_idx  INTEGER NOT NULL,
    claim_idx INTEGER NOT NULL REFERENCES claims (idx),
    validity  BLOB    NOT NULL,
    PRIMARY KEY (kind, input_idx, kind_idx)
);
";

/// The stored form of an input's status (the `status` column).
fn status_code(status: InputStatus) -> i64 {
    match status {
        InputStatus::Unprocessed => 0,
        InputStatus::Accepted => 1,
        InputStatus::Rejected => 2,
        InputStatus::Exception => 3,
    }
}

fn status_from_code(code: i64) -> Result<InputStatus, StoreError> {
    Ok(match code {
        0 => InputStatus::Unprocessed,
        1 => InputStatus::Accepted,
        2 => InputStatus::Rejected,
        3 => InputStatus::Exception,
        _ => return Err(StoreError::Corrupt(format!("unknown input status code {code}"))),
    })
}

/// An input as read from the InputBox: its index there, sender, payload, L1 block and block time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRecord {
    pub index: u64,
    pub msg_sender: Address,
    pub payload: Vec<u8>,
    pub block_number: u64,
    /// The block's timestamp in seconds.
    pub timestamp: u64,
    /// Where L1 has it: the node checks that this is still on L1 and rolls back when it is not.
    pub origin: L1Origin,
}

/// Where an input sits on L1: its block's hash, its transaction and its log's index in the block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1Origin {
    pub block_hash: [u8; 32],
    pub transaction_hash: [u8; 32],
    pub log_index: u64,
}

/// The stored form of an output's kind (the `kind` columns); each kind is numbered from 0
/// within its input.
fn kind_code(kind: OutputKind) -> i64 {
    match kind {
        OutputKind::Notice => 0,
        OutputKind::Voucher => 1,
        OutputKind::Report => 2,
        OutputKind::DelegateCallVoucher => 3,
    }
}

/// One output as the reader API sees it: which input produced it and its index among the outputs
/// of its kind in that input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOutput {
    pub input_index: u64,
    pub index: u64,
    pub output: Output,
}

/// A claim: the epoch hash of inputs `first_input..=last_input`, the `index`-th claim of the
/// application. `submitted` once L1's History has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRecord {
    pub index: u64,
    pub first_input: u64,
    pub last_input: u64,
    pub epoch_hash: [u8; 32],
    pub submitted: bool,
}

/// The validity proof of one output, in the compact form of `settle::merkle::Validity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredProof {
    pub kind: OutputKind,
    pub input_index: u64,
    pub index: u64,
    pub validity: Vec<u8>,
}

/// Which inputs a listing covers: the reader API's `InputFilter`, both bounds strict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputRange {
    pub index_greater_than: Option<u64>,
    pub index_lower_than: Option<u64>,
}

/// Infrastructure failures of the store. Conflicts with what is already stored are errors too:
/// they mean the L1 reader or the processing loop disagrees with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database was written with layout version {found}; this dev node reads version {expected} (use a new --data-dir)")]
    Version { found: i64, expected: i64 },
    #[error("input {index} is already stored with different contents")]
    Conflict { index: u64 },
    #[error("input {index} cannot be stored before input {expected}: inputs are stored in order, without gaps")]
    OutOfOrder { index: u64, expected: u64 },
    #[error("input {index} is not stored")]
    MissingInput { index: u64 },
    #[error("input {index} is already complete with a different status or outputs")]
    AlreadyComplete { index: u64 },
    #[error("an input cannot be completed with status Unprocessed")]
    UnprocessedCompletion,
    #[error("the value {0} is too large for the database")]
    TooLarge(u64),
    #[error("the database holds invalid data: {0}")]
    Corrupt(String),
    #[error("the data directory holds the inputs of application {held}, not of {wanted} (another --rollups version or v2 --epoch-length deploys another application): use another --data-dir, or the settings it was made with")]
    OtherApplication { held: String, wanted: String },
    #[error("the store's lock is poisoned: an earlier call panicked")]
    Poisoned,
}

/// The dev node's database. `Send + Sync`: one connection behind a mutex.
pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// SQLite integers are signed 64-bit; indices, block numbers and times beyond that are refused
/// instead of wrapping.
fn sql_int(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::TooLarge(value))
}

fn from_sql_int(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what} {value}")))
}

fn address(bytes: &[u8]) -> Result<Address, StoreError> {
    Address::from_slice(bytes).ok_or_else(|| StoreError::Corrupt(format!("address of {} bytes", bytes.len())))
}

const INPUT_COLUMNS: &str =
    "idx, msg_sender, payload, block_number, timestamp, status, block_hash, transaction_hash, log_index";

/// The raw columns of an input row, checked when converted (data are checked when written and
/// again when read back).
struct InputRow {
    idx: i64,
    sender: Vec<u8>,
    payload: Vec<u8>,
    block: i64,
    time: i64,
    status: i64,
    block_hash: Vec<u8>,
    transaction_hash: Vec<u8>,
    log_index: i64,
}

fn input_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InputRow> {
    Ok(InputRow {
        idx: row.get(0)?,
        sender: row.get(1)?,
        payload: row.get(2)?,
        block: row.get(3)?,
        time: row.get(4)?,
        status: row.get(5)?,
        block_hash: row.get(6)?,
        transaction_hash: row.get(7)?,
        log_index: row.get(8)?,
    })
}

fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{what} of {} bytes", bytes.len())))
}

fn input_from_row(row: InputRow) -> Result<(InputRecord, InputStatus), StoreError> {
    let record = InputRecord {
        index: from_sql_int(row.idx, "input index")?,
        msg_sender: address(&row.sender)?,
        payload: row.payload,
        block_number: from_sql_int(row.block, "block number")?,
        timestamp: from_sql_int(row.time, "timestamp")?,
        origin: L1Origin {
            block_hash: hash32(&row.block_hash, "block hash")?,
            transaction_hash: hash32(&row.transaction_hash, "transaction hash")?,
            log_index: from_sql_int(row.log_index, "log index")?,
        },
    };
    Ok((record, status_from_code(row.status)?))
}

const OUTPUT_COLUMNS: &str = "input_idx, kind_idx, kind, destination, value, payload";

type OutputRow = (i64, i64, i64, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>);

fn output_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutputRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn output_from_row(row: OutputRow) -> Result<StoredOutput, StoreError> {
    let (input_idx, kind_idx, kind, destination, value, payload) = row;
    let output = match kind {
        0 => Output::Notice(payload),
        1 => {
            let destination = destination.ok_or_else(|| StoreError::Corrupt("voucher without destination".into()))?;
            Output::Voucher(Voucher {
                destination: address(&destination)?,
                value: value.map(HexBytes),
                payload: HexBytes(payload),
            })
        }
        2 => Output::Report(payload),
        3 => {
            let destination =
                destination.ok_or_else(|| StoreError::Corrupt("delegate-call voucher without destination".into()))?;
            Output::DelegateCallVoucher(rollup::wire::DelegateCallVoucher {
                destination: address(&destination)?,
                payload: HexBytes(payload),
            })
        }
        _ => return Err(StoreError::Corrupt(format!("unknown output kind {kind}"))),
    };
    Ok(StoredOutput {
        input_index: from_sql_int(input_idx, "input index")?,
        index: from_sql_int(kind_idx, "output index")?,
        output,
    })
}

impl Store {
    /// Opens the database at `path`, creating it and its tables if it is new. WAL mode lets the
    /// reader API's queries and the processing loop's writes share the file without long locks,
    /// and keeps the file consistent if the process is killed.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        // The answer to this pragma is the mode now in force; `:memory:` databases say "memory".
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        Store::init(conn)
    }

    /// A database that lives only as long as the `Store`: for tests and throwaway runs.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store, StoreError> {
        // SQLite leaves foreign keys off unless asked, per connection. `synchronous` stays at its
        // default (FULL): a completed input must survive a power cut, not only a crash.
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        let tx = conn.transaction()?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        match version {
            0 => {
                tx.execute_batch(SCHEMA)?;
                tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))?;
            }
            1 => {
                // Version 1 did not record where each input sits on L1, so what it holds cannot be
                // checked against L1. L1 is the source of truth: start over and read every input
                // from L1 again (the backend recomputes the outputs).
                let n: i64 = tx.query_row("SELECT COUNT(*) FROM inputs", [], |r| r.get(0))?;
                tracing::warn!(
                    "the database has the layout of an older dev node; reading its {n} inputs from L1 again"
                );
                tx.execute_batch("DROP TABLE outputs; DROP TABLE inputs;")?;
                tx.execute_batch(SCHEMA)?;
                tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))?;
            }
            SCHEMA_VERSION => {}
            found => return Err(StoreError::Version { found, expected: SCHEMA_VERSION }),
        }
        // Rollups v2's tables are additive (a v1 node leaves them empty), so they need no new
        // layout version.
        tx.execute_batch(v2::SCHEMA_V2)?;
        tx.commit()?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

/// The outputs of one input in the order they were produced.
fn outputs_of(conn: &Connection, index: u64) -> Result<Vec<Output>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {OUTPUT_COLUMNS} FROM outputs WHERE input_idx = ?1 ORDER BY seq"))?;
    let rows = stmt.query_map([sql_int(index)?], output_row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(|r| output_from_row(r).map(|o| o.output)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_and_sync() {
        assert_send_sync::<Store>();
    }
}

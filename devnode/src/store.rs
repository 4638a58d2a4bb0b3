//! Durable storage of the dev node: inputs as they were read from L1, their completion status, and
//! the outputs (notices, vouchers, reports) that the backend produced for them.
//!
//! An input is stored before it is processed, and its status and outputs are written in one
//! transaction when it completes, so a restart finds every input either untouched (processed
//! again) or complete with all of its outputs (replayed and compared), never half-done.
//!
//! The data live in an embedded SQLite database in WAL mode. Every call takes a short lock on one
//! connection; the calls are small indexed reads and writes, so async callers use them directly.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ledger::Address;
use rollup::wire::{HexBytes, Output, Voucher};
use rusqlite::{params, Connection, OptionalExtension};

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

/// How an input ended. `Unprocessed` is the status of an input stored but not yet completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStatus {
    Unprocessed,
    Accepted,
    Rejected,
    Exception,
}

impl InputStatus {
    fn code(self) -> i64 {
        match self {
            InputStatus::Unprocessed => 0,
            InputStatus::Accepted => 1,
            InputStatus::Rejected => 2,
            InputStatus::Exception => 3,
        }
    }

    fn from_code(code: i64) -> Result<InputStatus, StoreError> {
        Ok(match code {
            0 => InputStatus::Unprocessed,
            1 => InputStatus::Accepted,
            2 => InputStatus::Rejected,
            3 => InputStatus::Exception,
            _ => return Err(StoreError::Corrupt(format!("unknown input status code {code}"))),
        })
    }
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

/// The three kinds of outputs, each numbered from 0 within its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    Notice,
    Voucher,
    Report,
}

impl OutputKind {
    pub fn code(self) -> i64 {
        match self {
            OutputKind::Notice => 0,
            OutputKind::Voucher => 1,
            OutputKind::Report => 2,
        }
    }

    fn of(output: &Output) -> OutputKind {
        match output {
            Output::Notice(_) => OutputKind::Notice,
            Output::Voucher(_) => OutputKind::Voucher,
            Output::Report(_) => OutputKind::Report,
        }
    }

    /// The name used in "… not found" messages of the reader API.
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Notice => "notice",
            OutputKind::Voucher => "voucher",
            OutputKind::Report => "report",
        }
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
    Ok((record, InputStatus::from_code(row.status)?))
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
        tx.commit()?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Stores an input as unprocessed. Idempotent: storing the same input again is a no-op (the
    /// L1 reader may see a block twice after a restart); a different input at an existing index is
    /// an error.
    pub fn add_input(&self, input: &InputRecord) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let existing = tx
            .query_row(
                &format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE idx = ?1"),
                [sql_int(input.index)?],
                input_row,
            )
            .optional()?;
        match existing {
            Some(row) => {
                let (stored, _) = input_from_row(row)?;
                if &stored != input {
                    return Err(StoreError::Conflict { index: input.index });
                }
            }
            None => {
                let next: i64 = tx.query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM inputs", [], |r| r.get(0))?;
                if sql_int(input.index)? != next {
                    return Err(StoreError::OutOfOrder { index: input.index, expected: from_sql_int(next, "index")? });
                }
                tx.execute(
                    "INSERT INTO inputs (idx, msg_sender, payload, block_number, timestamp, status, block_hash, \
                     transaction_hash, log_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        sql_int(input.index)?,
                        &input.msg_sender.0[..],
                        &input.payload,
                        sql_int(input.block_number)?,
                        sql_int(input.timestamp)?,
                        InputStatus::Unprocessed.code(),
                        &input.origin.block_hash[..],
                        &input.origin.transaction_hash[..],
                        sql_int(input.origin.log_index)?,
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many inputs are stored, processed or not.
    pub fn input_count(&self) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM inputs", [], |r| r.get(0))?;
        from_sql_int(n, "count")
    }

    /// The lowest-index input with status Unprocessed.
    pub fn next_unprocessed(&self) -> Result<Option<InputRecord>, StoreError> {
        let conn = self.lock()?;
        let row = conn
            .query_row(
                &format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE status = ?1 ORDER BY idx LIMIT 1"),
                [InputStatus::Unprocessed.code()],
                input_row,
            )
            .optional()?;
        row.map(|r| input_from_row(r).map(|(record, _)| record)).transpose()
    }

    /// Records the status and the outputs (in the order given; each kind numbered from 0 within
    /// the input) in one transaction. Rejected and Exception inputs should carry only reports;
    /// the store keeps what it is given. Completing an input again with the same status and
    /// outputs is a no-op; with anything else it is an error.
    pub fn complete(
        &self,
        index: u64,
        status: InputStatus,
        exception_payload: Option<&[u8]>,
        outputs: &[Output],
    ) -> Result<(), StoreError> {
        if status == InputStatus::Unprocessed {
            return Err(StoreError::UnprocessedCompletion);
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let stored: Option<(i64, Option<Vec<u8>>)> = tx
            .query_row("SELECT status, exception_payload FROM inputs WHERE idx = ?1", [sql_int(index)?], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((stored_status, stored_exception)) = stored else {
            return Err(StoreError::MissingInput { index });
        };
        let stored_status = InputStatus::from_code(stored_status)?;
        if stored_status != InputStatus::Unprocessed {
            let stored_outputs = outputs_of(&tx, index)?;
            if stored_status == status && stored_exception.as_deref() == exception_payload && stored_outputs == outputs
            {
                return Ok(());
            }
            return Err(StoreError::AlreadyComplete { index });
        }
        tx.execute(
            "UPDATE inputs SET status = ?1, exception_payload = ?2 WHERE idx = ?3",
            params![status.code(), exception_payload, sql_int(index)?],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO outputs (input_idx, seq, kind, kind_idx, destination, value, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut counts = [0u64; 3];
            for (seq, output) in outputs.iter().enumerate() {
                let kind = OutputKind::of(output);
                let slot = &mut counts[kind.code() as usize];
                let kind_idx = *slot;
                *slot += 1;
                let (destination, value, payload): (Option<&[u8]>, Option<&[u8]>, &[u8]) = match output {
                    Output::Notice(p) | Output::Report(p) => (None, None, p),
                    Output::Voucher(v) => {
                        (Some(&v.destination.0[..]), v.value.as_ref().map(|x| &x.0[..]), &v.payload.0)
                    }
                };
                insert.execute(params![
                    sql_int(index)?,
                    sql_int(seq as u64)?,
                    kind.code(),
                    sql_int(kind_idx)?,
                    destination,
                    value,
                    payload
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Inputs already processed, in index order, with their stored outputs in the order they were
    /// produced: for replay into a fresh backend.
    pub fn processed(&self) -> Result<Vec<(InputRecord, InputStatus, Vec<Output>)>, StoreError> {
        let conn = self.lock()?;
        let inputs = {
            let mut stmt =
                conn.prepare(&format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE status <> ?1 ORDER BY idx"))?;
            let rows = stmt.query_map([InputStatus::Unprocessed.code()], input_row)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(input_from_row).collect::<Result<Vec<_>, _>>()?
        };
        let mut out = Vec::with_capacity(inputs.len());
        for (record, status) in inputs {
            let outputs = outputs_of(&conn, record.index)?;
            out.push((record, status, outputs));
        }
        Ok(out)
    }

    /// How many inputs are complete (any status but Unprocessed).
    pub fn processed_count(&self) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        let n: i64 =
            conn.query_row("SELECT COUNT(*) FROM inputs WHERE status <> ?1", [InputStatus::Unprocessed.code()], |r| {
                r.get(0)
            })?;
        from_sql_int(n, "count")
    }

    /// The stored input with the highest index: the watcher resumes from its block (inputs of
    /// one block may be stored only in part), and the node checks that L1 still has it.
    pub fn last_input(&self) -> Result<Option<InputRecord>, StoreError> {
        let conn = self.lock()?;
        let row = conn
            .query_row(&format!("SELECT {INPUT_COLUMNS} FROM inputs ORDER BY idx DESC LIMIT 1"), [], input_row)
            .optional()?;
        row.map(|r| input_from_row(r).map(|(record, _)| record)).transpose()
    }

    /// Forgets input `keep` and every later one, with their outputs, in one transaction: for when
    /// L1 no longer has them. Returns how many inputs were dropped.
    pub fn truncate(&self, keep: u64) -> Result<u64, StoreError> {
        let keep = sql_int(keep)?;
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // Claims that cover a dropped input go too: L1 cannot have them any more either.
        tx.execute("DELETE FROM proofs WHERE claim_idx IN (SELECT idx FROM claims WHERE last_input >= ?1)", [keep])?;
        tx.execute("DELETE FROM claims WHERE last_input >= ?1", [keep])?;
        tx.execute("DELETE FROM outputs WHERE input_idx >= ?1", [keep])?;
        let dropped = tx.execute("DELETE FROM inputs WHERE idx >= ?1", [keep])?;
        tx.commit()?;
        Ok(dropped as u64)
    }

    /// The highest-index input whose L1 block is at most `block`.
    pub fn last_input_up_to_block(&self, block: u64) -> Result<Option<u64>, StoreError> {
        let conn = self.lock()?;
        let n: Option<i64> =
            conn.query_row("SELECT MAX(idx) FROM inputs WHERE block_number <= ?1", [sql_int(block)?], |r| r.get(0))?;
        n.map(|n| from_sql_int(n, "input index")).transpose()
    }

    /// The status and outputs of inputs `first..=last`, in order (for an epoch's trees).
    pub fn completed_range(&self, first: u64, last: u64) -> Result<Vec<(InputStatus, Vec<Output>)>, StoreError> {
        let conn = self.lock()?;
        let mut out = Vec::new();
        for index in first..=last {
            let status: Option<i64> = conn
                .query_row("SELECT status FROM inputs WHERE idx = ?1", [sql_int(index)?], |r| r.get(0))
                .optional()?;
            let status = InputStatus::from_code(status.ok_or(StoreError::MissingInput { index })?)?;
            out.push((status, outputs_of(&conn, index)?));
        }
        Ok(out)
    }

    /// Every claim, in order.
    pub fn claims(&self) -> Result<Vec<ClaimRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt =
            conn.prepare("SELECT idx, first_input, last_input, epoch_hash, submitted FROM claims ORDER BY idx")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(idx, first, last, hash, submitted)| {
                Ok(ClaimRecord {
                    index: from_sql_int(idx, "claim index")?,
                    first_input: from_sql_int(first, "input index")?,
                    last_input: from_sql_int(last, "input index")?,
                    epoch_hash: hash32(&hash, "epoch hash")?,
                    submitted: submitted != 0,
                })
            })
            .collect()
    }

    /// Records a claim (not yet submitted) with the proofs of every output it covers, in one
    /// transaction. The claim must be the next one and start right after the previous one.
    pub fn add_claim(&self, claim: &ClaimRecord, proofs: &[StoredProof]) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let (count, next_input): (i64, i64) =
            tx.query_row("SELECT COUNT(*), COALESCE(MAX(last_input) + 1, 0) FROM claims", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if sql_int(claim.index)? != count
            || sql_int(claim.first_input)? != next_input
            || claim.last_input < claim.first_input
        {
            return Err(StoreError::Corrupt(format!(
                "claim {} of inputs {}..={} does not follow the {count} claims stored",
                claim.index, claim.first_input, claim.last_input
            )));
        }
        tx.execute(
            "INSERT INTO claims (idx, first_input, last_input, epoch_hash, submitted) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                sql_int(claim.index)?,
                sql_int(claim.first_input)?,
                sql_int(claim.last_input)?,
                &claim.epoch_hash[..],
                i64::from(claim.submitted)
            ],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO proofs (kind, input_idx, kind_idx, claim_idx, validity) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in proofs {
                insert.execute(params![
                    p.kind.code(),
                    sql_int(p.input_index)?,
                    sql_int(p.index)?,
                    sql_int(claim.index)?,
                    &p.validity
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks claim `index` as submitted or not (L1 has it, or lost it).
    pub fn set_submitted(&self, index: u64, submitted: bool) -> Result<(), StoreError> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE claims SET submitted = ?1 WHERE idx = ?2",
            params![i64::from(submitted), sql_int(index)?],
        )?;
        Ok(())
    }

    /// An output's proof and the index of its claim, once that claim is on L1.
    pub fn proof(&self, kind: OutputKind, input_index: u64, index: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let (Ok(input_index), Ok(index)) = (sql_int(input_index), sql_int(index)) else { return Ok(None) };
        let conn = self.lock()?;
        let row: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT p.claim_idx, p.validity FROM proofs p JOIN claims c ON c.idx = p.claim_idx \
                 WHERE p.kind = ?1 AND p.input_idx = ?2 AND p.kind_idx = ?3 AND c.submitted = 1",
                [kind.code(), input_index, index],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(claim, validity)| Ok((from_sql_int(claim, "claim index")?, validity))).transpose()
    }

    // Reads for the reader API (GraphQL). Offsets and limits are positions in the ordered listing,
    // as Cartesi's reader pages them.

    /// One input with its status.
    pub fn input(&self, index: u64) -> Result<Option<(InputRecord, InputStatus)>, StoreError> {
        let Ok(index) = sql_int(index) else { return Ok(None) };
        let conn = self.lock()?;
        let row = conn
            .query_row(&format!("SELECT {INPUT_COLUMNS} FROM inputs WHERE idx = ?1"), [index], input_row)
            .optional()?;
        row.map(input_from_row).transpose()
    }

    /// How many inputs lie in `range`.
    pub fn count_inputs(&self, range: InputRange) -> Result<u64, StoreError> {
        let (low, high) = bounds(range);
        let conn = self.lock()?;
        let n: i64 =
            conn.query_row("SELECT COUNT(*) FROM inputs WHERE idx > ?1 AND idx < ?2", [low, high], |r| r.get(0))?;
        from_sql_int(n, "count")
    }

    /// Inputs in `range` by index, skipping `offset` and returning at most `limit`.
    pub fn inputs(
        &self,
        range: InputRange,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(InputRecord, InputStatus)>, StoreError> {
        let (low, high) = bounds(range);
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {INPUT_COLUMNS} FROM inputs WHERE idx > ?1 AND idx < ?2 ORDER BY idx LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map([low, high, sql_int(limit)?, sql_int(offset)?], input_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(input_from_row).collect()
    }

    /// One output: the `index`-th of its kind produced by input `input_index`.
    pub fn output(&self, kind: OutputKind, input_index: u64, index: u64) -> Result<Option<StoredOutput>, StoreError> {
        let (Ok(input_index), Ok(index)) = (sql_int(input_index), sql_int(index)) else { return Ok(None) };
        let conn = self.lock()?;
        let row = conn
            .query_row(
                &format!("SELECT {OUTPUT_COLUMNS} FROM outputs WHERE kind = ?1 AND input_idx = ?2 AND kind_idx = ?3"),
                [kind.code(), input_index, index],
                output_row,
            )
            .optional()?;
        row.map(output_from_row).transpose()
    }

    /// How many outputs of `kind` exist, of one input or of all.
    pub fn count_outputs(&self, kind: OutputKind, input_index: Option<u64>) -> Result<u64, StoreError> {
        let (low, high) = input_bounds(input_index)?;
        let conn = self.lock()?;
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM outputs WHERE kind = ?1 AND input_idx >= ?2 AND input_idx <= ?3",
            [kind.code(), low, high],
            |r| r.get(0),
        )?;
        from_sql_int(n, "count")
    }

    /// Outputs of `kind` (of one input or of all) ordered by (input index, index), skipping
    /// `offset` and returning at most `limit`.
    pub fn outputs(
        &self,
        kind: OutputKind,
        input_index: Option<u64>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<StoredOutput>, StoreError> {
        let (low, high) = input_bounds(input_index)?;
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {OUTPUT_COLUMNS} FROM outputs WHERE kind = ?1 AND input_idx >= ?2 AND input_idx <= ?3 \
             ORDER BY input_idx, kind_idx LIMIT ?4 OFFSET ?5"
        ))?;
        let rows = stmt
            .query_map([kind.code(), low, high, sql_int(limit)?, sql_int(offset)?], output_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(output_from_row).collect()
    }
}

/// The strict bounds of an input range as SQL integers: -1 and i64::MAX stand for "none"
/// (stored indices are never negative, and i64::MAX itself is never a valid lower-than bound
/// to include).
fn bounds(range: InputRange) -> (i64, i64) {
    let low = range.index_greater_than.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX));
    let high = range.index_lower_than.map_or(i64::MAX, |v| i64::try_from(v).unwrap_or(i64::MAX));
    (low, high)
}

/// Inclusive input-index bounds: one input, or all.
fn input_bounds(input_index: Option<u64>) -> Result<(i64, i64), StoreError> {
    Ok(match input_index {
        Some(i) => (sql_int(i)?, sql_int(i)?),
        None => (0, i64::MAX),
    })
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

//! Rollups v2: what a v2 input adds (its block's `prevrandao`), global output and report
//! numbering, claims by epoch and the 63 siblings of every claimed output.
//!
//! v2 numbers outputs (notices and vouchers) globally: output `i` is the `i`-th leaf of the
//! outputs tree, counted over accepted inputs in input order (rejected inputs keep only their
//! reports, so counting every stored notice and voucher gives the same numbering). Reports are
//! numbered globally too. The tables are created by every node (empty in v1).

use rusqlite::{params, OptionalExtension};

use super::*;

pub(super) const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS v2_inputs (
    idx         INTEGER PRIMARY KEY,
    prev_randao BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS v2_claims (
    epoch            INTEGER PRIMARY KEY,
    last_block       INTEGER NOT NULL,
    input_count      INTEGER NOT NULL,
    output_count     INTEGER NOT NULL,
    root             BLOB    NOT NULL,
    submitted        INTEGER NOT NULL,
    transaction_hash BLOB
);
CREATE TABLE IF NOT EXISTS node_application (
    id      INTEGER PRIMARY KEY CHECK (id = 0),
    address BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS v2_proofs (
    output_idx INTEGER PRIMARY KEY,
    epoch      INTEGER NOT NULL,
    siblings   BLOB    NOT NULL
);
";

/// The SQL order of a listing: oldest first, or newest first (`descending`).
fn order(descending: bool) -> &'static str {
    if descending {
        "DESC"
    } else {
        "ASC"
    }
}

/// Kinds of v2 outputs in the `outputs` table (reports are code 2).
const NOT_REPORT: &str = "kind <> 2";

/// The 63 sibling hashes of an output in the outputs tree, leaf to root.
pub type Siblings = Vec<[u8; 32]>;

/// A v2 claim: the outputs-tree root after every input up to the epoch's last block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimV2 {
    /// `last_block / epoch_length`, the Authority's epoch number.
    pub epoch: u64,
    /// `lastProcessedBlockNumber`.
    pub last_block: u64,
    /// Inputs `0..input_count` are covered.
    pub input_count: u64,
    /// Outputs `0..output_count` are covered (the tree's size at the claim).
    pub output_count: u64,
    pub root: [u8; 32],
    /// Whether the Authority accepted it (`ClaimAccepted` on L1).
    pub submitted: bool,
    pub transaction_hash: Option<[u8; 32]>,
}

/// One notice or voucher with its global index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputV2 {
    pub index: u64,
    pub input_index: u64,
    pub output: Output,
}

/// One report with its global index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportV2 {
    pub index: u64,
    pub input_index: u64,
    pub payload: Vec<u8>,
}

/// Which outputs a listing covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputFilterV2 {
    pub input_index: Option<u64>,
    /// Only outputs of these kinds (none: of any kind).
    pub kinds: Option<Vec<OutputKind>>,
    pub voucher_address: Option<Address>,
}

fn hash_of(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    hash32(&bytes, what)
}

fn claim_of(row: (i64, i64, i64, i64, Vec<u8>, i64, Option<Vec<u8>>)) -> Result<ClaimV2, StoreError> {
    let (epoch, last_block, inputs, outputs, root, submitted, tx) = row;
    Ok(ClaimV2 {
        epoch: from_sql_int(epoch, "epoch")?,
        last_block: from_sql_int(last_block, "block")?,
        input_count: from_sql_int(inputs, "count")?,
        output_count: from_sql_int(outputs, "count")?,
        root: hash_of(root, "root")?,
        submitted: submitted != 0,
        transaction_hash: tx.map(|t| hash_of(t, "transaction hash")).transpose()?,
    })
}

/// The outputs of the store with their global indices, as a subquery.
const NUMBERED: &str =
    "(SELECT ROW_NUMBER() OVER (ORDER BY input_idx, seq) - 1 AS gidx, input_idx, seq, kind_idx, kind, \
     destination, value, payload FROM outputs WHERE kind <> 2)";
const NUMBERED_REPORTS: &str = "(SELECT ROW_NUMBER() OVER (ORDER BY input_idx, seq) - 1 AS gidx, input_idx, payload \
     FROM outputs WHERE kind = 2)";

impl Store {
    /// Ties the database to the application whose inputs it holds, or checks that it is that
    /// application: a v2 application's address depends on its epoch length, and Rollups v1 and
    /// v2 applications differ, so a data directory reused with other settings would otherwise
    /// mix two applications' inputs.
    pub fn bind_application(&self, app: Address) -> Result<(), StoreError> {
        let conn = self.lock()?;
        let held: Option<Vec<u8>> =
            conn.query_row("SELECT address FROM node_application WHERE id = 0", [], |r| r.get(0)).optional()?;
        match held {
            None => {
                conn.execute("INSERT INTO node_application (id, address) VALUES (0, ?1)", [&app.0[..]])?;
                Ok(())
            }
            Some(held) if held == app.0 => Ok(()),
            Some(held) => {
                Err(StoreError::OtherApplication { held: format!("0x{}", hex::encode(held)), wanted: app.to_string() })
            }
        }
    }

    /// A v2 input's `prevrandao`.
    pub fn prev_randao(&self, index: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let conn = self.lock()?;
        let row: Option<Vec<u8>> = conn
            .query_row("SELECT prev_randao FROM v2_inputs WHERE idx = ?1", [sql_int(index)?], |r| r.get(0))
            .optional()?;
        row.map(|r| hash_of(r, "prev_randao")).transpose()
    }

    /// How many notices and vouchers inputs before `index` produced: the global index of the
    /// first output of input `index`.
    pub fn outputs_before(&self, index: u64) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        let n: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM outputs WHERE {NOT_REPORT} AND input_idx < ?1"),
            [sql_int(index)?],
            |r| r.get(0),
        )?;
        from_sql_int(n, "count")
    }

    /// The notices and vouchers of inputs `first..end`, in global order.
    pub fn outputs_of_inputs(&self, first: u64, end: u64) -> Result<Vec<OutputV2>, StoreError> {
        let conn = self.lock()?;
        let sql = format!(
            "SELECT gidx, input_idx, kind_idx, kind, destination, value, payload FROM {NUMBERED} \
             WHERE input_idx >= ?1 AND input_idx < ?2 ORDER BY gidx"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map([sql_int(first)?, sql_int(end)?], |r| {
                Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|(g, row)| numbered(g, row)).collect()
    }

    /// A page of outputs matching `filter` (newest first when `descending`), and how many match.
    pub fn outputs_v2(
        &self,
        filter: &OutputFilterV2,
        limit: u64,
        offset: u64,
        descending: bool,
    ) -> Result<(u64, Vec<OutputV2>), StoreError> {
        let conn = self.lock()?;
        let mut conditions = vec!["1".to_owned()];
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(i) = filter.input_index {
            args.push(sql_int(i)?.into());
            conditions.push(format!("input_idx = ?{}", args.len()));
        }
        if let Some(kinds) = &filter.kinds {
            let codes: Vec<String> = kinds.iter().map(|k| kind_code(*k).to_string()).collect();
            conditions.push(format!("kind IN ({})", codes.join(", ")));
        }
        if let Some(a) = filter.voucher_address {
            args.push(a.0.to_vec().into());
            conditions.push(format!("kind IN (1, 3) AND destination = ?{}", args.len()));
        }
        let where_ = conditions.join(" AND ");
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM {NUMBERED} WHERE {where_}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        args.push(sql_int(limit)?.into());
        args.push(sql_int(offset)?.into());
        let sql = format!(
            "SELECT gidx, input_idx, kind_idx, kind, destination, value, payload FROM {NUMBERED} WHERE {where_} \
             ORDER BY gidx {} LIMIT ?{} OFFSET ?{}",
            order(descending),
            args.len() - 1,
            args.len()
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let page = rows.into_iter().map(|(g, row)| numbered(g, row)).collect::<Result<Vec<_>, _>>()?;
        Ok((from_sql_int(total, "count")?, page))
    }

    /// Output `index` (global).
    pub fn output_v2(&self, index: u64) -> Result<Option<OutputV2>, StoreError> {
        let Ok(index) = sql_int(index) else { return Ok(None) };
        let conn = self.lock()?;
        let sql = format!(
            "SELECT gidx, input_idx, kind_idx, kind, destination, value, payload FROM {NUMBERED} WHERE gidx = ?1"
        );
        let row = conn
            .query_row(&sql, [index], |r| {
                Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            })
            .optional()?;
        row.map(|(g, row)| numbered(g, row)).transpose()
    }

    /// A page of reports (of one input, or all; newest first when `descending`), and how many
    /// there are.
    pub fn reports_v2(
        &self,
        input_index: Option<u64>,
        limit: u64,
        offset: u64,
        descending: bool,
    ) -> Result<(u64, Vec<ReportV2>), StoreError> {
        let conn = self.lock()?;
        let input = match input_index {
            Some(i) => sql_int(i)?,
            None => -1,
        };
        let where_ = "(?1 < 0 OR input_idx = ?1)";
        let total: i64 =
            conn.query_row(&format!("SELECT COUNT(*) FROM {NUMBERED_REPORTS} WHERE {where_}"), [input], |r| r.get(0))?;
        let mut stmt = conn.prepare(&format!(
            "SELECT gidx, input_idx, payload FROM {NUMBERED_REPORTS} WHERE {where_} ORDER BY gidx {} LIMIT ?2 OFFSET ?3",
            order(descending)
        ))?;
        let rows = stmt
            .query_map([input, sql_int(limit)?, sql_int(offset)?], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let page = rows
            .into_iter()
            .map(|(g, i, payload)| {
                Ok(ReportV2 { index: from_sql_int(g, "index")?, input_index: from_sql_int(i, "index")?, payload })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((from_sql_int(total, "count")?, page))
    }

    /// Report `index` (global).
    pub fn report_v2(&self, index: u64) -> Result<Option<ReportV2>, StoreError> {
        let Ok(index) = sql_int(index) else { return Ok(None) };
        let conn = self.lock()?;
        let row = conn
            .query_row(
                &format!("SELECT gidx, input_idx, payload FROM {NUMBERED_REPORTS} WHERE gidx = ?1"),
                [index],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)),
            )
            .optional()?;
        row.map(|(g, i, payload)| {
            Ok(ReportV2 { index: from_sql_int(g, "index")?, input_index: from_sql_int(i, "index")?, payload })
        })
        .transpose()
    }

    /// A page of inputs (optionally of one sender or status; newest first when `descending`)
    /// with their status, and how many match.
    pub fn inputs_v2(
        &self,
        sender: Option<Address>,
        status: Option<InputStatus>,
        limit: u64,
        offset: u64,
        descending: bool,
    ) -> Result<(u64, Vec<(InputRecord, InputStatus)>), StoreError> {
        let conn = self.lock()?;
        let sender = sender.map(|a| a.0.to_vec());
        let status = status.map(status_code);
        let where_ = "(?1 IS NULL OR msg_sender = ?1) AND (?2 IS NULL OR status = ?2)";
        let total: i64 =
            conn.query_row(&format!("SELECT COUNT(*) FROM inputs WHERE {where_}"), params![sender, status], |r| {
                r.get(0)
            })?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {INPUT_COLUMNS} FROM inputs WHERE {where_} ORDER BY idx {} LIMIT ?3 OFFSET ?4",
            order(descending)
        ))?;
        let rows = stmt
            .query_map(params![sender, status, sql_int(limit)?, sql_int(offset)?], input_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let page = rows.into_iter().map(input_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok((from_sql_int(total, "count")?, page))
    }

    /// Per epoch (`block_number / epoch_length`) that has inputs: `(epoch, first input, inputs,
    /// unprocessed inputs)`, in order.
    pub fn epochs_v2(&self, epoch_length: u64) -> Result<Vec<(u64, u64, u64, u64)>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT block_number / ?1 AS epoch, MIN(idx), COUNT(*), SUM(status = 0) FROM inputs GROUP BY epoch ORDER BY epoch",
        )?;
        let rows = stmt
            .query_map([sql_int(epoch_length.max(1))?], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(e, f, n, u)| {
                Ok((
                    from_sql_int(e, "epoch")?,
                    from_sql_int(f, "index")?,
                    from_sql_int(n, "count")?,
                    from_sql_int(u, "count")?,
                ))
            })
            .collect()
    }

    /// Every v2 claim, in epoch order.
    pub fn claims_v2(&self) -> Result<Vec<ClaimV2>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT epoch, last_block, input_count, output_count, root, submitted, transaction_hash FROM v2_claims ORDER BY epoch",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(claim_of).collect()
    }

    /// Records a claim (not yet submitted) with the siblings of every output it adds, in one
    /// transaction. It must follow the last one: a later epoch, covering more inputs and at
    /// least as many outputs.
    ///
    /// The claim was computed from earlier reads, and a rollback may have dropped inputs since:
    /// unless inputs `0..input_count` are all still stored and processed and hold exactly
    /// `output_count` outputs, nothing is recorded and the answer is `false` (compute again).
    pub fn add_claim_v2(&self, claim: &ClaimV2, siblings: &[(u64, Siblings)]) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let last: Option<(i64, i64, i64)> = tx
            .query_row("SELECT epoch, input_count, output_count FROM v2_claims ORDER BY epoch DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let (epoch, inputs, outputs) =
            (sql_int(claim.epoch)?, sql_int(claim.input_count)?, sql_int(claim.output_count)?);
        if let Some((e, i, o)) = last {
            if epoch <= e || inputs <= i || outputs < o {
                return Err(StoreError::Corrupt(format!(
                    "claim of epoch {epoch} ({inputs} inputs, {outputs} outputs) does not follow epoch {e} ({i} inputs, {o} outputs)"
                )));
            }
        }
        let (stored, processed): (i64, i64) =
            tx.query_row("SELECT COUNT(*), COALESCE(SUM(status <> 0), 0) FROM inputs WHERE idx < ?1", [inputs], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let held: i64 = tx.query_row(
            &format!("SELECT COUNT(*) FROM outputs WHERE {NOT_REPORT} AND input_idx < ?1"),
            [inputs],
            |r| r.get(0),
        )?;
        if stored != inputs || processed != inputs || held != outputs {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO v2_claims (epoch, last_block, input_count, output_count, root, submitted) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![epoch, sql_int(claim.last_block)?, inputs, outputs, &claim.root[..]],
        )?;
        {
            let mut insert = tx.prepare("INSERT INTO v2_proofs (output_idx, epoch, siblings) VALUES (?1, ?2, ?3)")?;
            for (index, hashes) in siblings {
                insert.execute(params![sql_int(*index)?, epoch, hashes.concat()])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Marks the claim of `epoch` as accepted on L1 (with the transaction that submitted it,
    /// when this node did), or as lost.
    pub fn set_claim_v2_submitted(
        &self,
        epoch: u64,
        submitted: bool,
        transaction_hash: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE v2_claims SET submitted = ?1, transaction_hash = COALESCE(?2, transaction_hash) WHERE epoch = ?3",
            params![i64::from(submitted), transaction_hash.map(|t| t.to_vec()), sql_int(epoch)?],
        )?;
        Ok(())
    }

    /// Drops the claims of epochs `epoch` and later with their proofs (L1 lost them).
    pub fn drop_claims_v2_from(&self, epoch: u64) -> Result<(), StoreError> {
        let epoch = sql_int(epoch)?;
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM v2_proofs WHERE epoch >= ?1", [epoch])?;
        tx.execute("DELETE FROM v2_claims WHERE epoch >= ?1", [epoch])?;
        tx.commit()?;
        Ok(())
    }

    /// Output `index`'s 63 siblings and its claim's epoch, once that claim is accepted on L1.
    pub fn proof_v2(&self, index: u64) -> Result<Option<(u64, Siblings)>, StoreError> {
        let Ok(index) = sql_int(index) else { return Ok(None) };
        let conn = self.lock()?;
        let row: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT p.epoch, p.siblings FROM v2_proofs p JOIN v2_claims c ON c.epoch = p.epoch \
                 WHERE p.output_idx = ?1 AND c.submitted = 1",
                [index],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(epoch, blob)| {
            let siblings = blob.chunks(32).map(|c| hash32(c, "sibling")).collect::<Result<Vec<_>, _>>()?;
            Ok((from_sql_int(epoch, "epoch")?, siblings))
        })
        .transpose()
    }
}

type NumberedRow = (i64, i64, i64, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>);

fn numbered(
    gidx: i64,
    (input_idx, kind_idx, kind, destination, value, payload): NumberedRow,
) -> Result<OutputV2, StoreError> {
    let stored = output_from_row((input_idx, kind_idx, kind, destination, value, payload))?;
    Ok(OutputV2 { index: from_sql_int(gidx, "output index")?, input_index: stored.input_index, output: stored.output })
}

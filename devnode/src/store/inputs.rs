//! Inputs: stored as L1 has them, completed with their outputs, forgotten when L1 goes back.

use rollup::wire::Output;
use rusqlite::{params, OptionalExtension};

use super::*;

impl Store {
    /// Stores an input as unprocessed. Idempotent: storing the same input again is a no-op (the
    /// L1 reader may see a block twice after a restart); a different input at an existing index is
    /// an error.
    pub fn add_input(&self, input: &InputRecord) -> Result<(), StoreError> {
        self.add_input_with(input, None)
    }

    /// [`Store::add_input`] for a Rollups v2 input, with its block's `prevrandao`, in the same
    /// transaction.
    pub fn add_input_v2(&self, input: &InputRecord, prev_randao: [u8; 32]) -> Result<(), StoreError> {
        self.add_input_with(input, Some(prev_randao))
    }

    fn add_input_with(&self, input: &InputRecord, prev_randao: Option<[u8; 32]>) -> Result<(), StoreError> {
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
                        status_code(InputStatus::Unprocessed),
                        &input.origin.block_hash[..],
                        &input.origin.transaction_hash[..],
                        sql_int(input.origin.log_index)?,
                    ],
                )?;
            }
        }
        if let Some(randao) = prev_randao {
            tx.execute(
                "INSERT OR REPLACE INTO v2_inputs (idx, prev_randao) VALUES (?1, ?2)",
                params![sql_int(input.index)?, &randao[..]],
            )?;
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
                [status_code(InputStatus::Unprocessed)],
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
        let stored_status = status_from_code(stored_status)?;
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
            params![status_code(status), exception_payload, sql_int(index)?],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO outputs (input_idx, seq, kind, kind_idx, destination, value, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut counts = [0u64; 4];
            for (seq, output) in outputs.iter().enumerate() {
                let kind = output.kind();
                let slot = &mut counts[kind_code(kind) as usize];
                let kind_idx = *slot;
                *slot += 1;
                let (destination, value, payload): (Option<&[u8]>, Option<&[u8]>, &[u8]) = match output {
                    Output::Notice(p) | Output::Report(p) => (None, None, p),
                    Output::Voucher(v) => {
                        (Some(&v.destination.0[..]), v.value.as_ref().map(|x| &x.0[..]), &v.payload.0)
                    }
                    Output::DelegateCallVoucher(v) => (Some(&v.destination.0[..]), None, &v.payload.0),
                };
                insert.execute(params![
                    sql_int(index)?,
                    sql_int(seq as u64)?,
                    kind_code(kind),
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
            let rows =
                stmt.query_map([status_code(InputStatus::Unprocessed)], input_row)?.collect::<Result<Vec<_>, _>>()?;
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
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM inputs WHERE status <> ?1",
            [status_code(InputStatus::Unprocessed)],
            |r| r.get(0),
        )?;
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
        tx.execute(
            "DELETE FROM v2_proofs WHERE epoch IN (SELECT epoch FROM v2_claims WHERE input_count > ?1)",
            [keep],
        )?;
        tx.execute("DELETE FROM v2_claims WHERE input_count > ?1", [keep])?;
        tx.execute("DELETE FROM v2_inputs WHERE idx >= ?1", [keep])?;
        tx.execute("DELETE FROM outputs WHERE input_idx >= ?1", [keep])?;
        let dropped = tx.execute("DELETE FROM inputs WHERE idx >= ?1", [keep])?;
        tx.commit()?;
        Ok(dropped as u64)
    }

    /// The highest-index input whose L1 block is at most `block`.
    pub(crate) fn last_input_up_to_block(&self, block: u64) -> Result<Option<u64>, StoreError> {
        let conn = self.lock()?;
        let n: Option<i64> =
            conn.query_row("SELECT MAX(idx) FROM inputs WHERE block_number <= ?1", [sql_int(block)?], |r| r.get(0))?;
        n.map(|n| from_sql_int(n, "input index")).transpose()
    }

    /// The status and outputs of inputs `first..=last`, in order (for an epoch's trees).
    pub(crate) fn completed_range(&self, first: u64, last: u64) -> Result<Vec<(InputStatus, Vec<Output>)>, StoreError> {
        let conn = self.lock()?;
        let mut out = Vec::new();
        for index in first..=last {
            let status: Option<i64> = conn
                .query_row("SELECT status FROM inputs WHERE idx = ?1", [sql_int(index)?], |r| r.get(0))
                .optional()?;
            let status = status_from_code(status.ok_or(StoreError::MissingInput { index })?)?;
            out.push((status, outputs_of(&conn, index)?));
        }
        Ok(out)
    }
}

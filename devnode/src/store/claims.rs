//! Claims and the proofs of the outputs they cover.

use rusqlite::{params, OptionalExtension};

use super::*;

impl Store {
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
    pub(crate) fn add_claim(&self, claim: &ClaimRecord, proofs: &[StoredProof]) -> Result<(), StoreError> {
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
                    kind_code(p.kind),
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
                [kind_code(kind), input_index, index],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(claim, validity)| Ok((from_sql_int(claim, "claim index")?, validity))).transpose()
    }
}

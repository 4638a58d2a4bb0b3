//! Reads for the reader API (GraphQL). Offsets and limits are positions in the ordered listing,
//! as Cartesi's reader pages them.

use rusqlite::OptionalExtension;

use super::*;

impl Store {
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
                [kind_code(kind), input_index, index],
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
            [kind_code(kind), low, high],
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
            .query_map([kind_code(kind), low, high, sql_int(limit)?, sql_int(offset)?], output_row)?
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

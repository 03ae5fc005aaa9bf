//! CSV export and import of one catalog. Import checks every row first and writes nothing when
//! any row is bad, listing the bad rows; rows with an id update that row, rows without add one.
use super::field::{Catalog, Values};
use super::store;
use crate::error::{AppError, AppResult, FieldError};
use sqlx::PgConnection;

/// Every row of a catalog as CSV: id, then each writable field.
pub async fn export(conn: &mut PgConnection, c: &Catalog) -> AppResult<String> {
    let rows = store::list(conn, c).await?;
    let mut w = csv::Writer::from_writer(vec![]);
    let fields: Vec<_> = c.writable().collect();
    let mut header = vec!["id"];
    header.extend(fields.iter().map(|f| f.name));
    w.write_record(&header).map_err(anyhow::Error::from)?;
    for r in &rows {
        let mut rec = vec![r.id.to_string()];
        rec.extend(fields.iter().map(|f| to_cell(r.value(f.name))));
        w.write_record(&rec).map_err(anyhow::Error::from)?;
    }
    Ok(
        String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
            .map_err(anyhow::Error::from)?,
    )
}

/// What a spreadsheet would read as a formula (OWASP "CSV injection").
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A value as a cell: one that a spreadsheet would run as a formula gets a leading `'`, so
/// it shows as text (OWASP's advice).
fn to_cell(v: &str) -> String {
    if v.starts_with(FORMULA_START) {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

/// A cell read back: the `'` that `to_cell` added is taken off again, so an export imports
/// unchanged.
fn from_cell(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => v,
    }
}

pub struct Imported {
    pub created: usize,
    pub updated: usize,
}

/// One row of the file: its line number, its id (None: a new row) and its values.
struct FileRow {
    line: usize,
    id: Option<i32>,
    values: Values,
}

/// Import `data`; Err lists every bad row ("row 3: price: must not be negative").
pub async fn import(
    tx: &mut PgConnection,
    c: &Catalog,
    data: &[u8],
    actor: i32,
) -> AppResult<Imported> {
    let rows = read(c, data).map_err(bad)?;
    if rows.is_empty() {
        return Err(bad(vec!["the file has no rows".into()]));
    }
    let mut done = Imported {
        created: 0,
        updated: 0,
    };
    for FileRow { line, id, values } in rows {
        let result = match id {
            Some(id) => store::update(tx, c, id, &values, actor)
                .await
                .map(|_| done.updated += 1),
            None => store::create(tx, c, &values, actor)
                .await
                .map(|_| done.created += 1),
        };
        // The whole import is one transaction: the caller rolls back on any error.
        result.map_err(|e| bad(vec![format!("row {line}: {e}")]))?;
    }
    Ok(done)
}

/// Every row of the file, checked; Err: every problem of the header and the rows.
fn read(c: &Catalog, data: &[u8]) -> Result<Vec<FileRow>, Vec<String>> {
    let mut rd = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data);
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| vec![format!("the file is not CSV: {e}")])?
        .iter()
        .map(String::from)
        .collect();
    let mut problems: Vec<String> = header
        .iter()
        .filter(|h| *h != "id" && !c.writable().any(|f| f.name == *h))
        .map(|h| {
            format!(
                "column \"{h}\" is not a field of {}",
                c.title.to_lowercase()
            )
        })
        .collect();
    let mut rows = vec![];
    for (n, rec) in rd.records().enumerate() {
        let line = n + 2;
        match rec {
            Ok(rec) => rows.push(read_row(c, &header, &rec, line, &mut problems)),
            Err(e) => problems.push(format!("row {line}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// One record by the header's columns; its problems are added to `problems`.
fn read_row(
    c: &Catalog,
    header: &[String],
    rec: &csv::StringRecord,
    line: usize,
    problems: &mut Vec<String>,
) -> FileRow {
    let mut values = Values::new();
    let mut id = None;
    for (h, v) in header.iter().zip(rec.iter()) {
        if h != "id" {
            let v = from_cell(v);
            values.insert(h.clone(), (!v.is_empty()).then(|| v.to_string()));
        } else if !v.is_empty() {
            match v.parse::<i32>() {
                Ok(i) => id = Some(i),
                Err(_) => problems.push(format!("row {line}: id: {v:?} is not an id")),
            }
        }
    }
    if let Err(errors) = c.validate(&values) {
        for e in errors {
            problems.push(format!("row {line}: {}: {}", e.field, e.message));
        }
    }
    FileRow { line, id, values }
}

fn bad(problems: Vec<String>) -> AppError {
    AppError::Validation {
        message: format!("nothing was imported: {}", problems.join("; ")),
        errors: problems
            .into_iter()
            .map(|p| FieldError {
                field: "file".into(),
                message: p,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::{from_cell, to_cell};

    #[test]
    fn formulas_are_written_as_text_and_read_back_unchanged() {
        for v in [
            "=1+1",
            "+1",
            "-5",
            "@SUM(A1)",
            "\t=x",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert!(to_cell(v).starts_with('\''), "{v}");
            assert_eq!(from_cell(&to_cell(v)), v);
        }
        for v in ["Highlight Film", "12.50", "", "'quoted", "a=b"] {
            assert_eq!(to_cell(v), v);
            assert_eq!(from_cell(v), v);
        }
    }
}

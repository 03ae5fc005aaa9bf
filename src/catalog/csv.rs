//! CSV export and import of one catalog. Import checks every row first and writes nothing when
//! any row is bad, listing the bad rows; rows with an id update that row, rows without add one.
use super::field::{Catalog, Values};
use crate::error::{AppError, AppResult};
use sqlx::PgConnection;

pub async fn export(db: &sqlx::PgPool, c: &Catalog) -> AppResult<String> {
    let rows = super::list(db, c).await?;
    let mut w = csv::Writer::from_writer(vec![]);
    let fields: Vec<_> = c.writable().collect();
    let mut header = vec!["id"];
    header.extend(fields.iter().map(|f| f.name));
    w.write_record(&header).map_err(anyhow::Error::from)?;
    for r in &rows {
        let mut rec = vec![r.id.to_string()];
        rec.extend(fields.iter().map(|f| r.value(f.name).to_string()));
        w.write_record(&rec).map_err(anyhow::Error::from)?;
    }
    Ok(
        String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
            .map_err(anyhow::Error::from)?,
    )
}

pub struct Imported {
    pub created: usize,
    pub updated: usize,
}

/// Import `data`; Err lists every bad row ("row 3: price: must not be negative").
pub async fn import(
    tx: &mut PgConnection,
    c: &Catalog,
    data: &[u8],
    actor: i32,
) -> AppResult<Imported> {
    let mut rd = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data);
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| bad(vec![format!("the file is not CSV: {e}")]))?
        .iter()
        .map(String::from)
        .collect();
    let mut problems = vec![];
    for h in &header {
        if h != "id" && !c.writable().any(|f| f.name == h) {
            problems.push(format!(
                "column \"{h}\" is not a field of {}",
                c.title.to_lowercase()
            ));
        }
    }
    let mut rows: Vec<(usize, Option<i32>, Values)> = vec![];
    for (n, rec) in rd.records().enumerate() {
        let line = n + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("row {line}: {e}"));
                continue;
            }
        };
        let mut values = Values::new();
        let mut id = None;
        for (h, v) in header.iter().zip(rec.iter()) {
            if h == "id" {
                if !v.is_empty() {
                    match v.parse::<i32>() {
                        Ok(i) => id = Some(i),
                        Err(_) => problems.push(format!("row {line}: id: {v:?} is not an id")),
                    }
                }
            } else {
                values.insert(h.clone(), (!v.is_empty()).then(|| v.to_string()));
            }
        }
        if let Err(errors) = c.validate(&values) {
            for e in errors {
                problems.push(format!("row {line}: {}: {}", e.field, e.message));
            }
        }
        rows.push((line, id, values));
    }
    if !problems.is_empty() {
        return Err(bad(problems));
    }
    if rows.is_empty() {
        return Err(bad(vec!["the file has no rows".into()]));
    }
    let mut done = Imported {
        created: 0,
        updated: 0,
    };
    for (line, id, values) in rows {
        let result = match id {
            Some(id) => super::update(tx, c, id, &values, actor)
                .await
                .map(|_| done.updated += 1),
            None => super::create(tx, c, &values, actor)
                .await
                .map(|_| done.created += 1),
        };
        // The whole import is one transaction: the caller rolls back on any error.
        result.map_err(|e| bad(vec![format!("row {line}: {e}")]))?;
    }
    Ok(done)
}

fn bad(problems: Vec<String>) -> AppError {
    AppError::Validation {
        message: format!("nothing was imported: {}", problems.join("; ")),
        errors: problems
            .into_iter()
            .map(|p| crate::error::FieldError {
                field: "file".into(),
                message: p,
            })
            .collect(),
    }
}

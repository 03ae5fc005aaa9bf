//! The one engine behind every catalog: SQL built from a catalog's description (values bound as
//! text, cast by PostgreSQL), list/get/create/update/delete in the caller's connection or
//! transaction, each change audited, and "in use" read from the foreign keys themselves.
use super::field::{Catalog, Kind, Values, cast, invalid};
use super::row::Row;
use super::spec;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::page;
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};
use std::collections::BTreeMap;

fn ref_table(slug: &str) -> &'static str {
    spec::find(slug)
        .map(|c| c.table)
        .expect("references name a catalog")
}

/// The rows of a catalog, or only row `$1` (an id; NULL for all).
pub fn select_sql(c: &Catalog) -> String {
    let mut cols = vec!["t.id".to_string()];
    let mut joins = String::new();
    for f in c.fields {
        // Booleans as 'true'/'false'; everything else in PostgreSQL's own text form.
        cols.push(format!("t.{0}::text AS {0}", f.name));
        if let Kind::Ref(target) = f.kind {
            joins.push_str(&format!(
                " LEFT JOIN {} r_{1} ON r_{1}.id = t.{1}",
                ref_table(target),
                f.name
            ));
            cols.push(format!("r_{0}.name AS {0}__label", f.name));
        }
    }
    cols.push(format!("{} AS sort_key", sort_expr(c)));
    format!("SELECT {} FROM {} t{joins}", cols.join(", "), c.table)
}

/// What a catalog is listed by (then by id): its name, lowercased; rules tables by id alone.
fn sort_expr(c: &Catalog) -> &'static str {
    if c.is_rule {
        "''::text"
    } else {
        "COALESCE(lower(t.name), '')"
    }
}

fn to_row(c: &Catalog, r: &PgRow) -> Result<Row, sqlx::Error> {
    let mut values = Values::new();
    let mut labels = BTreeMap::new();
    for f in c.fields {
        let v: Option<String> = r.try_get(f.name)?;
        let v = match (f.kind, v) {
            (Kind::Bool, Some(b)) => Some(if b == "true" || b == "t" {
                "true".into()
            } else {
                "false".into()
            }),
            (_, v) => v,
        };
        values.insert(f.name.into(), v);
        if let Kind::Ref(_) = f.kind {
            labels.insert(
                f.name.into(),
                r.try_get(format!("{}__label", f.name).as_str())?,
            );
        }
    }
    Ok(Row {
        id: r.try_get("id")?,
        values,
        labels,
    })
}

/// Every row of a catalog (for its CSV export): by name, rules tables in the order they were
/// added.
pub async fn list(conn: &mut PgConnection, c: &Catalog) -> AppResult<Vec<Row>> {
    let sort = sort_expr(c);
    let rows = sqlx::query(&format!("{} ORDER BY {sort}, t.id", select_sql(c)))
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| to_row(c, r))
        .collect::<Result<_, _>>()?)
}

/// A page of a catalog in the order of `list`, from the cursor on (its one text: the
/// lowercased name, empty for rules tables); the next page's cursor when more follow.
pub async fn page(
    conn: &mut PgConnection,
    c: &Catalog,
    after: Option<&page::Key>,
) -> AppResult<(Vec<Row>, Option<page::Key>)> {
    let sort = sort_expr(c);
    let rows = sqlx::query(&format!(
        "{} WHERE ({sort}, t.id) > (COALESCE($2, ''), COALESCE($1::int, 0))
         ORDER BY {sort}, t.id LIMIT $3",
        select_sql(c)
    ))
    .bind(after.map(|a| a.id))
    .bind(after.map(|a| a.text(0)))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    let keyed = rows
        .iter()
        .map(|r| Ok((to_row(c, r)?, r.try_get::<String, _>("sort_key")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let (keyed, next) = page::split(keyed, |(r, key)| page::Key {
        keys: vec![key.clone()],
        id: r.id,
    });
    Ok((keyed.into_iter().map(|(r, _)| r).collect(), next))
}

pub async fn get(conn: &mut PgConnection, c: &Catalog, id: i32) -> AppResult<Row> {
    let row = sqlx::query(&format!("{} WHERE t.id = $1", select_sql(c)))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(r) => Ok(to_row(c, &r)?),
        None => Err(AppError::NotFound(format!("{} {id} not found", c.singular))),
    }
}

/// Options for a reference field: (id, name) of the target catalog.
pub async fn options(conn: &mut PgConnection, target: &str) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, name FROM {} ORDER BY lower(name)",
        ref_table(target)
    ))
    .fetch_all(conn)
    .await?)
}

/// How many rows each catalog has, in the order of `spec::CATALOGS`; one query.
pub async fn counts(conn: &mut PgConnection) -> AppResult<Vec<i64>> {
    let sql = spec::CATALOGS
        .iter()
        .map(|c| format!("(SELECT count(*) FROM {})", c.table))
        .collect::<Vec<_>>()
        .join(", ");
    let row = sqlx::query(&format!("SELECT {sql}"))
        .fetch_one(conn)
        .await?;
    (0..spec::CATALOGS.len())
        .map(|i| Ok(row.try_get::<i64, _>(i)?))
        .collect()
}

/// Database errors in the words of the form: a duplicate name is a 409, a missing reference
/// names its field.
fn db_error(c: &Catalog, values: &Values, e: sqlx::Error) -> AppError {
    if let Some(d) = e.as_database_error() {
        let constraint = d.constraint().unwrap_or("");
        match d.code().as_deref() {
            Some("23505") if c.is_rule => {
                return AppError::Conflict(format!("this {} already exists", c.singular));
            }
            Some("23505") => {
                let name = values.get("name").cloned().flatten().unwrap_or_default();
                return AppError::Conflict(format!(
                    "a {} named \"{name}\" already exists",
                    c.singular
                ));
            }
            Some("23503") => {
                if let Some(f) = c
                    .fields
                    .iter()
                    .find(|f| constraint.ends_with(&format!("_{}_fkey", f.name)))
                {
                    return AppError::field(
                        f.name,
                        format!("there is no {} with that id", f.label.to_lowercase()),
                    );
                }
            }
            _ => {}
        }
    }
    AppError::from(e)
}

/// Check and add a row; audited.
pub async fn create(
    tx: &mut PgConnection,
    c: &Catalog,
    raw: &Values,
    actor: i32,
) -> AppResult<Row> {
    let values = c.validate(raw).map_err(invalid)?;
    let fields: Vec<_> = c.writable().collect();
    let cols = fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
    let params = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("${}::{}", i + 1, cast(f.kind)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO {} ({cols}) VALUES ({params}) RETURNING id",
        c.table
    );
    let mut q = sqlx::query_scalar::<_, i32>(&sql);
    for f in &fields {
        q = q.bind(values.get(f.name).cloned().flatten());
    }
    let id = q
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(c, &values, e))?;
    let row = get(&mut *tx, c, id).await?;
    let action = format!("catalog.{}.create", c.slug);
    let details = json!({ "after": row.to_json(c) });
    audit::record(tx, Some(actor), &action, c.table, Some(id), details).await?;
    Ok(row)
}

/// Check and change a row (every writable field); audited with before and after.
pub async fn update(
    tx: &mut PgConnection,
    c: &Catalog,
    id: i32,
    raw: &Values,
    actor: i32,
) -> AppResult<Row> {
    let values = c.validate(raw).map_err(invalid)?;
    let before = get_for_update(tx, c, id).await?;
    let fields: Vec<_> = c.writable().collect();
    let sets = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} = ${}::{}", f.name, i + 2, cast(f.kind)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE {} SET {sets} WHERE id = $1", c.table);
    let mut q = sqlx::query(&sql).bind(id);
    for f in &fields {
        q = q.bind(values.get(f.name).cloned().flatten());
    }
    q.execute(&mut *tx)
        .await
        .map_err(|e| db_error(c, &values, e))?;
    let after = get(&mut *tx, c, id).await?;
    let action = format!("catalog.{}.update", c.slug);
    let details = json!({ "before": before.to_json(c), "after": after.to_json(c) });
    audit::record(tx, Some(actor), &action, c.table, Some(id), details).await?;
    Ok(after)
}

async fn get_for_update(tx: &mut PgConnection, c: &Catalog, id: i32) -> AppResult<Row> {
    let found: Option<i32> = sqlx::query_scalar(&format!(
        "SELECT id FROM {} WHERE id = $1 FOR UPDATE",
        c.table
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Err(AppError::NotFound(format!("{} {id} not found", c.singular)));
    }
    get(&mut *tx, c, id).await
}

/// What people call the tables that point at catalog rows.
fn friendly(table: &str) -> &str {
    match table {
        "build_components" => "quote components",
        "build_coverage_assignments" => "quote coverage lines",
        "build_billable_items" => "quote add-on lines",
        "build_deliverables" => "quote films",
        "deliverable_default_components" => "film default components",
        "editing_style_requirements" => "style requirements",
        "component_task_recipes" => "task recipes",
        "tasks" => "tasks",
        "contributor_task_benchmarks" => "team benchmarks",
        "project_assets" => "project assets",
        other => other,
    }
}

/// Every row anywhere that points at this one: (what, how many). Read from the foreign keys
/// themselves, so a new table that references a catalog is covered without changing this.
pub async fn usage(tx: &mut PgConnection, table: &str, id: i32) -> AppResult<Vec<(String, i64)>> {
    let refs: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, a.attname::text FROM pg_constraint c
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.confrelid = $1::regclass ORDER BY 1, 2",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    if refs.is_empty() {
        return Ok(vec![]);
    }
    // One query for all of them.
    let sql = refs
        .iter()
        .map(|(t, col)| format!("SELECT '{t}'::text, count(*) FROM {t} WHERE {col} = $1"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let counts: Vec<(String, i64)> = sqlx::query_as(&sql).bind(id).fetch_all(&mut *tx).await?;
    let mut out: Vec<(String, i64)> = vec![];
    for (t, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
        match out.iter_mut().find(|(name, _)| name == friendly(&t)) {
            Some(e) => e.1 += n,
            None => out.push((friendly(&t).to_string(), n)),
        }
    }
    Ok(out)
}

/// Delete a row nothing uses; otherwise say what uses it (nothing is lost to a CASCADE).
pub async fn delete(tx: &mut PgConnection, c: &Catalog, id: i32, actor: i32) -> AppResult<()> {
    let before = get_for_update(tx, c, id).await?;
    let used = usage(tx, c.table, id).await?;
    if !used.is_empty() {
        let what = used
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(AppError::Conflict(format!(
            "\"{}\" is still used by {what}. Change or remove those first.",
            before.title(c)
        )));
    }
    sqlx::query(&format!("DELETE FROM {} WHERE id = $1", c.table))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let action = format!("catalog.{}.delete", c.slug);
    let details = json!({ "before": before.to_json(c) });
    audit::record(tx, Some(actor), &action, c.table, Some(id), details).await?;
    Ok(())
}

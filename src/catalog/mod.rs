//! Phase 1: the studio's catalogs and rules. One engine serves every catalog table from its
//! description in `spec`: validation, SQL, the JSON API, the pages and CSV.
pub mod csv;
pub mod field;
pub mod pages;
pub mod preview;
pub mod spec;

use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::error::FieldError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, AppError, AppResult, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use field::{Catalog, Kind, Values};
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, Row as _};
use std::collections::BTreeMap;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Staff, routes!(api_list))
        .api(Access::Staff, routes!(api_get))
        .api(Access::Perm(Permission::CatalogEdit), routes!(api_create))
        .api(Access::Perm(Permission::CatalogEdit), routes!(api_update))
        .api(Access::Perm(Permission::CatalogEdit), routes!(api_delete))
        .merge(pages::routes())
}

/// One row: its id, each field's value as text, and the name behind each reference.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i32,
    pub values: Values,
    pub labels: BTreeMap<String, Option<String>>,
}

impl Row {
    pub fn value(&self, field: &str) -> &str {
        self.values
            .get(field)
            .and_then(|v| v.as_deref())
            .unwrap_or("")
    }

    /// What a person calls this row.
    pub fn title(&self, c: &Catalog) -> String {
        if !c.is_rule {
            return self.value("name").to_string();
        }
        c.fields
            .iter()
            .filter_map(|f| match f.kind {
                Kind::Ref(_) => Some(
                    self.labels
                        .get(f.name)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "any".into()),
                ),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The row as the API shows it: decimals as strings (exact), numbers, booleans, JSON.
    pub fn to_json(&self, c: &Catalog) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        for f in c.fields {
            let v = self.values.get(f.name).cloned().flatten();
            let j = match (f.kind, v) {
                (_, None) => Value::Null,
                (Kind::Int { .. } | Kind::Ref(_), Some(s)) => {
                    s.parse::<i64>().map(Value::from).unwrap_or(Value::Null)
                }
                (Kind::Bool, Some(s)) => Value::Bool(s == "true"),
                (Kind::EffortRules, Some(s)) => serde_json::from_str(&s).unwrap_or(Value::Null),
                (_, Some(s)) => Value::String(s),
            };
            m.insert(f.name.into(), j);
        }
        Value::Object(m)
    }
}

fn ref_table(slug: &str) -> &'static str {
    spec::find(slug)
        .map(|c| c.table)
        .expect("references name a catalog")
}

fn select_sql(c: &Catalog) -> String {
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
    let order = if c.is_rule {
        "t.id"
    } else {
        "lower(t.name), t.id"
    };
    format!(
        "SELECT {} FROM {} t{joins} WHERE ($1::int IS NULL OR t.id = $1) ORDER BY {order}",
        cols.join(", "),
        c.table
    )
}

fn to_row(c: &Catalog, r: &sqlx::postgres::PgRow) -> Result<Row, sqlx::Error> {
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

pub async fn list(db: impl sqlx::PgExecutor<'_>, c: &Catalog) -> Result<Vec<Row>, sqlx::Error> {
    let rows = sqlx::query(&select_sql(c))
        .bind(None::<i32>)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| to_row(c, r)).collect()
}

pub async fn get(db: impl sqlx::PgExecutor<'_>, c: &Catalog, id: i32) -> AppResult<Row> {
    let row = sqlx::query(&select_sql(c))
        .bind(Some(id))
        .fetch_optional(db)
        .await?;
    match row {
        Some(r) => Ok(to_row(c, &r)?),
        None => Err(AppError::NotFound(format!("{} {id} not found", c.singular))),
    }
}

/// Options for a reference field: (id, name) of the target catalog.
pub async fn options(db: &sqlx::PgPool, target: &str) -> Result<Vec<(i32, String)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, name FROM {} ORDER BY lower(name)",
        ref_table(target)
    ))
    .fetch_all(db)
    .await
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

fn validation(errors: Vec<FieldError>) -> AppError {
    let message = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Validation { message, errors }
}

pub async fn create(
    tx: &mut PgConnection,
    c: &Catalog,
    raw: &Values,
    actor: i32,
) -> AppResult<Row> {
    let values = c.validate(raw).map_err(validation)?;
    let fields: Vec<_> = c.writable().collect();
    let cols = fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
    let params = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("${}::{}", i + 1, field::cast(f.kind)))
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
    audit::record(
        tx,
        Some(actor),
        &format!("catalog.{}.create", c.slug),
        c.table,
        Some(id),
        json!({ "after": row.to_json(c) }),
    )
    .await?;
    Ok(row)
}

pub async fn update(
    tx: &mut PgConnection,
    c: &Catalog,
    id: i32,
    raw: &Values,
    actor: i32,
) -> AppResult<Row> {
    let values = c.validate(raw).map_err(validation)?;
    let before = get_for_update(tx, c, id).await?;
    let fields: Vec<_> = c.writable().collect();
    let sets = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} = ${}::{}", f.name, i + 2, field::cast(f.kind)))
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
    audit::record(
        tx,
        Some(actor),
        &format!("catalog.{}.update", c.slug),
        c.table,
        Some(id),
        json!({ "before": before.to_json(c), "after": after.to_json(c) }),
    )
    .await?;
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
pub async fn usage(
    tx: &mut PgConnection,
    table: &str,
    id: i32,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
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
    audit::record(
        tx,
        Some(actor),
        &format!("catalog.{}.delete", c.slug),
        c.table,
        Some(id),
        json!({ "before": before.to_json(c) }),
    )
    .await?;
    Ok(())
}

fn catalog(slug: &str) -> AppResult<&'static Catalog> {
    spec::find(slug).ok_or_else(|| AppError::NotFound(format!("there is no catalog \"{slug}\"")))
}

/// JSON body -> text values; unknown fields and wrong shapes are named.
fn from_json(c: &Catalog, body: Value) -> AppResult<Values> {
    let Value::Object(m) = body else {
        return Err(AppError::field("body", "must be a JSON object"));
    };
    let mut values = Values::new();
    let mut errors = vec![];
    for (k, v) in m {
        let Some(f) = c.writable().find(|f| f.name == k) else {
            if k != "id" {
                errors.push(FieldError {
                    field: k.clone(),
                    message: "is not a field of this catalog".into(),
                });
            }
            continue;
        };
        let numeric = matches!(
            f.kind,
            Kind::Money(_) | Kind::Amount { .. } | Kind::Int { .. } | Kind::Ref(_)
        );
        let text = match (&v, f.kind) {
            (Value::Null, _) => None,
            (Value::String(s), _) => Some(s.clone()),
            (Value::Number(n), _) if numeric => Some(n.to_string()),
            (Value::Bool(b), Kind::Bool) => Some(b.to_string()),
            (Value::Object(_), Kind::EffortRules) => Some(v.to_string()),
            _ => {
                errors.push(FieldError {
                    field: k.clone(),
                    message: "has the wrong type".into(),
                });
                continue;
            }
        };
        values.insert(k, text);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(validation(errors))
    }
}

/// Every row of a catalog (coverage-scenes, deliverables, editing-styles, operator-types,
/// billable-items, task-templates, default-components, style-requirements, task-recipes).
#[utoipa::path(get, path = "/api/v1/catalog/{catalog}", tag = "catalog",
    params(("catalog" = String, Path, description = "Catalog slug, e.g. coverage-scenes")),
    responses((status = 200, body = Vec<Object>), (status = 404, body = crate::http::error::Problem)))]
async fn api_list(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<Vec<Value>>> {
    let c = catalog(&slug)?;
    Ok(Json(
        list(&state.db, c)
            .await?
            .iter()
            .map(|r| r.to_json(c))
            .collect(),
    ))
}

/// One row of a catalog.
#[utoipa::path(get, path = "/api/v1/catalog/{catalog}/{id}", tag = "catalog",
    params(("catalog" = String, Path), ("id" = i32, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::http::error::Problem)))]
async fn api_get(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, i32)>,
) -> AppResult<Json<Value>> {
    let c = catalog(&slug)?;
    Ok(Json(get(&state.db, c, id).await?.to_json(c)))
}

/// Add a row. Decimals may be sent as strings ("150.00") or numbers.
#[utoipa::path(post, path = "/api/v1/catalog/{catalog}", tag = "catalog",
    params(("catalog" = String, Path)), request_body = Object,
    responses((status = 201, body = Object), (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
async fn api_create(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = catalog(&slug)?;
    let values = from_json(c, body)?;
    let mut tx = state.db.begin().await?;
    let row = create(&mut tx, c, &values, staff.contributor_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.to_json(c))))
}

/// Replace a row's fields (every writable field; missing ones become empty).
#[utoipa::path(put, path = "/api/v1/catalog/{catalog}/{id}", tag = "catalog",
    params(("catalog" = String, Path), ("id" = i32, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
async fn api_update(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((slug, id)): ApiPath<(String, i32)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let c = catalog(&slug)?;
    let values = from_json(c, body)?;
    let mut tx = state.db.begin().await?;
    let row = update(&mut tx, c, id, &values, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(Json(row.to_json(c)))
}

/// Delete a row that nothing uses (409 naming what uses it otherwise).
#[utoipa::path(delete, path = "/api/v1/catalog/{catalog}/{id}", tag = "catalog",
    params(("catalog" = String, Path), ("id" = i32, Path)),
    responses((status = 204), (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem)))]
async fn api_delete(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((slug, id)): ApiPath<(String, i32)>,
) -> AppResult<StatusCode> {
    let c = catalog(&slug)?;
    let mut tx = state.db.begin().await?;
    delete(&mut tx, c, id, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

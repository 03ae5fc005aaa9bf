//! The studio's payment schedule templates (`payment_schedules`): the list, one, the one a
//! quote pays by, saving and deleting (audited). The built-in template follows the studio
//! settings' deposit and balance (its parts are made from them when read). The rule that
//! turns a template into instalments is `crate::schedule`, pure.
use crate::error::{AppError, AppResult};
use crate::schedule::{Part, deposit_and_balance};
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// A template as the studio keeps it.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: i32,
    pub name: String,
    /// The built-in one follows the studio settings' deposit and balance.
    pub builtin: bool,
    pub parts: Vec<Part>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i32,
    name: String,
    builtin: bool,
    parts: sqlx::types::Json<Vec<Part>>,
    deposit_percent: Decimal,
    balance_due_days_before_wedding: i32,
}

impl From<Row> for Template {
    fn from(r: Row) -> Self {
        let parts = if r.builtin {
            deposit_and_balance(r.deposit_percent, r.balance_due_days_before_wedding)
        } else {
            r.parts.0
        };
        Template {
            id: r.id,
            name: r.name,
            builtin: r.builtin,
            parts,
        }
    }
}

const SELECT: &str = "SELECT t.id, t.name, t.builtin, t.parts, s.deposit_percent,
    s.balance_due_days_before_wedding
    FROM payment_schedules t CROSS JOIN studio_settings s";

/// Every template, the built-in one first, then by name.
pub async fn list(conn: &mut PgConnection) -> AppResult<Vec<Template>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY t.builtin DESC, t.name, t.id"))
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(Template::from).collect())
}

/// One template (404 when there is none).
pub async fn get(conn: &mut PgConnection, id: i32) -> AppResult<Template> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(Template::from)
        .ok_or_else(|| AppError::not_found(&format!("payment schedule {id}")))
}

/// The template a quote pays by: its own choice, else the built-in one.
pub async fn of_build(conn: &mut PgConnection, build: i32) -> AppResult<Template> {
    let row: Row = sqlx::query_as(&format!(
        "{SELECT} WHERE t.id = COALESCE(
            (SELECT payment_schedule_id FROM builds WHERE id = $1),
            (SELECT id FROM payment_schedules WHERE builtin))"
    ))
    .bind(build)
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

/// The templates a quote may choose: (id, name, whether it is the quote's), the built-in one
/// first (the quote's when it chose none).
pub async fn choices(conn: &mut PgConnection, build: i32) -> AppResult<Vec<(i32, String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.name, t.id = COALESCE(b.payment_schedule_id,
                (SELECT id FROM payment_schedules WHERE builtin))
         FROM payment_schedules t LEFT JOIN builds b ON b.id = $1
         ORDER BY t.builtin DESC, t.name, t.id",
    )
    .bind(build)
    .fetch_all(conn)
    .await?)
}

/// Save a template (new when `id` is None), its parts already checked. A name taken is a 422
/// by the field. Audited.
pub async fn save(
    tx: &mut PgConnection,
    id: Option<i32>,
    name: &str,
    parts: &[Part],
    actor: i32,
) -> AppResult<i32> {
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payment_schedules
                        WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(AppError::field("name", "another schedule has this name"));
    }
    let json = serde_json::to_value(parts).map_err(anyhow::Error::from)?;
    let saved: i32 = match id {
        None => {
            sqlx::query_scalar(
                "INSERT INTO payment_schedules (name, parts) VALUES ($1, $2) RETURNING id",
            )
            .bind(name)
            .bind(&json)
            .fetch_one(&mut *tx)
            .await?
        }
        Some(id) => sqlx::query_scalar(
            "UPDATE payment_schedules SET name = $2, parts = $3, updated_at = now()
                 WHERE id = $1 AND NOT builtin RETURNING id",
        )
        .bind(id)
        .bind(name)
        .bind(&json)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("payment schedule {id}")))?,
    };
    let action = if id.is_some() {
        "payment_schedules.update"
    } else {
        "payment_schedules.create"
    };
    let details = serde_json::json!({ "name": name, "parts": json });
    crate::audit::record(
        tx,
        Some(actor),
        action,
        "payment_schedule",
        Some(saved),
        details,
    )
    .await?;
    Ok(saved)
}

/// Delete a template no quote pays by (409 when one does). Audited.
pub async fn delete(tx: &mut PgConnection, id: i32, actor: i32) -> AppResult<()> {
    let t = get(tx, id).await?;
    let used: i64 =
        sqlx::query_scalar("SELECT count(*) FROM builds WHERE payment_schedule_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if used > 0 {
        return Err(AppError::Conflict(format!(
            "{used} quote(s) pay by \"{}\": choose another schedule for them first",
            t.name
        )));
    }
    sqlx::query("DELETE FROM payment_schedules WHERE id = $1 AND NOT builtin")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({ "name": t.name });
    crate::audit::record(
        tx,
        Some(actor),
        "payment_schedules.delete",
        "payment_schedule",
        Some(id),
        details,
    )
    .await?;
    Ok(())
}

//! Communications: the calls, emails and meetings logged with a couple.
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::page;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

pub const TYPES: [&str; 3] = ["Call", "Email", "Meeting"];

/// One of `TYPES`, as the API's document says it.
pub fn type_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(TYPES))
        .build()
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Communication {
    pub id: i32,
    pub communication_date: DateTime<Utc>,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub notes: Option<String>,
}

/// A page of a couple's communications, newest first by (date, id), from the cursor on; the
/// next page's cursor when more follow.
pub async fn of_contact(
    conn: &mut PgConnection,
    contact: i32,
    after: Option<page::After>,
) -> AppResult<(Vec<Communication>, Option<page::After>)> {
    let rows: Vec<Communication> = sqlx::query_as(
        "SELECT id, communication_date, type, notes FROM communications_log
         WHERE contact_id = $1
           AND (communication_date, id)
               < (COALESCE($2::timestamptz, 'infinity'), COALESCE($3::int, 2147483647))
         ORDER BY communication_date DESC, id DESC LIMIT $4",
    )
    .bind(contact)
    .bind(after.map(|a| a.at))
    .bind(after.map(|a| a.id))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |c| page::After {
        at: c.communication_date,
        id: c.id,
    }))
}

/// One of `TYPES`, and notes of 1 to 5000 characters (422 otherwise).
fn check(kind: &str, notes: &str) -> AppResult<()> {
    if !TYPES.contains(&kind) {
        return Err(AppError::field("type", "choose Call, Email or Meeting"));
    }
    if notes.trim().is_empty() || notes.chars().count() > 5000 {
        return Err(AppError::field(
            "notes",
            "write what was said (up to 5000 characters)",
        ));
    }
    Ok(())
}

/// Log a call, email or meeting with the inquiry's contact: 422 for another type or empty
/// notes, then 404 when there is no such inquiry.
pub async fn log(
    tx: &mut PgConnection,
    inquiry: i32,
    kind: &str,
    notes: &str,
    actor: i32,
) -> AppResult<Communication> {
    check(kind, notes)?;
    let contact: Option<i32> = sqlx::query_scalar("SELECT contact_id FROM inquiries WHERE id = $1")
        .bind(inquiry)
        .fetch_optional(&mut *tx)
        .await?;
    let contact = contact.ok_or_else(|| AppError::not_found(&format!("inquiry {inquiry}")))?;
    let logged: Communication = sqlx::query_as(
        "INSERT INTO communications_log (contact_id, type, notes) VALUES ($1, $2, $3)
         RETURNING id, communication_date, type, notes",
    )
    .bind(contact)
    .bind(kind)
    .bind(notes.trim())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE inquiries SET updated_at = now() WHERE id = $1")
        .bind(inquiry)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({ "type": kind });
    audit::record(
        tx,
        Some(actor),
        "leads.communication.log",
        "inquiry",
        Some(inquiry),
        details,
    )
    .await?;
    Ok(logged)
}

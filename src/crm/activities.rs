//! Activities: to-dos (follow-ups) with their assignee and whether they are overdue, completing
//! and reassigning them, and the team they can be given to.
use crate::audit;
use crate::auth::{Permission, Staff};
use crate::error::{AppError, AppResult};
use crate::page;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct ActivityRow {
    pub id: i32,
    pub title: String,
    pub activity_type: String,
    pub due_date: Option<NaiveDate>,
    pub status: String,
    pub assignee_id: i32,
    pub assignee: String,
    pub inquiry_id: Option<i32>,
    pub contact_name: Option<String>,
    pub overdue: bool,
}

/// The columns of an activity row; `$now` (the clock's instant) decides "overdue": due before
/// the studio's local date at that instant.
const SELECT: &str = "
    SELECT a.id, a.title, a.activity_type::text AS activity_type, a.due_date,
           a.status::text AS status, a.assigned_to_contributor_id AS assignee_id,
           trim(concat_ws(' ', sc.first_name, sc.last_name)) AS assignee, a.inquiry_id,
           trim(concat_ws(' ', c.first_name, c.last_name)) AS contact_name,
           COALESCE(a.status = 'Pending' AND a.due_date
              < ($now::timestamptz AT TIME ZONE (SELECT time_zone FROM studio_settings))::date,
              false)
           AS overdue
    FROM activities a JOIN contributors co ON co.id = a.assigned_to_contributor_id
    JOIN contacts sc ON sc.id = co.contact_id
    LEFT JOIN contacts c ON c.id = a.contact_id";

/// A page of the pending to-dos of one person (or everyone's overdue ones), overdue first, then
/// by due date (none last), then id, from the `after` cursor on (422 naming it when it is not
/// one); the next page's cursor. Overdue is due before today, so the due date alone orders them.
pub async fn todos(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    who: Option<i32>,
    only_overdue: bool,
    after: Option<&str>,
) -> AppResult<(Vec<ActivityRow>, Option<page::Key>)> {
    let after = page::Key::parse(after, 1)?;
    // The cursor's due date: empty (or anything not a date: every well-formed cursor names a
    // place in the list) for a to-do without one, sorted after every date.
    let due = after
        .as_ref()
        .and_then(|a| a.text(0).parse::<NaiveDate>().ok());
    let select = SELECT.replace("$now", "$3");
    let rows: Vec<ActivityRow> = sqlx::query_as(&format!(
        "SELECT * FROM ({select}
             WHERE a.status = 'Pending'
               AND ($1::int IS NULL OR a.assigned_to_contributor_id = $1)
               AND ($4::int IS NULL OR (COALESCE(a.due_date, 'infinity'::date), a.id)
                                       > (COALESCE($5::date, 'infinity'::date), $4))) x
         WHERE NOT $2 OR overdue
         ORDER BY COALESCE(due_date, 'infinity'::date), id LIMIT $6"
    ))
    .bind(who)
    .bind(only_overdue)
    .bind(now)
    .bind(after.as_ref().map(|a| a.id))
    .bind(due)
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |a| page::Key {
        keys: vec![a.due_date.map(|d| d.to_string()).unwrap_or_default()],
        id: a.id,
    }))
}

/// Every activity of an inquiry: pending first, then by due date.
pub async fn of_inquiry(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    inquiry: i32,
) -> AppResult<Vec<ActivityRow>> {
    let select = SELECT.replace("$now", "$2");
    Ok(sqlx::query_as(&format!(
        "{select} WHERE a.inquiry_id = $1 ORDER BY a.status, a.due_date NULLS LAST, a.id"
    ))
    .bind(inquiry)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// The active team: contributor id and name, by name (whom a to-do can be given to).
pub async fn team(conn: &mut PgConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active ORDER BY 2",
    )
    .fetch_all(conn)
    .await?)
}

/// Complete an activity (anyone with the lead permission, or its assignee).
pub async fn complete(tx: &mut PgConnection, id: i32, staff: &Staff) -> AppResult<()> {
    let row: Option<(i32, String)> = sqlx::query_as(
        "SELECT assigned_to_contributor_id, status::text FROM activities WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (assignee, status) = row.ok_or_else(|| AppError::not_found(&format!("activity {id}")))?;
    if assignee != staff.contributor_id && !staff.can(Permission::LeadsEdit) {
        return Err(AppError::not_found(&format!("activity {id}")));
    }
    if status == "Completed" {
        return Err(AppError::Conflict("this to-do is already done".into()));
    }
    sqlx::query("UPDATE activities SET status = 'Completed', completed_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({});
    let actor = Some(staff.contributor_id);
    audit::record(
        tx,
        actor,
        "leads.activity.complete",
        "activity",
        Some(id),
        details,
    )
    .await?;
    Ok(())
}

/// Complete the inquiry's follow-up to-do (the one intake made, `is_follow_up`) if it is still
/// pending, in the caller's transaction, audited as `leads.activity.complete`; no other to-do
/// is touched. True when it was pending and is now done.
pub async fn complete_follow_up(
    tx: &mut PgConnection,
    inquiry: i32,
    actor: i32,
) -> AppResult<bool> {
    let done: Option<i32> = sqlx::query_scalar(
        "UPDATE activities SET status = 'Completed', completed_at = now()
         WHERE inquiry_id = $1 AND is_follow_up AND status = 'Pending' RETURNING id",
    )
    .bind(inquiry)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = done else {
        return Ok(false);
    };
    let details =
        serde_json::json!({ "inquiry": inquiry, "reason": "the lead moved to Contacted" });
    audit::record(
        tx,
        Some(actor),
        "leads.activity.complete",
        "activity",
        Some(id),
        details,
    )
    .await?;
    Ok(true)
}

/// Give an activity to another active staff member: 404 when there is no such activity, then
/// 404 naming `assignee` when no team member has that id, 409 when they are inactive.
pub async fn reassign(tx: &mut PgConnection, id: i32, to: i32, actor: i32) -> AppResult<()> {
    let before: Option<i32> = sqlx::query_scalar(
        "SELECT assigned_to_contributor_id FROM activities WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let before = before.ok_or_else(|| AppError::not_found(&format!("activity {id}")))?;
    let active: Option<bool> =
        sqlx::query_scalar("SELECT is_active FROM staff_credentials WHERE contributor_id = $1")
            .bind(to)
            .fetch_optional(&mut *tx)
            .await?;
    match active {
        None => {
            let message = format!("there is no team member {to}");
            return Err(AppError::unknown_ref("assignee", message));
        }
        Some(false) => {
            return Err(AppError::Conflict(
                "this team member is inactive; choose an active one".into(),
            ));
        }
        Some(true) => {}
    }
    sqlx::query("UPDATE activities SET assigned_to_contributor_id = $2 WHERE id = $1")
        .bind(id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    let details =
        serde_json::json!({ "before": { "assignee": before }, "after": { "assignee": to } });
    audit::record(
        tx,
        Some(actor),
        "leads.activity.reassign",
        "activity",
        Some(id),
        details,
    )
    .await?;
    Ok(())
}

//! Postponement: a booked wedding moves to another day, and the due dates of its unpaid
//! instalments that follow the wedding (`invoices.due_rule` before_wedding or monthly, not Paid,
//! Void or Draft, not credit notes) move with it, by their own rule from the new day (never
//! before the booking day, nor before today). `plan` says what would change (the page shows it
//! first); `apply` does it in one transaction, the project and its invoices locked, audited.
//! The shoot day's times and crew assignments move with the wedding (`calendar::crew`); a crew
//! member who is not free on the new day refuses the move, naming who, when and why. The
//! workflow steps still ahead are re-timed from the new day (`workflows::follow_wedding`).
use super::status::{self, InvoiceStatus};
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::schedule::{self, Due};
use crate::studio::Studio;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;

/// The project as a postponement reads it.
#[derive(sqlx::FromRow)]
pub struct Project {
    pub id: i32,
    pub project_name: Option<String>,
    pub wedding_date: NaiveDate,
    pub booking_date: Option<NaiveDate>,
}

/// One invoice whose due date moves.
#[derive(Debug, Clone, Serialize)]
pub struct Move {
    pub invoice: i32,
    pub number: String,
    pub description: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Its status once moved (an overdue one due later is no longer overdue).
    #[serde(skip)]
    pub status: InvoiceStatus,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i32,
    invoice_number: Option<String>,
    description: Option<String>,
    due_date: Option<NaiveDate>,
    due_rule: String,
    due_days: Option<i32>,
    due_months: Option<i32>,
    total_amount: Decimal,
    amount_paid: Decimal,
}

pub async fn project(conn: &mut PgConnection, id: i32, lock: bool) -> AppResult<Project> {
    let sql = format!(
        "SELECT id, project_name, wedding_date, booking_date FROM projects WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("project {id}")))
}

/// The new wedding day checked: a date (YYYY-MM-DD), from today on, not the day it is.
pub fn parse_day(text: &str, p: &Project, today: NaiveDate) -> AppResult<NaiveDate> {
    let day = crate::dates::parse(text.trim())
        .map_err(|_| AppError::field("wedding_date", "a date as YYYY-MM-DD"))?;
    if day < today {
        return Err(AppError::field(
            "wedding_date",
            "the new wedding date is today or later",
        ));
    }
    if day == p.wedding_date {
        return Err(AppError::field(
            "wedding_date",
            "that is the wedding date already",
        ));
    }
    Ok(day)
}

/// What moving the wedding of `p` to `to` changes: each unpaid wedding-relative invoice's due
/// date before and after (those whose date would not change are left out). With `lock`, the
/// invoices are locked in id order.
pub async fn plan(
    conn: &mut PgConnection,
    p: &Project,
    to: NaiveDate,
    today: NaiveDate,
    lock: bool,
) -> AppResult<Vec<Move>> {
    let sql = format!(
        "SELECT id, invoice_number, description, due_date, due_rule, due_days, due_months,
                total_amount, COALESCE(amount_paid, 0) AS amount_paid
         FROM invoices
         WHERE project_id = $1 AND due_rule IN ('before_wedding', 'monthly')
           AND status IN ('Sent', 'Partially Paid', 'Overdue') AND total_amount > 0
         ORDER BY id{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows: Vec<Row> = sqlx::query_as(&sql).bind(p.id).fetch_all(conn).await?;
    let booked = p.booking_date.unwrap_or(today);
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let days = r.due_days.unwrap_or(0);
            let rule = match r.due_rule.as_str() {
                "monthly" => Due::Monthly { days },
                _ => Due::BeforeWedding { days },
            };
            let to = schedule::due_day(rule, r.due_months.unwrap_or(0), booked, to).max(today);
            let from = r.due_date?;
            (from != to).then(|| Move {
                invoice: r.id,
                number: r.invoice_number.unwrap_or_else(|| format!("#{}", r.id)),
                description: r.description.unwrap_or_default(),
                from,
                to,
                status: status::status(r.total_amount, r.amount_paid, Some(to), today, false),
            })
        })
        .collect())
}

/// Move the wedding and the due dates, in the caller's transaction: the project row locked,
/// then its invoices in id order; the inquiry's wedding date follows; each moved invoice's
/// status is worked out again (an overdue one due later is no longer overdue); the due days of
/// the project's unfinished tasks move by as many days as the wedding. Audited.
pub async fn apply(
    tx: &mut PgConnection,
    clock: &Clock,
    studio: &Studio,
    project_id: i32,
    new_day: &str,
    actor: i32,
) -> AppResult<Vec<Move>> {
    let today = clock.today(&studio.time_zone);
    let p = project(tx, project_id, true).await?;
    let to = parse_day(new_day, &p, today)?;
    let moves = plan(tx, &p, to, today, true).await?;
    sqlx::query("UPDATE projects SET wedding_date = $2 WHERE id = $1")
        .bind(p.id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE inquiries SET wedding_date = $2
         WHERE id IN (SELECT inquiry_id FROM builds WHERE project_id = $1)",
    )
    .bind(p.id)
    .bind(to)
    .execute(&mut *tx)
    .await?;
    // The project's unfinished tasks move by as many days as the wedding.
    let shift = (to - p.wedding_date).num_days();
    let tasks_moved = crate::production::tasks::shift_due_dates(tx, p.id, shift).await?;
    // The shoot day's schedule and crew move with the wedding (a clash refuses it all).
    crate::calendar::crew::follow_wedding(
        tx,
        &studio.time_zone,
        p.id,
        (p.wedding_date, to),
        clock.now(),
    )
    .await?;
    // Open questionnaires due before the wedding and the workflow's future timed steps follow.
    crate::workflows::follow_wedding(tx, studio, p.id, clock.now()).await?;
    // One statement for every moved invoice.
    let ids: Vec<i32> = moves.iter().map(|m| m.invoice).collect();
    let days: Vec<NaiveDate> = moves.iter().map(|m| m.to).collect();
    let statuses: Vec<&str> = moves.iter().map(|m| m.status.as_str()).collect();
    sqlx::query(
        "UPDATE invoices i SET due_date = m.due, status = m.status
         FROM unnest($1::int[], $2::date[], $3::text[]) AS m(id, due, status)
         WHERE i.id = m.id",
    )
    .bind(&ids)
    .bind(&days)
    .bind(&statuses)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "projects.postpone",
        "project",
        Some(p.id),
        serde_json::json!({
            "from": p.wedding_date,
            "to": to,
            "moved": moves,
            "tasks_moved": tasks_moved,
        }),
    )
    .await?;
    Ok(moves)
}

//! What the staff invoice page shows beside its money: the tax in it, the reminders sent, the
//! wedding's money as a whole (invoiced, paid, balance), and whether this person may move the
//! wedding date (the postponement page).
use crate::auth::{Permission, Staff};
use crate::error::AppResult;
use crate::studio::Studio;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

pub struct Extras {
    /// "Tax included: $82.50" (None without tax).
    pub tax: Option<String>,
    /// "Reminder sent on Nov 21, 2026 (7 days before due)", oldest first.
    pub reminders: Vec<String>,
    pub may_postpone: bool,
    /// The project's issued invoices together: (invoiced, paid, balance), in the currency.
    pub project: (String, String, String),
}

pub async fn load(
    conn: &mut PgConnection,
    staff: &Staff,
    studio: &Studio,
    invoice: i32,
) -> AppResult<Extras> {
    let tax: Decimal = sqlx::query_scalar("SELECT tax_amount FROM invoices WHERE id = $1")
        .bind(invoice)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_default();
    let sent: Vec<(DateTime<Utc>, String)> = sqlx::query_as(
        "SELECT sent_at, stage FROM invoice_reminders WHERE invoice_id = $1 ORDER BY sent_at, id",
    )
    .bind(invoice)
    .fetch_all(&mut *conn)
    .await?;
    // Issued invoices only (not drafts, not void), credit notes netting out.
    let (invoiced, paid): (Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(i.total_amount), 0), COALESCE(sum(i.amount_paid), 0)
         FROM invoices i WHERE i.project_id = (SELECT project_id FROM invoices WHERE id = $1)
           AND i.status NOT IN ('Draft', 'Void')",
    )
    .bind(invoice)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Extras {
        project: (
            studio.money(invoiced),
            studio.money(paid),
            studio.money(invoiced - paid),
        ),
        tax: (!tax.is_zero()).then(|| studio.money(tax)),
        reminders: sent
            .iter()
            .map(|(at, stage)| {
                format!(
                    "Reminder sent on {} ({})",
                    studio.day(at),
                    super::reminders::stage_words(stage)
                )
            })
            .collect(),
        may_postpone: staff.can(Permission::BookingsManage),
    })
}

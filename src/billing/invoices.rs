//! Invoices: the staff list (newest first, one status or all, keyset pages), one invoice with
//! its payments and refunds, what is outstanding, sending a draft, voiding with a reason, and
//! `settle`: the one place an invoice's `amount_paid` and status and its build's `total_paid`
//! are rewritten from the payments and refunds.
use super::status::{self, InvoiceStatus};
use crate::audit;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::page;
use crate::studio::Studio;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// An invoice as the list, the page and the API show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Invoice {
    pub id: i32,
    pub invoice_number: Option<String>,
    pub project_id: i32,
    pub project_name: Option<String>,
    /// What it is for ("Deposit", "Balance", "Credit note: change order 3").
    pub description: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Negative for a credit note.
    #[schema(value_type = String)]
    pub total_amount: Decimal,
    /// Paid, net of refunds (a credit note: the credit applied, negative).
    #[schema(value_type = String)]
    pub amount_paid: Decimal,
    /// Still owed (a credit note: the credit left to apply, negative).
    #[schema(value_type = String)]
    pub owed: Decimal,
    #[schema(value_type = InvoiceStatus)]
    pub status: String,
    pub void_reason: Option<String>,
}

impl Invoice {
    pub fn status(&self) -> InvoiceStatus {
        self.status.parse().unwrap_or(InvoiceStatus::Sent)
    }

    pub fn is_credit_note(&self) -> bool {
        self.total_amount < Decimal::ZERO
    }

    /// The number, or "Invoice #id" for one without.
    pub fn title(&self) -> String {
        self.invoice_number
            .clone()
            .unwrap_or_else(|| format!("Invoice #{}", self.id))
    }
}

const COLUMNS: &str = "i.id, i.invoice_number, i.project_id, p.project_name, i.description,
    i.issue_date, i.due_date, i.total_amount, COALESCE(i.amount_paid, 0) AS amount_paid,
    CASE WHEN i.status = 'Void' THEN 0 ELSE i.total_amount - COALESCE(i.amount_paid, 0) END AS owed, COALESCE(i.status, 'Sent') AS status,
    i.void_reason";

/// The list's query: newest first from the cursor `$1` (the first page: from the largest id),
/// `$2` rows; with a status, only that one (`$3`). The status is compared inside row
/// comparisons with the order (status, id), so that even a generic plan can only serve it
/// from the index on (status, id), reading one page however rare the status: with a plain
/// `status = $3` PostgreSQL may walk the primary key and filter, reading every row of a
/// status that is seldom (or never) there.
pub fn list_sql(with_status: bool) -> String {
    let (filter, order) = if with_status {
        (
            "(i.status, i.id) < ($3, $1) AND (i.status, i.id) > ($3, 0)",
            "i.status DESC, i.id DESC",
        )
    } else {
        ("i.id < $1", "i.id DESC")
    };
    format!(
        "SELECT {COLUMNS} FROM invoices i JOIN projects p ON p.id = i.project_id
         WHERE {filter} ORDER BY {order} LIMIT $2"
    )
}

/// A page of invoices, newest first, after the cursor (a `page::Key` of the id alone); the
/// next page's cursor when more follow.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<InvoiceStatus>,
    after: Option<&str>,
) -> AppResult<(Vec<Invoice>, Option<page::Key>)> {
    let after = page::Key::parse(after, 0)?;
    let sql = list_sql(status.is_some());
    let query = sqlx::query_as(&sql)
        .bind(after.map_or(i32::MAX, |k| k.id))
        .bind(page::SIZE + 1);
    let query = match status {
        Some(s) => query.bind(s.as_str()),
        None => query,
    };
    let rows: Vec<Invoice> = query.fetch_all(conn).await?;
    Ok(page::split(rows, |i| page::Key {
        keys: vec![],
        id: i.id,
    }))
}

/// What is owed on open invoices, and of that what is overdue (credit notes left out).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Totals {
    pub outstanding: Decimal,
    pub overdue: Decimal,
}

/// Read along the partial index of open invoices only.
pub async fn totals(conn: &mut PgConnection) -> AppResult<Totals> {
    Ok(sqlx::query_as(
        "SELECT COALESCE(sum(total_amount - COALESCE(amount_paid, 0)), 0) AS outstanding,
                COALESCE(sum(total_amount - COALESCE(amount_paid, 0))
                         FILTER (WHERE status = 'Overdue'), 0) AS overdue
         FROM invoices
         WHERE status IN ('Sent', 'Partially Paid', 'Overdue') AND total_amount > 0",
    )
    .fetch_one(conn)
    .await?)
}

/// One invoice (404 when there is none).
pub async fn get(conn: &mut PgConnection, id: i32) -> AppResult<Invoice> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invoices i JOIN projects p ON p.id = i.project_id WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("invoice {id}")))
}

/// The quote (build) of an invoice's project, if it has one.
pub async fn build_of(conn: &mut PgConnection, project: i32) -> AppResult<Option<i32>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM builds WHERE project_id = $1 ORDER BY id LIMIT 1")
            .bind(project)
            .fetch_optional(conn)
            .await?,
    )
}

/// A payment on an invoice, with what has been refunded of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Payment {
    pub id: i32,
    pub invoice_id: i32,
    pub payment_date: DateTime<Utc>,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Cash, Cheque, Bank transfer, Card; or Credit (a credit note applied).
    pub method: String,
    /// The reference (unique across all payments).
    pub transaction_id: Option<String>,
    /// For a credit applied: the other invoice (the credit note, or the invoice it paid).
    pub credit_invoice_id: Option<i32>,
    pub credit_invoice_number: Option<String>,
    #[schema(value_type = String)]
    pub refunded: Decimal,
}

impl Payment {
    /// What can still be refunded of it (nothing of a credit applied).
    pub fn refundable(&self) -> Decimal {
        if self.method == "Credit" {
            Decimal::ZERO
        } else {
            self.amount - self.refunded
        }
    }
}

/// A refund of a payment.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Refund {
    pub id: i32,
    pub payment_id: i32,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub refund_date: DateTime<Utc>,
    pub reason: String,
}

/// The payments of an invoice, oldest first.
pub async fn payments(conn: &mut PgConnection, invoice: i32) -> AppResult<Vec<Payment>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.invoice_id, p.payment_date, p.amount, p.payment_method AS method,
                p.transaction_id, p.credit_invoice_id, ci.invoice_number AS credit_invoice_number,
                COALESCE((SELECT sum(r.amount) FROM payment_refunds r WHERE r.payment_id = p.id),
                         0) AS refunded
         FROM payments p LEFT JOIN invoices ci ON ci.id = p.credit_invoice_id
         WHERE p.invoice_id = $1 ORDER BY p.payment_date, p.id",
    )
    .bind(invoice)
    .fetch_all(conn)
    .await?)
}

/// The refunds of an invoice's payments, oldest first.
pub async fn refunds(conn: &mut PgConnection, invoice: i32) -> AppResult<Vec<Refund>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.payment_id, r.amount, r.refund_date, r.reason
         FROM payment_refunds r JOIN payments p ON p.id = r.payment_id
         WHERE p.invoice_id = $1 ORDER BY r.refund_date, r.id",
    )
    .bind(invoice)
    .fetch_all(conn)
    .await?)
}

/// An invoice locked for a change of its money.
#[derive(Debug, sqlx::FromRow)]
pub struct Locked {
    pub id: i32,
    pub project_id: i32,
    pub invoice_number: Option<String>,
    pub total_amount: Decimal,
    pub amount_paid: Decimal,
    pub due_date: Option<NaiveDate>,
    pub status: String,
}

impl Locked {
    pub fn status(&self) -> InvoiceStatus {
        self.status.parse().unwrap_or(InvoiceStatus::Sent)
    }

    pub fn owed(&self) -> Decimal {
        status::owed(self.total_amount, self.amount_paid)
    }

    pub fn title(&self) -> String {
        self.invoice_number
            .clone()
            .unwrap_or_else(|| format!("invoice #{}", self.id))
    }
}

pub const LOCKED_COLUMNS: &str = "id, project_id, invoice_number, total_amount,
    COALESCE(amount_paid, 0) AS amount_paid, due_date, COALESCE(status, 'Sent') AS status";

/// Lock an invoice (`SELECT ... FOR UPDATE`): payments, refunds and void of one invoice run
/// one after another. 404 when there is none.
pub async fn lock(tx: &mut PgConnection, id: i32) -> AppResult<Locked> {
    sqlx::query_as(&format!(
        "SELECT {LOCKED_COLUMNS} FROM invoices WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("invoice {id}")))
}

/// Lock the project's build row, after the invoices (always in that order, so that two
/// changes of one project's money never wait for each other in a circle). Every writer of a
/// project's payments holds it until commit, so the sums `settle` reads next are complete.
pub async fn lock_build(tx: &mut PgConnection, project: i32) -> AppResult<()> {
    sqlx::query("SELECT id FROM builds WHERE project_id = $1 ORDER BY id FOR UPDATE")
        .bind(project)
        .fetch_all(tx)
        .await?;
    Ok(())
}

/// What an invoice comes to after a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Settled {
    pub invoice_id: i32,
    #[schema(value_type = InvoiceStatus)]
    pub status: String,
    #[schema(value_type = String)]
    pub amount_paid: Decimal,
    #[schema(value_type = String)]
    pub owed: Decimal,
}

/// Rewrite the invoice's `amount_paid` (its payments less their refunds) and status (by
/// `status::status` on the studio's `today`), then its project's builds' `total_paid` (the
/// sum over the project's invoices). Call with the invoice and the build locked, in the
/// transaction of the change.
pub async fn settle(
    tx: &mut PgConnection,
    invoice: &Locked,
    today: NaiveDate,
) -> AppResult<Settled> {
    let paid: Decimal = sqlx::query_scalar(
        "SELECT COALESCE((SELECT sum(amount) FROM payments WHERE invoice_id = $1), 0)
              - COALESCE((SELECT sum(r.amount) FROM payment_refunds r
                          JOIN payments p ON p.id = r.payment_id WHERE p.invoice_id = $1), 0)",
    )
    .bind(invoice.id)
    .fetch_one(&mut *tx)
    .await?;
    let now = invoice.status();
    let status = if now == InvoiceStatus::Draft {
        now
    } else {
        let void = now == InvoiceStatus::Void;
        status::status(invoice.total_amount, paid, invoice.due_date, today, void)
    };
    sqlx::query("UPDATE invoices SET amount_paid = $2, status = $3 WHERE id = $1")
        .bind(invoice.id)
        .bind(paid)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE builds SET total_paid = (SELECT COALESCE(sum(amount_paid), 0) FROM invoices
                                         WHERE project_id = $1)
         WHERE project_id = $1",
    )
    .bind(invoice.project_id)
    .execute(&mut *tx)
    .await?;
    Ok(Settled {
        invoice_id: invoice.id,
        status: status.as_str().to_string(),
        amount_paid: paid,
        owed: status::owed(invoice.total_amount, paid),
    })
}

/// Send a draft: issued today, its status from the rule.
pub async fn send(
    tx: &mut PgConnection,
    clock: &Clock,
    studio: &Studio,
    id: i32,
    actor: Option<i32>,
) -> AppResult<Settled> {
    let mut inv = lock(tx, id).await?;
    if inv.status() != InvoiceStatus::Draft {
        return Err(AppError::Conflict(format!(
            "{} is {}: only a draft is sent",
            inv.title(),
            inv.status
        )));
    }
    let today = clock.today(&studio.time_zone);
    sqlx::query("UPDATE invoices SET status = 'Sent', issue_date = $2 WHERE id = $1")
        .bind(id)
        .bind(today)
        .execute(&mut *tx)
        .await?;
    inv.status = "Sent".into();
    lock_build(tx, inv.project_id).await?;
    let settled = settle(tx, &inv, today).await?;
    audit::record(
        tx,
        actor,
        "invoices.send",
        "invoice",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(settled)
}

/// Void an invoice with a reason. One with payments (net of refunds, or credit applied) is
/// refused until they are refunded; voiding twice is a 409.
pub async fn void(
    tx: &mut PgConnection,
    clock: &Clock,
    id: i32,
    reason: &str,
    actor: Option<i32>,
) -> AppResult<()> {
    let inv = lock(tx, id).await?;
    if inv.status() == InvoiceStatus::Void {
        return Err(AppError::Conflict(format!(
            "{} is already void",
            inv.title()
        )));
    }
    let (sent, reason) = (reason, reason.trim());
    if reason.is_empty() || sent.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            "say why the invoice is void (up to 500 characters)",
        ));
    }
    if !inv.amount_paid.is_zero() {
        return Err(AppError::Conflict(format!(
            "{} has payments or credit of {} on it: refund them before voiding it",
            inv.title(),
            inv.amount_paid
        )));
    }
    sqlx::query(
        "UPDATE invoices SET status = 'Void', voided_at = $2, voided_by = $3, void_reason = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(clock.now())
    .bind(actor)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        actor,
        "invoices.void",
        "invoice",
        Some(id),
        serde_json::json!({ "reason": reason, "number": inv.invoice_number }),
    )
    .await?;
    Ok(())
}

/// The overdue sweep (`projectflo jobs invoices`): open invoices past their due date with
/// something owed become Overdue; Overdue ones whose due date moved on (or that nothing is
/// owed on) go back to what the rule says. The same rule as `status::status`, in one
/// statement each, along the index of open invoices; running it twice changes nothing more.
/// Returns how many were marked overdue.
pub async fn sweep_overdue(tx: &mut PgConnection, today: NaiveDate) -> AppResult<Vec<i32>> {
    let marked: Vec<i32> = sqlx::query_scalar(
        "UPDATE invoices SET status = 'Overdue'
         WHERE status IN ('Sent', 'Partially Paid') AND total_amount > 0
           AND due_date < $1 AND COALESCE(amount_paid, 0) < total_amount
         RETURNING id",
    )
    .bind(today)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE invoices SET status = CASE WHEN COALESCE(amount_paid, 0) >= total_amount
                                            THEN 'Paid'
                                            WHEN COALESCE(amount_paid, 0) <> 0
                                            THEN 'Partially Paid' ELSE 'Sent' END
         WHERE status = 'Overdue'
           AND (due_date IS NULL OR due_date >= $1 OR COALESCE(amount_paid, 0) >= total_amount)",
    )
    .bind(today)
    .execute(&mut *tx)
    .await?;
    if !marked.is_empty() {
        audit::record(
            tx,
            None,
            "invoices.overdue",
            "invoice",
            None,
            serde_json::json!({ "today": today, "invoices": marked }),
        )
        .await?;
    }
    Ok(marked)
}

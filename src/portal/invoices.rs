//! The couple's invoices: those of their projects that were sent (a draft is the studio's).
use super::projects::OWN_PROJECTS;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// Invoices the couple sees: not drafts.
const SENT: &str = "COALESCE(status, 'Sent') <> 'Draft'";

#[derive(sqlx::FromRow)]
pub struct Invoice {
    pub id: i32,
    pub invoice_number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub total_amount: Decimal,
    pub amount_paid: Option<Decimal>,
    pub status: Option<String>,
    pub description: Option<String>,
    /// The tax included in the total.
    pub tax_amount: Decimal,
}

impl Invoice {
    /// What is still to pay (a credit note: the credit not yet applied, negative).
    pub fn owed(&self) -> Decimal {
        self.total_amount - self.amount_paid.unwrap_or_default()
    }
}

/// The client's invoices, by date of issue.
pub async fn for_client(conn: &mut PgConnection, client_id: i32) -> AppResult<Vec<Invoice>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, invoice_number, issue_date, due_date, total_amount, amount_paid, status,
                description, tax_amount
         FROM invoices WHERE project_id IN ({OWN_PROJECTS}) AND {SENT} ORDER BY issue_date, id"
    ))
    .bind(client_id)
    .fetch_all(conn)
    .await?)
}

/// One of the client's invoices (404 if it is not theirs).
pub async fn one(conn: &mut PgConnection, client_id: i32, id: i32) -> AppResult<Invoice> {
    let found: Option<Invoice> = sqlx::query_as(&format!(
        "SELECT id, invoice_number, issue_date, due_date, total_amount, amount_paid, status,
                description, tax_amount
         FROM invoices WHERE id = $2 AND project_id IN ({OWN_PROJECTS}) AND {SENT}"
    ))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| AppError::not_found("invoice"))
}

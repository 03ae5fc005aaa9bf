//! Credit notes: a negative invoice (a change order that lowers the price) reduces what the
//! couple owes. Its credit is applied to the project's next open invoices (earliest due first)
//! as a pair of payments with method 'Credit': `+amount` on the invoice it pays and `-amount` on
//! the credit note, each naming the other (`payments.credit_invoice_id`). So every invoice's
//! `amount_paid` stays the sum of its payments net of refunds, a credit note reads Paid once
//! all of it is applied, and the project's `total_paid` (money actually received) is
//! unchanged by an application: the pair cancels out.
use super::invoices::{self, LOCKED_COLUMNS, Locked};
use super::status::InvoiceStatus;
use crate::audit;
use crate::clock::Clock;
use crate::error::AppResult;
use crate::studio::Studio;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;

/// One application of credit.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub credit_note: i32,
    pub invoice: i32,
    pub amount: Decimal,
}

/// The credit left on a project's open credit notes (a positive amount; zero when none).
pub async fn available(conn: &mut PgConnection, project: i32) -> AppResult<Decimal> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(-sum(total_amount - COALESCE(amount_paid, 0)), 0) FROM invoices
         WHERE project_id = $1 AND total_amount < 0
           AND status IN ('Sent', 'Partially Paid', 'Overdue')",
    )
    .bind(project)
    .fetch_one(conn)
    .await?)
}

/// Apply the project's open credit notes to its open invoices, earliest due first (then by
/// number), as far as they go. The project's open invoices are locked in id order, then its
/// build, like every other change of its money. Returns what was applied (nothing when there
/// is no credit or nothing owed).
pub async fn apply(
    tx: &mut PgConnection,
    clock: &Clock,
    studio: &Studio,
    project: i32,
    actor: Option<i32>,
) -> AppResult<Vec<Applied>> {
    let open: Vec<Locked> = sqlx::query_as(&format!(
        "SELECT {LOCKED_COLUMNS} FROM invoices
         WHERE project_id = $1 AND status IN ('Sent', 'Partially Paid', 'Overdue')
         ORDER BY id FOR UPDATE"
    ))
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let mut credits: Vec<(&Locked, Decimal)> = open
        .iter()
        .filter(|i| i.total_amount < Decimal::ZERO && i.owed() < Decimal::ZERO)
        .map(|i| (i, -i.owed()))
        .collect();
    let mut targets: Vec<(&Locked, Decimal)> = open
        .iter()
        .filter(|i| i.total_amount > Decimal::ZERO && i.owed() > Decimal::ZERO)
        .map(|i| (i, i.owed()))
        .collect();
    targets.sort_by_key(|(i, _)| (i.due_date, i.id));
    let plan = plan(&mut credits, &mut targets);
    if plan.is_empty() {
        return Ok(vec![]);
    }
    invoices::lock_build(tx, project).await?;
    let now = clock.now();
    for a in &plan {
        sqlx::query(
            "INSERT INTO payments (invoice_id, payment_date, amount, payment_method,
                                   credit_invoice_id, recorded_at, recorded_by)
             VALUES ($1, $4, $3, 'Credit', $2, $4, $5), ($2, $4, -$3, 'Credit', $1, $4, $5)",
        )
        .bind(a.invoice)
        .bind(a.credit_note)
        .bind(a.amount)
        .bind(now)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit::record(
            tx,
            actor,
            "invoices.credit",
            "invoice",
            Some(a.invoice),
            serde_json::json!({ "credit_note": a.credit_note, "amount": a.amount }),
        )
        .await?;
    }
    let today = clock.today(&studio.time_zone);
    for inv in open.iter().filter(|i| {
        plan.iter()
            .any(|a| a.invoice == i.id || a.credit_note == i.id)
    }) {
        invoices::settle(tx, inv, today).await?;
    }
    Ok(plan)
}

/// Which credit goes to which invoice: each credit note in turn (oldest first) to the
/// invoices in order, as much as each still owes.
fn plan(credits: &mut [(&Locked, Decimal)], targets: &mut [(&Locked, Decimal)]) -> Vec<Applied> {
    let mut out = vec![];
    for (note, left) in credits.iter_mut() {
        for (inv, owed) in targets.iter_mut() {
            let amount = (*left).min(*owed);
            if amount <= Decimal::ZERO {
                continue;
            }
            *left -= amount;
            *owed -= amount;
            out.push(Applied {
                credit_note: note.id,
                invoice: inv.id,
                amount,
            });
        }
    }
    out
}

/// Whether an invoice could take credit now: open, owing, and its project holds credit.
pub fn can_take(status: InvoiceStatus, owed: Decimal, credit: Decimal) -> bool {
    status.is_open() && owed > Decimal::ZERO && credit > Decimal::ZERO
}

//! Payments by hand (cash, cheque, bank transfer, card) and refunds. Each runs with the invoice
//! row locked, then the project's build, so concurrent payments on one invoice run one after
//! another: a payment never exceeds what is still owed, a void or draft invoice takes none, and
//! `invoices.amount_paid` / `builds.total_paid` are rewritten from the sums in the same
//! transaction (`invoices::settle`). A transaction id (the reference) is accepted once across
//! all payments: checked for a clear answer, and guarded by a unique index under concurrency.
use super::invoices::{self, Settled};
use super::status::InvoiceStatus;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::notify;
use crate::studio::Studio;
use crate::{audit, dates, money};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

/// How a payment by hand was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = PaymentMethod)]
pub enum Method {
    Cash,
    Cheque,
    #[serde(rename = "Bank transfer")]
    BankTransfer,
    Card,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Cash,
        Method::Cheque,
        Method::BankTransfer,
        Method::Card,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Cash => "Cash",
            Method::Cheque => "Cheque",
            Method::BankTransfer => "Bank transfer",
            Method::Card => "Card",
        }
    }

    /// A form's value back into a method.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Words for a sentence: "by bank transfer".
    pub fn by(self) -> String {
        format!("by {}", self.as_str().to_lowercase())
    }
}

/// A payment to record, as typed or sent.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Decimal,
    /// The studio's local day it was paid (not after today).
    pub date: NaiveDate,
    pub method: Method,
    /// The reference: a cheque number, a bank reference. Accepted once.
    pub transaction_id: Option<String>,
}

/// An amount typed in a form or sent: more than 0, at most 2 decimals. `field` names it.
pub fn amount(field: &str, text: &str) -> AppResult<Decimal> {
    let bad = || AppError::field(field, "enter an amount more than 0, like 250 or 250.50");
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    let d: Decimal = cleaned.parse().map_err(|_| bad())?;
    let too_fine = money::cents(d) != d;
    if d <= Decimal::ZERO || too_fine || d >= Decimal::from(100_000_000) {
        return Err(bad());
    }
    Ok(money::cents(d))
}

/// A payment or refund date: a plausible date, not after `today`; empty is today.
pub fn day(field: &str, text: &str, today: NaiveDate) -> AppResult<NaiveDate> {
    if text.trim().is_empty() {
        return Ok(today);
    }
    let d = dates::parse(text).map_err(|m| AppError::field(field, m))?;
    if d > today {
        // Well-formed, refused by the day it is (409, as the state of the world).
        return Err(AppError::field_conflict(
            field,
            format!("it cannot be after today, {}", today.format("%B %-d, %Y")),
        ));
    }
    Ok(d)
}

/// A reference: trimmed, empty is none, at most 255 characters.
pub fn reference(text: Option<&str>) -> AppResult<Option<String>> {
    let raw = text.unwrap_or_default();
    let t = raw.trim();
    if raw.chars().count() > 255 || t.contains('\0') {
        return Err(AppError::field(
            "transaction_id",
            "a reference is at most 255 characters",
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// What recording a payment made: the payment, the invoice after it, and the emails to send
/// after the commit (the owner's, when the studio emails payments).
pub struct Recorded {
    pub payment_id: i32,
    pub invoice: Settled,
    pub mails: notify::Mails,
}

/// The 409 for a transaction id already recorded.
fn duplicate(reference: &str, on: Option<(i32, String)>) -> AppError {
    let on = on
        .map(|(id, number)| format!(" (payment #{id} on {number})"))
        .unwrap_or_default();
    AppError::Conflict(format!(
        "transaction id \"{reference}\" is already recorded{on}: a payment is recorded once; \
         nothing was changed"
    ))
}

/// Record a payment by hand on an invoice; notifies the Owner and the Bookkeeper.
pub async fn record(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    invoice: i32,
    p: &NewPayment,
    actor: Option<i32>,
) -> AppResult<Recorded> {
    let inv = invoices::lock(tx, invoice).await?;
    match inv.status() {
        InvoiceStatus::Void => {
            return Err(AppError::Conflict(format!(
                "{} is void: it takes no payment",
                inv.title()
            )));
        }
        InvoiceStatus::Draft => {
            return Err(AppError::Conflict(format!(
                "{} is a draft: send it before recording a payment",
                inv.title()
            )));
        }
        _ if inv.total_amount <= Decimal::ZERO => {
            return Err(AppError::Conflict(format!(
                "{} is a credit note: apply it to an open invoice instead of paying it",
                inv.title()
            )));
        }
        _ if inv.owed() <= Decimal::ZERO => {
            return Err(AppError::Conflict(format!(
                "{} is paid in full: nothing is owed",
                inv.title()
            )));
        }
        _ => {}
    }
    if p.amount > inv.owed() {
        return Err(AppError::field_conflict(
            "amount",
            format!(
                "at most {} is still owed on {}",
                studio.money(inv.owed()),
                inv.title()
            ),
        ));
    }
    if let Some(r) = &p.transaction_id {
        let on: Option<(i32, Option<String>)> = sqlx::query_as(
            "SELECT p.id, i.invoice_number FROM payments p JOIN invoices i ON i.id = p.invoice_id
             WHERE p.transaction_id = $1",
        )
        .bind(r)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, number)) = on {
            return Err(duplicate(r, Some((id, number.unwrap_or_default()))));
        }
    }
    invoices::lock_build(tx, inv.project_id).await?;
    let now = clock.now();
    let inserted = sqlx::query_scalar(
        "INSERT INTO payments (invoice_id, payment_date, amount, payment_method, transaction_id,
                               recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(invoice)
    .bind(dates::start_of_day(p.date, &studio.time_zone))
    .bind(p.amount)
    .bind(p.method.as_str())
    .bind(&p.transaction_id)
    .bind(now)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await;
    let payment_id: i32 = match inserted {
        Ok(id) => id,
        // Recorded by a concurrent request between the check and the insert.
        Err(e) if is_unique_violation(&e) => {
            return Err(duplicate(p.transaction_id.as_deref().unwrap_or(""), None));
        }
        Err(e) => return Err(e.into()),
    };
    let today = clock.today(&studio.time_zone);
    let settled = invoices::settle(tx, &inv, today).await?;
    audit::record(
        tx,
        actor,
        "invoices.payment",
        "invoice",
        Some(invoice),
        serde_json::json!({
            "payment": payment_id, "amount": p.amount, "method": p.method.as_str(),
            "transaction_id": p.transaction_id, "date": p.date, "status": settled.status,
        }),
    )
    .await?;
    let project: Option<String> =
        sqlx::query_scalar("SELECT project_name FROM projects WHERE id = $1")
            .bind(inv.project_id)
            .fetch_one(&mut *tx)
            .await?;
    let message = format!(
        "Payment of {} recorded on {} ({}) {}: {}.",
        studio.money(p.amount),
        inv.title(),
        project.unwrap_or_default(),
        p.method.by(),
        settled.status.to_lowercase()
    );
    let mails = notify::staff(
        tx,
        settings,
        now,
        notify::Kind::PaymentRecorded,
        &["Owner", "Bookkeeper"],
        &message,
        &format!("/invoices/{invoice}"),
    )
    .await?;
    Ok(Recorded {
        payment_id,
        invoice: settled,
        mails,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23505")
}

/// A refund to record against a payment.
#[derive(Clone, Copy)]
pub struct NewRefund<'a> {
    pub amount: Decimal,
    pub date: NaiveDate,
    pub reason: &'a str,
    /// Stripe's id of the refund, when it was made through Stripe (recorded once).
    pub stripe_refund_id: Option<&'a str>,
}

/// The payment a refund is checked against.
pub struct RefundTarget {
    pub invoice: i32,
    pub method: String,
    pub transaction_id: Option<String>,
    /// What was refunded of it before.
    pub refunded: Decimal,
}

/// Check a refund without changing anything: never more than the payment less its earlier
/// refunds; a credit applied is not refunded; a reason is given. `refund` checks it again with
/// the invoice locked; callers that must act before recording (a refund through Stripe) call
/// it first.
pub async fn check_refund(
    conn: &mut PgConnection,
    studio: &Studio,
    payment: i32,
    r: &NewRefund<'_>,
) -> AppResult<RefundTarget> {
    let row: Option<(i32, Decimal, String, Option<String>, Decimal)> = sqlx::query_as(
        "SELECT p.invoice_id, p.amount, p.payment_method, p.transaction_id,
                COALESCE((SELECT sum(amount) FROM payment_refunds WHERE payment_id = p.id), 0)
         FROM payments p WHERE p.id = $1",
    )
    .bind(payment)
    .fetch_optional(&mut *conn)
    .await?;
    let (invoice, amount, method, transaction_id, refunded) =
        row.ok_or_else(|| AppError::not_found(&format!("payment {payment}")))?;
    if method == "Credit" {
        return Err(AppError::Conflict(
            "a credit applied from a credit note is not refunded: no money was paid".into(),
        ));
    }
    let left = amount - refunded;
    if left <= Decimal::ZERO {
        return Err(AppError::Conflict(format!(
            "payment #{payment} is refunded in full already"
        )));
    }
    if r.amount > left {
        return Err(AppError::field_conflict(
            "amount",
            format!(
                "at most {} of this payment is left to refund",
                studio.money(left)
            ),
        ));
    }
    let reason = r.reason.trim();
    if reason.is_empty() || r.reason.chars().count() > 500 || reason.contains('\0') {
        return Err(AppError::field(
            "reason",
            "say why it is refunded (up to 500 characters)",
        ));
    }
    Ok(RefundTarget {
        invoice,
        method,
        transaction_id,
        refunded,
    })
}

/// Refund part or all of a payment, checked by `check_refund` with the invoice locked. The
/// invoice's status and totals follow.
pub async fn refund(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    payment: i32,
    r: &NewRefund<'_>,
    actor: Option<i32>,
) -> AppResult<(i32, Settled)> {
    let invoice: i32 = sqlx::query_scalar("SELECT invoice_id FROM payments WHERE id = $1")
        .bind(payment)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("payment {payment}")))?;
    let inv = invoices::lock(tx, invoice).await?;
    check_refund(tx, studio, payment, r).await?;
    let reason = r.reason.trim();
    invoices::lock_build(tx, inv.project_id).await?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO payment_refunds (payment_id, amount, refund_date, reason, recorded_at,
                                      recorded_by, stripe_refund_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(payment)
    .bind(r.amount)
    .bind(dates::start_of_day(r.date, &studio.time_zone))
    .bind(reason)
    .bind(clock.now())
    .bind(actor)
    .bind(r.stripe_refund_id)
    .fetch_one(&mut *tx)
    .await?;
    let settled = invoices::settle(tx, &inv, clock.today(&studio.time_zone)).await?;
    audit::record(
        tx,
        actor,
        "invoices.refund",
        "invoice",
        Some(invoice),
        serde_json::json!({
            "payment": payment, "refund": id, "amount": r.amount, "reason": reason,
            "status": settled.status, "stripe_refund": r.stripe_refund_id,
        }),
    )
    .await?;
    Ok((id, settled))
}

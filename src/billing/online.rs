//! Payments by card online through Stripe Checkout, and refunds through Stripe of what was paid
//! that way. Off unless Stripe is configured (`Settings::stripe`): then nothing here calls it.
//!
//! Paying: the couple's "Pay by card" makes a Checkout Session for what is still owed (Stripe
//! is called with no transaction open; the session is recorded after), and Stripe sends them
//! to its page. Stripe's `checkout.session.completed` webhook (and the couple's return, which
//! asks Stripe for the session) records the payment through `payments::record`, once: the
//! session row is locked and moves from open to paid once, and the PaymentIntent id is the
//! payment's `transaction_id`, unique. When the invoice was meanwhile paid (by hand, or
//! voided), what no longer fits is not recorded as a payment: it is kept on the session as
//! `unapplied`, and Owners and Bookkeepers are told to refund it.
//!
//! Refunding: a card payment whose reference is a Stripe PaymentIntent (`pi_...`) is refunded
//! at Stripe first (an Idempotency-Key made of the payment, what was refunded of it before and
//! the amount), then recorded with Stripe's refund id (unique). If Stripe refuses, nothing is
//! recorded. If recording fails after Stripe refunded, the same refund asked again gets the
//! same Stripe refund back (same key) and records it.
use super::invoices;
use super::payments::{self, Method, NewPayment, NewRefund};
use super::status::InvoiceStatus;
use super::stripe::{self, CheckoutSession, Client, NewCheckout, StripeError};
use crate::audit;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::notify;
use crate::studio::Studio;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// The 409 of the portal's "Pay by card" when the studio has not set Stripe up.
fn not_configured() -> AppError {
    AppError::Conflict(
        "paying by card is not set up by the studio: pay as the invoice says, or ask the studio"
            .into(),
    )
}

/// Whether card payments are on.
pub fn enabled(settings: &Settings) -> bool {
    settings.stripe().is_some()
}

/// Where Stripe's hosted payment pages are: its checkout origin, and the API's own origin
/// when another one is configured (a test fake serves both).
pub fn checkout_origins(settings: &Settings) -> String {
    let mut origins = "https://checkout.stripe.com".to_string();
    if let Ok(api) = url::Url::parse(&settings.stripe_api_base) {
        let origin = api.origin().ascii_serialization();
        if origin != "https://api.stripe.com" && !origin.contains(' ') && !origin.contains(';') {
            origins = format!("{origins} {origin}");
        }
    }
    origins
}

/// Who is paying, from the portal.
pub struct Payer<'a> {
    pub client_user_id: i32,
    pub email: &'a str,
}

/// Start paying what is owed on an invoice by card: a Checkout Session at Stripe, recorded
/// here; returns the address of Stripe's payment page. The caller has checked the invoice is
/// the couple's.
pub async fn checkout(
    db: &mut Db,
    settings: &Settings,
    clock: &Clock,
    invoice: i32,
    payer: &Payer<'_>,
) -> AppResult<String> {
    let stripe = settings.stripe().ok_or_else(not_configured)?;
    let i = invoices::get(db, invoice).await?;
    let studio = Studio::load(db).await?;
    if !i.status().is_open() || i.total_amount <= Decimal::ZERO || i.owed <= Decimal::ZERO {
        return Err(AppError::Conflict(format!(
            "{} is {}: nothing is owed on it to pay",
            i.title(),
            i.status.to_lowercase()
        )));
    }
    let currency = studio.currency_code.to_lowercase();
    let minor = stripe::minor_units(i.owed, &currency).ok_or_else(|| {
        AppError::Conflict(format!(
            "{} cannot be paid by card in {}",
            studio.money(i.owed),
            studio.currency_code
        ))
    })?;
    // One session per invoice and state of its money: a second click (or a retry) gets the
    // same session back from Stripe instead of a second one that could be paid twice.
    let changes: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM payments WHERE invoice_id = $1)
              + (SELECT count(*) FROM payment_refunds r JOIN payments p ON p.id = r.payment_id
                 WHERE p.invoice_id = $1)",
    )
    .bind(invoice)
    .fetch_one(&mut **db)
    .await?;
    let key = format!("projectflo-checkout-{invoice}-{minor}-{changes}");
    let base = settings.base_url();
    let back = format!("{base}/portal/invoices/{invoice}");
    let success = format!("{back}?paid={{CHECKOUT_SESSION_ID}}");
    let cancel = format!("{back}?cancelled=1");
    let description = match &i.description {
        Some(d) if !d.trim().is_empty() => format!("{} · {}", i.title(), d.trim()),
        _ => i.title(),
    };
    let description = format!("{description} · {}", studio.studio_name);
    let new = NewCheckout {
        invoice_id: invoice,
        description: &description,
        amount_minor: minor,
        currency: &currency,
        customer_email: Some(payer.email).filter(|e| e.contains('@')),
        success_url: &success,
        cancel_url: &cancel,
        idempotency_key: &key,
    };
    let client = Client::new(stripe);
    let session = db
        .while_idle(client.create_checkout(&new))
        .await?
        .map_err(|e| {
            tracing::warn!(invoice, error = %e, "Stripe refused a Checkout Session");
            AppError::BadRequest {
                status: StatusCode::BAD_GATEWAY,
                message: format!("Paying by card is not available right now ({e}). Nothing was charged; try again later."),
            }
        })?;
    let url = session.url.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "Stripe answered a Checkout Session without a url: {}",
            session.id
        )
    })?;
    let now = clock.now();
    crate::db::transaction(db, async |tx| {
        sqlx::query(
            "INSERT INTO stripe_checkout_sessions
               (id, invoice_id, amount, currency, url, created_at, client_user_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&session.id)
        .bind(invoice)
        .bind(i.owed)
        .bind(&currency)
        .bind(&url)
        .bind(now)
        .bind(payer.client_user_id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            tx,
            None,
            "invoices.checkout",
            "invoice",
            Some(invoice),
            serde_json::json!({
                "session": session.id, "amount": i.owed, "client_user": payer.client_user_id,
            }),
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(url)
}

/// What a completed Checkout Session came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The payment is recorded now (and `unapplied` was paid beyond what was owed).
    Recorded {
        payment_id: Option<i32>,
        unapplied: Decimal,
    },
    /// It was recorded before (a redelivery).
    AlreadyRecorded,
    /// Not paid yet, or not a session of ProjectFlo's: nothing to record.
    Ignored,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    invoice_id: i32,
    amount: Decimal,
    status: String,
}

async fn lock_session(tx: &mut PgConnection, id: &str) -> AppResult<Option<SessionRow>> {
    Ok(sqlx::query_as(
        "SELECT invoice_id, amount, status FROM stripe_checkout_sessions
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx)
    .await?)
}

/// Record a Checkout Session that Stripe says is paid, once. Locks the session row first (then
/// the invoice and the build, through `payments::record`), so that deliveries of one event at
/// once run one after another and the later ones find it paid. A session ProjectFlo did not
/// record (the recording failed after Stripe made it) is taken from its metadata, which the
/// signature vouches for.
pub async fn complete(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    s: &CheckoutSession,
) -> AppResult<(Completion, Vec<notify::Mails>)> {
    let paid = s.payment_status.as_deref() == Some("paid");
    let (Some(pi), true) = (s.payment_intent.as_deref(), paid) else {
        return Ok((Completion::Ignored, vec![]));
    };
    let currency = s
        .currency
        .clone()
        .unwrap_or_else(|| studio.currency_code.to_lowercase());
    let received = s
        .amount_total
        .map(|m| stripe::from_minor_units(m, &currency));
    let row = match lock_session(tx, &s.id).await? {
        Some(row) => row,
        None => {
            let (Some(invoice), Some(amount)) = (s.invoice_id(), received) else {
                return Ok((Completion::Ignored, vec![]));
            };
            let known: Option<i32> = sqlx::query_scalar("SELECT id FROM invoices WHERE id = $1")
                .bind(invoice)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() || amount <= Decimal::ZERO {
                return Ok((Completion::Ignored, vec![]));
            }
            sqlx::query(
                "INSERT INTO stripe_checkout_sessions (id, invoice_id, amount, currency, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&s.id)
            .bind(invoice)
            .bind(amount)
            .bind(&currency)
            .bind(clock.now())
            .execute(&mut *tx)
            .await?;
            lock_session(tx, &s.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("session {} vanished", s.id))?
        }
    };
    if row.status == "paid" {
        return Ok((Completion::AlreadyRecorded, vec![]));
    }
    let received = received.unwrap_or(row.amount);
    let mut mails = vec![];
    // Already recorded under its PaymentIntent (typed by hand from Stripe's dashboard): that
    // payment is this one.
    let existing: Option<(i32, Decimal)> =
        sqlx::query_as("SELECT id, amount FROM payments WHERE transaction_id = $1")
            .bind(pi)
            .fetch_optional(&mut *tx)
            .await?;
    let inv = invoices::lock(tx, row.invoice_id).await?;
    let (payment_id, fits) = match existing {
        Some((id, amount)) => (Some(id), amount.min(received)),
        None => {
            let open = !matches!(inv.status(), InvoiceStatus::Void | InvoiceStatus::Draft);
            // Paid in another currency than the studio's now (its setting changed meanwhile):
            // nothing of it is counted; it is flagged like an overpayment.
            let same_currency = currency.eq_ignore_ascii_case(&studio.currency_code);
            let fits = if open && same_currency && inv.total_amount > Decimal::ZERO {
                received.min(inv.owed()).max(Decimal::ZERO)
            } else {
                Decimal::ZERO
            };
            if fits > Decimal::ZERO {
                let p = NewPayment {
                    amount: fits,
                    date: clock.today(&studio.time_zone),
                    method: Method::Card,
                    transaction_id: Some(pi.to_string()),
                };
                let r = payments::record(tx, settings, studio, clock, inv.id, &p, None).await?;
                mails.push(r.mails);
                (Some(r.payment_id), fits)
            } else {
                (None, Decimal::ZERO)
            }
        }
    };
    let unapplied = (received - fits).max(Decimal::ZERO);
    sqlx::query(
        "UPDATE stripe_checkout_sessions
         SET status = 'paid', completed_at = $2, payment_intent = $3, amount_received = $4,
             payment_id = $5, unapplied = $6
         WHERE id = $1",
    )
    .bind(&s.id)
    .bind(clock.now())
    .bind(pi)
    .bind(received)
    .bind(payment_id)
    .bind(unapplied)
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        None,
        "invoices.card_paid",
        "invoice",
        Some(inv.id),
        serde_json::json!({
            "session": s.id, "payment_intent": pi, "received": received,
            "payment": payment_id, "unapplied": unapplied,
        }),
    )
    .await?;
    if unapplied > Decimal::ZERO {
        let message = format!(
            "{} was paid by card through Stripe on {} beyond what it still owed (payment {pi}): \
             it is not recorded as a payment; refund it from the invoice page.",
            studio.money(unapplied),
            inv.title(),
        );
        mails.push(
            notify::staff(
                tx,
                settings,
                clock.now(),
                notify::Kind::PaymentRecorded,
                &["Owner", "Bookkeeper"],
                &message,
                &format!("/invoices/{}", inv.id),
            )
            .await?,
        );
    }
    Ok((
        Completion::Recorded {
            payment_id,
            unapplied,
        },
        mails,
    ))
}

/// The couple came back from Stripe's page: ask Stripe for the session and, when it is paid,
/// record it now rather than wait for the webhook (the same once-only recording). Any failure
/// is left to the webhook.
pub async fn returned(
    db: &mut Db,
    settings: &Settings,
    clock: &Clock,
    invoice: i32,
    session: &str,
) -> AppResult<bool> {
    let Some(stripe) = settings.stripe() else {
        return Ok(false);
    };
    let known: Option<String> = sqlx::query_scalar(
        "SELECT status FROM stripe_checkout_sessions WHERE id = $1 AND invoice_id = $2",
    )
    .bind(session)
    .bind(invoice)
    .fetch_optional(&mut **db)
    .await?;
    match known.as_deref() {
        Some("paid") => return Ok(true),
        Some(_) => {}
        None => return Ok(false),
    }
    let client = Client::new(stripe);
    let s = match db.while_idle(client.checkout(session)).await? {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(session, error = %e, "could not read a Checkout Session");
            return Ok(false);
        }
    };
    if s.id != session {
        return Ok(false);
    }
    let (done, mails) = crate::db::transaction(db, async |tx| {
        let studio = Studio::load(tx).await?;
        complete(tx, settings, &studio, clock, &s).await
    })
    .await?;
    for m in mails {
        m.send(db.pool(), clock);
    }
    Ok(matches!(
        done,
        Completion::Recorded { .. } | Completion::AlreadyRecorded
    ))
}

/// Card payments of an invoice paid beyond what it owed and not refunded yet: (session,
/// PaymentIntent, amount), oldest first.
pub async fn unapplied(
    conn: &mut PgConnection,
    invoice: i32,
) -> AppResult<Vec<(String, String, Decimal)>> {
    Ok(sqlx::query_as(
        "SELECT id, COALESCE(payment_intent, id), unapplied FROM stripe_checkout_sessions
         WHERE invoice_id = $1 AND unapplied > 0 AND unapplied_refunded_at IS NULL
         ORDER BY completed_at, id",
    )
    .bind(invoice)
    .fetch_all(conn)
    .await?)
}

/// Mark a session expired (Stripe's `checkout.session.expired`).
pub async fn expired(tx: &mut PgConnection, id: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE stripe_checkout_sessions SET status = 'expired' WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Refund a payment: a card payment taken through Stripe (its reference a PaymentIntent) is
/// refunded at Stripe first, with no transaction open, then recorded with Stripe's refund id;
/// any other payment is recorded at once. The refund is checked as recording it will check it
/// before Stripe is asked. Stripe refusing, or not answering, is a 422 on the amount with its
/// message, and nothing is recorded.
///
/// The failure between Stripe and the recording: an attempt row (its Idempotency-Key) is
/// committed before Stripe is called and deleted in the transaction that records the refund
/// (or when Stripe refuses). One left behind is reused by the next request for the same
/// refund, so that Stripe answers the refund it already made instead of making a second; a
/// request for another amount meanwhile is a 409 saying what to finish first.
pub async fn refund(
    db: &mut Db,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    payment: i32,
    r: &NewRefund<'_>,
    actor: Option<i32>,
) -> AppResult<(i32, invoices::Settled)> {
    let target = payments::check_refund(db, studio, payment, r).await?;
    let pi = match (&target.method[..], target.transaction_id.as_deref()) {
        ("Card", Some(t)) if t.starts_with("pi_") => t.to_string(),
        _ => {
            return crate::db::transaction(db, async |tx| {
                payments::refund(tx, studio, clock, payment, r, actor).await
            })
            .await;
        }
    };
    let Some(stripe) = settings.stripe() else {
        return Err(AppError::field(
            "amount",
            format!(
                "this card payment was taken through Stripe ({pi}): set up the Stripe keys to \
                 refund it through Stripe"
            ),
        ));
    };
    let currency = studio.currency_code.to_lowercase();
    let Some(minor) = stripe::minor_units(r.amount, &currency) else {
        return Err(AppError::field(
            "amount",
            format!("an amount in whole units of {}", studio.currency_code),
        ));
    };
    let key = begin_attempt(db, clock, studio, payment, r.amount).await?;
    let client = Client::new(stripe);
    let refund = match db.while_idle(client.refund(&pi, minor, &key)).await? {
        Ok(refund) => refund,
        Err(StripeError::Refused { message, .. }) => {
            end_attempt(db, &key).await?;
            return Err(AppError::field(
                "amount",
                format!("Stripe refused the refund: {message} Nothing was refunded or recorded."),
            ));
        }
        // It may have been made: the attempt stays, and asking again finishes it.
        Err(e @ StripeError::Unreachable(_)) => {
            return Err(AppError::field(
                "amount",
                format!("{e}. Nothing is recorded; ask for the same refund again."),
            ));
        }
    };
    // The same key answered a refund made and recorded before (two people asking at once).
    let recorded: Option<i32> =
        sqlx::query_scalar("SELECT id FROM payment_refunds WHERE stripe_refund_id = $1")
            .bind(&refund.id)
            .fetch_optional(&mut **db)
            .await?;
    if let Some(id) = recorded {
        return Err(AppError::Conflict(format!(
            "this refund is already recorded (refund #{id}, Stripe {}): nothing more was refunded",
            refund.id
        )));
    }
    let with_id = NewRefund {
        stripe_refund_id: Some(&refund.id),
        ..*r
    };
    crate::db::transaction(db, async |tx| {
        let out = payments::refund(tx, studio, clock, payment, &with_id, actor).await?;
        sqlx::query("DELETE FROM stripe_refund_attempts WHERE idempotency_key = $1")
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        Ok(out)
    })
    .await
    .map_err(|e| {
        tracing::error!(stripe_refund = %refund.id, error = %e,
            "Stripe refunded but the refund was not recorded");
        AppError::Conflict(format!(
            "Stripe refunded {} (refund {}), but it could not be recorded here: {e}. Ask for \
             the same refund again to record it; Stripe will not refund it twice.",
            studio.money(r.amount),
            refund.id
        ))
    })
}

/// The Idempotency-Key of a refund through Stripe: the attempt left behind for the same
/// amount, or a new one, committed before Stripe is called.
async fn begin_attempt(
    db: &mut Db,
    clock: &Clock,
    studio: &Studio,
    payment: i32,
    amount: Decimal,
) -> AppResult<String> {
    let key = format!("projectflo-refund-{payment}-{}", uuid::Uuid::new_v4());
    let now = clock.now();
    crate::db::transaction(db, async |tx| {
        let left: Option<(String, Decimal)> = sqlx::query_as(
            "INSERT INTO stripe_refund_attempts (idempotency_key, payment_id, amount, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (payment_id) DO UPDATE SET payment_id = EXCLUDED.payment_id
             RETURNING idempotency_key, amount",
        )
        .bind(&key)
        .bind(payment)
        .bind(amount)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        match left {
            Some((k, a)) if a == amount => Ok(k),
            Some((_, a)) => Err(AppError::Conflict(format!(
                "a refund of {} of this payment through Stripe is not finished: ask for that \
                 refund again first (Stripe will not make it twice)",
                studio.money(a)
            ))),
            None => Err(anyhow::anyhow!("no refund attempt row").into()),
        }
    })
    .await
}

async fn end_attempt(db: &mut Db, key: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM stripe_refund_attempts WHERE idempotency_key = $1")
        .bind(key)
        .execute(&mut **db)
        .await?;
    Ok(())
}

/// Refund through Stripe what a card payment brought beyond what the invoice owed (never
/// recorded as a payment, so nothing of the invoice's money moves). The attempt's
/// Idempotency-Key is kept on the session until it is done (asking again after a lost answer
/// gets the same refund) and dropped when Stripe refuses (the next try is a new request).
pub async fn refund_unapplied(
    db: &mut Db,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    invoice: i32,
    session: &str,
    actor: Option<i32>,
) -> AppResult<Decimal> {
    let stripe = settings.stripe().ok_or_else(|| {
        AppError::Conflict("set up the Stripe keys to refund through Stripe".into())
    })?;
    let key = format!("projectflo-unapplied-{}", uuid::Uuid::new_v4());
    let row: Option<(String, Decimal, String)> = crate::db::transaction(db, async |tx| {
        Ok(sqlx::query_as(
            "UPDATE stripe_checkout_sessions
             SET unapplied_refund_key = COALESCE(unapplied_refund_key, $3)
             WHERE id = $1 AND invoice_id = $2 AND unapplied > 0
               AND unapplied_refunded_at IS NULL AND payment_intent IS NOT NULL
             RETURNING payment_intent, unapplied, unapplied_refund_key",
        )
        .bind(session)
        .bind(invoice)
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?)
    })
    .await?;
    let (pi, amount, key) = row.ok_or_else(|| {
        AppError::Conflict("nothing paid by card beyond what was owed is left to refund".into())
    })?;
    let currency = studio.currency_code.to_lowercase();
    let minor = stripe::minor_units(amount, &currency)
        .ok_or_else(|| anyhow::anyhow!("{amount} is not a whole amount of {currency}"))?;
    let client = Client::new(stripe);
    let refund = match db.while_idle(client.refund(&pi, minor, &key)).await? {
        Ok(r) => r,
        Err(e) => {
            if matches!(e, StripeError::Refused { .. }) {
                sqlx::query(
                    "UPDATE stripe_checkout_sessions SET unapplied_refund_key = NULL
                     WHERE id = $1 AND unapplied_refund_key = $2",
                )
                .bind(session)
                .bind(&key)
                .execute(&mut **db)
                .await?;
            }
            return Err(AppError::Conflict(format!(
                "Stripe did not refund it: {e}. Nothing is recorded."
            )));
        }
    };
    crate::db::transaction(db, async |tx| {
        sqlx::query(
            "UPDATE stripe_checkout_sessions
             SET unapplied_refunded_at = $2, unapplied_refund_id = $3
             WHERE id = $1 AND unapplied_refunded_at IS NULL",
        )
        .bind(session)
        .bind(clock.now())
        .bind(&refund.id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            tx,
            actor,
            "invoices.unapplied_refund",
            "invoice",
            Some(invoice),
            serde_json::json!({
                "session": session, "payment_intent": pi, "amount": amount,
                "stripe_refund": refund.id,
            }),
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(amount)
}

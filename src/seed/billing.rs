//! The demo studio's money, through the same code as the app: Olivia's deposit paid by bank
//! transfer the day after booking, part of her change order paid by card (a surcharge on it
//! refunded), the credit note of a change that took an add-on off applied to her next
//! invoice (its second payment is overdue, marked by the overdue sweep), an engagement session
//! invoice paid online through Stripe Checkout, a second deposit issued by mistake and voided,
//! and a draft the studio has not sent yet; the list shows every status.
use crate::billing::{invoices, payments};
use crate::clock::Clock;
use crate::studio::Studio;
use anyhow::Result;
use chrono::Duration;
use rust_decimal::Decimal;
use sqlx::PgConnection;

pub async fn money(
    tx: &mut PgConnection,
    clock: Clock,
    studio: &Studio,
    olivia: i32,
    owner: i32,
) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let settings = crate::config::Settings::defaults();
    let project: i32 = sqlx::query_scalar("SELECT project_id FROM builds WHERE id = $1")
        .bind(olivia)
        .fetch_one(&mut *tx)
        .await?;
    let (deposit, change): (i32, i32) = sqlx::query_as(
        "SELECT (SELECT id FROM invoices WHERE project_id = $1 AND description = 'Deposit'),
                (SELECT id FROM invoices WHERE project_id = $1
                 AND description LIKE 'Change order%' ORDER BY id LIMIT 1)",
    )
    .bind(project)
    .fetch_one(&mut *tx)
    .await?;
    let owed = |id: i32| {
        sqlx::query_scalar::<_, Decimal>(
            "SELECT total_amount - COALESCE(amount_paid, 0) FROM invoices WHERE id = $1",
        )
        .bind(id)
    };
    let today = clock.today(&studio.time_zone);
    let at = |days: i64| Clock::Fixed(clock.now() - Duration::days(days));
    let paid = [
        (
            deposit,
            None,
            payments::Method::BankTransfer,
            Some("NWB-2291-0417"),
            5,
        ),
        (
            change,
            Some(Decimal::new(100, 0)),
            payments::Method::Card,
            Some("SQ-7H2K9"),
            2,
        ),
    ];
    for (invoice, amount, method, reference, days_ago) in paid {
        let amount = match amount {
            Some(a) => a,
            None => owed(invoice).fetch_one(&mut *tx).await?,
        };
        let p = payments::NewPayment {
            amount,
            date: today - Duration::days(days_ago),
            method,
            transaction_id: reference.map(str::to_string),
        };
        let _ = payments::record(
            tx,
            &settings,
            studio,
            &at(days_ago),
            invoice,
            &p,
            Some(owner),
        )
        .await
        .map_err(err)?
        .mails;
    }
    // The card payment took a surcharge the studio then waived: $20 refunded yesterday.
    let card: i32 = sqlx::query_scalar("SELECT id FROM payments WHERE transaction_id = 'SQ-7H2K9'")
        .fetch_one(&mut *tx)
        .await?;
    let refund = payments::NewRefund {
        amount: Decimal::new(20, 0),
        date: today - Duration::days(1),
        reason: "Card surcharge waived",
        stripe_refund_id: None,
    };
    payments::refund(tx, studio, &at(1), card, &refund, Some(owner))
        .await
        .map_err(err)?;
    // Last night's job applied the credit note (the keepsake box taken off) to the next open
    // invoice.
    crate::billing::credits::apply(tx, &at(0), studio, project, None)
        .await
        .map_err(err)?;
    // An engagement session, invoiced on booking and due two days ago.
    let issue = |due_days_ago: i64, amount: i64, what: &'static str| {
        let day = today - Duration::days(6);
        let due = today - Duration::days(due_days_ago);
        let now = clock.now() - Duration::days(6);
        (day, due, Decimal::new(amount, 0), what, now)
    };
    let mut made = vec![];
    for (day, due, amount, what, now) in [
        issue(2, 350, "Engagement session"),
        issue(6, 900, "Deposit (issued twice)"),
        issue(-60, 120, "Raw footage drive"),
    ] {
        let invoice = crate::quote::booking::NewInvoice {
            description: what,
            amount,
            tax: crate::money::tax(amount, studio.tax_rate_percent),
            due,
            rule: None,
        };
        let number = crate::quote::booking::issue_invoice(tx, studio, project, day, now, invoice)
            .await
            .map_err(err)?;
        let id: i32 = sqlx::query_scalar("SELECT id FROM invoices WHERE invoice_number = $1")
            .bind(number)
            .fetch_one(&mut *tx)
            .await?;
        made.push(id);
    }
    // The engagement session was paid online, through Stripe Checkout, yesterday: recorded as
    // the webhook records it.
    let rest = owed(made[0]).fetch_one(&mut *tx).await?;
    let currency = studio.currency_code.to_lowercase();
    let session = crate::billing::stripe::CheckoutSession {
        id: "cs_demo_a1B2c3D4engagement".into(),
        url: None,
        status: Some("complete".into()),
        payment_status: Some("paid".into()),
        payment_intent: Some("pi_3Demo7Engagement".into()),
        amount_total: crate::billing::stripe::minor_units(rest, &currency),
        currency: Some(currency),
        client_reference_id: Some(made[0].to_string()),
        metadata: None,
    };
    let _ = crate::billing::online::complete(tx, &settings, studio, &at(1), &session)
        .await
        .map_err(err)?;
    invoices::sweep_overdue(tx, today).await.map_err(err)?;
    let reason = "Issued twice by mistake: the deposit was already invoiced";
    invoices::void(tx, &at(5), made[1], reason, Some(owner))
        .await
        .map_err(err)?;
    // Not sent yet: the studio's draft (no page makes drafts yet; the list shows one).
    sqlx::query("UPDATE invoices SET status = 'Draft', issue_date = NULL WHERE id = $1")
        .bind(made[2])
        .execute(&mut *tx)
        .await?;
    // Last night's sweep reminded the couple of what is overdue or due soon (in the
    // communications log; the demo sends no mail).
    crate::billing::reminders::send_due(tx, &settings, &clock, studio)
        .await
        .map_err(err)?;
    // The payments were seen days ago (they stay in the inbox, read).
    sqlx::query("UPDATE notifications SET is_read = true WHERE link_url LIKE '/invoices/%'")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

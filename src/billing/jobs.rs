//! `projectflo jobs invoices`: the nightly sweep of invoices, by the clock it is given. Credit
//! notes left open are applied to their project's next open invoices (one transaction per
//! project), then open invoices past their due date become Overdue (one statement), and
//! idempotency answers older than 24 hours are forgotten; then today's payment reminders go
//! out (`reminders`: each once, recorded before it is queued). Safe to run twice (the second run
//! finds nothing to do) and with several server instances (every change locks its rows).
use super::{credits, idempotency, invoices, reminders};
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::AppResult;
use crate::studio::Studio;
use sqlx::PgPool;

/// What a sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Invoices marked Overdue.
    pub overdue: usize,
    /// Applications of credit made.
    pub credits: usize,
    /// Idempotency answers forgotten.
    pub forgotten: u64,
    /// Payment reminders sent.
    pub reminders: usize,
}

pub async fn sweep(pool: &PgPool, settings: &Settings, clock: &Clock) -> AppResult<Swept> {
    let mut conn = pool.acquire().await?;
    let studio = Studio::load(&mut conn).await?;
    let projects: Vec<i32> = sqlx::query_scalar(
        "SELECT DISTINCT project_id FROM invoices
         WHERE total_amount < 0 AND status IN ('Sent', 'Partially Paid', 'Overdue')
         ORDER BY project_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut swept = Swept::default();
    for project in projects {
        let applied = crate::db::transaction(&mut conn, async |tx| {
            credits::apply(tx, clock, &studio, project, None).await
        })
        .await?;
        swept.credits += applied.len();
    }
    let today = clock.today(&studio.time_zone);
    let marked = crate::db::transaction(&mut conn, async |tx| {
        invoices::sweep_overdue(tx, today).await
    })
    .await?;
    swept.overdue = marked.len();
    swept.forgotten = idempotency::purge(&mut conn).await?;
    let mails = reminders::send_due(&mut conn, settings, clock, &studio).await?;
    swept.reminders = mails.len();
    drop(conn);
    for m in mails {
        m.send_and_wait(pool, clock).await;
    }
    Ok(swept)
}

//! The outbox sender. A sender claims one due, unsent row at a time (`FOR UPDATE SKIP LOCKED`,
//! so a row another sender holds is passed over, never sent twice), hands it to the mail server
//! and, in the same transaction, marks it sent (its body cleared) or records the failure and
//! when to try again. A process that stops mid-send releases its lock with its connection: the
//! row is still unsent and the next pass sends it.
//!
//! Delivery is at least once, not exactly once: SMTP has no transactions, so a crash after the
//! server accepted the message and before the commit that marks it sent gets it sent again.
//! The window is the one statement and commit right after the server's "250 OK", and every
//! attempt of a row carries the same Message-ID (`<outbox-{id}@{domain of the sender}>`), so a
//! repeat is recognisable as the same message (mail clients and servers collapse it).
use crate::clock::Clock;
use crate::config::Settings;
use chrono::{DateTime, Duration, Utc};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::{PgConnection, PgPool};

/// Tries before the sender gives up on a row (it stays on the outbox page to retry by hand).
pub const MAX_ATTEMPTS: i32 = 12;
/// Rows one pass sends at most; the next pass goes on.
const PASS_LIMIT: usize = 500;
/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where mail goes: the SMTP server (none: the server log) and the sender's address.
#[derive(Clone)]
pub struct Server {
    smtp_url: Option<String>,
    from: String,
}

impl Server {
    pub fn of(settings: &Settings) -> Server {
        Server {
            smtp_url: settings.smtp_url.clone(),
            from: settings.mail_from.clone(),
        }
    }
}

/// The wait before the next try after `attempts` failed ones: a minute, doubling, at most six
/// hours (1, 2, 4 ... 256 minutes, then 6 hours).
pub fn backoff(attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 20) - 1;
    Duration::minutes(1i64 << doublings).min(Duration::hours(6))
}

/// The Message-ID of an outbox row: the same at every attempt.
pub fn message_id(id: i32, from: &str) -> String {
    let address = from
        .rsplit_once('<')
        .map_or(from, |(_, a)| a.trim_end_matches('>'));
    let domain = address.rsplit_once('@').map_or("projectflo.local", |d| d.1);
    format!("<outbox-{id}@{}>", domain.trim())
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: i32,
    to_address: String,
    subject: String,
    body: Option<String>,
    attempts: i32,
}

/// Why an attempt failed, and whether trying again can help.
struct Failure {
    message: String,
    permanent: bool,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    /// Attempts that failed (retried later, or given up).
    pub failed: usize,
}

impl Pass {
    pub fn report(&self) -> String {
        format!(
            "Outbox: {} emails sent, {} attempts failed.",
            self.sent, self.failed
        )
    }
}

/// Send every unsent row that is due at the clock's instant, oldest first (at most 500; the
/// next pass goes on). Safe from several processes at once.
pub async fn send_due(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
) -> Result<Pass, sqlx::Error> {
    let server = Server::of(settings);
    let mut pass = Pass::default();
    for _ in 0..PASS_LIMIT {
        match attempt(pool, &server, clock, None).await? {
            Some(true) => pass.sent += 1,
            Some(false) => pass.failed += 1,
            None => break,
        }
    }
    Ok(pass)
}

/// The oldest email due now ($1), or the one asked for ($2), that no other sender holds:
/// along `outbox_unsent_idx`, so a few rows whatever the history.
pub const CLAIM_SQL: &str = "SELECT id, to_address, subject, body, attempts FROM email_outbox
     WHERE sent_at IS NULL AND failed_at IS NULL
       AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
       AND id = COALESCE($2, id)
     ORDER BY created_at, id LIMIT 1
     FOR UPDATE SKIP LOCKED";

/// Claim one due, unsent row (`only` that one, when given) and try to send it. `None`: nothing
/// to claim (sent already, not due, given up, or another sender holds it); otherwise whether it
/// went out.
pub async fn attempt(
    pool: &PgPool,
    server: &Server,
    clock: &Clock,
    only: Option<i32>,
) -> Result<Option<bool>, sqlx::Error> {
    let now = clock.now();
    let mut tx = pool.begin().await?;
    let claimed: Option<Claimed> = sqlx::query_as(CLAIM_SQL)
        .bind(now)
        .bind(only)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = claimed else {
        return Ok(None);
    };
    let result = deliver(server, &row).await;
    let sent = result.is_ok();
    match result {
        Ok(()) => mark_sent(&mut tx, row.id, now).await?,
        Err(failure) => {
            tracing::warn!(outbox = row.id, to = %row.to_address, error = %failure.message,
                attempts = row.attempts + 1, "sending email failed");
            mark_failed(&mut tx, &row, failure, now).await?
        }
    }
    tx.commit().await?;
    Ok(Some(sent))
}

async fn mark_sent(tx: &mut PgConnection, id: i32, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_outbox SET sent_at = $2, body = NULL, attempts = attempts + 1,
                next_attempt_at = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

async fn mark_failed(
    tx: &mut PgConnection,
    row: &Claimed,
    failure: Failure,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let attempts = row.attempts + 1;
    let give_up = failure.permanent || attempts >= MAX_ATTEMPTS;
    let error: String = failure.message.chars().take(1000).collect();
    sqlx::query(
        "UPDATE email_outbox SET attempts = $2, last_error = $3,
                next_attempt_at = CASE WHEN $4 THEN NULL ELSE $5::timestamptz END,
                failed_at = CASE WHEN $4 THEN $6::timestamptz END
         WHERE id = $1",
    )
    .bind(row.id)
    .bind(attempts)
    .bind(error)
    .bind(give_up)
    .bind(now + backoff(attempts))
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

/// Hand the row to the mail server, or with none set to the server log.
async fn deliver(server: &Server, row: &Claimed) -> Result<(), Failure> {
    let body = row.body.clone().unwrap_or_default();
    let Some(url) = &server.smtp_url else {
        tracing::info!(to = %row.to_address, subject = %row.subject, body = %body,
            "email not sent (no PROJECTFLO_SMTP_URL); recorded in the communications log");
        return Ok(());
    };
    let retry = |e: &dyn std::fmt::Display| Failure {
        message: e.to_string(),
        permanent: false,
    };
    let to = row.to_address.parse().map_err(|e| Failure {
        message: format!("the address {:?} cannot be used: {e}", row.to_address),
        permanent: true,
    })?;
    let from = server
        .from
        .parse()
        .map_err(|e| retry(&format!("the sender address (PROJECTFLO_MAIL_FROM): {e}")))?;
    let msg = Message::builder()
        .from(from)
        .to(to)
        .message_id(Some(message_id(row.id, &server.from)))
        .subject(row.subject.clone())
        .body(body)
        .map_err(|e| retry(&e))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| retry(&e))?
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    transport.send(msg).await.map_err(|e| Failure {
        message: e.to_string(),
        permanent: e.is_permanent(),
    })?;
    Ok(())
}

/// "Retry now": a row not sent yet is due at once again (one given up on gets one more try).
/// Whether there was such a row.
pub async fn retry(conn: &mut PgConnection, id: i32) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_outbox
         SET next_attempt_at = NULL, failed_at = NULL
         WHERE id = $1 AND sent_at IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_minute_and_stops_at_six_hours() {
        let waits: Vec<i64> = (1..=12).map(|n| backoff(n).num_minutes()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360]);
        assert_eq!(backoff(0).num_minutes(), 1);
        assert_eq!(backoff(i32::MAX).num_minutes(), 360);
    }

    #[test]
    fn the_message_id_names_the_row_at_the_senders_domain() {
        let id = message_id(7, "Golden Hour Films <hello@goldenhour.example>");
        assert_eq!(id, "<outbox-7@goldenhour.example>");
        assert_eq!(message_id(8, "a@b.example"), "<outbox-8@b.example>");
        assert_eq!(message_id(9, "nobody"), "<outbox-9@projectflo.local>");
    }
}

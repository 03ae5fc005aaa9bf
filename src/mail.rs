//! Outgoing email, through an outbox. `queue` records every message in communications_log and
//! in `email_outbox` inside the caller's transaction, so an email exists exactly when the change
//! that sends it committed. After the commit the caller starts an immediate attempt
//! (`Outgoing::send`); the outbox sender (`outbox::send_due`: every 30 s inside `serve`, and
//! `projectflo jobs outbox`) sends whatever is still unsent and due: emails whose attempt
//! failed (retried with a bounded exponential backoff) and emails whose process stopped between
//! the commit and the send. A sender claims a row with `FOR UPDATE SKIP LOCKED` and marks it sent
//! in the same transaction, so two senders never send one row. Mail goes through SMTP when
//! PROJECTFLO_SMTP_URL is set; otherwise it is written to the server log and marked sent, and the
//! communications log keeps its whole text so a studio without email set up still sees it.
use crate::clock::Clock;
use crate::config::Settings;
use sqlx::{PgConnection, PgPool};

pub mod outbox;

pub struct Mail {
    pub to_contact_id: i32,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What the communications log keeps when the mail really goes out (no secrets).
    pub log_summary: String,
}

/// Record the mail (inside `tx`): its communications_log row and its outbox row. Returns the
/// handle that starts the first attempt after the commit.
pub async fn queue(
    tx: &mut PgConnection,
    settings: &Settings,
    mail: Mail,
) -> Result<Outgoing, sqlx::Error> {
    let kept = match settings.smtp_url {
        Some(_) => &mail.log_summary,
        None => &mail.body,
    };
    let notes = format!("To: {}\nSubject: {}\n\n{kept}", mail.to, mail.subject);
    let id: i32 = sqlx::query_scalar(
        "WITH logged AS (
             INSERT INTO communications_log (contact_id, type, notes)
             VALUES ($1, 'Email', $2) RETURNING id)
         INSERT INTO email_outbox (communication_id, to_address, subject, body)
         SELECT id, $3, $4, $5 FROM logged RETURNING id",
    )
    .bind(mail.to_contact_id)
    .bind(notes)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .fetch_one(tx)
    .await?;
    Ok(Outgoing::of(id, settings))
}

/// An outbox row to attempt now (after the transaction that queued it committed). Dropping it
/// unsent loses nothing: the outbox sender sends the row on its next pass.
pub struct Outgoing {
    id: i32,
    server: outbox::Server,
}

impl Outgoing {
    /// The handle of an outbox row already committed (the outbox page's "Retry now").
    pub fn of(id: i32, settings: &Settings) -> Outgoing {
        Outgoing {
            id,
            server: outbox::Server::of(settings),
        }
    }

    /// The outbox row's id.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Attempt it now, in the background: the answer never waits on the mail server (nor holds
    /// the request's database connection meanwhile), and a reset request takes as long whether
    /// or not the account exists. A failure is recorded on the outbox row (retried later), not
    /// returned.
    pub fn send(self, pool: &PgPool, clock: &Clock) {
        let (pool, clock) = (pool.clone(), *clock);
        tokio::spawn(async move { self.send_and_wait(&pool, &clock).await });
    }

    /// Attempt it and wait (a command that ends right after, like the nightly jobs).
    pub async fn send_and_wait(self, pool: &PgPool, clock: &Clock) {
        if let Err(e) = outbox::attempt(pool, &self.server, clock, Some(self.id)).await {
            tracing::error!(outbox = self.id, error = %e,
                "sending email failed (the outbox sender retries it)");
        }
    }
}

/// Attempt each of `mails` in turn, in one background task (one database connection at a time
/// however many there are).
pub fn send_all(mails: Vec<Outgoing>, pool: &PgPool, clock: &Clock) {
    if mails.is_empty() {
        return;
    }
    let (pool, clock) = (pool.clone(), *clock);
    tokio::spawn(async move {
        for m in mails {
            m.send_and_wait(&pool, &clock).await;
        }
    });
}

//! Outgoing email. Every message is recorded in communications_log in the caller's transaction;
//! it is sent through SMTP when PROJECTFLO_SMTP_URL is set, and otherwise written to the server
//! log too, so a studio without email set up still sees it.
use crate::config::Settings;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgConnection;

pub struct Mail {
    pub to_contact_id: i32,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What the communications log keeps when the mail really goes out (no secrets).
    pub log_summary: String,
}

/// Record the mail (inside `tx`); returns a sender to call after the commit.
pub async fn queue(
    tx: &mut PgConnection,
    settings: &Settings,
    mail: Mail,
) -> Result<Outgoing, sqlx::Error> {
    let smtp = settings.smtp_url.is_some();
    let notes = if smtp {
        format!(
            "To: {}\nSubject: {}\n\n{}",
            mail.to, mail.subject, mail.log_summary
        )
    } else {
        format!(
            "To: {}\nSubject: {}\n\n{}",
            mail.to, mail.subject, mail.body
        )
    };
    sqlx::query(
        "INSERT INTO communications_log (contact_id, type, notes) VALUES ($1, 'Email', $2)",
    )
    .bind(mail.to_contact_id)
    .bind(notes)
    .execute(tx)
    .await?;
    Ok(Outgoing {
        mail,
        smtp_url: settings.smtp_url.clone(),
        from: settings.mail_from.clone(),
    })
}

pub struct Outgoing {
    mail: Mail,
    smtp_url: Option<String>,
    from: String,
}

impl Outgoing {
    /// Send it (after the transaction committed), in the background: the answer never waits on
    /// the mail server (nor holds the request's database connection meanwhile), and a reset
    /// request takes as long whether or not the account exists. Failures are logged, not
    /// returned: the message is already in the communications log.
    pub fn send(self) {
        tokio::spawn(self.deliver());
    }

    /// Send it and wait (a command that ends right after, like the nightly jobs).
    pub async fn send_and_wait(self) {
        self.deliver().await
    }

    async fn deliver(self) {
        let Some(url) = self.smtp_url else {
            tracing::info!(to = %self.mail.to, subject = %self.mail.subject, body = %self.mail.body,
                "email not sent (no PROJECTFLO_SMTP_URL); recorded in the communications log");
            return;
        };
        let result = async {
            let msg = Message::builder()
                .from(self.from.parse()?)
                .to(self.mail.to.parse()?)
                .subject(self.mail.subject.clone())
                .body(self.mail.body.clone())?;
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)?.build();
            transport.send(msg).await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(to = %self.mail.to, error = %e, "sending email failed");
        }
    }
}

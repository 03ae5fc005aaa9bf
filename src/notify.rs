//! Notifications to the studio's staff: the one function every kind goes through (a new lead, a
//! proposal opened or accepted by the couple, a contract signature, a booking, a change order
//! answered, a payment recorded). It writes a row of `notifications` for every active member of
//! the roles named,
//! in the caller's transaction, and, for the kinds the studio chose in Settings > Studio
//! (`studio_settings.notify_email_kinds`), queues the same as an email to each active Owner.
//! The staff read them in their inbox (`crate::inbox`).
use crate::config::Settings;
use crate::error::AppResult;
use crate::mail;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

/// What a notification is about. The name (`new_lead`) is what the studio setting stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationKind)]
pub enum Kind {
    /// A new inquiry (the public form or staff).
    NewLead,
    /// The couple opened a proposal version for the first time.
    ProposalViewed,
    /// The couple accepted a proposal.
    ProposalAccepted,
    /// A partner signed the contract.
    ContractSigned,
    /// A quote was booked (or, fully signed, could not be booked by itself).
    Booked,
    /// The couple (or staff for them) approved or declined a change order.
    ChangeOrderAnswered,
    /// A payment was recorded on an invoice.
    PaymentRecorded,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::NewLead,
        Kind::ProposalViewed,
        Kind::ProposalAccepted,
        Kind::ContractSigned,
        Kind::Booked,
        Kind::ChangeOrderAnswered,
        Kind::PaymentRecorded,
    ];

    /// The name stored in `studio_settings.notify_email_kinds`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::NewLead => "new_lead",
            Kind::ProposalViewed => "proposal_viewed",
            Kind::ProposalAccepted => "proposal_accepted",
            Kind::ContractSigned => "contract_signed",
            Kind::Booked => "booked",
            Kind::ChangeOrderAnswered => "change_order_answered",
            Kind::PaymentRecorded => "payment_recorded",
        }
    }

    /// When it happens, in people's words.
    pub fn label(self) -> &'static str {
        match self {
            Kind::NewLead => "A new lead comes in",
            Kind::ProposalViewed => "A couple opens a proposal",
            Kind::ProposalAccepted => "A couple accepts a proposal",
            Kind::ContractSigned => "A partner signs a contract",
            Kind::Booked => "A wedding is booked (or a signed contract could not book it)",
            Kind::ChangeOrderAnswered => "A change order is approved or declined",
            Kind::PaymentRecorded => "A payment is recorded",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Emails queued with the notifications, to send once the transaction has committed.
#[must_use = "send the emails after the commit"]
#[derive(Default)]
pub struct Mails(Vec<mail::Outgoing>);

impl Mails {
    /// Send them (in the background, one after another; see `mail::Outgoing::send`).
    pub fn send(self, pool: &sqlx::PgPool, clock: &crate::clock::Clock) {
        mail::send_all(self.0, pool, clock);
    }

    /// One more email to send with them.
    pub fn push(&mut self, m: mail::Outgoing) {
        self.0.push(m);
    }

    /// How many emails were queued.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An Owner to email.
#[derive(sqlx::FromRow)]
struct Owner {
    contact_id: i32,
    email: String,
}

/// Tell every active member of `roles` (role names, e.g. `["Owner", "Sales"]`): `message`,
/// linking to `link` (a path of this site, e.g. `/leads/12`), dated `now`. When the studio
/// emails the Owners this kind, the emails are queued too (recorded in the communications log in
/// this transaction); send the returned `Mails` after the commit.
pub async fn staff(
    tx: &mut PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    kind: Kind,
    roles: &[&str],
    message: &str,
    link: &str,
) -> AppResult<Mails> {
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url, created_at)
         SELECT co.id, $1, $2, $3 FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         WHERE r.name = ANY($4)",
    )
    .bind(message)
    .bind(link)
    .bind(now)
    .bind(roles)
    .execute(&mut *tx)
    .await?;
    let owners: Vec<Owner> = sqlx::query_as(
        "SELECT c.id AS contact_id, c.email
         FROM studio_settings s
         JOIN contributors co ON $1 = ANY(s.notify_email_kinds)
         JOIN roles r ON r.id = co.role_id AND r.name = 'Owner'
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         JOIN contacts c ON c.id = co.contact_id
         ORDER BY co.id",
    )
    .bind(kind.name())
    .fetch_all(&mut *tx)
    .await?;
    let mut mails = Mails::default();
    for owner in owners {
        let mail = mail::Mail {
            to_contact_id: owner.contact_id,
            to: owner.email,
            subject: message.chars().take(200).collect(),
            body: format!(
                "{message}\n\n{}{link}\n\nYou get this email because Settings > Studio emails \
                 the owner when \"{}\".",
                settings.base_url(),
                kind.label().to_lowercase()
            ),
            log_summary: format!("Notification: {message}"),
        };
        mails.0.push(mail::queue(tx, settings, mail).await?);
    }
    Ok(mails)
}

/// Tell people one by one (assignment, a task unblocked, a mention): `to[i]` reads
/// `messages[i]`, linking to `links[i]`, dated `now`; only active staff are told. One statement.
pub async fn people(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    to: &[i32],
    messages: &[String],
    links: &[String],
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url, created_at)
         SELECT x.c, x.m, x.l, $4
         FROM unnest($1::int[], $2::text[], $3::text[]) AS x(c, m, l)
         JOIN staff_credentials cr ON cr.contributor_id = x.c AND cr.is_active",
    )
    .bind(to)
    .bind(messages)
    .bind(links)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

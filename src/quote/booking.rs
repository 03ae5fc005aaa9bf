//! Booking: a quote becomes a booked wedding, in one transaction (decisions.md, Phase 4). The
//! contact becomes a Client with a `clients` row, a `projects` row is made, the build is Booked
//! with its approved price and locked configuration, the inquiry is Booked, change order
//! version 1 ("Original agreement") records the configuration, the payment schedule's invoices
//! are issued (by the quote's payment schedule: `crate::schedule`), the project's tasks are
//! generated (`crate::production`), and the
//! couple is invited to the portal. Any failure leaves nothing behind; booking twice is a 409.
use super::packages;
use super::status::BuildStatus;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crm::{InquiryStatus, Move};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Kind, Mails};
use crate::schedule::{self, Due};
use crate::studio::Studio;
use crate::{audit, mail};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// Who books: the contract's last signature (automatically, by the studio's setting; the
/// contract must be fully signed) or a staff member, who gives the reason when booking on the
/// couple's behalf before the contract is fully signed.
pub enum Booker<'a> {
    LastSignature,
    Staff { id: i32, reason: &'a str },
}

/// An invoice to issue: its amount before tax, the tax on it, when it is due, and the
/// schedule's rule that made the due date, if one did (with a monthly payment's months before
/// the last), kept so that a postponement knows which due dates follow the wedding.
pub struct NewInvoice<'a> {
    pub description: &'a str,
    pub amount: Decimal,
    pub tax: Decimal,
    pub due: NaiveDate,
    pub rule: Option<(Due, i32)>,
}

impl<'a> From<&'a schedule::Instalment> for NewInvoice<'a> {
    fn from(i: &'a schedule::Instalment) -> Self {
        NewInvoice {
            description: &i.description,
            amount: i.amount,
            tax: i.tax,
            due: i.due,
            rule: Some((i.rule, i.months)),
        }
    }
}

/// Issue an invoice of the project (its total is the amount and the tax), numbered from the
/// sequence with the studio's prefix, sent today. Returns its number.
pub async fn issue_invoice(
    tx: &mut PgConnection,
    studio: &Studio,
    project: i32,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    invoice: NewInvoice<'_>,
) -> AppResult<String> {
    let (rule, days, months) = match invoice.rule {
        Some((rule, months)) => {
            let days = match rule {
                Due::AfterBooking { days }
                | Due::BeforeWedding { days }
                | Due::Monthly { days } => Some(days),
                Due::OnBooking | Due::OnDate { .. } => None,
            };
            (Some(rule.name()), days, Some(months))
        }
        None => (None, None, None),
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               tax_amount, amount_paid, status, description, created_at,
                               due_rule, due_days, due_months)
         VALUES ($1, $2 || lpad(nextval('invoice_number_seq')::text, 4, '0'), $3, $4, $5, $6, 0,
                 'Sent', $7, $8, $9, $10, $11)
         RETURNING invoice_number",
    )
    .bind(project)
    .bind(&studio.invoice_prefix)
    .bind(today)
    .bind(invoice.due)
    .bind(invoice.amount + invoice.tax)
    .bind(invoice.tax)
    .bind(invoice.description)
    .bind(now)
    .bind(rule)
    .bind(days)
    .bind(months)
    .fetch_one(tx)
    .await?)
}

/// What booking made.
pub struct Booked {
    pub project_id: i32,
    pub approved_price: Decimal,
    pub invoices: Vec<String>,
    /// The portal invitation to send after the commit, unless the couple already has a login.
    pub invitation: Option<mail::Outgoing>,
    /// The staff's notification emails, to send after the commit.
    pub mails: Mails,
}

impl Booked {
    /// Send the emails booking queued (after the commit).
    pub fn send(self, pool: &sqlx::PgPool, clock: &crate::clock::Clock) {
        if let Some(i) = self.invitation {
            i.send(pool, clock);
        }
        self.mails.send(pool, clock);
    }
}

#[derive(sqlx::FromRow)]
struct Quote {
    status: String,
    project_id: Option<i32>,
    inquiry_id: i32,
    contact_id: i32,
    couple: String,
    wedding_date: Option<NaiveDate>,
    accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    live_price: Decimal,
}

/// Book the build. The row lock makes two bookings of one quote wait for each other: the
/// second finds it Booked (409). With the server's settings the couple is invited to the portal
/// (the demo seed, which has no server address, books without).
pub async fn book(
    tx: &mut PgConnection,
    settings: Option<&Settings>,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    by: Booker<'_>,
) -> AppResult<Booked> {
    let q: Quote = sqlx::query_as(
        "SELECT b.status::text AS status, b.project_id, i.id AS inquiry_id, c.id AS contact_id,
                trim(concat_ws(' ', c.first_name, c.last_name)) AS couple, i.wedding_date,
                b.accepted_at, b.live_price
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id
         WHERE b.id = $1 FOR UPDATE OF b",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("quote {build}")))?;
    let status: BuildStatus = q.status.parse().map_err(anyhow::Error::msg)?;
    if let Some(p) = q.project_id {
        return Err(AppError::Conflict(format!(
            "this quote is already booked (project #{p})"
        )));
    }
    if status != BuildStatus::ProposalSent {
        return Err(AppError::Conflict(format!(
            "this quote is {status}: send the proposal before booking"
        )));
    }
    let (actor, reason) = match by {
        Booker::LastSignature if q.accepted_at.is_none() => {
            return Err(AppError::Conflict(
                "the couple has not accepted the proposal".into(),
            ));
        }
        Booker::LastSignature => {
            if !crate::contract::fully_signed(tx, build).await? {
                return Err(AppError::Conflict(
                    "the contract is not signed by everyone yet".into(),
                ));
            }
            (None, None)
        }
        Booker::Staff { id, reason } => {
            // Once the couple and the studio have signed the contract, booking needs no
            // reason; before, the staff member books on the couple's behalf and says why.
            let reason = reason.trim();
            let signed = crate::contract::fully_signed(tx, build).await?;
            if (reason.is_empty() && !signed) || reason.chars().count() > 500 {
                return Err(AppError::field(
                    "reason",
                    "say why you book on the couple's behalf (up to 500 characters)",
                ));
            }
            (Some(id), (!reason.is_empty()).then_some(reason))
        }
    };
    let Some(wedding) = q.wedding_date else {
        return Err(AppError::Conflict(
            "the inquiry has no wedding date: set it before booking".into(),
        ));
    };
    let now = clock.now();
    let today = clock.today(&studio.time_zone);
    let price = q.live_price;

    sqlx::query("UPDATE contacts SET type = 'Client' WHERE id = $1")
        .bind(q.contact_id)
        .execute(&mut *tx)
        .await?;
    let client_id: i32 = sqlx::query_scalar(
        "INSERT INTO clients (contact_id, inquiry_id) VALUES ($1, $2)
         ON CONFLICT (contact_id) DO UPDATE SET inquiry_id = EXCLUDED.inquiry_id RETURNING id",
    )
    .bind(q.contact_id)
    .bind(q.inquiry_id)
    .fetch_one(&mut *tx)
    .await?;
    let phase = studio.task_phase_order.first().cloned();
    let project_id: i32 = sqlx::query_scalar(
        "INSERT INTO projects (client_id, project_name, wedding_date, booking_date, phase)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(client_id)
    .bind(format!("{} wedding", q.couple))
    .bind(wedding)
    .bind(today)
    .bind(phase)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE builds SET status = $2, project_id = $3, client_id = $4, approved_price = live_price,
                configuration_locked_at = $5, booked_at = $5, booked_reason = $6, updated_at = $5
         WHERE id = $1",
    )
    .bind(build)
    .bind(BuildStatus::Booked)
    .bind(project_id)
    .bind(client_id)
    .bind(now)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    let inquiry_actor = actor.unwrap_or_default();
    let moved = crate::crm::transition(tx, q.inquiry_id, Move::Booking, inquiry_actor, now).await?;
    debug_assert_eq!(moved, Some(InquiryStatus::Booked));
    let configuration = packages::configuration(tx, build).await?;
    // The part of the price the tax applies to (its taxable lines).
    let taxable = super::engine::breakdown(tx, studio, build).await?.taxable;
    sqlx::query(
        "INSERT INTO build_change_orders (build_id, version_number, price_delta,
                new_total_approved_price, description, status, snapshot, created_at, answered_at,
                live_price, taxable_price)
         VALUES ($1, 1, $2, $2, 'Original agreement', 'Approved', $3, $4, $4, $2, $5)",
    )
    .bind(build)
    .bind(price)
    .bind(serde_json::to_value(&configuration).map_err(anyhow::Error::from)?)
    .bind(now)
    .bind(taxable)
    .execute(&mut *tx)
    .await?;
    // The editing work: one task per included component and template (Phase 5).
    crate::production::generate(tx, studio, project_id, now).await?;
    // The inquiry's documents (the contract among them) belong to the project from now on.
    sqlx::query(
        "UPDATE documents SET project_id = $2 WHERE inquiry_id = $1 AND project_id IS NULL",
    )
    .bind(q.inquiry_id)
    .bind(project_id)
    .execute(&mut *tx)
    .await?;
    // The tax rate of the proposal the couple accepted, else the studio's.
    let tax_rate: Decimal = sqlx::query_scalar(
        "SELECT COALESCE((SELECT tax_rate_percent FROM proposal_versions
                          WHERE build_id = $1 AND accepted_at IS NOT NULL AND withdrawn_at IS NULL
                          ORDER BY version DESC LIMIT 1), $2)",
    )
    .bind(build)
    .bind(studio.tax_rate_percent)
    .fetch_one(&mut *tx)
    .await?;
    // The quote's payment schedule (the built-in one unless it chose another).
    let template = crate::payment_schedules::of_build(tx, build).await?;
    let tax = crate::money::tax(taxable, tax_rate);
    let plan = schedule::instalments(&template.parts, price, tax, today, wedding);
    let mut invoices = vec![];
    for i in &plan {
        invoices.push(issue_invoice(tx, studio, project_id, today, now, i.into()).await?);
    }
    // The couple's portal: invited now, unless they already have a login from before.
    let has_login: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM client_users WHERE client_id = $1 AND password_hash <> '!')",
    )
    .bind(client_id)
    .fetch_one(&mut *tx)
    .await?;
    let invitation = if let (false, Some(settings)) = (has_login, settings) {
        let invited = crate::portal::invitations::invite_couple(
            tx,
            settings,
            &studio.studio_name,
            actor,
            client_id,
        )
        .await?;
        Some(invited.outgoing)
    } else {
        None
    };
    let defaults;
    let settings = match settings {
        Some(s) => s,
        None => {
            defaults = Settings::defaults();
            &defaults
        }
    };
    let how = if actor.is_none() {
        " automatically, on the contract's last signature"
    } else {
        ""
    };
    let mails = notify::staff(
        tx,
        settings,
        now,
        Kind::Booked,
        &["Owner", "Sales"],
        &format!(
            "{} booked{how}: {} ({}).",
            q.couple,
            studio.money(price),
            wedding.format("%b %-d, %Y")
        ),
        &format!("/quotes/{build}"),
    )
    .await?;
    audit::record(
        tx,
        actor,
        "builds.book",
        "build",
        Some(build),
        serde_json::json!({
            "project": project_id,
            "approved_price": price,
            "reason": reason,
            "invoices": invoices,
            "schedule": template.name,
            "automatic": actor.is_none().then_some("on the contract's last signature"),
        }),
    )
    .await?;
    Ok(Booked {
        project_id,
        approved_price: price,
        invoices,
        invitation,
        mails,
    })
}

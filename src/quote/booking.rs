//! Booking: a quote becomes a booked wedding, in one transaction (decisions.md, Phase 4). The
//! contact becomes a Client with a `clients` row, a `projects` row is made, the build is Booked
//! with its approved price and locked configuration, the inquiry is Booked, change order
//! version 1 ("Original agreement") records the configuration, the payment schedule's invoices
//! are issued (the deposit due on booking, the balance N days before the wedding), and the
//! couple is invited to the portal. Any failure leaves nothing behind; booking twice is a 409.
use super::packages;
use super::status::BuildStatus;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crm::{InquiryStatus, Move};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Kind, Mails};
use crate::studio::Studio;
use crate::{audit, mail, money};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// Who books: the contract's last signature (automatically, by the studio's setting; the
/// contract must be fully signed) or a staff member, who gives the reason when booking on the
/// couple's behalf before the contract is fully signed.
pub enum Booker<'a> {
    LastSignature,
    Staff { id: i32, reason: &'a str },
}

/// One invoice of the payment schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instalment {
    pub description: &'static str,
    pub amount: Decimal,
    pub due: NaiveDate,
}

/// The payment schedule of an approved price: the deposit (the studio's percent, rounded to
/// the cent half away from zero) due on booking, and the rest due `balance_days` before the
/// wedding (on booking when that day has passed). The two always add up to the price exactly;
/// an instalment of nothing is left out.
pub fn schedule(
    price: Decimal,
    deposit_percent: Decimal,
    booked_on: NaiveDate,
    wedding: NaiveDate,
    balance_days: i32,
) -> Vec<Instalment> {
    let deposit = money::cents(price * deposit_percent / Decimal::ONE_HUNDRED).min(price);
    let balance_due = balance_due(wedding, booked_on, balance_days);
    [
        ("Deposit", deposit, booked_on),
        ("Balance", price - deposit, balance_due),
    ]
    .into_iter()
    .filter(|(_, amount, _)| *amount > Decimal::ZERO)
    .map(|(description, amount, due)| Instalment {
        description,
        amount,
        due,
    })
    .collect()
}

/// When the balance is due: `balance_days` before the wedding, or `today` when that has passed.
pub fn balance_due(wedding: NaiveDate, today: NaiveDate, balance_days: i32) -> NaiveDate {
    wedding
        .checked_sub_days(Days::new(balance_days.max(0) as u64))
        .unwrap_or(wedding)
        .max(today)
}

/// Issue an invoice of the project, numbered from the sequence with the studio's prefix, sent
/// today. Returns its number.
#[allow(clippy::too_many_arguments)]
pub async fn issue_invoice(
    tx: &mut PgConnection,
    studio: &Studio,
    project: i32,
    today: NaiveDate,
    due: NaiveDate,
    amount: Decimal,
    description: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<String> {
    Ok(sqlx::query_scalar(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               amount_paid, status, description, created_at)
         VALUES ($1, $2 || lpad(nextval('invoice_number_seq')::text, 4, '0'), $3, $4, $5, 0,
                 'Sent', $6, $7)
         RETURNING invoice_number",
    )
    .bind(project)
    .bind(&studio.invoice_prefix)
    .bind(today)
    .bind(due)
    .bind(amount)
    .bind(description)
    .bind(now)
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
    pub fn send(self) {
        if let Some(i) = self.invitation {
            i.send();
        }
        self.mails.send();
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
    let moved = crate::crm::transition(tx, q.inquiry_id, Move::Booking, inquiry_actor).await?;
    debug_assert_eq!(moved, Some(InquiryStatus::Booked));
    let configuration = packages::configuration(tx, build).await?;
    sqlx::query(
        "INSERT INTO build_change_orders (build_id, version_number, price_delta,
                new_total_approved_price, description, status, snapshot, created_at, answered_at,
                live_price)
         VALUES ($1, 1, $2, $2, 'Original agreement', 'Approved', $3, $4, $4, $2)",
    )
    .bind(build)
    .bind(price)
    .bind(serde_json::to_value(&configuration).map_err(anyhow::Error::from)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // The inquiry's documents (the contract among them) belong to the project from now on.
    sqlx::query(
        "UPDATE documents SET project_id = $2 WHERE inquiry_id = $1 AND project_id IS NULL",
    )
    .bind(q.inquiry_id)
    .bind(project_id)
    .execute(&mut *tx)
    .await?;
    let plan = schedule(
        price,
        studio.deposit_percent,
        today,
        wedding,
        studio.balance_due_days_before_wedding,
    );
    let mut invoices = vec![];
    for i in &plan {
        let number = issue_invoice(
            tx,
            studio,
            project_id,
            today,
            i.due,
            i.amount,
            i.description,
            now,
        )
        .await?;
        invoices.push(number);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_deposit_and_the_balance_add_up_to_the_price_to_the_cent() {
        let booked = day(2026, 11, 28);
        let wedding = day(2027, 6, 12);
        let plan = schedule(dec("5775.75"), dec("30"), booked, wedding, 30);
        // 30% of 5,775.75 = 1,732.725 -> 1,732.73 (half away from zero)
        assert_eq!(plan[0].amount, dec("1732.73"));
        assert_eq!(plan[0].due, booked);
        assert_eq!(plan[1].amount, dec("4043.02"));
        assert_eq!(plan[1].due, day(2027, 5, 13));
        for cents in [1_i64, 3, 99, 100, 123_457, 999_999] {
            for pct in [dec("0"), dec("12.5"), dec("33.33"), dec("50"), dec("100")] {
                let price = Decimal::new(cents, 2);
                let plan = schedule(price, pct, booked, wedding, 30);
                let sum: Decimal = plan.iter().map(|i| i.amount).sum();
                assert_eq!(sum, price, "{price} at {pct}%");
                assert!(plan.iter().all(|i| i.amount > Decimal::ZERO));
            }
        }
    }

    #[test]
    fn a_balance_due_before_booking_is_due_on_booking() {
        let booked = day(2026, 11, 28);
        let plan = schedule(dec("1000"), dec("30"), booked, day(2026, 12, 10), 30);
        assert_eq!(plan[1].due, booked);
    }
}

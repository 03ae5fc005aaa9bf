//! Change orders (decisions.md, Phase 4): after booking the configuration may still change and
//! `live_price` follows it, but `approved_price` moves only when the couple approves a change
//! order. Proposing one records the difference from the last approved configuration (with an
//! optional discount on it), a snapshot, and locks the quote until the couple answers; one is
//! pending at a time and version numbers never repeat. Approving sets the new approved price and
//! issues the difference (an invoice, or a credit note when negative); declining puts the last
//! approved configuration back exactly.
use super::packages::{self, Configuration};
use super::status::BuildStatus;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::notify::{self, Kind, Mails};
use crate::studio::Studio;
use crate::{audit, money};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use sqlx::types::Json;
use std::collections::BTreeSet;

/// The new approved total of a change: the difference, less the discount on an addition.
pub fn new_total(approved: Decimal, delta: Decimal, discount_percent: Decimal) -> Decimal {
    let discounted = delta - money::cents(delta * discount_percent / Decimal::ONE_HUNDRED);
    approved + discounted
}

/// A change the studio proposes: what it is, and the discount on it (percent, with a reason).
pub struct Proposal<'a> {
    pub description: &'a str,
    pub discount_percent: &'a str,
    pub discount_reason: &'a str,
}

/// Propose the change from the last approved configuration to the current one. Returns the
/// version number.
pub async fn propose(
    tx: &mut PgConnection,
    clock: &Clock,
    build: i32,
    p: &Proposal<'_>,
    actor: i32,
) -> AppResult<i32> {
    let (status, approved, live): (String, Decimal, Decimal) = sqlx::query_as(
        "SELECT status::text, approved_price, live_price FROM builds WHERE id = $1 FOR UPDATE",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("quote {build}")))?;
    if status != BuildStatus::Booked.to_string() {
        return Err(AppError::Conflict(
            "change orders are for booked quotes; before booking, send a new proposal".into(),
        ));
    }
    let waiting: Option<i32> = sqlx::query_scalar(
        "SELECT version_number FROM build_change_orders
         WHERE build_id = $1 AND status = 'Pending Approval'",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(v) = waiting {
        return Err(AppError::Conflict(format!(
            "change order {v} is already waiting for the couple's answer"
        )));
    }
    let description = p.description.trim();
    if description.is_empty() || description.chars().count() > 1000 {
        return Err(AppError::field(
            "description",
            "say what changes, for the couple (up to 1,000 characters)",
        ));
    }
    let discount: Decimal = match p.discount_percent.trim() {
        "" => Decimal::ZERO,
        d => d
            .parse()
            .ok()
            .filter(|d: &Decimal| (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(d))
            .ok_or_else(|| {
                AppError::field("discount_percent", "enter a percentage from 0 to 100")
            })?,
    };
    // The change is priced from the last approved configuration's own price, not from the
    // approved total (which may hold a discount).
    let base: Option<Decimal> = sqlx::query_scalar(
        "SELECT live_price FROM build_change_orders
         WHERE build_id = $1 AND status = 'Approved' ORDER BY version_number DESC LIMIT 1",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    let delta = live - base.unwrap_or(approved);
    let reason = p.discount_reason.trim();
    if !discount.is_zero() && delta <= Decimal::ZERO {
        return Err(AppError::field(
            "discount_percent",
            "a discount is for a change that adds to the price",
        ));
    }
    if !discount.is_zero() && reason.is_empty() {
        return Err(AppError::field(
            "discount_reason",
            "say why there is a discount",
        ));
    }
    let now_config = packages::configuration(tx, build).await?;
    if now_config == last_approved(tx, build).await? {
        return Err(AppError::Conflict(
            "nothing changed since the last approved version".into(),
        ));
    }
    let total = new_total(approved, delta, discount);
    let studio = Studio::load(&mut *tx).await?;
    let taxable = super::engine::breakdown(tx, &studio, build).await?.taxable;
    let version: i32 = sqlx::query_scalar(
        "INSERT INTO build_change_orders (build_id, version_number, price_delta,
                new_total_approved_price, description, status, discount_percentage,
                discount_reason, snapshot, created_at, live_price, taxable_price)
         SELECT $1, COALESCE(max(version_number), 0) + 1, $2, $3, $4, 'Pending Approval', $5,
                NULLIF($6, ''), $7, $8, $9, $10
         FROM build_change_orders WHERE build_id = $1
         RETURNING version_number",
    )
    .bind(build)
    .bind(total - approved)
    .bind(total)
    .bind(description)
    .bind(discount)
    .bind(reason)
    .bind(serde_json::to_value(&now_config).map_err(anyhow::Error::from)?)
    .bind(clock.now())
    .bind(live)
    .bind(taxable)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        tx,
        Some(actor),
        "builds.change_order.propose",
        "build",
        Some(build),
        serde_json::json!({ "version": version, "total": total, "discount_percent": discount }),
    )
    .await?;
    Ok(version)
}

/// The configuration of the last approved version.
async fn last_approved(tx: &mut PgConnection, build: i32) -> AppResult<Configuration> {
    let snapshot: Option<Json<Configuration>> = sqlx::query_scalar(
        "SELECT snapshot FROM build_change_orders
         WHERE build_id = $1 AND status = 'Approved' ORDER BY version_number DESC LIMIT 1",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    snapshot
        .map(|s| s.0)
        .ok_or_else(|| AppError::Conflict("this quote has no approved version".into()))
}

/// A pending change order as its answer needs it.
#[derive(sqlx::FromRow)]
struct Answered {
    delta: Decimal,
    total: Decimal,
    project_id: Option<i32>,
    wedding_date: Option<NaiveDate>,
    /// The change of the taxable part of the price, discounted like the change.
    taxable_delta: Decimal,
}

/// Who answers for the couple: the couple in the portal, or a staff member recording it.
#[derive(Clone, Copy)]
pub enum Answerer {
    Couple,
    Staff(i32),
}

/// The couple's answer to the pending change order `version`: approve (the new approved price,
/// and the difference invoiced or credited) or decline (the last approved configuration back).
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    version: i32,
    approve: bool,
    by: Answerer,
) -> AppResult<Mails> {
    let found: Option<Answered> = sqlx::query_as(
        "SELECT o.price_delta AS delta, o.new_total_approved_price AS total, b.project_id,
                p.wedding_date,
                (COALESCE(o.taxable_price, o.live_price, 0)
                 - COALESCE((SELECT COALESCE(a.taxable_price, a.live_price)
                             FROM build_change_orders a
                             WHERE a.build_id = o.build_id AND a.status = 'Approved'
                               AND a.version_number < o.version_number
                             ORDER BY a.version_number DESC LIMIT 1), b.approved_price, 0))
                * (1 - COALESCE(o.discount_percentage, 0) / 100) AS taxable_delta
         FROM build_change_orders o JOIN builds b ON b.id = o.build_id
         LEFT JOIN projects p ON p.id = b.project_id
         WHERE o.build_id = $1 AND o.version_number = $2 AND o.status = 'Pending Approval'
         FOR UPDATE OF o, b",
    )
    .bind(build)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(Answered {
        delta,
        total,
        project_id: project,
        wedding_date: wedding,
        taxable_delta,
    }) = found
    else {
        return Err(AppError::Conflict(format!(
            "change order {version} is not waiting for an answer"
        )));
    };
    let now = clock.now();
    let status = if approve { "Approved" } else { "Rejected" };
    sqlx::query(
        "UPDATE build_change_orders SET status = $3::change_order_status, answered_at = $4
         WHERE build_id = $1 AND version_number = $2",
    )
    .bind(build)
    .bind(version)
    .bind(status)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if approve {
        sqlx::query("UPDATE builds SET approved_price = $2, updated_at = $3 WHERE id = $1")
            .bind(build)
            .bind(total)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if let (Some(project), false) = (project, delta.is_zero()) {
            let today = clock.today(&studio.time_zone);
            let days = studio.balance_due_days_before_wedding;
            // Due like the balance: N days before the wedding (today when that has passed),
            // and moved with the wedding by a postponement.
            let rule = crate::schedule::Due::BeforeWedding { days };
            let due = wedding.map_or(today, |w| crate::schedule::due_day(rule, 0, today, w));
            let what = if delta > Decimal::ZERO {
                format!("Change order {version}")
            } else {
                format!("Credit note: change order {version}")
            };
            let invoice = super::booking::NewInvoice {
                description: &what,
                amount: delta,
                // The tax on the change of the taxable lines (less its discount).
                tax: crate::money::tax(taxable_delta, studio.tax_rate_percent),
                due,
                rule: wedding.map(|_| (rule, 0)),
            };
            super::booking::issue_invoice(tx, studio, project, today, now, invoice).await?;
        }
    } else {
        // The last approved configuration, exactly, in place of the proposed one.
        let mut back = last_approved(tx, build).await?;
        // The films are put back touching only what the change altered: a film it did not
        // add or remove keeps its components, and the tasks and work on them, by id.
        packages::restore_films(tx, build, &back.films).await?;
        back.films.clear();
        for table in ["build_billable_items", "build_coverage_assignments"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE build_id = $1"))
                .bind(build)
                .execute(&mut *tx)
                .await?;
        }
        let actor = match by {
            Answerer::Staff(id) => Some(id),
            Answerer::Couple => None,
        };
        let what = format!("change order {version} declined");
        packages::apply(tx, build, &back, actor, &what).await?;
    }
    // The tasks follow the configuration agreed now (approved: the new one; declined: the last
    // approved one, rebuilt).
    if let Some(project) = project {
        crate::production::generate(tx, studio, project, now).await?;
    }
    let (actor, who) = match by {
        Answerer::Staff(id) => (Some(id), "recorded by the studio"),
        Answerer::Couple => (None, "the couple in the portal"),
    };
    let mails = notify::staff(
        tx,
        settings,
        now,
        Kind::ChangeOrderAnswered,
        &["Owner", "Sales"],
        &format!(
            "Change order {version} of quote #{build} {} ({who}).",
            if approve { "approved" } else { "declined" }
        ),
        &format!("/quotes/{build}/changes"),
    )
    .await?;
    audit::record(
        tx,
        actor,
        if approve {
            "builds.change_order.approve"
        } else {
            "builds.change_order.decline"
        },
        "build",
        Some(build),
        serde_json::json!({ "version": version, "by": who }),
    )
    .await?;
    Ok(mails)
}

/// One version of the agreement, for the history page.
#[derive(sqlx::FromRow)]
pub struct Version {
    pub version_number: i32,
    pub status: String,
    pub description: String,
    pub price_delta: Decimal,
    pub new_total_approved_price: Decimal,
    pub discount_percentage: Option<Decimal>,
    pub discount_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub snapshot: Option<Json<Configuration>>,
}

/// Every version of a build's agreement, oldest first.
pub async fn history(conn: &mut PgConnection, build: i32) -> AppResult<Vec<Version>> {
    Ok(sqlx::query_as(
        "SELECT version_number, status::text AS status, description, price_delta,
                new_total_approved_price, discount_percentage, discount_reason, created_at,
                answered_at, snapshot
         FROM build_change_orders WHERE build_id = $1 ORDER BY version_number",
    )
    .bind(build)
    .fetch_all(conn)
    .await?)
}

/// A configuration as lines a person reads, with names for the catalog ids.
pub fn lines(c: &Configuration, name: &dyn Fn(&str, i32) -> String) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in &c.coverage {
        let hours = r
            .hours
            .map(|h| format!(", {} h", h.normalize()))
            .unwrap_or_default();
        out.insert(format!(
            "Coverage: {} · {} × {}{hours}",
            name("scene", r.scene),
            name("operator", r.operator),
            r.quantity
        ));
    }
    for f in &c.films {
        let film = name("film", f.deliverable);
        out.insert(format!("Film: {film}"));
        for p in f.components.iter().filter(|p| p.included) {
            let minutes = p
                .target_minutes
                .map(|m| format!(", {} min", m.normalize()))
                .unwrap_or_default();
            out.insert(format!(
                "{film}: {} in {}{minutes}",
                name("scene", p.scene),
                name("style", p.style)
            ));
        }
    }
    for a in &c.add_ons {
        out.insert(format!("Add-on: {} × {}", name("item", a.item), a.quantity));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::new_total;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_discount_comes_off_the_addition_to_the_cent() {
        // 4,371.00 approved; the change adds 333.33; 15% off it is 50.00 (49.9995 rounded).
        assert_eq!(new_total(d("4371.00"), d("333.33"), d("15")), d("4654.33"));
        assert_eq!(new_total(d("4371.00"), d("-75.00"), d("0")), d("4296.00"));
        assert_eq!(new_total(d("100.00"), d("0.01"), d("50")), d("100.00"));
    }
}

//! The contract's text: the studio's template (`contract_templates`, the newest saved is in use)
//! with its merge fields filled from the accepted proposal version as the couple saw it, the
//! inquiry and the signers' names.
use super::text::{self, FIELDS};
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::money;
use crate::studio::Studio;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;

/// What the merge fields are filled from: the accepted version as it was sent, the inquiry.
#[derive(sqlx::FromRow)]
struct Snapshot {
    sections: sqlx::types::Json<Vec<Section>>,
    total: Decimal,
    tax_rate_percent: Decimal,
    tax_amount: Decimal,
    wedding_date: Option<NaiveDate>,
    venue_details: Option<String>,
    /// The studio's day the couple accepted (booking is reckoned from it in the text).
    accepted_on: NaiveDate,
}

/// The payment schedule in the contract's words (and the first payment, with its tax), one line per payment, the tax (when the
/// studio charges one) in each: "- Deposit: $1,500.00 (30% of the total), due on booking."
/// Amounts are reckoned as if booked on the day of acceptance; a rule that counts from the
/// booking is said as a rule, one that counts from the wedding as its date and the rule.
async fn schedule_text(
    tx: &mut PgConnection,
    studio: &Studio,
    build: i32,
    snap: &Snapshot,
) -> AppResult<(String, Decimal)> {
    use crate::schedule::{self, Amount, Due};
    let template = crate::payment_schedules::of_build(tx, build).await?;
    let booked = snap.accepted_on;
    // Without a wedding date the dates are unknown: the rules alone are said.
    let wedding = snap.wedding_date.unwrap_or(booked);
    let plan = schedule::instalments(
        &template.parts,
        snap.total,
        snap.tax_amount,
        booked,
        wedding,
    );
    let day = |d: NaiveDate| d.format("%B %-d, %Y").to_string();
    let lines: Vec<String> = plan
        .iter()
        .map(|i| {
            let part = &template.parts[i.part];
            let share = match part.amount {
                Amount::Percent { value } => format!(" ({}% of the total)", value.normalize()),
                _ => String::new(),
            };
            let due = match (i.rule, snap.wedding_date) {
                (Due::OnBooking | Due::AfterBooking { .. }, _) => i.rule.words(),
                (Due::OnDate { .. }, _) => format!("on {}", day(i.due)),
                (Due::BeforeWedding { days }, Some(_)) => {
                    format!("on {} ({days} days before the wedding)", day(i.due))
                }
                (Due::Monthly { .. }, Some(_)) => format!("on {}", day(i.due)),
                (rule, None) => rule.words(),
            };
            format!(
                "- {}: {}{share}, due {due}.",
                i.description,
                studio.money(i.total())
            )
        })
        .collect();
    // The first payment is the deposit of the merge fields; the balance is the rest.
    let first = plan.first().map_or(Decimal::ZERO, |i| i.total());
    Ok((lines.join("\n"), first))
}

/// A part of the proposal as the couple saw it (`quote::proposal` writes it): title and lines
/// of (what, quantity, amount).
#[derive(Deserialize)]
struct Section {
    title: String,
    lines: Vec<(String, String, String)>,
}

/// The lines of the sections titled `titles`, one list item each ("None." without any).
fn list_of(sections: &[Section], titles: &[&str]) -> String {
    let items: Vec<String> = sections
        .iter()
        .filter(|s| titles.contains(&s.title.as_str()))
        .flat_map(|s| &s.lines)
        .map(|(what, qty, amount)| {
            let qty = if qty.is_empty() {
                String::new()
            } else {
                format!(" {qty}")
            };
            format!("- {what}{qty}: {amount}")
        })
        .collect();
    if items.is_empty() {
        "None.".into()
    } else {
        items.join("\n")
    }
}

/// "A", "A and B".
pub(super) fn names(names: &[String]) -> String {
    names.join(" and ")
}

/// The contract's text: the template with the fields filled from the version and the signers.
pub(super) async fn render(
    tx: &mut PgConnection,
    studio: &Studio,
    build: i32,
    version: i32,
    template: &str,
    signers: &[String],
) -> AppResult<String> {
    let snap: Snapshot = sqlx::query_as(
        "SELECT v.sections, v.total, v.tax_rate_percent, v.tax_amount, i.wedding_date,
                i.venue_details,
                (COALESCE(v.accepted_at, v.sent_at) AT TIME ZONE s.time_zone)::date AS accepted_on
         FROM proposal_versions v JOIN builds b ON b.id = v.build_id CROSS JOIN studio_settings s
         JOIN inquiries i ON i.id = b.inquiry_id
         WHERE v.build_id = $1 AND v.version = $2",
    )
    .bind(build)
    .bind(version)
    .fetch_one(&mut *tx)
    .await?;
    let total = money::cents(snap.total) + snap.tax_amount;
    let tax_words = if snap.tax_amount.is_zero() {
        String::new()
    } else {
        format!(
            ", including {} tax ({}%)",
            studio.money(snap.tax_amount),
            snap.tax_rate_percent.normalize()
        )
    };
    let day = |d: NaiveDate| d.format("%B %-d, %Y").to_string();
    let (schedule, deposit) = schedule_text(tx, studio, build, &snap).await?;
    let balance = total - deposit;
    let sections = &snap.sections.0;
    let value = |field: &str| -> Option<String> {
        Some(match field {
            "couple_names" => names(signers),
            "wedding_date" => snap
                .wedding_date
                .map_or("a date to be confirmed".into(), day),
            "venue" => snap
                .venue_details
                .clone()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "a venue to be confirmed".into()),
            "coverage" => list_of(sections, &["Coverage"]),
            "films" => list_of(sections, &["Films"]),
            "add_ons" => list_of(sections, &["Style and add-ons"]),
            "total" => format!("{}{tax_words}", studio.money(total)),
            "deposit" => studio.money(deposit),
            "balance" => studio.money(balance),
            "payment_schedule" => schedule.clone(),
            "proposal_version" => version.to_string(),
            "studio_name" => studio.studio_name.clone(),
            _ => return None,
        })
    };
    debug_assert!(FIELDS.iter().all(|f| value(f.0).is_some()));
    text::merge(template, value).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

/// The template in use (the newest saved): id and text.
pub async fn template(conn: &mut PgConnection) -> AppResult<(i32, String)> {
    Ok(
        sqlx::query_as("SELECT id, body FROM contract_templates ORDER BY id DESC LIMIT 1")
            .fetch_one(conn)
            .await?,
    )
}

/// Save a new template (422 by the field `body` when it has an unknown merge field).
pub async fn save_template(tx: &mut PgConnection, body: &str, actor: i32) -> AppResult<i32> {
    let body = body.replace("\r\n", "\n");
    text::check(&body).map_err(|m| AppError::field("body", m))?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO contract_templates (body, saved_by) VALUES ($1, $2) RETURNING id",
    )
    .bind(&body)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        tx,
        Some(actor),
        "settings.contract_template.update",
        "contract_template",
        Some(id),
        serde_json::json!({ "characters": body.chars().count() }),
    )
    .await?;
    Ok(id)
}

//! The studio settings (currency, time zone, editing rate, tax, deposit, balance due days,
//! invoice prefix, task phases, how long proposals stay open, which notifications also email
//! the owner): their form and its checks, saving them (audited), and the Settings > Studio page. They are read through `crate::studio::Studio`, once per request.
use super::field::invalid;
use super::pages::Flash;
use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::form::Refusal;
use crate::http::json;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::notify::Kind;
use crate::studio::Studio;
use askama::Template;
use axum::extract::{Query, RawForm};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgConnection;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/settings/studio", manage, studio_page)
        .post("/settings/studio", manage, save_studio)
}

/// The settings as people type them (and as the API shows them): text, phases one per line.
#[derive(Deserialize, Default)]
pub struct StudioForm {
    #[serde(default)]
    pub studio_name: String,
    #[serde(default)]
    pub currency_code: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub editing_hourly_rate: String,
    #[serde(default)]
    pub tax_rate_percent: String,
    #[serde(default)]
    pub deposit_percent: String,
    #[serde(default)]
    pub balance_due_days_before_wedding: String,
    #[serde(default)]
    pub invoice_prefix: String,
    /// One phase per line, in order.
    #[serde(default)]
    pub task_phase_order: String,
    /// Days a proposal can be accepted after it is sent (1 to 365).
    #[serde(default)]
    pub proposal_valid_days: String,
    /// Weeks after the wedding the films are promised by (1 to 104); None (a form or a request
    /// without it) keeps the studio's current value.
    #[serde(default)]
    pub delivery_weeks_after_wedding: Option<String>,
    /// The card fee estimate of the profitability report: a percentage of each payment (0 to
    /// 100) and a fixed fee per payment (0 to 1000); None keeps the current value.
    #[serde(default)]
    pub card_fee_percent: Option<String>,
    #[serde(default)]
    pub card_fee_fixed: Option<String>,
    /// The notification kinds (`notify::Kind` names) also emailed to the Owner(s): one form
    /// field per ticked box, read by `from_form`.
    #[serde(skip)]
    pub notify_email_kinds: Vec<String>,
}

/// A DECIMAL(p, 2) as PostgreSQL writes it: always two decimals ("0.00", not "0").
fn cents_text(d: Decimal) -> String {
    let mut d = d;
    d.rescale(2);
    d.to_string()
}

impl From<&Studio> for StudioForm {
    fn from(s: &Studio) -> StudioForm {
        StudioForm {
            studio_name: s.studio_name.clone(),
            currency_code: s.currency_code.clone(),
            time_zone: s.time_zone.clone(),
            editing_hourly_rate: cents_text(s.editing_hourly_rate),
            tax_rate_percent: cents_text(s.tax_rate_percent),
            deposit_percent: cents_text(s.deposit_percent),
            balance_due_days_before_wedding: s.balance_due_days_before_wedding.to_string(),
            invoice_prefix: s.invoice_prefix.clone(),
            task_phase_order: s.task_phase_order.join("\n"),
            proposal_valid_days: s.proposal_valid_days.to_string(),
            delivery_weeks_after_wedding: Some(s.delivery_weeks_after_wedding.to_string()),
            card_fee_percent: Some(cents_text(s.card_fee_percent)),
            card_fee_fixed: Some(cents_text(s.card_fee_fixed)),
            notify_email_kinds: s.notify_email_kinds.clone(),
        }
    }
}

/// An amount from 0 to `max` with at most 2 decimals.
fn amount(v: &str, max: Decimal) -> Option<Decimal> {
    Decimal::from_str_exact(v.trim())
        .ok()
        .filter(|d| *d >= Decimal::ZERO && *d <= max && d.normalize().scale() <= 2)
}

/// What each field must be, in the order the problems are listed.
const CHECKS: &[(&str, &str)] = &[
    ("studio_name", "enter the studio's name"),
    (
        "currency_code",
        "use a three-letter ISO code such as USD, EUR or GBP",
    ),
    (
        "time_zone",
        "use a time zone name such as America/Los_Angeles or Europe/London",
    ),
    (
        "editing_hourly_rate",
        "enter an amount of 0 or more with at most 2 decimals",
    ),
    ("tax_rate_percent", "enter a percentage from 0 to 100"),
    ("deposit_percent", "enter a percentage from 0 to 100"),
    (
        "balance_due_days_before_wedding",
        "enter a whole number of days, 0 or more",
    ),
    ("invoice_prefix", "at most 20 characters"),
    ("task_phase_order", "list at least one phase, one per line"),
    (
        "proposal_valid_days",
        "enter a whole number of days from 1 to 365",
    ),
    (
        "delivery_weeks_after_wedding",
        "enter a whole number of weeks from 1 to 104",
    ),
    ("card_fee_percent", "enter a percentage from 0 to 100"),
    (
        "card_fee_fixed",
        "enter an amount from 0 to 1000 with at most 2 decimals",
    ),
    ("notify_email_kinds", "choose among the kinds listed"),
];

impl StudioForm {
    /// Every problem, each by its field.
    fn check(&self) -> Vec<FieldError> {
        CHECKS
            .iter()
            .filter(|(field, _)| !self.is_ok(field))
            .map(|(field, message)| FieldError {
                field: field.to_string(),
                message: message.to_string(),
            })
            .collect()
    }

    /// Whether one field's value can be saved.
    fn is_ok(&self, field: &str) -> bool {
        match field {
            "studio_name" => {
                !self.studio_name.trim().is_empty() && self.studio_name.chars().count() <= 255
            }
            "currency_code" => {
                let cc = self.currency_code.trim();
                cc.len() == 3 && cc.chars().all(|c| c.is_ascii_uppercase())
            }
            "time_zone" => self.time_zone.trim().parse::<chrono_tz::Tz>().is_ok(),
            // DECIMAL(8,2)
            "editing_hourly_rate" => {
                amount(&self.editing_hourly_rate, Decimal::new(99_999_999, 2)).is_some()
            }
            "tax_rate_percent" => amount(&self.tax_rate_percent, Decimal::ONE_HUNDRED).is_some(),
            "deposit_percent" => amount(&self.deposit_percent, Decimal::ONE_HUNDRED).is_some(),
            "balance_due_days_before_wedding" => {
                let days = self.balance_due_days_before_wedding.trim();
                days.parse::<u16>().is_ok()
            }
            "invoice_prefix" => self.invoice_prefix.chars().count() <= 20,
            "task_phase_order" => !self.phases().is_empty(),
            "proposal_valid_days" => self
                .proposal_valid_days
                .trim()
                .parse::<u16>()
                .is_ok_and(|d| (1..=365).contains(&d)),
            "delivery_weeks_after_wedding" => self
                .delivery_weeks_after_wedding
                .as_deref()
                .is_none_or(|w| w.trim().parse::<u8>().is_ok_and(|w| (1..=104).contains(&w))),
            "card_fee_percent" => self
                .card_fee_percent
                .as_deref()
                .is_none_or(|v| amount(v, Decimal::ONE_HUNDRED).is_some()),
            "card_fee_fixed" => self
                .card_fee_fixed
                .as_deref()
                .is_none_or(|v| amount(v, Decimal::ONE_THOUSAND).is_some()),
            "notify_email_kinds" => self
                .notify_email_kinds
                .iter()
                .all(|k| Kind::parse(k.trim()).is_some()),
            other => unreachable!("CHECKS names {other}, which has no check"),
        }
    }

    /// The form as a browser sends it: the fields, and each ticked notification kind.
    pub fn from_form(body: &[u8]) -> AppResult<StudioForm> {
        let mut form: StudioForm =
            serde_urlencoded::from_bytes(body).map_err(|e| AppError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                message: format!("the form could not be read: {e}"),
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        form.notify_email_kinds = pairs
            .into_iter()
            .filter(|(k, _)| k == "notify_email_kinds")
            .map(|(_, v)| v)
            .collect();
        Ok(form)
    }

    /// The kinds to email, once each, in `Kind::ALL` order (after `check`).
    fn email_kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.notify_email_kinds.iter().any(|n| n.trim() == k.name()))
            .collect()
    }

    fn phases(&self) -> Vec<String> {
        self.task_phase_order
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    /// What the API and the audit log show.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(StudioSettings::from(self)).unwrap_or_default()
    }
}

/// The studio settings as the API reads and shows them: decimals and days as text (a whole
/// number is read too), the task phases as a list. Every field is required but the delivery
/// weeks and the card fee (left out: unchanged).
#[derive(Deserialize, Serialize, ToSchema)]
pub struct StudioSettings {
    #[schema(min_length = 1, max_length = 255)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub studio_name: String,
    /// A three-letter ISO 4217 code; every price is shown in it.
    #[schema(pattern = r"^[A-Z]{3}$")]
    pub currency_code: String,
    #[schema(schema_with = time_zones)]
    pub time_zone: String,
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = rate_schema)]
    pub editing_hourly_rate: String,
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = percent_schema)]
    pub tax_rate_percent: String,
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = percent_schema)]
    pub deposit_percent: String,
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = days_schema)]
    pub balance_due_days_before_wedding: String,
    #[schema(max_length = 20, pattern = r"^[^\x00]*$")]
    pub invoice_prefix: String,
    /// The task phases in order; each has something other than white space.
    #[schema(min_items = 1, inline)]
    pub task_phase_order: Vec<Phase>,
    /// How many days a proposal can be accepted after it is sent.
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = valid_days_schema)]
    pub proposal_valid_days: String,
    /// Weeks after the wedding the films are promised by, for weddings booked from now on (a
    /// promise already made stays). Left out: unchanged.
    #[serde(default, deserialize_with = "json::opt_int")]
    #[schema(minimum = 1, maximum = 104)]
    pub delivery_weeks_after_wedding: Option<i32>,
    /// The card fee the profitability report estimates for each payment: this percentage of
    /// it (0 to 100)... Left out or null: unchanged.
    #[serde(default, deserialize_with = "opt_decimal_text")]
    #[schema(schema_with = opt_percent_schema)]
    pub card_fee_percent: Option<String>,
    /// ...plus this fixed amount (0 to 1000). Left out or null: unchanged.
    #[serde(default, deserialize_with = "opt_decimal_text")]
    #[schema(schema_with = fee_fixed_schema)]
    pub card_fee_fixed: Option<String>,
    /// The kinds of notification also emailed to the studio's Owner(s) (every kind always
    /// reaches their inbox); empty: none.
    pub notify_email_kinds: Vec<Kind>,
}

/// A task phase.
#[derive(Deserialize, Serialize, ToSchema)]
#[schema(
    pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
)]
pub struct Phase(pub String);

fn time_zones() -> Object {
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .description(Some("An IANA time zone, e.g. America/Los_Angeles."))
        .build()
}

fn rate_schema() -> Schema {
    let pattern = r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?$";
    json::decimal_schema(
        pattern,
        (0, 999_999),
        false,
        "0 to 999999.99, at most 2 decimals.",
    )
}

fn percent_schema() -> Schema {
    let pattern = r"^((0|[1-9][0-9]?)(\.[0-9]{1,2})?|100(\.00?)?)$";
    json::decimal_schema(pattern, (0, 100), false, "0 to 100, at most 2 decimals.")
}

fn opt_percent_schema() -> Schema {
    let pattern = r"^((0|[1-9][0-9]?)(\.[0-9]{1,2})?|100(\.00?)?)$";
    json::decimal_schema(pattern, (0, 100), true, "0 to 100, at most 2 decimals.")
}

fn fee_fixed_schema() -> Schema {
    let pattern = r"^((0|[1-9][0-9]{0,2})(\.[0-9]{1,2})?|1000(\.00?)?)$";
    json::decimal_schema(pattern, (0, 1000), true, "0 to 1000, at most 2 decimals.")
}

/// `json::opt_decimal`, kept as text (`2` becomes `"2"`).
fn opt_decimal_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(json::opt_decimal(d)?.map(|v| v.to_string()))
}

fn days_schema() -> Schema {
    let pattern = concat!(
        r"^(0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]",
        r"|6553[0-5])$"
    );
    json::decimal_schema(pattern, (0, 65_535), false, "Whole days, 0 to 65535.")
}

fn valid_days_schema() -> Schema {
    let pattern = r"^([1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-5])$";
    json::decimal_schema(pattern, (1, 365), false, "Whole days, 1 to 365.")
}

impl From<&StudioForm> for StudioSettings {
    fn from(f: &StudioForm) -> StudioSettings {
        StudioSettings {
            studio_name: f.studio_name.trim().into(),
            currency_code: f.currency_code.trim().into(),
            time_zone: f.time_zone.trim().into(),
            editing_hourly_rate: f.editing_hourly_rate.trim().into(),
            tax_rate_percent: f.tax_rate_percent.trim().into(),
            deposit_percent: f.deposit_percent.trim().into(),
            balance_due_days_before_wedding: f.balance_due_days_before_wedding.trim().into(),
            invoice_prefix: f.invoice_prefix.trim().into(),
            task_phase_order: f.phases().into_iter().map(Phase).collect(),
            proposal_valid_days: f.proposal_valid_days.trim().into(),
            delivery_weeks_after_wedding: f
                .delivery_weeks_after_wedding
                .as_deref()
                .and_then(|w| w.trim().parse().ok()),
            card_fee_percent: f.card_fee_percent.as_deref().map(|v| v.trim().into()),
            card_fee_fixed: f.card_fee_fixed.as_deref().map(|v| v.trim().into()),
            notify_email_kinds: f.email_kinds(),
        }
    }
}

impl StudioSettings {
    /// As the form: a blank phase is a 422 naming `task_phase_order`, as the document says.
    pub fn into_form(self) -> AppResult<StudioForm> {
        if self.task_phase_order.iter().any(|p| p.0.trim().is_empty()) {
            return Err(AppError::field(
                "task_phase_order",
                "a phase cannot be blank",
            ));
        }
        let phases: Vec<String> = self.task_phase_order.into_iter().map(|p| p.0).collect();
        Ok(StudioForm {
            studio_name: self.studio_name,
            currency_code: self.currency_code,
            time_zone: self.time_zone,
            editing_hourly_rate: self.editing_hourly_rate,
            tax_rate_percent: self.tax_rate_percent,
            deposit_percent: self.deposit_percent,
            balance_due_days_before_wedding: self.balance_due_days_before_wedding,
            invoice_prefix: self.invoice_prefix,
            task_phase_order: phases.join("\n"),
            proposal_valid_days: self.proposal_valid_days,
            delivery_weeks_after_wedding: self.delivery_weeks_after_wedding.map(|w| w.to_string()),
            card_fee_percent: self.card_fee_percent,
            card_fee_fixed: self.card_fee_fixed,
            notify_email_kinds: self
                .notify_email_kinds
                .iter()
                .map(|k| k.name().to_string())
                .collect(),
        })
    }
}

/// The settings as they are.
pub async fn load(conn: &mut PgConnection) -> AppResult<StudioForm> {
    Ok(StudioForm::from(&Studio::load(conn).await?))
}

/// Check and save the studio settings in the caller's transaction (audited with before and
/// after); the settings as saved.
pub async fn update(tx: &mut PgConnection, s: &StudioForm, actor: i32) -> AppResult<StudioForm> {
    let errors = s.check();
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let before = load(tx).await?;
    let saved: Studio = sqlx::query_as(&format!(
        "UPDATE studio_settings SET studio_name = $1, currency_code = $2, time_zone = $3,
           editing_hourly_rate = $4::numeric, tax_rate_percent = $5::numeric,
           deposit_percent = $6::numeric, balance_due_days_before_wedding = $7::int,
           invoice_prefix = $8, task_phase_order = $9, proposal_valid_days = $10::int,
           notify_email_kinds = $11,
           delivery_weeks_after_wedding = COALESCE($12::int, delivery_weeks_after_wedding),
           card_fee_percent = COALESCE($13::numeric, card_fee_percent),
           card_fee_fixed = COALESCE($14::numeric, card_fee_fixed),
           updated_at = now()
         RETURNING {}",
        Studio::COLUMNS
    ))
    .bind(s.studio_name.trim())
    .bind(s.currency_code.trim())
    .bind(s.time_zone.trim())
    .bind(s.editing_hourly_rate.trim())
    .bind(s.tax_rate_percent.trim())
    .bind(s.deposit_percent.trim())
    .bind(s.balance_due_days_before_wedding.trim())
    .bind(s.invoice_prefix.trim())
    .bind(s.phases())
    .bind(s.proposal_valid_days.trim())
    .bind(
        s.email_kinds()
            .into_iter()
            .map(|k| k.name())
            .collect::<Vec<_>>(),
    )
    .bind(
        s.delivery_weeks_after_wedding
            .as_deref()
            .map(|w| w.trim().parse::<i32>().unwrap_or_default()),
    )
    .bind(s.card_fee_percent.as_deref().map(str::trim))
    .bind(s.card_fee_fixed.as_deref().map(str::trim))
    .fetch_one(&mut *tx)
    .await?;
    let details = json!({ "before": before.to_json(), "after": s.to_json() });
    audit::record(
        tx,
        Some(actor),
        "settings.studio.update",
        "studio_settings",
        None,
        details,
    )
    .await?;
    Ok(StudioForm::from(&saved))
}

#[derive(Template)]
#[template(path = "catalog/studio.html")]
struct StudioPage {
    layout: Layout,
    s: StudioForm,
    refused: Option<Refusal>,
    flash: Option<String>,
}

impl StudioPage {
    /// (field, label, value, hint) of the simple inputs.
    fn inputs(&self) -> Vec<(&'static str, &'static str, &str, &'static str)> {
        let s = &self.s;
        vec![
            ("studio_name", "Studio name", &s.studio_name, ""),
            (
                "currency_code",
                "Currency",
                &s.currency_code,
                "Three-letter code, e.g. USD, EUR, GBP. Every price is shown in it.",
            ),
            (
                "time_zone",
                "Time zone",
                &s.time_zone,
                "e.g. America/Los_Angeles",
            ),
            (
                "editing_hourly_rate",
                "Editing hourly rate",
                &s.editing_hourly_rate,
                "Hourly task templates are priced at effort hours x this rate.",
            ),
            ("tax_rate_percent", "Tax rate (%)", &s.tax_rate_percent, ""),
            (
                "deposit_percent",
                "Deposit (%)",
                &s.deposit_percent,
                "Invoiced at booking, by the built-in payment schedule (Settings > Payment \
                 schedules has others).",
            ),
            (
                "balance_due_days_before_wedding",
                "Balance due (days before the wedding)",
                &s.balance_due_days_before_wedding,
                "The rest of the built-in payment schedule, and change orders, are due then.",
            ),
            (
                "invoice_prefix",
                "Invoice number prefix",
                &s.invoice_prefix,
                "e.g. GHF-",
            ),
            (
                "proposal_valid_days",
                "Proposals open for (days)",
                &s.proposal_valid_days,
                "How long a couple can accept a proposal after it is sent: 1 to 365 days.",
            ),
            (
                "delivery_weeks_after_wedding",
                "Films delivered within (weeks of the wedding)",
                s.delivery_weeks_after_wedding.as_deref().unwrap_or(""),
                "The promise to the couple: task due dates count back from it. A change applies \
                 to weddings booked after it; a promise already made stays.",
            ),
            (
                "card_fee_percent",
                "Card fee (% of each payment)",
                s.card_fee_percent.as_deref().unwrap_or(""),
                "Your card processor's rate: the profitability report estimates the fee of each \
                 payment as this percentage plus the fixed fee below.",
            ),
            (
                "card_fee_fixed",
                "Card fee (fixed, per payment)",
                s.card_fee_fixed.as_deref().unwrap_or(""),
                "In the studio's currency, 0 to 1000.",
            ),
        ]
    }

    /// (kind name, label, ticked) of the notification kinds that can also email the owner.
    fn email_choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        Kind::ALL
            .into_iter()
            .map(|k| {
                let on = self.s.notify_email_kinds.iter().any(|n| n == k.name());
                (k.name(), k.label(), on)
            })
            .collect()
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }
}

async fn studio_page(mut db: Db, staff: Staff, Query(q): Query<Flash>) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Studio settings", "/settings").await?;
    Ok(render(&StudioPage {
        s: StudioForm::from(&layout.settings),
        layout,
        refused: None,
        flash: (q.done == "saved").then(|| "Studio settings are saved.".to_string()),
    }))
}

async fn save_studio(mut db: Db, staff: Staff, RawForm(body): RawForm) -> AppResult<Response> {
    let s = StudioForm::from_form(&body)?;
    let mut tx = db.begin().await?;
    match update(&mut tx, &s, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to("/settings/studio?done=saved").into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let page = StudioPage {
                layout: Layout::load(&mut db, &staff, "Studio settings", "/settings").await?,
                s,
                refused: Some(refused.clone()),
                flash: None,
            };
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

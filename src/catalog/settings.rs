//! The studio settings (currency, time zone, editing rate, tax, deposit, balance due days,
//! invoice prefix, task phases): their form and its checks, saving them (audited), and the
//! Settings > Studio page. They are read through `crate::studio::Studio`, once per request.
use super::field::invalid;
use super::pages::Flash;
use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgConnection;

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
        }
    }
}

/// An amount from 0 to `max` with at most 2 decimals.
fn amount(v: &str, max: i64) -> Option<Decimal> {
    Decimal::from_str_exact(v.trim())
        .ok()
        .filter(|d| *d >= Decimal::ZERO && *d <= Decimal::from(max) && d.normalize().scale() <= 2)
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
];

impl StudioForm {
    /// A JSON body (decimals as strings or numbers, task_phase_order a list) as the form.
    pub fn from_json(v: &Value) -> StudioForm {
        let text = |k: &str| match &v[k] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let phases = v["task_phase_order"].as_array().map(|a| {
            a.iter()
                .filter_map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        });
        StudioForm {
            studio_name: text("studio_name"),
            currency_code: text("currency_code"),
            time_zone: text("time_zone"),
            editing_hourly_rate: text("editing_hourly_rate"),
            tax_rate_percent: text("tax_rate_percent"),
            deposit_percent: text("deposit_percent"),
            balance_due_days_before_wedding: text("balance_due_days_before_wedding"),
            invoice_prefix: text("invoice_prefix"),
            task_phase_order: phases.unwrap_or_default(),
        }
    }

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
            "studio_name" => !self.studio_name.trim().is_empty() && self.studio_name.len() <= 255,
            "currency_code" => {
                let cc = self.currency_code.trim();
                cc.len() == 3 && cc.chars().all(|c| c.is_ascii_uppercase())
            }
            "time_zone" => self.time_zone.trim().parse::<chrono_tz::Tz>().is_ok(),
            "editing_hourly_rate" => amount(&self.editing_hourly_rate, 999_999).is_some(),
            "tax_rate_percent" => amount(&self.tax_rate_percent, 100).is_some(),
            "deposit_percent" => amount(&self.deposit_percent, 100).is_some(),
            "balance_due_days_before_wedding" => {
                let days = self.balance_due_days_before_wedding.trim();
                days.parse::<u16>().is_ok()
            }
            "invoice_prefix" => self.invoice_prefix.len() <= 20,
            "task_phase_order" => !self.phases().is_empty(),
            other => unreachable!("CHECKS names {other}, which has no check"),
        }
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
        json!({
            "studio_name": self.studio_name.trim(),
            "currency_code": self.currency_code.trim(),
            "time_zone": self.time_zone.trim(),
            "editing_hourly_rate": self.editing_hourly_rate.trim(),
            "tax_rate_percent": self.tax_rate_percent.trim(),
            "deposit_percent": self.deposit_percent.trim(),
            "balance_due_days_before_wedding": self.balance_due_days_before_wedding.trim(),
            "invoice_prefix": self.invoice_prefix.trim(),
            "task_phase_order": self.phases(),
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
           invoice_prefix = $8, task_phase_order = $9, updated_at = now()
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
                "Invoiced at booking.",
            ),
            (
                "balance_due_days_before_wedding",
                "Balance due (days before the wedding)",
                &s.balance_due_days_before_wedding,
                "",
            ),
            (
                "invoice_prefix",
                "Invoice number prefix",
                &s.invoice_prefix,
                "e.g. GHF-",
            ),
        ]
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }
}

async fn studio_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<Flash>,
) -> AppResult<Response> {
    let layout = Layout::load(&state.db, &staff, "Studio settings", "/settings").await?;
    Ok(render(&StudioPage {
        s: StudioForm::from(&layout.settings),
        layout,
        refused: None,
        flash: (q.done == "saved").then(|| "Studio settings are saved.".to_string()),
    }))
}

async fn save_studio(
    State(state): State<AppState>,
    staff: Staff,
    Form(s): Form<StudioForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match update(&mut tx, &s, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to("/settings/studio?done=saved").into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let page = StudioPage {
                layout: Layout::load(&state.db, &staff, "Studio settings", "/settings").await?,
                s,
                refused: Some(refused.clone()),
                flash: None,
            };
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

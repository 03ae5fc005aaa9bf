//! The studio's settings (one row of `studio_settings`), read once per request where a page or
//! an action needs them: `Layout::load` reads them for every staff page and hands them on as
//! `layout.settings`, so handlers do not query them again.
use crate::dates::{self, Shown};
use crate::error::AppResult;
use crate::money;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Studio {
    pub studio_name: String,
    pub currency_code: String,
    pub time_zone: String,
    pub editing_hourly_rate: Decimal,
    pub tax_rate_percent: Decimal,
    pub deposit_percent: Decimal,
    pub balance_due_days_before_wedding: i32,
    pub invoice_prefix: String,
    /// The phases of a project's tasks, in order.
    pub task_phase_order: Vec<String>,
    /// How many days a proposal can be accepted after it is sent.
    pub proposal_valid_days: i32,
    /// The kinds of notification (`notify::Kind` names) also emailed to the Owner(s).
    pub notify_email_kinds: Vec<String>,
    /// The promised delivery: this many weeks after the wedding (task due dates count back
    /// from it).
    pub delivery_weeks_after_wedding: i32,
    /// The card processor's rate the profitability report estimates payment fees with: this
    /// percentage of each payment plus `card_fee_fixed`.
    pub card_fee_percent: Decimal,
    pub card_fee_fixed: Decimal,
}

impl Studio {
    /// The columns of `studio_settings` a `Studio` is read from (for SELECT and RETURNING).
    pub const COLUMNS: &str = "studio_name, currency_code::text AS currency_code, time_zone,
        editing_hourly_rate, tax_rate_percent, deposit_percent,
        balance_due_days_before_wedding, invoice_prefix, task_phase_order, proposal_valid_days,
        notify_email_kinds, delivery_weeks_after_wedding, card_fee_percent, card_fee_fixed";

    /// The query `load` runs.
    pub fn load_sql() -> String {
        format!("SELECT {} FROM studio_settings", Self::COLUMNS)
    }

    pub async fn load(conn: &mut PgConnection) -> AppResult<Studio> {
        Ok(sqlx::query_as(&Self::load_sql()).fetch_one(conn).await?)
    }

    /// An amount in the studio's currency, e.g. "$1,234.50".
    pub fn money(&self, amount: Decimal) -> String {
        money::format(amount, &self.currency_code)
    }

    /// An instant as the studio reads it, date and time in its time zone: "Jun 14, 2026 22:30".
    pub fn time(&self, at: &DateTime<Utc>) -> String {
        dates::shown(*at, &self.time_zone, Shown::Time)
    }

    /// The studio's local date of an instant: "Jun 14, 2026".
    pub fn day(&self, at: &DateTime<Utc>) -> String {
        dates::shown(*at, &self.time_zone, Shown::Day)
    }
}

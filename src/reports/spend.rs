//! Marketing spend: what the studio paid for a lead source (and optionally one of its
//! campaigns) on a day, entered by hand; the ROI report adds it up. The list is read newest
//! day first (then id), a keyset page at a time; adding and deleting are audited.
use crate::audit;
use crate::error::{AppError, AppResult, FieldError};
use crate::page::{self, Key};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Spend {
    pub id: i32,
    #[schema(value_type = String, format = Date)]
    pub spent_on: NaiveDate,
    pub lead_source: String,
    pub campaign_id: Option<String>,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub notes: Option<String>,
    /// Who entered it (their name), if known.
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new entry as typed in the page's form (every field may be empty there).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct NewSpend {
    #[serde(default)]
    pub spent_on: String,
    #[serde(default)]
    pub lead_source: String,
    #[serde(default)]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A new entry as the API takes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SpendIn {
    /// The studio's local day it was spent, YYYY-MM-DD.
    #[schema(value_type = String, format = Date, pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub spent_on: String,
    /// The lead source it paid for, as inquiries name it (e.g. "Instagram").
    #[schema(min_length = 1, max_length = 255, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub lead_source: String,
    /// The campaign, as inquiries' campaign_id name it; absent or empty: none.
    #[serde(default)]
    #[schema(max_length = 255, pattern = r"^[^\x00]*$")]
    pub campaign_id: Option<String>,
    /// More than 0, at most 99,999,999.99, two decimals at most.
    #[schema(pattern = r"^([1-9][0-9]{0,7}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$")]
    pub amount: String,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub notes: Option<String>,
}

impl From<SpendIn> for NewSpend {
    fn from(s: SpendIn) -> NewSpend {
        NewSpend {
            spent_on: s.spent_on,
            lead_source: s.lead_source,
            campaign_id: s.campaign_id,
            amount: s.amount,
            notes: s.notes,
        }
    }
}

/// A checked entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub spent_on: NaiveDate,
    pub lead_source: String,
    pub campaign_id: Option<String>,
    pub amount: Decimal,
    pub notes: Option<String>,
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

/// Every field checked (pure): the problems by field, all at once.
pub fn check(n: &NewSpend) -> AppResult<Checked> {
    let mut errors = vec![];
    let mut bad = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let spent_on = match crate::dates::parse(&n.spent_on) {
        Ok(d) => Some(d),
        Err(m) => {
            bad("spent_on", &m);
            None
        }
    };
    let lead_source = text(Some(&n.lead_source));
    match &lead_source {
        None => bad("lead_source", "say which lead source it paid for"),
        Some(s) if s.chars().count() > 255 => bad("lead_source", "at most 255 characters"),
        Some(s) if s.contains('\0') => bad("lead_source", "no NUL characters"),
        Some(_) => {}
    }
    let campaign_id = text(n.campaign_id.as_deref());
    if let Some(c) = &campaign_id {
        if c.chars().count() > 255 {
            bad("campaign_id", "at most 255 characters");
        } else if c.contains('\0') {
            bad("campaign_id", "no NUL characters");
        }
    }
    let amount = match crate::billing::payments::amount("amount", &n.amount) {
        Ok(a) => Some(a),
        Err(_) => {
            bad("amount", "an amount more than 0, like 250 or 99.50");
            None
        }
    };
    let notes = text(n.notes.as_deref());
    if let Some(t) = &notes {
        if t.chars().count() > 2000 {
            bad("notes", "at most 2000 characters");
        } else if t.contains('\0') {
            bad("notes", "no NUL characters");
        }
    }
    if !errors.is_empty() {
        let message = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::Validation { message, errors });
    }
    Ok(Checked {
        spent_on: spent_on.expect("checked"),
        lead_source: lead_source.expect("checked"),
        campaign_id,
        amount: amount.expect("checked"),
        notes,
    })
}

const COLUMNS: &str = "m.id, m.spent_on, m.lead_source, m.campaign_id, m.amount, m.notes,
    NULLIF(btrim(concat_ws(' ', c.first_name, c.last_name)), '') AS created_by_name, m.created_at";

/// A page of entries, newest day first (then the newest id), and the next page's key.
pub async fn list(
    conn: &mut PgConnection,
    after: Option<&str>,
) -> AppResult<(Vec<Spend>, Option<Key>)> {
    let after = Key::parse(after, 1)?;
    let top = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a day");
    let (day, id) = match &after {
        None => (top, i32::MAX),
        // A cursor of the documented shape not made here still names a place: a day that
        // does not read as one counts as the top of the list.
        Some(k) => (
            NaiveDate::parse_from_str(k.text(0), "%Y-%m-%d").unwrap_or(top),
            k.id,
        ),
    };
    let rows: Vec<Spend> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM marketing_spend m
         LEFT JOIN contributors co ON co.id = m.created_by
         LEFT JOIN contacts c ON c.id = co.contact_id
         WHERE (m.spent_on, m.id) < ($1, $2)
         ORDER BY m.spent_on DESC, m.id DESC LIMIT $3"
    ))
    .bind(day)
    .bind(id)
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |r| Key {
        keys: vec![r.spent_on.format("%Y-%m-%d").to_string()],
        id: r.id,
    }))
}

pub async fn get(conn: &mut PgConnection, id: i32) -> AppResult<Spend> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM marketing_spend m
         LEFT JOIN contributors co ON co.id = m.created_by
         LEFT JOIN contacts c ON c.id = co.contact_id WHERE m.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("marketing spend {id}")))
}

/// Add an entry (in the caller's transaction), audited.
pub async fn create(tx: &mut PgConnection, n: &NewSpend, actor: i32) -> AppResult<Spend> {
    let c = check(n)?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO marketing_spend (spent_on, lead_source, campaign_id, amount, notes, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(c.spent_on)
    .bind(&c.lead_source)
    .bind(&c.campaign_id)
    .bind(c.amount)
    .bind(&c.notes)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await?;
    let details = serde_json::json!({ "after": {
        "spent_on": c.spent_on, "lead_source": c.lead_source, "campaign_id": c.campaign_id,
        "amount": c.amount, "notes": c.notes,
    }});
    audit::record(
        tx,
        Some(actor),
        "reports.marketing_spend.create",
        "marketing_spend",
        Some(id),
        details,
    )
    .await?;
    get(tx, id).await
}

/// Delete an entry (in the caller's transaction), audited with what it was; 404 when none.
pub async fn delete(tx: &mut PgConnection, id: i32, actor: i32) -> AppResult<()> {
    let s = get(tx, id).await?;
    sqlx::query("DELETE FROM marketing_spend WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({ "before": {
        "spent_on": s.spent_on, "lead_source": s.lead_source, "campaign_id": s.campaign_id,
        "amount": s.amount, "notes": s.notes,
    }});
    audit::record(
        tx,
        Some(actor),
        "reports.marketing_spend.delete",
        "marketing_spend",
        Some(id),
        details,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn new(spent_on: &str, source: &str, amount: &str) -> NewSpend {
        NewSpend {
            spent_on: spent_on.into(),
            lead_source: source.into(),
            amount: amount.into(),
            campaign_id: Some("  ".into()),
            notes: None,
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::Validation { errors, .. } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_good_entry_is_trimmed() {
        let c = check(&new("2026-03-01", " Instagram ", "250.5")).unwrap();
        assert_eq!(c.lead_source, "Instagram");
        assert_eq!(c.campaign_id, None);
        assert_eq!(c.amount, Decimal::from_str("250.50").unwrap());
        assert!(check(&new("2026-03-01", "Google", "0.01")).is_ok());
        assert!(check(&new("2026-03-01", "Google", "99999999.99")).is_ok());
        assert!(check(&new("2026-03-01", "Google", "12.50")).is_ok());
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        assert_eq!(
            fields(check(&new("2026-02-30", "", "0")).unwrap_err()),
            ["spent_on", "lead_source", "amount"]
        );
        for bad in ["-5", "abc", "1.234", "100000000", "0", ""] {
            assert_eq!(
                fields(check(&new("2026-03-01", "Google", bad)).unwrap_err()),
                ["amount"],
                "{bad}"
            );
        }
        let mut n = new("2026-03-01", "Google", "5");
        n.campaign_id = Some("x".repeat(256));
        n.notes = Some("a\0b".into());
        assert_eq!(fields(check(&n).unwrap_err()), ["campaign_id", "notes"]);
    }
}

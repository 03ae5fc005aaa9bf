//! A project's expenses (travel, a second shooter's fee, a music licence...) with an optional
//! receipt kept under the data dir: what the profitability report subtracts. Money is Decimal,
//! checked by the field: a date, a description, a category, an amount above zero.
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use std::path::Path;
use std::str::FromStr;

/// The categories the form offers (the API takes any non-empty one).
pub const CATEGORIES: [&str; 6] = [
    "Travel",
    "Second shooter",
    "Music licence",
    "Equipment rental",
    "Accommodation",
    "Other",
];

#[derive(Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Expense {
    pub id: i32,
    pub project_id: i32,
    pub expense_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub category: Option<String>,
    #[schema(value_type = String, example = "250.00")]
    pub amount: Decimal,
    /// The receipt's address in the app, when one was uploaded.
    pub receipt_url: Option<String>,
    pub receipt_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An expense as typed (form or JSON), every field a string to check.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewExpense {
    /// YYYY-MM-DD.
    #[schema(schema_with = crate::http::json::date)]
    pub expense_date: String,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub description: String,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub category: String,
    /// Above zero, at most 99,999,999.99, two decimals at most, e.g. "250.00".
    #[schema(pattern = r"^([1-9][0-9]{0,7}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$")]
    pub amount: String,
}

/// A receipt as uploaded.
pub struct Receipt {
    pub name: String,
    pub data: Vec<u8>,
}

struct Checked {
    date: NaiveDate,
    description: String,
    category: String,
    amount: Decimal,
}

fn check(e: &NewExpense) -> AppResult<Checked> {
    let mut problems: Vec<(&str, String)> = vec![];
    let date = match crate::dates::parse(&e.expense_date) {
        Ok(d) => Some(d),
        Err(m) => {
            problems.push(("expense_date", m));
            None
        }
    };
    let description = e.description.trim().to_string();
    if description.is_empty() {
        problems.push(("description", "say what it was for".into()));
    } else if description.chars().count() > 255 {
        problems.push(("description", "at most 255 characters".into()));
    }
    let category = e.category.trim().to_string();
    if category.is_empty() {
        problems.push(("category", "choose a category".into()));
    } else if category.chars().count() > 255 {
        problems.push(("category", "at most 255 characters".into()));
    }
    let amount = match Decimal::from_str(e.amount.trim()) {
        Ok(a) if a <= Decimal::ZERO => {
            problems.push(("amount", "must be more than zero".into()));
            None
        }
        Ok(a) if a.scale() > 2 && a.normalize().scale() > 2 => {
            problems.push(("amount", "at most two decimals".into()));
            None
        }
        Ok(a) if a >= Decimal::new(100_000_000, 0) => {
            problems.push(("amount", "at most 99,999,999.99".into()));
            None
        }
        Ok(a) => Some(a),
        Err(_) => {
            problems.push(("amount", "a number such as 250.00".into()));
            None
        }
    };
    match (date, amount, problems.is_empty()) {
        (Some(date), Some(amount), true) => Ok(Checked {
            date,
            description,
            category,
            amount,
        }),
        _ => {
            let refs: Vec<(&str, &str)> = problems.iter().map(|(f, m)| (*f, m.as_str())).collect();
            Err(AppError::fields(&refs))
        }
    }
}

/// The project's expenses, newest first (at most 200).
pub async fn of_project(conn: &mut PgConnection, project: i32) -> AppResult<Vec<Expense>> {
    Ok(sqlx::query_as(
        "SELECT id, project_id, expense_date, description, category, amount, receipt_url,
                receipt_name, created_at
         FROM project_expenses WHERE project_id = $1
         ORDER BY expense_date DESC NULLS LAST, id DESC LIMIT 200",
    )
    .bind(project)
    .fetch_all(conn)
    .await?)
}

/// Record an expense (422 by the field; 404 for no such project), with its receipt stored
/// under the data dir when one is given. The caller keeps the file once committed.
pub async fn create(
    tx: &mut PgConnection,
    data_dir: &Path,
    project: i32,
    e: &NewExpense,
    receipt: Option<&Receipt>,
    actor: i32,
    now: DateTime<Utc>,
) -> AppResult<(Expense, Option<crate::crm::documents::StoredFile>)> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)")
        .bind(project)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Err(AppError::not_found("project"));
    }
    let c = check(e)?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO project_expenses (project_id, expense_date, description, category, amount,
                created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(project)
    .bind(c.date)
    .bind(&c.description)
    .bind(&c.category)
    .bind(c.amount)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let mut kept = None;
    if let Some(r) = receipt.filter(|r| !r.data.is_empty()) {
        let (key, file) = crate::crm::documents::write_upload(data_dir, &r.name, &r.data).await?;
        sqlx::query(
            "UPDATE project_expenses SET receipt_path = $2, receipt_name = $3, receipt_url = $4
             WHERE id = $1",
        )
        .bind(id)
        .bind(&key)
        .bind(crate::crm::documents::safe_name(&r.name))
        .bind(format!("/projects/{project}/expenses/{id}/receipt"))
        .execute(&mut *tx)
        .await?;
        kept = Some(file);
    }
    crate::audit::record(
        tx,
        Some(actor),
        "projects.expense.add",
        "project_expense",
        Some(id),
        serde_json::json!({ "project": project, "amount": c.amount, "category": c.category }),
    )
    .await?;
    let expense = sqlx::query_as(
        "SELECT id, project_id, expense_date, description, category, amount, receipt_url,
                receipt_name, created_at FROM project_expenses WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    Ok((expense, kept))
}

/// An expense's receipt: (name, key) (404 when it has none).
pub async fn receipt(
    conn: &mut PgConnection,
    project: i32,
    id: i32,
) -> AppResult<(String, String)> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT receipt_name, receipt_path FROM project_expenses WHERE id = $1 AND project_id = $2",
    )
    .bind(id)
    .bind(project)
    .fetch_optional(conn)
    .await?;
    match row {
        Some((name, Some(key))) => Ok((name.unwrap_or_else(|| "receipt".into()), key)),
        _ => Err(AppError::not_found("receipt")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_checked_and_named() {
        let bad = NewExpense {
            expense_date: "2027-02-30".into(),
            description: " ".into(),
            category: String::new(),
            amount: "-3".into(),
        };
        let AppError::Validation { errors, .. } = check(&bad).err().unwrap() else {
            panic!("a validation error")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["expense_date", "description", "category", "amount"]
        );
        let ok = NewExpense {
            expense_date: "2027-02-03".into(),
            description: "Flights".into(),
            category: "Travel".into(),
            amount: "420.50".into(),
        };
        assert_eq!(check(&ok).unwrap().amount, Decimal::new(42050, 2));
        for amount in ["0", "1.234", "100000000", "abc"] {
            let e = NewExpense {
                amount: amount.into(),
                ..ok.clone()
            };
            assert!(check(&e).is_err(), "{amount}");
        }
    }
}

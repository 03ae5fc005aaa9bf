//! API tokens: a staff member's own, listed, created (the token is shown once) and revoked on
//! My account. Only the token's hash is stored.
use crate::audit;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::page;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: i32,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    pub fn status(&self) -> &'static str {
        if self.revoked_at.is_some() {
            "Revoked"
        } else if self.expires_at.is_some_and(|e| e < Utc::now()) {
            "Expired"
        } else {
            "Active"
        }
    }
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    pub name: String,
    /// Days until it expires; empty for never.
    #[serde(default)]
    pub expires_in_days: String,
}

impl NewTokenForm {
    /// The name (trimmed) and the days until it expires (None: never).
    fn check(&self) -> AppResult<(String, Option<i32>)> {
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::field(
                "name",
                "Give the token a name of 1 to 100 characters, e.g. the app that will use it.",
            ));
        }
        let days = match self.expires_in_days.trim() {
            "" => None,
            d => match d.parse::<i32>() {
                Ok(n) if (1..=3650).contains(&n) => Some(n),
                _ => {
                    return Err(AppError::field(
                        "expires_in_days",
                        "Enter a number of days from 1 to 3650, or leave it empty.",
                    ));
                }
            },
        };
        Ok((name, days))
    }
}

/// A page of a staff member's tokens, newest first by (created, id), from the cursor on; the
/// next page's cursor when more follow.
pub async fn list(
    conn: &mut PgConnection,
    contributor_id: i32,
    after: Option<page::After>,
) -> AppResult<(Vec<TokenRow>, Option<page::After>)> {
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
         WHERE contributor_id = $1
           AND (created_at, id)
               < (COALESCE($2::timestamptz, 'infinity'), COALESCE($3::int, 2147483647))
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(contributor_id)
    .bind(after.map(|a| a.at))
    .bind(after.map(|a| a.id))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |t| page::After {
        at: t.created_at,
        id: t.id,
    }))
}

/// A new token for `contributor_id`; returns the token itself, to be shown once.
pub async fn create(
    tx: &mut PgConnection,
    contributor_id: i32,
    form: &NewTokenForm,
) -> AppResult<String> {
    let (name, days) = form.check()?;
    let token = format!("pf_{}", crypto::random_token());
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO api_tokens (contributor_id, name, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(days => $4)) RETURNING id",
    )
    .bind(contributor_id)
    .bind(&name)
    .bind(crypto::token_hash(&token))
    .bind(days)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        tx,
        Some(contributor_id),
        "auth.token.create",
        "api_token",
        Some(id),
        serde_json::json!({ "name": name, "expires_in_days": days }),
    )
    .await?;
    Ok(token)
}

/// Revoke one of `contributor_id`'s active tokens (404 if there is no such one).
pub async fn revoke(tx: &mut PgConnection, contributor_id: i32, id: i32) -> AppResult<()> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE id = $1 AND contributor_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(contributor_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("API token"));
    }
    let details = serde_json::json!({});
    let action = "auth.token.revoke";
    audit::record(
        tx,
        Some(contributor_id),
        action,
        "api_token",
        Some(id),
        details,
    )
    .await?;
    Ok(())
}

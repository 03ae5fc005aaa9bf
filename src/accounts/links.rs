//! Single-use links (`one_time_tokens`): a password reset, a staff or a portal invitation. The
//! token travels in the link; only its hash is stored.
use crate::crypto;
use crate::error::AppResult;
use sqlx::PgConnection;

/// Whose a used link was, and what it was for.
#[derive(sqlx::FromRow)]
pub struct Used {
    pub contributor_id: Option<i32>,
    pub client_user_id: Option<i32>,
    pub purpose: String,
}

/// A new single-use token (stored hashed) valid for `hours`.
pub async fn issue(
    conn: &mut PgConnection,
    purpose: &str,
    contributor_id: Option<i32>,
    client_user_id: Option<i32>,
    hours: i64,
) -> AppResult<String> {
    let token = crypto::random_token();
    sqlx::query(
        "INSERT INTO one_time_tokens
             (token_hash, purpose, contributor_id, client_user_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5::int))",
    )
    .bind(crypto::token_hash(&token))
    .bind(purpose)
    .bind(contributor_id)
    .bind(client_user_id)
    .bind(hours as i32)
    .execute(conn)
    .await?;
    Ok(token)
}

/// Is the token still usable (unused, unexpired) for one of these purposes?
pub async fn is_valid(conn: &mut PgConnection, token: &str, purposes: &[&str]) -> AppResult<bool> {
    let purposes: Vec<String> = purposes.iter().map(|p| p.to_string()).collect();
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND purpose = ANY($2)
                        AND used_at IS NULL AND expires_at > now())",
    )
    .bind(crypto::token_hash(token))
    .bind(&purposes)
    .fetch_one(conn)
    .await?)
}

/// Use a token: mark it used (once, even under concurrent tries) and return whose it is.
pub async fn consume(
    conn: &mut PgConnection,
    token: &str,
    purposes: &[&str],
) -> AppResult<Option<Used>> {
    let purposes: Vec<String> = purposes.iter().map(|p| p.to_string()).collect();
    Ok(sqlx::query_as(
        "UPDATE one_time_tokens SET used_at = now()
         WHERE token_hash = $1 AND purpose = ANY($2) AND used_at IS NULL AND expires_at > now()
         RETURNING contributor_id, client_user_id, purpose",
    )
    .bind(crypto::token_hash(token))
    .bind(&purposes)
    .fetch_optional(conn)
    .await?)
}

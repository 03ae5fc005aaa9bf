//! Single-use links (`one_time_tokens`): a password reset, a staff or a portal invitation. The
//! token travels in the link; only its hash is stored. A link belongs to a team member or to a
//! couple's portal login, and is only ever valid for its own kind of login.
use crate::crypto;
use crate::error::AppResult;
use sqlx::PgConnection;

/// Whose a link is: a team member's (contributor) or a couple's (portal login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Staff,
    Couple,
}

impl Owner {
    fn is_couple(self) -> bool {
        self == Owner::Couple
    }
}

/// Whose a used link was (a contributor or a portal login, by `Owner`), and what it was for.
#[derive(sqlx::FromRow)]
pub struct Used {
    pub id: i32,
    pub purpose: String,
}

/// A new single-use token (stored hashed) for `owner`'s login `id`, valid for `hours`.
pub async fn issue(
    conn: &mut PgConnection,
    purpose: &str,
    owner: Owner,
    id: i32,
    hours: i64,
) -> AppResult<String> {
    let token = crypto::random_token();
    let (contributor_id, client_user_id) = match owner {
        Owner::Staff => (Some(id), None),
        Owner::Couple => (None, Some(id)),
    };
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

/// Is the token still usable (unused, unexpired) for one of these purposes, and `owner`'s?
pub async fn is_valid(
    conn: &mut PgConnection,
    token: &str,
    owner: Owner,
    purposes: &[&str],
) -> AppResult<bool> {
    let purposes: Vec<String> = purposes.iter().map(|p| p.to_string()).collect();
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND purpose = ANY($2)
                        AND (client_user_id IS NOT NULL) = $3
                        AND used_at IS NULL AND expires_at > now())",
    )
    .bind(crypto::token_hash(token))
    .bind(&purposes)
    .bind(owner.is_couple())
    .fetch_one(conn)
    .await?)
}

/// Use a token of `owner`'s: mark it used (once, even under concurrent tries) and return
/// whose it is.
pub async fn consume(
    conn: &mut PgConnection,
    token: &str,
    owner: Owner,
    purposes: &[&str],
) -> AppResult<Option<Used>> {
    let purposes: Vec<String> = purposes.iter().map(|p| p.to_string()).collect();
    Ok(sqlx::query_as(
        "UPDATE one_time_tokens SET used_at = now()
         WHERE token_hash = $1 AND purpose = ANY($2) AND (client_user_id IS NOT NULL) = $3
           AND used_at IS NULL AND expires_at > now()
         RETURNING COALESCE(contributor_id, client_user_id) AS id, purpose",
    )
    .bind(crypto::token_hash(token))
    .bind(&purposes)
    .bind(owner.is_couple())
    .fetch_optional(conn)
    .await?)
}

/// Every link of a login still waiting to be used stops working (its password was just set).
pub async fn retire_all(conn: &mut PgConnection, owner: Owner, id: i32) -> AppResult<()> {
    let column = match owner {
        Owner::Staff => "contributor_id",
        Owner::Couple => "client_user_id",
    };
    sqlx::query(&format!(
        "UPDATE one_time_tokens SET used_at = now() WHERE {column} = $1 AND used_at IS NULL"
    ))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

//! `projectflo admin create-user`: the first login of a new studio.
use crate::{audit, crypto};
use anyhow::{Result, bail};
use sqlx::{PgConnection, PgPool};

pub async fn create_user(
    db: &PgPool,
    email: &str,
    role: &str,
    first: &str,
    last: &str,
    password: &str,
) -> Result<i32> {
    let email = email.trim();
    if !super::forms::valid_email(email) {
        bail!("--email: {email:?} is not an email address");
    }
    if let Err(m) = crypto::check_new_password(password) {
        bail!("password {m}");
    }
    let hash = crypto::hash_password(password.to_string()).await?;
    let mut tx = db.begin().await?;
    let role_id = role_id(&mut tx, role).await?;
    let contact_id = contact(&mut tx, email, first, last).await?;
    let id = create_login(&mut tx, contact_id, role_id, &hash).await?;
    audit::record(
        &mut tx,
        None,
        "users.create",
        "contributor",
        Some(id),
        serde_json::json!({ "after": { "email": email, "role": role }, "via": "command line" }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The role of this name (any case); the message lists the roles there are.
async fn role_id(tx: &mut PgConnection, role: &str) -> Result<i32> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT id FROM roles WHERE lower(name) = lower($1)")
            .bind(role)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let roles: Vec<String> = sqlx::query_scalar("SELECT name FROM roles ORDER BY id")
        .fetch_all(&mut *tx)
        .await?;
    bail!(
        "--role: no role {role:?}; the roles are {}",
        roles.join(", ")
    );
}

/// The contact with this email, made a contributor contact if new; one with a staff login
/// already is refused.
async fn contact(tx: &mut PgConnection, email: &str, first: &str, last: &str) -> Result<i32> {
    let contact_id: i32 = sqlx::query_scalar(
        "INSERT INTO contacts (first_name, last_name, email, type)
         VALUES (NULLIF($1, ''), NULLIF($2, ''), $3, 'Contributor')
         ON CONFLICT (email) DO UPDATE SET updated_at = now() RETURNING id",
    )
    .bind(first)
    .bind(last)
    .bind(email)
    .fetch_one(&mut *tx)
    .await?;
    let existing: Option<i32> =
        sqlx::query_scalar("SELECT id FROM contributors WHERE contact_id = $1")
            .bind(contact_id)
            .fetch_optional(&mut *tx)
            .await?;
    if existing.is_some() {
        bail!("{email} already has a staff login");
    }
    Ok(contact_id)
}

/// A staff login with this password.
async fn create_login(
    tx: &mut PgConnection,
    contact_id: i32,
    role_id: i32,
    hash: &str,
) -> Result<i32> {
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO contributors (contact_id, role_id, contributor_type)
         VALUES ($1, $2, 'Internal') RETURNING id",
    )
    .bind(contact_id)
    .bind(role_id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO staff_credentials (contributor_id, password_hash, password_changed_at)
         VALUES ($1, $2, now())",
    )
    .bind(id)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

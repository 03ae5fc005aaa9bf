//! `projectflo admin create-user`: the first login of a new studio.
use crate::{audit, crypto};
use anyhow::{Result, bail};
use sqlx::PgPool;

pub async fn create_user(
    db: &PgPool,
    email: &str,
    role: &str,
    first: &str,
    last: &str,
    password: &str,
) -> Result<i32> {
    let email = email.trim();
    if !super::pages::valid_email(email) {
        bail!("--email: {email:?} is not an email address");
    }
    if let Err(m) = crypto::check_new_password(password) {
        bail!("password {m}");
    }
    let hash = crypto::hash_password(password.to_string()).await?;
    let mut tx = db.begin().await?;
    let Some(role_id): Option<i32> =
        sqlx::query_scalar("SELECT id FROM roles WHERE lower(name) = lower($1)")
            .bind(role)
            .fetch_optional(&mut *tx)
            .await?
    else {
        let roles: Vec<String> = sqlx::query_scalar("SELECT name FROM roles ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
        bail!(
            "--role: no role {role:?}; the roles are {}",
            roles.join(", ")
        );
    };
    let contact_id: i32 = sqlx::query_scalar(
        "INSERT INTO contacts (first_name, last_name, email, type) VALUES (NULLIF($1, ''), NULLIF($2, ''), $3, 'Contributor')
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
    let id: i32 = sqlx::query_scalar("INSERT INTO contributors (contact_id, role_id, contributor_type) VALUES ($1, $2, 'Internal') RETURNING id")
        .bind(contact_id)
        .bind(role_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO staff_credentials (contributor_id, password_hash, password_changed_at) VALUES ($1, $2, now())")
        .bind(id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
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

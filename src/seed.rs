//! The demo studio: a believable wedding videography business to explore ProjectFlo with.
//! Idempotent: the load is recorded in `seed_history` in the same transaction, so a second run
//! (or two at once) loads nothing twice.
use anyhow::Result;
use sqlx::PgPool;

const DEMO_SQL: &str = include_str!("seed/demo.sql");

/// Load the demo studio. Returns false when it was already loaded.
pub async fn demo(pool: &PgPool) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let fresh: Option<String> = sqlx::query_scalar(
        "INSERT INTO seed_history (name) VALUES ('demo') ON CONFLICT DO NOTHING RETURNING name",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if fresh.is_none() {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::raw_sql(DEMO_SQL).execute(&mut *tx).await?;
    for (email, _) in DEMO_STAFF {
        let hash = crate::auth::crypto::hash_password(DEMO_PASSWORD.to_string()).await?;
        sqlx::query(
            "INSERT INTO staff_credentials (contributor_id, password_hash, password_changed_at)
             SELECT co.id, $2, now() FROM contributors co JOIN contacts c ON c.id = co.contact_id WHERE c.email = $1
             ON CONFLICT DO NOTHING",
        )
        .bind(email)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The password of every demo login. Change it (My account) before real use.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The demo logins (email, role), in the order the demo command prints them.
pub const DEMO_STAFF: &[(&str, &str)] = &[
    ("maya@goldenhour.example", "Owner"),
    ("jordan@goldenhour.example", "Admin"),
    ("priya@goldenhour.example", "Sales"),
    ("leo@goldenhour.example", "Editor"),
    ("sam@goldenhour.example", "Videographer"),
    ("grace@goldenhour.example", "Bookkeeper"),
];

//! The demo studio: a believable wedding videography business to explore ProjectFlo with.
//! Idempotent: the load is recorded in `seed_history` in the same transaction, so a second run
//! (or two at once) loads nothing twice.
use crate::clock::Clock;
use anyhow::Result;
use sqlx::PgPool;

const DEMO_SQL: &str = include_str!("seed/demo.sql");

/// Load the demo studio, dated around now. Returns false when it was already loaded.
pub async fn demo(pool: &PgPool) -> Result<bool> {
    demo_at(pool, Clock::System).await
}

/// Load the demo studio with its dates around the clock's instant: "yesterday" and "in 90
/// days" are the studio's local dates then.
pub async fn demo_at(pool: &PgPool, clock: Clock) -> Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('projectflo.now', $1, true)")
        .bind(clock.now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
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
        let hash = crate::crypto::hash_password(DEMO_PASSWORD.to_string()).await?;
        sqlx::query(
            "INSERT INTO staff_credentials (contributor_id, password_hash, password_changed_at)
             SELECT co.id, $2, pg_temp.demo_now() FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1
             ON CONFLICT DO NOTHING",
        )
        .bind(email)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    demo_builds(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// Two quotes out with couples, built through the same code as the quote builder.
async fn demo_builds(tx: &mut sqlx::PgConnection) -> Result<()> {
    use crate::quote::builds::{self, CoverageChange};
    async fn id(tx: &mut sqlx::PgConnection, table: &str, name: &str) -> Result<i32> {
        Ok(
            sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE name = $1"))
                .bind(name)
                .fetch_one(tx)
                .await?,
        )
    }
    async fn inquiry(tx: &mut sqlx::PgConnection, email: &str) -> Result<i32> {
        Ok(sqlx::query_scalar(
            "SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id
             WHERE c.email = $1",
        )
        .bind(email)
        .fetch_one(tx)
        .await?)
    }
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let lead = id(tx, "operator_types", "Lead Videographer").await?;
    let drone = id(tx, "operator_types", "Drone Pilot").await?;
    let cov = |scene, operator, quantity, hours: Option<&str>| CoverageChange {
        scene,
        operator,
        quantity,
        hours: hours.map(|h| h.parse().unwrap()),
    };

    // Ava: Highlight Film and Ceremony Edit, ceremony, reception and drone coverage, a USB box.
    let ava_inquiry = inquiry(tx, "ava.t@example.com").await?;
    let ava = builds::create_for_inquiry(tx, ava_inquiry, None)
        .await
        .map_err(err)?;
    let ceremony = id(tx, "coverage_scenes", "Ceremony").await?;
    let reception = id(tx, "coverage_scenes", "Reception").await?;
    let aerials = id(tx, "coverage_scenes", "Drone Aerials").await?;
    builds::add_coverage(tx, ava, &cov(ceremony, lead, 2, None), None)
        .await
        .map_err(err)?;
    builds::add_coverage(tx, ava, &cov(reception, lead, 1, Some("5")), None)
        .await
        .map_err(err)?;
    builds::add_coverage(tx, ava, &cov(aerials, drone, 1, None), None)
        .await
        .map_err(err)?;
    let (highlight, ceremony_edit) = (
        id(tx, "deliverables", "Highlight Film").await?,
        id(tx, "deliverables", "Ceremony Edit").await?,
    );
    builds::add_deliverable(tx, ava, highlight, None)
        .await
        .map_err(err)?;
    builds::add_deliverable(tx, ava, ceremony_edit, None)
        .await
        .map_err(err)?;
    let usb = id(tx, "billable_items", "Keepsake USB Box").await?;
    builds::add_billable(tx, ava, usb, 2, Some("One for each family"), None)
        .await
        .map_err(err)?;

    // Sofia: a Feature Film of the reception.
    let sofia_inquiry = inquiry(tx, "sofia.garcia@example.com").await?;
    let sofia = builds::create_for_inquiry(tx, sofia_inquiry, None)
        .await
        .map_err(err)?;
    builds::add_coverage(tx, sofia, &cov(reception, lead, 1, None), None)
        .await
        .map_err(err)?;
    let feature = id(tx, "deliverables", "Feature Film").await?;
    builds::add_deliverable(tx, sofia, feature, None)
        .await
        .map_err(err)?;

    sqlx::query(
        "UPDATE builds SET status = $2, proposal_sent_at = pg_temp.demo_now() - interval '10 days'
         WHERE id = ANY($1)",
    )
    .bind(vec![ava, sofia])
    .bind(crate::quote::BuildStatus::ProposalSent)
    .execute(&mut *tx)
    .await?;
    Ok(())
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

//! The audit log: who did what to which record, written in the same transaction as the change.
use sqlx::PgConnection;

pub async fn record(
    tx: &mut PgConnection,
    actor: Option<i32>,
    action: &str,
    entity_type: &str,
    entity_id: Option<i32>,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (contributor_id, action, details, entity_type, entity_id)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(details)
    .bind(entity_type)
    .bind(entity_id)
    .execute(tx)
    .await?;
    Ok(())
}

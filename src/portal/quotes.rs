//! The couple's quotes: those of their inquiry or of their projects.
use super::projects::OWN_PROJECTS;
use crate::error::{AppError, AppResult};
use rust_decimal::Decimal;
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
pub struct Quote {
    pub id: i32,
    pub status: String,
    pub live_price: Decimal,
    pub approved_price: Decimal,
    pub total_paid: Decimal,
    /// A change order waits for the couple's answer.
    pub change_waiting: bool,
    /// The agreement has versions (it is booked): the couple can see them.
    pub has_versions: bool,
}

impl Quote {
    /// The approved price once there is one, the live price until then.
    pub fn price(&self) -> Decimal {
        if self.approved_price.is_zero() {
            self.live_price
        } else {
            self.approved_price
        }
    }
}

/// Whether a change order waits, and whether there are versions at all.
const CHANGES: &str = "EXISTS (SELECT 1 FROM build_change_orders o WHERE o.build_id = builds.id
                                  AND o.status = 'Pending Approval') AS change_waiting,
         EXISTS (SELECT 1 FROM build_change_orders o WHERE o.build_id = builds.id) AS has_versions";

/// The client's quotes, in order.
pub async fn for_client(conn: &mut PgConnection, client_id: i32) -> AppResult<Vec<Quote>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, status::text AS status, live_price, approved_price, total_paid, {CHANGES}
         FROM builds
         WHERE client_id = $1 OR project_id IN ({OWN_PROJECTS}) ORDER BY id"
    ))
    .bind(client_id)
    .fetch_all(conn)
    .await?)
}

/// One of the client's quotes (404 if it is not theirs).
pub async fn one(conn: &mut PgConnection, client_id: i32, id: i32) -> AppResult<Quote> {
    let found: Option<Quote> = sqlx::query_as(&format!(
        "SELECT id, status::text AS status, live_price, approved_price, total_paid, {CHANGES}
         FROM builds
         WHERE id = $2 AND (client_id = $1 OR project_id IN ({OWN_PROJECTS}))"
    ))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| AppError::not_found("quote"))
}

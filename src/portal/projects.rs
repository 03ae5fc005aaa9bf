//! The couple's weddings (their client's projects), as the portal shows them.
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use sqlx::PgConnection;

/// The client's own projects, as a subquery bound to $1 (client id): what the couple may see
/// hangs off these.
pub const OWN_PROJECTS: &str = "SELECT id FROM projects WHERE client_id = $1";

#[derive(sqlx::FromRow)]
pub struct Project {
    pub id: i32,
    pub project_name: Option<String>,
    pub wedding_date: NaiveDate,
    pub phase: Option<String>,
}

/// The client's projects, by wedding date.
pub async fn for_client(conn: &mut PgConnection, client_id: i32) -> AppResult<Vec<Project>> {
    Ok(sqlx::query_as(
        "SELECT id, project_name, wedding_date, phase FROM projects
         WHERE client_id = $1 ORDER BY wedding_date",
    )
    .bind(client_id)
    .fetch_all(conn)
    .await?)
}

/// One of the client's projects (404 if it is not theirs).
pub async fn one(conn: &mut PgConnection, client_id: i32, id: i32) -> AppResult<Project> {
    let found: Option<Project> = sqlx::query_as(
        "SELECT id, project_name, wedding_date, phase FROM projects
         WHERE id = $2 AND client_id = $1",
    )
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| AppError::not_found("project"))
}

//! The couple's films: the exported assets of their projects.
use super::projects::OWN_PROJECTS;
use crate::error::{AppError, AppResult};
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
pub struct Film {
    pub id: i32,
    pub file_name: Option<String>,
}

/// The client's films, in order.
pub async fn for_client(conn: &mut PgConnection, client_id: i32) -> AppResult<Vec<Film>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, file_name FROM project_assets
         WHERE asset_type = 'Export' AND project_id IN ({OWN_PROJECTS}) ORDER BY id"
    ))
    .bind(client_id)
    .fetch_all(conn)
    .await?)
}

/// One of the client's films (404 if it is not theirs).
pub async fn one(conn: &mut PgConnection, client_id: i32, id: i32) -> AppResult<Film> {
    let found: Option<Film> = sqlx::query_as(&format!(
        "SELECT id, file_name FROM project_assets
         WHERE id = $2 AND asset_type = 'Export' AND project_id IN ({OWN_PROJECTS})"
    ))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| AppError::not_found("film"))
}

//! The couple's documents: the active ones of their projects or of their inquiry.
use super::projects::OWN_PROJECTS;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
pub struct Document {
    pub id: i32,
    pub file_name: Option<String>,
    pub document_type: Option<String>,
    pub upload_date: Option<DateTime<Utc>>,
}

/// The client's documents, newest first.
pub async fn for_client(conn: &mut PgConnection, client_id: i32) -> AppResult<Vec<Document>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, file_name, document_type, upload_date FROM documents
         WHERE status = 'Active' AND (project_id IN ({OWN_PROJECTS})
               OR inquiry_id = (SELECT inquiry_id FROM clients WHERE id = $1))
         ORDER BY upload_date DESC"
    ))
    .bind(client_id)
    .fetch_all(conn)
    .await?)
}

/// One of the client's documents (404 if it is not theirs or not active).
pub async fn one(conn: &mut PgConnection, client_id: i32, id: i32) -> AppResult<Document> {
    let found: Option<Document> = sqlx::query_as(&format!(
        "SELECT id, file_name, document_type, upload_date FROM documents
         WHERE id = $2 AND status = 'Active' AND (project_id IN ({OWN_PROJECTS})
               OR inquiry_id = (SELECT inquiry_id FROM clients WHERE id = $1))"
    ))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| AppError::not_found("document"))
}

//! Documents of an inquiry (contracts, questionnaires…): the list, storing an upload under the
//! data dir, and reading one back to download.
use crate::audit;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::path::{Path, PathBuf};

#[derive(sqlx::FromRow)]
pub struct DocumentRow {
    pub id: i32,
    pub file_name: Option<String>,
    pub document_type: Option<String>,
    pub upload_date: Option<DateTime<Utc>>,
}

/// The inquiry's active documents, newest first.
pub async fn of_inquiry(conn: &mut PgConnection, inquiry: i32) -> AppResult<Vec<DocumentRow>> {
    Ok(sqlx::query_as(
        "SELECT id, file_name, document_type, upload_date FROM documents
         WHERE inquiry_id = $1 AND status = 'Active' ORDER BY upload_date DESC",
    )
    .bind(inquiry)
    .fetch_all(conn)
    .await?)
}

/// A file as it was uploaded.
pub struct Upload {
    /// The name the browser gave it.
    pub name: String,
    /// Contract, Questionnaire, …
    pub kind: String,
    pub data: Vec<u8>,
}

/// Only the last path component, and only safe characters (at most 120), reach the disk.
pub fn safe_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or("document")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect()
}

/// A file written for a document whose row is not committed yet: removed from the disk when
/// dropped, unless `keep` is called once the transaction has committed. So a refused or
/// failed upload leaves nothing behind, file included.
pub struct StoredFile {
    path: Option<PathBuf>,
}

impl StoredFile {
    /// The row is committed: the file stays.
    pub fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for StoredFile {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Keep an upload under `data_dir/uploads` and record it with the inquiry, in the caller's
/// transaction (422 when the file is empty). The caller keeps the file after committing.
pub async fn store(
    tx: &mut PgConnection,
    data_dir: &Path,
    inquiry: i32,
    upload: &Upload,
    actor: i32,
) -> AppResult<StoredFile> {
    Ok(store_with_id(tx, data_dir, inquiry, upload, actor).await?.1)
}

/// `store`, returning the new document's id too (for a record that points at it, such as a
/// signed contract).
pub async fn store_with_id(
    tx: &mut PgConnection,
    data_dir: &Path,
    inquiry: i32,
    upload: &Upload,
    actor: i32,
) -> AppResult<(i32, StoredFile)> {
    if upload.data.is_empty() {
        return Err(AppError::field("file", "choose a file to upload"));
    }
    let safe = safe_name(&upload.name);
    let stored = format!("{}-{safe}", uuid::Uuid::new_v4());
    let dir = data_dir.join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(anyhow::Error::from)?;
    let file = StoredFile {
        path: Some(dir.join(&stored)),
    };
    tokio::fs::write(dir.join(&stored), &upload.data)
        .await
        .map_err(anyhow::Error::from)?;
    let document: i32 = sqlx::query_scalar(
        "INSERT INTO documents (inquiry_id, file_name, file_path, document_type)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(inquiry)
    .bind(&safe)
    .bind(format!("uploads/{stored}"))
    .bind(upload.kind.trim().chars().take(255).collect::<String>())
    .fetch_one(&mut *tx)
    .await?;
    let details =
        serde_json::json!({ "inquiry": inquiry, "file": safe, "bytes": upload.data.len() });
    let actor = Some(actor);
    audit::record(
        tx,
        actor,
        "leads.document.upload",
        "document",
        Some(document),
        details,
    )
    .await?;
    Ok((document, file))
}

/// An active document's name and contents (404 when there is none or its file is missing).
pub async fn read(
    conn: &mut PgConnection,
    data_dir: &Path,
    id: i32,
) -> AppResult<(Option<String>, Vec<u8>)> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT file_name, file_path FROM documents WHERE id = $1 AND status = 'Active'",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let (name, path) = row.ok_or_else(|| AppError::not_found("document"))?;
    let path = path
        .filter(|p| p.starts_with("uploads/") && !p.contains(".."))
        .ok_or_else(|| AppError::not_found("document file"))?;
    let bytes = tokio::fs::read(data_dir.join(path))
        .await
        .map_err(|_| AppError::not_found("document file"))?;
    Ok((name, bytes))
}

//! Documents of an inquiry or a project (contracts, questionnaires, timelines, shot lists…): the
//! lists (active, or with the archived ones), storing an upload under the data dir, archiving
//! (never deleting), and reading one back to download.
use crate::audit;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::path::{Path, PathBuf};

/// What a document belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Parent {
    Inquiry(i32),
    Project(i32),
}

impl Parent {
    fn ids(self) -> (Option<i32>, Option<i32>) {
        match self {
            Parent::Inquiry(i) => (Some(i), None),
            Parent::Project(p) => (None, Some(p)),
        }
    }
}

/// A document with its status, for the lists that can show archived ones.
#[derive(sqlx::FromRow)]
pub struct Listed {
    pub id: i32,
    pub file_name: Option<String>,
    pub document_type: Option<String>,
    pub upload_date: Option<DateTime<Utc>>,
    pub archived: bool,
}

/// The documents of an inquiry or a project, newest first: the active ones, or all of them
/// with `archived` (at most 200).
pub async fn of(conn: &mut PgConnection, parent: Parent, archived: bool) -> AppResult<Vec<Listed>> {
    let (inquiry, project) = parent.ids();
    Ok(sqlx::query_as(
        "SELECT id, file_name, document_type, upload_date, status = 'Archived' AS archived
         FROM documents
         WHERE (inquiry_id = $1 OR project_id = $2) AND ($3 OR status = 'Active')
         ORDER BY upload_date DESC, id DESC LIMIT 200",
    )
    .bind(inquiry)
    .bind(project)
    .bind(archived)
    .fetch_all(conn)
    .await?)
}

/// Archive a document (it leaves the default lists and the couple's portal; its file stays) or
/// bring it back. Returns its parent (404 when there is none).
pub async fn set_archived(
    tx: &mut PgConnection,
    id: i32,
    archived: bool,
    actor: i32,
) -> AppResult<Parent> {
    let row: Option<(Option<i32>, Option<i32>)> = sqlx::query_as(
        "UPDATE documents SET status = CASE WHEN $2 THEN 'Archived' ELSE 'Active' END::document_status
         WHERE id = $1 RETURNING inquiry_id, project_id",
    )
    .bind(id)
    .bind(archived)
    .fetch_optional(&mut *tx)
    .await?;
    let parent = match row {
        Some((_, Some(p))) => Parent::Project(p),
        Some((Some(i), None)) => Parent::Inquiry(i),
        _ => return Err(AppError::not_found("document")),
    };
    let action = if archived {
        "documents.archive"
    } else {
        "documents.restore"
    };
    audit::record(
        tx,
        Some(actor),
        action,
        "document",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(parent)
}

/// A file as it was uploaded.
pub struct Upload {
    /// The name the browser gave it.
    pub name: String,
    /// Contract, Questionnaire, …
    pub kind: String,
    pub data: Vec<u8>,
}

/// Only the last path component, and only safe characters (at most 120), reach the disk; a
/// name with nothing left is "file". Every upload's name goes through it (documents, delivery
/// files, expense receipts, questionnaire answers).
pub fn safe_name(name: &str) -> String {
    let safe: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    match safe.trim() {
        "" => "file".to_string(),
        _ => safe,
    }
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

/// Write an uploaded file under `data_dir/uploads` with a unique name: its key
/// (`uploads/<uuid>-<safe name>`) and the file, removed when dropped unless kept.
pub async fn write_upload(
    data_dir: &Path,
    name: &str,
    data: &[u8],
) -> AppResult<(String, StoredFile)> {
    let stored = format!("{}-{}", uuid::Uuid::new_v4(), safe_name(name));
    let dir = data_dir.join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(anyhow::Error::from)?;
    let file = StoredFile {
        path: Some(dir.join(&stored)),
    };
    tokio::fs::write(dir.join(&stored), data)
        .await
        .map_err(anyhow::Error::from)?;
    Ok((format!("uploads/{stored}"), file))
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
    store_for(tx, data_dir, Parent::Inquiry(inquiry), upload, actor).await
}

/// `store` for an inquiry or a project.
pub async fn store_for(
    tx: &mut PgConnection,
    data_dir: &Path,
    parent: Parent,
    upload: &Upload,
    actor: i32,
) -> AppResult<(i32, StoredFile)> {
    let (inquiry, project) = parent.ids();
    if upload.data.is_empty() {
        return Err(AppError::field("file", "choose a file to upload"));
    }
    let safe = safe_name(&upload.name);
    let (key, file) = write_upload(data_dir, &upload.name, &upload.data).await?;
    let document: i32 = sqlx::query_scalar(
        "INSERT INTO documents (inquiry_id, project_id, file_name, file_path, document_type)
         VALUES ($1, $5, $2, $3, $4) RETURNING id",
    )
    .bind(inquiry)
    .bind(&safe)
    .bind(key)
    .bind(upload.kind.trim().chars().take(255).collect::<String>())
    .bind(project)
    .fetch_one(&mut *tx)
    .await?;
    let details = serde_json::json!({ "inquiry": inquiry, "project": project, "file": safe,
                                      "bytes": upload.data.len() });
    let actor = Some(actor);
    let action = if project.is_some() {
        "projects.document.upload"
    } else {
        "leads.document.upload"
    };
    audit::record(tx, actor, action, "document", Some(document), details).await?;
    Ok((document, file))
}

/// An active document's name and contents (404 when there is none or its file is missing).
pub async fn read(
    conn: &mut PgConnection,
    data_dir: &Path,
    id: i32,
) -> AppResult<(Option<String>, Vec<u8>)> {
    read_any(conn, data_dir, id, false).await
}

/// `read`, archived documents too when `archived` (the studio's own downloads).
pub async fn read_any(
    conn: &mut PgConnection,
    data_dir: &Path,
    id: i32,
    archived: bool,
) -> AppResult<(Option<String>, Vec<u8>)> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT file_name, file_path FROM documents WHERE id = $1 AND ($2 OR status = 'Active')",
    )
    .bind(id)
    .bind(archived)
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

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn a_name_keeps_its_last_component_and_safe_characters_only() {
        assert_eq!(safe_name("../mood board.png"), "mood board.png");
        assert_eq!(safe_name("C:\\Users\\ana\\plan<1>.pdf"), "plan_1_.pdf");
        assert_eq!(safe_name("música.mp3"), "música.mp3");
        assert_eq!(safe_name("../"), "file");
        assert_eq!(safe_name("   "), "file");
        assert_eq!(safe_name(&"a".repeat(300)).len(), 120);
    }
}

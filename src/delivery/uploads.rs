//! Resumable uploads of project assets (the tus 1.0 protocol's core, creation and
//! termination): an upload is created with its length, each PATCH appends bytes at the offset
//! the server holds, streamed to the partial file and through the SHA-256 as they arrive (never
//! held whole in memory), and the last byte turns it into a `project_assets` row. Each PATCH
//! locks the upload's row, so two clients (or two server instances) never write one upload at
//! once; a chunk cut off midway is dropped whole (its bytes past the recorded offset are cut at
//! the next PATCH), and the client asks (HEAD) where to go on: at most one chunk is sent again.
use super::sha::Resumable;
use crate::error::{AppError, AppResult};
use crate::storage::{self, Storage, io};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use sqlx::PgConnection;
use std::path::Path;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// The asset types, as the spec's `project_asset_type` names them. Only `Export` ever reaches
/// the couple.
pub const ASSET_TYPES: [&str; 4] = ["Raw Footage", "Audio File", "Project File", "Export"];

/// The largest upload accepted: 1 TiB.
pub const MAX_LENGTH: i64 = 1 << 40;

pub struct NewUpload {
    pub project: i32,
    pub scene: Option<i32>,
    pub asset_type: String,
    pub file_name: String,
    pub content_type: Option<String>,
    pub length: i64,
}

/// Start an upload: its row and its empty partial file. Refuses an unknown project (404), a
/// scene or type that is not one (422), a length of nothing or over the limit (422).
pub async fn create(
    tx: &mut PgConnection,
    data_dir: &Path,
    new: &NewUpload,
    actor: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)")
        .bind(new.project)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Err(AppError::not_found("project"));
    }
    if !ASSET_TYPES.contains(&new.asset_type.as_str()) {
        return Err(AppError::field(
            "asset_type",
            format!("must be one of: {}", ASSET_TYPES.join(", ")),
        ));
    }
    if new.length <= 0 || new.length > MAX_LENGTH {
        return Err(AppError::field(
            "length",
            "must be between 1 byte and 1 TiB",
        ));
    }
    let name = crate::crm::documents::safe_name(&new.file_name);
    if name.trim().is_empty() {
        return Err(AppError::field("file_name", "give the file's name"));
    }
    if let Some(scene) = new.scene {
        let ok: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM coverage_scenes WHERE id = $1)")
                .bind(scene)
                .fetch_one(&mut *tx)
                .await?;
        if !ok {
            return Err(AppError::unknown_ref("scene", "no such coverage scene"));
        }
    }
    let id = Uuid::new_v4();
    let (state, tail) = Resumable::default().saved();
    let content_type = new
        .content_type
        .as_deref()
        .map(|c| c.chars().take(255).collect::<String>())
        .filter(|c| !c.trim().is_empty());
    sqlx::query(
        "INSERT INTO asset_uploads (id, project_id, coverage_scene_id, asset_type, file_name,
                content_type, upload_length, sha_state, sha_tail, created_by, created_at)
         VALUES ($1::uuid, $2, $3, $4::project_asset_type, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.to_string())
    .bind(new.project)
    .bind(new.scene)
    .bind(&new.asset_type)
    .bind(&name)
    .bind(content_type)
    .bind(new.length)
    .bind(state)
    .bind(tail)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let partial = storage::partial(data_dir, id);
    if let Some(dir) = partial.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
    }
    tokio::fs::File::create(&partial).await.map_err(io)?;
    Ok(id)
}

/// Where an upload stands.
#[derive(Debug, sqlx::FromRow)]
pub struct Status {
    pub project_id: i32,
    pub upload_offset: i64,
    pub upload_length: i64,
    pub asset_id: Option<i32>,
}

/// An upload's offset and length (404 when there is none).
pub async fn status(conn: &mut PgConnection, id: Uuid) -> AppResult<Status> {
    sqlx::query_as(
        "SELECT project_id, upload_offset, upload_length, asset_id FROM asset_uploads
         WHERE id = $1::uuid",
    )
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("upload"))
}

#[derive(sqlx::FromRow)]
struct Locked {
    project_id: i32,
    coverage_scene_id: Option<i32>,
    asset_type: String,
    file_name: String,
    content_type: Option<String>,
    upload_length: i64,
    upload_offset: i64,
    sha_state: Vec<u8>,
    sha_tail: Vec<u8>,
    asset_id: Option<i32>,
}

/// What a PATCH did: the new offset and, when that was the last byte, the asset made.
pub struct Appended {
    pub offset: i64,
    pub asset: Option<i32>,
    /// The asset's key, when the last byte made it (to push to S3 after the commit).
    pub key: Option<String>,
}

/// Append `body` at `offset` (409 unless it is the upload's offset; 413 when it would pass
/// the upload's length), streaming it to the partial file and the checksum. When the body breaks
/// off the error is returned (the caller rolls back: the offset stays). The last byte makes the
/// asset.
pub async fn append<S, E>(
    tx: &mut PgConnection,
    storage: &Storage,
    id: Uuid,
    offset: i64,
    mut body: S,
    actor: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Appended>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let up: Locked = sqlx::query_as(
        "SELECT project_id, coverage_scene_id, asset_type::text AS asset_type, file_name,
                content_type, upload_length, upload_offset, sha_state, sha_tail, asset_id
         FROM asset_uploads WHERE id = $1::uuid FOR UPDATE",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("upload"))?;
    if up.asset_id.is_some() || offset != up.upload_offset {
        return Err(AppError::Conflict(format!(
            "the upload is at offset {}: send from there",
            up.upload_offset
        )));
    }
    let mut hash = Resumable::restore(&up.sha_state, &up.sha_tail, up.upload_offset as u64)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("upload {id}: checksum state")))?;
    let partial = storage.partial(id);
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&partial)
        .await
        .map_err(|_| AppError::not_found("upload file"))?;
    // Bytes past the offset are from a chunk whose end was never recorded: drop them.
    file.set_len(up.upload_offset as u64).await.map_err(io)?;
    use tokio::io::AsyncSeekExt;
    file.seek(std::io::SeekFrom::End(0)).await.map_err(io)?;
    let mut at = up.upload_offset;
    let mut failure: Option<AppError> = None;
    while let Some(frame) = body.next().await {
        let bytes = match frame {
            Ok(b) => b,
            Err(e) => {
                failure = Some(AppError::BadRequest {
                    status: axum::http::StatusCode::BAD_REQUEST,
                    message: format!("the upload broke off: {e}"),
                });
                break;
            }
        };
        if at + bytes.len() as i64 > up.upload_length {
            failure = Some(AppError::BadRequest {
                status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                message: "the chunk goes past the upload's length".into(),
            });
            break;
        }
        file.write_all(&bytes).await.map_err(io)?;
        hash.update(&bytes);
        at += bytes.len() as i64;
    }
    file.flush().await.map_err(io)?;
    file.sync_data().await.map_err(io)?;
    drop(file);
    let (state, tail) = hash.saved();
    sqlx::query(
        "UPDATE asset_uploads SET upload_offset = $2, sha_state = $3, sha_tail = $4 WHERE id = $1::uuid",
    )
    .bind(id.to_string())
    .bind(at)
    .bind(state)
    .bind(tail)
    .execute(&mut *tx)
    .await?;
    if let Some(e) = failure {
        return Err(e);
    }
    let asset = if at == up.upload_length {
        let sha = hash.finish();
        let key = storage::final_key(up.project_id, id, &up.file_name);
        let content_type = up
            .content_type
            .clone()
            .unwrap_or_else(|| super::range::content_type_of(&up.file_name).to_string());
        let asset: i32 = sqlx::query_scalar(
            "INSERT INTO project_assets (project_id, coverage_scene_id, file_name, storage_path,
                    asset_type, size_bytes, sha256, content_type, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5::project_asset_type, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(up.project_id)
        .bind(up.coverage_scene_id)
        .bind(&up.file_name)
        .bind(&key)
        .bind(&up.asset_type)
        .bind(at)
        .bind(&sha)
        .bind(content_type)
        .bind(actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE asset_uploads SET asset_id = $2 WHERE id = $1::uuid")
            .bind(id.to_string())
            .bind(asset)
            .execute(&mut *tx)
            .await?;
        crate::audit::record(
            tx,
            actor,
            "projects.asset.upload",
            "project_asset",
            Some(asset),
            serde_json::json!({ "project": up.project_id, "file": up.file_name,
                                "type": up.asset_type, "bytes": at, "sha256": sha }),
        )
        .await?;
        storage.keep(id, &key).await?;
        (Some(asset), Some(key))
    } else {
        (None, None)
    };
    Ok(Appended {
        offset: at,
        asset: asset.0,
        key: asset.1,
    })
}

/// Give up an unfinished upload: its row and its partial file go (404 when there is none, 409
/// when it is finished: the asset stays).
pub async fn terminate(tx: &mut PgConnection, data_dir: &Path, id: Uuid) -> AppResult<()> {
    let done: Option<Option<i32>> =
        sqlx::query_scalar("SELECT asset_id FROM asset_uploads WHERE id = $1::uuid FOR UPDATE")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    match done {
        None => Err(AppError::not_found("upload")),
        Some(Some(_)) => Err(AppError::Conflict("the upload is finished".into())),
        Some(None) => {
            sqlx::query("DELETE FROM asset_uploads WHERE id = $1::uuid")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            let _ = tokio::fs::remove_file(storage::partial(data_dir, id)).await;
            Ok(())
        }
    }
}

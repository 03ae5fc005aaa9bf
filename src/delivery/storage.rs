//! Where asset files live: under the data dir (`assets/<project>/<id>-<name>`), written as they
//! stream in (`assets/partial/<upload id>` while a resumable upload is under way) and read back
//! in ranges. Keys are relative paths checked here, so a stored path never leaves the data dir.
use crate::error::{AppError, AppResult};
use std::path::{Path, PathBuf};

/// The file of a stored key (`assets/...`, `uploads/...`), or 404 for a key that could
/// leave the data dir.
pub fn path_of(data_dir: &Path, key: &str) -> AppResult<PathBuf> {
    let ok = (key.starts_with("assets/") || key.starts_with("uploads/"))
        && !key.split('/').any(|p| p == ".." || p.is_empty());
    if !ok {
        return Err(AppError::not_found("file"));
    }
    Ok(data_dir.join(key))
}

/// The partial file of a resumable upload.
pub fn partial(data_dir: &Path, upload: uuid::Uuid) -> PathBuf {
    data_dir
        .join("assets")
        .join("partial")
        .join(upload.to_string())
}

/// The key a finished upload is kept under.
pub fn final_key(project: i32, upload: uuid::Uuid, safe_name: &str) -> String {
    format!("assets/{project}/{upload}-{safe_name}")
}

pub fn io(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::Error::from(e))
}

/// Move a finished upload to its key.
pub async fn keep(data_dir: &Path, upload: uuid::Uuid, key: &str) -> AppResult<()> {
    let to = path_of(data_dir, key)?;
    if let Some(dir) = to.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
    }
    tokio::fs::rename(partial(data_dir, upload), &to)
        .await
        .map_err(io)
}

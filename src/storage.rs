//! Where files live (project assets, documents, receipts). Keys are relative paths checked here (`assets/<project>/<id>-<name>` for
//! project assets, `uploads/<id>-<name>` for documents and receipts), read through the
//! `object_store` crate:
//! - by default everything is under the data dir (`LocalFileSystem` rooted there: a key is the
//!   file's path below it, the layout of before);
//! - with an S3 bucket configured, project assets are objects in that bucket under the same
//!   keys; documents and receipts (small, written in one request) stay under the data dir.
//!
//! A resumable upload is written to `assets/partial/<upload id>` under the data dir while it is
//! under way, whatever the store. When its last byte arrives the local store renames it to its
//! key at once; for S3 it stays where it is, served from there, until [`Storage::push`] has
//! copied it to the bucket (a multipart upload streamed from the disk in parts) and removed it.
//! Pushes left undone by a stop are redone at start-up ([`push_pending`]).
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetResultPayload, ObjectStore, ObjectStoreExt, WriteMultipart};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

/// A part of a multipart upload to S3 (S3 wants at least 5 MiB but the last).
const PART: usize = 8 * 1024 * 1024;
/// Parts in flight at once during a push: memory stays under (this + 1) parts.
const PARTS_IN_FLIGHT: usize = 2;

/// The stores of one server: the data dir, and the S3 bucket for assets when configured.
#[derive(Clone, Debug)]
pub struct Storage {
    data_dir: PathBuf,
    s3: Option<Arc<AmazonS3>>,
}

impl Storage {
    /// The stores the settings name: S3 when a bucket is set (an error names the setting at
    /// fault), else the data dir alone.
    pub fn new(settings: &Settings) -> anyhow::Result<Storage> {
        let s3 = match settings.s3() {
            None => None,
            Some(s) => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(s.bucket)
                    .with_region(s.region)
                    .with_access_key_id(s.access_key_id)
                    .with_secret_access_key(s.secret_access_key)
                    .with_allow_http(s.allow_http)
                    .with_virtual_hosted_style_request(s.virtual_hosted_style);
                if let Some(e) = s.endpoint {
                    if e.starts_with("http://") && !s.allow_http {
                        anyhow::bail!(
                            "bad setting --s3-endpoint (env PROJECTFLO_S3_ENDPOINT): an http:// \
                             address needs --s3-allow-http (env PROJECTFLO_S3_ALLOW_HTTP=true)"
                        );
                    }
                    b = b.with_endpoint(e);
                }
                let store = b
                    .build()
                    .map_err(|e| anyhow::anyhow!("bad S3 settings (PROJECTFLO_S3_*): {e}"))?;
                Some(Arc::new(store))
            }
        };
        Ok(Storage {
            data_dir: settings.data_dir.clone(),
            s3,
        })
    }

    /// The data dir alone (tools and the demo's scratch dir).
    pub fn local(data_dir: &Path) -> Storage {
        Storage {
            data_dir: data_dir.to_path_buf(),
            s3: None,
        }
    }

    /// Where assets are kept, for the log: `s3://bucket` or the data dir.
    pub fn describe(&self, settings: &Settings) -> String {
        match settings.s3() {
            Some(s) => format!("s3://{}", s.bucket),
            None => format!("{}", self.data_dir.display()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Whether assets go to an S3 bucket.
    pub fn is_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// The data dir as a store (made on each use: the dir may not exist before the first file).
    fn local_fs(&self) -> AppResult<Arc<dyn ObjectStore>> {
        std::fs::create_dir_all(&self.data_dir).map_err(io)?;
        let fs = LocalFileSystem::new_with_prefix(&self.data_dir).map_err(internal)?;
        Ok(Arc::new(fs))
    }

    /// The store a key lives in, and the key as it names an object there (404 for a key that
    /// could leave the data dir).
    fn store_of(&self, key: &str) -> AppResult<(Arc<dyn ObjectStore>, Key)> {
        check(key)?;
        let k = Key::parse(key).map_err(|_| AppError::not_found("file"))?;
        match &self.s3 {
            Some(s3) if key.starts_with("assets/") => Ok((s3.clone(), k)),
            _ => Ok((self.local_fs()?, k)),
        }
    }

    /// The partial file of a resumable upload.
    pub fn partial(&self, upload: Uuid) -> PathBuf {
        partial(&self.data_dir, upload)
    }

    /// A finished upload reaches its key: renamed at once under the data dir. With S3 nothing
    /// happens here: the caller pushes it once its transaction is committed.
    pub async fn keep(&self, upload: Uuid, key: &str) -> AppResult<()> {
        if self.s3.is_some() {
            return Ok(());
        }
        let to = path_of(&self.data_dir, key)?;
        if let Some(dir) = to.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        tokio::fs::rename(self.partial(upload), &to)
            .await
            .map_err(io)
    }

    /// Copy a finished upload's partial file to its key in the bucket (a multipart upload, read
    /// from the disk a part at a time), then remove the partial. Nothing to do without S3.
    pub async fn push(&self, upload: Uuid, key: &str) -> anyhow::Result<()> {
        let Some(s3) = &self.s3 else {
            return Ok(());
        };
        check(key).map_err(|_| anyhow::anyhow!("bad key {key}"))?;
        let path = self.partial(upload);
        let mut file = tokio::fs::File::open(&path).await?;
        let to = Key::parse(key)?;
        let mut w = WriteMultipart::new_with_chunk_size(s3.put_multipart(&to).await?, PART);
        let mut buf = vec![0u8; 1024 * 1024];
        let read = async {
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<_, anyhow::Error>(());
                }
                w.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                w.write(&buf[..n]);
            }
        }
        .await;
        if let Err(e) = read {
            let _ = w.abort().await;
            return Err(e);
        }
        w.finish().await?;
        tokio::fs::remove_file(&path).await?;
        tracing::info!(%upload, key, "asset stored in the S3 bucket");
        Ok(())
    }

    /// The object of a key, to be read in ranges (404 when there is none). An asset on its way
    /// to the bucket is read from its partial file meanwhile.
    pub async fn open(&self, key: &str) -> AppResult<Object> {
        let (store, k) = self.store_of(key)?;
        match store.head(&k).await {
            Ok(meta) => Ok(Object {
                source: Source::Store(store, k),
                len: meta.size,
            }),
            Err(object_store::Error::NotFound { .. }) => match pushing(key) {
                // Opened at once: the push may remove the file while it is being read.
                Some(upload) if self.s3.is_some() => {
                    let file = std::fs::File::open(self.partial(upload))
                        .map_err(|_| AppError::not_found("file"))?;
                    let len = file.metadata().map_err(io)?.len();
                    Ok(Object {
                        source: Source::File(file),
                        len,
                    })
                }
                _ => Err(AppError::not_found("file")),
            },
            Err(e) => Err(internal(e)),
        }
    }

    /// Whether a key has its file.
    pub async fn exists(&self, key: &str) -> AppResult<bool> {
        match self.open(key).await {
            Ok(_) => Ok(true),
            Err(AppError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Write a small file whole (the demo's files).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> AppResult<()> {
        let (store, k) = self.store_of(key)?;
        store.put(&k, bytes.into()).await.map_err(internal)?;
        Ok(())
    }
}

/// A stored file, its length known.
pub struct Object {
    source: Source,
    pub len: u64,
}

enum Source {
    Store(Arc<dyn ObjectStore>, Key),
    /// An asset on its way to the bucket, read from its partial file.
    File(std::fs::File),
}

impl Object {
    /// The bytes of `range`, streamed (a local file in 64 KiB reads, an object as S3 sends it).
    pub async fn stream(
        &self,
        range: Range<u64>,
    ) -> AppResult<BoxStream<'static, std::io::Result<Bytes>>> {
        if range.is_empty() {
            return Ok(futures_util::stream::empty().boxed());
        }
        let file = match &self.source {
            Source::File(f) => f.try_clone().map_err(io)?,
            Source::Store(store, key) => {
                let got = store
                    .get_opts(key, GetOptions::new().with_range(Some(range.clone())))
                    .await
                    .map_err(|e| match e {
                        object_store::Error::NotFound { .. } => AppError::not_found("file"),
                        e => internal(e),
                    })?;
                match got.payload {
                    GetResultPayload::File(file, _) => file,
                    GetResultPayload::Stream(s) => {
                        return Ok(s.map(|r| r.map_err(std::io::Error::other)).boxed());
                    }
                }
            }
        };
        Ok(file_range(file, range).await?.boxed())
    }
}

/// `range` of a local file, in 64 KiB reads.
async fn file_range(
    file: std::fs::File,
    range: Range<u64>,
) -> AppResult<impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static> {
    use tokio::io::AsyncSeekExt;
    let mut f = tokio::fs::File::from_std(file);
    f.seek(std::io::SeekFrom::Start(range.start))
        .await
        .map_err(io)?;
    let count = range.end - range.start;
    Ok(tokio_util::io::ReaderStream::with_capacity(
        f.take(count),
        64 * 1024,
    ))
}

/// Whether a key may name a file: under `assets/` or `uploads/`, no empty or `..` part.
fn check(key: &str) -> AppResult<()> {
    let ok = (key.starts_with("assets/") || key.starts_with("uploads/"))
        && !key
            .split('/')
            .any(|p| p == ".." || p == "." || p.is_empty());
    if ok {
        Ok(())
    } else {
        Err(AppError::not_found("file"))
    }
}

/// The upload an asset's key was made from (`assets/<project>/<upload id>-<name>`).
fn pushing(key: &str) -> Option<Uuid> {
    let name = key.strip_prefix("assets/")?.split('/').nth(1)?;
    Uuid::parse_str(name.get(..36)?).ok()
}

/// The file of a stored key under the data dir (`assets/...`, `uploads/...`), or 404 for a
/// key that could leave the data dir.
pub fn path_of(data_dir: &Path, key: &str) -> AppResult<PathBuf> {
    check(key)?;
    Ok(data_dir.join(key))
}

/// The partial file of a resumable upload.
pub fn partial(data_dir: &Path, upload: Uuid) -> PathBuf {
    data_dir
        .join("assets")
        .join("partial")
        .join(upload.to_string())
}

/// The key a finished upload is kept under.
pub fn final_key(project: i32, upload: Uuid, safe_name: &str) -> String {
    format!("assets/{project}/{upload}-{safe_name}")
}

pub fn io(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::Error::from(e))
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> AppError {
    AppError::Internal(anyhow::Error::from(e))
}

/// Push to the bucket the finished uploads whose push a stop cut short (their partial file is
/// still there). Run at start-up, in the background.
pub async fn push_pending(pool: sqlx::PgPool, storage: Storage) {
    if !storage.is_s3() {
        return;
    }
    let rows: Result<Vec<(String, String)>, _> = sqlx::query_as(
        "SELECT u.id::text, a.storage_path FROM asset_uploads u
         JOIN project_assets a ON a.id = u.asset_id WHERE a.storage_path IS NOT NULL",
    )
    .fetch_all(&pool)
    .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("finding the assets to push to S3: {e}");
            return;
        }
    };
    for (id, key) in rows {
        let Ok(id) = Uuid::parse_str(&id) else {
            continue;
        };
        if !storage.partial(id).exists() {
            continue;
        }
        if let Err(e) = storage.push(id, &key).await {
            tracing::error!(upload = %id, key, "pushing the asset to S3: {e:#}");
        }
    }
}

//! One connection per request. The authentication check and the handler share it: it is taken
//! from the pool at the first query and goes back once the answer is made, so a request costs
//! its own statements plus the pool's one check on release, not an acquire and a ping for each.
//!
//! A request cut off mid-way (the client went away, the time limit struck) may leave the
//! connection inside a transaction the driver does not know about (a BEGIN in flight:
//! launchbadge/sqlx#4393); such a connection is closed instead of going back to the pool.
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The request's connection, once taken from the pool.
struct Held {
    conn: Option<PoolConnection<Postgres>>,
    cut_off: Arc<AtomicBool>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.cut_off.load(Ordering::SeqCst) {
            if let Some(conn) = self.conn.as_mut() {
                conn.close_on_drop();
            }
        }
    }
}

/// The request's slot for its connection (a request extension).
#[derive(Clone)]
pub struct RequestDb {
    pool: PgPool,
    held: Arc<Mutex<Held>>,
    cut_off: Arc<AtomicBool>,
}

impl RequestDb {
    fn new(pool: PgPool) -> Self {
        let cut_off = Arc::new(AtomicBool::new(false));
        RequestDb {
            pool,
            held: Arc::new(Mutex::new(Held {
                conn: None,
                cut_off: cut_off.clone(),
            })),
            cut_off,
        }
    }

    /// The connection, taken from the pool on first use. One user at a time: a second `Db`
    /// while one is held is a programming error, reported rather than waited on for ever.
    pub async fn conn(&self) -> AppResult<Db> {
        let mut held = self.held.clone().try_lock_owned().map_err(|_| {
            AppError::Internal(anyhow::anyhow!(
                "the request's connection is already in use"
            ))
        })?;
        if held.conn.is_none() {
            held.conn = Some(self.pool.acquire().await?);
        }
        Ok(Db(held, self.pool.clone()))
    }
}

/// Marks the request cut off unless it ran to its answer.
struct UntilAnswered(Option<RequestDb>);

impl Drop for UntilAnswered {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            db.cut_off.store(true, Ordering::SeqCst);
        }
    }
}

/// Middleware: give the request its connection slot.
pub async fn scope(mut req: Request, next: Next) -> Response {
    let pool = req
        .extensions()
        .get::<AppState>()
        .expect("AppState extension")
        .db
        .clone();
    let db = RequestDb::new(pool);
    req.extensions_mut().insert(db.clone());
    let mut watch = UntilAnswered(Some(db));
    let resp = next.run(req).await;
    watch.0 = None;
    resp
}

/// The request's connection, for a handler: `mut db: Db`, then `&mut db` wherever a
/// `&mut PgConnection` goes and `db.begin()` for a transaction.
pub struct Db(OwnedMutexGuard<Held>, PgPool);

impl Db {
    /// A transaction on the request's connection.
    pub async fn begin(&mut self) -> Result<sqlx::Transaction<'_, Postgres>, sqlx::Error> {
        sqlx::Connection::begin(&mut **self).await
    }

    /// Give the connection back to the pool while slow work that needs none runs (password
    /// hashing), then take one again. Never inside a transaction: the borrow rules see to it.
    pub async fn while_idle<T>(
        &mut self,
        work: impl std::future::Future<Output = T>,
    ) -> AppResult<T> {
        self.0.conn = None;
        let out = work.await;
        self.0.conn = Some(self.1.acquire().await?);
        Ok(out)
    }

    /// The pool the connection came from (for work after the request's own, such as sending
    /// the emails it queued).
    pub fn pool(&self) -> &PgPool {
        &self.1
    }
}

impl Deref for Db {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.0.conn.as_deref().expect("taken from the pool")
    }
}

impl DerefMut for Db {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.0.conn.as_deref_mut().expect("taken from the pool")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Db {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        request_db(&parts.extensions)?.conn().await
    }
}

/// The request's slot, from its extensions.
pub fn request_db(ext: &axum::http::Extensions) -> AppResult<RequestDb> {
    ext.get::<RequestDb>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no connection slot for this request")))
}

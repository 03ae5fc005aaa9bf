//! Database: the pool, the embedded cluster, migrations.
pub mod embedded;
pub mod request;

pub use request::Db;

use crate::config::Settings;
use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::time::Duration;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The database name used inside the embedded cluster.
pub const DATABASE: &str = "projectflo";

pub struct Database {
    pub pool: PgPool,
    cluster: Option<embedded::Cluster>,
    options: PgConnectOptions,
}

impl Database {
    /// Connect to DATABASE_URL, or start the embedded cluster in the data dir.
    pub async fn open(settings: &Settings) -> Result<Database> {
        let (options, cluster) = match &settings.database_url {
            Some(url) => (
                url.parse::<PgConnectOptions>()
                    .context("DATABASE_URL is not a valid PostgreSQL URL")?,
                None,
            ),
            None => {
                let s = settings.clone();
                let cluster = tokio::task::spawn_blocking(move || {
                    embedded::Cluster::start(
                        &s.data_dir,
                        &embedded::Options {
                            bin_dir: s.pg_bin_dir.as_deref(),
                            run_as: s.pg_user.as_deref(),
                            tcp_port: s.pg_port,
                            ephemeral: false,
                        },
                    )
                })
                .await??;
                create_database_if_missing(&cluster.connect_options("postgres"), DATABASE).await?;
                (cluster.connect_options(DATABASE), Some(cluster))
            }
        };
        let pool = pool(options.clone(), settings.db_max_connections).await?;
        Ok(Database {
            pool,
            cluster,
            options,
        })
    }

    /// Options to reach the same server as an administrator (to make other databases).
    pub fn admin_options(&self) -> PgConnectOptions {
        match &self.cluster {
            Some(c) => c.connect_options("postgres"),
            None => self.options.clone(),
        }
    }

    /// Close the pool, then stop the embedded cluster (if any).
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(c) = self.cluster {
            let _ = tokio::task::spawn_blocking(move || c.stop(Duration::from_secs(4))).await;
        }
    }
}

/// The pool. Connections are not pinged when taken (sqlx pings each on its way back anyway);
/// a request keeps one for all its statements (`request::Db`), and one cut off mid-way closes
/// its connection rather than return it possibly inside a transaction. As a backstop the
/// server ends any session left idle in a transaction for a minute. JIT compilation is off:
/// the app's statements are short or read along indexes, and compiling a report's plan took
/// longer (100-400 ms at 50,000 projects) than running it.
pub async fn pool(options: PgConnectOptions, max: u32) -> Result<PgPool> {
    let options = options
        .log_statements(tracing::log::LevelFilter::Trace)
        .options([
            ("idle_in_transaction_session_timeout", "60s"),
            ("jit", "off"),
        ]);
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .context("connecting to PostgreSQL")
}

/// Run `f` in one transaction on `conn`: committed when it returns `Ok`, rolled back otherwise.
pub async fn transaction<T>(
    conn: &mut PgConnection,
    f: impl AsyncFnOnce(&mut PgConnection) -> crate::error::AppResult<T>,
) -> crate::error::AppResult<T> {
    let mut tx = conn.begin().await?;
    let out = f(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn create_database_if_missing(admin: &PgConnectOptions, name: &str) -> Result<()> {
    let mut conn = PgConnection::connect_with(admin)
        .await
        .context("connecting to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // Two instances racing here: the loser gets 42P04 (duplicate_database), which is fine.
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::query(&sql).execute(&mut conn).await {
            if e.as_database_error().and_then(|d| d.code()).as_deref() != Some("42P04") {
                return Err(e.into());
            }
        }
    }
    conn.close().await?;
    Ok(())
}

/// Apply pending migrations. sqlx's migrator holds a PostgreSQL advisory lock while it runs,
/// so two instances starting at once never both migrate.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations")
}

/// True when every embedded migration is applied and none is newer than this binary knows.
pub async fn migrations_current(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    let known: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    Ok(applied == known)
}

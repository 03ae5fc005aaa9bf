//! What every request handler gets: the database pool, the settings and the clock.
use crate::clock::Clock;
use crate::config::Settings;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    /// Where files are kept (the data dir, and an S3 bucket for assets when configured).
    pub storage: crate::storage::Storage,
}

impl AppState {
    /// Panics on S3 settings the store refuses: `run` checks them first (start-up stops with
    /// a line naming the setting).
    pub fn new(db: PgPool, settings: Settings) -> Self {
        let storage = crate::storage::Storage::new(&settings).unwrap_or_else(|e| panic!("{e:#}"));
        AppState {
            db,
            settings: Arc::new(settings),
            clock: Clock::System,
            storage,
        }
    }

    /// The same state with another clock (tests pin the instant).
    pub fn with_clock(self, clock: Clock) -> Self {
        AppState { clock, ..self }
    }
}

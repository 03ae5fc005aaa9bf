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
}

impl AppState {
    pub fn new(db: PgPool, settings: Settings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
            clock: Clock::System,
        }
    }

    /// The same state with another clock (tests pin the instant).
    pub fn with_clock(self, clock: Clock) -> Self {
        AppState { clock, ..self }
    }
}

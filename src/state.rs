//! What every request handler gets: the database pool and the settings.
use crate::config::Settings;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
}

impl AppState {
    pub fn new(db: PgPool, settings: Settings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
        }
    }
}

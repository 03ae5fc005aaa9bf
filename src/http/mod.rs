//! Web infrastructure every area uses: the error answer and extractors, the route table,
//! the layout, middleware, health checks and static files. It imports no area.
pub mod assets;
pub mod error;
pub mod form;
pub mod json;
pub mod layout;
pub mod middleware;
pub mod openapi;
pub mod redirect;
pub mod routes;

pub use crate::error::{AppError, AppResult};
pub use crate::state::AppState;
pub use error::{ApiJson, ApiPath, ApiQuery};

//! Pages (to come).
use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
}

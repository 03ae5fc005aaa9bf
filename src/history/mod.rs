//! The audit log page: every recorded change in words, by whom and when, with its record named
//! and linked. An area of its own because it words every other area's actions (it may import
//! them; none imports it).
pub mod log;
pub mod words;

pub fn routes() -> crate::http::routes::Routes {
    log::routes()
}

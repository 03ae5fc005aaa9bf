//! The audit log page: every recorded change in words, by whom and when, with its record named
//! and linked. An area of its own because it words every other area's actions (it may import
//! them; none imports it). Beside it, the email outbox page: every email the app sent or is
//! still sending.
pub mod log;
pub mod outbox;
pub mod words;

pub fn routes() -> crate::http::routes::Routes {
    log::routes().merge(outbox::routes())
}

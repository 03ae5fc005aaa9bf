//! Phase 6, delivery: project assets uploaded by resumable (tus) uploads with a SHA-256 taken as
//! they stream, kept under the data dir and served with ranges; exports shared with the couple
//! through expiring, revocable links (with a reminder before they expire); project documents
//! (archived, never deleted); expenses with receipts; and the satisfaction survey sent after
//! final delivery and answered in the portal.
pub mod api;
pub mod assets;
pub mod expenses;
pub mod links;
pub mod pages;
pub mod range;
pub mod sha;
pub mod surveys;
pub mod uploads;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().merge(api::routes()).merge(pages::routes())
}

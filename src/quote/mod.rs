//! Phase 3: builds and the live pricing engine.
pub mod api;
pub mod builder;
pub mod builds;
pub mod changes;
pub mod engine;
pub mod forms;
pub mod packages;
pub mod pages;
pub mod pricing;
pub mod proposal;
pub mod status;
pub mod view;

use crate::http::routes::Routes;

pub use status::BuildStatus;

/// Every route of quotes: the JSON API, the list, the builder, the couple's proposal page.
pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(builder::routes())
        .merge(proposal::routes())
}

//! Phase 3: builds and the live pricing engine.
//!
//! The shape of an area: `routes()` here; `api` (JSON) and `pages`/`builder` (HTML) parse,
//! call the same functions and render; the nouns (`builds`, `engine`, `packages`,
//! `proposal`) hold the queries and rules over a `&mut PgConnection`; `view` reads what the
//! pages show, one query per panel; `pricing` is pure. Submodules do not use this file.
pub mod api;
pub mod auto_book;
pub mod booking;
pub mod builder;
pub mod builds;
pub mod change_orders;
pub mod change_pages;
pub mod changes;
pub mod countersign;
pub mod engine;
pub mod forms;
pub mod packages;
pub mod pages;
pub mod pricing;
pub mod proposal;
pub mod proposal_page;
pub mod proposal_settings;
pub mod rules;
pub mod schedule_choice;
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
        .merge(proposal_page::routes())
        .merge(proposal_settings::routes())
        .merge(change_pages::routes())
        .merge(countersign::routes())
}

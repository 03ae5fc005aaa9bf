//! Phase 1: the studio's catalogs and rules. One engine (`store`) serves every catalog table
//! from its description (`spec`, made of `field`s): validation, SQL, the JSON API, the pages
//! and CSV; the studio settings; the rules preview, priced by the quote's own pricing.
pub mod api;
pub mod csv;
pub mod field;
pub mod form;
pub mod pages;
pub mod preview;
pub mod row;
pub mod rules;
pub mod settings;
pub mod spec;
pub mod store;

use crate::http::routes::Routes;

/// Every route of the area: the JSON API, the catalog pages, the studio settings page and the
/// rules preview.
pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(preview::routes())
        .merge(settings::routes())
}

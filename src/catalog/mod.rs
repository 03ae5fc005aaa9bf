//! Phase 1: the studio's catalogs and rules. One engine (`store`) serves every catalog table
//! from its description (`spec`, made of `field`s): validation, SQL, the JSON API, the pages
//! and CSV; the studio settings; the rules preview.
pub mod api;
pub mod csv;
pub mod field;
pub mod pages;
pub mod preview;
pub mod row;
pub mod spec;
pub mod store;

use crate::http::routes::Routes;

/// Every route of the area: the JSON API, the pages (catalogs, studio settings, rules preview).
pub fn routes() -> Routes {
    Routes::new().merge(api::routes()).merge(pages::routes())
}

//! Phase 4: the contract and its e-signatures. When the couple accepts a proposal version the
//! contract is rendered from it (the studio's template, `text`) and stored with the SHA-256 of
//! its text (`contracts`); each partner signs by their own emailed link (`signing`), then the
//! studio countersigns on the contract's page (`pages`); the signed PDF (`pdf`) joins the
//! inquiry's documents. The template is edited in Settings (`settings`).
pub mod contracts;
pub mod pages;
pub mod pdf;
pub mod settings;
pub mod signing;
pub mod text;

pub use contracts::fully_signed;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(pages::routes())
        .merge(signing::routes())
        .merge(settings::routes())
}

//! Phase 4: the contract and its e-signatures. When the couple accepts a proposal version the
//! contract is rendered from it (the studio's template, `text`) and stored with the SHA-256 of
//! its text (`contracts`); each partner signs by their own emailed link (`signing`) or in the
//! couple's portal (`portal_signing`), the signatures themselves being `signatures`; then the
//! studio countersigns on the contract's page (`pages`; its handler is `quote::countersign`, which
//! books the quote by the setting in `auto_book`); the signed PDF (`pdf`) joins the
//! inquiry's documents. The template is edited in Settings (`settings`).
pub mod auto_book;
pub mod contracts;
pub mod pages;
pub mod pdf;
pub mod portal_signing;
pub mod rendering;
pub mod settings;
pub mod signatures;
pub mod signing;
pub mod text;
pub mod trail;

pub use contracts::fully_signed;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(pages::routes())
        .merge(signing::routes())
        .merge(portal_signing::routes())
        .merge(settings::routes())
}

//! Phase 2: leads. Contacts, inquiries, activities (to-dos), communications, documents and the
//! public lead form: each noun's queries in its own file, the pure status rules in `rules`,
//! the JSON API in `api`, the pages in `pages`, `contact_pages`, `todo_pages` and `public`.
pub mod activities;
pub mod api;
pub mod communications;
pub mod contact_pages;
pub mod contacts;
pub mod documents;
pub mod inquiries;
pub mod intake;
pub mod pages;
pub mod public;
pub mod rules;
pub mod status;
pub mod todo_pages;

pub use activities::ActivityRow;
pub use inquiries::transition;
pub use rules::Move;
pub use status::InquiryStatus;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(contact_pages::routes())
        .merge(todo_pages::routes())
        .merge(public::routes())
}

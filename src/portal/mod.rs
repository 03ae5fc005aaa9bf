//! The couple's portal: its own login and session; a portal user sees only their own client's
//! projects, quotes, invoices, documents (to download; a signed contract is one, stored with
//! their inquiry) and deliveries (anything else is a 404). Staff invite
//! couples from Settings > Client portal.
pub mod deliveries;
pub mod documents;
pub mod invitations;
pub mod invoices;
pub mod login;
pub mod pages;
pub mod projects;
pub mod questionnaires;
pub mod quotes;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(login::routes())
        .merge(pages::routes())
        .merge(invitations::routes())
        .merge(deliveries::routes())
        .merge(questionnaires::routes())
}

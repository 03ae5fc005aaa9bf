//! The staff inbox: the notifications `crate::notify` writes (a new lead, a proposal opened or
//! accepted by the couple), each person's own, newest first; opening one marks it read. The
//! unread count in every page's header is read with the layout (`http::layout`).
//!
//! `notifications` holds the queries; `pages` (HTML) and `api` (JSON) call them.
pub mod api;
pub mod notifications;
pub mod pages;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().merge(pages::routes()).merge(api::routes())
}

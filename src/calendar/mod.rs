//! The native team calendar (issue 15): who is where and when, the source of truth for
//! availability (`docs/architecture.md`, Calendar).
//!
//! `rules` is pure (local days and wall times in the studio's zone, recurrences, the default
//! wedding-day schedule, iCalendar text); `events`, `crew`, `availability`, `recurrences` and
//! `feeds` hold the queries; `api` (JSON) and `pages` / `shoot_pages` (HTML) parse, call them
//! in one transaction and answer. No double-booking is the database's job: the exclusion
//! constraint `calendar_events_no_double_booking`. `google` is the optional two-way sync with
//! Google Calendar. This area imports no other area (quote
//! and billing call it: the quote builder's "who can shoot", the postponement).
pub mod api;
pub mod availability;
pub mod crew;
pub mod events;
pub mod feeds;
pub mod google;
pub mod pages;
pub mod recurrences;
pub mod rules;
pub mod shoot_pages;
pub mod skills;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(shoot_pages::routes())
        .merge(skills::routes())
        .merge(google::pages::routes())
}

//! The contacts pages: the couples (leads and clients) and one couple with their inquiries and
//! communications.
use super::communications::{self, Communication};
use super::contacts::{self, ContactRow, ContactSearch};
use super::inquiries::{self, InquiryRow};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult};
use crate::page;
use askama::Template;
use axum::extract::{Path, Query, RawQuery};
use axum::response::Response;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::LeadsView);
    Routes::new()
        .get("/contacts", view, contacts_page)
        .get("/contacts/{id}", view, contact_page)
}

#[derive(Template)]
#[template(path = "crm/contacts.html")]
struct ContactsPage {
    layout: Layout,
    rows: Vec<ContactRow>,
    q: String,
    /// The next page's address, when there are more couples.
    next: Option<String>,
}

async fn contacts_page(
    mut db: Db,
    staff: Staff,
    Query(s): Query<ContactSearch>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let (rows, next) = contacts::search(&mut db, &s).await?;
    Ok(render(&ContactsPage {
        layout: Layout::load(&mut db, &staff, "Contacts", "/leads").await?,
        rows,
        q: s.q.trim().to_string(),
        next: next.map(|n| page::next_href("/contacts", &page::pairs(raw.as_deref()), &n)),
    }))
}

#[derive(Template)]
#[template(path = "crm/contact.html")]
struct ContactPage {
    layout: Layout,
    c: ContactRow,
    inquiries: Vec<InquiryRow>,
    comms: Vec<Communication>,
    /// Whether the communications shown are a later page (then a link back to the newest).
    later: bool,
    /// The next (older) page of communications, when there are more.
    next: Option<String>,
}

/// A couple, their inquiries and a page of their communications (newest first; `?after=` for
/// older ones, 422 for a cursor that is not one).
async fn contact_page(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<page::AfterPage>,
) -> AppResult<Response> {
    let after = page::After::parse(q.after.as_deref())?;
    let c = contacts::find(&mut db, id)
        .await?
        .ok_or_else(|| AppError::not_found("contact"))?;
    let inquiries = inquiries::of_contact_newest_first(&mut db, id).await?;
    let (comms, next) = communications::of_contact(&mut db, id, after).await?;
    Ok(render(&ContactPage {
        layout: Layout::load(&mut db, &staff, &c.name, "/leads").await?,
        c,
        inquiries,
        comms,
        later: after.is_some(),
        next: next.map(|n| page::next_href(&format!("/contacts/{id}"), &[], &n)),
    }))
}

//! The JSON API of leads: inquiries, their status and communications, to-dos, contacts.
use super::activities::{self, ActivityRow};
use super::communications::{self, Communication};
use super::contacts::{self, ContactRow, ContactSearch};
use super::inquiries::{self, Filters, InquiryRow};
use super::intake::{self, Created, NewInquiry};
use super::rules;
use super::status::InquiryStatus;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppError, AppResult, AppState, json};
use crate::page;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Perm(Permission::LeadsView), routes!(api_list))
        .api(Access::Perm(Permission::LeadsEdit), routes!(api_create))
        .api(Access::Perm(Permission::LeadsView), routes!(api_get))
        .api(Access::Perm(Permission::LeadsEdit), routes!(api_move))
        .api(Access::Perm(Permission::LeadsEdit), routes!(api_log))
        .api(Access::Staff, routes!(api_my_todos))
        .api(Access::Staff, routes!(api_complete))
        .api(Access::Perm(Permission::LeadsEdit), routes!(api_reassign))
        .api(Access::Perm(Permission::LeadsView), routes!(api_contacts))
        .api(Access::Perm(Permission::LeadsView), routes!(api_contact))
        .api(
            Access::Perm(Permission::LeadsView),
            routes!(api_contact_communications),
        )
}

#[derive(Serialize, ToSchema)]
pub struct InquiryDetail {
    #[serde(flatten)]
    pub inquiry: InquiryRow,
    pub activities: Vec<ActivityRow>,
    /// The newest page of the contact's communications.
    pub communications: Vec<Communication>,
    /// The next page of them (`/api/v1/contacts/{id}/communications?after=...`), when there
    /// are more.
    pub communications_next: Option<String>,
    /// Statuses it may move to now.
    pub moves: Vec<InquiryStatus>,
}

/// Inquiries, newest first, with filters, 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/inquiries", tag = "leads", params(Filters),
    responses(
        (status = 200, body = Vec<InquiryRow>, headers(
            ("Link" = String, description = "`<...&after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_list(
    db: Db,
    ApiQuery(f): ApiQuery<Filters>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let mut conn = db;
    let rows = inquiries::list(&mut conn, &f, page::SIZE + 1).await?;
    let (rows, next) = page::split(rows, |r| page::After {
        at: r.created_at,
        id: r.id,
    });
    let mut resp = Json(rows).into_response();
    if let Some(after) = next {
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
        let link = page::next_link("/api/v1/inquiries", &query, after);
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// Enter an inquiry (contact reused by email; follow-up to-do assigned round-robin).
#[utoipa::path(post, path = "/api/v1/inquiries", tag = "leads", request_body = NewInquiry,
    responses(
        (status = 201, body = Created),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_create(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiJson(new): ApiJson<NewInquiry>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let mut tx = db.begin().await?;
    let now = state.clock.now();
    let who = Some(staff.contributor_id);
    let (created, mails) = intake::create_inquiry(&mut tx, &state.settings, now, &new, who).await?;
    tx.commit().await?;
    mails.send(&state.db, &state.clock);
    Ok((StatusCode::CREATED, Json(created)))
}

/// One inquiry with its activities and communications.
#[utoipa::path(get, path = "/api/v1/inquiries/{id}", tag = "leads",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = InquiryDetail),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn api_get(
    State(state): State<AppState>,
    db: Db,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<InquiryDetail>> {
    let mut conn = db;
    let inquiry = inquiries::get(&mut conn, id).await?;
    let (comms, next) = communications::of_contact(&mut conn, inquiry.contact_id, None).await?;
    Ok(Json(InquiryDetail {
        activities: activities::of_inquiry(&mut conn, state.clock.now(), id).await?,
        communications: comms,
        communications_next: more_communications(inquiry.contact_id, next),
        moves: rules::moves(inquiry.status),
        inquiry,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Move {
    /// A status the inquiry may move to now (see `moves`); any other is a 409.
    #[schema(value_type = InquiryStatus)]
    pub status: String,
}

/// Move an inquiry to another status (409 with the reason when the move is not allowed).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/status", tag = "leads",
    params(("id" = i32, Path)), request_body = Move,
    responses(
        (status = 200, body = InquiryRow),
        (status = 409, body = crate::http::error::Problem),
    ))]
async fn api_move(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(m): ApiJson<Move>,
) -> AppResult<Json<InquiryRow>> {
    let mut tx = db.begin().await?;
    let now = state.clock.now();
    inquiries::move_to(&mut tx, id, &m.status, staff.contributor_id, now).await?;
    tx.commit().await?;
    Ok(Json(inquiries::get(&mut db, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct LogEntry {
    #[serde(rename = "type")]
    #[schema(schema_with = communications::type_schema)]
    pub kind: String,
    /// What was said.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub notes: String,
}

/// Log a call, email or meeting with the inquiry's contact.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/communications", tag = "leads",
    params(("id" = i32, Path)), request_body = LogEntry,
    responses(
        (status = 201, body = Communication),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_log(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(e): ApiJson<LogEntry>,
) -> AppResult<(StatusCode, Json<Communication>)> {
    let mut tx = db.begin().await?;
    let logged =
        communications::log(&mut tx, id, e.kind.trim(), &e.notes, staff.contributor_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(logged)))
}

/// My pending to-dos, overdue first, then by due date, 50 a page; the next page is in the
/// `Link` header.
#[utoipa::path(get, path = "/api/v1/activities/mine", tag = "leads", params(page::KeyPage),
    responses(
        (status = 200, body = Vec<ActivityRow>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_my_todos(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiQuery(p): ApiQuery<page::KeyPage>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let now = state.clock.now();
    let who = Some(staff.contributor_id);
    let (rows, next) = activities::todos(&mut db, now, who, false, p.after.as_deref()).await?;
    let resp = Json(rows).into_response();
    Ok(page::with_next(
        resp,
        "/api/v1/activities/mine",
        query.as_deref(),
        next,
    ))
}

/// Mark a to-do done.
#[utoipa::path(post, path = "/api/v1/activities/{id}/complete", tag = "leads",
    params(("id" = i32, Path)),
    responses(
        (status = 204),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
    ))]
async fn api_complete(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<StatusCode> {
    let mut tx = db.begin().await?;
    activities::complete(&mut tx, id, &staff).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Reassign {
    /// An active team member (404 when none has this id, 409 when they are inactive).
    #[serde(deserialize_with = "json::int")]
    pub assigned_to_contributor_id: i32,
}

/// Give a to-do to another active team member.
#[utoipa::path(post, path = "/api/v1/activities/{id}/reassign", tag = "leads",
    params(("id" = i32, Path)), request_body = Reassign,
    responses(
        (status = 204),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_reassign(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(r): ApiJson<Reassign>,
) -> AppResult<StatusCode> {
    let to = r.assigned_to_contributor_id;
    let mut tx = db.begin().await?;
    activities::reassign(&mut tx, id, to, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Couples (leads and clients), by name, 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "leads", params(ContactSearch),
    responses(
        (status = 200, body = Vec<ContactRow>, headers(
            ("Link" = String, description = "`<...&after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_contacts(
    mut db: Db,
    ApiQuery(s): ApiQuery<ContactSearch>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let (rows, next) = contacts::search(&mut db, &s).await?;
    let resp = Json(rows).into_response();
    Ok(page::with_next(
        resp,
        "/api/v1/contacts",
        query.as_deref(),
        next,
    ))
}

/// A couple as in the list, but with the inquiries themselves (oldest first) where the list
/// has their count, and the communications.
#[derive(Serialize, ToSchema)]
pub struct ContactDetail {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub inquiries: Vec<InquiryRow>,
    /// The newest page of the communications.
    pub communications: Vec<Communication>,
    /// The next page of them (`/api/v1/contacts/{id}/communications?after=...`), when there
    /// are more.
    pub communications_next: Option<String>,
}

/// Where the communications of a contact go on after the page that ended at `next`.
fn more_communications(contact: i32, next: Option<page::After>) -> Option<String> {
    let path = format!("/api/v1/contacts/{contact}/communications");
    next.map(|n| page::next_href(&path, &[], &n))
}

/// One couple with every inquiry and the newest page of communications.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "leads", params(("id" = i32, Path)),
    responses(
        (status = 200, body = ContactDetail),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn api_contact(db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<ContactDetail>> {
    let mut conn = db;
    let c = contacts::find(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("contact {id}")))?;
    let (comms, next) = communications::of_contact(&mut conn, id, None).await?;
    Ok(Json(ContactDetail {
        inquiries: inquiries::of_contact(&mut conn, id).await?,
        communications: comms,
        communications_next: more_communications(id, next),
        id: c.id,
        name: c.name,
        email: c.email,
        phone: c.phone,
        kind: c.kind,
    }))
}

/// A couple's communications, newest first, 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/communications", tag = "leads",
    params(("id" = i32, Path), page::AfterPage),
    responses(
        (status = 200, body = Vec<Communication>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_contact_communications(
    mut db: Db,
    ApiPath(id): ApiPath<i32>,
    ApiQuery(p): ApiQuery<page::AfterPage>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let after = page::After::parse(p.after.as_deref())?;
    contacts::find(&mut db, id)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("contact {id}")))?;
    let (rows, next) = communications::of_contact(&mut db, id, after).await?;
    let path = format!("/api/v1/contacts/{id}/communications");
    let resp = Json(rows).into_response();
    Ok(page::with_next(resp, &path, query.as_deref(), next))
}

//! Phase 2: contacts, inquiries, activities, communications, and the public lead form.
pub mod pages;
pub mod public;
pub mod rules;

use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::error::FieldError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppError, AppResult, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
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
        .merge(pages::routes())
        .merge(public::routes())
}

/// A new inquiry, from the public form or entered by staff.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct NewInquiry {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub wedding_date: String,
    #[serde(default)]
    pub venue: String,
    /// How they heard of the studio.
    #[serde(default)]
    pub lead_source: String,
    #[serde(default)]
    pub message: String,
    /// UTM parameters of the page the form was on, e.g. utm_source=instagram&utm_campaign=x.
    #[serde(default)]
    pub lead_source_details: String,
    #[serde(default)]
    pub campaign_id: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl NewInquiry {
    /// Every problem, each by its field.
    pub fn check(&self) -> Result<Option<NaiveDate>, Vec<FieldError>> {
        let mut e = vec![];
        let mut bad = |f: &str, m: &str| {
            e.push(FieldError {
                field: f.into(),
                message: m.into(),
            })
        };
        if self.first_name.trim().is_empty() {
            bad("first_name", "Please tell us your first name.");
        }
        for (f, v, max) in [
            ("first_name", &self.first_name, 255),
            ("last_name", &self.last_name, 255),
            ("phone", &self.phone, 50),
            ("lead_source", &self.lead_source, 255),
            ("campaign_id", &self.campaign_id, 255),
        ] {
            if v.trim().chars().count() > max {
                bad(f, &format!("Please keep this under {max} characters."));
            }
        }
        if !crate::accounts::forms::valid_email(&self.email) {
            bad(
                "email",
                "Please enter an email address like name@example.com.",
            );
        }
        let date = match opt(&self.wedding_date) {
            None => None,
            Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    bad("wedding_date", "Please enter the date as YYYY-MM-DD.");
                    None
                }
            },
        };
        if self.message.chars().count() > 5000
            || self.venue.chars().count() > 2000
            || self.lead_source_details.chars().count() > 2000
        {
            bad("message", "Please keep the message under 5000 characters.");
        }
        if e.is_empty() { Ok(date) } else { Err(e) }
    }
}

pub fn invalid(errors: Vec<FieldError>) -> AppError {
    let message = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join(" ");
    AppError::Validation { message, errors }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub inquiry_id: i32,
    pub contact_id: i32,
    /// The email was already known: the inquiry is linked to the same contact and flagged.
    pub returning: bool,
    pub assigned_to_contributor_id: i32,
}

/// Create an inquiry as decisions.md says, in the caller's transaction: contact reused by email
/// (case-insensitive, type Client Lead when new), the inquiry, a To-Do "Follow up with <name>"
/// due on the follow-up date (default: the studio's tomorrow) assigned round-robin among Sales
/// (fallback: Owner), and a notification to the owner(s).
pub async fn create_inquiry(
    tx: &mut PgConnection,
    new: &NewInquiry,
    actor: Option<i32>,
) -> AppResult<Created> {
    let wedding_date = new.check().map_err(invalid)?;
    let email = new.email.trim();
    // One contact per email, even when twenty forms arrive at once.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('contact-email:' || lower($1)))")
        .bind(email)
        .execute(&mut *tx)
        .await?;
    let existing: Option<(i32, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, first_name, last_name FROM contacts WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(&mut *tx)
    .await?;
    let (contact_id, returning, first, last) = match existing {
        Some((id, first, last)) => {
            // Fill in what the contact lacks; never overwrite what the studio already has.
            sqlx::query(
                "UPDATE contacts SET first_name = COALESCE(first_name, $2), last_name = COALESCE(last_name, $3),
                        phone_number = COALESCE(phone_number, $4), updated_at = now() WHERE id = $1",
            )
            .bind(id)
            .bind(opt(&new.first_name))
            .bind(opt(&new.last_name))
            .bind(opt(&new.phone))
            .execute(&mut *tx)
            .await?;
            let before: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM inquiries WHERE contact_id = $1)")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            (
                id,
                before,
                first.or(opt(&new.first_name)),
                last.or(opt(&new.last_name)),
            )
        }
        None => {
            let id: i32 = sqlx::query_scalar(
                "INSERT INTO contacts (first_name, last_name, email, phone_number, type) VALUES ($1, $2, $3, $4, 'Client Lead') RETURNING id",
            )
            .bind(opt(&new.first_name))
            .bind(opt(&new.last_name))
            .bind(email)
            .bind(opt(&new.phone))
            .fetch_one(&mut *tx)
            .await?;
            (id, false, opt(&new.first_name), opt(&new.last_name))
        }
    };
    let name = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let follow_up: NaiveDate =
        sqlx::query_scalar("SELECT (now() AT TIME ZONE time_zone)::date + 1 FROM studio_settings")
            .fetch_one(&mut *tx)
            .await?;
    let campaign = opt(&new.campaign_id).or_else(|| utm(&new.lead_source_details, "utm_campaign"));
    let source = opt(&new.lead_source).or_else(|| utm(&new.lead_source_details, "utm_source"));
    let inquiry_id: i32 = sqlx::query_scalar(
        "INSERT INTO inquiries (contact_id, wedding_date, status, notes, venue_details, follow_up_due_date, lead_source,
                                lead_source_details, campaign_id, is_returning, created_by_contributor_id)
         VALUES ($1, $2, 'New', $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(contact_id)
    .bind(wedding_date)
    .bind(opt(&new.message))
    .bind(opt(&new.venue))
    .bind(follow_up)
    .bind(source)
    .bind(opt(&new.lead_source_details))
    .bind(campaign)
    .bind(returning)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await?;
    let assignee = next_sales(tx).await?;
    sqlx::query(
        "INSERT INTO activities (assigned_to_contributor_id, contact_id, inquiry_id, due_date, activity_type, title)
         VALUES ($1, $2, $3, $4, 'To-Do', $5)",
    )
    .bind(assignee)
    .bind(contact_id)
    .bind(inquiry_id)
    .bind(follow_up)
    .bind(format!("Follow up with {name}"))
    .execute(&mut *tx)
    .await?;
    let when = wedding_date
        .map(|d| format!(" (wedding {})", d.format("%b %-d, %Y")))
        .unwrap_or_default();
    let again = if returning {
        " They have asked before."
    } else {
        ""
    };
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url)
         SELECT co.id, $1, $2 FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active WHERE r.name = 'Owner'",
    )
    .bind(format!("New inquiry from {name}{when}.{again}"))
    .bind(format!("/leads/{inquiry_id}"))
    .execute(&mut *tx)
    .await?;
    audit::record(tx, actor, "leads.inquiry.create", "inquiry", Some(inquiry_id), serde_json::json!({ "after": { "email": email, "contact_id": contact_id, "returning": returning, "assigned_to": assignee, "source": new.lead_source.trim() } })).await?;
    Ok(Created {
        inquiry_id,
        contact_id,
        returning,
        assigned_to_contributor_id: assignee,
    })
}

/// A UTM parameter out of `utm_source=x&utm_campaign=y`.
fn utm(details: &str, key: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(details.trim_start_matches('?'))
        .ok()?
        .into_iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.chars().take(255).collect())
}

/// The next active Sales person after the last one given a lead (fallback: an Owner).
async fn next_sales(tx: &mut PgConnection) -> AppResult<i32> {
    let last: Option<i32> = sqlx::query_scalar(
        "SELECT last_contributor_id FROM round_robin WHERE pool = 'sales' FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await?;
    let pool: Vec<i32> = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         WHERE r.name = 'Sales' ORDER BY co.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let chosen = match pool.iter().find(|id| Some(**id) > last).or(pool.first()) {
        Some(id) => *id,
        None => sqlx::query_scalar::<_, i32>(
            "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id WHERE r.name = 'Owner' ORDER BY co.id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Conflict("the studio has no Sales person or Owner to follow up leads; add one in Settings > Users".into()))?,
    };
    sqlx::query("UPDATE round_robin SET last_contributor_id = $1 WHERE pool = 'sales'")
        .bind(chosen)
        .execute(&mut *tx)
        .await?;
    Ok(chosen)
}

/// Move an inquiry along the allowed transitions (409 with the reason otherwise).
pub async fn move_inquiry(tx: &mut PgConnection, id: i32, to: &str, actor: i32) -> AppResult<()> {
    let from: Option<String> =
        sqlx::query_scalar("SELECT status::text FROM inquiries WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let from = from.ok_or_else(|| AppError::not_found(&format!("inquiry {id}")))?;
    rules::check_move(&from, to).map_err(AppError::Conflict)?;
    sqlx::query(
        "UPDATE inquiries SET status = $2::inquiries_status, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(to)
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        Some(actor),
        "leads.inquiry.status",
        "inquiry",
        Some(id),
        serde_json::json!({ "before": { "status": from }, "after": { "status": to } }),
    )
    .await?;
    Ok(())
}

pub const COMMUNICATION_TYPES: [&str; 3] = ["Call", "Email", "Meeting"];

/// Log a call, email or meeting with the inquiry's contact.
pub async fn log_communication(
    tx: &mut PgConnection,
    inquiry: i32,
    kind: &str,
    notes: &str,
    actor: i32,
) -> AppResult<i32> {
    if !COMMUNICATION_TYPES.contains(&kind) {
        return Err(AppError::field("type", "choose Call, Email or Meeting"));
    }
    if notes.trim().is_empty() || notes.chars().count() > 5000 {
        return Err(AppError::field(
            "notes",
            "write what was said (up to 5000 characters)",
        ));
    }
    let contact: Option<i32> = sqlx::query_scalar("SELECT contact_id FROM inquiries WHERE id = $1")
        .bind(inquiry)
        .fetch_optional(&mut *tx)
        .await?;
    let contact = contact.ok_or_else(|| AppError::not_found(&format!("inquiry {inquiry}")))?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO communications_log (contact_id, type, notes) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(contact)
    .bind(kind)
    .bind(notes.trim())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE inquiries SET updated_at = now() WHERE id = $1")
        .bind(inquiry)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        Some(actor),
        "leads.communication.log",
        "inquiry",
        Some(inquiry),
        serde_json::json!({ "type": kind }),
    )
    .await?;
    Ok(id)
}

/// Complete an activity (anyone with the lead permission, or its assignee).
pub async fn complete_activity(tx: &mut PgConnection, id: i32, staff: &Staff) -> AppResult<()> {
    let row: Option<(i32, String)> = sqlx::query_as(
        "SELECT assigned_to_contributor_id, status::text FROM activities WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (assignee, status) = row.ok_or_else(|| AppError::not_found(&format!("activity {id}")))?;
    if assignee != staff.contributor_id && !staff.can(Permission::LeadsEdit) {
        return Err(AppError::not_found(&format!("activity {id}")));
    }
    if status == "Completed" {
        return Err(AppError::Conflict("this to-do is already done".into()));
    }
    sqlx::query("UPDATE activities SET status = 'Completed', completed_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        Some(staff.contributor_id),
        "leads.activity.complete",
        "activity",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

/// Give an activity to another active staff member.
pub async fn reassign_activity(
    tx: &mut PgConnection,
    id: i32,
    to: i32,
    actor: i32,
) -> AppResult<()> {
    let active: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM staff_credentials WHERE contributor_id = $1 AND is_active)",
    )
    .bind(to)
    .fetch_one(&mut *tx)
    .await?;
    if !active {
        return Err(AppError::field("assignee", "choose an active team member"));
    }
    let before: Option<i32> = sqlx::query_scalar(
        "SELECT assigned_to_contributor_id FROM activities WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let before = before.ok_or_else(|| AppError::not_found(&format!("activity {id}")))?;
    sqlx::query("UPDATE activities SET assigned_to_contributor_id = $2 WHERE id = $1")
        .bind(id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        Some(actor),
        "leads.activity.reassign",
        "activity",
        Some(id),
        serde_json::json!({ "before": { "assignee": before }, "after": { "assignee": to } }),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- queries shared by API and pages

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct InquiryRow {
    pub id: i32,
    pub contact_id: i32,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub wedding_date: Option<NaiveDate>,
    pub status: String,
    pub venue: Option<String>,
    pub notes: Option<String>,
    pub lead_source: Option<String>,
    pub lead_source_details: Option<String>,
    pub campaign_id: Option<String>,
    pub follow_up_due_date: Option<NaiveDate>,
    pub is_returning: bool,
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct Filters {
    /// Name or email contains.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Wedding on or after (YYYY-MM-DD).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Wedding on or before (YYYY-MM-DD).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Contributor id of the person following up.
    #[serde(default)]
    pub assignee: Option<i32>,
}

const INQUIRY_SELECT: &str = "
    SELECT i.id, i.contact_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email, c.phone_number AS phone,
           i.wedding_date, i.status::text AS status, i.venue_details AS venue, i.notes, i.lead_source, i.lead_source_details,
           i.campaign_id, i.follow_up_due_date, i.is_returning,
           (SELECT trim(concat_ws(' ', ac.first_name, ac.last_name)) FROM activities a
              JOIN contributors aco ON aco.id = a.assigned_to_contributor_id JOIN contacts ac ON ac.id = aco.contact_id
              WHERE a.inquiry_id = i.id ORDER BY a.status = 'Completed', a.id DESC LIMIT 1) AS assignee,
           i.created_at
    FROM inquiries i JOIN contacts c ON c.id = i.contact_id";

pub async fn list_inquiries(db: &sqlx::PgPool, f: &Filters) -> AppResult<Vec<InquiryRow>> {
    let q =
        f.q.as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| format!("%{}%", q.replace('%', "\\%").replace('_', "\\_")));
    Ok(sqlx::query_as(&format!(
        "{INQUIRY_SELECT}
         WHERE ($1::text IS NULL OR trim(concat_ws(' ', c.first_name, c.last_name)) ILIKE $1 OR c.email ILIKE $1)
           AND ($2::text IS NULL OR i.lead_source = $2)
           AND ($3::date IS NULL OR i.wedding_date >= $3)
           AND ($4::date IS NULL OR i.wedding_date <= $4)
           AND ($5::int IS NULL OR EXISTS (SELECT 1 FROM activities a WHERE a.inquiry_id = i.id AND a.assigned_to_contributor_id = $5))
           AND ($6::text IS NULL OR i.status::text = $6)
         ORDER BY i.created_at DESC, i.id DESC LIMIT 500"
    ))
    .bind(q)
    .bind(f.source.as_deref().filter(|s| !s.is_empty()))
    .bind(f.from)
    .bind(f.to)
    .bind(f.assignee)
    .bind(f.status.as_deref().filter(|s| !s.is_empty()))
    .fetch_all(db)
    .await?)
}

pub async fn get_inquiry(db: &sqlx::PgPool, id: i32) -> AppResult<InquiryRow> {
    sqlx::query_as(&format!("{INQUIRY_SELECT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("inquiry {id}")))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct ActivityRow {
    pub id: i32,
    pub title: String,
    pub activity_type: String,
    pub due_date: Option<NaiveDate>,
    pub status: String,
    pub assignee_id: i32,
    pub assignee: String,
    pub inquiry_id: Option<i32>,
    pub contact_name: Option<String>,
    pub overdue: bool,
}

const ACTIVITY_SELECT: &str = "
    SELECT a.id, a.title, a.activity_type::text AS activity_type, a.due_date, a.status::text AS status,
           a.assigned_to_contributor_id AS assignee_id, trim(concat_ws(' ', sc.first_name, sc.last_name)) AS assignee,
           a.inquiry_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS contact_name,
           (a.status = 'Pending' AND a.due_date < (now() AT TIME ZONE (SELECT time_zone FROM studio_settings))::date) AS overdue
    FROM activities a JOIN contributors co ON co.id = a.assigned_to_contributor_id JOIN contacts sc ON sc.id = co.contact_id
    LEFT JOIN contacts c ON c.id = a.contact_id";

/// Pending to-dos of one person (or everyone's overdue ones): overdue first, then by due date.
pub async fn todos(
    db: &sqlx::PgPool,
    who: Option<i32>,
    only_overdue: bool,
) -> AppResult<Vec<ActivityRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT * FROM ({ACTIVITY_SELECT} WHERE a.status = 'Pending' AND ($1::int IS NULL OR a.assigned_to_contributor_id = $1)) x
         WHERE NOT $2 OR overdue ORDER BY overdue DESC, due_date NULLS LAST, id LIMIT 200"
    ))
    .bind(who)
    .bind(only_overdue)
    .fetch_all(db)
    .await?)
}

pub async fn inquiry_activities(db: &sqlx::PgPool, inquiry: i32) -> AppResult<Vec<ActivityRow>> {
    Ok(sqlx::query_as(&format!(
        "{ACTIVITY_SELECT} WHERE a.inquiry_id = $1 ORDER BY a.status, a.due_date NULLS LAST, a.id"
    ))
    .bind(inquiry)
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Communication {
    pub id: i32,
    pub communication_date: DateTime<Utc>,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub notes: Option<String>,
}

pub async fn communications(db: &sqlx::PgPool, contact: i32) -> AppResult<Vec<Communication>> {
    Ok(sqlx::query_as("SELECT id, communication_date, type, notes FROM communications_log WHERE contact_id = $1 ORDER BY communication_date DESC, id DESC LIMIT 200")
        .bind(contact)
        .fetch_all(db)
        .await?)
}

// ---------------------------------------------------------------- API

#[derive(Serialize, ToSchema)]
pub struct InquiryDetail {
    #[serde(flatten)]
    pub inquiry: InquiryRow,
    pub activities: Vec<ActivityRow>,
    pub communications: Vec<Communication>,
    /// Statuses it may move to now.
    pub moves: Vec<String>,
}

/// Inquiries, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/inquiries", tag = "leads", params(Filters),
    responses((status = 200, body = Vec<InquiryRow>)))]
async fn api_list(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<Filters>,
) -> AppResult<Json<Vec<InquiryRow>>> {
    Ok(Json(list_inquiries(&state.db, &f).await?))
}

/// Enter an inquiry (contact reused by email; follow-up to-do assigned round-robin).
#[utoipa::path(post, path = "/api/v1/inquiries", tag = "leads", request_body = NewInquiry,
    responses((status = 201, body = Created), (status = 422, body = crate::http::error::Problem)))]
async fn api_create(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(new): ApiJson<NewInquiry>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let mut tx = state.db.begin().await?;
    let created = create_inquiry(&mut tx, &new, Some(staff.contributor_id)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One inquiry with its activities and communications.
#[utoipa::path(get, path = "/api/v1/inquiries/{id}", tag = "leads", params(("id" = i32, Path)),
    responses((status = 200, body = InquiryDetail), (status = 404, body = crate::http::error::Problem)))]
async fn api_get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<InquiryDetail>> {
    let inquiry = get_inquiry(&state.db, id).await?;
    let moves = rules::moves(&inquiry.status)
        .into_iter()
        .map(String::from)
        .collect();
    Ok(Json(InquiryDetail {
        activities: inquiry_activities(&state.db, id).await?,
        communications: communications(&state.db, inquiry.contact_id).await?,
        moves,
        inquiry,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Move {
    pub status: String,
}

/// Move an inquiry to another status (409 with the reason when the move is not allowed).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/status", tag = "leads", params(("id" = i32, Path)), request_body = Move,
    responses((status = 200, body = InquiryRow), (status = 409, body = crate::http::error::Problem)))]
async fn api_move(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(m): ApiJson<Move>,
) -> AppResult<Json<InquiryRow>> {
    let mut tx = state.db.begin().await?;
    move_inquiry(&mut tx, id, m.status.trim(), staff.contributor_id).await?;
    tx.commit().await?;
    Ok(Json(get_inquiry(&state.db, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct LogEntry {
    /// Call, Email or Meeting.
    #[serde(rename = "type")]
    pub kind: String,
    pub notes: String,
}

/// Log a call, email or meeting with the inquiry's contact.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/communications", tag = "leads", params(("id" = i32, Path)), request_body = LogEntry,
    responses((status = 201, body = Communication), (status = 422, body = crate::http::error::Problem)))]
async fn api_log(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(e): ApiJson<LogEntry>,
) -> AppResult<(StatusCode, Json<Communication>)> {
    let mut tx = state.db.begin().await?;
    let cid = log_communication(&mut tx, id, e.kind.trim(), &e.notes, staff.contributor_id).await?;
    let c = sqlx::query_as(
        "SELECT id, communication_date, type, notes FROM communications_log WHERE id = $1",
    )
    .bind(cid)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// My pending to-dos, overdue first.
#[utoipa::path(get, path = "/api/v1/activities/mine", tag = "leads",
    responses((status = 200, body = Vec<ActivityRow>)))]
async fn api_my_todos(
    State(state): State<AppState>,
    staff: Staff,
) -> AppResult<Json<Vec<ActivityRow>>> {
    Ok(Json(
        todos(&state.db, Some(staff.contributor_id), false).await?,
    ))
}

/// Mark a to-do done.
#[utoipa::path(post, path = "/api/v1/activities/{id}/complete", tag = "leads", params(("id" = i32, Path)),
    responses((status = 204), (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem)))]
async fn api_complete(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    complete_activity(&mut tx, id, &staff).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Reassign {
    pub assigned_to_contributor_id: i32,
}

/// Give a to-do to another active team member.
#[utoipa::path(post, path = "/api/v1/activities/{id}/reassign", tag = "leads", params(("id" = i32, Path)), request_body = Reassign,
    responses((status = 204), (status = 404, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
async fn api_reassign(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(r): ApiJson<Reassign>,
) -> AppResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    reassign_activity(
        &mut tx,
        id,
        r.assigned_to_contributor_id,
        staff.contributor_id,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct ContactRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub inquiries: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ContactSearch {
    /// Name or email contains.
    #[serde(default)]
    pub q: String,
}

const CONTACTS: &str = "SELECT c.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email, c.phone_number AS phone, c.type::text AS kind,
       (SELECT count(*) FROM inquiries i WHERE i.contact_id = c.id) AS inquiries FROM contacts c WHERE c.type IN ('Client Lead', 'Client')";

/// Couples (leads and clients), by name.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "leads", params(ContactSearch),
    responses((status = 200, body = Vec<ContactRow>)))]
async fn api_contacts(
    State(state): State<AppState>,
    ApiQuery(s): ApiQuery<ContactSearch>,
) -> AppResult<Json<Vec<ContactRow>>> {
    let q = s.q.trim();
    let pattern = format!("%{}%", q.replace('%', "\\%").replace('_', "\\_"));
    Ok(Json(
        sqlx::query_as(&format!("{CONTACTS} AND ($1 = '' OR trim(concat_ws(' ', c.first_name, c.last_name)) ILIKE $2 OR c.email ILIKE $2) ORDER BY lower(c.last_name), lower(c.first_name) LIMIT 500"))
            .bind(q)
            .bind(pattern)
            .fetch_all(&state.db)
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: ContactRow,
    pub inquiries: Vec<InquiryRow>,
    pub communications: Vec<Communication>,
}

/// One couple with every inquiry and communication.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "leads", params(("id" = i32, Path)),
    responses((status = 200, body = ContactDetail), (status = 404, body = crate::http::error::Problem)))]
async fn api_contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<ContactDetail>> {
    let contact: ContactRow = sqlx::query_as(&format!("{CONTACTS} AND c.id = $1"))
        .bind(id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("contact {id}")))?;
    let inquiries = sqlx::query_as(&format!(
        "{INQUIRY_SELECT} WHERE i.contact_id = $1 ORDER BY i.id"
    ))
    .bind(id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(ContactDetail {
        communications: communications(&state.db, id).await?,
        inquiries,
        contact,
    }))
}

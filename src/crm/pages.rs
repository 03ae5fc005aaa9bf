//! The leads pages: board, inquiry page, new inquiry, contacts, my to-dos, documents.
use super::{Filters, NewInquiry, rules};
use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::error::FieldError;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .get("/leads", Access::Perm(Permission::LeadsView), board)
        .get("/leads/new", Access::Perm(Permission::LeadsEdit), new_page)
        .post("/leads", Access::Perm(Permission::LeadsEdit), create)
        .get(
            "/leads/{id}",
            Access::Perm(Permission::LeadsView),
            inquiry_page,
        )
        .post(
            "/leads/{id}/status",
            Access::Perm(Permission::LeadsEdit),
            move_status,
        )
        .post(
            "/leads/{id}/communications",
            Access::Perm(Permission::LeadsEdit),
            log,
        )
        .post(
            "/leads/{id}/documents",
            Access::Perm(Permission::LeadsEdit),
            upload,
        )
        .get(
            "/documents/{id}",
            Access::Perm(Permission::LeadsView),
            download,
        )
        .get("/contacts", Access::Perm(Permission::LeadsView), contacts)
        .get(
            "/contacts/{id}",
            Access::Perm(Permission::LeadsView),
            contact_page,
        )
        .get("/todos", Access::Staff, my_todos)
        .post("/todos/{id}/complete", Access::Staff, complete)
        .post(
            "/todos/{id}/reassign",
            Access::Perm(Permission::LeadsEdit),
            reassign,
        )
}

pub struct Column {
    pub status: &'static str,
    pub cards: Vec<super::InquiryRow>,
}

impl Column {
    pub fn class(&self) -> String {
        crate::http::layout::status_class(self.status)
    }
}

#[derive(Template)]
#[template(path = "crm/board.html")]
struct Board {
    layout: Layout,
    columns: Vec<Column>,
    sources: Vec<String>,
    staff: Vec<(i32, String)>,
    f: Filters,
    q: String,
    from: String,
    to: String,
    can_edit: bool,
}

impl Board {
    fn moves(&self, status: &str) -> Vec<&'static str> {
        if self.can_edit {
            rules::moves(status)
        } else {
            vec![]
        }
    }
    fn source_is(&self, s: &str) -> bool {
        self.f.source.as_deref() == Some(s)
    }
    fn assignee_is(&self, id: &i32) -> bool {
        self.f.assignee == Some(*id)
    }
}

async fn team(db: &sqlx::PgPool) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active ORDER BY 2",
    )
    .fetch_all(db)
    .await?)
}

async fn board(
    State(state): State<AppState>,
    staff: Staff,
    q: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(f) = q.map_err(|_| AppError::field("filters", "use dates like 2027-06-01"))?;
    let rows = super::list_inquiries(&state.db, &f).await?;
    let columns = rules::STATUSES
        .iter()
        .map(|s| Column {
            status: s,
            cards: rows.iter().filter(|r| r.status == *s).cloned().collect(),
        })
        .collect();
    let sources: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT lead_source FROM inquiries WHERE lead_source IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&state.db)
    .await?;
    let page = Board {
        layout: Layout::load(&state.db, &staff, "Leads", "/leads").await?,
        columns,
        sources,
        staff: team(&state.db).await?,
        q: f.q.clone().unwrap_or_default(),
        from: f.from.map(|d| d.to_string()).unwrap_or_default(),
        to: f.to.map(|d| d.to_string()).unwrap_or_default(),
        f,
        can_edit: staff.can(Permission::LeadsEdit),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "crm/new.html")]
struct NewPage {
    layout: Layout,
    f: NewInquiry,
    errors: Vec<FieldError>,
    sources: &'static [&'static str],
}

impl NewPage {
    fn source_selected(&self, s: &str) -> bool {
        self.f.lead_source == s
    }

    /// (field, label, value, input type) of the simple inputs.
    fn inputs(&self) -> Vec<(&'static str, &'static str, &str, &'static str)> {
        let f = &self.f;
        vec![
            ("first_name", "First name", &f.first_name, "text"),
            ("last_name", "Last name", &f.last_name, "text"),
            ("email", "Email", &f.email, "email"),
            ("phone", "Phone", &f.phone, "tel"),
            ("wedding_date", "Wedding date", &f.wedding_date, "date"),
            ("venue", "Venue", &f.venue, "text"),
        ]
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

async fn new_page(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let layout = Layout::load(&state.db, &staff, "New inquiry", "/leads").await?;
    Ok(render(&NewPage {
        layout,
        f: NewInquiry::default(),
        errors: vec![],
        sources: super::public::SOURCES,
    }))
}

async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<NewInquiry>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match super::create_inquiry(&mut tx, &f, Some(staff.contributor_id)).await {
        Ok(c) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/leads/{}", c.inquiry_id)).into_response())
        }
        Err(AppError::Validation { errors, .. }) => {
            drop(tx);
            let layout = Layout::load(&state.db, &staff, "New inquiry", "/leads").await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&NewPage {
                    layout,
                    f,
                    errors,
                    sources: super::public::SOURCES,
                }),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(sqlx::FromRow)]
pub struct DocumentRow {
    pub id: i32,
    pub file_name: Option<String>,
    pub document_type: Option<String>,
    pub upload_date: Option<DateTime<Utc>>,
}

#[derive(Template)]
#[template(path = "crm/inquiry.html")]
struct InquiryPage {
    layout: Layout,
    i: super::InquiryRow,
    moves: Vec<&'static str>,
    activities: Vec<super::ActivityRow>,
    comms: Vec<super::Communication>,
    documents: Vec<DocumentRow>,
    others: Vec<(i32, String, String)>,
    staff: Vec<(i32, String)>,
    can_edit: bool,
    flash: Option<String>,
    error: Option<String>,
    build: Option<i32>,
    can_quote: bool,
    packages: Vec<(i32, String)>,
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    done: String,
}

async fn inquiry_view(
    state: &AppState,
    staff: &Staff,
    id: i32,
    flash: Option<String>,
    error: Option<String>,
) -> AppResult<InquiryPage> {
    let i = super::get_inquiry(&state.db, id).await?;
    let others = sqlx::query_as("SELECT id, status::text, COALESCE(to_char(wedding_date, 'Mon DD, YYYY'), 'no date') FROM inquiries WHERE contact_id = $1 AND id <> $2 ORDER BY id")
        .bind(i.contact_id)
        .bind(id)
        .fetch_all(&state.db)
        .await?;
    let documents = sqlx::query_as("SELECT id, file_name, document_type, upload_date FROM documents WHERE inquiry_id = $1 AND status = 'Active' ORDER BY upload_date DESC")
        .bind(id)
        .fetch_all(&state.db)
        .await?;
    Ok(InquiryPage {
        layout: Layout::load(&state.db, staff, &format!("{} · inquiry", i.name), "/leads").await?,
        moves: if staff.can(Permission::LeadsEdit) {
            rules::moves(&i.status)
        } else {
            vec![]
        },
        activities: super::inquiry_activities(&state.db, id).await?,
        comms: super::communications(&state.db, i.contact_id).await?,
        documents,
        others,
        staff: team(&state.db).await?,
        can_edit: staff.can(Permission::LeadsEdit),
        build: sqlx::query_scalar("SELECT id FROM builds WHERE inquiry_id = $1")
            .bind(id)
            .fetch_optional(&state.db)
            .await?,
        can_quote: staff.can(Permission::BuildsEdit) && i.status != "Closed-Lost",
        packages: sqlx::query_as("SELECT id, name FROM packages ORDER BY lower(name)")
            .fetch_all(&state.db)
            .await?,
        i,
        flash,
        error,
    })
}

async fn inquiry_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("inquiry"))?;
    let flash = match n.done.as_str() {
        "status" => Some("The status is changed.".to_string()),
        "logged" => Some("Logged.".to_string()),
        "uploaded" => Some("The document is added.".to_string()),
        "completed" => Some("The to-do is done.".to_string()),
        "reassigned" => Some("The to-do is reassigned.".to_string()),
        _ => None,
    };
    Ok(render(
        &inquiry_view(&state, &staff, id, flash, None).await?,
    ))
}

/// Show the inquiry page again with the problem (409/422), nothing changed.
async fn refused(state: &AppState, staff: &Staff, id: i32, e: AppError) -> AppResult<Response> {
    let status = e.status();
    match e {
        AppError::Conflict(m) | AppError::Validation { message: m, .. } => {
            let page = inquiry_view(state, staff, id, None, Some(format!("Not done: {m}"))).await?;
            Ok((status, render(&page)).into_response())
        }
        other => Err(other),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn move_status(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match super::move_inquiry(&mut tx, id, f.status.trim(), staff.contributor_id).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/leads/{id}?done=status")).into_response())
        }
        Err(e @ AppError::NotFound(_)) => Err(e),
        Err(e) => {
            drop(tx);
            refused(&state, &staff, id, e).await
        }
    }
}

#[derive(Deserialize)]
struct LogForm {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    notes: String,
}

async fn log(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<LogForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match super::log_communication(&mut tx, id, f.kind.trim(), &f.notes, staff.contributor_id).await
    {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/leads/{id}?done=logged")).into_response())
        }
        Err(e @ AppError::NotFound(_)) => Err(e),
        Err(e) => {
            drop(tx);
            refused(&state, &staff, id, e).await
        }
    }
}

/// Upload a document (contract, questionnaire…) to the inquiry; kept under the data dir.
async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    mut form: Multipart,
) -> AppResult<Response> {
    super::get_inquiry(&state.db, id).await?;
    let (mut name, mut kind, mut data) = (String::new(), String::from("Other"), vec![]);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::field("file", e.body_text()))?
    {
        match field.name() {
            Some("file") => {
                name = field.file_name().unwrap_or("document").to_string();
                data = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::field("file", e.body_text()))?
                    .to_vec();
            }
            Some("document_type") => kind = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    if data.is_empty() {
        return refused(
            &state,
            &staff,
            id,
            AppError::field("file", "choose a file to upload"),
        )
        .await;
    }
    // Only the last path component, and only safe characters, reach the disk.
    let safe: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("document")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let stored = format!("{}-{safe}", uuid::Uuid::new_v4());
    let dir = state.settings.data_dir.join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(anyhow::Error::from)?;
    tokio::fs::write(dir.join(&stored), &data)
        .await
        .map_err(anyhow::Error::from)?;
    let mut tx = state.db.begin().await?;
    let doc: i32 = sqlx::query_scalar("INSERT INTO documents (inquiry_id, file_name, file_path, document_type) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(id)
        .bind(&safe)
        .bind(format!("uploads/{stored}"))
        .bind(kind.trim().chars().take(255).collect::<String>())
        .fetch_one(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "leads.document.upload",
        "document",
        Some(doc),
        serde_json::json!({ "inquiry": id, "file": safe, "bytes": data.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/leads/{id}?done=uploaded")).into_response())
}

async fn download(State(state): State<AppState>, Path(id): Path<i32>) -> AppResult<Response> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT file_name, file_path FROM documents WHERE id = $1 AND status = 'Active'",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (name, path) = row.ok_or_else(|| AppError::not_found("document"))?;
    let path = path
        .filter(|p| p.starts_with("uploads/") && !p.contains(".."))
        .ok_or_else(|| AppError::not_found("document file"))?;
    let bytes = tokio::fs::read(state.settings.data_dir.join(path))
        .await
        .map_err(|_| AppError::not_found("document file"))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.unwrap_or_else(|| "document".into()).replace('"', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(sqlx::FromRow)]
pub struct ContactRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub kind: String,
    pub inquiries: i64,
}

#[derive(Template)]
#[template(path = "crm/contacts.html")]
struct ContactsPage {
    layout: Layout,
    rows: Vec<ContactRow>,
    q: String,
}

#[derive(Deserialize, Default)]
struct Search {
    #[serde(default)]
    q: String,
}

const CONTACT_SELECT: &str = "SELECT c.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email, c.phone_number AS phone, c.type::text AS kind,
       (SELECT count(*) FROM inquiries i WHERE i.contact_id = c.id) AS inquiries FROM contacts c";

async fn contacts(
    State(state): State<AppState>,
    staff: Staff,
    Query(s): Query<Search>,
) -> AppResult<Response> {
    let q = s.q.trim();
    let pattern = format!("%{}%", q.replace('%', "\\%").replace('_', "\\_"));
    let rows = sqlx::query_as(&format!(
        "{CONTACT_SELECT} WHERE c.type IN ('Client Lead', 'Client')
           AND ($1 = '' OR trim(concat_ws(' ', c.first_name, c.last_name)) ILIKE $2 OR c.email ILIKE $2)
         ORDER BY lower(c.last_name), lower(c.first_name) LIMIT 500"
    ))
    .bind(q)
    .bind(pattern)
    .fetch_all(&state.db)
    .await?;
    Ok(render(&ContactsPage {
        layout: Layout::load(&state.db, &staff, "Contacts", "/leads").await?,
        rows,
        q: q.to_string(),
    }))
}

#[derive(Template)]
#[template(path = "crm/contact.html")]
struct ContactPage {
    layout: Layout,
    c: ContactRow,
    inquiries: Vec<super::InquiryRow>,
    comms: Vec<super::Communication>,
}

async fn contact_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let c: ContactRow = sqlx::query_as(&format!(
        "{CONTACT_SELECT} WHERE c.id = $1 AND c.type IN ('Client Lead', 'Client')"
    ))
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| AppError::not_found("contact"))?;
    let inquiries: Vec<super::InquiryRow> = super::list_inquiries(
        &state.db,
        &Filters {
            q: Some(c.email.clone()),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .filter(|i| i.contact_id == id)
    .collect();
    let comms = super::communications(&state.db, id).await?;
    Ok(render(&ContactPage {
        layout: Layout::load(&state.db, &staff, &c.name, "/leads").await?,
        c,
        inquiries,
        comms,
    }))
}

#[derive(Template)]
#[template(path = "crm/todos.html")]
struct TodosPage {
    layout: Layout,
    rows: Vec<super::ActivityRow>,
    staff: Vec<(i32, String)>,
    can_reassign: bool,
    flash: Option<String>,
}

async fn my_todos(
    State(state): State<AppState>,
    staff: Staff,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let flash = match n.done.as_str() {
        "completed" => Some("Done.".to_string()),
        "reassigned" => Some("Reassigned.".to_string()),
        _ => None,
    };
    Ok(render(&TodosPage {
        layout: Layout::load(&state.db, &staff, "My to-dos", "/leads").await?,
        rows: super::todos(&state.db, Some(staff.contributor_id), false).await?,
        staff: team(&state.db).await?,
        can_reassign: staff.can(Permission::LeadsEdit),
        flash,
    }))
}

#[derive(Deserialize, Default)]
struct Back {
    #[serde(default)]
    back: String,
    #[serde(default)]
    assignee: Option<i32>,
}

fn back_to(back: &str, done: &str) -> Response {
    let to = crate::accounts::forms::safe_next(back, "/todos");
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}done={done}")).into_response()
}

async fn complete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(b): Form<Back>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    super::complete_activity(&mut tx, id, &staff).await?;
    tx.commit().await?;
    Ok(back_to(&b.back, "completed"))
}

async fn reassign(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(b): Form<Back>,
) -> AppResult<Response> {
    let to = b
        .assignee
        .ok_or_else(|| AppError::field("assignee", "choose a team member"))?;
    let mut tx = state.db.begin().await?;
    super::reassign_activity(&mut tx, id, to, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(back_to(&b.back, "reassigned"))
}

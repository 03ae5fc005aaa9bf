//! The leads pages: the board, a new inquiry, and the inquiry page with its forms (status,
//! log, documents). Contacts and to-dos have their own page files.
use super::activities::{self, ActivityRow};
use super::communications::{self, Communication};
use super::documents::{self, Listed, Parent, Upload};
use super::inquiries::{self, Column, Filters, InquiryRow};
use super::intake::{self, NewInquiry};
use super::rules;
use super::status::InquiryStatus;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::LeadsView);
    let edit = Access::Perm(Permission::LeadsEdit);
    Routes::new()
        .get("/leads", view, board)
        .get("/leads/new", edit, new_page)
        .post("/leads", edit, create)
        .get("/leads/{id}", view, inquiry_page)
        .post("/leads/{id}/status", edit, move_status)
        .post("/leads/{id}/communications", edit, log)
        .post("/leads/{id}/documents", edit, upload)
        .get("/documents/{id}", view, download)
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
    /// The query as sent (without the notice of a move), for the columns' "More" links.
    query: Vec<(String, String)>,
    /// The same query as text: where a move goes back to (the move forms' `back` field).
    back: String,
    /// What the last move did ("Moved Emma Rodriguez to Contacted.").
    flash: Option<String>,
    /// A refused move: the inquiry and the reason, shown by its card.
    refused: Option<(i32, String)>,
    /// A refused move of an inquiry the board does not show: the reason, above the board.
    error: Option<String>,
    /// The id of the element to focus (`autofocus`) after a move: the moved card's next move
    /// button, its link, or the message.
    focus: Option<String>,
}

impl Board {
    fn class(&self, col: &Column) -> String {
        crate::http::layout::status_class(col.status.as_str())
    }
    /// The next page of a column: the board filtered to its status, after its last card.
    fn more(&self, col: &Column) -> Option<String> {
        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "status")
            .cloned()
            .collect();
        query.push(("status".into(), col.status.as_str().into()));
        col.next
            .map(|after| crate::page::next_href("/leads", &query, &after))
    }
    /// The whole board, when it shows one column.
    fn one_column(&self) -> bool {
        self.f
            .status
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty())
    }
    fn moves(&self, status: &InquiryStatus) -> Vec<InquiryStatus> {
        if self.can_edit {
            rules::moves(*status)
        } else {
            vec![]
        }
    }
    /// The id of a card's move button, e.g. `move-12-proposal-sent`.
    fn move_id(&self, card: &i32, to: &InquiryStatus) -> String {
        move_id(*card, *to)
    }
    fn autofocus(&self, id: &str) -> bool {
        self.focus.as_deref() == Some(id)
    }
    /// Why the card's move was refused, when it was.
    fn card_error(&self, card: &i32) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(id, _)| id == card)
            .map(|(_, reason)| reason.as_str())
    }
    fn source_is(&self, s: &str) -> bool {
        self.f.source.as_deref() == Some(s)
    }
    fn assignee_is(&self, id: &i32) -> bool {
        self.f.assignee.as_deref().map(str::trim) == Some(id.to_string().as_str())
    }
}

/// The id of a card's move button on the board, e.g. `move-12-proposal-sent`.
fn move_id(card: i32, to: InquiryStatus) -> String {
    let slug: String = to
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("move-{card}-{slug}")
}

/// The query keys that tell the board what a move did (`moved=<id>`, `follow_up=done`): not
/// filters, so not carried into "More" links or the next move.
const NOTICE_KEYS: [&str; 2] = ["moved", "follow_up"];

/// What the board says about a move: one just made, or one refused (the inquiry, the status
/// asked for, the reason).
#[derive(Default)]
struct MoveNote {
    moved: Option<i32>,
    follow_up_done: bool,
    refused: Option<(i32, String, String)>,
}

/// The board for the query `pairs` (filters, a column's cursor), with what `note` says.
async fn board_page(
    db: &mut PgConnection,
    staff: &Staff,
    pairs: Vec<(String, String)>,
    note: MoveNote,
) -> AppResult<Board> {
    let query: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| !NOTICE_KEYS.contains(&k.as_str()))
        .collect();
    let back = serde_urlencoded::to_string(&query).unwrap_or_default();
    let f: Filters = serde_urlencoded::from_str(&back)
        .map_err(|_| AppError::field("filters", "use dates like 2027-06-01"))?;
    let layout = Layout::load(&mut *db, staff, "Leads", "/leads").await?;
    let columns = inquiries::board(&mut *db, &f).await?;
    let can_edit = staff.can(Permission::LeadsEdit);
    let shown = |id: i32| {
        columns
            .iter()
            .flat_map(|c| &c.cards)
            .find(|card| card.id == id)
    };
    let (mut flash, mut refused, mut error, mut focus) = (None, None, None, None);
    if let Some(id) = note.moved {
        match inquiries::get(&mut *db, id).await {
            Ok(i) => {
                let follow_up = if note.follow_up_done {
                    "; the follow-up to-do is done"
                } else {
                    ""
                };
                flash = Some(format!("Moved {} to {}{follow_up}.", i.name, i.status));
                // Keep the keyboard by the card: its next move, else its link, else (not on
                // this page of the board) the message.
                focus = Some(match shown(id) {
                    Some(card) => match rules::moves(card.status).first() {
                        Some(next) if can_edit => move_id(id, *next),
                        _ => format!("lead-link-{id}"),
                    },
                    None => "board-flash".to_string(),
                });
            }
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if let Some((id, asked, reason)) = note.refused {
        match shown(id) {
            Some(card) => {
                // Nothing moved: the button that was pressed, when there is one (a card can
                // be dragged where no button leads), else the card's link.
                let pressed = asked
                    .trim()
                    .parse::<InquiryStatus>()
                    .ok()
                    .filter(|to| can_edit && rules::moves(card.status).contains(to));
                focus = Some(match pressed {
                    Some(to) => move_id(id, to),
                    None => format!("lead-link-{id}"),
                });
                refused = Some((id, reason));
            }
            None => {
                error = Some(reason);
                focus = Some("board-error".to_string());
            }
        }
    }
    Ok(Board {
        query,
        back,
        layout,
        columns,
        sources: inquiries::sources(&mut *db).await?,
        staff: activities::team(&mut *db).await?,
        q: f.q.clone().unwrap_or_default(),
        from: f.from.clone().unwrap_or_default(),
        to: f.to.clone().unwrap_or_default(),
        f,
        can_edit,
        flash,
        refused,
        error,
        focus,
    })
}

async fn board(
    mut db: Db,
    staff: Staff,
    q: Result<Query<Filters>, QueryRejection>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    q.map_err(|_| AppError::field("filters", "use dates like 2027-06-01"))?;
    let pairs = crate::page::pairs(raw.as_deref());
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let note = MoveNote {
        moved: value("moved").and_then(|m| m.parse().ok()),
        follow_up_done: value("follow_up") == Some("done"),
        refused: None,
    };
    Ok(render(&board_page(&mut db, &staff, pairs, note).await?))
}

#[derive(Template)]
#[template(path = "crm/new.html")]
struct NewPage {
    layout: Layout,
    f: NewInquiry,
    refusal: Option<Refusal>,
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
        self.refusal.as_ref().and_then(|r| r.field(field))
    }
}

async fn new_form(
    db: &mut PgConnection,
    staff: &Staff,
    f: NewInquiry,
    refusal: Option<Refusal>,
) -> AppResult<Response> {
    let layout = Layout::load(&mut *db, staff, "New inquiry", "/leads").await?;
    Ok(render(&NewPage {
        layout,
        f,
        refusal,
        sources: intake::SOURCES,
    }))
}

async fn new_page(mut db: Db, staff: Staff) -> AppResult<Response> {
    new_form(&mut db, &staff, NewInquiry::default(), None).await
}

/// Save a new inquiry and open it; the form again with each field's problem (422).
async fn create(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Form(f): Form<NewInquiry>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    let (now, who) = (state.clock.now(), Some(staff.contributor_id));
    match intake::create_inquiry(&mut tx, &state.settings, now, &f, who).await {
        Ok((c, mails)) => {
            tx.commit().await?;
            mails.send(&state.db, &state.clock);
            Ok(Redirect::to(&format!("/leads/{}", c.inquiry_id)).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            drop(tx);
            let refusal = Refusal::from_error(e)?;
            let page = new_form(&mut db, &staff, f, Some(refusal.clone())).await?;
            Ok(refusal.respond(page))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "crm/inquiry.html")]
struct InquiryPage {
    layout: Layout,
    i: InquiryRow,
    moves: Vec<InquiryStatus>,
    activities: Vec<ActivityRow>,
    comms: Vec<Communication>,
    /// The contact page's next page of communications, when there are more than one page.
    comms_more: Option<String>,
    documents: Vec<Listed>,
    /// The list shows archived documents too.
    show_archived: bool,
    others: Vec<(i32, InquiryStatus, String)>,
    staff: Vec<(i32, String)>,
    can_edit: bool,
    flash: Option<String>,
    error: Option<String>,
    build: Option<i32>,
    /// Whether the quote has a contract in force.
    contract: bool,
    can_quote: bool,
    packages: Vec<(i32, String)>,
}

/// `?done=` after a change, for the flash message.
#[derive(Deserialize, Default)]
pub(super) struct Notice {
    #[serde(default)]
    pub done: String,
    /// The to-dos page's cursor.
    #[serde(default)]
    pub after: Option<String>,
    /// Show archived documents too.
    #[serde(default)]
    pub archived: Option<String>,
}

async fn inquiry_view(
    state: &AppState,
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    flash: Option<String>,
    error: Option<String>,
    show_archived: bool,
) -> AppResult<InquiryPage> {
    let i = inquiries::get(&mut *db, id).await?;
    let title = format!("{} · inquiry", i.name);
    let layout = Layout::load(&mut *db, staff, &title, "/leads").await?;
    let can_edit = staff.can(Permission::LeadsEdit);
    let (comms, more) = communications::of_contact(db, i.contact_id, None).await?;
    let contact_page = format!("/contacts/{}", i.contact_id);
    Ok(InquiryPage {
        others: inquiries::others_of_contact(db, i.contact_id, id).await?,
        documents: documents::of(db, Parent::Inquiry(id), show_archived).await?,
        show_archived,
        layout,
        moves: if can_edit {
            rules::moves(i.status)
        } else {
            vec![]
        },
        activities: activities::of_inquiry(db, state.clock.now(), id).await?,
        comms,
        comms_more: more.map(|n| crate::page::next_href(&contact_page, &[], &n)),
        staff: activities::team(db).await?,
        can_edit,
        build: inquiries::build_of(db, id).await?,
        contract: inquiries::has_contract(db, id).await?,
        can_quote: staff.can(Permission::BuildsEdit) && i.status != InquiryStatus::ClosedLost,
        packages: inquiries::packages(db).await?,
        i,
        flash,
        error,
    })
}

async fn inquiry_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("inquiry"))?;
    let flash = match n.done.as_str() {
        "status" => Some("The status is changed.".to_string()),
        "contacted" => Some("Moved to Contacted; the follow-up to-do is done.".to_string()),
        "logged" => Some("Logged.".to_string()),
        "uploaded" => Some("The document is added.".to_string()),
        "completed" => Some("The to-do is done.".to_string()),
        "reassigned" => Some("The to-do is reassigned.".to_string()),
        _ => None,
    };
    Ok(render(
        &inquiry_view(
            &state,
            &mut db,
            &staff,
            id,
            flash,
            None,
            n.archived.is_some(),
        )
        .await?,
    ))
}

/// Run one change of the inquiry page in its own transaction, then go back saying what was
/// `done`; or, when it was refused (409/422), show the page again with the reason, nothing
/// changed.
async fn change<T>(
    state: &AppState,
    db: &mut Db,
    staff: &Staff,
    id: i32,
    done: &str,
    f: impl AsyncFnOnce(&mut PgConnection) -> AppResult<T>,
) -> AppResult<Response> {
    let result = crate::db::transaction(db, f).await.map(|_| ());
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/leads/{id}?done={done}")).into_response()),
        Err(e) => refused(state, db, staff, id, e).await,
    }
}

/// The inquiry page again with the reason a change was refused.
async fn refused(
    state: &AppState,
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    e: AppError,
) -> AppResult<Response> {
    let refusal = Refusal::from_error(e)?;
    let reason = format!(
        "Not done: {}",
        refusal.message.as_deref().unwrap_or_default()
    );
    let page = inquiry_view(state, db, staff, id, None, Some(reason), false).await?;
    Ok(refusal.respond(render(&page)))
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
    /// From the board: its query (filters, a column's cursor), to go back to it.
    #[serde(default)]
    back: Option<String>,
}

/// Move an inquiry, from its page or from the board (`back`). From the page: back to it,
/// saying so (and that the follow-up to-do is done). From the board: back to the board as it
/// was filtered, saying what moved (htmx swaps the board in place; without JavaScript it is a
/// redirect); a refused move shows the board again with the reason by the card, nothing moved.
async fn move_status(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let result = crate::db::transaction(&mut db, async |tx| {
        inquiries::move_to(tx, id, &f.status, staff.contributor_id, now).await
    })
    .await;
    let Some(back) = f.back else {
        return match result {
            Ok(moved) => {
                let done = if moved.follow_up_done {
                    "contacted"
                } else {
                    "status"
                };
                Ok(Redirect::to(&format!("/leads/{id}?done={done}")).into_response())
            }
            Err(e) => refused(&state, &mut db, &staff, id, e).await,
        };
    };
    let mut pairs: Vec<(String, String)> = crate::page::pairs(Some(&back))
        .into_iter()
        .filter(|(k, _)| !NOTICE_KEYS.contains(&k.as_str()))
        .collect();
    match result {
        Ok(moved) => {
            pairs.push(("moved".into(), id.to_string()));
            if moved.follow_up_done {
                pairs.push(("follow_up".into(), "done".into()));
            }
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            Ok(Redirect::to(&format!("/leads?{query}")).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let reason = format!(
                "Not moved: {}",
                refusal.message.as_deref().unwrap_or_default()
            );
            let note = MoveNote {
                refused: Some((id, f.status, reason)),
                ..MoveNote::default()
            };
            let page = board_page(&mut db, &staff, pairs, note).await?;
            Ok(refusal.respond(render(&page)))
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
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<LogForm>,
) -> AppResult<Response> {
    let kind = f.kind.trim();
    change(&state, &mut db, &staff, id, "logged", async |tx| {
        communications::log(tx, id, kind, &f.notes, staff.contributor_id).await
    })
    .await
}

/// The file and its document type from the upload form (type "Other" unless given).
async fn read_upload(mut form: Multipart) -> AppResult<Upload> {
    let mut upload = Upload {
        name: String::new(),
        kind: "Other".into(),
        data: vec![],
    };
    let unreadable =
        |e: axum::extract::multipart::MultipartError| AppError::field("file", e.body_text());
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => {
                upload.name = field.file_name().unwrap_or("document").to_string();
                upload.data = field.bytes().await.map_err(unreadable)?.to_vec();
            }
            Some("document_type") => upload.kind = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    Ok(upload)
}

/// Upload a document (contract, questionnaire…) to the inquiry; kept under the data dir.
async fn upload(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    form: Multipart,
) -> AppResult<Response> {
    inquiries::get(&mut db, id).await?;
    let upload = read_upload(form).await?;
    let dir = &state.settings.data_dir;
    let mut tx = db.begin().await?;
    match documents::store(&mut tx, dir, id, &upload, staff.contributor_id).await {
        Ok(file) => {
            tx.commit().await?;
            file.keep();
            Ok(Redirect::to(&format!("/leads/{id}?done=uploaded")).into_response())
        }
        Err(e) => {
            drop(tx);
            refused(&state, &mut db, &staff, id, e).await
        }
    }
}

async fn download(
    State(state): State<AppState>,
    mut db: Db,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (name, bytes) = documents::read_any(&mut db, &state.settings.data_dir, id, true).await?;
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

//! Settings > Catalogs: the overview, each catalog's list with its add form and CSV, and a
//! row's edit page. A refused form is shown again with its reasons and what was typed.
use super::field::{Catalog, Field, Kind, Values};
use super::form::{FormField, defaults, form_fields, form_values};
use super::row::Row;
use super::{csv, spec, store};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::page;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let edit = Access::Perm(Permission::CatalogEdit);
    Routes::new()
        .get("/settings/catalog", Access::Staff, index)
        .get("/settings/catalog/{slug}", Access::Staff, list_page)
        .post("/settings/catalog/{slug}", edit, create_page)
        .get("/settings/catalog/{slug}/export.csv", Access::Staff, export)
        .post("/settings/catalog/{slug}/import", edit, import)
        .get("/settings/catalog/{slug}/{id}", Access::Staff, edit_page)
        .post("/settings/catalog/{slug}/{id}", edit, update_page)
        .post("/settings/catalog/{slug}/{id}/delete", edit, delete_page)
}

/// A catalog on the overview, with how many rows it has.
struct CatalogCount {
    slug: &'static str,
    title: &'static str,
    rows: i64,
    is_rule: bool,
}

#[derive(Template)]
#[template(path = "catalog/index.html")]
struct Index {
    layout: Layout,
    catalogs: Vec<CatalogCount>,
    can_studio: bool,
    embed: String,
}

/// The snippet that puts the inquiry form on the studio's website.
fn embed_snippet(base: &str) -> String {
    // The script passes the page's own UTM parameters on to the form.
    format!(
        "<iframe id=\"projectflo-inquire\" src=\"{base}/inquire\" title=\"Wedding film inquiry\" \
         style=\"width:100%;min-height:820px;border:0\"></iframe>\n<script>(function(f){{\
         f.src=f.src+location.search;}})(document.getElementById('projectflo-inquire'));\
         </script>"
    )
}

async fn index(State(state): State<AppState>, mut db: Db, staff: Staff) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Catalogs and rules", "/settings").await?;
    let counts = store::counts(&mut db).await?;
    let catalogs = spec::CATALOGS
        .iter()
        .zip(counts)
        .map(|(c, rows)| CatalogCount {
            slug: c.slug,
            title: c.title,
            rows,
            is_rule: c.is_rule,
        })
        .collect();
    Ok(render(&Index {
        layout,
        catalogs,
        can_studio: staff.can(Permission::SettingsManage),
        embed: embed_snippet(&state.settings.base_url()),
    }))
}

#[derive(Template)]
#[template(path = "catalog/list.html")]
struct ListPage {
    layout: Layout,
    c: &'static Catalog,
    columns: Vec<&'static str>,
    rows: Vec<(i32, String, Vec<String>)>,
    form: Vec<FormField>,
    can_edit: bool,
    flash: Option<String>,
    error: Option<String>,
    import_errors: Vec<String>,
    /// Whether this is a later page (then a link back to the first).
    later: bool,
    /// The next page's address, when there are more rows.
    next: Option<String>,
}

/// A cell as people read it: references by name, booleans as Yes/No.
fn cell(r: &Row, f: &Field) -> String {
    match f.kind {
        Kind::Ref(_) => r.label(f.name).unwrap_or_else(|| {
            if f.required {
                String::new()
            } else {
                "any".into()
            }
        }),
        Kind::Bool => {
            if r.value(f.name) == "true" {
                "Yes".into()
            } else {
                "No".into()
            }
        }
        _ => {
            let v = r.value(f.name);
            if v.chars().count() > 80 {
                format!("{}…", v.chars().take(80).collect::<String>())
            } else {
                v.to_string()
            }
        }
    }
}

/// `?done=...` after a change.
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    pub done: String,
    /// Where the list's page starts (the previous page's last row).
    #[serde(default)]
    pub after: Option<String>,
}

/// Messages above the list.
#[derive(Default)]
struct Notes {
    flash: Option<String>,
    error: Option<String>,
    import_errors: Vec<String>,
}

impl Notes {
    fn error(message: Option<String>) -> Notes {
        Notes {
            error: message,
            ..Default::default()
        }
    }
}

/// What a refused form says on top.
fn not_saved(r: &Refusal) -> Option<String> {
    r.message.as_ref().map(|m| format!("Not saved: {m}"))
}

async fn list_view(
    db: &mut PgConnection,
    staff: &Staff,
    c: &'static Catalog,
    values: &Values,
    errors: &[FieldError],
    notes: Notes,
    after: Option<&page::Key>,
) -> AppResult<ListPage> {
    let layout = Layout::load(&mut *db, staff, c.title, "/settings").await?;
    let (rows, next) = store::page(db, c, after).await?;
    let path = format!("/settings/catalog/{}", c.slug);
    let shown: Vec<&Field> = c
        .fields
        .iter()
        .filter(|f| f.kind != Kind::LongText && f.kind != Kind::EffortRules)
        .collect();
    Ok(ListPage {
        layout,
        c,
        columns: shown.iter().map(|f| f.label).collect(),
        rows: rows
            .iter()
            .map(|r| (r.id, r.title(c), shown.iter().map(|f| cell(r, f)).collect()))
            .collect(),
        form: form_fields(db, c, values, errors).await?,
        can_edit: staff.can(Permission::CatalogEdit),
        flash: notes.flash,
        error: notes.error,
        import_errors: notes.import_errors,
        later: after.is_some(),
        next: next.map(|n| page::next_href(&path, &[], &n)),
    })
}

/// The list after a change (`?done=created`, `imported-1-added-2-updated`...).
fn done_message(c: &Catalog, done: &str) -> Option<String> {
    match done {
        "created" => Some(format!("The {} is added.", c.singular)),
        "updated" => Some(format!("The {} is saved.", c.singular)),
        "deleted" => Some(format!("The {} is deleted.", c.singular)),
        d if d.starts_with("imported") => Some(format!(
            "Imported: {}.",
            d.trim_start_matches("imported-").replace('-', " ")
        )),
        _ => None,
    }
}

async fn list_page(
    mut db: Db,
    staff: Staff,
    Path(slug): Path<String>,
    Query(q): Query<Flash>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let after = page::Key::parse(q.after.as_deref(), 1)?;
    let notes = Notes {
        flash: done_message(c, &q.done),
        ..Default::default()
    };
    let values = defaults(c);
    let list = list_view(&mut db, &staff, c, &values, &[], notes, after.as_ref());
    let page = list.await?;
    Ok(render(&page))
}

async fn create_page(
    mut db: Db,
    staff: Staff,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let values = form_values(fields);
    let mut tx = db.begin().await?;
    match store::create(&mut tx, c, &values, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/settings/catalog/{slug}?done=created")).into_response())
        }
        Err(e) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let notes = Notes::error(not_saved(&refused));
            let page = list_view(&mut db, &staff, c, &values, &refused.errors, notes, None).await?;
            Ok(refused.respond(render(&page)))
        }
    }
}

#[derive(Template)]
#[template(path = "catalog/edit.html")]
struct EditPage {
    layout: Layout,
    c: &'static Catalog,
    id: i32,
    form: Vec<FormField>,
    can_edit: bool,
    error: Option<String>,
    learned: Vec<(&'static str, String)>,
}

/// The edit page of a row, showing `values` (what is stored, or what was typed).
async fn edit_view(
    db: &mut PgConnection,
    staff: &Staff,
    c: &'static Catalog,
    row: &Row,
    values: &Values,
    refused: Option<&Refusal>,
) -> AppResult<EditPage> {
    let title = format!("{}: {}", c.title, row.title(c));
    let layout = Layout::load(&mut *db, staff, &title, "/settings").await?;
    let learned = c
        .fields
        .iter()
        .filter(|f| f.read_only)
        .map(|f| (f.label, row.value(f.name).to_string()))
        .collect();
    let errors = refused.map_or(&[][..], |r| &r.errors);
    Ok(EditPage {
        layout,
        c,
        id: row.id,
        form: form_fields(db, c, values, errors).await?,
        can_edit: staff.can(Permission::CatalogEdit),
        error: refused.and_then(not_saved),
        learned,
    })
}

async fn edit_page(
    mut db: Db,
    staff: Staff,
    Path((slug, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let id: i32 = id
        .parse()
        .map_err(|_| AppError::NotFound(format!("{} not found", c.singular)))?;
    let row = store::get(&mut db, c, id).await?;
    Ok(render(
        &edit_view(&mut db, &staff, c, &row, &row.values, None).await?,
    ))
}

async fn update_page(
    mut db: Db,
    staff: Staff,
    Path((slug, id)): Path<(String, i32)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let values = form_values(fields);
    let mut tx = db.begin().await?;
    match store::update(&mut tx, c, id, &values, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/settings/catalog/{slug}?done=updated")).into_response())
        }
        Err(e) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let row = store::get(&mut db, c, id).await?;
            let page = edit_view(&mut db, &staff, c, &row, &values, Some(&refused)).await?;
            Ok(refused.respond(render(&page)))
        }
    }
}

async fn delete_page(
    mut db: Db,
    staff: Staff,
    Path((slug, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let mut tx = db.begin().await?;
    match store::delete(&mut tx, c, id, staff.contributor_id).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/settings/catalog/{slug}?done=deleted")).into_response())
        }
        Err(e @ AppError::Conflict(_)) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let notes = Notes::error(
                refused
                    .message
                    .as_ref()
                    .map(|m| format!("Not deleted: {m}")),
            );
            let page = list_view(&mut db, &staff, c, &defaults(c), &[], notes, None).await?;
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

async fn export(mut db: Db, Path(slug): Path<String>) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let body = csv::export(&mut db, c).await?;
    let disposition = format!("attachment; filename=\"{}.csv\"", c.slug);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The uploaded file (multipart field `file`) or pasted text (field `csv`).
async fn uploaded(mut form: Multipart) -> AppResult<Vec<u8>> {
    let mut data = vec![];
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::field("file", e.body_text()))?
    {
        if matches!(field.name(), Some("file") | Some("csv")) {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::field("file", e.body_text()))?;
            if !bytes.is_empty() {
                data = bytes.to_vec();
            }
        }
    }
    Ok(data)
}

async fn import(
    mut db: Db,
    staff: Staff,
    Path(slug): Path<String>,
    form: Multipart,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let data = uploaded(form).await?;
    let mut tx = db.begin().await?;
    match csv::import(&mut tx, c, &data, staff.contributor_id).await {
        Ok(done) => {
            tx.commit().await?;
            let (added, updated) = (done.created, done.updated);
            let to =
                format!("/settings/catalog/{slug}?done=imported-{added}-added-{updated}-updated");
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let notes = Notes {
                error: Some("Nothing was imported. Fix these rows and try again.".into()),
                import_errors: refused.errors.iter().map(|e| e.message.clone()).collect(),
                ..Default::default()
            };
            let page = list_view(&mut db, &staff, c, &defaults(c), &[], notes, None).await?;
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

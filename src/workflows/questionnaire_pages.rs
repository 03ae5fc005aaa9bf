//! Settings > Questionnaires: the list (and a new one), and the form builder: a question added,
//! changed, moved up or down, removed, each a plain form (keyboard usable, no script needed);
//! every change is checked whole (`questions::check`) before it is saved.
use super::fields;
use super::questionnaires::{self, Meta, Template};
use super::questions::{self, Draft, Kind, Question};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult};
use askama::Template as Askama;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/settings/questionnaires", manage, list)
        .post("/settings/questionnaires", manage, create)
        .get("/settings/questionnaires/{id}", manage, builder)
        .post("/settings/questionnaires/{id}", manage, save_meta)
        .post("/settings/questionnaires/{id}/questions", manage, add)
        .post(
            "/settings/questionnaires/{id}/questions/{q}",
            manage,
            change,
        )
        .post(
            "/settings/questionnaires/{id}/questions/{q}/move",
            manage,
            move_question,
        )
        .post(
            "/settings/questionnaires/{id}/questions/{q}/delete",
            manage,
            delete,
        )
}

#[derive(Askama)]
#[template(path = "workflows/questionnaires.html")]
struct ListPage {
    layout: Layout,
    templates: Vec<Template>,
    refused: Option<Refusal>,
}

async fn list_page(mut db: Db, staff: &Staff, refused: Option<Refusal>) -> AppResult<Response> {
    let templates = questionnaires::templates(&mut db).await?;
    let layout = Layout::load(&mut db, staff, "Questionnaires", "/settings").await?;
    let status = refused.as_ref().map(|r| r.status);
    let page = render(&ListPage {
        layout,
        templates,
        refused,
    });
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page,
    })
}

async fn list(db: Db, staff: Staff) -> AppResult<Response> {
    list_page(db, &staff, None).await
}

#[derive(Deserialize)]
struct NewForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    due_days_before_wedding: String,
}

fn days(text: &str) -> AppResult<i32> {
    match text.trim() {
        "" => Ok(30),
        t => t
            .parse()
            .map_err(|_| AppError::field("due_days_before_wedding", "a number of days, 0 to 730")),
    }
}

async fn create(mut db: Db, staff: Staff, Form(f): Form<NewForm>) -> AppResult<Response> {
    let made = async {
        let meta = Meta {
            name: &f.name,
            description: Some(&f.description),
            due_days_before_wedding: days(&f.due_days_before_wedding)?,
        };
        crate::db::transaction(&mut db, async |tx| {
            questionnaires::create(tx, &meta, &[], Some(staff.contributor_id)).await
        })
        .await
    }
    .await;
    match made {
        Ok(id) => Ok(Redirect::to(&format!("/settings/questionnaires/{id}")).into_response()),
        Err(e) => list_page(db, &staff, Some(Refusal::from_error(e)?)).await,
    }
}

#[derive(Askama)]
#[template(path = "workflows/questionnaire.html")]
struct Builder {
    layout: Layout,
    t: Template,
    kinds: [Kind; 9],
    fields: &'static [(&'static str, &'static str)],
    refused: Option<Refusal>,
    flash: Option<String>,
}

impl Builder {
    fn earlier(&self, id: impl std::borrow::Borrow<i32>) -> Vec<&Question> {
        let id = *id.borrow();
        self.t
            .questions
            .iter()
            .take_while(|q| q.id != id)
            .filter(|q| q.kind.asks() && q.kind != Kind::File)
            .collect()
    }

    fn label_of(&self, id: impl std::borrow::Borrow<i32>) -> String {
        let id = *id.borrow();
        self.t
            .questions
            .iter()
            .find(|q| q.id == id)
            .map_or_else(|| format!("question {id}"), |q| q.label.clone())
    }

    fn field_label(&self, key: &str) -> &'static str {
        fields::FIELDS
            .iter()
            .find(|f| f.0 == key)
            .map_or("", |f| f.1)
    }

    fn options_text(&self, q: &Question) -> String {
        q.options.join("\n")
    }

    fn show_if_value(&self, q: &Question) -> String {
        q.show_if
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_default()
    }

    fn show_if_question(&self, q: &Question) -> i32 {
        q.show_if.as_ref().map_or(0, |s| s.question)
    }
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn builder_page(
    mut db: Db,
    staff: &Staff,
    id: i32,
    refused: Option<Refusal>,
    flash: Option<String>,
) -> AppResult<Response> {
    let t = questionnaires::template(&mut db, id).await?;
    let layout = Layout::load(&mut db, staff, &t.name, "/settings").await?;
    let status = refused.as_ref().map(|r| r.status);
    let page = render(&Builder {
        layout,
        t,
        kinds: Kind::ALL,
        fields: fields::FIELDS,
        refused,
        flash,
    });
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page,
    })
}

async fn builder(
    db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(d): Query<Done>,
) -> AppResult<Response> {
    let flash = d.done.map(|d| match d.as_str() {
        "added" => "Question added.".to_string(),
        "moved" => "Question moved.".to_string(),
        "deleted" => "Question removed.".to_string(),
        _ => "Saved.".to_string(),
    });
    builder_page(db, &staff, id, None, flash).await
}

async fn save_meta(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<NewForm>,
) -> AppResult<Response> {
    let saved = async {
        let meta = Meta {
            name: &f.name,
            description: Some(&f.description),
            due_days_before_wedding: days(&f.due_days_before_wedding)?,
        };
        crate::db::transaction(&mut db, async |tx| {
            questionnaires::update_meta(tx, id, &meta, Some(staff.contributor_id)).await
        })
        .await
    }
    .await;
    done(db, &staff, id, saved, "saved", None).await
}

/// After a change: back to the builder (at the question), or the builder with the refusal.
async fn done(
    db: Db,
    staff: &Staff,
    id: i32,
    result: AppResult<()>,
    what: &str,
    at: Option<i32>,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            let anchor = at.map(|q| format!("#q-{q}")).unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/settings/questionnaires/{id}?done={what}{anchor}"
            ))
            .into_response())
        }
        Err(e) => builder_page(db, staff, id, Some(Refusal::from_error(e)?), None).await,
    }
}

/// Change the questions in one transaction: locked, changed, checked whole, saved.
async fn edit(
    db: &mut Db,
    staff: &Staff,
    id: i32,
    what: &str,
    f: impl FnOnce(Vec<Question>) -> AppResult<Vec<Question>>,
) -> AppResult<()> {
    crate::db::transaction(db, async |tx| {
        let qs = questionnaires::lock_questions(tx, id).await?;
        let changed = f(qs)?;
        questionnaires::save_questions(tx, id, &changed, what, Some(staff.contributor_id)).await
    })
    .await
}

#[derive(Deserialize)]
struct QuestionForm {
    kind: String,
    label: String,
    #[serde(default)]
    help: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    options: String,
    #[serde(default)]
    show_if_question: String,
    #[serde(default)]
    show_if_value: String,
    #[serde(default)]
    maps_to: String,
}

impl QuestionForm {
    fn draft(&self) -> Draft {
        Draft {
            kind: self.kind.clone(),
            label: self.label.clone(),
            help: self.help.clone(),
            required: self.required.is_some(),
            options: self.options.clone(),
            show_if_question: match self.show_if_question.trim() {
                "0" => String::new(),
                q => q.to_string(),
            },
            show_if_value: self.show_if_value.clone(),
            maps_to: self.maps_to.clone(),
        }
    }
}

async fn add(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<QuestionForm>,
) -> AppResult<Response> {
    let mut added = 0;
    let r = edit(&mut db, &staff, id, "added a question", |mut qs| {
        added = questions::next_id(&qs);
        qs.push(f.draft().question(added)?);
        Ok(qs)
    })
    .await;
    done(db, &staff, id, r, "added", Some(added)).await
}

async fn change(
    mut db: Db,
    staff: Staff,
    Path((id, q)): Path<(i32, i32)>,
    Form(f): Form<QuestionForm>,
) -> AppResult<Response> {
    let r = edit(&mut db, &staff, id, "changed a question", |mut qs| {
        let at = qs
            .iter()
            .position(|x| x.id == q)
            .ok_or_else(|| AppError::not_found("question"))?;
        qs[at] = f.draft().question(q)?;
        Ok(qs)
    })
    .await;
    done(db, &staff, id, r, "saved", Some(q)).await
}

#[derive(Deserialize)]
struct MoveForm {
    direction: String,
}

async fn move_question(
    mut db: Db,
    staff: Staff,
    Path((id, q)): Path<(i32, i32)>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let by = if f.direction == "up" { -1 } else { 1 };
    let r = edit(&mut db, &staff, id, "moved a question", |qs| {
        questions::moved(qs, q, by)
    })
    .await;
    done(db, &staff, id, r, "moved", Some(q)).await
}

async fn delete(mut db: Db, staff: Staff, Path((id, q)): Path<(i32, i32)>) -> AppResult<Response> {
    let r = edit(&mut db, &staff, id, "removed a question", |qs| {
        Ok(questions::removed(qs, q))
    })
    .await;
    done(db, &staff, id, r, "deleted", None).await
}

//! Settings > Contract: the template every new contract is rendered from, with its merge
//! fields listed (an unknown field is refused by the field when saving), and when a signed
//! contract books the quote by itself (`auto_book`).
use super::auto_book::{self, AutoBook};
use super::{rendering, text};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/settings/contract", manage, page)
        .post("/settings/contract", manage, save)
        .post("/settings/contract/booking", manage, save_auto_book)
}

#[derive(Template)]
#[template(path = "contract/template.html")]
struct TemplatePage {
    layout: Layout,
    body: String,
    /// ("{{name}}", what it becomes) of every merge field.
    fields: Vec<(String, &'static str)>,
    /// When a signed contract books the quote: the setting in force.
    auto_book: AutoBook,
    refused: Option<Refusal>,
    flash: Option<String>,
}

impl TemplatePage {
    fn error(&self) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field("body"))
    }

    fn auto_book_error(&self) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field("auto_book"))
    }

    /// (value, label, explanation, chosen) of each choice.
    fn auto_book_choices(&self) -> Vec<(&'static str, &'static str, &'static str, bool)> {
        AutoBook::ALL
            .into_iter()
            .map(|a| (a.name(), a.label(), a.explanation(), a == self.auto_book))
            .collect()
    }
}

fn fields() -> Vec<(String, &'static str)> {
    text::FIELDS
        .iter()
        .map(|(name, what)| (format!("{{{{{name}}}}}"), *what))
        .collect()
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
}

#[derive(Deserialize, Default)]
struct TemplateForm {
    #[serde(default)]
    body: String,
}

async fn page(mut db: Db, staff: Staff, Query(q): Query<Done>) -> AppResult<Response> {
    let (_, body) = rendering::template(&mut db).await?;
    let auto_book = auto_book::setting(&mut db).await?;
    let layout = Layout::load(&mut db, &staff, "Contract template", "/settings").await?;
    let flash = match q.done.as_str() {
        "saved" => Some("The contract template is saved. Contracts made from now on use it."),
        "booking" => Some("Saved: when a signed contract books the quote."),
        _ => None,
    };
    Ok(render(&TemplatePage {
        layout,
        body,
        fields: fields(),
        auto_book,
        refused: None,
        flash: flash.map(str::to_string),
    }))
}

#[derive(Deserialize, Default)]
struct AutoBookForm {
    #[serde(default)]
    auto_book: String,
}

/// Choose when a signed contract books the quote (422 by the field for anything else).
async fn save_auto_book(
    mut db: Db,
    staff: Staff,
    Form(f): Form<AutoBookForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        auto_book::save(tx, &f.auto_book, staff.contributor_id).await
    })
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/settings/contract?done=booking").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            let refused = Refusal::from_error(e)?;
            let page = TemplatePage {
                body: rendering::template(&mut db).await?.1,
                auto_book: auto_book::setting(&mut db).await?,
                layout: Layout::load(&mut db, &staff, "Contract template", "/settings").await?,
                fields: fields(),
                refused: Some(refused.clone()),
                flash: None,
            };
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

async fn save(mut db: Db, staff: Staff, Form(f): Form<TemplateForm>) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    match rendering::save_template(&mut tx, &f.body, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to("/settings/contract?done=saved").into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let page = TemplatePage {
                auto_book: auto_book::setting(&mut db).await?,
                layout: Layout::load(&mut db, &staff, "Contract template", "/settings").await?,
                body: f.body,
                fields: fields(),
                refused: Some(refused.clone()),
                flash: None,
            };
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

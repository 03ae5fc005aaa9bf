//! Settings > Contract template: the text every new contract is rendered from, with its merge
//! fields listed; an unknown field is refused by the field when saving.
use super::{contracts, text};
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
}

#[derive(Template)]
#[template(path = "contract/template.html")]
struct TemplatePage {
    layout: Layout,
    body: String,
    /// ("{{name}}", what it becomes) of every merge field.
    fields: Vec<(String, &'static str)>,
    refused: Option<Refusal>,
    flash: Option<String>,
}

impl TemplatePage {
    fn error(&self) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field("body"))
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
    let (_, body) = contracts::template(&mut db).await?;
    let layout = Layout::load(&mut db, &staff, "Contract template", "/settings").await?;
    Ok(render(&TemplatePage {
        layout,
        body,
        fields: fields(),
        refused: None,
        flash: (q.done == "saved").then(|| {
            "The contract template is saved. Contracts made from now on use it.".to_string()
        }),
    }))
}

async fn save(mut db: Db, staff: Staff, Form(f): Form<TemplateForm>) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    match contracts::save_template(&mut tx, &f.body, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to("/settings/contract?done=saved").into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let page = TemplatePage {
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

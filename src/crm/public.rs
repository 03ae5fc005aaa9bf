//! The public lead form at /inquire (no login), made to be embedded in the studio's website.
use super::intake::{self, NewInquiry, SOURCES};
use crate::auth::Access;
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;
use sqlx::PgConnection;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/inquire", Access::Public, form)
        .post("/inquire", Access::Public, submit)
}

#[derive(Template)]
#[template(path = "public/inquire.html")]
struct FormPage {
    studio: String,
    f: NewInquiry,
    refusal: Option<Refusal>,
    sources: &'static [&'static str],
    done: bool,
}

impl FormPage {
    fn new(studio: String, f: NewInquiry) -> FormPage {
        FormPage {
            studio,
            f,
            refusal: None,
            sources: SOURCES,
            done: false,
        }
    }

    fn source_selected(&self, s: &str) -> bool {
        self.f.lead_source == s
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.refusal.as_ref().and_then(|r| r.field(field))
    }
}

/// The page may sit in an iframe on the studio's own website.
fn embeddable(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors *",
        ),
    );
    // CSP frame-ancestors supersedes X-Frame-Options; ALLOWALL is ignored by browsers, which
    // then follow the CSP above.
    resp.headers_mut().insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("ALLOWALL"),
    );
    resp
}

async fn studio_name(db: &mut PgConnection) -> AppResult<String> {
    Ok(Studio::load(&mut *db).await?.studio_name)
}

/// The UTM parameters of the page (passed on by the embed snippet) go into hidden fields.
async fn form(mut db: Db, Query(q): Query<Vec<(String, String)>>) -> AppResult<Response> {
    let utm: Vec<(String, String)> = q
        .into_iter()
        .filter(|(k, _)| k.starts_with("utm_"))
        .collect();
    let f = NewInquiry {
        lead_source_details: serde_urlencoded::to_string(&utm).unwrap_or_default(),
        campaign_id: utm
            .iter()
            .find(|(k, _)| k == "utm_campaign")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    let page = FormPage::new(studio_name(&mut db).await?, f);
    Ok(embeddable(render(&page)))
}

#[derive(Deserialize)]
struct Submission {
    #[serde(flatten)]
    f: NewInquiry,
    /// The honeypot: people never see it, bots fill it in.
    #[serde(default)]
    website: String,
}

/// Thanks, or the form again with each field's problem (422); 429 past the per-address limit.
async fn submit(
    State(state): State<AppState>,
    mut db: Db,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(s): Form<Submission>,
) -> AppResult<Response> {
    let studio = studio_name(&mut db).await?;
    let thanks = |studio: String| {
        let page = FormPage {
            done: true,
            ..FormPage::new(studio, NewInquiry::default())
        };
        embeddable(render(&page))
    };
    if !s.website.trim().is_empty() {
        tracing::info!(ip = %peer.ip(), "lead form honeypot filled; ignored");
        return Ok(thanks(studio));
    }
    if let Err(errors) = s.f.check() {
        let refusal = Refusal::from_error(intake::invalid(errors))?;
        let page = FormPage {
            refusal: Some(refusal.clone()),
            ..FormPage::new(studio, s.f)
        };
        return Ok(refusal.respond(embeddable(render(&page))));
    }
    let per_hour = state.settings.lead_form_per_hour as i64;
    let mut tx = db.begin().await?;
    intake::admit_submission(&mut tx, &peer.ip().to_string(), per_hour).await?;
    let (_, mails) =
        intake::create_inquiry(&mut tx, &state.settings, state.clock.now(), &s.f, None).await?;
    tx.commit().await?;
    mails.send(&state.db, &state.clock);
    Ok(thanks(studio))
}

//! The public lead form at /inquire (no login), made to be embedded in the studio's website.
use super::{NewInquiry, create_inquiry};
use crate::auth::Access;
use crate::error::FieldError;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/inquire", Access::Public, form)
        .post("/inquire", Access::Public, submit)
}

pub const SOURCES: &[&str] = &[
    "Instagram",
    "Google",
    "The Knot",
    "WeddingWire",
    "A friend or family",
    "Our venue",
    "Another vendor",
    "Other",
];

#[derive(Template)]
#[template(path = "public/inquire.html")]
struct FormPage {
    studio: String,
    f: NewInquiry,
    errors: Vec<FieldError>,
    sources: &'static [&'static str],
    done: bool,
}

impl FormPage {
    fn source_selected(&self, s: &str) -> bool {
        self.f.lead_source == s
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// The page may sit in an iframe on the studio's own website.
fn embeddable(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors *"),
    );
    // CSP frame-ancestors supersedes X-Frame-Options; ALLOWALL is ignored by browsers, which
    // then follow the CSP above.
    resp.headers_mut().insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("ALLOWALL"),
    );
    resp
}

async fn studio(db: &sqlx::PgPool) -> AppResult<String> {
    Ok(
        sqlx::query_scalar("SELECT studio_name FROM studio_settings")
            .fetch_one(db)
            .await?,
    )
}

/// The UTM parameters of the page (passed on by the embed snippet) go into hidden fields.
async fn form(
    State(state): State<AppState>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
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
    Ok(embeddable(render(&FormPage {
        studio: studio(&state.db).await?,
        f,
        errors: vec![],
        sources: SOURCES,
        done: false,
    })))
}

#[derive(Deserialize)]
struct Submission {
    #[serde(flatten)]
    f: NewInquiry,
    /// The honeypot: people never see it, bots fill it in.
    #[serde(default)]
    website: String,
}

async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(s): Form<Submission>,
) -> AppResult<Response> {
    let studio = studio(&state.db).await?;
    let thanks = |studio: String| {
        embeddable(render(&FormPage {
            studio,
            f: NewInquiry::default(),
            errors: vec![],
            sources: SOURCES,
            done: true,
        }))
    };
    if !s.website.trim().is_empty() {
        tracing::info!(ip = %peer.ip(), "lead form honeypot filled; ignored");
        return Ok(thanks(studio));
    }
    if let Err(errors) = s.f.check() {
        let page = FormPage {
            studio,
            f: s.f,
            errors,
            sources: SOURCES,
            done: false,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, embeddable(render(&page))).into_response());
    }
    let ip = peer.ip().to_string();
    let mut tx = state.db.begin().await?;
    // Per-IP limit, counted under a lock so that a burst cannot slip past it.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('lead-form:' || $1))")
        .bind(&ip)
        .execute(&mut *tx)
        .await?;
    let recent: i64 = sqlx::query_scalar("SELECT count(*) FROM lead_form_submissions WHERE ip = $1 AND submitted_at > now() - interval '1 hour'")
        .bind(&ip)
        .fetch_one(&mut *tx)
        .await?;
    if recent >= state.settings.lead_form_per_hour as i64 {
        drop(tx);
        return Err(AppError::RateLimited {
            retry_after_secs: 3600,
        });
    }
    sqlx::query("INSERT INTO lead_form_submissions (ip) VALUES ($1)")
        .bind(&ip)
        .execute(&mut *tx)
        .await?;
    create_inquiry(&mut tx, &s.f, None).await?;
    tx.commit().await?;
    Ok(thanks(studio))
}

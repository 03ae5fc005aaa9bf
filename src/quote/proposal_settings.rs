//! Settings > Proposal page: what makes the couple's proposal look like the studio's own, its
//! logo, a welcome above the lines and the terms above the acceptance, and the logo itself,
//! served to anyone (it is on public pages).
use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/settings/proposal", manage, page)
        .post("/settings/proposal", manage, save)
        .get("/brand/logo", Access::Public, logo)
}

/// The largest logo kept (the database checks it too).
pub const LOGO_MAX_BYTES: usize = 512 * 1024;
const INTRO_MAX_CHARS: usize = 4_000;
const TERMS_MAX_CHARS: usize = 20_000;

/// The image type of a logo, from its first bytes (what a browser shows safely as an image;
/// SVG is refused because it can carry scripts).
pub fn image_type(data: &[u8]) -> Option<&'static str> {
    match data {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

/// What the form sends: the texts, a new logo (empty: keep the one there is) or its removal.
#[derive(Default)]
struct ProposalForm {
    intro: String,
    terms: String,
    logo: Vec<u8>,
    remove_logo: bool,
}

impl ProposalForm {
    async fn read(mut form: Multipart) -> AppResult<ProposalForm> {
        let mut f = ProposalForm::default();
        let unreadable =
            |e: axum::extract::multipart::MultipartError| AppError::field("logo", e.body_text());
        while let Some(field) = form.next_field().await.map_err(unreadable)? {
            match field.name() {
                Some("intro") => f.intro = field.text().await.map_err(unreadable)?,
                Some("terms") => f.terms = field.text().await.map_err(unreadable)?,
                Some("remove_logo") => f.remove_logo = true,
                Some("logo") => f.logo = field.bytes().await.map_err(unreadable)?.to_vec(),
                _ => {}
            }
        }
        Ok(f)
    }

    /// Each field's problem, in plain words.
    fn check(&self) -> Result<Option<&'static str>, AppError> {
        let mut errors = vec![];
        let mut too_long = |field: &str, text: &str, max: usize| {
            if text.chars().count() > max {
                errors.push(FieldError {
                    field: field.into(),
                    message: format!("keep it under {max} characters"),
                });
            }
        };
        too_long("intro", &self.intro, INTRO_MAX_CHARS);
        too_long("terms", &self.terms, TERMS_MAX_CHARS);
        let mut kind = None;
        if !self.logo.is_empty() {
            kind = image_type(&self.logo);
            let problem = if kind.is_none() {
                Some("choose a PNG, JPEG, WebP or GIF image".to_string())
            } else if self.logo.len() > LOGO_MAX_BYTES {
                Some(format!(
                    "this image is {} KB; the logo can be at most 512 KB",
                    self.logo.len().div_ceil(1024)
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                errors.push(FieldError {
                    field: "logo".into(),
                    message,
                });
            }
        }
        if errors.is_empty() {
            Ok(kind)
        } else {
            Err(AppError::Validation {
                message: "Not saved: please fix the fields marked below.".into(),
                errors,
            })
        }
    }
}

/// What makes a proposal the studio's own: the welcome and terms as typed, and the logo's
/// versioned address when there is one.
pub struct Saved {
    pub intro: String,
    pub terms: String,
    pub logo: Option<String>,
}

/// The studio's proposal page settings (this page, and every couple's proposal).
pub async fn load(conn: &mut PgConnection) -> AppResult<Saved> {
    let (intro, terms, version): (String, String, Option<i64>) = sqlx::query_as(
        "SELECT proposal_intro, proposal_terms,
                CASE WHEN logo IS NOT NULL THEN extract(epoch FROM logo_updated_at)::bigint END
         FROM studio_settings",
    )
    .fetch_one(conn)
    .await?;
    Ok(Saved {
        intro,
        terms,
        logo: version.map(|v| format!("/brand/logo?v={v}")),
    })
}

/// Save the texts and the logo change, audited, in the caller's transaction.
async fn store(
    tx: &mut PgConnection,
    clock: &Clock,
    f: &ProposalForm,
    actor: i32,
) -> AppResult<()> {
    let kind = f.check()?;
    let before = load(tx).await?;
    let logo = if kind.is_some() {
        "replaced"
    } else if f.remove_logo && before.logo.is_some() {
        "removed"
    } else {
        "kept"
    };
    sqlx::query(
        "UPDATE studio_settings SET proposal_intro = $1, proposal_terms = $2,
                logo = CASE $3 WHEN 'replaced' THEN $4 WHEN 'removed' THEN NULL ELSE logo END,
                logo_type = CASE $3 WHEN 'replaced' THEN $5 WHEN 'removed' THEN NULL
                                    ELSE logo_type END,
                logo_updated_at = CASE WHEN $3 = 'kept' THEN logo_updated_at ELSE $6 END,
                updated_at = $6",
    )
    .bind(f.intro.trim())
    .bind(f.terms.trim())
    .bind(logo)
    .bind(&f.logo)
    .bind(kind)
    .bind(clock.now())
    .execute(&mut *tx)
    .await?;
    let changed = |a: &str, b: &str| a.trim() != b.trim();
    audit::record(
        tx,
        Some(actor),
        "settings.proposal.update",
        "studio_settings",
        None,
        serde_json::json!({
            "intro_changed": changed(&before.intro, &f.intro),
            "terms_changed": changed(&before.terms, &f.terms),
            "logo": logo,
        }),
    )
    .await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "quote/proposal_settings.html")]
struct SettingsPage {
    layout: Layout,
    intro: String,
    terms: String,
    logo: Option<String>,
    refused: Option<Refusal>,
    flash: Option<String>,
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
}

async fn page(mut db: Db, staff: Staff, Query(q): Query<Done>) -> AppResult<Response> {
    let saved = load(&mut db).await?;
    let layout = Layout::load(&mut db, &staff, "Proposal page", "/settings").await?;
    Ok(render(&SettingsPage {
        layout,
        intro: saved.intro,
        terms: saved.terms,
        logo: saved.logo,
        refused: None,
        flash: (q.done == "saved").then(|| {
            "Saved. Proposals show it from now on, those already sent included.".to_string()
        }),
    }))
}

async fn save(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    form: Multipart,
) -> AppResult<Response> {
    let f = ProposalForm::read(form).await?;
    let mut tx = db.begin().await?;
    match store(&mut tx, &state.clock, &f, staff.contributor_id).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to("/settings/proposal?done=saved").into_response())
        }
        Err(e) => {
            drop(tx);
            let refused = Refusal::from_error(e)?;
            let saved = load(&mut db).await?;
            let layout = Layout::load(&mut db, &staff, "Proposal page", "/settings").await?;
            let page = render(&SettingsPage {
                layout,
                intro: f.intro,
                terms: f.terms,
                logo: saved.logo,
                refused: Some(refused.clone()),
                flash: None,
            });
            Ok(refused.respond(page))
        }
    }
}

/// The studio's logo, for its pages and the couple's; cached a day (its address changes with
/// every new logo).
async fn logo(mut db: Db) -> AppResult<Response> {
    let found: Option<(Option<Vec<u8>>, Option<String>)> =
        sqlx::query_as("SELECT logo, logo_type FROM studio_settings")
            .fetch_optional(&mut *db)
            .await?;
    let Some((Some(data), Some(kind))) = found else {
        return Err(AppError::NotFound("The studio has no logo.".into()));
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400".into()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        ],
        data,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn a_logo_is_known_by_its_first_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"\xff\xd8\xff\xe0..JFIF"), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a...."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b""), None);
    }
}

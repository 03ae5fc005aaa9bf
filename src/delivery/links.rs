//! Download links for the couple: an export (never raw footage, audio or project files) shared
//! through a link whose token is stored only as its SHA-256, until it expires
//! (`delivery_link_days` after it is made, by default 30) or the studio revokes it, which takes
//! effect on the next request. The couple gets an email with the link when it is made and a
//! reminder `delivery_reminder_days` before it expires (the nightly run, once per link).
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

/// The studio's delivery settings.
#[derive(Debug, Clone, Copy, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DeliverySettings {
    /// Days after final delivery that the survey goes out.
    pub survey_after_days: i32,
    /// Days a download link works.
    pub delivery_link_days: i32,
    /// Days before a link expires that the couple is reminded (0: no reminder).
    pub delivery_reminder_days: i32,
}

pub async fn settings(conn: &mut PgConnection) -> AppResult<DeliverySettings> {
    Ok(sqlx::query_as(
        "SELECT survey_after_days, delivery_link_days, delivery_reminder_days
         FROM studio_settings",
    )
    .fetch_one(conn)
    .await?)
}

/// Save the delivery settings (422 by the field when out of range).
pub async fn save_settings(
    tx: &mut PgConnection,
    s: DeliverySettings,
    actor: i32,
) -> AppResult<()> {
    let mut errors = vec![];
    if !(0..=365).contains(&s.survey_after_days) {
        errors.push(("survey_after_days", "between 0 and 365 days"));
    }
    if !(1..=365).contains(&s.delivery_link_days) {
        errors.push(("delivery_link_days", "between 1 and 365 days"));
    }
    if !(0..=60).contains(&s.delivery_reminder_days) {
        errors.push(("delivery_reminder_days", "between 0 and 60 days"));
    }
    if !errors.is_empty() {
        return Err(AppError::fields(&errors));
    }
    sqlx::query(
        "UPDATE studio_settings SET survey_after_days = $1, delivery_link_days = $2,
                delivery_reminder_days = $3",
    )
    .bind(s.survey_after_days)
    .bind(s.delivery_link_days)
    .bind(s.delivery_reminder_days)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "settings.delivery",
        "studio_settings",
        None,
        serde_json::json!({ "survey_after_days": s.survey_after_days,
            "delivery_link_days": s.delivery_link_days,
            "delivery_reminder_days": s.delivery_reminder_days }),
    )
    .await?;
    Ok(())
}

/// A link as the studio's page and the API show it (never its token).
#[derive(Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Link {
    pub id: i32,
    pub asset_id: i32,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Link {
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// The links of a project's assets, newest first.
pub async fn of_project(conn: &mut PgConnection, project: i32) -> AppResult<Vec<Link>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.asset_id, l.expires_at, l.revoked_at, l.reminded_at, l.created_at
         FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id
         WHERE a.project_id = $1 ORDER BY l.id DESC LIMIT 200",
    )
    .bind(project)
    .fetch_all(conn)
    .await?)
}

/// A new link: what the couple opens (`/d/<token>`; the token is shown only now).
pub struct Made {
    pub link: i32,
    pub url: String,
    pub outgoing: Option<Outgoing>,
}

/// Share an export of a project with its couple: a link valid `delivery_link_days`, emailed to
/// the couple (when they have an email). 404 for an asset that is not there; 409 for one that is
/// not an export (raw footage and project files never go to the couple).
pub async fn create(
    tx: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    asset: i32,
    actor: Option<i32>,
) -> AppResult<Made> {
    let row: Option<(i32, String, Option<String>)> = sqlx::query_as(
        "SELECT project_id, asset_type::text, file_name FROM project_assets WHERE id = $1",
    )
    .bind(asset)
    .fetch_optional(&mut *tx)
    .await?;
    let (project, kind, name) = row.ok_or_else(|| AppError::not_found("asset"))?;
    if kind != "Export" {
        return Err(AppError::Conflict(format!(
            "only exports are delivered to the couple; this is {kind}"
        )));
    }
    let days = self::settings(tx).await?.delivery_link_days;
    let now = clock.now();
    let token = crypto::random_token();
    let link: i32 = sqlx::query_scalar(
        "INSERT INTO delivery_links (asset_id, token_hash, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(asset)
    .bind(crypto::token_hash(&token))
    .bind(now + Duration::days(i64::from(days)))
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        actor,
        "projects.delivery.link",
        "delivery_link",
        Some(link),
        serde_json::json!({ "asset": asset, "project": project, "days": days }),
    )
    .await?;
    let url = format!("{}/d/{token}", settings.base_url());
    let studio = Studio::load(tx).await?;
    let couple = couple_of(tx, project).await?;
    let outgoing = match couple {
        Some((contact, name_of, Some(email))) => {
            let expires = studio.day(&(now + Duration::days(i64::from(days))));
            let film = name.unwrap_or_else(|| "your film".into());
            let body = format!(
                "Dear {name_of},\n\n{film} is ready. Watch it and download it here until \
                 {expires}:\n{url}\n\nIt is also in your portal: {}/portal\n\nWith love,\n{}",
                settings.base_url(),
                studio.studio_name
            );
            let summary = format!(
                "Dear {name_of},\n\n{film} is ready, in your portal until {expires}.\n\n{}",
                studio.studio_name
            );
            Some(
                mail::queue(
                    tx,
                    settings,
                    Mail {
                        to_contact_id: contact,
                        to: email,
                        subject: format!("{}: your film is ready", studio.studio_name),
                        body,
                        log_summary: summary,
                    },
                )
                .await?,
            )
        }
        _ => None,
    };
    Ok(Made {
        link,
        url,
        outgoing,
    })
}

/// The couple of a project: (contact id, name, email).
async fn couple_of(
    conn: &mut PgConnection,
    project: i32,
) -> AppResult<Option<(i32, String, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT c.id, trim(concat_ws(' ', c.first_name, c.last_name)), c.email
         FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE p.id = $1",
    )
    .bind(project)
    .fetch_optional(conn)
    .await?)
}

/// Revoke a link now (404 when there is none; revoking twice changes nothing).
pub async fn revoke(
    tx: &mut PgConnection,
    clock: &Clock,
    link: i32,
    actor: Option<i32>,
) -> AppResult<i32> {
    let project: Option<i32> = sqlx::query_scalar(
        "UPDATE delivery_links l SET revoked_at = COALESCE(l.revoked_at, $2)
         FROM project_assets a WHERE a.id = l.asset_id AND l.id = $1 RETURNING a.project_id",
    )
    .bind(link)
    .bind(clock.now())
    .fetch_optional(&mut *tx)
    .await?;
    let project = project.ok_or_else(|| AppError::not_found("link"))?;
    crate::audit::record(
        tx,
        actor,
        "projects.delivery.revoke",
        "delivery_link",
        Some(link),
        serde_json::json!({ "project": project }),
    )
    .await?;
    Ok(project)
}

/// A file a live link opens.
#[derive(Debug, sqlx::FromRow)]
pub struct Opened {
    pub link_id: i32,
    pub asset_id: i32,
    pub project_id: i32,
    pub file_name: Option<String>,
    pub storage_path: Option<String>,
    pub sha256: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    pub expires_at: DateTime<Utc>,
}

const OPENED: &str = "SELECT l.id AS link_id, a.id AS asset_id, a.project_id, a.file_name,
        a.storage_path, a.sha256, a.content_type, a.size_bytes, l.expires_at
    FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id";

/// The export a token opens while its link is live (404 otherwise: expired, revoked, unknown,
/// or not an export).
pub async fn by_token(
    conn: &mut PgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Opened> {
    sqlx::query_as(&format!(
        "{OPENED} WHERE l.token_hash = $1 AND l.revoked_at IS NULL AND l.expires_at > $2
           AND a.asset_type = 'Export'"
    ))
    .bind(crypto::token_hash(token))
    .bind(now)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("download link"))
}

/// The client's live links to exports, newest first.
pub async fn for_client(
    conn: &mut PgConnection,
    client: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<Opened>> {
    Ok(sqlx::query_as(&format!(
        "{OPENED} JOIN projects p ON p.id = a.project_id
         WHERE p.client_id = $1 AND l.revoked_at IS NULL AND l.expires_at > $2
           AND a.asset_type = 'Export' ORDER BY l.id DESC LIMIT 100"
    ))
    .bind(client)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// One of the client's live links (404 when it is not theirs, not live, or not an export).
pub async fn for_client_one(
    conn: &mut PgConnection,
    client: i32,
    link: i32,
    now: DateTime<Utc>,
) -> AppResult<Opened> {
    sqlx::query_as(&format!(
        "{OPENED} JOIN projects p ON p.id = a.project_id
         WHERE l.id = $3 AND p.client_id = $1 AND l.revoked_at IS NULL AND l.expires_at > $2
           AND a.asset_type = 'Export'"
    ))
    .bind(client)
    .bind(now)
    .bind(link)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("film"))
}

#[derive(sqlx::FromRow)]
struct Due {
    id: i32,
    expires_at: DateTime<Utc>,
    file_name: Option<String>,
    contact_id: i32,
    couple: String,
    email: Option<String>,
}

/// The nightly reminders: each live link expiring within `delivery_reminder_days` and not yet
/// reminded is marked reminded and its couple emailed, in one transaction per link (so a link
/// is reminded once however often the run goes).
pub async fn remind_expiring(
    conn: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
) -> AppResult<Vec<Outgoing>> {
    let days = self::settings(conn).await?.delivery_reminder_days;
    if days == 0 {
        return Ok(vec![]);
    }
    let now = clock.now();
    let studio = Studio::load(conn).await?;
    let due: Vec<Due> = sqlx::query_as(
        "SELECT l.id, l.expires_at, a.file_name, c.id AS contact_id,
                trim(concat_ws(' ', c.first_name, c.last_name)) AS couple, c.email
         FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id
         JOIN projects p ON p.id = a.project_id JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id
         WHERE l.revoked_at IS NULL AND l.reminded_at IS NULL
           AND l.expires_at > $1 AND l.expires_at <= $1 + make_interval(days => $2)
         ORDER BY l.expires_at LIMIT 1000",
    )
    .bind(now)
    .bind(days)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for d in due {
        let sent = crate::db::transaction(conn, async |tx| {
            let taken: Option<i32> = sqlx::query_scalar(
                "UPDATE delivery_links SET reminded_at = $2
                 WHERE id = $1 AND reminded_at IS NULL RETURNING id",
            )
            .bind(d.id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let (Some(_), Some(email)) = (taken, d.email.clone()) else {
                return Ok(None);
            };
            let film = d.file_name.clone().unwrap_or_else(|| "Your film".into());
            let body = format!(
                "Dear {},\n\nA reminder: the download link for {film} works until {}. \
                 Download it in your portal before then: {}/portal\n\nWith love,\n{}",
                d.couple,
                studio.day(&d.expires_at),
                settings.base_url(),
                studio.studio_name
            );
            crate::audit::record(
                tx,
                None,
                "projects.delivery.reminder",
                "delivery_link",
                Some(d.id),
                serde_json::json!({ "expires": d.expires_at, "to": email }),
            )
            .await?;
            Ok(Some(
                mail::queue(
                    tx,
                    settings,
                    Mail {
                        to_contact_id: d.contact_id,
                        to: email,
                        subject: format!(
                            "{}: your download link expires on {}",
                            studio.studio_name,
                            studio.day(&d.expires_at)
                        ),
                        body: body.clone(),
                        log_summary: body,
                    },
                )
                .await?,
            ))
        })
        .await?;
        out.extend(sent);
    }
    Ok(out)
}

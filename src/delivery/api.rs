//! The JSON API of delivery: resumable uploads (tus 1.0: creation, offset, PATCH, termination),
//! a project's assets, download links (make, revoke) and expenses.
use super::assets::{self, Asset};
use super::expenses::{self, Expense, NewExpense};
use super::links;
use super::uploads::{self, NewUpload};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, AppResult, AppState};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let work = Access::Perm(Permission::TasksWork);
    let view = Access::Perm(Permission::ProjectsView);
    let manage = Access::Perm(Permission::TasksManage);
    let money = Access::Perm(Permission::InvoicesManage);
    Routes::new()
        .api(work, routes!(create_upload))
        .api(work, routes!(upload_offset, append, terminate))
        .api(view, routes!(project_assets))
        .api(manage, routes!(create_link))
        .api(manage, routes!(revoke_link))
        .api(money, routes!(list_expenses, create_expense))
}

pub const TUS_VERSION: &str = "1.0.0";

/// The one tus version spoken (the `Tus-Resumable` header).
#[derive(ToSchema)]
pub enum TusVersion {
    #[schema(rename = "1.0.0")]
    V1,
}

fn tus(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::BadRequest {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    }
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// tus's `Upload-Metadata`: comma-separated `key base64value` pairs. A value that is not base64
/// of UTF-8 is a 422 naming the header, like every other problem with what it says.
pub fn metadata(raw: Option<&str>) -> AppResult<Vec<(String, String)>> {
    let mut out = vec![];
    for pair in raw
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let mut parts = pair.trim().splitn(2, ' ');
        let key = parts.next().unwrap_or("").to_string();
        let value = match parts.next() {
            Some(v) => base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    let key: String = key.chars().take(40).collect();
                    AppError::field("Upload-Metadata", format!("{key:?} is not base64 of UTF-8"))
                })?,
            None => String::new(),
        };
        out.push((key, value));
    }
    Ok(out)
}

fn uuid_of(s: &str) -> AppResult<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|_| AppError::not_found("upload"))
}

/// Start a resumable upload of an asset (tus creation). `Upload-Length` gives its size;
/// `Upload-Metadata` its `filename`, `asset_type` (Raw Footage, Audio File, Project File,
/// Export), optional `scene` (a coverage scene id) and `filetype`. The answer's `Location` is
/// where to PATCH the bytes.
#[utoipa::path(post, path = "/api/v1/projects/{id}/uploads", tag = "delivery",
    params(("id" = i32, Path, description = "The project"),
        ("Tus-Resumable" = inline(TusVersion), Header, description = "The tus version: 1.0.0"),
        ("Upload-Length" = i64, Header, minimum = 1, maximum = 1_099_511_627_776.0,
         description = "The file's size in bytes"),
        ("Upload-Metadata" = Option<String>, Header,
         description = "filename, asset_type, scene, filetype: each `key base64(value)`")),
    responses((status = 201, description = "Created", headers(
        ("Location" = String, description = "The upload's address"),
        ("Tus-Resumable" = String, description = "1.0.0"))),
        (status = 412, description = "Another tus version", body = crate::http::error::Problem)))]
async fn create_upload(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if header_str(&headers, "tus-resumable").is_some_and(|v| v != TUS_VERSION) {
        return Err(AppError::BadRequest {
            status: StatusCode::PRECONDITION_FAILED,
            message: "only tus 1.0.0 is spoken here".into(),
        });
    }
    let length = header_str(&headers, "upload-length")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .ok_or_else(|| bad("Upload-Length: give the file's size in bytes"))?;
    let meta = metadata(header_str(&headers, "upload-metadata"))?;
    let get = |k: &str| {
        meta.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let scene = match get("scene").filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(s) => Some(
            s.trim()
                .parse::<i32>()
                .map_err(|_| AppError::field("scene", "a coverage scene's id"))?,
        ),
    };
    let new = NewUpload {
        project: id,
        scene,
        asset_type: get("asset_type").unwrap_or_default(),
        file_name: get("filename").unwrap_or_default(),
        content_type: get("filetype"),
        length,
    };
    let now = state.clock.now();
    let dir = &state.settings.data_dir;
    let mut tx = db.begin().await?;
    let upload = uploads::create(&mut tx, dir, &new, Some(staff.contributor_id), now).await?;
    tx.commit().await?;
    let location = format!("/api/v1/uploads/{upload}");
    Ok(tus(
        (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
    ))
}

/// Where an upload stands (tus HEAD, answered to GET too): `Upload-Offset` and
/// `Upload-Length`; `Asset-Id` once it is complete.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "delivery",
    params(("id" = String, Path, description = "The upload (a UUID)")),
    responses((status = 200, description = "Where it stands", headers(
        ("Upload-Offset" = i64, description = "Bytes received"),
        ("Upload-Length" = i64, description = "The file's size"),
        ("Asset-Id" = Option<i32>, description = "The asset, once complete")))))]
async fn upload_offset(mut db: Db, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    let s = uploads::status(&mut db, uuid_of(&id)?).await?;
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    h.insert("upload-offset", HeaderValue::from(s.upload_offset));
    h.insert("upload-length", HeaderValue::from(s.upload_length));
    if let Some(a) = s.asset_id {
        h.insert("asset-id", HeaderValue::from(a));
    }
    Ok(tus(resp))
}

/// Append bytes at `Upload-Offset` (tus PATCH), as `application/offset+octet-stream`; a chunk
/// at most the server's body limit. 409 when the offset is not the server's (ask it again).
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "delivery",
    params(("id" = String, Path, description = "The upload (a UUID)"),
        ("Upload-Offset" = i64, Header, minimum = 0, description = "Where these bytes go")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "Appended", headers(
        ("Upload-Offset" = i64, description = "The new offset"),
        ("Asset-Id" = Option<i32>, description = "The asset, when this was the last byte")))))]
async fn append(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    if header_str(&headers, header::CONTENT_TYPE.as_str())
        != Some("application/offset+octet-stream")
    {
        return Err(AppError::BadRequest {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "send the bytes as application/offset+octet-stream".into(),
        });
    }
    let id = uuid_of(&id)?;
    let offset = header_str(&headers, "upload-offset")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|o| *o >= 0)
        .ok_or_else(|| bad("Upload-Offset: give the offset in bytes"))?;
    let now = state.clock.now();
    let mut tx = db.begin().await?;
    let stream = body.into_data_stream();
    let done = uploads::append(
        &mut tx,
        &state.storage,
        id,
        offset,
        stream,
        Some(staff.contributor_id),
        now,
    )
    .await?;
    tx.commit().await?;
    if let Some(key) = done.key.clone().filter(|_| state.storage.is_s3()) {
        // The bucket gets the finished file after the answer: a film of gigabytes takes longer
        // than a request may. It is served from the disk meanwhile.
        let storage = state.storage.clone();
        tokio::spawn(async move {
            if let Err(e) = storage.push(id, &key).await {
                tracing::error!(upload = %id, key, "pushing the asset to S3: {e:#}");
            }
        });
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert("upload-offset", HeaderValue::from(done.offset));
    if let Some(a) = done.asset {
        h.insert("asset-id", HeaderValue::from(a));
    }
    Ok(tus(resp))
}

/// Give up an unfinished upload (tus termination): its bytes are deleted.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "delivery",
    params(("id" = String, Path, description = "The upload (a UUID)")),
    responses((status = 204, description = "Gone")))]
async fn terminate(
    State(state): State<AppState>,
    mut db: Db,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = uuid_of(&id)?;
    let mut tx = db.begin().await?;
    uploads::terminate(&mut tx, &state.settings.data_dir, id).await?;
    tx.commit().await?;
    Ok(tus(StatusCode::NO_CONTENT.into_response()))
}

/// A project's assets, exports first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/assets", tag = "delivery",
    params(("id" = i32, Path, description = "The project")),
    responses((status = 200, body = Vec<Asset>)))]
async fn project_assets(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<Vec<Asset>>> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)")
        .bind(id)
        .fetch_one(&mut *db)
        .await?;
    if !exists {
        return Err(AppError::not_found("project"));
    }
    Ok(Json(assets::of_project(&mut db, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MadeLink {
    pub id: i32,
    /// The couple's link (shown only now: the server keeps its hash).
    pub url: String,
}

/// Share an export with the couple: a download link, emailed to them (409 for anything but an
/// export).
#[utoipa::path(post, path = "/api/v1/assets/{id}/links", tag = "delivery",
    params(("id" = i32, Path, description = "The asset (an export)")),
    responses((status = 201, body = MadeLink)))]
async fn create_link(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    let made = links::create(
        &mut tx,
        &state.settings,
        &state.clock,
        id,
        Some(staff.contributor_id),
    )
    .await?;
    tx.commit().await?;
    if let Some(m) = made.outgoing {
        m.send(&state.db, &state.clock);
    }
    let body = MadeLink {
        id: made.link,
        url: made.url,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revoke a download link: it stops working at once.
#[utoipa::path(post, path = "/api/v1/delivery-links/{id}/revoke", tag = "delivery",
    params(("id" = i32, Path, description = "The link")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_link(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<StatusCode> {
    let mut tx = db.begin().await?;
    links::revoke(&mut tx, &state.clock, id, Some(staff.contributor_id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's expenses, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/expenses", tag = "delivery",
    params(("id" = i32, Path, description = "The project")),
    responses((status = 200, body = Vec<Expense>)))]
async fn list_expenses(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<Vec<Expense>>> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)")
        .bind(id)
        .fetch_one(&mut *db)
        .await?;
    if !exists {
        return Err(AppError::not_found("project"));
    }
    Ok(Json(expenses::of_project(&mut db, id).await?))
}

/// Record an expense of the project (its receipt is uploaded on the project page).
#[utoipa::path(post, path = "/api/v1/projects/{id}/expenses", tag = "delivery",
    params(("id" = i32, Path, description = "The project")),
    request_body = NewExpense,
    responses((status = 201, body = Expense),
        (status = 404, description = "No such project", body = crate::http::error::Problem),
        (status = 422, description = "A field to correct", body = crate::http::error::Problem)))]
async fn create_expense(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(e): ApiJson<NewExpense>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    let now = state.clock.now();
    let dir = &state.settings.data_dir;
    let (expense, _) =
        expenses::create(&mut tx, dir, id, &e, None, staff.contributor_id, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(expense)).into_response())
}

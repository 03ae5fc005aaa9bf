//! How an `AppError` is answered: `application/problem+json` (RFC 9457); the UI layer turns
//! the same answer into a friendly page (see `http::middleware::ui_errors`). Also the
//! extractors whose rejections are problem+json.
pub use crate::error::{AppError, AppResult, FieldError};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// RFC 9457 problem details, with per-field errors when validation failed.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            AppError::Internal(e) => {
                // Logged once here, inside the request's span (which carries the request id);
                // never shown to the user.
                tracing::error!(error = ?e, "internal error");
                "Something went wrong on our side. The error has been logged; please try again."
                    .to_string()
            }
            other => other.to_string(),
        };
        let errors = match &self {
            AppError::Validation { errors, .. } => errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            AppError::UnknownRef { field, message }
            | AppError::FieldConflict { field, message } => vec![ProblemField {
                field: field.clone(),
                message: message.clone(),
            }],
            _ => vec![],
        };
        let problem = Problem {
            kind: format!("https://projectflo.dev/problems/{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut resp = (status, axum::Json(problem)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::RateLimited { retry_after_secs } = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        resp
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        let message = match &r {
            JsonRejection::JsonDataError(e) => format!(
                "the request body has a field of the wrong type or a missing field: {}",
                inner_message(e)
            ),
            JsonRejection::JsonSyntaxError(e) => {
                format!("the request body is not valid JSON: {}", inner_message(e))
            }
            JsonRejection::MissingJsonContentType(_) => {
                "send the body as JSON with Content-Type: application/json".into()
            }
            other => other.body_text(),
        };
        AppError::BadRequest {
            status: r.status(),
            message,
        }
    }
}

/// A path that does not parse (`/api/v1/projects/None`) names nothing: 404, like an id that
/// parses but is not there.
impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest {
            status: StatusCode::NOT_FOUND,
            message: format!("nothing is at this address: {}", r.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            message: format!("invalid query: {}", r.body_text()),
        }
    }
}

/// The innermost error message (serde's own words, e.g. "invalid type: string, expected f64
/// at line 1 column 20").
fn inner_message(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `Json<T>` whose rejection is a problem+json answer.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` whose rejection is a problem+json answer.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` whose rejection is a problem+json answer.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

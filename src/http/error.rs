//! One error type. The API answers `application/problem+json` (RFC 9457); the UI layer turns
//! the same answer into a friendly page (see `http::ui_errors`).
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Validation {
        message: String,
        errors: Vec<FieldError>,
    },
    /// A request the server could not read (malformed JSON, wrong type, bad path parameter).
    #[error("{message}")]
    BadRequest { status: StatusCode, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("you need to log in")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

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

impl AppError {
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Validation {
            message: format!("{field}: {message}"),
            errors: vec![FieldError {
                field: field.into(),
                message,
            }],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { status, .. } => *status,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not-found",
            AppError::Validation { .. } => "validation",
            AppError::BadRequest { .. } => "bad-request",
            AppError::Conflict(_) => "conflict",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::RateLimited { .. } => "rate-limited",
            AppError::Internal(_) => "internal",
        }
    }
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

/// PostgreSQL errors by SQLSTATE: unique/exclusion -> 409, foreign key/check/not-null/data -> 422,
/// no row -> 404, anything else -> 500 (logged, never shown).
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = e {
            return AppError::NotFound("not found".into());
        }
        if let Some(db) = e.as_database_error() {
            let code = db.code().unwrap_or_default();
            let constraint = db.constraint().unwrap_or("").to_string();
            match code.as_ref() {
                "23505" | "23P01" => {
                    return AppError::Conflict(format!(
                        "this conflicts with an existing record ({constraint})"
                    ));
                }
                "23503" => {
                    return AppError::Validation {
                        message: format!(
                            "a referenced record does not exist or is still in use ({constraint})"
                        ),
                        errors: vec![],
                    };
                }
                "23514" | "23502" => {
                    return AppError::Validation {
                        message: format!("a value is not allowed ({})", db.message()),
                        errors: vec![],
                    };
                }
                c if c.starts_with("22") => {
                    return AppError::Validation {
                        message: format!("invalid value: {}", db.message()),
                        errors: vec![],
                    };
                }
                "40001" | "40P01" => {
                    return AppError::Conflict(
                        "another change to the same record happened at the same time; please retry"
                            .into(),
                    );
                }
                _ => {}
            }
        }
        AppError::Internal(e.into())
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

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            message: format!("invalid path: {}", r.body_text()),
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

/// The innermost error message (serde's own words, e.g. "invalid type: string, expected f64 at line 1 column 20").
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

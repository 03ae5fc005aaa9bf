//! One error type for every area, domain code included; `http::error` turns it into a
//! problem+json answer (RFC 9457) and the UI layer into a friendly page.
use axum::http::StatusCode;
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
    /// A record the request names by id in a field (not in its path) does not exist: 404
    /// naming the field, so that a schema-valid id that names nothing is not a 422.
    #[error("{field}: {message}")]
    UnknownRef { field: String, message: String },
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
    /// A well-formed value the record's state refuses (more than is still owed, say): 409
    /// naming the field, so that a schema-valid request is never a 422.
    #[error("{field}: {message}")]
    FieldConflict { field: String, message: String },
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

impl AppError {
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    /// The field's value conflicts with the record's state (409 naming the field).
    pub fn field_conflict(field: &str, message: impl Into<String>) -> Self {
        AppError::FieldConflict {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The record a field names does not exist (404 naming the field).
    pub fn unknown_ref(field: &str, message: impl Into<String>) -> Self {
        AppError::UnknownRef {
            field: field.into(),
            message: message.into(),
        }
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

    /// A 422 naming several fields at once: (field, message).
    pub fn fields(problems: &[(&str, &str)]) -> Self {
        let errors: Vec<FieldError> = problems
            .iter()
            .map(|(f, m)| FieldError {
                field: (*f).into(),
                message: (*m).into(),
            })
            .collect();
        let message = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Validation { message, errors }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) | AppError::UnknownRef { .. } => StatusCode::NOT_FOUND,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { status, .. } => *status,
            AppError::Conflict(_) | AppError::FieldConflict { .. } => StatusCode::CONFLICT,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            AppError::NotFound(_) | AppError::UnknownRef { .. } => "not-found",
            AppError::Validation { .. } => "validation",
            AppError::BadRequest { .. } => "bad-request",
            AppError::Conflict(_) | AppError::FieldConflict { .. } => "conflict",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::RateLimited { .. } => "rate-limited",
            AppError::Internal(_) => "internal",
        }
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

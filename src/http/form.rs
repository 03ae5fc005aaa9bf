//! Refused forms: the one way a page shows a form again with the reason, keeping what was
//! typed. A handler tries the action; on a refusal it renders the same form with the
//! `Refusal` (the message on top, each field's problem by the field) and answers with its
//! status (404 for a field that names no record, 409 or 422). Any other error goes on to the
//! error page.
use crate::error::{AppError, AppResult, FieldError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    /// What to say above the form ("Not saved: ...").
    pub message: Option<String>,
    pub errors: Vec<FieldError>,
}

impl Refusal {
    /// A validation or conflict error becomes a refusal to show; any other error stays one.
    pub fn from_error(e: AppError) -> AppResult<Refusal> {
        let status = e.status();
        let (message, errors) = match e {
            AppError::Validation { message, errors } => (message, errors),
            AppError::Conflict(message) => (message, vec![]),
            AppError::UnknownRef { field, message }
            | AppError::FieldConflict { field, message } => {
                let error = FieldError { field, message };
                (format!("{}: {}", error.field, error.message), vec![error])
            }
            other => return Err(other),
        };
        Ok(Refusal {
            status,
            message: (!message.is_empty()).then_some(message),
            errors,
        })
    }

    /// The problem with one field, if it has one.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    /// The re-rendered form, answered with the refusal's status.
    pub fn respond(&self, page: Response) -> Response {
        (self.status, page).into_response()
    }
}

/// Whether the request came from htmx, which swaps the answer into the page: then a change
/// answers with the updated page itself (feedback and focus in place) rather than a redirect.
#[derive(Debug, Clone, Copy)]
pub struct Htmx(pub bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Htmx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Htmx(parts.headers.contains_key("hx-request")))
    }
}

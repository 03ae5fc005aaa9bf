//! What the accounts forms share, staff and portal alike (and the CRM, for emails): the
//! login and new-password forms, the `?done=` flash query, and what passes for an email
//! address. Where to go after a form is `http::redirect::local_path`.
use crate::crypto;
use crate::error::{AppError, AppResult};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

impl NewPasswordForm {
    /// The password rule and the confirmation; a refusal names the `password` field.
    pub fn check(&self) -> AppResult<()> {
        crypto::check_new_password(&self.password)
            .map_err(|m| AppError::field("password", format!("The password {m}.")))?;
        if self.password != self.confirm {
            return Err(AppError::field(
                "password",
                "The two passwords are not the same.",
            ));
        }
        Ok(())
    }
}

/// `?done=...`: which change a page that was redirected to reports as done.
#[derive(Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    pub done: String,
}

/// A plausible email address (the real check is the email that arrives).
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let parts: Vec<&str> = email.split('@').collect();
    email.len() <= 255
        && !email.contains(char::is_whitespace)
        && parts.len() == 2
        && !parts[0].is_empty()
        && parts[1].contains('.')
        && !parts[1].starts_with('.')
        && !parts[1].ends_with('.')
}

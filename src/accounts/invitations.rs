//! Inviting a colleague: a staff login with no password yet, and a link, valid 7 days, to
//! choose one. The email may be a contact's already, but not a client's or a lead's, and not
//! someone on the team.
use super::forms::valid_email;
use super::links::{self, Owner};
use super::roles;
use crate::auth::Staff;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::{audit, mail};
use serde::Deserialize;
use sqlx::PgConnection;

#[derive(Deserialize, Default, Clone)]
pub struct InviteForm {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role_id: i32,
}

impl InviteForm {
    /// The names and the email; returns the email, trimmed.
    fn check(&self) -> AppResult<String> {
        if self.first_name.trim().is_empty() || self.first_name.len() > 255 {
            return Err(AppError::field("first_name", "Enter the first name."));
        }
        if self.last_name.len() > 255 {
            return Err(AppError::field("last_name", "The last name is too long."));
        }
        let email = self.email.trim().to_string();
        if !valid_email(&email) {
            return Err(AppError::field(
                "email",
                "Enter an email address like name@studio.com.",
            ));
        }
        Ok(email)
    }
}

/// A sent invitation.
pub struct Invited {
    pub email: String,
    pub role: String,
    pub link: String,
    /// The email, to send after the commit.
    pub outgoing: mail::Outgoing,
}

/// The contact an email belongs to, if any.
#[derive(sqlx::FromRow)]
struct Existing {
    id: i32,
    kind: String,
    on_team: bool,
}

/// The contact to invite: the email's own (locked) if it is a contributor's not yet on the
/// team, else a new one. 409 for a teammate, a client or a lead.
async fn contact_for(tx: &mut PgConnection, email: &str, form: &InviteForm) -> AppResult<i32> {
    let existing: Option<Existing> = sqlx::query_as(
        "SELECT c.id, c.type::text AS kind,
                EXISTS (SELECT 1 FROM contributors co WHERE co.contact_id = c.id) AS on_team
         FROM contacts c WHERE lower(c.email) = lower($1) FOR UPDATE",
    )
    .bind(email)
    .fetch_optional(&mut *tx)
    .await?;
    match existing {
        Some(c) if c.on_team => Err(AppError::Conflict(
            "This person is already on the team.".into(),
        )),
        Some(c) if c.kind != "Contributor" => Err(AppError::Conflict(
            "This email belongs to a client or lead; use another address for the staff login."
                .into(),
        )),
        Some(c) => Ok(c.id),
        None => Ok(sqlx::query_scalar(
            "INSERT INTO contacts (first_name, last_name, email, type)
             VALUES ($1, NULLIF($2, ''), $3, 'Contributor') RETURNING id",
        )
        .bind(form.first_name.trim())
        .bind(form.last_name.trim())
        .bind(email)
        .fetch_one(&mut *tx)
        .await?),
    }
}

/// A contributor with a staff login that has no password yet.
async fn create_login(tx: &mut PgConnection, contact_id: i32, role_id: i32) -> AppResult<i32> {
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO contributors (contact_id, role_id, contributor_type)
         VALUES ($1, $2, 'Internal') RETURNING id",
    )
    .bind(contact_id)
    .bind(role_id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO staff_credentials (contributor_id) VALUES ($1)")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(id)
}

/// Invite a colleague by `by`: the login, the link and its email (queued), the audit entry.
/// A refusal names its field (422), or is a conflict about the email (409).
pub async fn invite(
    tx: &mut PgConnection,
    settings: &Settings,
    by: &Staff,
    form: &InviteForm,
) -> AppResult<Invited> {
    let email = form.check()?;
    let role = roles::names(tx)
        .await?
        .into_iter()
        .find(|r| r.0 == form.role_id)
        .map(|r| r.1)
        .ok_or_else(|| AppError::field("role_id", "Choose a role."))?;
    let contact_id = contact_for(tx, &email, form).await?;
    let contributor_id = create_login(tx, contact_id, form.role_id).await?;
    let token = links::issue(tx, "staff_invite", Owner::Staff, contributor_id, 7 * 24).await?;
    let link = format!("{}/set-password/{token}", settings.base_url());
    let mail = mail::Mail {
        to_contact_id: contact_id,
        to: email.clone(),
        subject: format!("{} invited you to ProjectFlo", by.name),
        body: format!(
            "{} invited you to ProjectFlo. Choose your password within 7 days here:\n\n{link}",
            by.name
        ),
        log_summary: "Invitation link sent (valid 7 days).".into(),
    };
    let outgoing = mail::queue(tx, settings, mail).await?;
    audit::record(
        tx,
        Some(by.contributor_id),
        "users.invite",
        "contributor",
        Some(contributor_id),
        serde_json::json!({ "after": { "email": email, "role": role } }),
    )
    .await?;
    Ok(Invited {
        email,
        role,
        link,
        outgoing,
    })
}

//! A new inquiry, from the public form or entered by staff: checking what was typed, then the
//! contact, the inquiry, its follow-up to-do and the owners' notification, in one transaction;
//! and the public form's per-address limit.
use crate::config::Settings;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::json;
use crate::notify::{self, Kind, Mails};
use crate::{audit, dates};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

/// How couples hear of the studio (the choices of both forms).
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

/// A new inquiry, from the public form or entered by staff. Absent fields are empty; text
/// holds no NUL.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct NewInquiry {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub first_name: String,
    #[serde(default)]
    #[schema(max_length = 255, pattern = r"^[^\x00]*$")]
    pub last_name: String,
    /// name@example.com: a dot-atom before the @ (at most 64 characters), a domain name with
    /// at least one dot after it.
    #[serde(default)]
    #[schema(required = true, schema_with = email_schema)]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 50, pattern = r"^[^\x00]*$")]
    pub phone: String,
    #[serde(default)]
    #[schema(schema_with = wedding_date_schema)]
    pub wedding_date: String,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub venue: String,
    /// How they heard of the studio.
    #[serde(default)]
    #[schema(max_length = 255, pattern = r"^[^\x00]*$")]
    pub lead_source: String,
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"^[^\x00]*$")]
    pub message: String,
    /// UTM parameters of the page the form was on, e.g. utm_source=instagram&utm_campaign=x.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub lead_source_details: String,
    #[serde(default)]
    #[schema(max_length = 255, pattern = r"^[^\x00]*$")]
    pub campaign_id: String,
}

fn email_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Email,
        )))
        .max_length(Some(255))
        .pattern(Some(EMAIL_PATTERN))
        .build()
}

fn wedding_date_schema() -> utoipa::openapi::schema::Schema {
    json::or_empty(
        json::date(),
        "YYYY-MM-DD, years 1900 to 2199; empty: not known yet.",
    )
}

/// An email address a couple can be written to, as JSON Schema's `format: email` reads it (so
/// that the document and the server agree): `atext` runs joined by single dots, at most 64
/// characters, then @ and two or more host labels (letters, digits, inner hyphens, not `--`
/// as their third and fourth characters, which is reserved for punycode).
pub const EMAIL_PATTERN: &str = concat!(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@",
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]?[A-Za-z0-9])?|[A-Za-z0-9][A-Za-z0-9-](?:[A-Za-z0-9]",
    r"[A-Za-z0-9-]{0,59}[A-Za-z0-9]|-[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?))",
    r"(?:\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]?[A-Za-z0-9])?|[A-Za-z0-9][A-Za-z0-9-](?:[A-Za-z0-9]",
    r"[A-Za-z0-9-]{0,59}[A-Za-z0-9]|-[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?)))+$",
);

/// `EMAIL_PATTERN`, with the 64 characters before the @ and 255 in all.
pub fn valid_email(email: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.get(2..4) != Some("--")
    };
    let Some((local, domain)) = email.trim().split_once('@') else {
        return false;
    };
    email.trim().chars().count() <= 255
        && local.len() <= 64
        && local
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(atext))
        && domain.contains('.')
        && domain.split('.').all(label)
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl NewInquiry {
    /// Every problem, each by its field; Ok is the wedding date, if one was given.
    pub fn check(&self) -> Result<Option<NaiveDate>, Vec<FieldError>> {
        let mut e = vec![];
        let mut bad = |f: &str, m: &str| {
            e.push(FieldError {
                field: f.into(),
                message: m.into(),
            })
        };
        if self.first_name.trim().is_empty() {
            bad("first_name", "Please tell us your first name.");
        }
        for (f, v, max) in [
            ("first_name", &self.first_name, 255),
            ("last_name", &self.last_name, 255),
            ("phone", &self.phone, 50),
            ("lead_source", &self.lead_source, 255),
            ("campaign_id", &self.campaign_id, 255),
        ] {
            if v.trim().chars().count() > max {
                bad(f, &format!("Please keep this under {max} characters."));
            }
        }
        if !valid_email(&self.email) {
            bad(
                "email",
                "Please enter an email address like name@example.com.",
            );
        }
        let date = opt(&self.wedding_date).and_then(|d| {
            dates::parse(&d)
                .map_err(|m| bad("wedding_date", &format!("{m}.")))
                .ok()
        });
        if self.message.chars().count() > 5000
            || self.venue.chars().count() > 2000
            || self.lead_source_details.chars().count() > 2000
        {
            bad("message", "Please keep the message under 5000 characters.");
        }
        if e.is_empty() { Ok(date) } else { Err(e) }
    }
}

/// The 422 of a form's problems.
pub fn invalid(errors: Vec<FieldError>) -> AppError {
    let message = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join(" ");
    AppError::Validation { message, errors }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub inquiry_id: i32,
    pub contact_id: i32,
    /// The email was already known: the inquiry is linked to the same contact and flagged.
    pub returning: bool,
    pub assigned_to_contributor_id: i32,
}

/// The couple's contact, found by email or new.
struct Couple {
    id: i32,
    /// They have asked before.
    returning: bool,
    /// "First Last", as far as known.
    name: String,
}

/// Create an inquiry as decisions.md says, in the caller's transaction: contact reused by email
/// (case-insensitive, type Client Lead when new), the inquiry, a To-Do "Follow up with <name>"
/// due on the follow-up date (default: the studio's tomorrow) assigned round-robin among Sales
/// (fallback: Owner), and a notification to the owner(s) (with the emails to send after the
/// commit when the studio emails the owner about new leads).
pub async fn create_inquiry(
    tx: &mut PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    new: &NewInquiry,
    actor: Option<i32>,
) -> AppResult<(Created, Mails)> {
    let wedding_date = new.check().map_err(invalid)?;
    let couple = find_or_add_couple(tx, new).await?;
    let follow_up: NaiveDate = sqlx::query_scalar(
        "SELECT ($1::timestamptz AT TIME ZONE time_zone)::date + 1 FROM studio_settings",
    )
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let inquiry_id = insert_inquiry(tx, new, &couple, wedding_date, follow_up, actor, now).await?;
    let assignee = next_sales(tx).await?;
    add_follow_up(tx, assignee, &couple, inquiry_id, follow_up).await?;
    let mails = notify_owners(tx, settings, now, &couple, wedding_date, inquiry_id).await?;
    let after = serde_json::json!({
        "email": new.email.trim(), "contact_id": couple.id, "returning": couple.returning,
        "assigned_to": assignee, "source": new.lead_source.trim(),
    });
    let details = serde_json::json!({ "after": after });
    audit::record(
        tx,
        actor,
        "leads.inquiry.create",
        "inquiry",
        Some(inquiry_id),
        details,
    )
    .await?;
    let created = Created {
        inquiry_id,
        contact_id: couple.id,
        returning: couple.returning,
        assigned_to_contributor_id: assignee,
    };
    Ok((created, mails))
}

/// The contact with this email (one per email, even when twenty forms arrive at once), filled
/// in where it lacks what the form says; or a new Client Lead.
async fn find_or_add_couple(tx: &mut PgConnection, new: &NewInquiry) -> AppResult<Couple> {
    let email = new.email.trim();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('contact-email:' || lower($1)))")
        .bind(email)
        .execute(&mut *tx)
        .await?;
    let existing: Option<(i32, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, first_name, last_name FROM contacts WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, returning, first, last) = match existing {
        Some((id, first, last)) => {
            let returning = fill_in_contact(tx, id, new).await?;
            let first = first.or(opt(&new.first_name));
            (id, returning, first, last.or(opt(&new.last_name)))
        }
        None => {
            let id = add_contact(tx, new).await?;
            (id, false, opt(&new.first_name), opt(&new.last_name))
        }
    };
    let name = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Couple {
        id,
        returning,
        name,
    })
}

/// Fill in what a known contact lacks (never overwrite what the studio already has); true when
/// they have asked before.
async fn fill_in_contact(tx: &mut PgConnection, id: i32, new: &NewInquiry) -> AppResult<bool> {
    sqlx::query(
        "UPDATE contacts SET first_name = COALESCE(first_name, $2),
                last_name = COALESCE(last_name, $3),
                phone_number = COALESCE(phone_number, $4), updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(opt(&new.first_name))
    .bind(opt(&new.last_name))
    .bind(opt(&new.phone))
    .execute(&mut *tx)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM inquiries WHERE contact_id = $1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?,
    )
}

async fn add_contact(tx: &mut PgConnection, new: &NewInquiry) -> AppResult<i32> {
    Ok(sqlx::query_scalar(
        "INSERT INTO contacts (first_name, last_name, email, phone_number, type)
         VALUES ($1, $2, $3, $4, 'Client Lead') RETURNING id",
    )
    .bind(opt(&new.first_name))
    .bind(opt(&new.last_name))
    .bind(new.email.trim())
    .bind(opt(&new.phone))
    .fetch_one(&mut *tx)
    .await?)
}

async fn insert_inquiry(
    tx: &mut PgConnection,
    new: &NewInquiry,
    couple: &Couple,
    wedding_date: Option<NaiveDate>,
    follow_up: NaiveDate,
    actor: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<i32> {
    let details = &new.lead_source_details;
    let campaign = opt(&new.campaign_id).or_else(|| utm(details, "utm_campaign"));
    let source = opt(&new.lead_source).or_else(|| utm(details, "utm_source"));
    Ok(sqlx::query_scalar(
        "INSERT INTO inquiries (contact_id, wedding_date, status, notes, venue_details,
                               follow_up_due_date, lead_source, lead_source_details,
                               campaign_id, is_returning, created_by_contributor_id,
                               created_at, updated_at)
         VALUES ($1, $2, 'New', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(couple.id)
    .bind(wedding_date)
    .bind(opt(&new.message))
    .bind(opt(&new.venue))
    .bind(follow_up)
    .bind(source)
    .bind(opt(details))
    .bind(campaign)
    .bind(couple.returning)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?)
}

/// A UTM parameter out of `utm_source=x&utm_campaign=y`.
fn utm(details: &str, key: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(details.trim_start_matches('?'))
        .ok()?
        .into_iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.chars().take(255).collect())
}

/// The next active Sales person after the last one given a lead (fallback: an Owner).
async fn next_sales(tx: &mut PgConnection) -> AppResult<i32> {
    let last: Option<i32> = sqlx::query_scalar(
        "SELECT last_contributor_id FROM round_robin WHERE pool = 'sales' FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await?;
    let pool: Vec<i32> = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         WHERE r.name = 'Sales' ORDER BY co.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let chosen = match pool.iter().find(|id| Some(**id) > last).or(pool.first()) {
        Some(id) => *id,
        None => first_owner(tx).await?,
    };
    sqlx::query("UPDATE round_robin SET last_contributor_id = $1 WHERE pool = 'sales'")
        .bind(chosen)
        .execute(&mut *tx)
        .await?;
    Ok(chosen)
}

/// The first Owner (409 when the studio has none).
async fn first_owner(tx: &mut PgConnection) -> AppResult<i32> {
    sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id
         WHERE r.name = 'Owner' ORDER BY co.id LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        AppError::Conflict(
            "the studio has no Sales person or Owner to follow up leads; \
             add one in Settings > Users"
                .into(),
        )
    })
}

/// The To-Do "Follow up with <name>" (cut to 255 characters), due on the follow-up date, marked
/// as the inquiry's follow-up (closed when the lead moves to Contacted).
async fn add_follow_up(
    tx: &mut PgConnection,
    assignee: i32,
    couple: &Couple,
    inquiry: i32,
    due: NaiveDate,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO activities (assigned_to_contributor_id, contact_id, inquiry_id, due_date,
                                 activity_type, title, is_follow_up)
         VALUES ($1, $2, $3, $4, 'To-Do', $5, true)",
    )
    .bind(assignee)
    .bind(couple.id)
    .bind(inquiry)
    .bind(due)
    // The title is at most 255 characters (VARCHAR(255)); a long name is cut.
    .bind(
        format!("Follow up with {}", couple.name)
            .chars()
            .take(255)
            .collect::<String>(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Tell every active Owner: "New inquiry from <name> (wedding <date>)." with a link.
async fn notify_owners(
    tx: &mut PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    couple: &Couple,
    wedding_date: Option<NaiveDate>,
    inquiry: i32,
) -> AppResult<Mails> {
    let when = wedding_date
        .map(|d| format!(" (wedding {})", d.format("%b %-d, %Y")))
        .unwrap_or_default();
    let again = if couple.returning {
        " They have asked before."
    } else {
        ""
    };
    let message = format!("New inquiry from {}{when}.{again}", couple.name);
    let link = format!("/leads/{inquiry}");
    notify::staff(
        tx,
        settings,
        now,
        Kind::NewLead,
        &["Owner"],
        &message,
        &link,
    )
    .await
}

/// Count a public form submission from `ip`, refusing (429) past `per_hour` in the last hour.
/// Counted under a lock, so that a burst cannot slip past the limit.
pub async fn admit_submission(tx: &mut PgConnection, ip: &str, per_hour: i64) -> AppResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('lead-form:' || $1))")
        .bind(ip)
        .execute(&mut *tx)
        .await?;
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM lead_form_submissions
         WHERE ip = $1 AND submitted_at > now() - interval '1 hour'",
    )
    .bind(ip)
    .fetch_one(&mut *tx)
    .await?;
    if recent >= per_hour {
        return Err(AppError::RateLimited {
            retry_after_secs: 3600,
        });
    }
    sqlx::query("INSERT INTO lead_form_submissions (ip) VALUES ($1)")
        .bind(ip)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

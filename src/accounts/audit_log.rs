//! Settings > Audit log: every change, who made it and when, filtered by person, record and
//! dates (plausible ones: `crate::dates`), 50 to a page, newest first, by keyset.
use crate::auth::{Access, Permission, Staff};
use crate::dates;
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::page;
use askama::Template;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new().get(
        "/settings/audit",
        Access::Perm(Permission::SettingsManage),
        audit_log,
    )
}

/// The filters as sent: empty ones are no filter.
#[derive(Deserialize, Default)]
pub struct AuditFilter {
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Where the page starts: the cursor of the previous page's last entry.
    #[serde(default)]
    pub after: Option<String>,
}

/// The filters read.
#[derive(Default)]
pub struct Checked {
    pub person: Option<i32>,
    pub entity: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<page::After>,
}

impl AuditFilter {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// The filters read, or each one's problem by its field.
    pub fn checked(&self) -> Result<Checked, Vec<FieldError>> {
        let mut errors = vec![];
        let mut date = |field: &str, v: &Option<String>| {
            let parsed = Self::given(v).map(dates::parse).transpose();
            parsed.unwrap_or_else(|message| {
                errors.push(FieldError {
                    field: field.into(),
                    message,
                });
                None
            })
        };
        let (from, to) = (date("from", &self.from), date("to", &self.to));
        let person = Self::given(&self.person).map(str::parse).transpose();
        let person = person.unwrap_or_else(|_| {
            errors.push(FieldError {
                field: "person".into(),
                message: "choose a person from the list".into(),
            });
            None
        });
        let entity = self.entity.clone();
        let after = page::After::parse(self.after.as_deref()).unwrap_or_else(|_| {
            errors.push(FieldError {
                field: "after".into(),
                message: "that page is not there any more; start from the newest".into(),
            });
            None
        });
        let checked = Checked {
            person,
            entity,
            from,
            to,
            after,
        };
        if errors.is_empty() {
            Ok(checked)
        } else {
            Err(errors)
        }
    }

    /// The filters as a query string, for the links to the next and previous pages.
    fn query_base(&self) -> String {
        let text = |v: &Option<String>| Self::given(v).unwrap_or_default().to_string();
        serde_urlencoded::to_string([
            ("person", text(&self.person)),
            ("entity", self.entity.clone()),
            ("from", text(&self.from)),
            ("to", text(&self.to)),
        ])
        .unwrap_or_default()
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub id: i32,
    pub at: DateTime<Utc>,
    pub who: Option<String>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    pub details: Option<serde_json::Value>,
}

impl AuditRow {
    pub fn details_text(&self) -> String {
        self.details
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<AuditRow>,
    people: Vec<(i32, String)>,
    entities: Vec<String>,
    person: Option<i32>,
    entity: String,
    from: String,
    to: String,
    /// Whether this is a later page (then a link back to the newest).
    later: bool,
    /// The next (older) page's cursor, when there is one.
    next: Option<String>,
    query_base: String,
    /// Each filter's problem, by its field.
    errors: Vec<FieldError>,
}

impl AuditPage {
    fn person_is(&self, id: &i32) -> bool {
        self.person == Some(*id)
    }

    fn error(&self, field: &str) -> Option<&str> {
        let e = self.errors.iter().find(|e| e.field == field);
        e.map(|e| e.message.as_str())
    }

    /// (field, label, value) of the date inputs.
    fn dates(&self) -> [(&'static str, &'static str, &str); 2] {
        [("from", "From", &self.from), ("to", "To", &self.to)]
    }
}

/// One page of the entries that match the filter, newest first, from the filter's cursor on;
/// the next page's cursor when more follow. The dates are the studio's local days.
pub async fn entries(
    conn: &mut PgConnection,
    f: &Checked,
    time_zone: &str,
) -> AppResult<(Vec<AuditRow>, Option<page::After>)> {
    let from = f.from.map(|d| dates::start_of_day(d, time_zone));
    let before =
        f.to.map(|d| dates::start_of_day(d + Days::new(1), time_zone));
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.id, a.\"timestamp\" AS at, trim(concat_ws(' ', c.first_name, c.last_name)) AS who,
                a.action, a.entity_type, a.entity_id, a.details
         FROM audit_log a LEFT JOIN contributors co ON co.id = a.contributor_id
         LEFT JOIN contacts c ON c.id = co.contact_id
         WHERE ($1::int IS NULL OR a.contributor_id = $1)
           AND ($2 = '' OR a.entity_type = $2)
           AND ($3::timestamptz IS NULL OR a.\"timestamp\" >= $3)
           AND ($4::timestamptz IS NULL OR a.\"timestamp\" < $4)
           AND (a.\"timestamp\", a.id)
               < (COALESCE($5::timestamptz, 'infinity'), COALESCE($6::int, 2147483647))
         ORDER BY a.\"timestamp\" DESC, a.id DESC LIMIT $7",
    )
    .bind(f.person)
    .bind(&f.entity)
    .bind(from)
    .bind(before)
    .bind(f.after.map(|a| a.at))
    .bind(f.after.map(|a| a.id))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |r| page::After { at: r.at, id: r.id }))
}

/// Everyone who can appear in the log: (contributor id, name), by name.
async fn people(conn: &mut PgConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM contributors co JOIN contacts c ON c.id = co.contact_id ORDER BY 2",
    )
    .fetch_all(conn)
    .await?)
}

/// The kinds of record the log names.
async fn entity_types(conn: &mut PgConnection) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT entity_type FROM audit_log WHERE entity_type IS NOT NULL ORDER BY 1",
    )
    .fetch_all(conn)
    .await?)
}

/// The log, filtered; a filter that cannot be read is shown by its field (422), with no rows.
async fn audit_log(
    mut db: Db,
    staff: Staff,
    q: Result<Query<AuditFilter>, QueryRejection>,
) -> AppResult<Response> {
    let Query(f) = q.map_err(|_| AppError::field("filters", "choose filters from the form"))?;
    let layout = Layout::load(&mut db, &staff, "Audit log", "/settings").await?;
    let mut conn = db;
    let (checked, errors) = match f.checked() {
        Ok(c) => (c, vec![]),
        Err(errors) => (Checked::default(), errors),
    };
    let (rows, next) = match errors.is_empty() {
        true => entries(&mut conn, &checked, &layout.settings.time_zone).await?,
        false => (vec![], None),
    };
    let status = match errors.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let html = render(&AuditPage {
        layout,
        rows,
        people: people(&mut conn).await?,
        entities: entity_types(&mut conn).await?,
        person: checked.person,
        query_base: f.query_base(),
        from: text(&f.from),
        to: text(&f.to),
        entity: f.entity,
        later: checked.after.is_some(),
        next: next.map(|n| n.cursor()),
        errors,
    });
    Ok((status, html).into_response())
}

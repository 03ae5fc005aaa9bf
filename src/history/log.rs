//! Settings > Audit log: every change, who made it and when, filtered by person, record and
//! dates (plausible ones: `crate::dates`), 50 to a page, newest first, by keyset.
use super::words::{self as audit_words, AuditRow, Entry};
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
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use sqlx::{PgConnection, Postgres, QueryBuilder};

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

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<Entry>,
    people: Vec<(i32, String)>,
    /// (kind of record, its label)
    entities: Vec<(String, String)>,
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

/// One page of the entries that match the filter, newest first, from the filter's cursor on,
/// each with the names of its record and of what its details point at (one query: the page's
/// rows by the (timestamp, id) index, then a few lookups by primary key for those rows only);
/// the next page's cursor when more follow. The dates are the studio's local days. Only the
/// filters that are set are in the query, so each combination has its own plan.
pub async fn entries(
    conn: &mut PgConnection,
    f: &Checked,
    time_zone: &str,
) -> AppResult<(Vec<AuditRow>, Option<page::After>)> {
    let rows: Vec<AuditRow> = query(f, time_zone).build_query_as().fetch_all(conn).await?;
    Ok(page::split(rows, |r| page::After { at: r.at, id: r.id }))
}

/// The query `entries` runs. Without filters its parameters are the cursor's time and id
/// and the number of rows.
pub fn query(f: &Checked, time_zone: &str) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::new(
        "SELECT p.id, p.at, p.action, p.entity_type, p.entity_id, p.details,
                CASE WHEN co.id IS NOT NULL
                     THEN trim(concat_ws(' ', c.first_name, c.last_name)) END AS who,
                r.name AS record_name, r.link AS record_link, n.names
         FROM (SELECT a.id, a.\"timestamp\" AS at, a.contributor_id, a.action, a.entity_type,
                      a.entity_id, a.details
               FROM audit_log a WHERE (a.\"timestamp\", a.id) < (COALESCE(",
    );
    qb.push_bind(f.after.map(|a| a.at))
        .push("::timestamptz, 'infinity'), ")
        .push_bind(f.after.map_or(i32::MAX, |a| a.id))
        .push(")");
    if let Some(person) = f.person {
        qb.push(" AND a.contributor_id = ").push_bind(person);
    }
    if !f.entity.is_empty() {
        qb.push(" AND a.entity_type = ").push_bind(f.entity.clone());
    }
    if let Some(from) = f.from {
        let start = dates::start_of_day(from, time_zone);
        qb.push(" AND a.\"timestamp\" >= ").push_bind(start);
    }
    if let Some(to) = f.to {
        let end = dates::start_of_day(to + Days::new(1), time_zone);
        qb.push(" AND a.\"timestamp\" < ").push_bind(end);
    }
    qb.push(" ORDER BY a.\"timestamp\" DESC, a.id DESC LIMIT ")
        .push_bind(page::SIZE + 1)
        .push(format!(
            ") p
             LEFT JOIN contributors co ON co.id = p.contributor_id
             LEFT JOIN contacts c ON c.id = co.contact_id
             LEFT JOIN LATERAL ({}) r ON true
             LEFT JOIN LATERAL ({}) n ON true
             ORDER BY p.at DESC, p.id DESC",
            audit_words::record_sql(),
            audit_words::names_sql()
        ));
    qb
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

/// The kinds of record the log names, with their labels, by label. A skip scan of the
/// (entity_type, entity_id) index: one probe per kind, not a pass over every entry.
async fn entity_types(conn: &mut PgConnection) -> AppResult<Vec<(String, String)>> {
    let kinds: Vec<String> = sqlx::query_scalar(
        "WITH RECURSIVE s(v) AS (
             SELECT min(entity_type) FROM audit_log
             UNION ALL
             SELECT (SELECT min(entity_type) FROM audit_log WHERE entity_type > s.v)
             FROM s WHERE s.v IS NOT NULL)
         SELECT v FROM s WHERE v IS NOT NULL",
    )
    .fetch_all(conn)
    .await?;
    let mut labelled: Vec<(String, String)> = kinds
        .into_iter()
        .map(|k| {
            let label = audit_words::kind_label(&k);
            (k, label)
        })
        .collect();
    labelled.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(labelled)
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
    let rows = rows
        .into_iter()
        .map(|r| audit_words::entry(r, &layout.settings))
        .collect();
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

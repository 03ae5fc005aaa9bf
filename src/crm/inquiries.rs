//! Inquiries: the rows the board, the inquiry and contact pages and the API show, with their
//! filters, and `transition`, the one way an inquiry's status changes.
use super::activities;
use super::rules::{self, Move};
use super::status::InquiryStatus;
use crate::audit;
use crate::dates;
use crate::error::{AppError, AppResult};
use crate::http::json;
use crate::page;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct InquiryRow {
    pub id: i32,
    pub contact_id: i32,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub wedding_date: Option<NaiveDate>,
    pub status: InquiryStatus,
    pub venue: Option<String>,
    pub notes: Option<String>,
    pub lead_source: Option<String>,
    pub lead_source_details: Option<String>,
    pub campaign_id: Option<String>,
    pub follow_up_due_date: Option<NaiveDate>,
    pub is_returning: bool,
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the couple accepted the proposal, while it stands (the inquiry waits to be booked).
    pub proposal_accepted_at: Option<DateTime<Utc>>,
}

/// The board's and the API's filters, as sent: an empty one is no filter. Read by `checked`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filters {
    /// Name or email contains.
    pub q: Option<String>,
    /// Lead source, exactly.
    pub source: Option<String>,
    /// New, Contacted, Proposal Sent, Booked or Closed-Lost; another value matches nothing.
    pub status: Option<String>,
    #[param(schema_with = date_filter)]
    pub from: Option<String>,
    #[param(schema_with = date_filter)]
    pub to: Option<String>,
    #[param(schema_with = assignee_filter)]
    pub assignee: Option<String>,
    #[param(schema_with = page::after_param)]
    pub after: Option<String>,
}

fn date_filter() -> utoipa::openapi::schema::Schema {
    json::or_empty(
        json::date(),
        "Wedding on or after (from) / on or before (to); empty: any.",
    )
}

fn assignee_filter() -> utoipa::openapi::schema::Schema {
    let id = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int32,
        )));
    json::or_empty(
        id,
        "Contributor id of the person following up; empty: anyone.",
    )
}

/// The filters read: wedding dates and the person following up.
pub struct Checked {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub assignee: Option<i32>,
}

impl Filters {
    /// Dates and the assignee read (422 naming the field); empty ones are none.
    pub fn checked(&self) -> AppResult<Checked> {
        // Empty is none; anything else must be a value (a tab is not an empty filter).
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let date = |field: &str, v: &Option<String>| {
            given(v)
                .map(|d| match d.trim() == d {
                    true => dates::parse(&d).map_err(|m| AppError::field(field, m)),
                    false => Err(AppError::field(field, format!("{d:?} is not a date"))),
                })
                .transpose()
        };
        let assignee = given(&self.assignee)
            .map(|a| {
                a.parse().map_err(|_| {
                    AppError::field("assignee", format!("{a:?} is not a team member's id"))
                })
            })
            .transpose()?;
        Ok(Checked {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            assignee,
        })
    }

    /// A text filter, trimmed; empty is none.
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
}

const SELECT: &str = "
    SELECT i.id, i.contact_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
           c.email, c.phone_number AS phone, i.wedding_date, i.status,
           i.venue_details AS venue, i.notes, i.lead_source, i.lead_source_details,
           i.campaign_id, i.follow_up_due_date, i.is_returning,
           (SELECT trim(concat_ws(' ', ac.first_name, ac.last_name)) FROM activities a
              JOIN contributors aco ON aco.id = a.assigned_to_contributor_id
              JOIN contacts ac ON ac.id = aco.contact_id
              WHERE a.inquiry_id = i.id ORDER BY a.status = 'Completed', a.id DESC LIMIT 1)
           AS assignee,
           i.created_at,
           (SELECT b.accepted_at FROM builds b WHERE b.inquiry_id = i.id) AS proposal_accepted_at
    FROM inquiries i JOIN contacts c ON c.id = i.contact_id";

/// `%q%` for ILIKE, with the wildcards in `q` taken literally.
pub(super) fn like_pattern(q: &str) -> String {
    format!("%{}%", q.replace('%', "\\%").replace('_', "\\_"))
}

/// The filters as bound to `FILTER`'s parameters; `None` when they can match nothing (a
/// status that names none, a NUL in a text).
struct Where<'a> {
    q: Option<String>,
    source: Option<&'a str>,
    c: Checked,
    status: Option<InquiryStatus>,
    after: Option<page::After>,
}

impl<'a> Where<'a> {
    /// 422 naming a filter that is not a date, an id or a cursor.
    fn of(f: &'a Filters) -> AppResult<Option<Where<'a>>> {
        let c = f.checked()?;
        let after = page::After::parse(f.after.as_deref())?;
        let (q, source) = (Filters::text(&f.q), Filters::text(&f.source));
        let status = match Filters::text(&f.status).map(str::parse::<InquiryStatus>) {
            None => None,
            Some(Ok(status)) => Some(status),
            Some(Err(_)) => return Ok(None),
        };
        // Nothing stored holds a NUL (PostgreSQL refuses it), so such a filter matches nothing.
        if [q, source].into_iter().flatten().any(|t| t.contains('\0')) {
            return Ok(None);
        }
        Ok(Some(Where {
            q: q.map(like_pattern),
            source,
            c,
            status,
            after,
        }))
    }

    /// Append ` AND <condition>` for each filter that is set, each value bound: a query per
    /// combination of filters, so that PostgreSQL plans (and caches the plan of) each as it is,
    /// instead of one catch-all plan with every filter optional. `contacts`: whether `c` (the
    /// contacts) is joined, for the name/email search.
    fn push(&self, qb: &mut QueryBuilder<'a, Postgres>, contacts: bool) {
        if let (Some(q), true) = (&self.q, contacts) {
            qb.push(" AND (trim(concat_ws(' ', c.first_name, c.last_name)) ILIKE ")
                .push_bind(q.clone())
                .push(" OR c.email ILIKE ")
                .push_bind(q.clone())
                .push(")");
        }
        if let Some(source) = self.source {
            qb.push(" AND i.lead_source = ").push_bind(source);
        }
        if let Some(from) = self.c.from {
            qb.push(" AND i.wedding_date >= ").push_bind(from);
        }
        if let Some(to) = self.c.to {
            qb.push(" AND i.wedding_date <= ").push_bind(to);
        }
        if let Some(who) = self.c.assignee {
            qb.push(
                " AND EXISTS (SELECT 1 FROM activities a
                  WHERE a.inquiry_id = i.id AND a.assigned_to_contributor_id = ",
            )
            .push_bind(who)
            .push(")");
        }
        if let Some(status) = self.status {
            qb.push(" AND i.status = ").push_bind(status);
        }
        if let Some(after) = self.after {
            qb.push(" AND (i.created_at, i.id) < (")
                .push_bind(after.at)
                .push(", ")
                .push_bind(after.id)
                .push(")");
        }
    }
}

/// The query of `list` without filters, for the first page: `$1` the limit.
pub fn list_sql() -> String {
    format!("{SELECT} WHERE true ORDER BY i.created_at DESC, i.id DESC LIMIT $1")
}

/// Inquiries matching the filters, newest first, from the `after` cursor on, at most `limit`:
/// 422 naming a filter that is not a date, an id or a cursor. A status filter that names no
/// status matches nothing.
pub async fn list(conn: &mut PgConnection, f: &Filters, limit: i64) -> AppResult<Vec<InquiryRow>> {
    let Some(w) = Where::of(f)? else {
        return Ok(vec![]);
    };
    let mut qb = QueryBuilder::new(format!("{SELECT} WHERE true"));
    w.push(&mut qb, true);
    qb.push(" ORDER BY i.created_at DESC, i.id DESC LIMIT ")
        .push_bind(limit);
    Ok(qb.build_query_as().fetch_all(conn).await?)
}

/// A column of the board: the first page of one status's inquiries (from the `after` cursor),
/// how many match in all, and where its next page starts.
pub struct Column {
    pub status: InquiryStatus,
    pub cards: Vec<InquiryRow>,
    pub count: i64,
    pub next: Option<page::After>,
}

#[derive(sqlx::FromRow)]
struct StatusCount {
    status: InquiryStatus,
    count: i64,
}

/// The board: a column for every status (or only the one the filter names), each with its
/// first `page::SIZE` cards newest first, read in one query, and its count over every matching
/// inquiry in another (422 as `list`).
pub async fn board(conn: &mut PgConnection, f: &Filters) -> AppResult<Vec<Column>> {
    let Some(w) = Where::of(f)? else {
        return Ok(vec![]);
    };
    let statuses: Vec<InquiryStatus> = match w.status {
        Some(s) => vec![s],
        None => InquiryStatus::ALL.to_vec(),
    };
    // Each column's first page through the status/created index, in one query. The statuses
    // and the page size are written into the text (they are ours, not the visitor's): the
    // unfiltered board then has no parameters, and PostgreSQL plans it once per connection
    // instead of at every request.
    let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    let mut qb = QueryBuilder::new(format!(
        "SELECT r.* FROM unnest('{{{}}}'::inquiries_status[]) AS s(status)
         CROSS JOIN LATERAL ({SELECT} WHERE i.status = s.status",
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(",")
    ));
    w.push(&mut qb, true);
    qb.push(format!(
        " ORDER BY i.created_at DESC, i.id DESC LIMIT {}) r
         ORDER BY r.created_at DESC, r.id DESC",
        page::SIZE + 1
    ));
    let rows: Vec<InquiryRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let everything = Where {
        after: None,
        status: None,
        ..w
    };
    let c = &everything.c;
    let unfiltered = everything.q.is_none()
        && everything.source.is_none()
        && c.from.is_none()
        && c.to.is_none()
        && c.assignee.is_none();
    let counts: Vec<StatusCount> = if unfiltered {
        // The counts the database keeps (`inquiry_status_counts`): five rows, whatever the
        // number of leads.
        sqlx::query_as("SELECT status, n AS count FROM inquiry_status_counts")
            .fetch_all(conn)
            .await?
    } else {
        // Without a search the count needs no contact: an index-only scan of the statuses.
        let mut qb = QueryBuilder::new("SELECT i.status, count(*) AS count FROM inquiries i");
        if everything.q.is_some() {
            qb.push(" JOIN contacts c ON c.id = i.contact_id");
        }
        qb.push(" WHERE true");
        everything.push(&mut qb, everything.q.is_some());
        qb.push(" GROUP BY i.status");
        qb.build_query_as().fetch_all(conn).await?
    };
    Ok(statuses
        .into_iter()
        .map(|status| {
            let cards = rows
                .iter()
                .filter(|r| r.status == status)
                .cloned()
                .collect();
            let (cards, next) = page::split(cards, |r: &InquiryRow| page::After {
                at: r.created_at,
                id: r.id,
            });
            Column {
                status,
                cards,
                count: counts
                    .iter()
                    .find(|c| c.status == status)
                    .map_or(0, |c| c.count),
                next,
            }
        })
        .collect())
}

/// One inquiry (404 when there is none).
pub async fn get(conn: &mut PgConnection, id: i32) -> AppResult<InquiryRow> {
    sqlx::query_as(&format!("{SELECT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("inquiry {id}")))
}

/// Every inquiry of one couple, oldest first.
pub async fn of_contact(conn: &mut PgConnection, contact: i32) -> AppResult<Vec<InquiryRow>> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE i.contact_id = $1 ORDER BY i.id"))
            .bind(contact)
            .fetch_all(conn)
            .await?,
    )
}

/// Every inquiry of one couple, newest first (the board's order).
pub async fn of_contact_newest_first(
    conn: &mut PgConnection,
    contact: i32,
) -> AppResult<Vec<InquiryRow>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE i.contact_id = $1 ORDER BY i.created_at DESC, i.id DESC"
    ))
    .bind(contact)
    .fetch_all(conn)
    .await?)
}

/// The couple's other inquiries: id, status, wedding date ("Mon DD, YYYY" or "no date").
pub async fn others_of_contact(
    conn: &mut PgConnection,
    contact: i32,
    except: i32,
) -> AppResult<Vec<(i32, InquiryStatus, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, status, COALESCE(to_char(wedding_date, 'Mon DD, YYYY'), 'no date')
         FROM inquiries WHERE contact_id = $1 AND id <> $2 ORDER BY id",
    )
    .bind(contact)
    .bind(except)
    .fetch_all(conn)
    .await?)
}

/// The lead sources inquiries have, for the board's filter.
pub async fn sources(conn: &mut PgConnection) -> AppResult<Vec<String>> {
    // A skip scan of the lead_source index: one probe per source, not a pass over every lead.
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE s(v) AS (
             SELECT min(lead_source) FROM inquiries
             UNION ALL
             SELECT (SELECT min(lead_source) FROM inquiries WHERE lead_source > s.v)
             FROM s WHERE s.v IS NOT NULL)
         SELECT v FROM s WHERE v IS NOT NULL",
    )
    .fetch_all(conn)
    .await?)
}

/// The quote (build) of an inquiry, if it has one.
pub async fn build_of(conn: &mut PgConnection, inquiry: i32) -> AppResult<Option<i32>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM builds WHERE inquiry_id = $1")
            .bind(inquiry)
            .fetch_optional(conn)
            .await?,
    )
}

/// Whether the inquiry's quote has a contract in force (the inquiry page links to it).
pub async fn has_contract(conn: &mut PgConnection, inquiry: i32) -> AppResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM contracts k JOIN builds b ON b.id = k.build_id
                        WHERE b.inquiry_id = $1 AND k.voided_at IS NULL)",
    )
    .bind(inquiry)
    .fetch_one(conn)
    .await?)
}

/// The saved packages a quote can start from: id and name, by name.
pub async fn packages(conn: &mut PgConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(
        sqlx::query_as("SELECT id, name FROM packages ORDER BY lower(name)")
            .fetch_all(conn)
            .await?,
    )
}

/// The inquiry's status, its row locked for the change (404 when there is none).
async fn lock_status(tx: &mut PgConnection, id: i32) -> AppResult<InquiryStatus> {
    sqlx::query_scalar("SELECT status FROM inquiries WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(tx)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("inquiry {id}")))
}

/// Change an inquiry's status at `at`, in the caller's transaction: every change goes through
/// here. Locks the row, asks `rules::apply`, writes (the database records the change in
/// `inquiry_stage_changes`, at `at`, for the pipeline's days per stage), and audits a person's move as
/// `leads.inquiry.status` (a proposal's move is part of the caller's own audit entry).
/// Returns the new status, or None when the move leaves the inquiry as it is; 404 when there
/// is no such inquiry, 409 with the reason when the rule refuses.
pub async fn transition(
    tx: &mut PgConnection,
    id: i32,
    m: Move,
    actor: i32,
    at: DateTime<Utc>,
) -> AppResult<Option<InquiryStatus>> {
    let from = lock_status(tx, id).await?;
    let Some(to) = rules::apply(from, m).map_err(AppError::Conflict)? else {
        return Ok(None);
    };
    sqlx::query("UPDATE inquiries SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(to)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    if let Move::To(_) = m {
        let details =
            serde_json::json!({ "before": { "status": from }, "after": { "status": to } });
        audit::record(
            tx,
            Some(actor),
            "leads.inquiry.status",
            "inquiry",
            Some(id),
            details,
        )
        .await?;
    }
    Ok(Some(to))
}

/// What a person's move did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The inquiry's status now.
    pub status: InquiryStatus,
    /// Its follow-up to-do was pending and is now done (the move from New to Contacted).
    pub follow_up_done: bool,
}

/// A person's move to the status named `to` (board, inquiry page, API): 404 when there is no
/// such inquiry, then 409 when `to` names no status or the rule refuses. From New to
/// Contacted, the couple has been contacted: the inquiry's follow-up to-do (the one intake
/// made, no other) is done, in the same transaction.
pub async fn move_to(
    tx: &mut PgConnection,
    id: i32,
    to: &str,
    actor: i32,
    at: DateTime<Utc>,
) -> AppResult<Moved> {
    let from = lock_status(tx, id).await?;
    let to: InquiryStatus = to.trim().parse().map_err(AppError::Conflict)?;
    let status = transition(tx, id, Move::To(to), actor, at)
        .await?
        .unwrap_or(from);
    let follow_up_done = if (from, status) == (InquiryStatus::New, InquiryStatus::Contacted) {
        activities::complete_follow_up(tx, id, actor).await?
    } else {
        false
    };
    Ok(Moved {
        status,
        follow_up_done,
    })
}

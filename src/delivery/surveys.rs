//! The couple's satisfaction survey: sent by the nightly run `survey_after_days` days after the
//! project's final delivery (`projects.delivered_on`, set by "Mark delivered"), once per project
//! (the table's unique key on project_id), by email with a link to the portal, where the couple
//! answers: satisfaction 1-10, would they recommend us 0-10 (NPS), and a few words. The
//! database's CHECKs are mirrored here, by the field.
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::NaiveDate;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: i32,
    pub project_id: i32,
    pub project_name: Option<String>,
    pub sent_date: Option<NaiveDate>,
    pub response_date: Option<NaiveDate>,
    pub satisfaction_rating: Option<i32>,
    pub nps_score: Option<i32>,
    pub feedback_text: Option<String>,
}

const SURVEY: &str = "SELECT s.id, s.project_id, p.project_name, s.sent_date, s.response_date,
        s.satisfaction_rating, s.nps_score, s.feedback_text
    FROM client_feedback_surveys s JOIN projects p ON p.id = s.project_id";

/// The longest answer kept.
pub const TEXT_MAX: usize = 5000;

/// An answer as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Answer {
    #[serde(default)]
    pub satisfaction_rating: String,
    #[serde(default)]
    pub nps_score: String,
    #[serde(default)]
    pub feedback_text: String,
}

/// The answer checked as the table's CHECKs do, each problem by its field.
pub fn check(a: &Answer) -> AppResult<(i32, i32, Option<String>)> {
    let mut problems: Vec<(&str, &str)> = vec![];
    let satisfaction = a.satisfaction_rating.trim().parse::<i32>().ok();
    let satisfaction = match satisfaction {
        Some(n) if (1..=10).contains(&n) => Some(n),
        _ => {
            problems.push(("satisfaction_rating", "choose a number from 1 to 10"));
            None
        }
    };
    let nps = match a.nps_score.trim().parse::<i32>().ok() {
        Some(n) if (0..=10).contains(&n) => Some(n),
        _ => {
            problems.push(("nps_score", "choose a number from 0 to 10"));
            None
        }
    };
    let text = a.feedback_text.trim();
    if text.chars().count() > TEXT_MAX {
        problems.push(("feedback_text", "at most 5,000 characters"));
    }
    match (satisfaction, nps) {
        (Some(s), Some(n)) if problems.is_empty() => {
            Ok((s, n, (!text.is_empty()).then(|| text.to_string())))
        }
        _ => Err(AppError::fields(&problems)),
    }
}

/// The Net Promoter Score of some answers: % promoters (9-10) minus % detractors (0-6),
/// rounded; None without answers.
pub fn nps(scores: &[i32]) -> Option<i64> {
    if scores.is_empty() {
        return None;
    }
    let n = scores.len() as i64;
    let promoters = scores.iter().filter(|s| **s >= 9).count() as i64;
    let detractors = scores.iter().filter(|s| **s <= 6).count() as i64;
    let diff = (promoters - detractors) * 100;
    // Rounded half away from zero, in integers.
    Some(if diff >= 0 {
        (diff + n / 2) / n
    } else {
        -((-diff + n / 2) / n)
    })
}

/// The survey of a project, if one was sent.
pub async fn of_project(conn: &mut PgConnection, project: i32) -> AppResult<Option<Survey>> {
    Ok(sqlx::query_as(&format!("{SURVEY} WHERE s.project_id = $1"))
        .bind(project)
        .fetch_optional(conn)
        .await?)
}

/// The client's surveys.
pub async fn for_client(conn: &mut PgConnection, client: i32) -> AppResult<Vec<Survey>> {
    Ok(
        sqlx::query_as(&format!("{SURVEY} WHERE p.client_id = $1 ORDER BY s.id"))
            .bind(client)
            .fetch_all(conn)
            .await?,
    )
}

/// One of the client's surveys (404 when it is not theirs).
pub async fn for_client_one(conn: &mut PgConnection, client: i32, id: i32) -> AppResult<Survey> {
    sqlx::query_as(&format!("{SURVEY} WHERE s.id = $2 AND p.client_id = $1"))
        .bind(client)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("survey"))
}

/// The couple answers their survey (422 by the field; 409 when it is already answered).
pub async fn answer(
    tx: &mut PgConnection,
    clock: &Clock,
    client: i32,
    id: i32,
    a: &Answer,
) -> AppResult<()> {
    let survey = for_client_one(tx, client, id).await?;
    let (satisfaction, nps, text) = check(a)?;
    let studio = Studio::load(tx).await?;
    let done = sqlx::query(
        "UPDATE client_feedback_surveys SET satisfaction_rating = $2, nps_score = $3,
                feedback_text = $4, response_date = $5
         WHERE id = $1 AND response_date IS NULL",
    )
    .bind(id)
    .bind(satisfaction)
    .bind(nps)
    .bind(text)
    .bind(clock.today(&studio.time_zone))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "this survey is already answered: thank you!".into(),
        ));
    }
    crate::audit::record(
        tx,
        None,
        "projects.survey.answer",
        "client_feedback_survey",
        Some(id),
        serde_json::json!({ "project": survey.project_id, "satisfaction": satisfaction,
                            "nps": nps }),
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Due {
    project_id: i32,
    project_name: Option<String>,
    contact_id: i32,
    couple: String,
    email: Option<String>,
}

/// The nightly run's surveys: every project delivered at least `survey_after_days` ago without
/// a survey gets one (sent today) and its couple an email, one transaction per project; the
/// unique key makes a second run (or instance) send nothing more.
pub async fn send_due(
    conn: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
) -> AppResult<Vec<Outgoing>> {
    let days = super::links::settings(conn).await?.survey_after_days;
    let studio = Studio::load(conn).await?;
    let today = clock.today(&studio.time_zone);
    let due: Vec<Due> = sqlx::query_as(
        "SELECT p.id AS project_id, p.project_name, c.id AS contact_id,
                trim(concat_ws(' ', c.first_name, c.last_name)) AS couple, c.email
         FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id
         WHERE p.delivered_on IS NOT NULL AND p.delivered_on <= $1::date - $2
           AND NOT EXISTS (SELECT 1 FROM client_feedback_surveys s WHERE s.project_id = p.id)
         ORDER BY p.delivered_on, p.id LIMIT 1000",
    )
    .bind(today)
    .bind(days)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for d in due {
        let sent = crate::db::transaction(conn, async |tx| {
            let id: Option<i32> = sqlx::query_scalar(
                "INSERT INTO client_feedback_surveys (project_id, sent_date) VALUES ($1, $2)
                 ON CONFLICT (project_id) DO NOTHING RETURNING id",
            )
            .bind(d.project_id)
            .bind(today)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else {
                return Ok(None);
            };
            crate::audit::record(
                tx,
                None,
                "projects.survey.send",
                "client_feedback_survey",
                Some(id),
                serde_json::json!({ "project": d.project_id }),
            )
            .await?;
            let Some(email) = d.email.clone() else {
                return Ok(None);
            };
            let wedding = d
                .project_name
                .clone()
                .unwrap_or_else(|| "your wedding".into());
            let link = format!("{}/portal/surveys/{id}", settings.base_url());
            let body = format!(
                "Dear {},\n\nIt was a joy to film {wedding}. Would you tell us how we did? \
                 Three quick questions, in your portal:\n{link}\n\nThank you,\n{}",
                d.couple, studio.studio_name
            );
            Ok(Some(
                mail::queue(
                    tx,
                    settings,
                    Mail {
                        to_contact_id: d.contact_id,
                        to: email,
                        subject: format!("{}: how did we do?", studio.studio_name),
                        body: body.clone(),
                        log_summary: body,
                    },
                )
                .await?,
            ))
        })
        .await?;
        out.extend(sent);
    }
    Ok(out)
}

/// A page of surveys, newest sent first (keyset on sent day and id), and the summary of every
/// answered one.
pub async fn list(
    conn: &mut PgConnection,
    after: Option<(NaiveDate, i32)>,
) -> AppResult<(Vec<Survey>, bool)> {
    let limit = crate::page::SIZE;
    let mut rows: Vec<Survey> = sqlx::query_as(&format!(
        "{SURVEY} WHERE ($1::date IS NULL OR (s.sent_date, s.id) < ($1, $2))
         ORDER BY s.sent_date DESC NULLS LAST, s.id DESC LIMIT $3"
    ))
    .bind(after.map(|a| a.0))
    .bind(after.map_or(0, |a| a.1))
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Every answer's (satisfaction, NPS score), for the summary; and how many were sent.
pub async fn summary(conn: &mut PgConnection) -> AppResult<(Vec<(i32, i32)>, i64)> {
    let answered: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT satisfaction_rating, nps_score FROM client_feedback_surveys
         WHERE response_date IS NOT NULL AND satisfaction_rating IS NOT NULL
           AND nps_score IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM client_feedback_surveys")
        .fetch_one(conn)
        .await?;
    Ok((answered, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_is_promoters_minus_detractors() {
        assert_eq!(nps(&[]), None);
        assert_eq!(nps(&[10, 9, 8, 7]), Some(50));
        assert_eq!(nps(&[10, 6, 0]), Some(-33));
        assert_eq!(nps(&[10]), Some(100));
    }

    #[test]
    fn the_checks_of_the_table_by_the_field() {
        let a = |s: &str, n: &str| Answer {
            satisfaction_rating: s.into(),
            nps_score: n.into(),
            feedback_text: String::new(),
        };
        assert!(check(&a("1", "0")).is_ok());
        assert!(check(&a("10", "10")).is_ok());
        for (s, n, field) in [
            ("0", "5", "satisfaction_rating"),
            ("11", "5", "satisfaction_rating"),
            ("x", "5", "satisfaction_rating"),
            ("5", "-1", "nps_score"),
            ("5", "11", "nps_score"),
        ] {
            let Err(AppError::Validation { errors, .. }) = check(&a(s, n)) else {
                panic!("refused")
            };
            assert_eq!(errors[0].field, field);
        }
    }
}

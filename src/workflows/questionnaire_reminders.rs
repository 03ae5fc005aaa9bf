//! Reminders before a questionnaire is due, through the outbox: "before" from
//! `REMIND_DAYS_BEFORE` days before the due day, "due" on it (each once per due date: the
//! reminder's row is taken in the transaction that queues the email).
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::AppResult;
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::NaiveDate;
use sqlx::PgConnection;

/// Days before the due day the first reminder goes.
pub const REMIND_DAYS_BEFORE: i64 = 3;

/// The reminder due on `today` for a questionnaire due on `due`: "before" from
/// `REMIND_DAYS_BEFORE` days before to the day before, "due" on the day and after (each is sent
/// once: a missed day sends the latest, never a burst).
pub fn stage(due: NaiveDate, today: NaiveDate) -> Option<&'static str> {
    let left = (due - today).num_days();
    if left <= 0 {
        Some("due")
    } else if left <= REMIND_DAYS_BEFORE {
        Some("before")
    } else {
        None
    }
}

#[derive(sqlx::FromRow)]
struct Open {
    id: i32,
    title: String,
    due_date: NaiveDate,
    contact_id: i32,
    email: String,
    name: String,
}

/// Remind the couples of the open questionnaires due soon (or today or past): each stage once
/// per due date, the reminder's row taken in the transaction that queues the email. Returns
/// the emails to send after the commits.
pub async fn remind(
    conn: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
) -> AppResult<Vec<Outgoing>> {
    let studio = Studio::load(conn).await?;
    let today = clock.today(&studio.time_zone);
    let open: Vec<Open> = sqlx::query_as(
        "SELECT q.id, q.title, q.due_date, c.id AS contact_id, c.email,
                trim(concat_ws(' ', c.first_name, c.last_name)) AS name
         FROM project_questionnaires q JOIN projects p ON p.id = q.project_id
         JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id
         WHERE q.status = 'Sent' AND q.due_date <= $1::date + $2::int AND c.email IS NOT NULL
           AND q.due_date >= $1::date - 30
         ORDER BY q.id",
    )
    .bind(today)
    .bind(REMIND_DAYS_BEFORE as i32)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for q in open {
        let Some(stage) = stage(q.due_date, today) else {
            continue;
        };
        let sent = crate::db::transaction(conn, async |tx| {
            let taken: Option<i32> = sqlx::query_scalar(
                "INSERT INTO questionnaire_reminders (project_questionnaire_id, stage, due_date,
                                                      sent_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(q.id)
            .bind(stage)
            .bind(q.due_date)
            .bind(clock.now())
            .fetch_optional(&mut *tx)
            .await?;
            if taken.is_none() {
                return Ok(None);
            }
            let link = format!("{}/portal/questionnaires/{}", settings.base_url(), q.id);
            let when = if stage == "due" {
                "is due today".to_string()
            } else {
                format!("is due on {}", q.due_date.format("%B %-d, %Y"))
            };
            let body = format!(
                "Dear {},\n\nA friendly reminder: \"{}\" {when}. Your answers so far are saved.\n\n\
                 {link}\n\nThank you,\n{}",
                q.name, q.title, studio.studio_name
            );
            Ok(Some(
                mail::queue(
                    tx,
                    settings,
                    Mail {
                        to_contact_id: q.contact_id,
                        to: q.email.clone(),
                        subject: format!("{}: a reminder about {}", studio.studio_name, q.title),
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

#[cfg(test)]
mod tests {
    use super::stage;
    use chrono::NaiveDate;

    #[test]
    fn reminders_three_days_before_then_on_the_day() {
        let d = |day| NaiveDate::from_ymd_opt(2027, 5, day).unwrap();
        assert_eq!(stage(d(20), d(16)), None);
        assert_eq!(stage(d(20), d(17)), Some("before"));
        assert_eq!(stage(d(20), d(19)), Some("before"));
        assert_eq!(stage(d(20), d(20)), Some("due"));
        assert_eq!(stage(d(20), d(25)), Some("due"));
    }
}

//! The optional daily email digest (My account > "Email me a daily digest"): once a studio-local
//! day, from the nightly run, each person who asked for it gets one email with their unread
//! notifications of the last day and their open tasks due within two days or overdue. A person
//! is claimed for the day by one UPDATE (`contributors.digest_sent_on`), so two runs at once, or
//! a second run the same day, send nothing twice; a person with nothing to tell gets no email.
use crate::config::Settings;
use crate::error::AppResult;
use crate::mail::{self, Outgoing};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
struct Reader {
    id: i32,
    contact_id: i32,
    first_name: String,
    email: String,
}

#[derive(sqlx::FromRow)]
struct Line {
    who: i32,
    text: String,
    link: Option<String>,
}

/// Queue today's digests in the caller's transaction; send the returned mails after the commit.
pub async fn queue(
    tx: &mut PgConnection,
    settings: &Settings,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<Outgoing>> {
    let readers: Vec<Reader> = sqlx::query_as(
        "WITH claimed AS (
            UPDATE contributors co SET digest_sent_on = $1
            WHERE co.daily_digest AND co.digest_sent_on IS DISTINCT FROM $1
              AND EXISTS (SELECT 1 FROM staff_credentials cr
                          WHERE cr.contributor_id = co.id AND cr.is_active)
            RETURNING co.id, co.contact_id)
         SELECT cl.id, cl.contact_id, c.first_name, c.email
         FROM claimed cl JOIN contacts c ON c.id = cl.contact_id ORDER BY cl.id",
    )
    .bind(today)
    .fetch_all(&mut *tx)
    .await?;
    if readers.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i32> = readers.iter().map(|r| r.id).collect();
    let unread: Vec<Line> = sqlx::query_as(
        "SELECT recipient_contributor_id AS who, message AS text, link_url AS link
         FROM notifications
         WHERE recipient_contributor_id = ANY($1) AND NOT is_read AND created_at > $2
         ORDER BY created_at DESC, id DESC",
    )
    .bind(&ids)
    .bind(now - Duration::days(1))
    .fetch_all(&mut *tx)
    .await?;
    let due: Vec<Line> = sqlx::query_as(
        "SELECT t.assigned_to_contributor_id AS who,
                to_char(t.due_date, 'FMDay DD Mon') || ': ' || tt.name || ' for '
                || COALESCE(p.project_name, 'a wedding')
                || CASE WHEN t.due_date < $2 THEN ' (overdue)' ELSE '' END AS text,
                '/tasks/' || t.id AS link
         FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         JOIN projects p ON p.id = t.project_id
         WHERE t.assigned_to_contributor_id = ANY($1)
           AND t.status NOT IN ('Completed', 'Archived') AND t.due_date <= $2 + 2
         ORDER BY t.due_date, t.id",
    )
    .bind(&ids)
    .bind(today)
    .fetch_all(&mut *tx)
    .await?;
    let base = settings.base_url();
    let mut out = vec![];
    for r in readers {
        let body = body(&r.first_name, &base, &unread, &due, r.id);
        let Some(body) = body else { continue };
        let mail = mail::Mail {
            to_contact_id: r.contact_id,
            to: r.email,
            subject: format!("Your day at the studio: {}", today.format("%A %-d %B")),
            log_summary: body.clone(),
            body,
        };
        out.push(mail::queue(tx, settings, mail).await?);
    }
    Ok(out)
}

/// The digest's text for one person, or None when there is nothing to tell.
fn body(name: &str, base: &str, unread: &[Line], due: &[Line], who: i32) -> Option<String> {
    let list = |lines: &[Line]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.who == who)
            .map(|l| match &l.link {
                Some(link) => format!("- {}\n  {base}{link}", l.text),
                None => format!("- {}", l.text),
            })
            .collect()
    };
    let (unread, due) = (list(unread), list(due));
    if unread.is_empty() && due.is_empty() {
        return None;
    }
    let mut out = vec![format!("Good morning {name},")];
    if !due.is_empty() {
        out.push(format!(
            "Your tasks due by the day after tomorrow:\n{}",
            due.join("\n")
        ));
    }
    if !unread.is_empty() {
        out.push(format!("Unread since yesterday:\n{}", unread.join("\n")));
    }
    out.push(format!(
        "You get this email because you asked for a daily digest (My account: {base}/account)."
    ));
    Some(out.join("\n\n"))
}

/// A person's digest choice and the last digest they were sent (its date and text), for My
/// account.
pub async fn choice(
    conn: &mut PgConnection,
    who: i32,
) -> AppResult<(bool, Option<(DateTime<Utc>, String)>)> {
    let on: bool = sqlx::query_scalar("SELECT daily_digest FROM contributors WHERE id = $1")
        .bind(who)
        .fetch_one(&mut *conn)
        .await?;
    let last: Option<(DateTime<Utc>, String)> = sqlx::query_as(
        "SELECT l.communication_date, l.notes FROM communications_log l
         JOIN contributors co ON co.contact_id = l.contact_id
         WHERE co.id = $1 AND l.type = 'Email' AND l.notes LIKE '%Subject: Your day at the studio%'
         ORDER BY l.communication_date DESC, l.id DESC LIMIT 1",
    )
    .bind(who)
    .fetch_optional(&mut *conn)
    .await?;
    Ok((on, last))
}

/// Turn the digest on or off for a person.
pub async fn set(conn: &mut PgConnection, who: i32, on: bool) -> AppResult<()> {
    sqlx::query("UPDATE contributors SET daily_digest = $2 WHERE id = $1")
        .bind(who)
        .bind(on)
        .execute(conn)
        .await?;
    Ok(())
}

//! Payment reminders, sent by the nightly sweep through the outbox (`mail::queue`): one
//! `reminder_days_before` days before the due date (or on the first run after that day), one
//! on the due day (`reminder_on_due_day`), then `reminder_first_overdue_days` after it and
//! every `reminder_overdue_every_days` days while overdue, at most `reminder_overdue_max`
//! times (by default: 7 days before, on the day, 2 days after, then weekly, at most 3). Each is a row of `invoice_reminders` whose unique key
//! (invoice, stage, due date) is taken before the mail is queued, in the same transaction: a
//! reminder goes out once however often the sweep runs. A postponed invoice (a new due date)
//! gets its own. Only open invoices (Sent, Partially Paid, Overdue) with something owed are
//! reminded: paid and void ones never.
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::AppResult;
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// The studio's reminder schedule.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Rules {
    pub reminder_days_before: i32,
    pub reminder_on_due_day: bool,
    pub reminder_first_overdue_days: i32,
    pub reminder_overdue_every_days: i32,
    pub reminder_overdue_max: i32,
}

/// The studio's reminder schedule, as saved.
pub async fn rules(conn: &mut PgConnection) -> AppResult<Rules> {
    Ok(sqlx::query_as(
        "SELECT reminder_days_before, reminder_on_due_day, reminder_first_overdue_days,
                reminder_overdue_every_days, reminder_overdue_max
         FROM studio_settings",
    )
    .fetch_one(conn)
    .await?)
}

/// The reminder due today for an invoice due on `due`, if one is: "before" from
/// `days_before` days before the due day (to the day before it, or to the due day itself when
/// there is no due-day reminder); "due" from the due day until the first overdue one;
/// "overdue-N" for the latest N (from 1 to the max) whose day (`first` days after the due day,
/// then every `every` days) has come. Runs missed in between send only the latest, not a burst.
pub fn stage(due: NaiveDate, today: NaiveDate, rules: Rules) -> Option<String> {
    let days_before = rules.reminder_days_before;
    if today == due && rules.reminder_on_due_day {
        return Some("due".into());
    }
    if today <= due {
        let from = due.checked_sub_days(Days::new(days_before.max(0) as u64))?;
        return (days_before > 0 && today >= from).then(|| "before".into());
    }
    let late = (today - due).num_days();
    let first = i64::from(rules.reminder_first_overdue_days.max(1));
    if late < first {
        return rules.reminder_on_due_day.then(|| "due".into());
    }
    let every = i64::from(rules.reminder_overdue_every_days.max(1));
    let n = ((late - first) / every + 1).min(i64::from(rules.reminder_overdue_max));
    (n >= 1).then(|| format!("overdue-{n}"))
}

/// The reminders an invoice due on `due` will get from `today` over the next `days` days, as
/// (day, stage), leaving out the stages already sent (`sent`) and repeats of a stage.
pub fn upcoming(
    due: NaiveDate,
    today: NaiveDate,
    rules: Rules,
    sent: &[String],
    days: u64,
) -> Vec<(NaiveDate, String)> {
    let mut out: Vec<(NaiveDate, String)> = vec![];
    for n in 0..=days {
        let Some(day) = today.checked_add_days(Days::new(n)) else {
            break;
        };
        if let Some(s) = stage(due, day, rules)
            && !sent.contains(&s)
            && !out.iter().any(|(_, o)| *o == s)
        {
            out.push((day, s));
        }
    }
    out
}

/// What will go out in the next 14 days: (day, invoice id, invoice number, couple, stage in
/// words), by day. Open invoices with something owed only; the couple must have an email.
pub async fn next_14_days(
    conn: &mut PgConnection,
    today: NaiveDate,
) -> AppResult<Vec<(NaiveDate, i32, String, String, String)>> {
    let rules = rules(conn).await?;
    let horizon = today + Days::new(14);
    let invoices = candidates(conn, horizon, rules).await?;
    let ids: Vec<i32> = invoices.iter().map(|c| c.id).collect();
    let sent: Vec<(i32, String, NaiveDate)> = sqlx::query_as(
        "SELECT invoice_id, stage, due_date FROM invoice_reminders WHERE invoice_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for c in invoices.iter().filter(|c| c.email.is_some()) {
        let done: Vec<String> = sent
            .iter()
            .filter(|s| s.0 == c.id && s.2 == c.due_date)
            .map(|s| s.1.clone())
            .collect();
        for (day, stage) in upcoming(c.due_date, today, rules, &done, 14) {
            let number = c
                .invoice_number
                .clone()
                .unwrap_or_else(|| format!("#{}", c.id));
            out.push((day, c.id, number, c.couple.clone(), stage_words(&stage)));
        }
    }
    out.sort_by_key(|r| (r.0, r.1));
    Ok(out)
}

/// A stage as people read it.
pub fn stage_words(stage: &str) -> String {
    match stage.strip_prefix("overdue-") {
        Some("1") => "overdue".into(),
        Some(n) => format!("overdue, reminder {n}"),
        None if stage == "due" => "on the due day".into(),
        None => "before it is due".into(),
    }
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i32,
    invoice_number: Option<String>,
    description: Option<String>,
    due_date: NaiveDate,
    owed: Decimal,
    contact_id: i32,
    email: Option<String>,
    couple: String,
}

/// The open invoices that may need a reminder today (due within the days before, or overdue).
async fn candidates(
    conn: &mut PgConnection,
    today: NaiveDate,
    rules: Rules,
) -> AppResult<Vec<Candidate>> {
    Ok(sqlx::query_as(
        "SELECT i.id, i.invoice_number, i.description, i.due_date,
                i.total_amount - COALESCE(i.amount_paid, 0) AS owed, c.id AS contact_id, c.email,
                trim(concat_ws(' ', c.first_name, c.last_name)) AS couple
         FROM invoices i JOIN projects p ON p.id = i.project_id
         JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id
         WHERE i.status IN ('Sent', 'Partially Paid', 'Overdue') AND i.total_amount > 0
           AND i.total_amount > COALESCE(i.amount_paid, 0)
           AND i.due_date <= $1::date + $2
         ORDER BY i.id",
    )
    .bind(today)
    .bind(rules.reminder_days_before)
    .fetch_all(conn)
    .await?)
}

/// Send today's reminders, each in its own transaction; returns how many were sent.
pub async fn send_due(
    conn: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    studio: &Studio,
) -> AppResult<Vec<Outgoing>> {
    let rules = rules(conn).await?;
    let today = clock.today(&studio.time_zone);
    let mut out = vec![];
    for c in candidates(conn, today, rules).await? {
        let (Some(stage), Some(email)) = (stage(c.due_date, today, rules), c.email.clone()) else {
            continue;
        };
        let sent = crate::db::transaction(conn, async |tx| {
            remind(tx, settings, clock, studio, &c, &stage, &email).await
        })
        .await?;
        out.extend(sent);
    }
    Ok(out)
}

async fn remind(
    tx: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    studio: &Studio,
    c: &Candidate,
    stage: &str,
    email: &str,
) -> AppResult<Option<Outgoing>> {
    let taken: Option<i32> = sqlx::query_scalar(
        "INSERT INTO invoice_reminders (invoice_id, stage, due_date, sent_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(c.id)
    .bind(stage)
    .bind(c.due_date)
    .bind(clock.now())
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_none() {
        return Ok(None);
    }
    let number = c
        .invoice_number
        .clone()
        .unwrap_or_else(|| format!("#{}", c.id));
    let what = c.description.clone().unwrap_or_default();
    let due = c.due_date.format("%B %-d, %Y");
    let (subject, when) = if stage == "before" {
        (
            format!("{}: invoice {number} is due on {due}", studio.studio_name),
            format!("is due on {due}"),
        )
    } else if stage == "due" {
        (
            format!("{}: invoice {number} is due today", studio.studio_name),
            format!("is due today, {due}"),
        )
    } else {
        (
            format!("{}: invoice {number} is overdue", studio.studio_name),
            format!("was due on {due}"),
        )
    };
    let link = format!("{}/portal/invoices/{}", settings.base_url(), c.id);
    let body = format!(
        "Dear {},\n\nA friendly reminder: invoice {number} ({what}) {when}. Still owed: {}.\n\n\
         See it and pay it in your portal: {link}\n\nThank you,\n{}",
        c.couple,
        studio.money(c.owed),
        studio.studio_name
    );
    let outgoing = mail::queue(
        tx,
        settings,
        Mail {
            to_contact_id: c.contact_id,
            to: email.to_string(),
            subject,
            body: body.clone(),
            log_summary: body,
        },
    )
    .await?;
    crate::audit::record(
        tx,
        None,
        "invoices.reminder",
        "invoice",
        Some(c.id),
        serde_json::json!({ "stage": stage, "due": c.due_date, "to": email }),
    )
    .await?;
    Ok(Some(outgoing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, d).unwrap()
    }

    #[test]
    fn by_default_7_days_before_on_the_day_2_days_after_then_weekly_at_most_3() {
        let rules = Rules {
            reminder_days_before: 7,
            reminder_on_due_day: true,
            reminder_first_overdue_days: 2,
            reminder_overdue_every_days: 7,
            reminder_overdue_max: 3,
        };
        let due = day(3, 20);
        let at = |m, d| stage(due, day(m, d), rules);
        assert_eq!(at(3, 12), None);
        assert_eq!(at(3, 13).as_deref(), Some("before"));
        assert_eq!(at(3, 19).as_deref(), Some("before"));
        assert_eq!(at(3, 20).as_deref(), Some("due"));
        // A run missed on the due day still says it the next day, before the first overdue.
        assert_eq!(at(3, 21).as_deref(), Some("due"));
        assert_eq!(at(3, 22).as_deref(), Some("overdue-1"));
        assert_eq!(at(3, 28).as_deref(), Some("overdue-1"));
        assert_eq!(at(3, 29).as_deref(), Some("overdue-2"));
        assert_eq!(at(4, 5).as_deref(), Some("overdue-3"));
        assert_eq!(at(6, 1).as_deref(), Some("overdue-3"));
        // Without a due-day reminder the "before" one runs to the due day.
        let no_day = Rules {
            reminder_on_due_day: false,
            ..rules
        };
        assert_eq!(stage(due, day(3, 20), no_day).as_deref(), Some("before"));
        assert_eq!(stage(due, day(3, 21), no_day), None);
        let none = Rules {
            reminder_days_before: 0,
            reminder_on_due_day: false,
            reminder_overdue_max: 0,
            ..rules
        };
        assert_eq!(stage(due, day(3, 13), none), None);
        assert_eq!(stage(due, day(3, 20), none), None);
        assert_eq!(stage(due, day(3, 28), none), None);
        // The next 14 days from Mar 10: before on Mar 13, on the day, overdue on Mar 22.
        let next = upcoming(due, day(3, 10), rules, &[], 14);
        assert_eq!(
            next,
            [
                (day(3, 13), "before".into()),
                (day(3, 20), "due".into()),
                (day(3, 22), "overdue-1".into())
            ]
        );
        let after = upcoming(due, day(3, 10), rules, &["before".into()], 14);
        assert_eq!(after[0], (day(3, 20), "due".into()));
    }
}

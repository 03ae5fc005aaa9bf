//! Chloe Martin and James Wright's wedding, six weeks ago, in post-production, through the same
//! code as the app: a referral who got a proposal in the spring, booked by Sales on a paper
//! contract, paid in full, and her films being edited by Leo, Nina and Omar at their own speeds:
//! the earliest phases done with time logged, some in progress, the rest waiting. The capacity
//! view, the projected delivery and "My tasks" have a wedding that already happened.
use super::builds::{DemoQuote, LEAD, demo_build};
use crate::billing::payments;
use crate::clock::Clock;
use crate::production::{comments, rules, tasks, time};
use crate::studio::Studio;
use anyhow::Result;
use chrono::Duration;
use rust_decimal::Decimal;
use sqlx::PgConnection;

const CHLOE: DemoQuote = DemoQuote {
    email: "chloe.martin@example.com",
    coverage: &[
        ("Getting Ready", LEAD, 1, None),
        ("Ceremony", LEAD, 1, None),
        ("Reception", LEAD, 1, Some("5")),
    ],
    films: &["Highlight Film", "Feature Film"],
    add_ons: &[],
};

/// Each editor's pace against the plan (hours logged = planned x pace): Leo on plan, Nina
/// quicker, Omar slower.
const PACE: [(&str, i64); 3] = [("Leo", 100), ("Nina", 80), ("Omar", 130)];

pub async fn chloe(tx: &mut PgConnection, clock: Clock, studio: &Studio) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let today = clock.today(&studio.time_zone);
    let ago = |days: i64| clock.now() - Duration::days(days);
    let first = sqlx::query_scalar::<_, i32>("SELECT COALESCE(max(id), 0) FROM notifications")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "WITH c AS (INSERT INTO contacts (first_name, last_name, email, phone_number, type,
                                          created_at)
                    VALUES ('Chloe', 'Martin', $1, '+1 415 555 0127', 'Client Lead', $2)
                    RETURNING id)
         INSERT INTO inquiries (contact_id, wedding_date, status, notes, venue_details,
                                lead_source, lead_source_details, created_at)
         SELECT c.id, $3, 'Proposal Sent', 'Garden ceremony, 120 guests; James is a musician.',
                'Filoli, Woodside', 'Referral', 'Referred by Olivia''s planner', $2 FROM c",
    )
    .bind(CHLOE.email)
    .bind(ago(235))
    .bind(today - Duration::days(42))
    .execute(&mut *tx)
    .await?;
    let build = demo_build(tx, &CHLOE).await?;
    crate::quote::proposal::freeze(tx, studio, &Clock::Fixed(ago(225)), build, None)
        .await
        .map_err(err)?;
    let sales: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'priya@goldenhour.example'",
    )
    .fetch_one(&mut *tx)
    .await?;
    let by = crate::quote::booking::Booker::Staff {
        id: sales,
        reason: "Signed on paper at the studio",
    };
    let booked = crate::quote::booking::book(tx, None, studio, &Clock::Fixed(ago(214)), build, by)
        .await
        .map_err(err)?;
    let project = booked.project_id;
    // Paid in full: each invoice on its due day (or the booking day), by bank transfer.
    let invoices: Vec<(i32, Decimal, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT id, total_amount - COALESCE(amount_paid, 0), COALESCE(due_date, issue_date)
         FROM invoices WHERE project_id = $1 ORDER BY id",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let settings = crate::config::Settings::defaults();
    for (i, (invoice, owed, due)) in invoices.into_iter().enumerate() {
        let day = due.min(today);
        let at = Clock::Fixed(ago((today - day).num_days()));
        let p = payments::NewPayment {
            amount: owed,
            date: day,
            method: payments::Method::BankTransfer,
            transaction_id: Some(format!("NWB-3310-{:04}", 812 + i)),
        };
        let _ = payments::record(tx, &settings, studio, &at, invoice, &p, Some(sales))
            .await
            .map_err(err)?;
    }
    edit(tx, clock, project).await?;
    // The wedding-day timeline and the shot list the couple sent, kept on the project (their
    // files are written with the demo's other files, `seed::delivery::files`).
    sqlx::query(
        "INSERT INTO documents (project_id, file_name, file_path, document_type, upload_date)
         VALUES ($1, 'Wedding-day timeline.txt', 'uploads/demo-' || $1 || '-timeline.txt',
                 'Timeline', $2),
                ($1, 'Shot list.txt', 'uploads/demo-' || $1 || '-shot-list.txt', 'Shot list', $3)",
    )
    .bind(project)
    .bind(ago(60))
    .bind(ago(55))
    .execute(&mut *tx)
    .await?;
    // What this wedding told the team, months or days ago, has been read.
    sqlx::query("UPDATE notifications SET is_read = true WHERE id > $1")
        .bind(first)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The editing so far: each film part goes to one editor; the tasks due first (by phase) are
/// done, the next ones in progress, the rest waiting.
async fn edit(tx: &mut PgConnection, clock: Clock, project: i32) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let editors: Vec<(String, i32)> = sqlx::query_as(
        "SELECT c.first_name, co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email IN ('leo@goldenhour.example', 'nina@goldenhour.example',
                           'omar@goldenhour.example')
         ORDER BY c.first_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    let rows: Vec<(i32, i32, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT id, build_component_id, due_date FROM tasks WHERE project_id = $1
         ORDER BY due_date, id",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let mut parts: Vec<i32> = rows.iter().map(|r| r.1).collect();
    parts.sort();
    parts.dedup();
    let ago = |days: i64, hours: i64| clock.now() - Duration::days(days) - Duration::hours(hours);
    let mut started = std::collections::BTreeSet::new();
    // The first two in five (by due day, then number: blockers first) are done.
    let done = rows.len() * 2 / 5;
    for (i, (task, part, _)) in rows.iter().enumerate() {
        let n = parts.iter().position(|p| p == part).unwrap_or(0) % editors.len();
        let (name, editor) = &editors[n];
        let pace = PACE.iter().find(|p| p.0 == name).map_or(100, |p| p.1);
        let days = 30 - (i as i64).min(25);
        tasks::assign(tx, &[*task], Some(*editor), ago(days + 1, 0), None)
            .await
            .map_err(err)?;
        let planned: Decimal =
            sqlx::query_scalar("SELECT planned_duration_hours FROM tasks WHERE id = $1")
                .bind(task)
                .fetch_one(&mut *tx)
                .await?;
        let logged = (planned * Decimal::new(pace, 2)).round_dp(2);
        let status: String = sqlx::query_scalar("SELECT status::text FROM tasks WHERE id = $1")
            .bind(task)
            .fetch_one(&mut *tx)
            .await?;
        if i < done {
            // Done, at the editor's own pace.
            tasks::move_to(tx, *task, rules::IN_PROGRESS, ago(days, 6))
                .await
                .map_err(err)?;
            time::add(tx, *task, *editor, logged, Some("Demo"), ago(days, 2))
                .await
                .map_err(err)?;
            tasks::move_to(tx, *task, rules::COMPLETED, ago(days, 1))
                .await
                .map_err(err)?;
        } else if status == rules::READY && started.insert(*editor) {
            // Under way: half of it logged so far.
            tasks::move_to(tx, *task, rules::IN_PROGRESS, ago(3, 4))
                .await
                .map_err(err)?;
            let half = (logged / Decimal::TWO).round_dp(2);
            time::add(tx, *task, *editor, half, Some("First pass"), ago(1, 3))
                .await
                .map_err(err)?;
        }
    }
    if let Some((task, _, _)) = rows.first() {
        let editor = editors[0].1;
        comments::add(
            tx,
            *task,
            editor,
            "All the footage is in and synced, with James's band on the reception audio.",
            "Client-Visible",
            ago(20, 0),
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}

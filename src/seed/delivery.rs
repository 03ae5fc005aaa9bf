//! The demo studio's delivered weddings, through the same code as the app: Hannah Lee & Marcus
//! Reid (married about 150 days ago) and Zoe Carter & Ben Ortiz (about 100 days ago), each
//! quoted, sent, booked and paid in full, every task completed with time logged by the editors,
//! films and raw footage uploaded by the resumable upload's own functions, the film shared with
//! a download link, marked delivered, and the survey sent by the nightly run's function: Hannah
//! answered it (satisfaction 9, NPS 10); Zoe has not yet. Expenses on both (travel, a second
//! shooter, a music licence), with a receipt on Zoe's.
//!
//! The demo's files are small and generated from their names (`bytes_of`), so the rows are made
//! once in the database and the files written under whichever data dir serves it (`files`).
//! They are not real videos: they are stored as `application/octet-stream`, so the portal
//! offers them to download and does not pretend to play them.
use crate::clock::Clock;
use crate::delivery::{assets, expenses, links, surveys, uploads};
use crate::quote::booking::{self, Booker};
use crate::studio::Studio;
use anyhow::Result;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

struct Couple {
    first: &'static str,
    last: &'static str,
    partner: &'static str,
    email: &'static str,
    /// Days before the demo's today.
    married_days_ago: i64,
    venue: &'static str,
    source: &'static str,
    answered: bool,
    /// (days after the wedding, description, category, amount, receipt)
    expenses: &'static [(i64, &'static str, &'static str, &'static str, bool)],
}

const COUPLES: [Couple; 2] = [
    Couple {
        first: "Hannah",
        last: "Lee",
        partner: "Marcus Reid",
        email: "hannah.lee@example.com",
        married_days_ago: 150,
        venue: "Kohl Mansion, Burlingame",
        source: "Referral",
        answered: true,
        expenses: &[
            (
                -1,
                "Mileage to Burlingame and parking",
                "Travel",
                "86.40",
                false,
            ),
            (
                0,
                "Second shooter for the reception (Ana Ruiz)",
                "Second shooter",
                "450.00",
                false,
            ),
            (
                20,
                "Licence for \"Golden Light\" (Musicbed)",
                "Music licence",
                "129.00",
                false,
            ),
        ],
    },
    Couple {
        first: "Zoe",
        last: "Carter",
        partner: "Ben Ortiz",
        email: "zoe.carter@example.com",
        married_days_ago: 100,
        venue: "Stags' Leap Winery, Napa",
        source: "Instagram",
        answered: false,
        expenses: &[
            (-1, "Hotel night in Napa", "Travel", "239.00", true),
            (
                0,
                "Second shooter, ceremony and portraits",
                "Second shooter",
                "400.00",
                false,
            ),
            (
                18,
                "Song licence for the highlight film",
                "Music licence",
                "99.00",
                false,
            ),
        ],
    },
];

/// The demo's file bytes, made from the file's name: a few KB, the same every time.
pub fn bytes_of(name: &str) -> Vec<u8> {
    let line = format!("ProjectFlo demo file: {name}. Not a real video.\n");
    line.repeat(4096 / line.len() + 1).into_bytes()
}

pub async fn demo(tx: &mut PgConnection, clock: Clock) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let studio = Studio::load(tx).await.map_err(err)?;
    let today = clock.today(&studio.time_zone);
    let owner: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&mut *tx)
    .await?;
    let editors: Vec<i32> = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email IN ('leo@goldenhour.example', 'nina@goldenhour.example',
                           'omar@goldenhour.example') ORDER BY c.email",
    )
    .fetch_all(&mut *tx)
    .await?;
    // What booking and payments told the staff about these weddings was read and cleared months
    // ago: the inbox stays about the current work.
    let last_notification: i32 =
        sqlx::query_scalar("SELECT COALESCE(max(id), 0) FROM notifications")
            .fetch_one(&mut *tx)
            .await?;
    // The upload code writes its files here; `files` writes the same bytes where they are served.
    let scratch = std::env::temp_dir().join(format!("projectflo-demo-{}", uuid::Uuid::new_v4()));
    let scratch_store = crate::storage::Storage::local(&scratch);
    for c in &COUPLES {
        let wedding = today - Duration::days(c.married_days_ago);
        let days_ago = |d: i64| Clock::Fixed(clock.now() - Duration::days(d));
        let inquiry: i32 = sqlx::query_scalar(
            "WITH c AS (INSERT INTO contacts (first_name, last_name, email, type, created_at)
                        VALUES ($1, $2, $3, 'Client Lead', $4) RETURNING id)
             INSERT INTO inquiries (contact_id, wedding_date, status, notes, venue_details,
                                    lead_source, created_at)
             SELECT c.id, $5, 'Proposal Sent', $6, $7, $8, $4 FROM c RETURNING id",
        )
        .bind(c.first)
        .bind(c.last)
        .bind(c.email)
        .bind(clock.now() - Duration::days(c.married_days_ago + 240))
        .bind(wedding)
        .bind(format!("Marrying {}.", c.partner))
        .bind(c.venue)
        .bind(c.source)
        .fetch_one(&mut *tx)
        .await?;
        let build = quote(tx, inquiry).await?;
        let sent = days_ago(c.married_days_ago + 220);
        crate::quote::proposal::freeze(tx, &studio, &sent, build, None)
            .await
            .map_err(err)?;
        let booked_at = days_ago(c.married_days_ago + 210);
        let booked = booking::book(
            tx,
            None,
            &studio,
            &booked_at,
            build,
            Booker::Staff {
                id: owner,
                reason: "Signed the paper contract at the studio",
            },
        )
        .await
        .map_err(err)?;
        let project = booked.project_id;
        pay_in_full(tx, &studio, clock, project, owner, today).await?;
        complete_tasks(tx, clock, project, &editors, owner, c.married_days_ago).await?;
        // Their files, uploaded a few weeks after the wedding; the films are shared.
        let delivered_days_ago = c.married_days_ago - 56;
        let names = [
            (
                format!("{} & {} - Highlight Film.mp4", c.first, first(c.partner)),
                "Export",
            ),
            (
                format!("{} & {} - Feature Film.mp4", c.first, first(c.partner)),
                "Export",
            ),
            ("A001_C014_ceremony.mov".to_string(), "Raw Footage"),
            (
                format!("{}-{} edit.prproj", c.last, last(c.partner)),
                "Project File",
            ),
        ];
        let uploaded = days_ago(delivered_days_ago + 2);
        for (name, kind) in names {
            let data = bytes_of(&name);
            let new = uploads::NewUpload {
                project,
                scene: None,
                asset_type: kind.into(),
                file_name: name.clone(),
                content_type: Some("application/octet-stream".into()),
                length: data.len() as i64,
            };
            let id = uploads::create(tx, &scratch, &new, Some(editors[0]), uploaded.now())
                .await
                .map_err(err)?;
            let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
                bytes::Bytes::from(data),
            )]);
            let done = uploads::append(
                tx,
                &scratch_store,
                id,
                0,
                body,
                Some(editors[0]),
                uploaded.now(),
            )
            .await
            .map_err(err)?;
            if kind == "Export" {
                let asset = done.asset.expect("the whole file");
                let settings = crate::config::Settings::defaults();
                // Hannah's links were made again last week (the first ones expired); Zoe's
                // work for a few more days, and she has been reminded.
                let at = if c.answered {
                    days_ago(7)
                } else {
                    days_ago(26)
                };
                let made = links::create(tx, &settings, &at, asset, Some(owner))
                    .await
                    .map_err(err)?;
                let _ = made.outgoing;
            }
        }
        let delivered = days_ago(delivered_days_ago);
        assets::mark_delivered(tx, &delivered, &studio.time_zone, project, owner)
            .await
            .map_err(err)?;
        for &(after, what, category, amount, receipt) in c.expenses {
            let e = expenses::NewExpense {
                expense_date: (wedding + Duration::days(after))
                    .format("%Y-%m-%d")
                    .to_string(),
                description: what.into(),
                category: category.into(),
                amount: amount.into(),
            };
            let r = receipt.then(|| expenses::Receipt {
                name: "hotel-receipt.txt".into(),
                data: bytes_of("hotel-receipt.txt"),
            });
            let at = Clock::Fixed(clock.now() - Duration::days(c.married_days_ago - after - 1));
            let (_, file) =
                expenses::create(tx, &scratch, project, &e, r.as_ref(), owner, at.now())
                    .await
                    .map_err(err)?;
            if let Some(f) = file {
                f.keep();
            }
        }
    }
    // The survey, sent by the nightly run's function on the day it was due (14 days after each
    // delivery); Hannah answered hers.
    let settings = crate::config::Settings::defaults();
    for c in &COUPLES {
        let due = Clock::Fixed(clock.now() - Duration::days(c.married_days_ago - 56 - 14));
        for m in surveys::send_due(tx, &settings, &due).await.map_err(err)? {
            drop(m);
        }
    }
    let hannah = &COUPLES[0];
    let (client, survey): (i32, i32) = sqlx::query_as(
        "SELECT p.client_id, s.id FROM client_feedback_surveys s JOIN projects p ON p.id = s.project_id
         JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id
         WHERE c.email = $1",
    )
    .bind(hannah.email)
    .fetch_one(&mut *tx)
    .await?;
    let answer = surveys::Answer {
        satisfaction_rating: "9".into(),
        nps_score: "10".into(),
        feedback_text: "We have watched the highlight film twenty times. Maya and Leo caught \
                        moments we did not even know happened. Thank you!"
            .into(),
    };
    let answered = Clock::Fixed(clock.now() - Duration::days(hannah.married_days_ago - 56 - 16));
    surveys::answer(tx, &answered, client, survey, &answer)
        .await
        .map_err(err)?;
    // Zoe's link expires within the week: the reminder went out.
    sqlx::query(
        "UPDATE delivery_links l SET reminded_at = l.expires_at - interval '6 days'
         FROM project_assets a JOIN projects p ON p.id = a.project_id
         JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id
         WHERE a.id = l.asset_id AND c.email = $1",
    )
    .bind(COUPLES[1].email)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM notifications WHERE id > $1")
        .bind(last_notification)
        .execute(&mut *tx)
        .await?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Their quote, through the builder's own functions: the ceremony and five hours of the
/// reception by the lead videographer, a Highlight Film and a Feature Film.
async fn quote(tx: &mut PgConnection, inquiry: i32) -> Result<i32> {
    use crate::quote::builds::{self, CoverageChange};
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let build = builds::create_for_inquiry(tx, inquiry, None)
        .await
        .map_err(err)?;
    let operator = id_of(tx, "operator_types", "Lead Videographer").await?;
    for (scene, hours) in [("Ceremony", None), ("Reception", Some(Decimal::new(5, 0)))] {
        let change = CoverageChange {
            scene: id_of(tx, "coverage_scenes", scene).await?,
            operator,
            quantity: 1,
            hours,
        };
        builds::add_coverage(tx, build, &change, None)
            .await
            .map_err(err)?;
    }
    for film in ["Highlight Film", "Feature Film"] {
        let film = id_of(tx, "deliverables", film).await?;
        builds::add_deliverable(tx, build, film, None)
            .await
            .map_err(err)?;
    }
    Ok(build)
}

async fn id_of(tx: &mut PgConnection, table: &str, name: &str) -> Result<i32> {
    Ok(
        sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE name = $1"))
            .bind(name)
            .fetch_one(tx)
            .await?,
    )
}

fn first(name: &str) -> &str {
    name.split(' ').next().unwrap_or(name)
}

fn last(name: &str) -> &str {
    name.rsplit(' ').next().unwrap_or(name)
}

/// Every invoice of the project paid on its due day (or on booking, when due before), by bank
/// transfer.
async fn pay_in_full(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: Clock,
    project: i32,
    owner: i32,
    today: NaiveDate,
) -> Result<()> {
    use crate::billing::payments;
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let settings = crate::config::Settings::defaults();
    let open: Vec<(i32, Decimal, Option<NaiveDate>, Option<NaiveDate>)> = sqlx::query_as(
        "SELECT id, total_amount - COALESCE(amount_paid, 0), due_date, issue_date FROM invoices
         WHERE project_id = $1 AND total_amount > COALESCE(amount_paid, 0)
           AND status IN ('Sent', 'Partially Paid', 'Overdue') ORDER BY due_date, id",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    for (n, (invoice, owed, due, issued)) in open.into_iter().enumerate() {
        let day = due.unwrap_or(today).max(issued.unwrap_or(today)).min(today);
        let at = Clock::Fixed(clock.now() - Duration::days((today - day).num_days()));
        let p = payments::NewPayment {
            amount: owed,
            date: day,
            method: payments::Method::BankTransfer,
            transaction_id: Some(format!("DEMO-{project}-{n}")),
        };
        let _ = payments::record(tx, &settings, studio, &at, invoice, &p, Some(owner))
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// Every task done in order (as its blockers finish), by the editors in turn, with the hours
/// each logged, in the weeks after the wedding.
async fn complete_tasks(
    tx: &mut PgConnection,
    clock: Clock,
    project: i32,
    editors: &[i32],
    owner: i32,
    married_days_ago: i64,
) -> Result<()> {
    use crate::production::{tasks, time};
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let mut day = married_days_ago - 1;
    for round in 0..40 {
        let ready: Vec<(i32, Option<Decimal>)> = sqlx::query_as(
            "SELECT id, planned_duration_hours FROM tasks
             WHERE project_id = $1 AND status = 'Ready to Start' ORDER BY due_date, id",
        )
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
        if ready.is_empty() {
            break;
        }
        for (i, (task, planned)) in ready.into_iter().enumerate() {
            let who = editors[(round + i) % editors.len().max(1)];
            let at = Clock::Fixed(clock.now() - Duration::days(day.max(60)));
            tasks::assign(tx, &[task], Some(who), at.now(), Some(owner))
                .await
                .map_err(err)?;
            let planned = planned.unwrap_or(Decimal::new(2, 0));
            // Each editor at their own pace: 90%, 105% and 120% of the plan.
            let pace = [
                Decimal::new(90, 2),
                Decimal::new(105, 2),
                Decimal::new(120, 2),
            ];
            let hours = (planned * pace[who as usize % 3])
                .round_dp(2)
                .max(Decimal::new(25, 2));
            time::add(tx, task, who, hours, None, at.now())
                .await
                .map_err(err)?;
            tasks::move_to(tx, task, "Completed", at.now())
                .await
                .map_err(err)?;
            day -= 1;
        }
    }
    Ok(())
}

/// Write the demo's files where they are missing (the rows hold their keys): under the data dir,
/// or the assets in the S3 bucket when one is configured.
pub async fn files(pool: &PgPool, storage: &crate::storage::Storage) -> Result<()> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT file_name, storage_path FROM project_assets WHERE storage_path IS NOT NULL
         UNION ALL SELECT receipt_name, receipt_path FROM project_expenses
         WHERE receipt_path IS NOT NULL AND receipt_name IS NOT NULL
         UNION ALL SELECT file_name, file_path FROM documents
         WHERE file_path LIKE 'uploads/demo-%' AND file_name IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    for (name, key) in rows {
        if crate::storage::path_of(storage.data_dir(), &key).is_err()
            || storage
                .exists(&key)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            continue;
        }
        storage
            .put(&key, bytes_of(&name))
            .await
            .map_err(|e| anyhow::anyhow!("writing the demo file {key}: {e}"))?;
    }
    Ok(())
}

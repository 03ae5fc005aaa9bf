//! The demo studio's production, through the same code as the app: two more editors (Nina and
//! Omar, who log in like Leo), Olivia's generated tasks assigned among the three, some done
//! with time logged at each editor's own speed (so that `projectflo jobs nightly` has averages
//! to learn), some in progress (Nina's timer running), some ready, some waiting for a blocker,
//! and comments (one for the couple, one @mentioning Leo).
use crate::clock::Clock;
use crate::production::{comments, dependencies, tasks, time};
use anyhow::Result;
use chrono::Duration;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use std::str::FromStr;

/// The demo's editors besides Leo: (first, last, email).
const EDITORS: [(&str, &str, &str); 2] = [
    ("Nina", "Alvarez", "nina@goldenhour.example"),
    ("Omar", "Haddad", "omar@goldenhour.example"),
];

pub async fn tasks(tx: &mut PgConnection, clock: Clock, olivia: i32) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    for (first, last, email) in EDITORS {
        sqlx::query(
            "WITH c AS (INSERT INTO contacts (first_name, last_name, email, type)
                        VALUES ($1, $2, $3, 'Contributor') RETURNING id),
                  co AS (INSERT INTO contributors (contact_id, role_id, contributor_type, hourly_cost)
                         SELECT c.id, r.id, 'Freelance', 42.00 FROM c, roles r WHERE r.name = 'Editor'
                         RETURNING id)
             INSERT INTO staff_credentials (contributor_id, password_hash, password_changed_at)
             SELECT co.id, cr.password_hash, cr.password_changed_at FROM co, staff_credentials cr
             JOIN contributors l ON l.id = cr.contributor_id
             JOIN contacts lc ON lc.id = l.contact_id AND lc.email = 'leo@goldenhour.example'",
        )
        .bind(first)
        .bind(last)
        .bind(email)
        .execute(&mut *tx)
        .await?;
    }
    let people: Vec<(String, i32)> = sqlx::query_as(
        "SELECT c.first_name, co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email IN ('leo@goldenhour.example', 'nina@goldenhour.example',
                           'omar@goldenhour.example')",
    )
    .fetch_all(&mut *tx)
    .await?;
    let who = |name: &str| {
        people
            .iter()
            .find(|p| p.0 == name)
            .map(|p| p.1)
            .unwrap_or(0)
    };
    let (leo, nina, omar) = (who("Leo"), who("Nina"), who("Omar"));
    let maya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&mut *tx)
    .await?;
    // Olivia's tasks by (template, film, scene).
    let rows: Vec<(i32, String, String, String)> = sqlx::query_as(
        "SELECT t.id, tt.name, d.name, s.name FROM tasks t
         JOIN task_templates tt ON tt.id = t.task_template_id
         JOIN build_components bc ON bc.id = t.build_component_id
         JOIN build_deliverables bd ON bd.id = bc.build_deliverable_id
         JOIN deliverables d ON d.id = bd.deliverable_id
         JOIN coverage_scenes s ON s.id = bc.coverage_scene_id
         WHERE bd.build_id = $1 ORDER BY t.id",
    )
    .bind(olivia)
    .fetch_all(&mut *tx)
    .await?;
    let task = |template: &str, film: &str, scene: &str| {
        rows.iter()
            .find(|r| r.1 == template && r.2 == film && r.3 == scene)
            .map(|r| r.0)
            .ok_or_else(|| anyhow::anyhow!("the demo has no {template} for {film}: {scene}"))
    };
    let ago = |days: i64, hours: i64| clock.now() - Duration::days(days) - Duration::hours(hours);
    // Done, at each one's speed: (task, editor, hours logged, days ago).
    let done = [
        (
            task("Sync & Organise", "Feature Film", "Ceremony")?,
            leo,
            "1.40",
            9,
        ),
        (
            task("Sync & Organise", "Teaser", "Reception")?,
            leo,
            "1.50",
            8,
        ),
        (
            task("Sync & Organise", "Feature Film", "Reception")?,
            nina,
            "1.10",
            8,
        ),
        (
            task("Sync & Organise", "Teaser", "First Look")?,
            omar,
            "1.90",
            7,
        ),
        (
            task("Documentary Colour Correction", "Feature Film", "Ceremony")?,
            omar,
            "1.60",
            5,
        ),
        (
            task("Cinematic Colour Grade", "Teaser", "First Look")?,
            nina,
            "0.90",
            4,
        ),
    ];
    for (t, editor, hours, days) in done {
        let at = ago(days, 3);
        tasks::assign(tx, &[t], Some(editor), at, None)
            .await
            .map_err(err)?;
        tasks::move_to(tx, t, crate::production::rules::IN_PROGRESS, at)
            .await
            .map_err(err)?;
        let h = Decimal::from_str(hours)?;
        time::add(tx, t, editor, h, Some("Demo"), ago(days, 1))
            .await
            .map_err(err)?;
        tasks::move_to(tx, t, crate::production::rules::COMPLETED, ago(days, 1))
            .await
            .map_err(err)?;
    }
    // In progress: Nina's fine cut (3.5 h so far, her timer running), Omar's teaser cut.
    let fine_cut = task("Feature Fine Cut", "Feature Film", "Ceremony")?;
    tasks::assign(tx, &[fine_cut], Some(nina), ago(3, 0), None)
        .await
        .map_err(err)?;
    for (h, days) in [("2.00", 2), ("1.50", 1)] {
        time::add(
            tx,
            fine_cut,
            nina,
            Decimal::from_str(h)?,
            Some("Assembly"),
            ago(days, 0),
        )
        .await
        .map_err(err)?;
    }
    time::start(tx, fine_cut, nina, clock.now() - Duration::minutes(40))
        .await
        .map_err(err)?;
    let teaser = task("Teaser Cut", "Teaser", "First Look")?;
    tasks::assign(tx, &[teaser], Some(omar), ago(2, 0), None)
        .await
        .map_err(err)?;
    time::add(
        tx,
        teaser,
        omar,
        Decimal::from_str("1.20")?,
        None,
        ago(1, 2),
    )
    .await
    .map_err(err)?;
    tasks::move_to(tx, teaser, crate::production::rules::IN_PROGRESS, ago(1, 2))
        .await
        .map_err(err)?;
    // Ready for Leo and Nina; the mixes wait for their fine cuts (added by hand).
    let reception_cut = task("Feature Fine Cut", "Feature Film", "Reception")?;
    tasks::assign(tx, &[reception_cut], Some(leo), ago(2, 0), None)
        .await
        .map_err(err)?;
    let reception_grade = task("Documentary Colour Correction", "Feature Film", "Reception")?;
    tasks::assign(tx, &[reception_grade], Some(nina), ago(2, 0), None)
        .await
        .map_err(err)?;
    for scene in ["Ceremony", "Reception"] {
        let mix = task("Audio Mix & Master", "Feature Film", scene)?;
        let cut = task("Feature Fine Cut", "Feature Film", scene)?;
        dependencies::add(tx, cut, mix, ago(2, 0), None)
            .await
            .map_err(err)?;
    }
    let mix = task("Audio Mix & Master", "Feature Film", "Ceremony")?;
    tasks::assign(tx, &[mix], Some(omar), ago(2, 0), None)
        .await
        .map_err(err)?;
    comments::add(
        tx,
        fine_cut,
        maya,
        "@leo Nina has the ceremony; can you take the reception's fine cut this week?",
        "Internal",
        ago(2, 0),
    )
    .await
    .map_err(err)?;
    comments::add(
        tx,
        fine_cut,
        nina,
        "The ceremony is cut together: the vows and the first kiss are in.",
        "Client-Visible",
        ago(1, 0),
    )
    .await
    .map_err(err)?;
    Ok(())
}

//! What the reports need from the demo studio beyond what its other stories make: every
//! person costs something per hour (the demo team has its costs; a person added later without
//! one gets their role's typical cost), and every wedding that has happened has a crew on its
//! shoot day (the lines without one get Maya, then Sam, through the calendar's own code; a
//! line that would double-book someone is left as it is), so that profitability counts labour
//! and crew on whatever projects the demo holds.
use crate::clock::Clock;
use anyhow::Result;
use sqlx::PgConnection;

pub async fn demo(tx: &mut PgConnection, clock: Clock) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    sqlx::query(
        "UPDATE contributors co SET hourly_cost = CASE r.name
           WHEN 'Owner' THEN 60 WHEN 'Admin' THEN 35 WHEN 'Sales' THEN 32
           WHEN 'Editor' THEN 42 WHEN 'Videographer' THEN 55 WHEN 'Bookkeeper' THEN 30
           ELSE 40 END
         FROM roles r WHERE r.id = co.role_id AND co.hourly_cost IS NULL",
    )
    .execute(&mut *tx)
    .await?;
    let tz = crate::studio::Studio::load(tx)
        .await
        .map_err(err)?
        .time_zone;
    let today = clock.today(&tz);
    let crew: Vec<i32> = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email IN ('maya@goldenhour.example', 'sam@goldenhour.example')
         ORDER BY c.email",
    )
    .fetch_all(&mut *tx)
    .await?;
    let Some(&maya) = crew.first() else {
        return Ok(());
    };
    let projects: Vec<i32> = sqlx::query_scalar(
        "SELECT p.id FROM projects p WHERE p.wedding_date < $1
           AND NOT EXISTS (SELECT 1 FROM calendar_events e WHERE e.project_id = p.id
                           AND e.event_type = 'PROJECT_ASSIGNMENT' AND e.cancelled_at IS NULL)
         ORDER BY p.wedding_date, p.id",
    )
    .bind(today)
    .fetch_all(&mut *tx)
    .await?;
    use crate::calendar::crew as shoot;
    for project in projects {
        let p = shoot::project(tx, project).await.map_err(err)?;
        let lines = shoot::lines(tx, &p, &tz).await.map_err(err)?;
        for (i, line) in lines.iter().enumerate() {
            let who = crew[i.min(crew.len() - 1)];
            // A refusal (someone already booked then) leaves the line to the studio.
            let _ = shoot::assign(tx, &tz, maya, (project, line.id, who), clock.now()).await;
        }
    }
    Ok(())
}

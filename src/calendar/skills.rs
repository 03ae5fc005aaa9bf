//! Who can fill which operator type (`contributor_operator_types`): the page
//! `/calendar/crew-skills`, a grid of the active team by operator type. The crew picker offers
//! those who fit a line first, and "who can shoot" is everyone with at least one.
use super::availability::ACTIVE;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppResult;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/calendar/crew-skills", Access::Staff, page)
        .post(
            "/calendar/crew-skills",
            Access::Perm(Permission::BookingsManage),
            save,
        )
}

#[derive(Template)]
#[template(path = "calendar/skills.html")]
struct SkillsPage {
    layout: Layout,
    types: Vec<(i32, String)>,
    /// (id, name, role, the operator types they can fill)
    people: Vec<(i32, String, String, Vec<i32>)>,
    can_edit: bool,
    saved: bool,
}

impl SkillsPage {
    fn has(&self, can: &[i32], t: &i32) -> bool {
        can.contains(t)
    }
}

async fn view(conn: &mut PgConnection, staff: &Staff, saved: bool) -> AppResult<SkillsPage> {
    let layout = Layout::load(conn, staff, "Crew skills", "/calendar").await?;
    let types: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, name FROM operator_types ORDER BY name, id LIMIT 200")
            .fetch_all(&mut *conn)
            .await?;
    let people: Vec<(i32, String, String, Vec<i32>)> = sqlx::query_as(&format!(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, r.name AS role,
                ARRAY(SELECT t.operator_type_id FROM contributor_operator_types t
                      WHERE t.contributor_id = co.id ORDER BY 1) AS can
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN roles r ON r.id = co.role_id
         WHERE {ACTIVE} ORDER BY name, co.id LIMIT 500"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(SkillsPage {
        can_edit: staff.can(Permission::BookingsManage),
        layout,
        types,
        people,
        saved,
    })
}

#[derive(serde::Deserialize, Default)]
struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    mut db: Db,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<Saved>,
) -> AppResult<Response> {
    Ok(render(&view(&mut db, &staff, q.saved.is_some()).await?))
}

/// The whole grid as sent: `can` = "person:type" for each box ticked. Replaces the active
/// team's skills in one transaction, audited.
async fn save(mut db: Db, staff: Staff, body: String) -> AppResult<Response> {
    let pairs: Vec<(i32, i32)> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| k == "can")
        .filter_map(|(_, v)| {
            let (a, b) = v.split_once(':')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect();
    let who: Vec<i32> = pairs.iter().map(|p| p.0).collect();
    let types: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    crate::db::transaction(&mut db, async |tx| {
        sqlx::query(&format!(
            "DELETE FROM contributor_operator_types t USING contributors co
             WHERE co.id = t.contributor_id AND {ACTIVE}"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO contributor_operator_types (contributor_id, operator_type_id)
             SELECT DISTINCT p.who, p.t FROM unnest($1::int[], $2::int[]) AS p(who, t)
             JOIN contributors co ON co.id = p.who JOIN operator_types o ON o.id = p.t",
        )
        .bind(&who)
        .bind(&types)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            tx,
            Some(staff.contributor_id),
            "calendar.crew_skills",
            "contributor",
            None,
            serde_json::json!({"pairs": pairs.len()}),
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/calendar/crew-skills?saved=1").into_response())
}

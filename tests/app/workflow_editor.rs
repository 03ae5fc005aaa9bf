//! The workflow editor beyond its steps' fields: a step moved up or down (running projects'
//! timelines follow the order), a workflow renamed, paused and resumed, deleted only when it
//! never joined a project; the postponement page lists the workflow steps it re-times; a
//! questionnaire's file answer named by the documents' one sanitizer.
use crate::helpers::{Session, Template, TestApp};
use crate::workflows::{booked, day, la, pass, six_steps, timed_email, workflow};
use projectflo::clock::Clock;

async fn app() -> TestApp {
    TestApp::with_settings_at(Template::Empty, Clock::Fixed(la(2027, 2, 21, 12)), |_| {}).await
}

/// (step name, position) of a workflow's steps, in order.
async fn order(app: &TestApp, workflow: i32) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM workflow_steps WHERE workflow_id = $1 ORDER BY position")
        .bind(workflow)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

async fn step_id(app: &TestApp, workflow: i32, name: &str) -> i32 {
    sqlx::query_scalar("SELECT id FROM workflow_steps WHERE workflow_id = $1 AND name = $2")
        .bind(workflow)
        .bind(name)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn post(s: &Session, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    s.client.post(s.url(path)).form(&all).send().await.unwrap()
}

#[tokio::test]
async fn a_step_moves_up_and_down_and_the_running_timeline_follows() {
    let app = app().await;
    let (project, _) = booked(
        &app,
        "ana.order@example.com",
        day(2027, 9, 18),
        day(2027, 2, 20),
    )
    .await;
    let w = workflow(
        &app,
        "Order",
        vec![
            timed_email("A", "booking_date", 1, "days", "after"),
            timed_email("B", "wedding_date", 1, "months", "before"),
            timed_email("C", "wedding_date", 1, "weeks", "before"),
        ],
    )
    .await;
    pass(&app, la(2027, 2, 20, 15)).await; // attached: the project runs it
    let owner = app.owner().await;
    let c = step_id(&app, w, "C").await;
    let path = format!("/settings/workflows/{w}/steps/{c}/move");
    let resp = post(&owner, &path, &[("to", "up")]).await;
    assert_eq!(resp.status(), 303, "no confirmation: no time moves");
    assert_eq!(order(&app, w).await, ["A", "C", "B"]);
    post(&owner, &path, &[("to", "up")]).await;
    assert_eq!(order(&app, w).await, ["C", "A", "B"]);
    // Already first: stays.
    assert_eq!(post(&owner, &path, &[("to", "up")]).await.status(), 303);
    assert_eq!(order(&app, w).await, ["C", "A", "B"]);
    let a = step_id(&app, w, "A").await;
    let down = format!("/settings/workflows/{w}/steps/{a}/move");
    post(&owner, &down, &[("to", "down")]).await;
    assert_eq!(order(&app, w).await, ["C", "B", "A"]);
    // The project's timeline shows the new order; no step's time moved.
    let runs: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM workflow_step_runs WHERE project_id = $1 ORDER BY position",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(runs, ["C", "B", "A"]);
    // The page offers the moves by name; nonsense is refused by the field, and a step of
    // another workflow is not found.
    let html = owner
        .get(&format!("/settings/workflows/{w}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Move up: B") && html.contains("Move down: B"),
        "{html}"
    );
    assert!(!html.contains("Move up: C") && !html.contains("Move down: A"));
    assert_eq!(
        post(&owner, &path, &[("to", "sideways")]).await.status(),
        422
    );
    let other = workflow(
        &app,
        "Other",
        vec![timed_email("X", "booking_date", 1, "days", "after")],
    )
    .await;
    let bad = format!("/settings/workflows/{other}/steps/{c}/move");
    assert_eq!(post(&owner, &bad, &[("to", "up")]).await.status(), 404);
}

#[tokio::test]
async fn a_workflow_is_renamed_paused_resumed_and_deleted_only_if_it_never_ran() {
    let app = app().await;
    let w = workflow(
        &app,
        "Main",
        vec![timed_email("Hi", "booking_date", 1, "days", "after")],
    )
    .await;
    let spare = workflow(&app, "Spare", vec![]).await;
    sqlx::query("UPDATE workflow_templates SET active = (id = $1)")
        .bind(w)
        .execute(&app.db)
        .await
        .unwrap();
    let owner = app.owner().await;
    // Rename: a taken name is refused by the field, a free one kept.
    let taken = post(
        &owner,
        &format!("/settings/workflows/{w}/rename"),
        &[("name", "Spare")],
    )
    .await;
    assert_eq!(taken.status(), 409);
    assert!(taken.text().await.unwrap().contains("already called"));
    let blank = post(
        &owner,
        &format!("/settings/workflows/{w}/rename"),
        &[("name", "  ")],
    )
    .await;
    assert_eq!(blank.status(), 422);
    let ok = post(
        &owner,
        &format!("/settings/workflows/{w}/rename"),
        &[("name", "Main timeline")],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let name: String = sqlx::query_scalar("SELECT name FROM workflow_templates WHERE id = $1")
        .bind(w)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(name, "Main timeline");
    // Paused: a new booking does not get it; resumed: it does.
    assert_eq!(
        post(&owner, &format!("/settings/workflows/{w}/pause"), &[])
            .await
            .status(),
        303
    );
    let page = owner
        .get(&format!("/settings/workflows/{w}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"paused\"") && page.contains("Resume the workflow"),
        "{page}"
    );
    let list = owner.get("/settings/workflows").await.text().await.unwrap();
    assert!(list.contains("Paused"));
    booked(
        &app,
        "ana.pause@example.com",
        day(2027, 9, 18),
        day(2027, 2, 20),
    )
    .await;
    assert_eq!(pass(&app, la(2027, 2, 20, 15)).await.attached, 0);
    assert_eq!(
        post(&owner, &format!("/settings/workflows/{w}/resume"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(pass(&app, la(2027, 2, 20, 16)).await.attached, 1);
    // It joined a project: delete is refused (pause it instead), nothing removed.
    let refused = post(&owner, &format!("/settings/workflows/{w}/delete"), &[]).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("pause it instead"));
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM workflow_templates WHERE id = $1")
        .bind(w)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(still, 1);
    // One that never ran is deleted.
    let gone = post(&owner, &format!("/settings/workflows/{spare}/delete"), &[]).await;
    assert_eq!(gone.status(), 303);
    assert_eq!(gone.headers()["location"], "/settings/workflows");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM workflow_templates WHERE id = $1")
        .bind(spare)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'workflows.edit' AND entity_id IN ($1, $2)",
    )
    .bind(w)
    .bind(spare)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 4, "renamed, paused, resumed, deleted");
    // Only whoever manages the settings may.
    let (editor, _) = app.staff("Editor").await;
    assert_eq!(
        post(&editor, &format!("/settings/workflows/{w}/pause"), &[])
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_postponement_preview_lists_the_steps_it_re_times_and_changes_nothing() {
    let app = app().await;
    let (project, _) = booked(
        &app,
        "ana.move@example.com",
        day(2027, 9, 18),
        day(2027, 2, 20),
    )
    .await;
    workflow(&app, "Timeline", six_steps()).await;
    pass(&app, la(2027, 2, 20, 15)).await;
    pass(&app, la(2027, 2, 21, 9)).await; // the welcome, a day after booking, has gone
    let before: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT name, due_at FROM workflow_step_runs WHERE project_id = $1 ORDER BY position",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let owner = app.owner().await;
    let html = owner
        .get(&format!(
            "/projects/{project}/postpone?wedding_date=2027-10-16"
        ))
        .await
        .text()
        .await
        .unwrap();
    let table = html
        .split("id=\"retimed-steps\"")
        .nth(1)
        .expect("the steps it re-times")
        .split("</table>")
        .next()
        .unwrap();
    // The steps counted from the wedding move four weeks, at the same local time; the welcome
    // (done) is not listed.
    for (step, from, to) in [
        ("Six months to go", "Mar 18, 2027", "Apr 16, 2027"),
        ("One week to go", "Sep 11, 2027", "Oct 9, 2027"),
        ("Two weeks after", "Oct 2, 2027", "Oct 30, 2027"),
    ] {
        let row = table
            .split("<tr>")
            .find(|r| r.contains(step))
            .unwrap_or_else(|| panic!("{step} in {table}"));
        assert!(row.contains(from) && row.contains(to), "{row}");
        assert!(row.contains("9:00"), "{row}");
    }
    assert!(!table.contains("Welcome"));
    let after: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT name, due_at FROM workflow_step_runs WHERE project_id = $1 ORDER BY position",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(before, after, "a preview writes nothing");
}

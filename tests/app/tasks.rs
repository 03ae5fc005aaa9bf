//! Production (Phase 5): tasks generated on booking and after change orders (idempotent, worked
//! tasks survive), planned hours following the assignee, due days, dependencies both ways and
//! cycles refused, time, comments and mentions, postponement, and the nightly learning run
//! twice and from two processes at once.
use crate::helpers::{TestApp, assert_problem, build_of, contributor};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Book Sofia (Feature Film of the reception) by hand: her project.
async fn book_sofia(app: &TestApp) -> i32 {
    let sales = app.demo_login("Sales").await;
    let sofia = build_of(app, "sofia.garcia@example.com").await;
    let booked = sales
        .post_form(
            &format!("/quotes/{sofia}/book"),
            &[("reason", "Signed on paper")],
        )
        .await;
    assert_eq!(booked.status(), 303);
    sqlx::query_scalar("SELECT project_id FROM builds WHERE id = $1")
        .bind(sofia)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The project's tasks as "template:status", ordered by template name then id.
async fn tasks_of(app: &TestApp, project: i32) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tt.name || ':' || t.status FROM tasks t
         JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE t.project_id = $1 ORDER BY tt.name, t.id",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// The id of the project's task of this template (the first, by id).
async fn task(app: &TestApp, project: i32, template: &str) -> i32 {
    sqlx::query_scalar(
        "SELECT t.id FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE t.project_id = $1 AND tt.name = $2 ORDER BY t.id LIMIT 1",
    )
    .bind(project)
    .bind(template)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn status(app: &TestApp, task: i32) -> String {
    sqlx::query_scalar("SELECT status::text FROM tasks WHERE id = $1")
        .bind(task)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn booking_generates_one_task_per_component_and_template_and_a_rerun_changes_nothing() {
    let app = TestApp::demo().await;
    let project = book_sofia(&app).await;
    // The reception's Feature Film (Documentary, 5 minutes): the recipes select these four.
    assert_eq!(
        tasks_of(&app, project).await,
        [
            "Audio Mix & Master:Ready to Start",
            "Documentary Colour Correction:Ready to Start",
            "Feature Fine Cut:Ready to Start",
            "Sync & Organise:Ready to Start",
        ]
    );
    // Feature Fine Cut: 3 + 0.6 x 5 minutes = 6 hours (within 4..30), the template's effort;
    // due a week before the delivery (12 weeks after the wedding): Post-Production is the
    // third of four phases.
    let fine_cut = task(&app, project, "Feature Fine Cut").await;
    let owner = app.demo_login("Owner").await;
    let t: Value = owner
        .get(&format!("/api/v1/tasks/{fine_cut}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["planned_duration_hours"], "6.00", "{t}");
    assert_eq!(
        t["planned_source"],
        "the template's effort for this part of the film"
    );
    assert_eq!(t["part"], "Feature Film: Reception");
    let wedding: NaiveDate = t["wedding_date"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        t["due_date"].as_str().unwrap(),
        (wedding + Days::new(77)).to_string()
    );
    // Run again: nothing added, archived or brought back; the same four tasks.
    let again: Value = owner
        .post_json(
            &format!("/api/v1/projects/{project}/tasks/generate"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, json!({"added": 0, "archived": 0, "restored": 0}));
    assert_eq!(tasks_of(&app, project).await.len(), 4);
    // The database refuses a second task for a (component, template).
    let dup = sqlx::query(
        "INSERT INTO tasks (project_id, build_component_id, task_template_id)
         SELECT project_id, build_component_id, task_template_id FROM tasks WHERE id = $1",
    )
    .bind(fine_cut)
    .execute(&app.db)
    .await
    .unwrap_err();
    assert_eq!(
        dup.as_database_error().unwrap().code().as_deref(),
        Some("23505")
    );
}

/// Olivia's (booked in the demo) component of a film and scene.
async fn component(app: &TestApp, build: i32, film: &str, scene: &str) -> (i32, i32, String) {
    let (id, style, minutes): (i32, i32, Option<Decimal>) = sqlx::query_as(
        "SELECT c.id, c.editing_style_id, c.target_minutes FROM build_components c
         JOIN build_deliverables bd ON bd.id = c.build_deliverable_id
         JOIN deliverables d ON d.id = bd.deliverable_id
         JOIN coverage_scenes s ON s.id = c.coverage_scene_id
         WHERE bd.build_id = $1 AND d.name = $2 AND s.name = $3",
    )
    .bind(build)
    .bind(film)
    .bind(scene)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (
        id,
        style,
        minutes.map(|m| m.to_string()).unwrap_or_default(),
    )
}

#[tokio::test]
async fn change_orders_add_and_archive_tasks_and_worked_tasks_survive() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let project: i32 = sqlx::query_scalar("SELECT project_id FROM builds WHERE id = $1")
        .bind(olivia)
        .fetch_one(&app.db)
        .await
        .unwrap();
    // The demo's waiting change (Rush Delivery, version 4) approved: add-ons only, no task moves.
    let before = tasks_of(&app, project).await;
    let answer = |v: i32| format!("/quotes/{olivia}/change-orders/{v}/answer");
    let approved = owner.post_form(&answer(4), &[("answer", "approve")]).await;
    assert_eq!(approved.status(), 303);
    assert_eq!(tasks_of(&app, project).await, before);

    // Leo works on the Teaser's reception part: its cut in progress with time logged, its grade
    // completed.
    let teaser_reception = component(&app, olivia, "Teaser", "Reception").await;
    let part_task = |template: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i32>(
                "SELECT t.id FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
                 WHERE t.build_component_id = $1 AND tt.name = $2",
            )
            .bind(teaser_reception.0)
            .bind(template)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let cut = part_task("Teaser Cut").await;
    let grade = part_task("Cinematic Colour Grade").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    let assigned = owner
        .post_json(
            "/api/v1/tasks/assign",
            &json!({"task_ids": [cut, grade], "assignee": leo}),
        )
        .await;
    assert_eq!(assigned.status(), 200);
    let editor = app.demo_login("Editor").await;
    let logged = editor
        .post_json(
            &format!("/api/v1/tasks/{cut}/time-entries"),
            &json!({"hours": "2.5", "note": "First pass"}),
        )
        .await;
    assert_eq!(logged.status(), 201);
    for to in ["In Progress", "Completed"] {
        let moved = editor
            .post_json(
                &format!("/api/v1/tasks/{grade}/status"),
                &json!({"status": to}),
            )
            .await;
        assert_eq!(moved.status(), 200, "{}", moved.text().await.unwrap());
    }
    let moved = editor
        .post_json(
            &format!("/api/v1/tasks/{cut}/status"),
            &json!({"status": "In Progress"}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    // A film with work logged cannot be removed (its tasks would go with it).
    let teaser_film: i32 =
        sqlx::query_scalar("SELECT build_deliverable_id FROM build_components WHERE id = $1")
            .bind(teaser_reception.0)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let removed = owner
        .delete(&format!(
            "/api/v1/builds/{olivia}/deliverables/{teaser_film}"
        ))
        .await;
    assert_problem(removed, 409).await;

    // The change: the Teaser's reception part left out, a Highlight Film added.
    let (comp, style, minutes) = teaser_reception.clone();
    let put = |included: bool| json!({"editing_style_id": style, "target_minutes": minutes, "is_included": included});
    let excluded = owner
        .put_json(
            &format!("/api/v1/builds/{olivia}/components/{comp}"),
            &put(false),
        )
        .await;
    assert_eq!(excluded.status(), 200, "{}", excluded.text().await.unwrap());
    let highlight: i32 =
        sqlx::query_scalar("SELECT id FROM deliverables WHERE name = 'Highlight Film'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let added = owner
        .post_json(
            &format!("/api/v1/builds/{olivia}/deliverables"),
            &json!({"deliverable_id": highlight}),
        )
        .await;
    assert!(
        added.status().is_success(),
        "{}",
        added.text().await.unwrap()
    );
    let propose = |what: &'static str| {
        let owner = &owner;
        async move {
            let proposed = owner
                .post_form(
                    &format!("/quotes/{olivia}/change-orders"),
                    &[("description", what)],
                )
                .await;
            assert_eq!(proposed.status(), 303, "{}", proposed.text().await.unwrap());
        }
    };
    propose("A highlight film; no teaser of the reception").await;
    // Nothing moves before the couple approves.
    assert_eq!(status(&app, cut).await, "In Progress");
    let approved = owner.post_form(&answer(5), &[("answer", "approve")]).await;
    assert_eq!(approved.status(), 303);
    let after = tasks_of(&app, project).await;
    // The highlight film's parts (Ceremony and Reception, Cinematic) have their tasks.
    let highlight_tasks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tasks t JOIN build_components c ON c.id = t.build_component_id
         JOIN build_deliverables bd ON bd.id = c.build_deliverable_id
         WHERE bd.build_id = $1 AND bd.deliverable_id = $2 AND t.status <> 'Archived'",
    )
    .bind(olivia)
    .bind(highlight)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(highlight_tasks, 6, "{after:?}");
    // The left-out part: its cut archived with its time, its completed grade as it was.
    assert_eq!(status(&app, cut).await, "Archived");
    assert_eq!(status(&app, grade).await, "Completed");
    let hours: Option<Decimal> =
        sqlx::query_scalar("SELECT actual_duration_hours FROM tasks WHERE id = $1")
            .bind(cut)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(hours, Some(d("2.50")));
    // Never a duplicate: one task per (component, template).
    let dups: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE project_id = $1
         GROUP BY build_component_id, task_template_id HAVING count(*) > 1) x",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(dups, 0);
    // The part back in: the cut returns as it was (In Progress, its time kept).
    let included = owner
        .put_json(
            &format!("/api/v1/builds/{olivia}/components/{comp}"),
            &put(true),
        )
        .await;
    assert_eq!(included.status(), 200);
    propose("The reception teaser back").await;
    let approved = owner.post_form(&answer(6), &[("answer", "approve")]).await;
    assert_eq!(approved.status(), 303);
    assert_eq!(status(&app, cut).await, "In Progress");
    assert_eq!(tasks_of(&app, project).await.len(), after.len());
    // Rerun by hand: nothing to do.
    let again: Value = owner
        .post_json(
            &format!("/api/v1/projects/{project}/tasks/generate"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, json!({"added": 0, "archived": 0, "restored": 0}));
    // A declined change of add-ons keeps every task (the films are not made again).
    let ids_before: Vec<i32> =
        sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 ORDER BY id")
            .bind(project)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let item: i32 = sqlx::query_scalar(
        "SELECT id FROM billable_items WHERE is_active
         AND id NOT IN (SELECT billable_item_id FROM editing_style_requirements)
         AND id NOT IN (SELECT billable_item_id FROM build_billable_items WHERE build_id = $1)
         ORDER BY id LIMIT 1",
    )
    .bind(olivia)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let extra = owner
        .post_form(
            &format!("/quotes/{olivia}/billables"),
            &[("billable_item_id", &item.to_string()), ("quantity", "1")],
        )
        .await;
    assert_eq!(extra.status(), 303);
    propose("An extra").await;
    let declined = owner.post_form(&answer(7), &[("answer", "decline")]).await;
    assert_eq!(declined.status(), 303);
    let ids_after: Vec<i32> =
        sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 ORDER BY id")
            .bind(project)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(ids_after, ids_before);
    assert_eq!(status(&app, cut).await, "In Progress");
    // A declined change of the films (a Ceremony Edit added, the worked reception part of the
    // Teaser left out) puts the films back without touching the others: every task keeps its
    // id, the cut its status and its time; the new film is gone.
    let ceremony_edit: i32 =
        sqlx::query_scalar("SELECT id FROM deliverables WHERE name = 'Ceremony Edit'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let added = owner
        .post_json(
            &format!("/api/v1/builds/{olivia}/deliverables"),
            &json!({"deliverable_id": ceremony_edit}),
        )
        .await;
    assert!(added.status().is_success());
    let excluded = owner
        .put_json(
            &format!("/api/v1/builds/{olivia}/components/{comp}"),
            &put(false),
        )
        .await;
    assert_eq!(excluded.status(), 200);
    propose("A ceremony edit in place of the reception teaser").await;
    let declined = owner.post_form(&answer(8), &[("answer", "decline")]).await;
    assert_eq!(declined.status(), 303);
    let ids_after: Vec<i32> =
        sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 ORDER BY id")
            .bind(project)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(ids_after, ids_before);
    assert_eq!(status(&app, cut).await, "In Progress");
    let (hours, included): (Option<Decimal>, Option<bool>) = sqlx::query_as(
        "SELECT t.actual_duration_hours, c.is_included FROM tasks t
         JOIN build_components c ON c.id = t.build_component_id WHERE t.id = $1",
    )
    .bind(cut)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((hours, included), (Some(d("2.50")), Some(true)));
    let films: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM build_deliverables WHERE build_id = $1 AND deliverable_id = $2",
    )
    .bind(olivia)
    .bind(ceremony_edit)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(films, 0);
}

/// Sofia booked with phases that chain her film's tasks: Sync & Organise (Production) blocks
/// the cut and the grade (Post-Production), which block the mix (Delivery).
async fn chained_sofia(app: &TestApp) -> (i32, [i32; 4]) {
    sqlx::query(
        "UPDATE task_templates SET phase = CASE name WHEN 'Sync & Organise' THEN 'Production'
                WHEN 'Audio Mix & Master' THEN 'Delivery' ELSE phase END",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let project = book_sofia(app).await;
    let ids = [
        task(app, project, "Sync & Organise").await,
        task(app, project, "Feature Fine Cut").await,
        task(app, project, "Documentary Colour Correction").await,
        task(app, project, "Audio Mix & Master").await,
    ];
    (project, ids)
}

#[tokio::test]
async fn ready_to_start_follows_the_blockers_both_ways_and_cycles_are_refused() {
    let app = TestApp::demo().await;
    let (project, [sync, cut, grade, mix]) = chained_sofia(&app).await;
    let owner = app.demo_login("Owner").await;
    let all = async || {
        let mut out = vec![];
        for t in [sync, cut, grade, mix] {
            out.push(status(&app, t).await);
        }
        out
    };
    assert_eq!(all().await, ["Ready to Start", "To-Do", "To-Do", "To-Do"]);
    let t: Value = owner
        .get(&format!("/api/v1/tasks/{mix}"))
        .await
        .json()
        .await
        .unwrap();
    let mut blockers: Vec<i64> = t["blocked_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    blockers.sort();
    assert_eq!(blockers, [cut as i64, grade as i64]);
    // Due days by phase: the mix on the delivery day, the cut a week before, sync two.
    let due = |t: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, NaiveDate>("SELECT due_date FROM tasks WHERE id = $1")
                .bind(t)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(due(mix).await - due(cut).await, chrono::Duration::days(7));
    assert_eq!(due(cut).await - due(sync).await, chrono::Duration::days(7));
    let move_to = async |t: i32, to: &str| {
        owner
            .post_json(&format!("/api/v1/tasks/{t}/status"), &json!({"status": to}))
            .await
    };
    assert_eq!(move_to(sync, "In Progress").await.status(), 200);
    assert_eq!(move_to(sync, "Completed").await.status(), 200);
    assert_eq!(
        all().await,
        ["Completed", "Ready to Start", "Ready to Start", "To-Do"]
    );
    // Reopened: the cut and the grade wait again.
    assert_eq!(move_to(sync, "In Progress").await.status(), 200);
    assert_eq!(all().await, ["In Progress", "To-Do", "To-Do", "To-Do"]);
    let completed_at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT completed_at FROM tasks WHERE id = $1")
            .bind(sync)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(completed_at, None);
    // A move not allowed names the field.
    let p = assert_problem(move_to(mix, "Archived").await, 409).await;
    assert_eq!(p["errors"][0]["field"], "status", "{p}");
    // The mix blocking the sync would close a cycle: refused, the cycle named task by task.
    let cycle = owner
        .post_json(
            &format!("/api/v1/tasks/{sync}/dependencies"),
            &json!({"blocking_task_id": mix}),
        )
        .await;
    let p = assert_problem(cycle, 409).await;
    let text = p.to_string();
    for t in [sync, mix] {
        assert!(text.contains(&format!("#{t}")), "{text}");
    }
    assert!(text.contains("cycle"), "{text}");
    // A task on itself too.
    let itself = owner
        .post_json(
            &format!("/api/v1/tasks/{cut}/dependencies"),
            &json!({"blocking_task_id": cut}),
        )
        .await;
    assert_problem(itself, 409).await;
    // By hand: the grade waits for the cut, then not.
    let added = owner
        .post_json(
            &format!("/api/v1/tasks/{grade}/dependencies"),
            &json!({"blocking_task_id": cut}),
        )
        .await;
    assert_eq!(added.status(), 200);
    assert_eq!(move_to(sync, "Completed").await.status(), 200);
    assert_eq!(
        all().await,
        ["Completed", "Ready to Start", "To-Do", "To-Do"]
    );
    let removed = owner
        .delete(&format!("/api/v1/tasks/{grade}/dependencies/{cut}"))
        .await;
    assert_eq!(removed.status(), 200);
    assert_eq!(status(&app, grade).await, "Ready to Start");
    let _ = project;
}

#[tokio::test]
async fn planned_hours_follow_the_assignee_and_say_where_they_come_from() {
    let app = TestApp::demo().await;
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    let sam = contributor(&app, "sam@goldenhour.example").await;
    sqlx::query(
        "INSERT INTO contributor_task_benchmarks (contributor_id, task_template_id,
                contributor_average_hours, sample_size)
         SELECT $1, id, 7.25, 14 FROM task_templates WHERE name = 'Feature Fine Cut'",
    )
    .bind(leo)
    .execute(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    let assign = async |who: Option<i32>| -> Value {
        let resp = owner
            .post_json(
                "/api/v1/tasks/assign",
                &json!({"task_ids": [cut], "assignee": who}),
            )
            .await;
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()[0].clone()
    };
    let t = assign(Some(leo)).await;
    assert_eq!(t["planned_duration_hours"], "7.25");
    assert_eq!(t["planned_source"], "Leo's average over 14 tasks");
    assert_eq!(t["assignee"], "Leo Martins");
    let t = assign(Some(sam)).await;
    assert_eq!(t["planned_duration_hours"], "6.00");
    assert_eq!(
        t["planned_source"],
        "the template's effort for this part of the film"
    );
    sqlx::query(
        "INSERT INTO contributor_task_benchmarks (contributor_id, task_template_id,
                contributor_default_hours)
         SELECT $1, id, 5 FROM task_templates WHERE name = 'Feature Fine Cut'",
    )
    .bind(sam)
    .execute(&app.db)
    .await
    .unwrap();
    let t = assign(Some(sam)).await;
    assert_eq!(t["planned_duration_hours"], "5.00");
    assert_eq!(t["planned_source"], "Sam's usual hours");
    // Leo was told in his inbox.
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE recipient_contributor_id = $1
         AND message = $2",
    )
    .bind(leo)
    .bind(format!("Assigned to you: Feature Fine Cut (task #{cut})."))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(told, 1);
    // Someone who is not staff: 404 naming the field.
    let p = assert_problem(
        owner
            .post_json(
                "/api/v1/tasks/assign",
                &json!({"task_ids": [cut], "assignee": 999999}),
            )
            .await,
        404,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "assignee", "{p}");
}

#[tokio::test]
async fn time_is_the_sum_of_timers_and_entries_and_only_your_tasks_are_yours() {
    let app = TestApp::demo().await;
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    let mix = task(&app, project, "Audio Mix & Master").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    let sam = contributor(&app, "sam@goldenhour.example").await;
    let owner = app.demo_login("Owner").await;
    for (t, who) in [(cut, leo), (mix, sam)] {
        let r = owner
            .post_json(
                "/api/v1/tasks/assign",
                &json!({"task_ids": [t], "assignee": who}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let editor = app.demo_login("Editor").await;
    let started = editor
        .post_json(&format!("/api/v1/tasks/{cut}/timer"), &json!({}))
        .await;
    assert_eq!(started.status(), 201, "{}", started.text().await.unwrap());
    assert_eq!(status(&app, cut).await, "In Progress");
    // One timer at a time.
    let p = assert_problem(
        editor
            .post_json(&format!("/api/v1/tasks/{cut}/timer"), &json!({}))
            .await,
        409,
    )
    .await;
    assert!(p.to_string().contains(&format!("#{cut}")), "{p}");
    // Sam's task is not Leo's.
    assert_problem(
        editor
            .post_json(&format!("/api/v1/tasks/{mix}/timer"), &json!({}))
            .await,
        403,
    )
    .await;
    let stopped: Value = editor
        .post_json("/api/v1/timer/stop", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(stopped["hours"].is_string(), "{stopped}");
    assert_problem(
        editor.post_json("/api/v1/timer/stop", &json!({})).await,
        409,
    )
    .await;
    let timer_hours = d(stopped["hours"].as_str().unwrap());
    for h in ["1.5", "0.25"] {
        let r = editor
            .post_json(
                &format!("/api/v1/tasks/{cut}/time-entries"),
                &json!({"hours": h}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    for bad in ["0", "25", "1.234", "x"] {
        let r = editor
            .post_json(
                &format!("/api/v1/tasks/{cut}/time-entries"),
                &json!({"hours": bad}),
            )
            .await;
        let p = assert_problem(r, 422).await;
        assert!(p.to_string().contains("hours"), "{bad}: {p}");
    }
    let done = editor
        .post_json(
            &format!("/api/v1/tasks/{cut}/status"),
            &json!({"status": "Completed"}),
        )
        .await;
    assert_eq!(done.status(), 200);
    let t: Value = editor
        .get(&format!("/api/v1/tasks/{cut}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        d(t["actual_duration_hours"].as_str().unwrap()),
        d("1.75") + timer_hours
    );
    assert!(t["completed_at"].is_string());
    assert_eq!(t["time_entries"].as_array().unwrap().len(), 3);
    // Completed: no more time on it.
    let r = editor
        .post_json(
            &format!("/api/v1/tasks/{cut}/time-entries"),
            &json!({"hours": "1"}),
        )
        .await;
    assert_problem(r, 409).await;
}

#[tokio::test]
async fn comments_are_internal_or_for_the_couple_and_mentions_tell_people() {
    let app = TestApp::demo().await;
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    let owner = app.demo_login("Owner").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    let c = owner
        .post_json(
            &format!("/api/v1/tasks/{cut}/comments"),
            &json!({"comment_text": "@leo the first dance is in camera B", "visibility": ""}),
        )
        .await;
    assert_eq!(c.status(), 201);
    let c: Value = c.json().await.unwrap();
    assert_eq!(c["visibility"], "Internal");
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE recipient_contributor_id = $1
         AND message = $2",
    )
    .bind(leo)
    .bind(format!(
        "Maya mentioned you on Feature Fine Cut (task #{cut})."
    ))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(told, 1);
    let c = owner
        .post_json(
            &format!("/api/v1/tasks/{cut}/comments"),
            &json!({"comment_text": "Your film is being cut!", "visibility": "Client-Visible"}),
        )
        .await;
    assert_eq!(c.status(), 201);
    let bad = owner
        .post_json(
            &format!("/api/v1/tasks/{cut}/comments"),
            &json!({"comment_text": "x", "visibility": "Public"}),
        )
        .await;
    assert_problem(bad, 422).await;
    let t: Value = owner
        .get(&format!("/api/v1/tasks/{cut}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["comments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_postponement_moves_the_due_days_of_unfinished_tasks() {
    let app = TestApp::demo().await;
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    let mix = task(&app, project, "Audio Mix & Master").await;
    sqlx::query("UPDATE tasks SET status = 'Completed', completed_at = now() WHERE id = $1")
        .bind(mix)
        .execute(&app.db)
        .await
        .unwrap();
    let (wedding, cut_due, mix_due): (NaiveDate, NaiveDate, NaiveDate) = sqlx::query_as(
        "SELECT p.wedding_date, (SELECT due_date FROM tasks WHERE id = $2),
                (SELECT due_date FROM tasks WHERE id = $3)
         FROM projects p WHERE p.id = $1",
    )
    .bind(project)
    .bind(cut)
    .bind(mix)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    let to = wedding + Days::new(30);
    let moved = owner
        .post_form(
            &format!("/projects/{project}/postpone"),
            &[("wedding_date", &to.to_string())],
        )
        .await;
    assert_eq!(moved.status(), 303, "{}", moved.text().await.unwrap());
    let (cut_now, mix_now): (NaiveDate, NaiveDate) = sqlx::query_as(
        "SELECT (SELECT due_date FROM tasks WHERE id = $1), (SELECT due_date FROM tasks WHERE id = $2)",
    )
    .bind(cut)
    .bind(mix)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(cut_now, cut_due + Days::new(30));
    assert_eq!(mix_now, mix_due, "a completed task keeps its day");
}

/// Completed tasks with these hours: (email of the assignee, hours).
async fn completed(app: &TestApp, project: i32, template: &str, done: &[(&str, &str)]) {
    // Every task of the template in the project, one per entry (the demo gives enough).
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT t.id FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE t.project_id = $1 AND tt.name = $2 ORDER BY t.id",
    )
    .bind(project)
    .bind(template)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(ids.len() >= done.len(), "{template}: {ids:?}");
    for (id, (email, hours)) in ids.iter().zip(done) {
        let who = contributor(app, email).await;
        sqlx::query(
            "UPDATE tasks SET status = 'Completed', completed_at = now(),
                    assigned_to_contributor_id = $2, actual_duration_hours = $3::numeric
             WHERE id = $1",
        )
        .bind(id)
        .bind(who)
        .bind(hours)
        .execute(&app.db)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_nightly_job_learns_the_hand_computed_averages_once_even_from_two_processes() {
    let app = TestApp::demo().await;
    // Fresh numbers: whatever the demo learned is forgotten.
    sqlx::raw_sql(
        "UPDATE tasks SET status = 'To-Do', completed_at = NULL, actual_duration_hours = NULL;
         UPDATE contributor_task_benchmarks SET contributor_average_hours = NULL, sample_size = 0;
         UPDATE task_templates SET average_duration_hours = NULL, average_sample_size = 0",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let project: i32 = sqlx::query_scalar("SELECT project_id FROM builds WHERE id = $1")
        .bind(olivia)
        .fetch_one(&app.db)
        .await
        .unwrap();
    // Sync & Organise: one per part of Olivia's films (four parts).
    completed(
        &app,
        project,
        "Sync & Organise",
        &[
            ("leo@goldenhour.example", "2.00"),
            ("leo@goldenhour.example", "3.00"),
            ("leo@goldenhour.example", "4.50"),
            ("sam@goldenhour.example", "1.00"),
        ],
    )
    .await;
    // Two processes at once.
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"))
            .args(["jobs", "nightly"])
            .env("DATABASE_URL", app.database_url())
            .env_remove("PROJECTFLO_BIND")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (run(), run());
    let outs: Vec<String> = [a, b]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    // One of them learned, the other found nothing to change.
    let learned: Vec<&String> = outs
        .iter()
        .filter(|o| o.contains("Benchmarks: 3 changed"))
        .collect();
    let idle: Vec<&String> = outs
        .iter()
        .filter(|o| o.contains("Benchmarks: nothing changed"))
        .collect();
    assert_eq!((learned.len(), idle.len()), (1, 1), "{outs:?}");
    assert!(
        learned[0].contains("Leo Martins, Sync & Organise: 3.17 h over 3 task(s)"),
        "{}",
        learned[0]
    );
    assert!(learned[0].contains("Invoices:"), "{}", learned[0]);
    // By hand: Leo (2 + 3 + 4.5) / 3 = 3.17; Sam 1.00; everyone (2 + 3 + 4.5 + 1) / 4 = 2.625,
    // rounded half away from zero: 2.63.
    let bench = |email: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (Option<Decimal>, i32)>(
                "SELECT b.contributor_average_hours, b.sample_size FROM contributor_task_benchmarks b
                 JOIN contributors co ON co.id = b.contributor_id
                 JOIN contacts c ON c.id = co.contact_id
                 JOIN task_templates t ON t.id = b.task_template_id
                 WHERE c.email = $1 AND t.name = 'Sync & Organise'",
            )
            .bind(email)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(bench("leo@goldenhour.example").await, (Some(d("3.17")), 3));
    assert_eq!(bench("sam@goldenhour.example").await, (Some(d("1.00")), 1));
    let template: (Option<Decimal>, i32) = sqlx::query_as(
        "SELECT average_duration_hours, average_sample_size FROM task_templates
         WHERE name = 'Sync & Organise'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(template, (Some(d("2.63")), 4));
    // Run again in-process: nothing changes.
    let again = projectflo::jobs::nightly(
        &app.db,
        &projectflo::config::Settings::defaults(),
        &projectflo::clock::Clock::System,
    )
    .await
    .unwrap();
    assert!(again.learned.is_empty(), "{:?}", again.learned);
    // Leo's next Sync & Organise is planned from what was learned.
    let open: i32 = sqlx::query_scalar(
        "SELECT t.id FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE tt.name = 'Sync & Organise' AND t.status <> 'Completed' ORDER BY t.id LIMIT 1",
    )
    .fetch_optional(&app.db)
    .await
    .unwrap()
    .unwrap_or(0);
    if open > 0 {
        let leo = contributor(&app, "leo@goldenhour.example").await;
        let owner = app.demo_login("Owner").await;
        let t: Value = owner
            .post_json(
                "/api/v1/tasks/assign",
                &json!({"task_ids": [open], "assignee": leo}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(t[0]["planned_source"], "Leo's average over 3 tasks");
        assert_eq!(t[0]["planned_duration_hours"], "3.17");
    }
}

#[tokio::test]
async fn the_pages_show_projects_boards_my_tasks_and_a_task_and_their_forms_work() {
    let app = TestApp::demo().await;
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    let mix = task(&app, project, "Audio Mix & Master").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    let owner = app.demo_login("Owner").await;
    // Projects: Sofia's with its balance and next task.
    let list = owner.get("/projects").await;
    assert_eq!(list.status(), 200);
    let list = list.text().await.unwrap();
    assert!(
        list.contains(&format!("href=\"/projects/{project}\"")),
        "{list}"
    );
    assert!(list.contains("0/4"), "{list}");
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    for part in [
        "Sofia Garcia",
        "id=\"project-invoices\"",
        "Deposit",
        "Feature Fine Cut",
        "id=\"project-contract\"",
        "No crew assigned yet.",
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }
    // Olivia's page shows her crew (Maya on the ceremony, Sam on the reception), in local time.
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let olivia: i32 = sqlx::query_scalar("SELECT project_id FROM builds WHERE id = $1")
        .bind(olivia)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let page = owner
        .get(&format!("/projects/{olivia}"))
        .await
        .text()
        .await
        .unwrap();
    let crew = &page[page.find("id=\"project-crew\"").unwrap()..];
    let crew = &crew[..crew.find("</section>").unwrap()];
    assert!(
        crew.contains("Maya Chen") && crew.contains("Sam "),
        "{crew}"
    );
    assert!(crew.contains(" PM"), "{crew}");
    // Bulk assign from the board, then Leo's tasks.
    let assigned = owner
        .post_form(
            "/tasks/assign",
            &[
                ("task", &cut.to_string()),
                ("task", &mix.to_string()),
                ("assignee", &leo.to_string()),
                ("back", &format!("/projects/{project}/tasks")),
            ],
        )
        .await;
    assert_eq!(assigned.status(), 303);
    assert_eq!(
        assigned.headers()["location"],
        format!("/projects/{project}/tasks").as_str()
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'tasks.assign'
         AND details->'tasks' = $1 AND (details->>'assignee')::int = $2",
    )
    .bind(json!([cut.min(mix), cut.max(mix)]))
    .bind(leo)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1, "the bulk assignment is audited");
    let board = owner
        .get(&format!("/projects/{project}/tasks"))
        .await
        .text()
        .await
        .unwrap();
    assert!(board.contains(&format!("id=\"task-{cut}\"")), "{board}");
    assert!(board.contains("Leo Martins"), "{board}");
    let editor = app.demo_login("Editor").await;
    let mine = editor.get("/tasks").await;
    assert_eq!(mine.status(), 200);
    let mine = mine.text().await.unwrap();
    assert!(
        mine.contains(&format!("id=\"task-{cut}\""))
            && mine.contains(&format!("id=\"task-{mix}\""))
    );
    assert!(
        mine.contains(&format!("id=\"move-{cut}-forward\"")),
        "{mine}"
    );
    // Leo starts a timer on the cut from its page, stops it, logs time by hand, completes it.
    let started = editor.post_form(&format!("/tasks/{cut}/timer"), &[]).await;
    assert_eq!(started.status(), 303);
    let page = editor
        .get(&format!("/tasks/{cut}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"stop-timer\""), "{page}");
    let stopped = editor
        .post_form("/timer/stop", &[("back", &format!("/tasks/{cut}"))])
        .await;
    assert_eq!(stopped.status(), 303);
    let refused = editor
        .post_form(&format!("/tasks/{cut}/time"), &[("hours", "lots")])
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("id=\"hours-error\""));
    let logged = editor
        .post_form(
            &format!("/tasks/{cut}/time"),
            &[("hours", "2"), ("note", "Assembly")],
        )
        .await;
    assert_eq!(logged.status(), 303);
    let done = editor
        .post_form(
            &format!("/tasks/{cut}/move"),
            &[("status", "Completed"), ("back", "/tasks")],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/tasks");
    assert_eq!(status(&app, cut).await, "Completed");
    let page = editor
        .get(&format!("/tasks/{cut}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Assembly"), "{page}");
    // A comment for the couple, and the Sales role has no task pages of its own.
    let commented = editor
        .post_form(
            &format!("/tasks/{cut}/comments"),
            &[
                ("comment_text", "The fine cut is done"),
                ("visibility", "Client-Visible"),
            ],
        )
        .await;
    assert_eq!(commented.status(), 303);
    let page = editor
        .get(&format!("/tasks/{cut}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The couple sees this"), "{page}");
    let sales = app.demo_login("Sales").await;
    assert_eq!(sales.get("/tasks").await.status(), 403);
    assert_eq!(
        sales.get(&format!("/projects/{project}")).await.status(),
        200
    );
    // A cycle by the form: refused by the field, naming the tasks.
    sqlx::query(
        "INSERT INTO task_dependencies (blocking_task_id, dependent_task_id) VALUES ($1, $2)",
    )
    .bind(cut)
    .bind(mix)
    .execute(&app.db)
    .await
    .unwrap();
    let cycle = owner
        .post_form(
            &format!("/tasks/{cut}/dependencies"),
            &[("blocking_task_id", &mix.to_string())],
        )
        .await;
    assert_eq!(cycle.status(), 409);
    let html = cycle.text().await.unwrap();
    assert!(
        html.contains("id=\"blocking-error\"") && html.contains(&format!("#{mix}")),
        "{html}"
    );
}

#[tokio::test]
async fn an_editor_times_and_completes_a_task_and_the_blocked_one_becomes_ready() {
    use crate::browser::{browser, click, login, wait_text};
    use fantoccini::Locator;
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    // The demo: Leo's reception fine cut is ready; the reception's mix waits for it.
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let project: i32 = sqlx::query_scalar("SELECT project_id FROM builds WHERE id = $1")
        .bind(olivia)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let of_scene = |template: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i32>(
                "SELECT t.id FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
                 JOIN build_components bc ON bc.id = t.build_component_id
                 JOIN build_deliverables bd ON bd.id = bc.build_deliverable_id
                 JOIN deliverables d ON d.id = bd.deliverable_id
                 JOIN coverage_scenes s ON s.id = bc.coverage_scene_id
                 WHERE t.project_id = $1 AND tt.name = $2 AND d.name = 'Feature Film'
                   AND s.name = 'Reception'",
            )
            .bind(project)
            .bind(template)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let cut = of_scene("Feature Fine Cut").await;
    let mix = of_scene("Audio Mix & Master").await;
    assert_eq!(status(&app, mix).await, "To-Do");
    let leo = contributor(&app, "leo@goldenhour.example").await;
    // Due within the capacity view's 12 weeks (the demo's are due later).
    sqlx::query("UPDATE tasks SET due_date = current_date + 10 WHERE id = $1")
        .bind(cut)
        .execute(&app.db)
        .await
        .unwrap();
    let owner = app.demo_login("Owner").await;
    let before = cells(&owner.get("/capacity").await.text().await.unwrap(), leo);
    login(
        &c,
        &app,
        "leo@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    click(&c, Locator::LinkText("Tasks")).await;
    assert_eq!(wait_text(&c, Locator::Css("main h1")).await, "My tasks");
    click(&c, Locator::Css(&format!("#task-{cut} a.lead-name"))).await;
    c.wait()
        .for_element(Locator::Id("start-timer"))
        .await
        .unwrap();
    click(&c, Locator::Id("start-timer")).await;
    let stop = wait_text(&c, Locator::Id("stop-timer")).await;
    assert_eq!(stop, "Stop the timer");
    assert_eq!(text_of(&c, "task-status").await, "In Progress");
    click(&c, Locator::Id("task-move-completed")).await;
    c.wait()
        .for_element(Locator::XPath(
            "//span[@id='task-status' and text()='Completed']",
        ))
        .await
        .unwrap();
    // The timer stopped with the completion; the mix is ready to start.
    let running: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM task_time_entries WHERE task_id = $1 AND ended_at IS NULL",
    )
    .bind(cut)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(running, 0);
    c.goto(&app.url(&format!("/tasks/{mix}"))).await.unwrap();
    assert_eq!(text_of(&c, "task-status").await, "Ready to Start");
    c.close().await.unwrap();
    // The Owner's capacity view: Leo's completed cut no longer weighs on his weeks.
    let c = browser().await.unwrap();
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    click(&c, Locator::LinkText("Tasks")).await;
    c.wait()
        .for_element(Locator::Id("capacity-link"))
        .await
        .unwrap();
    click(&c, Locator::Id("capacity-link")).await;
    assert_eq!(wait_text(&c, Locator::Css("main h1")).await, "Capacity");
    let html = c.source().await.unwrap();
    let after = cells(&html, leo);
    let total = |cells: &[String]| -> Decimal {
        cells
            .iter()
            .map(|c| d(c.split(" / ").next().unwrap()))
            .sum()
    };
    assert!(total(&after) < total(&before), "{before:?} {after:?}");
    c.close().await.unwrap();
}

async fn text_of(c: &fantoccini::Client, id: &str) -> String {
    c.find(fantoccini::Locator::Id(id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_couple_reads_the_studios_client_visible_notes_and_the_promised_day() {
    let app = TestApp::demo().await;
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let (project, client): (i32, i32) =
        sqlx::query_as("SELECT project_id, client_id FROM builds WHERE id = $1")
            .bind(olivia)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let couple = crate::portal::Couple {
        client_id: client,
        email: "olivia.nguyen@example.com".into(),
        records: vec![],
    };
    let portal = crate::portal::portal_login(&app, &couple, "olivia's portal password").await;
    let page = portal
        .get(app.url(&format!("/portal/projects/{project}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The demo's note for the couple is there; the studio's internal one is not.
    assert!(page.contains("The ceremony is cut together"), "{page}");
    assert!(!page.contains("can you take the reception"), "{page}");
    assert!(page.contains("Films promised by"), "{page}");
}

#[tokio::test]
async fn the_task_list_walks_page_by_page_by_due_day_each_task_once() {
    let app = TestApp::demo().await;
    // 150 more tasks on Olivia's film, many due the same day (the id breaks the tie).
    sqlx::raw_sql(
        "WITH bd AS (SELECT bd.id, b.project_id FROM build_deliverables bd
                     JOIN builds b ON b.id = bd.build_id WHERE b.project_id IS NOT NULL
                     ORDER BY bd.id LIMIT 1),
              comps AS (INSERT INTO build_components (build_deliverable_id, coverage_scene_id,
                                                     editing_style_id, is_included)
                        SELECT bd.id, (SELECT min(id) FROM coverage_scenes),
                               (SELECT min(id) FROM editing_styles), false
                        FROM bd, generate_series(1, 50) RETURNING id)
         INSERT INTO tasks (project_id, build_component_id, task_template_id, due_date, status)
         SELECT bd.project_id, c.id, t.id, current_date + (c.id % 7), 'Ready to Start'
         FROM bd, comps c, (SELECT id FROM task_templates ORDER BY id LIMIT 3) t",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("walk").await;
    let (rows, pages) = owner.walk_api(&token, "/api/v1/tasks").await;
    assert!(pages >= 4, "{pages}");
    let days: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["due_date"].as_str().unwrap().to_string(),
                r["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = days.clone();
    sorted.sort();
    assert_eq!(days, sorted, "due day, then id");
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM tasks WHERE status <> 'Archived' AND due_date IS NOT NULL",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    crate::helpers::assert_each_once(days.iter().map(|d| d.1).collect(), all, "tasks");
    // The projects list answers, and a bad cursor is a 422 naming it.
    assert_eq!(owner.get("/projects").await.status(), 200);
    let bad = owner.get("/api/v1/tasks?after=yesterday").await;
    let p = assert_problem(bad, 422).await;
    assert_eq!(p["errors"][0]["field"], "after", "{p}");
}

/// The capacity view's cells of a person: "planned / capacity" per week.
fn cells(html: &str, person: i32) -> Vec<String> {
    (0..12)
        .map(|w| {
            let id = format!("id=\"load-{person}-{w}\"");
            let at = html.find(&id).unwrap_or_else(|| panic!("no {id}: {html}"));
            let rest = &html[at..];
            let start = rest.find('>').unwrap() + 1;
            rest[start..].split('<').next().unwrap().trim().to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_capacity_view_follows_assignments_weekly_hours_and_absences() {
    use chrono::Datelike;
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    // A task of Leo's due in three weeks: six hours planned there.
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    let today = chrono::Utc::now().date_naive();
    let monday = today - Days::new(today.weekday().num_days_from_monday() as u64);
    sqlx::query("UPDATE tasks SET due_date = $2 WHERE id = $1")
        .bind(cut)
        .bind(monday + Days::new(23))
        .execute(&app.db)
        .await
        .unwrap();
    let page = owner.get("/capacity").await;
    assert_eq!(page.status(), 200);
    let before = cells(&page.text().await.unwrap(), leo);
    let assigned = owner
        .post_json(
            "/api/v1/tasks/assign",
            &json!({"task_ids": [cut], "assignee": leo}),
        )
        .await;
    assert_eq!(assigned.status(), 200);
    let after = cells(&owner.get("/capacity").await.text().await.unwrap(), leo);
    let planned = |c: &str| d(c.split(" / ").next().unwrap());
    assert_eq!(
        planned(&after[3]) - planned(&before[3]),
        d("6"),
        "{before:?} {after:?}"
    );
    assert_eq!(after[3].split(" / ").nth(1), Some("40.00"));
    // 32 hours a week, and away Monday and Tuesday of week 3 (the calendar).
    let bad = owner
        .post_form(
            &format!("/capacity/{leo}"),
            &[("weekly_capacity_hours", "200")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains(&format!("id=\"weekly-error-{leo}\""))
    );
    let saved = owner
        .post_form(
            &format!("/capacity/{leo}"),
            &[("weekly_capacity_hours", "32")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    // Leo's own demo absences out of the way: only this one counts here.
    sqlx::query("DELETE FROM calendar_events WHERE contributor_id = $1 AND event_type <> 'PROJECT_ASSIGNMENT'")
        .bind(leo)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, is_all_day,
                                      event_type)
         VALUES ($1, 'Away', ($2::date)::timestamp AT TIME ZONE 'America/Los_Angeles',
                 ($2::date + 2)::timestamp AT TIME ZONE 'America/Los_Angeles', true, 'ABSENCE')",
    )
    .bind(leo)
    .bind(monday + Days::new(21))
    .execute(&app.db)
    .await
    .unwrap();
    let tz: String = sqlx::query_scalar("SELECT time_zone FROM studio_settings")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        tz, "America/Los_Angeles",
        "the demo's zone, as the absence assumes"
    );
    let now = cells(&owner.get("/capacity").await.text().await.unwrap(), leo);
    assert_eq!(now[2].split(" / ").nth(1), Some("32.00"));
    assert_eq!(now[3].split(" / ").nth(1), Some("19.20"), "{now:?}");
    // Editors do not plan capacity.
    let editor = app.demo_login("Editor").await;
    assert_eq!(editor.get("/capacity").await.status(), 403);
}

#[tokio::test]
async fn a_deep_page_of_tasks_reads_one_page_of_rows_among_100000() {
    use projectflo::production::tasks::{Filter, list_sql};
    let app = TestApp::demo().await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    // 34,000 parts of Olivia's first film, three tasks each: 102,000 tasks, a third Leo's,
    // spread over two years of due days.
    sqlx::query(
        "WITH bd AS (SELECT bd.id, b.project_id FROM build_deliverables bd
                     JOIN builds b ON b.id = bd.build_id WHERE b.project_id IS NOT NULL
                     ORDER BY bd.id LIMIT 1),
              comps AS (INSERT INTO build_components (build_deliverable_id, coverage_scene_id,
                                                     editing_style_id, is_included)
                        SELECT bd.id, (SELECT min(id) FROM coverage_scenes),
                               (SELECT min(id) FROM editing_styles), false
                        FROM bd, generate_series(1, 34000) RETURNING id)
         INSERT INTO tasks (project_id, build_component_id, task_template_id, due_date, status,
                            assigned_to_contributor_id)
         SELECT bd.project_id, c.id, t.id, current_date + (c.id % 730),
                (ARRAY['To-Do', 'Ready to Start', 'In Progress', 'Completed'])[1 + c.id % 4]::tasks_status,
                CASE WHEN t.n = 1 THEN $1 END
         FROM bd, comps c, (SELECT id, row_number() OVER (ORDER BY id) AS n FROM task_templates
                            ORDER BY id LIMIT 3) t",
    )
    .bind(leo)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&app.db).await.unwrap();
    let (day, id): (NaiveDate, i32) = sqlx::query_as(
        "SELECT due_date, id FROM tasks WHERE status <> 'Archived'
         ORDER BY due_date, id OFFSET 60000 LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let all = Filter::default();
    let read = crate::quotes::rows_read_for_a_deep_page(
        &app.db,
        "date, int, bigint",
        &list_sql(&all),
        &format!("'{day}', {id}, 51"),
    )
    .await;
    assert!(read <= 200, "every task: {read} rows read for one page");
    let mine = Filter {
        assignee: Some(leo),
        open_only: true,
        ..Filter::default()
    };
    let read = crate::quotes::rows_read_for_a_deep_page(
        &app.db,
        "date, int, int, bigint",
        &list_sql(&mine),
        &format!("'{day}', {id}, {leo}, 51"),
    )
    .await;
    assert!(read <= 300, "My tasks: {read} rows read for one page");
    // The projects list and a project's board answer at this size.
    let owner = app.demo_login("Owner").await;
    assert_eq!(owner.get("/projects").await.status(), 200);
    let project: i32 = sqlx::query_scalar("SELECT project_id FROM tasks ORDER BY id DESC LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        owner.get(&format!("/projects/{project}")).await.status(),
        200
    );
    assert_eq!(
        owner
            .get(&format!("/projects/{project}/tasks"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_card_moves_with_the_arrow_keys_in_place() {
    use crate::browser::{browser, login, wait_text};
    use fantoccini::Locator;
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    let project = book_sofia(&app).await;
    let cut = task(&app, project, "Feature Fine Cut").await;
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    c.goto(&app.url(&format!("/projects/{project}/tasks")))
        .await
        .unwrap();
    wait_text(&c, Locator::Id(&format!("task-{cut}"))).await;
    // → on the focused card: started, in place (the board swapped by htmx, focus kept).
    c.execute(
        &format!("document.getElementById('task-{cut}').focus(); window.marker = 1;"),
        vec![],
    )
    .await
    .unwrap();
    let card = c.find(Locator::Id(&format!("task-{cut}"))).await.unwrap();
    card.send_keys("\u{E014}").await.unwrap(); // ArrowRight
    c.wait()
        .for_element(Locator::Css(&format!(
            "section[data-status='In Progress'] #task-{cut}"
        )))
        .await
        .unwrap();
    assert_eq!(status(&app, cut).await, "In Progress");
    let marker = c
        .execute("return window.marker === 1;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, json!(true), "moved without a page load");
    // ← puts it back.
    let card = c.find(Locator::Id(&format!("task-{cut}"))).await.unwrap();
    card.send_keys("\u{E012}").await.unwrap(); // ArrowLeft
    c.wait()
        .for_element(Locator::Css(&format!(
            "section[data-status='Ready to Start'] #task-{cut}"
        )))
        .await
        .unwrap();
    assert_eq!(status(&app, cut).await, "Ready to Start");
    c.close().await.unwrap();
}

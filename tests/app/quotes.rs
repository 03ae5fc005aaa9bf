//! Phase 3: the build, its live price to the cent, bad input, bounded recompute, concurrency,
//! the proposal.
use crate::helpers::{Session, Template, TestApp, assert_problem, build_of};
use serde_json::{Value, json};

async fn scalar<
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
>(
    app: &TestApp,
    sql: &str,
) -> T {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// The demo's Sofia accepted her proposal, which locks her quote: as if the studio took the
/// acceptance back, for tests that change it.
async fn unlocked(app: &TestApp, build: i32) -> i32 {
    sqlx::query("UPDATE builds SET accepted_at = NULL, accepted_by = NULL WHERE id = $1")
        .bind(build)
        .execute(&app.db)
        .await
        .unwrap();
    build
}

async fn id(app: &TestApp, table: &str, name: &str) -> i32 {
    sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE name = $1"))
        .bind(name)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn price(s: &Session, build: i32) -> Value {
    s.get(&format!("/api/v1/builds/{build}/price"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_demo_quotes_are_priced_to_the_cent() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let ava = build_of(&app, "ava.t@example.com").await;
    // Coverage: Ceremony 2 x 1.5 h (scene default) x $150 = 450.00;
    //   Reception 1 x 5 h x $150 = 750.00;
    //           Drone Aerials, Drone Pilot fixed = 450.00                              -> 1,650.00
    // Highlight Film, Cinematic, 1 min, per covered scene (editing rate $85):
    //   Ceremony, Reception: Sync 1.1 h 93.50 + Rough Cut 3.5 h 297.50 + Grade 1 h 85.00
    //   = 476.00 each
    //   Drone Aerials: the same + Stabilisation 0.75 h 63.75                          = 539.75
    // Ceremony Edit, Ceremony, Documentary, 25 min: Sync 3.5 h 297.50 + Multicam 3.5 h 297.50
    //   + Audio 3 h 255.00 + Colour Correction 3 h 255.00                              = 1,105.00
    // Style lines: Grade Pack 3 x 250 = 750.00; Music 3 x 85 = 255.00;
    //   Audio Restoration 1 x 120 = 120.00
    // Add-on: Keepsake USB Box 2 x 75 = 150.00
    // Total 1,650.00 + 2,596.75 + 1,125.00 + 150.00 = 5,521.75
    let p = price(&s, ava).await;
    let amounts: Vec<&str> = p["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(
        amounts,
        [
            "450.00", "750.00", "450.00", "476.00", "476.00", "539.75", "1105.00", "750.00",
            "255.00", "120.00", "150.00"
        ]
    );
    assert_eq!(p["total"], "5521.75");
    assert_eq!(p["currency"], "USD");
    let live: String = scalar(
        &app,
        &format!("SELECT live_price::text FROM builds WHERE id = {ava}"),
    )
    .await;
    assert_eq!(live, "5521.75");
    let first = &p["lines"][0];
    assert_eq!(first["kind"], "coverage");
    assert_eq!(first["quantity"], "2");
    assert_eq!(first["unit_price"], "225.00");
    assert_eq!(first["hours"], "3");
    assert!(
        first["rule"]
            .as_str()
            .unwrap()
            .contains("the scene's default"),
        "{first}"
    );
    assert_eq!(p["lines"][7]["kind"], "style_add_on");
    assert_eq!(p["lines"][10]["kind"], "add_on");
    // Sofia: Reception 1 x 4 h x $150 = 600.00; Feature Film (Documentary, 5 min):
    //   Sync 1.5 h 127.50 + Fine Cut 6 h 510.00 + Audio 1 h 85.00 + Correction 1 h 85.00
    //   = 807.50; Audio Restoration 120.00
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    assert_eq!(price(&s, sofia).await["total"], "1527.50");
    // The dashboard adds up the proposals out, in the studio's currency: Ava's 5,521.75; Sofia
    // accepted hers, so it counts as accepted and waiting to be booked, not out.
    let dash = s.get("/").await.text().await.unwrap();
    assert!(
        dash.contains("<strong id=\"proposals-value\">$5,521.75</strong>"),
        "{dash}"
    );
    assert!(
        dash.contains("<strong id=\"accepted-value\">$1,527.50</strong>"),
        "{dash}"
    );
}

#[tokio::test]
async fn a_null_scene_default_follows_the_covered_scenes() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let sofia = unlocked(&app, build_of(&app, "sofia.garcia@example.com").await).await;
    let comps = |b: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT s.name FROM build_components c JOIN
                build_deliverables bd ON bd.id = c.build_deliverable_id JOIN coverage_scenes s
                ON s.id = c.coverage_scene_id WHERE bd.build_id = $1 ORDER BY c.id",
            )
            .bind(b)
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(comps(sofia).await, ["Reception"]);
    let scene = id(&app, "coverage_scenes", "Getting Ready").await;
    let lead = id(&app, "operator_types", "Lead Videographer").await;
    let p: Value = s
        .post_json(
            &format!("/api/v1/builds/{sofia}/coverage"),
            &json!({"coverage_scene_id": scene, "operator_type_id": lead}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(comps(sofia).await, ["Reception", "Getting Ready"]);
    // + Getting Ready 2 h x $150 = 300.00, + a Feature Film component 807.50,
    // + Audio Restoration 120.00
    assert_eq!(p["total"], "2755.00");
    let line: i32 = scalar(
        &app,
        &format!(
            "SELECT id FROM build_coverage_assignments WHERE
        build_id = {sofia} AND coverage_scene_id = {scene}"
        ),
    )
    .await;
    let p: Value = s
        .delete(&format!("/api/v1/builds/{sofia}/coverage/{line}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(comps(sofia).await, ["Reception"]);
    assert_eq!(p["total"], "1527.50");
    // A scene-specific default stays whatever the coverage (Ceremony Edit's Ceremony component).
    let ceremony_edit = id(&app, "deliverables", "Ceremony Edit").await;
    s.post_json(
        &format!("/api/v1/builds/{sofia}/deliverables"),
        &json!({"deliverable_id": ceremony_edit}),
    )
    .await;
    assert_eq!(comps(sofia).await, ["Reception", "Ceremony"]);
}

#[tokio::test]
async fn style_lines_follow_the_styles_and_never_touch_a_persons_lines() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let vintage = id(&app, "editing_styles", "Vintage Film").await;
    let cinematic = id(&app, "editing_styles", "Cinematic").await;
    let comp: i32 = scalar(
        &app,
        &format!(
            "SELECT c.id FROM build_components c JOIN
        build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = {ava} AND
        c.editing_style_id = {cinematic} ORDER BY c.id LIMIT 1"
        ),
    )
    .await;
    let lines = |b: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (String, i32, String, bool)>(
                "SELECT bi.name, l.quantity,
                l.price_at_time_of_add::text, l.is_engine_made FROM build_billable_items l JOIN
                billable_items bi ON bi.id = l.billable_item_id WHERE l.build_id = $1 ORDER BY
                bi.name",
            )
            .bind(b)
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    // The catalog price of the music changes; the quote keeps the price its line first had.
    let music = id(&app, "billable_items", "Licensed Music Track").await;
    let owner = app.demo_login("Owner").await;
    let body = json!({"name": "Licensed Music Track", "price": "99.00", "pricing_type": "Unit",
        "is_active": true});
    let resp = owner
        .put_json(&format!("/api/v1/catalog/billable-items/{music}"), &body)
        .await;
    assert_eq!(resp.status(), 200);
    let p: Value = s
        .put_json(
            &format!("/api/v1/builds/{ava}/components/{comp}"),
            &json!({"editing_style_id": vintage, "target_minutes": "1", "is_included": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let l = lines(ava).await;
    assert!(
        l.contains(&("Licensed Music Track".into(), 2, "85.00".into(), true)),
        "{l:?}"
    );
    assert!(l.contains(&(
        "Cinematic Colour Grade Pack".into(),
        2,
        "250.00".into(),
        true
    )));
    assert!(
        l.contains(&("Film Grain & Texture Pass".into(), 1, "180.00".into(), true)),
        "the new style's line appears"
    );
    assert!(
        l.contains(&("Keepsake USB Box".into(), 2, "75.00".into(), false)),
        "a person's line is untouched"
    );
    // 5,521.75 - 85 (Cinematic grade task) + 127.50 (Vintage 1.5 h) - 85 - 250 (one fewer
    // Cinematic) + 180 = 5,409.25
    assert_eq!(p["total"], "5409.25");
    // Excluding every Vintage component removes its line again.
    let p: Value = s
        .put_json(
            &format!("/api/v1/builds/{ava}/components/{comp}"),
            &json!({"editing_style_id": vintage, "target_minutes": "1", "is_included": false}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !lines(ava)
            .await
            .iter()
            .any(|x| x.0 == "Film Grain & Texture Pass")
    );
    // - 476.00 + ... : the excluded component costs nothing:
    // 5,409.25 - 93.50 - 297.50 - 127.50 - 180 = 4,710.75
    assert_eq!(p["total"], "4710.75");
    // Engine lines cannot be removed by hand.
    let engine_line: i32 = scalar(
        &app,
        &format!(
            "SELECT id FROM build_billable_items WHERE build_id = {ava} AND is_engine_made LIMIT 1"
        ),
    )
    .await;
    let resp = s
        .delete(&format!("/api/v1/builds/{ava}/billables/{engine_line}"))
        .await;
    assert_problem(resp, 409).await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let snapshot = || {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (String, i64, i64, i64, i64)>(&format!(
                "SELECT live_price::text,
                        (SELECT count(*) FROM build_coverage_assignments WHERE build_id = {ava}),
                        (SELECT count(*) FROM build_deliverables WHERE build_id = {ava}),
                        (SELECT count(*) FROM build_billable_items WHERE build_id = {ava}),
                        (SELECT count(*) FROM audit_log) FROM builds WHERE id = {ava}"
            ))
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let before = snapshot().await;
    let lead = id(&app, "operator_types", "Lead Videographer").await;
    let ceremony = id(&app, "coverage_scenes", "Ceremony").await;
    let dvd = id(&app, "billable_items", "DVD Copy").await;
    let comp: i32 = scalar(
        &app,
        &format!(
            "SELECT c.id FROM build_components c JOIN
        build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = {ava} LIMIT
        1"
        ),
    )
    .await;
    // A scene without default hours, for hourly coverage with no hours anywhere.
    let bare: Value = app
        .demo_login("Owner")
        .await
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &json!({"name": "Send-off"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "POST",
            format!("/api/v1/builds/{ava}/coverage"),
            json!({"coverage_scene_id": 9999, "operator_type_id": lead}),
            404,
            "coverage_scene_id",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/coverage"),
            json!({"coverage_scene_id": ceremony, "operator_type_id": 9999}),
            404,
            "operator_type_id",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/coverage"),
            json!({"coverage_scene_id": ceremony, "operator_type_id": lead, "quantity": 0}),
            422,
            "quantity",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/coverage"),
            json!({"coverage_scene_id": ceremony, "operator_type_id": lead, "quantity": -2}),
            422,
            "quantity",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/coverage"),
            json!({"coverage_scene_id": ceremony, "operator_type_id": lead, "hours": "0"}),
            422,
            "hours",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/coverage"),
            json!({"coverage_scene_id": bare["id"], "operator_type_id": lead}),
            422,
            "hours",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/deliverables"),
            json!({"deliverable_id": 9999}),
            404,
            "deliverable_id",
        ),
        (
            "PUT",
            format!("/api/v1/builds/{ava}/components/{comp}"),
            json!({"editing_style_id": 9999}),
            404,
            "editing_style_id",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/billables"),
            json!({"billable_item_id": 9999}),
            404,
            "billable_item_id",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/billables"),
            json!({"billable_item_id": dvd}),
            409,
            "",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/billables"),
            json!({"billable_item_id": 1, "quantity": 0}),
            422,
            "quantity",
        ),
        (
            "POST",
            format!("/api/v1/builds/{ava}/deliverables"),
            json!({"deliverable_id": 1}),
            409,
            "",
        ),
        (
            "POST",
            "/api/v1/builds/99999/coverage".to_string(),
            json!({"coverage_scene_id": ceremony, "operator_type_id": lead}),
            404,
            "",
        ),
    ];
    for (method, path, body, status, field) in cases {
        let resp = s
            .client
            .request(method.parse().unwrap(), s.url(&path))
            .header("x-csrf-token", &s.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(resp, status).await;
        if !field.is_empty() {
            assert_eq!(p["errors"][0]["field"], field, "{path} {body}: {p}");
        }
    }
    let after = snapshot().await;
    assert_eq!(
        (&before.0, before.1, before.2, before.3),
        (&after.0, after.1, after.2, after.3),
        "nothing changed"
    );
    // A Completed build is closed.
    sqlx::query("UPDATE builds SET status = 'Completed' WHERE id = $1")
        .bind(ava)
        .execute(&app.db)
        .await
        .unwrap();
    let p = assert_problem(
        s.post_json(
            &format!("/api/v1/builds/{ava}/coverage"),
            &json!({"coverage_scene_id": ceremony, "operator_type_id": lead}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("Completed"));
}

// Counts the SQL statements sqlx sends (its `sqlx::query` events) while a future runs.
tokio::task_local! {
    /// The statement counter of the task being measured.
    static STATEMENTS: std::sync::Arc<std::sync::atomic::AtomicUsize>;
}

/// Counts sqlx's statement events into the current task's `STATEMENTS`, if it has one. One
/// global subscriber (set once) rather than a scoped one per measurement: scoped dispatchers
/// race with statements other tasks log at the same time (the pool's release check), which
/// could hide every event from the scope.
struct Counter;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counter {
    fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if e.metadata().target() == "sqlx::query" {
            let _ = STATEMENTS.try_with(|n| n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        }
    }
}

async fn statements_of_one_change(app: &TestApp, build: i32, style: i32) -> usize {
    use tracing_subscriber::layer::SubscriberExt;
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let _ =
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Counter));
    });
    let comp: i32 = scalar(
        app,
        &format!(
            "SELECT c.id FROM build_components c JOIN
        build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = {build}
        ORDER BY c.id LIMIT 1"
        ),
    )
    .await;
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let db = app.db.clone();
    STATEMENTS
        .scope(counter.clone(), async move {
            let mut tx = db.begin().await.unwrap();
            let change = projectflo::quote::builds::ComponentChange {
                style,
                target_minutes: Some(rust_decimal::Decimal::ONE),
                included: true,
            };
            projectflo::quote::builds::update_component(&mut tx, build, comp, &change, None)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
        .await;
    counter.load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test]
async fn one_change_costs_the_same_statements_on_5_and_on_80_components() {
    let app = TestApp::demo().await;
    let sofia = unlocked(&app, build_of(&app, "sofia.garcia@example.com").await).await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let vintage = id(&app, "editing_styles", "Vintage Film").await;
    // Ava's quote has 4 components; add films and coverage until one has 80.
    let small = ava;
    let mut tx = app.db.begin().await.unwrap();
    let lead = id(&app, "operator_types", "Lead Videographer").await;
    for n in 0..30 {
        let scene: i32 = sqlx::query_scalar(
            "INSERT INTO coverage_scenes (name, default_hours) VALUES ($1, 1) RETURNING id",
        )
        .bind(format!("Scene {n}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        let change = projectflo::quote::builds::CoverageChange {
            scene,
            operator: lead,
            quantity: 1,
            hours: None,
        };
        projectflo::quote::builds::add_coverage(&mut tx, sofia, &change, None)
            .await
            .unwrap();
    }
    for film in ["Highlight Film", "Teaser", "Raw Footage", "Ceremony Edit"] {
        let d: i32 = sqlx::query_scalar("SELECT id FROM deliverables WHERE name = $1")
            .bind(film)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        projectflo::quote::builds::add_deliverable(&mut tx, sofia, d, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let n: i64 = scalar(
        &app,
        &format!(
            "SELECT count(*) FROM build_components c JOIN
        build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = {sofia}"
        ),
    )
    .await;
    let m: i64 = scalar(
        &app,
        &format!(
            "SELECT count(*) FROM build_components c JOIN
        build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = {small}"
        ),
    )
    .await;
    assert!(n >= 80, "{n} components");
    assert!(m <= 5, "{m} components");
    let few = statements_of_one_change(&app, small, vintage).await;
    let many = statements_of_one_change(&app, sofia, vintage).await;
    assert!(few > 5, "the counter sees the statements ({few})");
    assert_eq!(
        few, many,
        "statements for a change on {m} components vs {n}"
    );
}

#[tokio::test]
async fn twenty_parallel_edits_end_with_the_price_of_the_rows() {
    let app = TestApp::demo().await;
    let s = std::sync::Arc::new(app.demo_login("Sales").await);
    let ava = build_of(&app, "ava.t@example.com").await;
    let styles = [
        id(&app, "editing_styles", "Cinematic").await,
        id(&app, "editing_styles", "Documentary").await,
        id(&app, "editing_styles", "Vintage Film").await,
    ];
    let comps: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT c.id FROM build_components c JOIN
        build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = {ava} ORDER
        BY c.id"
    ))
    .fetch_all(&app.db)
    .await
    .unwrap();
    let usb = id(&app, "billable_items", "Rush Delivery").await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let s = s.clone();
            let (comp, style) = (comps[n % comps.len()], styles[n % 3]);
            tokio::spawn(async move {
                let resp = if n % 5 == 4 {
                    let body = json!({"billable_item_id": usb});
                    s.post_json(&format!("/api/v1/builds/{ava}/billables"), &body)
                        .await
                } else {
                    let body = json!({"editing_style_id": style,
                        "target_minutes": (n % 7).to_string(), "is_included": n % 3 != 0});
                    s.put_json(&format!("/api/v1/builds/{ava}/components/{comp}"), &body)
                        .await
                };
                resp.status().as_u16()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let stored: String = scalar(
        &app,
        &format!("SELECT live_price::text FROM builds WHERE id = {ava}"),
    )
    .await;
    let fresh = price(&s, ava).await;
    assert_eq!(
        fresh["total"].as_str().unwrap(),
        stored,
        "live_price equals a fresh recompute from the rows"
    );
}

#[tokio::test]
async fn a_proposal_goes_out_by_a_signed_link_and_the_couple_accepts() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let emma_inquiry: i32 = scalar(
        &app,
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id =
        i.contact_id WHERE c.email = 'emma.rodriguez@example.com'",
    )
    .await;
    let created: Value = s
        .client
        .post(s.url(&format!("/api/v1/inquiries/{emma_inquiry}/build")))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let build = created["build_id"].as_i64().unwrap() as i32;
    assert_problem(
        s.client
            .post(s.url(&format!("/api/v1/inquiries/{emma_inquiry}/build")))
            .header("x-csrf-token", &s.csrf)
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    // Nothing in it yet: the proposal cannot go.
    let resp = s.post_form(&format!("/quotes/{build}/proposal"), &[]).await;
    assert_eq!(resp.status(), 409);
    // Through the builder's forms (they work without JavaScript too).
    let scene = id(&app, "coverage_scenes", "Ceremony").await.to_string();
    let op = id(&app, "operator_types", "Lead Videographer")
        .await
        .to_string();
    assert_eq!(
        s.post_form(
            &format!("/quotes/{build}/coverage"),
            &[
                ("coverage_scene_id", &scene),
                ("operator_type_id", &op),
                ("quantity", "1"),
                ("hours", "")
            ]
        )
        .await
        .status(),
        303
    );
    let bad = s
        .post_form(
            &format!("/quotes/{build}/coverage"),
            &[
                ("coverage_scene_id", &scene),
                ("operator_type_id", &op),
                ("quantity", "none"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    // The problem is by the field, in plain words, and what was typed is kept.
    let html = bad.text().await.unwrap();
    assert!(
        html.contains(
            "id=\"add-quantity-error\" role=\"alert\">\u{201c}none\u{201d} is not a number"
        ),
        "{html}"
    );
    assert!(
        html.contains("id=\"add-quantity\" value=\"none\""),
        "{html}"
    );
    let film = id(&app, "deliverables", "Teaser").await.to_string();
    assert_eq!(
        s.post_form(
            &format!("/quotes/{build}/deliverables"),
            &[("deliverable_id", &film)]
        )
        .await
        .status(),
        303
    );
    let html = s
        .post_form(&format!("/quotes/{build}/proposal"), &[])
        .await
        .text()
        .await
        .unwrap();
    let link = html
        .split("id=\"share-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let (bstatus, istatus): (String, String) = sqlx::query_as(
        "SELECT b.status::text,
        i.status::text FROM builds b JOIN inquiries i ON i.id = b.inquiry_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (bstatus.as_str(), istatus.as_str()),
        ("Proposal Sent", "Proposal Sent")
    );
    assert_eq!(
        app.last_link_to("emma.rodriguez@example.com").await,
        link,
        "the couple got the link by email"
    );
    // The couple's page: clean, in the studio's currency, no login.
    let total = price(&s, build).await["total"]
        .as_str()
        .unwrap()
        .to_string();
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = page
        .split("id=\"proposal-total\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(shown.replace(['$', ','], ""), total);
    assert!(page.contains("Ceremony · Lead Videographer") && page.contains("Teaser"));
    // The payments the total implies: the studio's 30% deposit when booking, the rest before
    // the wedding, adding up to the total to the cent.
    let whole: rust_decimal::Decimal = total.parse().unwrap();
    let deposit = projectflo::money::cents(whole * rust_decimal::Decimal::new(30, 2));
    let schedule = page
        .split("id=\"schedule\"")
        .nth(1)
        .expect("a payment schedule");
    assert!(
        schedule.contains("Deposit (30%)") && schedule.contains("when you book"),
        "{schedule}"
    );
    assert!(
        schedule.contains(&projectflo::money::format(deposit, "USD")),
        "{schedule}"
    );
    assert!(
        schedule.contains(&projectflo::money::format(whole - deposit, "USD")),
        "{schedule}"
    );
    let path = link.trim_start_matches(&app.url(""));
    let resp = app
        .post_form(&format!("{path}/accept"), &[("name", "")])
        .await;
    assert_eq!(resp.status(), 422);
    // Accepted in a name, for the version the couple saw; the page opens at the confirmation.
    let accept = format!("{path}/accept");
    let resp = app
        .post_form(&accept, &[("name", "Emma Rodriguez"), ("version", "1")])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], format!("{path}#accepted"));
    let page = app.get(path).await.text().await.unwrap();
    assert!(page.contains("Accepted by Emma Rodriguez"), "{page}");
    let again = [("name", "Emma"), ("version", "1")];
    assert_eq!(app.post_form(&accept, &again).await.status(), 409);
    // The board, the inquiry and the dashboard show it as accepted, no longer out.
    let board = s.get("/leads").await.text().await.unwrap();
    assert!(
        board.contains(&format!("id=\"accepted-{emma_inquiry}\"")),
        "{board}"
    );
    let inquiry = s
        .get(&format!("/leads/{emma_inquiry}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(inquiry.contains("id=\"inquiry-accepted\""), "{inquiry}");
    let dash = s.get("/").await.text().await.unwrap();
    assert!(
        dash.contains("<span class=\"kpi-value\" id=\"accepted-count\">2</span>"),
        "{dash}"
    );
    // Staff see it, and the quote is locked: a change is refused with the reason, nothing changes.
    let builder = s
        .get(&format!("/quotes/{build}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(builder.contains("Accepted by Emma Rodriguez"), "{builder}");
    assert!(builder.contains("id=\"locked\""), "{builder}");
    let films = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM build_deliverables WHERE build_id = $1",
            )
            .bind(build)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let before = films(&app).await;
    let highlight = id(&app, "deliverables", "Highlight Film").await.to_string();
    let refused = s
        .post_form(
            &format!("/quotes/{build}/deliverables"),
            &[("deliverable_id", &highlight)],
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("the quote is locked")
    );
    assert_eq!(films(&app).await, before);
    assert_eq!(
        s.post_form(&format!("/quotes/{build}/proposal"), &[])
            .await
            .status(),
        409
    );
    // Taking the acceptance back asks first and says what it will do.
    let ask = s.post_form(&format!("/quotes/{build}/withdraw"), &[]).await;
    assert_eq!(ask.status(), 200);
    let ask = ask.text().await.unwrap();
    assert!(
        ask.contains("id=\"withdraw-confirm\"") && ask.contains("must accept the new version"),
        "{ask}"
    );
    let accepted = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "SELECT accepted_at IS NOT NULL FROM builds WHERE id = $1",
            )
            .bind(build)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    assert!(accepted(&app).await, "asking changes nothing");
    let done = s
        .post_form(&format!("/quotes/{build}/withdraw"), &[("confirm", "yes")])
        .await;
    assert_eq!(done.status(), 303);
    assert!(!accepted(&app).await);
    let page = app.get(path).await.text().await.unwrap();
    assert!(page.contains("id=\"withdrawn\""), "{page}");
    // An edit: the builder says the couple still sees version 1, and they do.
    let added = s
        .post_form(
            &format!("/quotes/{build}/deliverables"),
            &[("deliverable_id", &highlight)],
        )
        .await;
    assert_eq!(added.status(), 303);
    let builder = s
        .get(&format!("/quotes/{build}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        builder.contains("Changed since version 1 was sent"),
        "{builder}"
    );
    assert!(builder.contains("Send version 2"), "{builder}");
    let page = app.get(path).await.text().await.unwrap();
    assert!(
        page.contains(&format!("id=\"proposal-total\">{shown}<")),
        "{page}"
    );
    // Version 2: the old link says it was replaced and leads to the new one.
    let html = s
        .post_form(&format!("/quotes/{build}/proposal"), &[])
        .await
        .text()
        .await
        .unwrap();
    let link2 = html
        .split("id=\"share-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(link2, link);
    let old = app.get(path).await;
    assert_eq!(old.status(), 200, "an old link is never a 404");
    let old = old.text().await.unwrap();
    assert!(old.contains("was replaced by version 2"), "{old}");
    assert!(old.contains(&format!("href=\"{path}/latest\"")), "{old}");
    let newest = app
        .get(&format!("{path}/latest"))
        .await
        .text()
        .await
        .unwrap();
    assert!(newest.contains("Proposal version 2"), "{newest}");
    assert!(
        !newest.contains(&format!("id=\"proposal-total\">{shown}<")),
        "{newest}"
    );
    let stale = app
        .post_form(&accept, &[("name", "Emma Rodriguez"), ("version", "1")])
        .await;
    assert_eq!(stale.status(), 409);
    assert!(
        stale
            .text()
            .await
            .unwrap()
            .contains("replaced by version 2")
    );
    // A version past its last day cannot be accepted.
    sqlx::query("UPDATE proposal_versions SET valid_until = '2000-01-01' WHERE build_id = $1 AND version = 2")
        .bind(build)
        .execute(&app.db)
        .await
        .unwrap();
    let path2 = link2.trim_start_matches(&app.url("")).to_string();
    let late = app
        .post_form(
            &format!("{path2}/accept"),
            &[("name", "Emma Rodriguez"), ("version", "2")],
        )
        .await;
    assert_eq!(late.status(), 409);
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("could be accepted until")
    );
    assert!(!accepted(&app).await);
    assert_eq!(
        app.client
            .get(app.url("/proposal/not-a-token"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn only_people_with_the_quote_permissions_see_or_change_quotes() {
    let app = TestApp::with_settings(Template::Demo, |_| {}).await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let editor = app.demo_login("Editor").await;
    assert_eq!(editor.get(&format!("/quotes/{ava}")).await.status(), 403);
    assert_problem(
        editor.get(&format!("/api/v1/builds/{ava}/price")).await,
        403,
    )
    .await;
    let books = app.demo_login("Bookkeeper").await;
    assert_eq!(
        books.get(&format!("/quotes/{ava}")).await.status(),
        200,
        "builds.view"
    );
    assert_problem(
        books
            .post_json(
                &format!("/api/v1/builds/{ava}/billables"),
                &json!({"billable_item_id": 1}),
            )
            .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn a_package_starts_a_new_quote_and_a_quote_can_be_duplicated() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let ava_total = price(&s, ava).await["total"].clone();
    // Save Ava's configuration as a package (through the builder's form).
    assert_eq!(
        s.post_form(
            &format!("/quotes/{ava}/package"),
            &[("name", "Signature Collection")]
        )
        .await
        .status(),
        303
    );
    let dup = s
        .post_form(
            &format!("/quotes/{ava}/package"),
            &[("name", "Signature Collection")],
        )
        .await;
    assert_eq!(dup.status(), 409);
    assert!(dup.text().await.unwrap().contains("already exists"));
    let packages: Vec<Value> = s.get("/api/v1/packages").await.json().await.unwrap();
    assert_eq!(packages.len(), 1);
    let package = packages[0]["id"].as_i64().unwrap();
    // Emma's quote starts from it: the same configuration gives the same price.
    let emma_inquiry: i32 = scalar(
        &app,
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id =
        i.contact_id WHERE c.email = 'emma.rodriguez@example.com'",
    )
    .await;
    let resp = s
        .post_form(
            &format!("/leads/{emma_inquiry}/quote"),
            &[("package_id", &package.to_string())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let emma = build_of(&app, "emma.rodriguez@example.com").await;
    assert_eq!(price(&s, emma).await["total"], ava_total);
    let live: String = scalar(
        &app,
        &format!("SELECT live_price::text FROM builds WHERE id = {emma}"),
    )
    .await;
    assert_eq!(Value::String(live), ava_total);
    // Duplicating into Noah's inquiry copies it too; into an inquiry with a quote is a 409.
    let noah_inquiry: i32 = scalar(
        &app,
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id =
        i.contact_id WHERE c.email = 'noah.w@example.com'",
    )
    .await;
    let created: Value = s
        .post_json(
            &format!("/api/v1/builds/{ava}/duplicate"),
            &json!({"inquiry_id": noah_inquiry}),
        )
        .await
        .json()
        .await
        .unwrap();
    let noah = created["build_id"].as_i64().unwrap() as i32;
    assert_eq!(price(&s, noah).await["total"], ava_total);
    assert_problem(
        s.post_json(
            &format!("/api/v1/builds/{ava}/duplicate"),
            &json!({"inquiry_id": noah_inquiry}),
        )
        .await,
        409,
    )
    .await;
    // The copy is independent: changing it leaves the original alone.
    let line: i32 = scalar(
        &app,
        &format!(
            "SELECT id FROM build_coverage_assignments WHERE build_id = {noah} ORDER BY id LIMIT 1"
        ),
    )
    .await;
    s.delete(&format!("/api/v1/builds/{noah}/coverage/{line}"))
        .await;
    assert_eq!(price(&s, ava).await["total"], ava_total);
    assert_ne!(price(&s, noah).await["total"], ava_total);
    // An unknown package is named.
    let liam_inquiry: i32 = scalar(
        &app,
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id =
        i.contact_id WHERE c.email = 'liam.johnson@example.com'",
    )
    .await;
    let p = assert_problem(
        s.post_json(
            "/api/v1/packages/999/builds",
            &json!({"inquiry_id": liam_inquiry}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "package_id");
    assert_eq!(
        scalar::<i64>(
            &app,
            &format!("SELECT count(*) FROM builds WHERE inquiry_id = {liam_inquiry}")
        )
        .await,
        0,
        "nothing half-made"
    );
}

#[tokio::test]
async fn build_statuses_are_the_databases_enum() {
    use projectflo::quote::BuildStatus;
    let app = TestApp::demo().await;
    let labels: Vec<BuildStatus> =
        sqlx::query_scalar("SELECT unnest(enum_range(NULL::builds_status))")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(labels, BuildStatus::ALL, "every label, in order");
    let bound: String = sqlx::query_scalar("SELECT ($1::builds_status)::text")
        .bind(BuildStatus::ProposalSent)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(bound, "Proposal Sent");
    let ava = build_of(&app, "ava.t@example.com").await;
    let status: BuildStatus = sqlx::query_scalar("SELECT status FROM builds WHERE id = $1")
        .bind(ava)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, BuildStatus::ProposalSent);
}

#[tokio::test]
async fn the_quotes_list_walks_page_by_page_and_shows_each_quote_once() {
    let app = TestApp::demo().await;
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 600)
        .await
        .unwrap();
    let s = app.demo_login("Sales").await;
    let (mut seen, mut pages, mut next) = (vec![], 0, Some("/quotes".to_string()));
    while let Some(path) = next.take() {
        let html = s.get(&path).await.text().await.unwrap();
        let ids: Vec<i32> = html
            .split("<td><a href=\"/quotes/")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert!(
            !ids.is_empty() && ids.len() <= 50,
            "{path}: {} rows",
            ids.len()
        );
        seen.extend(ids);
        next = html
            .split("href=\"")
            .find(|t| t.contains("id=\"next-page\""))
            .map(|t| t.split('"').next().unwrap().to_string());
        pages += 1;
    }
    let all: Vec<i32> = sqlx::query_scalar("SELECT id FROM builds ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(pages >= 3, "{pages} pages");
    seen.sort();
    assert_eq!(seen, all, "every quote exactly once");
}

/// Rows a generic plan (what PostgreSQL switches a prepared statement to after five runs) reads
/// to answer a deep page of `sql`: `PREPARE`d with `types`, run with the cursor `args`.
pub async fn rows_read_for_a_deep_page(
    db: &sqlx::PgPool,
    types: &str,
    sql: &str,
    args: &str,
) -> i64 {
    use sqlx::Executor;
    let mut conn = db.acquire().await.unwrap();
    conn.execute("SET plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    conn.execute(format!("PREPARE deep({types}) AS {sql}").as_str())
        .await
        .unwrap();
    let plan: serde_json::Value = sqlx::query_scalar(&format!(
        "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE deep({args})"
    ))
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    conn.execute("DEALLOCATE deep; RESET plan_cache_mode")
        .await
        .unwrap();
    fn read(node: &serde_json::Value) -> i64 {
        let own = node["Actual Rows"].as_i64().unwrap_or(0)
            + node["Rows Removed by Filter"].as_i64().unwrap_or(0);
        let below: i64 = node["Plans"]
            .as_array()
            .map_or(0, |p| p.iter().map(read).sum());
        own.max(below)
    }
    read(&plan[0]["Plan"])
}

/// A list newest first by (time, id), 51 rows a page (binds: the cursor's time and id, the
/// limit): its first page, and the page after the cursor (`at`, `id`) deep in it, each read at
/// most 120 rows under a generic plan. `list` names it in the failure.
pub async fn assert_time_pages_read_one_page(
    db: &sqlx::PgPool,
    list: &str,
    sql: &str,
    at: chrono::DateTime<chrono::Utc>,
    id: i32,
) {
    for (what, args) in [
        ("the first page", "NULL, 2147483647, 51".to_string()),
        ("a deep page", format!("'{}', {id}, 51", at.to_rfc3339())),
    ] {
        let read = rows_read_for_a_deep_page(db, "timestamptz, int, bigint", sql, &args).await;
        assert!(read <= 120, "{list}: {what} read {read} rows");
    }
}

#[tokio::test]
async fn a_deep_page_reads_one_page_of_rows_even_under_a_generic_plan() {
    let app = TestApp::demo().await;
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 3000)
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(&app.db).await.unwrap();
    // The cursor of a page far down each list.
    let (at, id): (chrono::DateTime<chrono::Utc>, i32) = sqlx::query_as(
        "SELECT updated_at, id FROM builds ORDER BY updated_at DESC, id DESC OFFSET 500 LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let read = rows_read_for_a_deep_page(
        &app.db,
        "timestamptz, int, bigint",
        projectflo::quote::view::QUOTES_SQL,
        &format!("'{}', {id}, 51", at.to_rfc3339()),
    )
    .await;
    assert!(read <= 120, "the quotes list read {read} rows for one page");
    let (at, id): (chrono::DateTime<chrono::Utc>, i32) = sqlx::query_as(
        "SELECT created_at, id FROM inquiries ORDER BY created_at DESC, id DESC OFFSET 2500 LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // The inquiries list as `inquiries::list` builds it for a later page without filters.
    let sql = projectflo::crm::inquiries::list_sql().replace(
        "WHERE true",
        "WHERE true AND (i.created_at, i.id) < ($2, $3)",
    );
    let read = rows_read_for_a_deep_page(
        &app.db,
        "bigint, timestamptz, int",
        &sql,
        &format!("51, '{}', {id}", at.to_rfc3339()),
    )
    .await;
    assert!(
        read <= 120,
        "the inquiries list read {read} rows for one page"
    );
}

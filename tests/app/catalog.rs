//! Phase 1: catalogs and rules through the API and the pages; validation by field; deletes
//! that say what uses a row; CSV round trip; studio settings; the rules preview.
use crate::helpers::{Session, TestApp, assert_problem};
use rust_decimal::Decimal;
use serde_json::json;

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_catalog_lists_and_creates_through_the_api() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    for (slug, body) in [
        (
            "coverage-scenes",
            json!({"name": "Sparkler Exit", "default_hours": "0.5"}),
        ),
        ("deliverables", json!({"name": "Instagram Reel"})),
        ("editing-styles", json!({"name": "Black and White"})),
        (
            "operator-types",
            json!({"name": "Assistant", "pricing_type": "Hourly", "default_hourly_rate": 40}),
        ),
        (
            "billable-items",
            json!({"name": "Drone Permit", "price": "75.50", "pricing_type": "Fixed", "is_active": true}),
        ),
        (
            "task-templates",
            json!({"name": "Reel Cut", "phase": "Post-Production", "pricing_type": "Hourly", "effort_calculation_rules": {"base_hours": 1, "hours_per_target_minute": 2}}),
        ),
        (
            "default-components",
            json!({"deliverable_id": 1, "default_editing_style_id": 1, "default_target_minutes": 1}),
        ),
        (
            "style-requirements",
            json!({"editing_style_id": 3, "billable_item_id": 4, "quantity": 2}),
        ),
        (
            "task-recipes",
            json!({"deliverable_id": 4, "task_template_id": 1, "priority": 5}),
        ),
    ] {
        let before = s
            .get(&format!("/api/v1/catalog/{slug}"))
            .await
            .json::<Vec<serde_json::Value>>()
            .await
            .unwrap()
            .len();
        let resp = s.post_json(&format!("/api/v1/catalog/{slug}"), &body).await;
        assert_eq!(resp.status(), 201, "{slug}: {}", resp.text().await.unwrap());
        let after: Vec<serde_json::Value> = s
            .get(&format!("/api/v1/catalog/{slug}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(after.len(), before + 1, "{slug}");
    }
    let item: serde_json::Value = s
        .get("/api/v1/catalog/billable-items")
        .await
        .json::<Vec<serde_json::Value>>()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i["name"] == "Drone Permit")
        .unwrap();
    assert_eq!(item["price"], "75.50", "money stays exact, as a string");
    assert_eq!(item["is_active"], true);
}

#[tokio::test]
async fn bad_values_are_named_and_nothing_is_written() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Admin").await;
    let before = count(&app, "billable_items").await
        + count(&app, "operator_types").await
        + count(&app, "task_templates").await;
    let cases = [
        (
            "billable-items",
            json!({"name": "X", "price": -1, "pricing_type": "Fixed"}),
            "price",
        ),
        (
            "billable-items",
            json!({"name": "X", "price": "10.001", "pricing_type": "Fixed"}),
            "price",
        ),
        (
            "billable-items",
            json!({"name": "X", "price": "ten", "pricing_type": "Fixed"}),
            "price",
        ),
        (
            "billable-items",
            json!({"name": "", "price": 1, "pricing_type": "Fixed"}),
            "name",
        ),
        (
            "billable-items",
            json!({"name": "X", "price": 1, "pricing_type": "Weekly"}),
            "pricing_type",
        ),
        (
            "billable-items",
            json!({"name": "X", "price": 1, "pricing_type": "Fixed", "colour": "red"}),
            "colour",
        ),
        (
            "operator-types",
            json!({"name": "Y", "pricing_type": "Hourly"}),
            "default_hourly_rate",
        ),
        (
            "operator-types",
            json!({"name": "Y", "pricing_type": "Fixed", "default_hourly_rate": 50}),
            "default_fixed_price",
        ),
        (
            "task-templates",
            json!({"name": "Z", "pricing_type": "Fixed"}),
            "fixed_price",
        ),
        (
            "task-templates",
            json!({"name": "Z", "pricing_type": "Hourly", "effort_calculation_rules": {"base_hours": -1}}),
            "effort_calculation_rules",
        ),
        (
            "task-templates",
            json!({"name": "Z", "pricing_type": "Hourly", "effort_calculation_rules": {"speed": 2}}),
            "effort_calculation_rules",
        ),
        (
            "task-templates",
            json!({"name": "Z", "pricing_type": "Hourly", "effort_calculation_rules": {"min_hours": 5, "max_hours": 1}}),
            "effort_calculation_rules",
        ),
        (
            "default-components",
            json!({"deliverable_id": 9999, "default_editing_style_id": 1}),
            "deliverable_id",
        ),
        (
            "style-requirements",
            json!({"editing_style_id": 1, "billable_item_id": 1, "quantity": 0}),
            "quantity",
        ),
    ];
    for (slug, body, field) in cases {
        let resp = s.post_json(&format!("/api/v1/catalog/{slug}"), &body).await;
        let problem = assert_problem(resp, 422).await;
        assert_eq!(
            problem["errors"][0]["field"], field,
            "{slug} {body}: {problem}"
        );
    }
    let after = count(&app, "billable_items").await
        + count(&app, "operator_types").await
        + count(&app, "task_templates").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_duplicate_name_is_a_friendly_409() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let p = assert_problem(
        s.post_json("/api/v1/catalog/deliverables", &json!({"name": "Teaser"}))
            .await,
        409,
    )
    .await;
    assert_eq!(p["detail"], "a film named \"Teaser\" already exists");
    let p = assert_problem(
        s.post_json(
            "/api/v1/catalog/style-requirements",
            &json!({"editing_style_id": 1, "billable_item_id": 1, "quantity": 1}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("already exists"));
    // Renaming onto another name too.
    let p = assert_problem(
        s.put_json("/api/v1/catalog/deliverables/1", &json!({"name": "Teaser"}))
            .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("Teaser"));
}

#[tokio::test]
async fn deleting_something_in_use_says_what_uses_it() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let ceremony: i32 =
        sqlx::query_scalar("SELECT id FROM coverage_scenes WHERE name = 'Ceremony'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let resp = s
        .delete(&format!("/api/v1/catalog/coverage-scenes/{ceremony}"))
        .await;
    let p = assert_problem(resp, 409).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("\"Ceremony\" is still used by 9 quote components, 5 quote coverage lines, 1 film default components"),
        "{detail}"
    );
    assert_eq!(count(&app, "coverage_scenes").await, 6, "nothing deleted");
    // A quote line pointing at a billable item keeps it too (no quote silently loses lines).
    let item: i32 =
        sqlx::query_scalar("SELECT id FROM billable_items WHERE name = 'Extra Revision Round'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let contact: i32 =
        sqlx::query_scalar("SELECT id FROM contacts WHERE email = 'ava.t@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let build: i32 = sqlx::query_scalar(
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id WHERE i.contact_id = $1",
    )
    .bind(contact)
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO build_billable_items (build_id, billable_item_id, price_at_time_of_add) VALUES ($1, $2, 350)").bind(build).bind(item).execute(&app.db).await.unwrap();
    let resp = s
        .delete(&format!("/api/v1/catalog/billable-items/{item}"))
        .await;
    let p = assert_problem(resp, 409).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("1 quote add-on lines"),
        "{p}"
    );
    // Something unused goes, and the audit log keeps what it was.
    let created: serde_json::Value = s
        .post_json(
            "/api/v1/catalog/deliverables",
            &json!({"name": "Drone Reel"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let resp = s
        .delete(&format!("/api/v1/catalog/deliverables/{}", created["id"]))
        .await;
    assert_eq!(resp.status(), 204);
    let details: serde_json::Value = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'catalog.deliverables.delete'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(details["before"]["name"], "Drone Reel");
}

#[tokio::test]
async fn csv_export_and_import_round_trip_and_a_bad_row_writes_nothing() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let snapshot = || async {
        s.get("/api/v1/catalog/billable-items")
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let before = snapshot().await;
    let resp = s.get("/settings/catalog/billable-items/export.csv").await;
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    assert!(
        csv.starts_with("id,name,description,category,price,pricing_type,is_active,is_taxable\n"),
        "{csv}"
    );
    let upload = |body: String| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::text(body).file_name("items.csv"),
        );
        s.client
            .post(s.url(&format!(
                "/settings/catalog/billable-items/import?csrf={}",
                s.csrf
            )))
            .multipart(form)
            .send()
    };
    // Round trip: the same file changes nothing.
    let resp = upload(csv.clone()).await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/settings/catalog/billable-items?done=imported-0-added-10-updated"
    );
    assert_eq!(snapshot().await, before);
    // A new row and a changed price, plus two bad rows: nothing is written, the bad rows are listed.
    let mut changed = csv.replace(
        ",Rush Delivery,Highlight film within 3 weeks,Delivery,350.00,",
        ",Rush Delivery,Highlight film within 3 weeks,Delivery,375.00,",
    );
    changed.push_str(",Photo Booth,,Add-ons,300,Fixed,true,true\n,Bad Price,,Add-ons,-5,Fixed,true,true\n,,,,1,Monthly,true,true\n");
    let resp = upload(changed.clone()).await.unwrap();
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("row 13: price: must not be negative"),
        "{html}"
    );
    assert!(
        html.contains("row 14: name: is required")
            && html.contains("row 14: pricing_type: must be one of Fixed, Unit"),
        "{html}"
    );
    assert_eq!(snapshot().await, before, "nothing imported");
    // Without the bad rows it all goes in.
    let good: String = changed
        .lines()
        .filter(|l| !l.contains("Bad Price") && !l.contains("Monthly"))
        .map(|l| format!("{l}\n"))
        .collect();
    let resp = upload(good).await.unwrap();
    assert_eq!(
        resp.headers()["location"],
        "/settings/catalog/billable-items?done=imported-1-added-10-updated"
    );
    let price: String =
        sqlx::query_scalar("SELECT price::text FROM billable_items WHERE name = 'Rush Delivery'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(price, "375.00");
    assert_eq!(count(&app, "billable_items").await, 11);
}

#[tokio::test]
async fn the_pages_show_problems_by_the_field_and_keep_what_was_typed() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let resp = s
        .post_form(
            "/settings/catalog/operator-types",
            &[
                ("name", "Gimbal Op"),
                ("pricing_type", "Hourly"),
                ("default_fixed_price", "12"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"error-default_hourly_rate\""), "{html}");
    assert!(html.contains("value=\"Gimbal Op\""), "kept what was typed");
    let resp = s
        .post_form(
            "/settings/catalog/operator-types",
            &[
                ("name", "Gimbal Op"),
                ("pricing_type", "Hourly"),
                ("default_hourly_rate", "60"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let list = s
        .get("/settings/catalog/operator-types?done=created")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Gimbal Op") && list.contains("The operator type is added."));
    // Edit, then delete from its page.
    let id: i32 = sqlx::query_scalar("SELECT id FROM operator_types WHERE name = 'Gimbal Op'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let edit = s
        .get(&format!("/settings/catalog/operator-types/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(edit.contains("value=\"60.00\""));
    let resp = s
        .post_form(
            &format!("/settings/catalog/operator-types/{id}"),
            &[
                ("name", "Gimbal Operator"),
                ("pricing_type", "Hourly"),
                ("default_hourly_rate", "65"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        s.post_form(
            &format!("/settings/catalog/operator-types/{id}/delete"),
            &[]
        )
        .await
        .status(),
        303
    );
    // An Editor may look but not change.
    let editor = app.demo_login("Editor").await;
    let page = editor
        .get("/settings/catalog/operator-types")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Lead Videographer")
            && !page.contains("Add a operator type")
            && !page.contains("Add an operator type")
    );
    assert_eq!(
        editor
            .post_form(
                "/settings/catalog/operator-types",
                &[
                    ("name", "X"),
                    ("pricing_type", "Fixed"),
                    ("default_fixed_price", "1")
                ]
            )
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn studio_settings_are_validated_and_saved() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let page = s.get("/settings/studio").await.text().await.unwrap();
    assert!(page.contains("value=\"Golden Hour Films\"") && page.contains("value=\"85.00\""));
    let mut form = vec![
        ("studio_name", "Golden Hour Films"),
        ("currency_code", "eur"),
        ("time_zone", "Mars/Olympus"),
        ("editing_hourly_rate", "-3"),
        ("tax_rate_percent", "120"),
        ("deposit_percent", "30"),
        ("balance_due_days_before_wedding", "30"),
        ("invoice_prefix", "GHF-"),
        ("task_phase_order", "Edit\nDeliver"),
        ("proposal_valid_days", "30"),
    ];
    let resp = s.post_form("/settings/studio", &form).await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    for f in [
        "currency_code",
        "time_zone",
        "editing_hourly_rate",
        "tax_rate_percent",
    ] {
        assert!(html.contains(&format!("id=\"error-{f}\"")), "{f}");
    }
    form[1].1 = "EUR";
    form[2].1 = "Europe/Lisbon";
    form[3].1 = "90";
    form[4].1 = "23";
    assert_eq!(s.post_form("/settings/studio", &form).await.status(), 303);
    let (cur, rate, phases): (String, String, Vec<String>) = sqlx::query_as("SELECT currency_code::text, editing_hourly_rate::text, task_phase_order FROM studio_settings").fetch_one(&app.db).await.unwrap();
    assert_eq!((cur.as_str(), rate.as_str()), ("EUR", "90.00"));
    assert_eq!(phases, ["Edit", "Deliver"]);
    // Money is shown in the studio's currency from now on.
    assert!(s.get("/").await.text().await.unwrap().contains("€90.00"));
    // Only settings.manage may change them.
    assert_eq!(
        app.demo_login("Sales")
            .await
            .post_form("/settings/studio", &form)
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_rules_preview_prices_a_film_by_hand_arithmetic() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let id = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i32>(sql)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let film = id("SELECT id FROM deliverables WHERE name = 'Highlight Film'").await;
    let ceremony = id("SELECT id FROM coverage_scenes WHERE name = 'Ceremony'").await;
    let reception = id("SELECT id FROM coverage_scenes WHERE name = 'Reception'").await;
    let html = s
        .get(&format!(
            "/settings/rules-preview?film={film}&scene={ceremony}&scene={reception}"
        ))
        .await
        .text()
        .await
        .unwrap();
    // Per component (1 target minute, Cinematic, editing rate $85):
    //   Sync & Organise         1 + 0.1 x 1 = 1.1 h  -> $93.50
    //   Highlight Rough Cut     2 + 1.5 x 1 = 3.5 h  -> $297.50 (within 3..16)
    //   Cinematic Colour Grade  0.5 + 0.5 x 1 = 1 h  -> $85.00
    //   = $476.00; two scenes = $952.00
    // Cinematic adds per component: Licensed Music Track $85 and Colour Grade Pack $250
    //   2 x 85 = $170.00, 2 x 250 = $500.00
    // Total $952.00 + $170.00 + $500.00 = $1,622.00
    for part in [
        "$93.50", "$297.50", "$85.00", "$476.00", "$170.00", "$500.00",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(
        html.contains("<strong id=\"preview-total\">$1,622.00</strong>"),
        "{html}"
    );
    // Vintage Film instead: its own grade task (1.5 h = $127.50) and its own add-on ($180 each).
    let vintage = id("SELECT id FROM editing_styles WHERE name = 'Vintage Film'").await;
    let html = s
        .get(&format!(
            "/settings/rules-preview?film={film}&scene={ceremony}&style={vintage}"
        ))
        .await
        .text()
        .await
        .unwrap();
    // 93.50 + 297.50 + 127.50 = 518.50; + 180.00 = 698.50
    assert!(
        html.contains("<strong id=\"preview-total\">$698.50</strong>"),
        "{html}"
    );
}

/// Every piece of `html` between `start` and the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    html.split(start)
        .skip(1)
        .map(|rest| rest.split(end).next().unwrap())
        .collect()
}

/// A price as people read it, in the studio's currency: each component's price, each line the
/// styles add ("quantity × unit price|amount"), and the total of the two (coverage left out).
#[derive(Debug, PartialEq)]
struct Shown {
    components: Vec<String>,
    styles: Vec<String>,
    total: String,
}

/// What the rules preview page shows.
fn preview_shows(html: &str) -> Shown {
    let added = html
        .split("<h3>Added by the styles</h3>")
        .nth(1)
        .expect("style lines");
    Shown {
        components: between(html, "<span class=\"money\">", "</span></h3>")
            .into_iter()
            .map(String::from)
            .collect(),
        styles: between(added, "<td class=\"num\">", "</td></tr>")
            .iter()
            .map(|cells| cells.replace("</td><td class=\"money\">", "|"))
            .collect(),
        total: between(html, "<strong id=\"preview-total\">", "</strong>")[0].to_string(),
    }
}

/// What the quote builder's API prices a build at, without its coverage.
async fn builder_shows(s: &Session, build: i64) -> Shown {
    let price: serde_json::Value = s
        .get(&format!("/api/v1/builds/{build}/price"))
        .await
        .json()
        .await
        .unwrap();
    let currency = price["currency"].as_str().unwrap();
    let dec = |v: &serde_json::Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    let money = |v: &serde_json::Value| projectflo::money::format(dec(v), currency);
    let lines = price["lines"].as_array().unwrap();
    let of_kind = |kind: &'static str| lines.iter().filter(move |l| l["kind"] == kind);
    let coverage: Decimal = of_kind("coverage").map(|l| dec(&l["amount"])).sum();
    Shown {
        components: of_kind("component").map(|l| money(&l["amount"])).collect(),
        styles: of_kind("style_add_on")
            .map(|l| {
                let quantity = l["quantity"].as_str().unwrap();
                let (unit, amount) = (money(&l["unit_price"]), money(&l["amount"]));
                format!("{quantity} × {unit}|{amount}")
            })
            .collect(),
        total: projectflo::money::format(dec(&price["total"]) - coverage, currency),
    }
}

/// A new quote for Emma covering `scenes` (2 h of a lead videographer each), with `film`, every
/// component in `style`.
async fn quote_of(app: &TestApp, s: &Session, film: i32, scenes: &[i32], style: i32) -> i64 {
    let inquiry: i32 = sqlx::query_scalar(
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'emma.rodriguez@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let resp = s
        .post_json(&format!("/api/v1/inquiries/{inquiry}/build"), &json!({}))
        .await;
    assert_eq!(resp.status(), 201);
    let build = resp.json::<serde_json::Value>().await.unwrap()["build_id"]
        .as_i64()
        .unwrap();
    let lead = json!(id_of(app, "operator_types", "Lead Videographer").await);
    let mut changes: Vec<(String, serde_json::Value)> = scenes
        .iter()
        .map(|scene| {
            let body = json!({"coverage_scene_id": scene, "operator_type_id": lead, "hours": "2"});
            (format!("/api/v1/builds/{build}/coverage"), body)
        })
        .collect();
    changes.push((
        format!("/api/v1/builds/{build}/deliverables"),
        json!({"deliverable_id": film}),
    ));
    for (path, body) in changes {
        let resp = s.post_json(&path, &body).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    let components: Vec<(i32, Option<String>, bool)> = sqlx::query_as(
        "SELECT c.id, c.target_minutes::text, c.is_included FROM build_components c
         JOIN build_deliverables bd ON bd.id = c.build_deliverable_id
         WHERE bd.build_id = $1 ORDER BY c.id",
    )
    .bind(build as i32)
    .fetch_all(&app.db)
    .await
    .unwrap();
    for (c, minutes, included) in &components {
        let body = json!({
            "editing_style_id": style,
            "target_minutes": minutes,
            "is_included": included,
        });
        let resp = s
            .put_json(&format!("/api/v1/builds/{build}/components/{c}"), &body)
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    build
}

/// The id of the catalog row with this name.
async fn id_of(app: &TestApp, table: &str, name: &str) -> i32 {
    sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE name = $1"))
        .bind(name)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_rules_preview_and_the_quote_builder_give_the_same_price() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    // Euros at another editing rate: the demo's own numbers cannot match by chance.
    let mut settings: serde_json::Value =
        s.get("/api/v1/studio-settings").await.json().await.unwrap();
    settings["currency_code"] = json!("EUR");
    settings["editing_hourly_rate"] = json!("92.50");
    let resp = s.put_json("/api/v1/studio-settings", &settings).await;
    assert_eq!(resp.status(), 200);
    let film = id_of(&app, "deliverables", "Highlight Film").await;
    let vintage = id_of(&app, "editing_styles", "Vintage Film").await;
    let mut scenes = vec![];
    for scene in ["Ceremony", "Reception", "Drone Aerials"] {
        scenes.push(id_of(&app, "coverage_scenes", scene).await);
    }
    // Components follow the covered scenes in the order of their ids, in both.
    scenes.sort();
    let build = quote_of(&app, &s, film, &scenes, vintage).await;
    let builder = builder_shows(&s, build).await;
    let query: String = scenes.iter().map(|sc| format!("&scene={sc}")).collect();
    let html = s
        .get(&format!(
            "/settings/rules-preview?film={film}{query}&style={vintage}"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(preview_shows(&html), builder, "{html}");
    // Not by chance: Sync 1.1 h + Rough Cut 3.5 h + Vintage Grade 1.5 h at €92.50 a component,
    // Drone Aerials' Stabilisation 0.75 h more; Film Grain & Texture Pass 3 x €180.
    assert_eq!(builder.components, ["€564.25", "€564.25", "€633.63"]);
    assert_eq!(builder.styles, ["3 × €180.00|€540.00"]);
    assert_eq!(builder.total, "€2,302.13");
}

#[tokio::test]
async fn the_effort_rules_editor_saves_each_key_and_names_a_bad_one() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let base = [
        ("name", "Reel Edit"),
        ("phase", "Post-Production"),
        ("pricing_type", "Hourly"),
    ];
    let mut form: Vec<(&str, &str)> = base.to_vec();
    form.extend([
        ("effort_calculation_rules.base_hours", "1.5"),
        ("effort_calculation_rules.hours_per_target_minute", "0.25"),
        ("effort_calculation_rules.min_hours", ""),
        ("effort_calculation_rules.max_hours", "6"),
    ]);
    assert_eq!(
        s.post_form("/settings/catalog/task-templates", &form)
            .await
            .status(),
        303
    );
    let rules: serde_json::Value = sqlx::query_scalar(
        "SELECT effort_calculation_rules FROM task_templates WHERE name = 'Reel Edit'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rules,
        json!({"base_hours": 1.5, "hours_per_target_minute": 0.25, "max_hours": 6})
    );
    let id: i32 = sqlx::query_scalar("SELECT id FROM task_templates WHERE name = 'Reel Edit'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let edit = s
        .get(&format!("/settings/catalog/task-templates/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        edit.contains(
            "name=\"effort_calculation_rules.max_hours\" inputmode=\"decimal\" value=\"6\""
        ),
        "{edit}"
    );
    let mut bad: Vec<(&str, &str)> = base.to_vec();
    bad[0].1 = "Reel Edit 2";
    bad.extend([("effort_calculation_rules.base_hours", "two")]);
    let resp = s.post_form("/settings/catalog/task-templates", &bad).await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("base_hours must be a number")
    );
}

#[tokio::test]
async fn csv_export_neutralises_formulas_and_imports_them_back_unchanged() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let name = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    let description = "@SUM(A1:A9)";
    let made = s
        .post_json(
            "/api/v1/catalog/billable-items",
            &serde_json::json!({"name": name, "description": description, "category": "Extras",
                "price": "10.00", "pricing_type": "Fixed", "is_active": "true"}),
        )
        .await;
    assert_eq!(made.status(), 201, "{}", made.text().await.unwrap());
    let csv = s
        .get("/settings/catalog/billable-items/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\""),
        "{csv}"
    );
    assert!(csv.contains(",'@SUM(A1:A9),"), "{csv}");
    assert!(!csv.contains(",=") && !csv.contains(",@"), "{csv}");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text(csv).file_name("items.csv"),
    );
    let resp = s
        .client
        .post(s.url(&format!(
            "/settings/catalog/billable-items/import?csrf={}",
            s.csrf
        )))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (n, d): (String, String) = sqlx::query_as(
        "SELECT name, description FROM billable_items WHERE description LIKE '@SUM%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((n.as_str(), d.as_str()), (name, description));
}

#[tokio::test]
async fn the_add_form_is_titled_in_plain_english() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    for (slug, title) in [
        ("operator-types", "Add an operator type"),
        ("editing-styles", "Add an editing style"),
        ("deliverables", "Add a film"),
    ] {
        let page = owner
            .get(&format!("/settings/catalog/{slug}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(title), "{slug}: {title}");
    }
}

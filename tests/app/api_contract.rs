//! The API does what its OpenAPI document says: filters are query parameters, request schemas
//! say what the server requires (so `{}` is invalid where it is refused), a contact's detail
//! has one `inquiries`, dates are plausible wherever one is read, ids that name nothing are
//! 404, and whole numbers may be written `2.0`.
use crate::helpers::{TestApp, assert_problem};
use serde_json::{Value, json};

fn document() -> Value {
    let (_, openapi, _) = projectflo::app::app();
    serde_json::to_value(&openapi).unwrap()
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

fn required(doc: &Value, name: &str) -> Vec<String> {
    let r = schema(doc, name)["required"].as_array().cloned();
    r.unwrap_or_default()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[test]
fn the_list_filters_are_optional_query_parameters() {
    let doc = document();
    for (path, names) in [
        (
            "/api/v1/inquiries",
            &["q", "source", "status", "from", "to", "assignee", "after"][..],
        ),
        ("/api/v1/contacts", &["q", "after"][..]),
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let found: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(found, names, "{path}");
        for p in params {
            assert_eq!(p["in"], "query", "{path} {p}");
            assert_eq!(p["required"], false, "{path} {p}");
        }
    }
}

#[test]
fn request_schemas_mark_what_the_server_requires() {
    let doc = document();
    assert_eq!(required(&doc, "NewInquiry"), ["first_name", "email"]);
    let studio = required(&doc, "StudioSettings");
    for field in [
        "studio_name",
        "currency_code",
        "time_zone",
        "editing_hourly_rate",
        "tax_rate_percent",
        "deposit_percent",
        "balance_due_days_before_wedding",
        "invoice_prefix",
        "task_phase_order",
        "proposal_valid_days",
        "notify_email_kinds",
    ] {
        assert!(studio.contains(&field.to_string()), "{field}: {studio:?}");
    }
    let put = &doc["paths"]["/api/v1/studio-settings"]["put"];
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/StudioSettings"
    );
    let inquiry = &schema(&doc, "NewInquiry")["properties"];
    assert_eq!(inquiry["first_name"]["minLength"], 1);
    assert_eq!(inquiry["first_name"]["maxLength"], 255);
    assert_eq!(inquiry["email"]["format"], "email");
    let dates = inquiry["wedding_date"]["anyOf"].as_array().unwrap();
    assert!(dates.iter().any(|d| d["format"] == "date"), "{dates:?}");
    let quantity = &schema(&doc, "BillableIn")["properties"]["quantity"];
    assert_eq!(
        (&quantity["minimum"], &quantity["maximum"]),
        (&json!(1), &json!(99))
    );
    let kinds = &schema(&doc, "LogEntry")["properties"]["type"]["enum"];
    assert_eq!(kinds, &json!(["Call", "Email", "Meeting"]));
    let statuses = &schema(&doc, "InquiryStatus")["enum"];
    assert_eq!(statuses.as_array().unwrap().len(), 5, "{statuses}");
}

/// Every JSON body the server refuses as `{}` has required fields in the document, and the
/// document lists the 422 it answers with.
#[tokio::test]
async fn an_empty_body_is_refused_where_the_document_says_so() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let doc = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            let Some(name) = body
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            else {
                continue;
            };
            let concrete = ["{id}", "{line}", "{component}"]
                .iter()
                .fold(path.clone(), |p, param| p.replace(param, "1"));
            let req = s
                .client
                .request(method.to_uppercase().parse().unwrap(), s.url(&concrete));
            let resp = req
                .header("x-csrf-token", &s.csrf)
                .json(&json!({}))
                .send()
                .await;
            assert_problem(resp.unwrap(), 422).await;
            assert!(!required(&doc, name).is_empty(), "{method} {path}: {name}");
            assert!(op["responses"]["422"].is_object(), "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked} bodies");
}

#[tokio::test]
async fn a_contacts_detail_has_one_list_of_inquiries() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let id: i32 = sqlx::query_scalar("SELECT id FROM contacts WHERE email = 'ava.t@example.com'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let text = s
        .get(&format!("/api/v1/contacts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text.matches("\"inquiries\":").count(), 1, "{text}");
    let detail: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(detail["inquiries"].as_array().unwrap().len(), 1);
    assert_eq!(detail["email"], "ava.t@example.com");
    let doc = document();
    let props = &schema(&doc, "ContactDetail")["properties"];
    assert_eq!(props["inquiries"]["type"], "array");
    assert_eq!(
        props["communications_next"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(props.as_object().unwrap().len(), 8, "{props}");
}

const IMPLAUSIBLE: [&str; 4] = ["0000-01-01", "-0001-01-01", "+99999-01-01", "1-1-1"];

#[tokio::test]
async fn implausible_dates_are_refused_by_the_api_naming_the_field() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let before = count(&app, "SELECT count(*) FROM inquiries").await;
    for date in IMPLAUSIBLE {
        let body = json!({"first_name": "Ada", "email": "ada@example.org", "wedding_date": date});
        let p = assert_problem(s.post_json("/api/v1/inquiries", &body).await, 422).await;
        assert_eq!(p["errors"][0]["field"], "wedding_date", "{date}: {p}");
        let query = serde_urlencoded::to_string([("from", date)]).unwrap();
        let p = assert_problem(s.get(&format!("/api/v1/inquiries?{query}")).await, 422).await;
        assert_eq!(p["errors"][0]["field"], "from", "{date}: {p}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM inquiries").await, before);
    let ok = json!({"first_name": "Ada", "email": "ada@example.org", "wedding_date": "2199-12-31"});
    assert_eq!(s.post_json("/api/v1/inquiries", &ok).await.status(), 201);
    let all: Vec<Value> = s
        .get("/api/v1/inquiries?from=&to=&assignee=")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len() as i64, before + 1, "empty filters are no filters");
}

#[tokio::test]
async fn implausible_dates_are_refused_by_the_forms_by_the_field() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let before = count(&app, "SELECT count(*) FROM inquiries").await;
    for date in IMPLAUSIBLE {
        let fields = [
            ("first_name", "Ada"),
            ("email", "ada@example.org"),
            ("wedding_date", date),
        ];
        for resp in [
            app.post_form("/inquire", &fields).await,
            s.post_form("/leads", &fields).await,
        ] {
            assert_eq!(resp.status(), 422, "{date}");
            let html = resp.text().await.unwrap();
            let by_field = html.split("id=\"error-wedding_date\">").nth(1);
            let message = by_field
                .and_then(|m| m.split('<').next())
                .unwrap_or_default();
            assert!(
                message.contains("YYYY-MM-DD") || message.contains("1900"),
                "{date}: {html}"
            );
        }
        let query = serde_urlencoded::to_string([("from", date)]).unwrap();
        let audit = s.get(&format!("/settings/audit?{query}")).await;
        assert_eq!(audit.status(), 422, "{date}");
        assert!(
            audit.text().await.unwrap().contains("id=\"error-from\""),
            "{date}"
        );
        assert_eq!(
            s.get(&format!("/leads?{query}")).await.status(),
            422,
            "{date}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM inquiries").await, before);
    let empty = s.get("/settings/audit?person=&entity=&from=&to=").await;
    assert_eq!(
        empty.status(),
        200,
        "the filter form as sent with nothing chosen"
    );
    assert_eq!(
        s.get("/leads?q=&source=&from=&to=&assignee=")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn ids_that_name_nothing_are_404_naming_the_field() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let build: i32 = sqlx::query_scalar("SELECT id FROM builds ORDER BY id LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for (path, body, field) in [
        (
            "deliverables",
            json!({"deliverable_id": 0}),
            "deliverable_id",
        ),
        (
            "billables",
            json!({"billable_item_id": 0}),
            "billable_item_id",
        ),
        (
            "coverage",
            json!({"coverage_scene_id": 0, "operator_type_id": 1}),
            "coverage_scene_id",
        ),
    ] {
        let resp = s
            .post_json(&format!("/api/v1/builds/{build}/{path}"), &body)
            .await;
        let p = assert_problem(resp, 404).await;
        assert_eq!(p["errors"][0]["field"], field, "{path}: {p}");
    }
    let todo: i32 = sqlx::query_scalar("SELECT id FROM activities ORDER BY id LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let body = json!({"assigned_to_contributor_id": 0});
    let resp = s
        .post_json(&format!("/api/v1/activities/{todo}/reassign"), &body)
        .await;
    assert_eq!(
        assert_problem(resp, 404).await["errors"][0]["field"],
        "assignee"
    );
    let resp = s
        .post_json("/api/v1/activities/2147483646/reassign", &body)
        .await;
    assert!(
        assert_problem(resp, 404).await["errors"].is_null(),
        "the to-do first"
    );
}

#[tokio::test]
async fn numbers_are_read_as_the_document_writes_them() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let build: i32 = sqlx::query_scalar("SELECT id FROM builds ORDER BY id LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let item: i32 = sqlx::query_scalar("SELECT id FROM billable_items WHERE is_active LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let path = format!("/api/v1/builds/{build}/billables");
    let two = json!({"billable_item_id": item as f64, "quantity": 2.0});
    assert_eq!(
        s.post_json(&path, &two).await.status(),
        200,
        "2.0 is a whole number"
    );
    for bad in [json!(2.5), json!(0), json!(100)] {
        let body = json!({"billable_item_id": item, "quantity": bad});
        assert_problem(s.post_json(&path, &body).await, 422).await;
    }
    let (scene, op): (i32, i32) = sqlx::query_as(
        "SELECT (SELECT id FROM coverage_scenes LIMIT 1),
                (SELECT id FROM operator_types WHERE pricing_type = 'Hourly' LIMIT 1)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let path = format!("/api/v1/builds/{build}/coverage");
    for hours in [json!("1.5"), json!(2), json!("24.00"), json!(null)] {
        let body = json!({"coverage_scene_id": scene, "operator_type_id": op, "hours": hours});
        assert_eq!(s.post_json(&path, &body).await.status(), 200, "{hours}");
    }
    for hours in [
        json!(""),
        json!("0"),
        json!("1.234"),
        json!("1e1"),
        json!(1.5),
        json!("25"),
    ] {
        let body = json!({"coverage_scene_id": scene, "operator_type_id": op, "hours": hours});
        assert_problem(s.post_json(&path, &body).await, 422).await;
    }
}

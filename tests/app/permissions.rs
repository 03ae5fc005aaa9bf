//! Every route declares the permission it needs (or is listed as public), and each role gets
//! exactly what its permissions allow, with nothing leaking in a 403.
use crate::helpers::{TestApp, assert_problem};
use projectflo::auth::{Access, PUBLIC_ROUTES};

#[tokio::test]
async fn every_route_is_public_by_list_or_needs_a_login() {
    let app = TestApp::demo().await;
    let (_, openapi, table) = projectflo::app::app();
    // Every documented API operation is in the table of routes.
    for (path, item) in &openapi.paths.paths {
        let item = serde_json::to_value(item).unwrap();
        for method in item.as_object().unwrap().keys() {
            assert!(
                table
                    .iter()
                    .any(|r| &r.path == path && r.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} has no declared access"
            );
        }
    }
    let mut walked = 0;
    for route in &table {
        walked += 1;
        let path = route
            .path
            .replace("{id}", "1")
            .replace("{client_id}", "1")
            .replace("{token}", "x")
            .replace("{file}", "app.css")
            .replace("{slug}", "deliverables")
            .replace("{line}", "1")
            .replace("{component}", "1")
            .replace("{catalog}", "deliverables");
        let resp = app
            .client
            .request(route.method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        match route.access {
            Access::Public => {
                assert!(
                    PUBLIC_ROUTES.contains(&route.path.as_str()),
                    "{} is public but not listed",
                    route.path
                );
                assert!(
                    status != 401 && status != 403 && status != 303,
                    "{} {}: {status}",
                    route.method,
                    route.path
                );
            }
            _ if path.starts_with("/api/") => {
                assert_eq!(status, 401, "{} {}", route.method, route.path)
            }
            Access::Portal => {
                assert_eq!(status, 303, "{} {}", route.method, route.path);
                assert!(
                    resp.headers()["location"]
                        .to_str()
                        .unwrap()
                        .starts_with("/portal/login")
                );
            }
            _ => {
                assert_eq!(status, 303, "{} {}", route.method, route.path);
                assert!(
                    resp.headers()["location"]
                        .to_str()
                        .unwrap()
                        .starts_with("/login?next=")
                );
            }
        }
    }
    assert!(walked >= 40, "walked {walked} routes");
    println!("permission test walked {walked} routes");
}

/// (method, path, permission it needs: None = any staff)
const SAMPLE: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/", None),
    ("GET", "/leads", Some("leads.view")),
    ("GET", "/quotes", Some("builds.view")),
    ("GET", "/projects", Some("projects.view")),
    ("GET", "/tasks", Some("tasks.work")),
    ("GET", "/calendar", None),
    ("GET", "/invoices", Some("invoices.manage")),
    ("GET", "/reports", Some("reports.view")),
    ("GET", "/settings", None),
    ("GET", "/settings/users", Some("users.manage")),
    ("GET", "/settings/roles", Some("users.manage")),
    ("GET", "/settings/audit", Some("settings.manage")),
    ("GET", "/settings/portal", Some("bookings.manage")),
    ("GET", "/account", None),
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/catalog/coverage-scenes", None),
    (
        "POST",
        "/api/v1/catalog/coverage-scenes",
        Some("catalog.edit"),
    ),
];

/// What each seeded role may do (migration 0003).
fn role_allows(role: &str, perm: &str) -> bool {
    match role {
        "Owner" => true,
        "Admin" => perm != "users.manage",
        "Sales" => [
            "leads.view",
            "leads.edit",
            "builds.view",
            "builds.edit",
            "bookings.manage",
            "projects.view",
            "calendar.edit",
        ]
        .contains(&perm),
        "Editor" | "Videographer" => {
            ["projects.view", "tasks.work", "calendar.edit"].contains(&perm)
        }
        "Bookkeeper" => [
            "projects.view",
            "builds.view",
            "invoices.manage",
            "reports.view",
        ]
        .contains(&perm),
        _ => false,
    }
}

#[tokio::test]
async fn each_role_gets_what_its_permissions_allow() {
    let app = TestApp::demo().await;
    for (_, role) in projectflo::seed::DEMO_STAFF {
        let s = app.demo_login(role).await;
        for (n, (method, path, perm)) in SAMPLE.iter().enumerate() {
            let allowed = perm.is_none_or(|p| role_allows(role, p));
            let resp = match *method {
                "POST" => {
                    s.post_json(
                        path,
                        &serde_json::json!({"name": format!("Scene by {role} {n}")}),
                    )
                    .await
                }
                _ => s.get(path).await,
            };
            let status = resp.status().as_u16();
            if allowed {
                assert!(
                    (200..300).contains(&status),
                    "{role} {method} {path}: {status}"
                );
                continue;
            }
            if path.starts_with("/api/") {
                let body = assert_problem(resp, 403).await;
                assert!(
                    body["detail"].as_str().unwrap().contains(perm.unwrap()),
                    "{body}"
                );
            } else {
                assert_eq!(status, 403, "{role} {method} {path}");
                let html = resp.text().await.unwrap();
                assert!(
                    html.contains("does not allow this"),
                    "a friendly page: {html}"
                );
                // No data in the refusal: no other person's email, no studio records.
                for needle in ["@goldenhour.example", "@example.com", "Emma"] {
                    assert!(!html.contains(needle), "{role} {path} leaks {needle}");
                }
            }
        }
    }
    // Only the roles with catalog.edit wrote scenes.
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM coverage_scenes WHERE name LIKE 'Scene by %'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn the_navigation_shows_only_what_the_role_may_open() {
    let app = TestApp::demo().await;
    let html = app
        .demo_login("Editor")
        .await
        .get("/")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/tasks\""));
    assert!(!html.contains("href=\"/invoices\""));
    assert!(!html.contains("href=\"/leads\""));
    let html = app
        .demo_login("Bookkeeper")
        .await
        .get("/")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/invoices\"") && html.contains("href=\"/reports\""));
}

#[tokio::test]
async fn the_owner_edits_a_roles_permissions() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let books = app.demo_login("Bookkeeper").await;
    assert_eq!(books.get("/invoices").await.status(), 200);
    let id: i32 = sqlx::query_scalar("SELECT id FROM roles WHERE name = 'Bookkeeper'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let resp = owner
        .post_form(
            &format!("/settings/roles/{id}"),
            &[("perm", "reports.view"), ("perm", "projects.view")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        books.get("/invoices").await.status(),
        403,
        "takes effect at once"
    );
    assert_eq!(books.get("/reports").await.status(), 200);
    // An unknown permission is refused and nothing changes.
    let resp = owner
        .post_form(&format!("/settings/roles/{id}"), &[("perm", "everything")])
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(books.get("/reports").await.status(), 200);
    // The page shows the matrix.
    let html = owner.get("/settings/roles").await.text().await.unwrap();
    assert!(html.contains("form=\"role-"));
    // It is in the audit log with before and after.
    let details: serde_json::Value = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'roles.permissions.change'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        details["after"],
        serde_json::json!(["projects.view", "reports.view"])
    );
    assert_eq!(details["before"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_permissions_the_code_names_are_the_rows_of_the_permissions_table() {
    let app = TestApp::spawn().await;
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT action_name FROM permissions ORDER BY action_name")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let mut named: Vec<String> = projectflo::auth::Permission::ALL
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    named.sort();
    assert_eq!(named, rows);
}

#[test]
fn each_api_operation_documents_the_access_its_route_declares() {
    let (_, openapi, table) = projectflo::app::app();
    let doc = serde_json::to_value(&openapi).unwrap();
    let mut checked = 0;
    for route in table.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let op = &doc["paths"][&route.path][route.method.as_str().to_lowercase()];
        let expected = match route.access {
            Access::Perm(p) => serde_json::json!([{ "bearer": [p.name()] }]),
            Access::Staff => serde_json::json!([{ "bearer": [] }]),
            Access::Public | Access::Portal => serde_json::Value::Null,
        };
        assert_eq!(op["security"], expected, "{} {}", route.method, route.path);
        checked += 1;
    }
    assert!(checked >= 20, "checked {checked} operations");
}

#[tokio::test]
async fn every_settings_page_is_linked_from_settings_for_whoever_may_open_it() {
    let app = TestApp::demo().await;
    let pages = [
        "/settings/studio",
        "/settings/catalog",
        "/settings/rules-preview",
        "/settings/users",
        "/settings/roles",
        "/settings/audit",
        "/settings/portal",
        "/account",
    ];
    for (_, role) in projectflo::seed::DEMO_STAFF {
        let s = app.demo_login(role).await;
        let nav = s.get("/").await.text().await.unwrap();
        assert!(
            nav.contains("href=\"/settings\""),
            "{role}: Settings in the navigation"
        );
        let index = s.get("/settings").await.text().await.unwrap();
        for page in pages {
            let opens = s.get(page).await.status() == 200;
            let linked = index.contains(&format!("href=\"{page}\""));
            assert_eq!(
                linked, opens,
                "{role}: {page} linked {linked}, opens {opens}"
            );
        }
    }
}

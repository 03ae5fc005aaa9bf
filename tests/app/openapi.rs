//! The OpenAPI 3.1 document parses and lists every `/api` route.
use crate::helpers::TestApp;

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let app = TestApp::spawn().await;
    let resp = app.get("/api/openapi.json").await;
    assert_eq!(resp.status(), 200);
    let doc: utoipa::openapi::OpenApi = resp.json().await.expect("a parseable OpenAPI document");
    let json = serde_json::to_value(&doc).unwrap();
    assert!(
        json["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        json["openapi"]
    );
    let documented: Vec<(String, String)> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let v = serde_json::to_value(item).unwrap();
            v.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!documented.is_empty());
    // Every documented route answers (not 404/405), and every /api route the router serves is
    // documented: the router is built from the same OpenApiRouter (`http::api`).
    let (_router, from_router, _) = projectflo::app::app();
    let s = app.owner().await;
    assert_eq!(
        from_router.paths.paths.keys().collect::<Vec<_>>(),
        doc.paths.paths.keys().collect::<Vec<_>>()
    );
    for (method, path) in &documented {
        assert!(path.starts_with("/api/v1/"), "{path}");
        let concrete = path
            .replace("{id}", "1")
            .replace("{catalog}", "coverage-scenes");
        let req = s
            .client
            .request(method.parse().unwrap(), s.url(&concrete))
            .header("x-csrf-token", &s.csrf)
            .json(&serde_json::json!({}));
        let status = req.send().await.unwrap().status().as_u16();
        assert!(
            status != 405 && (status != 404 || path.contains('{')),
            "{method} {path}: {status}"
        );
    }
}

#[tokio::test]
async fn the_document_describes_bearer_tokens() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["paths"]["/api/v1/me"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
}

#[test]
fn every_operation_documents_its_errors_as_problem_json() {
    let (_, openapi, _) = projectflo::app::app();
    let doc = serde_json::to_value(&openapi).unwrap();
    let mut ops = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops += 1;
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "404", "401", "403"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            if method == "post" || method == "put" {
                for status in ["413", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
            }
            for (status, r) in responses {
                if status.as_str() >= "400" {
                    let content = r["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(ops >= 20, "{ops} operations");
}

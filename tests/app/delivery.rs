//! Delivery: resumable uploads (tus) hashed as they stream, exports shared with the couple
//! through links that expire and are revoked at once, ranges, raw footage never reachable from
//! the portal, the reminder before a link expires, the survey after final delivery, documents
//! archived, expenses checked by the field.
use crate::helpers::{Session, Template, TestApp, assert_problem};
use crate::portal::{couple, portal_login};
use chrono::{Duration, Utc};
use projectflo::clock::Clock;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) fn data_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-delivery-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn film_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 31 + seed as usize) % 251) as u8)
        .collect()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Create a tus upload; returns its address.
pub(crate) async fn create(
    app: &TestApp,
    token: &str,
    project: i32,
    name: &str,
    kind: &str,
    len: usize,
) -> String {
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/projects/{project}/uploads")))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", len.to_string())
        .header(
            "Upload-Metadata",
            format!("filename {},asset_type {}", b64(name), b64(kind)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    resp.headers()["location"].to_str().unwrap().to_string()
}

pub(crate) async fn patch(
    app: &TestApp,
    token: &str,
    url: &str,
    offset: usize,
    bytes: Vec<u8>,
) -> reqwest::Response {
    app.client
        .patch(app.url(url))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn offset(app: &TestApp, token: &str, url: &str) -> usize {
    let resp = app
        .client
        .head(app.url(url))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
    resp.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Upload a whole file in one PATCH; returns the asset id.
async fn upload(
    app: &TestApp,
    token: &str,
    project: i32,
    name: &str,
    kind: &str,
    data: &[u8],
) -> i32 {
    let url = create(app, token, project, name, kind, data.len()).await;
    let resp = patch(app, token, &url, 0, data.to_vec()).await;
    assert_eq!(resp.status(), 204);
    resp.headers()["asset-id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A PATCH whose connection drops after `sent` of the `declared` bytes.
async fn broken_patch(
    app: &TestApp,
    token: &str,
    url: &str,
    offset: usize,
    part: &[u8],
    declared: usize,
) {
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "PATCH {url} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: {declared}\r\n\r\n",
        app.addr
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(part).await.unwrap();
    s.flush().await.unwrap();
    s.shutdown().await.unwrap();
    let mut answer = vec![];
    let _ = s.read_to_end(&mut answer).await;
}

pub(crate) async fn project_of(app: &TestApp, client: i32) -> i32 {
    sqlx::query_scalar("SELECT id FROM projects WHERE client_id = $1")
        .bind(client)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn portal_get(
    portal: &reqwest::Client,
    app: &TestApp,
    path: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut req = portal.get(app.url(path));
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_resumable_upload_survives_a_broken_chunk_and_hashes_what_it_stored() {
    let dir = data_dir();
    let d = dir.clone();
    let app = TestApp::with_settings(Template::Demo, move |s| s.data_dir = d).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("uploads").await;
    let a = couple(&app, "Uma", "uma@example.org").await;
    let project = project_of(&app, a.client_id).await;
    let data = film_bytes(300_000, 7);
    let url = create(
        &app,
        &token,
        project,
        "Uma ceremony.mp4",
        "Export",
        data.len(),
    )
    .await;
    assert_eq!(offset(&app, &token, &url).await, 0);
    let resp = patch(&app, &token, &url, 0, data[..100_000].to_vec()).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["upload-offset"], "100000");
    // The connection drops halfway through the second chunk: the offset stays where it was.
    broken_patch(
        &app,
        &token,
        &url,
        100_000,
        &data[100_000..150_000],
        100_000,
    )
    .await;
    assert_eq!(offset(&app, &token, &url).await, 100_000);
    // A chunk at the wrong offset is refused.
    let resp = patch(&app, &token, &url, 150_000, data[150_000..].to_vec()).await;
    assert_problem(resp, 409).await;
    let resp = app
        .client
        .patch(app.url(&url))
        .bearer_auth(&token)
        .header("Upload-Offset", "100000")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // Resumed from the server's offset: the asset is made with the file's SHA-256.
    let resp = patch(&app, &token, &url, 100_000, data[100_000..].to_vec()).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["upload-offset"], "300000");
    let asset: i32 = resp.headers()["asset-id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (sha, size, key): (String, i64, String) =
        sqlx::query_as("SELECT sha256, size_bytes, storage_path FROM project_assets WHERE id = $1")
            .bind(asset)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(sha, hex::encode(Sha256::digest(&data)));
    assert_eq!(size, 300_000);
    assert_eq!(std::fs::read(dir.join(&key)).unwrap(), data);
    // Finished: nothing more goes in; a new upload can be given up (termination).
    assert_problem(patch(&app, &token, &url, 300_000, vec![1]).await, 409).await;
    let gone = create(&app, &token, project, "mistake.mov", "Raw Footage", 10).await;
    let resp = app
        .client
        .delete(app.url(&gone))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .client
        .head(app.url(&gone))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // Bad metadata and lengths are refused by the field.
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/projects/{project}/uploads")))
        .bearer_auth(&token)
        .header("Upload-Length", "10")
        .header(
            "Upload-Metadata",
            format!("filename {},asset_type {}", b64("x.mp4"), b64("Film")),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(resp, 422).await;
    assert_eq!(problem["errors"][0]["field"], "asset_type");
    // A value that is not base64 (the fuzzer sent `teN\4#0N xU]^`): 422 naming the header,
    // and no upload begins.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM asset_uploads")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/projects/{project}/uploads")))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "4")
        .header("Upload-Metadata", "teN\\4#0N xU]^")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(resp, 422).await;
    assert_eq!(
        problem["errors"][0]["field"], "Upload-Metadata",
        "{problem}"
    );
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM asset_uploads")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn exports_reach_the_couple_through_links_that_expire_and_are_revoked_at_once() {
    let dir = data_dir();
    let t0 = Utc::now();
    let d = dir.clone();
    let app =
        TestApp::with_settings_at(Template::Demo, Clock::Fixed(t0), move |s| s.data_dir = d).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("delivery").await;
    let a = couple(&app, "Anna", "anna@example.org").await;
    let b = couple(&app, "Bea", "bea@example.org").await;
    let (pa, pb) = (
        project_of(&app, a.client_id).await,
        project_of(&app, b.client_id).await,
    );
    let film = film_bytes(200_000, 1);
    let raw = b"RAW FOOTAGE NEVER FOR THE COUPLE ".repeat(1500);
    let export = upload(&app, &token, pa, "Anna highlight.mp4", "Export", &film).await;
    let footage = upload(&app, &token, pa, "A001_C002.mov", "Raw Footage", &raw).await;
    let project_file = upload(&app, &token, pa, "edit.prproj", "Project File", b"project").await;
    let b_export = upload(
        &app,
        &token,
        pb,
        "Bea film.mp4",
        "Export",
        &film_bytes(1000, 3),
    )
    .await;
    let b_raw = upload(
        &app,
        &token,
        pb,
        "B-raw.mov",
        "Raw Footage",
        &film_bytes(1000, 4),
    )
    .await;

    // Only exports can be shared.
    for not_export in [footage, project_file, b_raw] {
        let resp = owner
            .post_json(
                &format!("/api/v1/assets/{not_export}/links"),
                &serde_json::json!({}),
            )
            .await;
        assert_problem(resp, 409).await;
    }
    let resp = owner
        .post_json(
            &format!("/api/v1/assets/{export}/links"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let made: serde_json::Value = resp.json().await.unwrap();
    let link = made["id"].as_i64().unwrap() as i32;
    let url = made["url"].as_str().unwrap().to_string();
    assert_eq!(
        app.last_link_to("anna@example.org").await,
        url,
        "the couple is emailed the link"
    );
    let path = url.trim_start_matches(&app.url(""));
    // The hash is stored, never the token.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM delivery_links WHERE id = $1")
        .bind(link)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!path.contains(&stored));

    let portal = portal_login(&app, &a, "anna's portal password").await;
    let home = portal_get(&portal, &app, "/portal", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Anna highlight.mp4") && !home.contains("A001_C002"),
        "{home}"
    );
    let page = portal_get(&portal, &app, &format!("/portal/deliveries/{link}"), None).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<video"));
    // The whole film, then ranges: the bytes asked for, 206, and 416 past the end.
    let file = format!("/portal/deliveries/{link}/file");
    let resp = portal_get(&portal, &app, &format!("{file}?download=1"), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    assert_eq!(resp.headers()["content-length"], "200000");
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(&film))));
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), film.as_slice());
    let resp = portal_get(&portal, &app, &file, Some("bytes=1000-1999")).await;
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 1000-1999/200000");
    assert_eq!(resp.headers()["content-length"], "1000");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[1000..2000]);
    let resp = portal_get(&portal, &app, &file, Some("bytes=199990-")).await;
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[199_990..]);
    let resp = portal_get(&portal, &app, &file, Some("bytes=-10")).await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[199_990..]);
    let resp = portal_get(&portal, &app, &file, Some("bytes=200000-")).await;
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */200000");
    // The emailed link works without logging in, with ranges too.
    let resp = app
        .client
        .get(&url)
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[..10]);

    // Raw footage is never reachable from the portal: a link row made to it by hand is ignored,
    // and every asset and link id, of this project and of another couple's, through every
    // portal URL, answers 404 or this couple's own export.
    let own_films: Vec<i32> = sqlx::query_scalar(
        "SELECT l.id FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id
         WHERE a.project_id = $1 AND a.asset_type = 'Export'",
    )
    .bind(pa)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(own_films.contains(&link));
    sqlx::query("INSERT INTO delivery_links (asset_id, token_hash, expires_at, created_at) VALUES ($1, repeat('a', 64), $2, $3)")
        .bind(footage).bind(t0 + Duration::days(30)).bind(t0).execute(&app.db).await.unwrap();
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM project_assets WHERE project_id IN ($1, $2)
         UNION SELECT l.id FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id
               WHERE a.project_id IN ($1, $2)",
    )
    .bind(pa)
    .bind(pb)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(ids.contains(&footage) && ids.contains(&b_raw) && ids.contains(&b_export));
    for id in ids {
        for route in [
            "/portal/deliveries/{}",
            "/portal/deliveries/{}/file",
            "/portal/deliveries/{}/file?download=1",
            "/portal/documents/{}",
            "/portal/documents/{}/file",
        ] {
            let path = route.replace("{}", &id.to_string());
            let resp = portal_get(&portal, &app, &path, None).await;
            let status = resp.status().as_u16();
            let body = resp.bytes().await.unwrap();
            if id == link && route.starts_with("/portal/deliveries") {
                assert_eq!(status, 200, "{path}");
            } else if !own_films.contains(&id) && route.starts_with("/portal/deliveries") {
                assert_eq!(status, 404, "{path}");
            }
            // (Documents share the ids: a document of Anna's is hers to open.)
            assert!(
                body.windows(32).all(|w| w != &raw[..32]),
                "{path} served raw footage"
            );
        }
    }
    let resp = app
        .client
        .get(app.url(&format!("/d/{}", "a".repeat(64))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // The reminder: the nightly run a week before expiry emails the couple, once.
    let settings = projectflo::config::Settings::defaults();
    let before = Clock::Fixed(t0 + Duration::days(24));
    let mails = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM communications_log WHERE notes LIKE 'To: anna@example.org%download link for Anna highlight.mp4%'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let early = Clock::Fixed(t0 + Duration::days(20));
    projectflo::jobs::nightly(&app.db, &settings, &early)
        .await
        .unwrap();
    assert_eq!(mails().await, 0);
    projectflo::jobs::nightly(&app.db, &settings, &before)
        .await
        .unwrap();
    projectflo::jobs::nightly(&app.db, &settings, &before)
        .await
        .unwrap();
    assert_eq!(mails().await, 1);

    // Expiry: the same link, seen by a server 29 then 31 days later.
    let d29 = dir.clone();
    let later = app
        .also_at(Clock::Fixed(t0 + Duration::days(29)), move |s| {
            s.data_dir = d29
        })
        .await;
    let resp = later.client.get(later.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let d31 = dir.clone();
    let expired = app
        .also_at(Clock::Fixed(t0 + Duration::days(31)), move |s| {
            s.data_dir = d31
        })
        .await;
    let resp = expired.client.get(expired.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    // Revoked: it stops on the next request, in the portal too.
    let resp = owner
        .post_json(
            &format!("/api/v1/delivery-links/{link}/revoke"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(portal_get(&portal, &app, &file, None).await.status(), 404);
    let home = portal_get(&portal, &app, "/portal", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!home.contains("Anna highlight.mp4"), "{home}");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn share_and_deliver(app: &TestApp, owner: &Session, token: &str, project: i32) {
    let export = upload(app, token, project, "film.mp4", "Export", b"a small film").await;
    let resp = owner
        .post_json(
            &format!("/api/v1/assets/{export}/links"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let resp = owner
        .post_form(&format!("/projects/{project}/delivered"), &[])
        .await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn the_survey_goes_once_after_final_delivery_and_is_answered_in_the_portal() {
    let dir = data_dir();
    let t0 = Utc::now();
    let d = dir.clone();
    let app =
        TestApp::with_settings_at(Template::Demo, Clock::Fixed(t0), move |s| s.data_dir = d).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("survey").await;
    let a = couple(&app, "Sara", "sara@example.org").await;
    let project = project_of(&app, a.client_id).await;
    // Not delivered before anything is shared (Olivia's demo wedding has no film yet).
    let olivia: i32 = sqlx::query_scalar("SELECT p.id FROM projects p JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id WHERE c.email = 'olivia.nguyen@example.com'")
        .fetch_one(&app.db).await.unwrap();
    let resp = owner
        .post_form(&format!("/projects/{olivia}/delivered"), &[])
        .await;
    assert_eq!(resp.status(), 409);
    share_and_deliver(&app, &owner, &token, project).await;
    let settings = projectflo::config::Settings::defaults();
    let sent = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM client_feedback_surveys WHERE project_id = $1",
        )
        .bind(project)
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    projectflo::jobs::nightly(&app.db, &settings, &Clock::Fixed(t0 + Duration::days(13)))
        .await
        .unwrap();
    assert_eq!(sent().await, 0, "not before the 14 days of the setting");
    let day14 = Clock::Fixed(t0 + Duration::days(14) + Duration::hours(1));
    let n = projectflo::jobs::nightly(&app.db, &settings, &day14)
        .await
        .unwrap();
    assert_eq!(n.surveys, 1);
    let n = projectflo::jobs::nightly(&app.db, &settings, &day14)
        .await
        .unwrap();
    assert_eq!(n.surveys, 0);
    assert_eq!(sent().await, 1);
    // (The nightly run here has the default settings, whose public address is another port.)
    let link = app.last_link_to("sara@example.org").await;
    let path = link[link.find("/portal/").unwrap()..].to_string();
    assert!(path.starts_with("/portal/surveys/"), "{link}");
    let portal = portal_login(&app, &a, "sara's portal password").await;
    let answer = |s: &'static str, n: &'static str| {
        let portal = portal.clone();
        let url = app.url(&path);
        async move {
            let csrf_page = portal.get(&url).send().await.unwrap().text().await.unwrap();
            let csrf = csrf_page
                .split("name=\"csrf\" value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string();
            portal
                .post(&url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("satisfaction_rating", s),
                    ("nps_score", n),
                    ("feedback_text", "Wonderful"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let resp = answer("11", "10").await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("id=\"e-satisfaction\">choose a number from 1 to 10"),
        "{html}"
    );
    assert!(!html.contains("id=\"e-nps\""));
    let resp = answer("9", "10").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(answer("5", "5").await.status(), 409);
    let row: (i32, i32) = sqlx::query_as(
        "SELECT satisfaction_rating, nps_score FROM client_feedback_surveys WHERE project_id = $1",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(row, (9, 10));
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("9 / 10") && page.contains("Wonderful"),
        "{page}"
    );
    let list = owner.get("/surveys").await.text().await.unwrap();
    assert!(
        list.contains("Sara&#39;s wedding") && list.contains("id=\"nps\""),
        "{list}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn expenses_are_checked_by_the_field_and_documents_are_archived_not_deleted() {
    let dir = data_dir();
    let d = dir.clone();
    let app = TestApp::with_settings(Template::Demo, move |s| s.data_dir = d).await;
    let owner = app.demo_login("Owner").await;
    let a = couple(&app, "Ines", "ines@example.org").await;
    let project = project_of(&app, a.client_id).await;
    let path = format!("/api/v1/projects/{project}/expenses");
    let resp = owner
        .post_json(&path, &serde_json::json!({"expense_date": "2027-02-30", "description": "", "category": "Travel", "amount": "-5"}))
        .await;
    let problem = assert_problem(resp, 422).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["expense_date", "description", "amount"]);
    let resp = owner
        .post_json(&path, &serde_json::json!({"expense_date": "2027-02-03", "description": "Flights to Lisbon", "category": "Travel", "amount": "420.50"}))
        .await;
    assert_eq!(resp.status(), 201);
    let made: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(made["amount"], "420.50");
    // The page's form, with a receipt.
    let form = reqwest::multipart::Form::new()
        .text("expense_date", "2027-02-04")
        .text("description", "Second shooter")
        .text("category", "Second shooter")
        .text("amount", "350")
        .part(
            "receipt",
            reqwest::multipart::Part::bytes(b"receipt".to_vec()).file_name("receipt.pdf"),
        );
    let resp = owner
        .client
        .post(owner.url(&format!("/projects/{project}/expenses?csrf={}", owner.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let form = reqwest::multipart::Form::new()
        .text("expense_date", "2027-02-04")
        .text("description", "Music")
        .text("category", "Music licence")
        .text("amount", "abc");
    let resp = owner
        .client
        .post(owner.url(&format!("/projects/{project}/expenses?csrf={}", owner.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("a number such as 250.00")
    );
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Flights to Lisbon") && page.contains("$770.50"),
        "{page}"
    );
    let receipt: String = sqlx::query_scalar("SELECT receipt_url FROM project_expenses WHERE description = 'Second shooter' AND project_id = $1")
        .bind(project).fetch_one(&app.db).await.unwrap();
    assert_eq!(
        owner.get(&receipt).await.bytes().await.unwrap().as_ref(),
        b"receipt"
    );

    // A project document: listed, archived (gone from the default list and the portal, still
    // there with "show archived" and to download), restored.
    let form = reqwest::multipart::Form::new()
        .text("document_type", "Timeline")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"14:00 ceremony".to_vec()).file_name("timeline.txt"),
        );
    let resp = owner
        .client
        .post(owner.url(&format!(
            "/projects/{project}/documents?csrf={}",
            owner.csrf
        )))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let doc: i32 = sqlx::query_scalar(
        "SELECT id FROM documents WHERE project_id = $1 AND file_name = 'timeline.txt'",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let portal = portal_login(&app, &a, "ines's portal password").await;
    assert_eq!(
        portal_get(&portal, &app, &format!("/portal/documents/{doc}"), None)
            .await
            .status(),
        200
    );
    let resp = owner
        .post_form(&format!("/documents/{doc}/archive"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("timeline.txt"));
    let page = owner
        .get(&format!("/projects/{project}?archived=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("timeline.txt") && page.contains("archived"));
    assert_eq!(
        portal_get(&portal, &app, &format!("/portal/documents/{doc}"), None)
            .await
            .status(),
        404
    );
    let resp = owner
        .get(&format!("/projects/{project}/documents/{doc}"))
        .await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"14:00 ceremony");
    owner
        .post_form(&format!("/documents/{doc}/restore"), &[])
        .await;
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("timeline.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// An upload over 1 GB through the tus endpoints in 8 MB chunks: the server (in this process)
/// keeps its memory flat. Run by hand: `cargo test --test app -- --ignored delivery::a_1_1_gb`
/// (prints the peak RSS before and after).
#[tokio::test]
#[ignore]
async fn a_1_1_gb_upload_keeps_the_memory_flat() {
    let dir = data_dir();
    let d = dir.clone();
    let app = TestApp::with_settings(Template::Demo, move |s| s.data_dir = d).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("big").await;
    let a = couple(&app, "Gia", "gia@example.org").await;
    let project = project_of(&app, a.client_id).await;
    let total: usize = 1_100 * 1_000_000;
    let chunk: usize = 8 * 1_000_000;
    let url = create(&app, &token, project, "feature.mp4", "Export", total).await;
    let block = film_bytes(chunk, 9);
    let before = peak_rss_kb();
    let mut at = 0;
    let mut hasher = Sha256::new();
    while at < total {
        let n = chunk.min(total - at);
        hasher.update(&block[..n]);
        let resp = patch(&app, &token, &url, at, block[..n].to_vec()).await;
        assert_eq!(resp.status(), 204);
        at += n;
    }
    let after = peak_rss_kb();
    let sha: String = sqlx::query_scalar(
        "SELECT sha256 FROM project_assets WHERE project_id = $1 AND file_name = 'feature.mp4'",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(sha, hex::encode(hasher.finalize()));
    println!("1.1 GB upload: peak RSS {before} kB before, {after} kB after");
    assert!(
        after < before + 200_000,
        "memory grew from {before} kB to {after} kB"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The couple, in Chromium: logs into the portal, opens their film, downloads it (the bytes the
/// Download button gives are the film's), then answers the survey, first with a satisfaction of
/// 11 (told by the field), then 9.
#[tokio::test]
async fn the_couple_downloads_the_film_and_answers_the_survey_in_a_browser() {
    use crate::browser::{click, type_in, wait_for_path, wait_text};
    use fantoccini::Locator;
    let Some(b) = crate::browser::browser().await else {
        return;
    };
    let dir = data_dir();
    let t0 = Utc::now();
    let d = dir.clone();
    let app =
        TestApp::with_settings_at(Template::Demo, Clock::Fixed(t0), move |s| s.data_dir = d).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("browser").await;
    let a = couple(&app, "Lena", "lena@example.org").await;
    let project = project_of(&app, a.client_id).await;
    let film = b"LENA AND JONAS, THE FILM ".repeat(400);
    let export = upload(&app, &token, project, "Lena film.mp4", "Export", &film).await;
    let resp = owner
        .post_json(
            &format!("/api/v1/assets/{export}/links"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        owner
            .post_form(&format!("/projects/{project}/delivered"), &[])
            .await
            .status(),
        303
    );
    let settings = projectflo::config::Settings::defaults();
    let later = Clock::Fixed(t0 + Duration::days(15));
    projectflo::jobs::nightly(&app.db, &settings, &later)
        .await
        .unwrap();
    let password = "lena's portal password";
    portal_login(&app, &a, password).await;

    b.goto(&app.url("/portal/login")).await.unwrap();
    type_in(&b, Locator::Id("email"), "lena@example.org").await;
    type_in(&b, Locator::Id("password"), &format!("{password}\u{E007}")).await;
    wait_for_path(&b, "/portal").await;
    click(&b, Locator::LinkText("Lena film.mp4")).await;
    assert_eq!(wait_text(&b, Locator::Css("h1")).await, "Lena film.mp4");
    // The Download button's answer, fetched by the page itself (with the couple's session).
    let got = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.getElementById('download').href)
               .then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(got[0], 200);
    assert!(
        got[1].as_str().unwrap().starts_with("attachment"),
        "{got:?}"
    );
    assert_eq!(got[2].as_str().unwrap().as_bytes(), film.as_slice());
    // The survey, from the portal's home.
    b.goto(&app.url("/portal")).await.unwrap();
    click(&b, Locator::Css("a[href^='/portal/surveys/']")).await;
    type_in(&b, Locator::Id("s-satisfaction"), "11").await;
    type_in(&b, Locator::Id("s-nps"), "10").await;
    type_in(&b, Locator::Id("s-text"), "Beautiful work").await;
    click(&b, Locator::Css("#survey-form button[type=submit]")).await;
    let error = wait_text(&b, Locator::Id("e-satisfaction")).await;
    assert_eq!(error, "choose a number from 1 to 10");
    let field = b.find(Locator::Id("s-satisfaction")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("9").await.unwrap();
    click(&b, Locator::Css("#survey-form button[type=submit]")).await;
    assert_eq!(
        wait_text(&b, Locator::Id("survey-thanks")).await,
        "Thank you for your answers!"
    );
    let dir_shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir_shots).unwrap();
    std::fs::write(
        dir_shots.join("portal-survey.png"),
        b.screenshot().await.unwrap(),
    )
    .unwrap();
    b.close().await.unwrap();
    let answer: (i32, i32) = sqlx::query_as(
        "SELECT satisfaction_rating, nps_score FROM client_feedback_surveys WHERE project_id = $1",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(answer, (9, 10));
    let _ = std::fs::remove_dir_all(&dir);
}

//! Staff login, sessions, CSRF, throttling, API tokens, password reset, deactivation.
use crate::helpers::{Template, TestApp, assert_problem};
use projectflo::seed::{DEMO_PASSWORD, DEMO_STAFF};
use std::time::Instant;

const MAYA: &str = "maya@goldenhour.example";

fn set_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn try_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_form("/login", &[("email", email), ("password", password)])
        .await
}

#[tokio::test]
async fn pages_need_a_login_and_the_login_comes_back_to_them() {
    let app = TestApp::demo().await;
    let resp = app.get("/settings/users").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/login?next=%2Fsettings%2Fusers"
    );
    assert_problem(app.get("/api/v1/me").await, 401).await;
    let resp = app
        .post_form(
            "/login",
            &[
                ("email", MAYA),
                ("password", DEMO_PASSWORD),
                ("next", "/settings/users"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/settings/users");
    // Never an open redirect.
    let resp = app
        .post_form(
            "/login",
            &[
                ("email", MAYA),
                ("password", DEMO_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(resp.headers()["location"], "/");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_new_at_each_login() {
    let app = TestApp::demo().await;
    let first = try_login(&app, MAYA, DEMO_PASSWORD).await;
    let c1 = set_cookie(&first);
    assert!(
        c1.starts_with("pf_session=") && c1.contains("HttpOnly") && c1.contains("SameSite=Lax"),
        "{c1}"
    );
    assert!(!c1.contains("Secure"), "plain http: {c1}");
    let second = try_login(&app, MAYA, DEMO_PASSWORD).await;
    assert_ne!(
        set_cookie(&second).split(';').next(),
        c1.split(';').next(),
        "a new session id at login"
    );
    // The session lives in PostgreSQL, stored hashed.
    let id = c1
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("pf_session=")
        .to_string();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM auth_sessions WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "the raw session id is not stored");
}

#[tokio::test]
async fn cookies_are_secure_when_served_over_https() {
    let app = TestApp::with_settings(Template::Demo, |s| {
        s.public_url = Some("https://studio.example".into())
    })
    .await;
    let c = set_cookie(&try_login(&app, MAYA, DEMO_PASSWORD).await);
    assert!(c.contains("; Secure"), "{c}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let app = TestApp::demo().await;
    let mut times = vec![];
    for (email, pw) in [
        (MAYA, "wrong password"),
        ("nobody@example.com", "wrong password"),
    ] {
        let t = Instant::now();
        let resp = try_login(&app, email, pw).await;
        times.push(t.elapsed());
        assert_eq!(resp.status(), 401);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("That email and password do not match an account."),
            "{html}"
        );
    }
    // Both ran an argon2 verification: neither answers much faster than the other.
    let (a, b) = (times[0].as_secs_f64(), times[1].as_secs_f64());
    assert!(a / b < 4.0 && b / a < 4.0, "{times:?}");
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let app = TestApp::demo().await;
    for _ in 0..5 {
        assert_eq!(try_login(&app, MAYA, "wrong").await.status(), 401);
    }
    // Even the right password waits now.
    let resp = try_login(&app, MAYA, DEMO_PASSWORD).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Try again in 15 minutes")
    );
    // Another account from another IP is not affected: the limit is per account and per IP;
    // here all tries come from 127.0.0.1, so the IP limit also holds.
    let other = try_login(&app, "priya@goldenhour.example", DEMO_PASSWORD).await;
    assert_eq!(other.status(), 429, "the IP has 5 failures too");
    // Once the failures are older than 15 minutes, logins work again.
    sqlx::query("UPDATE login_attempts SET attempted_at = attempted_at - interval '16 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(try_login(&app, MAYA, DEMO_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn concurrent_failures_are_counted_one_after_another() {
    let app = TestApp::demo().await;
    let tries: Vec<_> = (0..10)
        .map(|_| {
            let (c, url) = (app.client.clone(), app.url("/login"));
            tokio::spawn(async move {
                c.post(url)
                    .form(&[("email", MAYA), ("password", "wrong")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = vec![];
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let resp = s
        .client
        .post(s.url("/account/tokens"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = s
        .client
        .post(s.url("/account/tokens"))
        .form(&[("name", "x"), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = s
        .client
        .post(s.url("/api/v1/catalog/coverage-scenes"))
        .header("x-csrf-token", "forged")
        .json(&serde_json::json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 403).await;
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tokens, 0, "nothing was written");
    assert_eq!(
        s.post_form("/account/tokens", &[("name", "x")])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn api_tokens_act_as_their_owner_until_revoked_or_expired() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let token = s.api_token("Zapier").await;
    assert!(token.starts_with("pf_"));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "stored hashed, never as is");
    let me = |t: String| {
        let c = app.client.clone();
        let url = app.url("/api/v1/me");
        async move { c.get(url).bearer_auth(t).send().await.unwrap() }
    };
    let body: serde_json::Value = me(token.clone()).await.json().await.unwrap();
    assert_eq!(body["email"], "priya@goldenhour.example");
    assert_eq!(body["role"], "Sales");
    // The token has its owner's permissions: Sales may not edit the catalog.
    let resp = app
        .client
        .post(app.url("/api/v1/catalog/coverage-scenes"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Vows"}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 403).await;
    // Shown once: the account page lists it by name only.
    let html = s.get("/account").await.text().await.unwrap();
    assert!(html.contains("Zapier") && !html.contains(&token));
    // Expired.
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_problem(me(token.clone()).await, 401).await;
    sqlx::query("UPDATE api_tokens SET expires_at = NULL")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(me(token.clone()).await.status(), 200);
    // Revoked.
    let id: i32 = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        s.post_form(&format!("/account/tokens/{id}/revoke"), &[])
            .await
            .status(),
        303
    );
    assert_problem(me(token).await, 401).await;
    assert_problem(me("pf_not-a-token".into()).await, 401).await;
}

#[tokio::test]
async fn a_token_can_expire_after_some_days_and_bad_values_are_named() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Editor").await;
    let resp = s
        .post_form(
            "/account/tokens",
            &[("name", "cli"), ("expires_in_days", "soon")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Enter a number of days")
    );
    let resp = s
        .post_form(
            "/account/tokens",
            &[("name", ""), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    s.post_form(
        "/account/tokens",
        &[("name", "cli"), ("expires_in_days", "30")],
    )
    .await;
    let days: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 / 86400 FROM api_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((days - 30.0).abs() < 0.01, "{days}");
}

#[tokio::test]
async fn sessions_end_after_idle_time_and_absolute_time() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    assert_eq!(s.get("/").await.status(), 200);
    sqlx::query("UPDATE auth_sessions SET last_seen_at = now() - interval '31 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(s.get("/").await.status(), 303, "idle for 31 minutes");
    let s = app.demo_login("Owner").await;
    sqlx::query("UPDATE auth_sessions SET created_at = now() - interval '12 hours 1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(s.get("/").await.status(), 303, "older than 12 hours");
    // Both lifetimes are settings.
    let app = TestApp::with_settings(Template::Demo, |s| s.session_idle_minutes = 120).await;
    let s = app.demo_login("Owner").await;
    sqlx::query("UPDATE auth_sessions SET last_seen_at = now() - interval '31 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(s.get("/").await.status(), 200);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let resp = s.post_form("/logout", &[]).await;
    assert_eq!(resp.status(), 303);
    assert!(set_cookie(&resp).contains("Max-Age=0"));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM auth_sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(s.get("/").await.status(), 303);
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_and_tokens_at_once() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let editor = app.demo_login("Editor").await;
    let token = editor.api_token("script").await;
    let leo: i32 = sqlx::query_scalar("SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id WHERE c.email = 'leo@goldenhour.example'").fetch_one(&app.db).await.unwrap();
    assert_eq!(
        owner
            .post_form(&format!("/settings/users/{leo}/deactivate"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(editor.get("/").await.status(), 303);
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401).await;
    assert_eq!(
        try_login(&app, "leo@goldenhour.example", DEMO_PASSWORD)
            .await
            .status(),
        401
    );
    // Reactivated: they can log in again (their old token stays revoked).
    owner
        .post_form(&format!("/settings/users/{leo}/activate"), &[])
        .await;
    assert_eq!(
        try_login(&app, "leo@goldenhour.example", DEMO_PASSWORD)
            .await
            .status(),
        303
    );
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn the_studio_cannot_lock_itself_out() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let maya: i32 = sqlx::query_scalar("SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id WHERE c.email = $1").bind(MAYA).fetch_one(&app.db).await.unwrap();
    let resp = owner
        .post_form(&format!("/settings/users/{maya}/deactivate"), &[])
        .await;
    assert_eq!(resp.status(), 409);
    let sales: i32 = sqlx::query_scalar("SELECT id FROM roles WHERE name = 'Sales'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let resp = owner
        .post_form(
            &format!("/settings/users/{maya}/role"),
            &[("role_id", &sales.to_string())],
        )
        .await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("only Owner"));
    let owner_role: i32 = sqlx::query_scalar("SELECT id FROM roles WHERE name = 'Owner'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let resp = owner
        .post_form(
            &format!("/settings/roles/{owner_role}"),
            &[("perm", "leads.view")],
        )
        .await;
    assert_eq!(resp.status(), 409);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM role_permissions WHERE role_id = $1")
        .bind(owner_role)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 14, "the Owner keeps every permission");
}

#[tokio::test]
async fn password_reset_by_a_single_use_link_that_expires_in_an_hour() {
    let app = TestApp::demo().await;
    let old = app.demo_login("Owner").await;
    // Unknown and known emails get the same answer.
    let unknown = app
        .post_form("/password-reset", &[("email", "nobody@example.com")])
        .await
        .text()
        .await
        .unwrap();
    let known = app
        .post_form("/password-reset", &[("email", MAYA)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        unknown.replace("nobody@example.com", "X"),
        known.replace(MAYA, "X")
    );
    // No SMTP configured: the email is in the communications log.
    let link = app.last_link_to(MAYA).await;
    let path = link.trim_start_matches(&app.url(""));
    assert!(path.starts_with("/set-password/"), "{link}");
    let expires: f64 = sqlx::query_scalar("SELECT extract(epoch FROM expires_at - created_at)::float8 FROM one_time_tokens WHERE purpose = 'password_reset'").fetch_one(&app.db).await.unwrap();
    assert_eq!(expires, 3600.0);
    // Bad input is named and uses nothing up.
    let resp = app
        .post_form(path, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    let resp = app
        .post_form(
            path,
            &[
                ("password", "a brand new password"),
                ("confirm", "another one entirely"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .post_form(
            path,
            &[
                ("password", "a brand new password"),
                ("confirm", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    // Used once only; the old session ended; the new password works, the old does not.
    let again = app
        .post_form(
            path,
            &[
                ("password", "yet another password"),
                ("confirm", "yet another password"),
            ],
        )
        .await;
    assert_eq!(again.status(), 410);
    assert_eq!(old.get("/").await.status(), 303);
    assert_eq!(try_login(&app, MAYA, DEMO_PASSWORD).await.status(), 401);
    assert_eq!(
        try_login(&app, MAYA, "a brand new password").await.status(),
        303
    );
    // An expired link no longer works.
    app.post_form("/password-reset", &[("email", MAYA)]).await;
    let link = app.last_link_to(MAYA).await;
    sqlx::query(
        "UPDATE one_time_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("expired or was already used"));
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let resp = s
        .post_form(
            "/account/password",
            &[
                ("current", "wrong"),
                ("password", "a new password!"),
                ("confirm", "a new password!"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("not your current password")
    );
    let resp = s
        .post_form(
            "/account/password",
            &[
                ("current", DEMO_PASSWORD),
                ("password", "a new password!"),
                ("confirm", "a new password!"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(s.get("/account").await.status(), 200, "this session stays");
    assert_eq!(
        try_login(&app, "grace@goldenhour.example", "a new password!")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn an_invited_colleague_sets_a_password_and_logs_in() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let editor_role: i32 = sqlx::query_scalar("SELECT id FROM roles WHERE name = 'Editor'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let role = editor_role.to_string();
    // Bad input is named by the field; nothing is written.
    let resp = owner
        .post_form(
            "/settings/users",
            &[
                ("first_name", "Ana"),
                ("email", "not an email"),
                ("role_id", &role),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"email-error\""));
    let resp = owner
        .post_form(
            "/settings/users",
            &[
                ("first_name", "Ana"),
                ("email", "priya@goldenhour.example"),
                ("role_id", &role),
            ],
        )
        .await;
    assert_eq!(resp.status(), 409);
    let resp = owner
        .post_form(
            "/settings/users",
            &[
                ("first_name", "Ana"),
                ("email", "emma.rodriguez@example.com"),
                ("role_id", &role),
            ],
        )
        .await;
    assert_eq!(resp.status(), 409, "a client's email is not a staff login");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM contributors")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 8, "the demo's team");
    let resp = owner
        .post_form(
            "/settings/users",
            &[
                ("first_name", "Ana"),
                ("last_name", "Silva"),
                ("email", "ana@goldenhour.example"),
                ("role_id", &role),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("id=\"invite-link\""),
        "without SMTP the link is shown to the inviter"
    );
    let link = app.last_link_to("ana@goldenhour.example").await;
    assert_eq!(
        try_login(&app, "ana@goldenhour.example", "").await.status(),
        401,
        "no password yet"
    );
    let path = link.trim_start_matches(&app.url(""));
    let resp = app
        .post_form(
            path,
            &[
                ("password", "ana's own password"),
                ("confirm", "ana's own password"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let ana = app
        .login("ana@goldenhour.example", "ana's own password")
        .await;
    let me: serde_json::Value = ana.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "Editor");
}

#[tokio::test]
async fn admin_create_user_makes_the_first_login() {
    let app = TestApp::spawn().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"))
        .args([
            "admin",
            "create-user",
            "--email",
            "Owner@New-Studio.example",
            "--role",
            "owner",
            "--first-name",
            "Ada",
            "--password-stdin",
        ])
        .env("DATABASE_URL", app.database_url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"first owner password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = app
        .login("owner@new-studio.example", "first owner password")
        .await;
    let me: serde_json::Value = s.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "Owner");
    assert_eq!(me["permissions"].as_array().unwrap().len(), 14);
    // A role that does not exist is named.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"))
        .args([
            "admin",
            "create-user",
            "--email",
            "x@new-studio.example",
            "--role",
            "Boss",
        ])
        .env("DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no role \"Boss\""));
}

#[tokio::test]
async fn every_demo_role_can_log_in() {
    let app = TestApp::demo().await;
    for (email, role) in DEMO_STAFF {
        let s = app.login(email, DEMO_PASSWORD).await;
        let me: serde_json::Value = s.get("/api/v1/me").await.json().await.unwrap();
        assert_eq!(me["role"], *role);
    }
}

#[tokio::test]
async fn with_smtp_configured_the_reset_email_is_sent_and_the_log_keeps_no_secret() {
    let mut smtp = crate::smtp_fake::FakeSmtp::start().await;
    let app = TestApp::with_settings(Template::Demo, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = "Golden Hour Films <hello@goldenhour.example>".into();
    })
    .await;
    let resp = app.post_form("/password-reset", &[("email", MAYA)]).await;
    assert_eq!(resp.status(), 200);
    let raw = smtp.recv().await;
    // Long lines travel quoted-printable, as mail clients expect; decode soft breaks and '='.
    let message = raw.replace("=\n", "").replace("=3D", "=");
    assert!(message.contains("To: maya@goldenhour.example"), "{message}");
    assert!(
        message.contains("Subject: Reset your ProjectFlo password"),
        "{message}"
    );
    let link_start = message.find("/set-password/").expect("the link");
    let token: String = message[link_start + 14..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64);
    let log: String =
        sqlx::query_scalar("SELECT notes FROM communications_log ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        log.contains("Password reset link sent") && !log.contains(&token),
        "{log}"
    );
    // The emailed link works.
    let resp = app
        .post_form(
            &format!("/set-password/{token}"),
            &[
                ("password", "from the email!"),
                ("confirm", "from the email!"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(try_login(&app, MAYA, "from the email!").await.status(), 303);
}

#[tokio::test]
async fn a_form_over_one_mib_is_read_and_one_over_the_limit_is_called_too_large() {
    let app = TestApp::demo().await;
    let session = app.demo_login("Owner").await;
    let big = "x".repeat(11 * 1024 * 1024);
    let resp = session
        .post_form("/logout", &[("note", &big[..2 * 1024 * 1024])])
        .await;
    assert_eq!(
        resp.status(),
        303,
        "a 2 MiB form under the 10 MiB limit is read"
    );
    let session = app.demo_login("Owner").await;
    let resp = session.post_form("/logout", &[("note", &big)]).await;
    assert_eq!(resp.status(), 413);
    let page = resp.text().await.unwrap();
    assert!(page.contains("This form is too large"), "{page}");
}

/// Failed logins for `account` recorded as coming from `ips` addresses, `each` per address.
async fn failures_from_elsewhere(app: &TestApp, account: &str, ips: usize, each: usize) {
    sqlx::query(
        "INSERT INTO login_attempts (realm, account, ip)
         SELECT 'staff', $1, '203.0.113.' || (i % $2) FROM generate_series(1, $2 * $3) i",
    )
    .bind(account)
    .bind(ips as i32)
    .bind(each as i32)
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn failures_from_other_addresses_do_not_lock_the_owner_out() {
    let app = TestApp::demo().await;
    // Maya logged in from here before.
    assert_eq!(try_login(&app, MAYA, DEMO_PASSWORD).await.status(), 303);
    // An attacker fails five times from one address, then sixty times from twelve.
    failures_from_elsewhere(&app, MAYA, 1, 5).await;
    assert_eq!(try_login(&app, MAYA, DEMO_PASSWORD).await.status(), 303);
    failures_from_elsewhere(&app, MAYA, 12, 5).await;
    assert_eq!(
        try_login(&app, MAYA, DEMO_PASSWORD).await.status(),
        303,
        "an address Maya used before still gets in"
    );
    // An address that never logged into Priya's account is refused once Priya's account has
    // 50 failures from anywhere, even with the right password.
    let priya = "priya@goldenhour.example";
    failures_from_elsewhere(&app, priya, 10, 5).await;
    assert_eq!(try_login(&app, priya, DEMO_PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn no_login_link_or_to_do_link_leads_off_the_site_or_fails() {
    let app = TestApp::demo().await;
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/x\r\nSet-Cookie: a=b",
        "https://evil.example",
    ] {
        let resp = app
            .post_form(
                "/login",
                &[("email", MAYA), ("password", DEMO_PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(resp.status(), 303, "{next:?}");
        assert_eq!(resp.headers()["location"], "/", "{next:?}");
    }
    // The same check on a to-do's `back=`: the to-do is done and the answer stays on the site.
    let s = app.demo_login("Sales").await;
    let todos: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM activities WHERE status = 'Pending' ORDER BY id LIMIT 2",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    for (todo, back) in todos.iter().zip(["/\t/evil.example", "/todos\r\nX: y"]) {
        let resp = s
            .post_form(&format!("/todos/{todo}/complete"), &[("back", back)])
            .await;
        assert_eq!(resp.status(), 303, "{back:?}");
        let to = resp.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/todos"), "{back:?} -> {to}");
    }
}

#[tokio::test]
async fn a_role_that_does_not_exist_is_refused_and_changes_nothing() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let leo: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'leo@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    for role in ["999", "0", "-1"] {
        let resp = s
            .post_form(&format!("/settings/users/{leo}/role"), &[("role_id", role)])
            .await;
        assert_eq!(resp.status(), 422, "role_id={role}");
    }
    let role: String = sqlx::query_scalar(
        "SELECT r.name FROM contributors co JOIN roles r ON r.id = co.role_id WHERE co.id = $1",
    )
    .bind(leo)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(role, "Editor");
}

#[tokio::test]
async fn an_authenticated_get_writes_nothing_when_used_in_the_last_minute() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let token = s.api_token("reads only").await;
    // The row versions (xmin) of Maya's session and token: an UPDATE would change them.
    let versions = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT (SELECT string_agg(s.xmin::text, ',') FROM auth_sessions s
                     JOIN contributors co ON co.id = s.contributor_id
                     JOIN contacts c ON c.id = co.contact_id WHERE c.email = $1),
                    (SELECT xmin::text FROM api_tokens WHERE name = 'reads only')",
        )
        .bind(MAYA)
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let by_token = |path: &'static str| app.client.get(app.url(path)).bearer_auth(&token).send();
    // The token's first use is recorded once.
    assert_eq!(by_token("/api/v1/me").await.unwrap().status(), 200);
    let before = versions().await;
    for _ in 0..3 {
        assert_eq!(s.get("/account").await.status(), 200);
        assert_eq!(by_token("/api/v1/me").await.unwrap().status(), 200);
    }
    assert_eq!(
        versions().await,
        before,
        "nothing written within the minute"
    );
    // Over a minute later, one request records the use again.
    sqlx::query("UPDATE auth_sessions SET last_seen_at = now() - interval '2 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    let aged = versions().await;
    assert_eq!(s.get("/account").await.status(), 200);
    assert_eq!(by_token("/api/v1/me").await.unwrap().status(), 200);
    let after = versions().await;
    assert_ne!(after.0, aged.0, "the session is touched again");
    assert_ne!(after.1, aged.1, "the token is touched again");
    let fresh: bool = sqlx::query_scalar(
        "SELECT bool_and(last_seen_at > now() - interval '10 seconds') FROM auth_sessions",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(fresh);
}

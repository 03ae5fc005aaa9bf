//! The client portal: its own login and session; a couple sees only their own records.
use crate::helpers::TestApp;

pub struct Couple {
    pub client_id: i32,
    pub email: String,
    /// (portal route, id) of every record of theirs.
    pub records: Vec<(String, i32)>,
}

/// A booked couple with a project, a quote, an invoice, a document and a delivered film (its
/// download link's id under "deliveries").
pub async fn couple(app: &TestApp, first: &str, email: &str) -> Couple {
    let mut tx = app.db.begin().await.unwrap();
    let contact: i32 = sqlx::query_scalar("INSERT INTO contacts (first_name, last_name, email, type) VALUES ($1, 'Test', $2, 'Client') RETURNING id")
        .bind(first).bind(email).fetch_one(&mut *tx).await.unwrap();
    let inquiry: i32 = sqlx::query_scalar(
        "INSERT INTO inquiries (contact_id, status) VALUES ($1, 'Booked') RETURNING id",
    )
    .bind(contact)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let client: i32 = sqlx::query_scalar(
        "INSERT INTO clients (contact_id, inquiry_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(contact)
    .bind(inquiry)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let project: i32 = sqlx::query_scalar("INSERT INTO projects (client_id, project_name, wedding_date) VALUES ($1, $2, current_date + 90) RETURNING id")
        .bind(client).bind(format!("{first}'s wedding")).fetch_one(&mut *tx).await.unwrap();
    let build: i32 = sqlx::query_scalar("INSERT INTO builds (client_id, inquiry_id, project_id, status, approved_price, live_price) VALUES ($1, $2, $3, 'Booked', 4200, 4200) RETURNING id")
        .bind(client).bind(inquiry).bind(project).fetch_one(&mut *tx).await.unwrap();
    let invoice: i32 = sqlx::query_scalar("INSERT INTO invoices (project_id, invoice_number, issue_date, total_amount, status) VALUES ($1, $2, current_date, 1260, 'Sent') RETURNING id")
        .bind(project).bind(format!("GHF-{first}")).fetch_one(&mut *tx).await.unwrap();
    let doc: i32 = sqlx::query_scalar("INSERT INTO documents (project_id, file_name, document_type) VALUES ($1, 'contract.pdf', 'Contract') RETURNING id")
        .bind(project).fetch_one(&mut *tx).await.unwrap();
    let film: i32 = sqlx::query_scalar("INSERT INTO project_assets (project_id, file_name, asset_type) VALUES ($1, 'highlight.mp4', 'Export') RETURNING id")
        .bind(project).fetch_one(&mut *tx).await.unwrap();
    // Shared with the couple: the portal shows a film through its live download link.
    let film: i32 = sqlx::query_scalar("INSERT INTO delivery_links (asset_id, token_hash, expires_at, created_at) VALUES ($1, md5($2) || md5($2), now() + interval '30 days', now()) RETURNING id")
        .bind(film).bind(email).fetch_one(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    Couple {
        client_id: client,
        email: email.into(),
        records: vec![
            ("projects".into(), project),
            ("quotes".into(), build),
            ("invoices".into(), invoice),
            ("documents".into(), doc),
            ("deliveries".into(), film),
        ],
    }
}

/// Invite through Settings > Client portal, set the password from the emailed link, log in.
pub async fn portal_login(app: &TestApp, c: &Couple, password: &str) -> reqwest::Client {
    let sales = app.demo_login("Sales").await;
    let resp = sales
        .post_form(&format!("/settings/portal/{}/invite", c.client_id), &[])
        .await;
    assert_eq!(resp.status(), 200);
    let link = app.last_link_to(&c.email).await;
    let path = link.trim_start_matches(&app.url(""));
    assert!(path.starts_with("/portal/set-password/"), "{link}");
    let resp = app
        .post_form(path, &[("password", password), ("confirm", password)])
        .await;
    assert_eq!(resp.status(), 303);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client
        .post(app.url("/portal/login"))
        .form(&[("email", c.email.as_str()), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/portal");
    client
}

#[tokio::test]
async fn a_couple_sees_only_their_own_records() {
    let app = TestApp::demo().await;
    let a = couple(&app, "Anna", "anna@example.org").await;
    let b = couple(&app, "Bea", "bea@example.org").await;
    let portal = portal_login(&app, &a, "anna's portal password").await;
    let home = portal
        .get(app.url("/portal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Anna&#39;s wedding")
            && home.contains("GHF-Anna")
            && home.contains("$4,200.00"),
        "{home}"
    );
    assert!(!home.contains("Bea"), "{home}");
    for (route, id) in &a.records {
        let resp = portal
            .get(app.url(&format!("/portal/{route}/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "own {route} {id}");
    }
    let mut tried = 0;
    for (route, id) in &b.records {
        let resp = portal
            .get(app.url(&format!("/portal/{route}/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "another couple's {route} {id}");
        let html = resp.text().await.unwrap();
        assert!(!html.contains("Bea") && !html.contains("GHF-Bea"), "{html}");
        tried += 1;
    }
    assert_eq!(tried, 5);
}

#[tokio::test]
async fn portal_and_staff_sessions_are_separate() {
    let app = TestApp::demo().await;
    let a = couple(&app, "Anna", "anna@example.org").await;
    let portal = portal_login(&app, &a, "anna's portal password").await;
    // A portal session opens no staff page, and a staff session no portal page.
    let resp = portal.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let staff = app.demo_login("Owner").await;
    let resp = staff.get("/portal").await;
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/portal/login")
    );
    // Staff credentials do not open the portal.
    let resp = app
        .post_form(
            "/portal/login",
            &[
                ("email", "maya@goldenhour.example"),
                ("password", projectflo::seed::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), 401);
    // Logging out of the portal ends only that session.
    let csrf_page = portal
        .get(app.url("/portal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let resp = portal
        .post(app.url("/portal/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        portal
            .get(app.url("/portal"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(staff.get("/").await.status(), 200);
}

#[tokio::test]
async fn an_invitation_before_the_password_is_set_gives_no_access() {
    let app = TestApp::demo().await;
    let a = couple(&app, "Anna", "anna@example.org").await;
    let sales = app.demo_login("Sales").await;
    sales
        .post_form(&format!("/settings/portal/{}/invite", a.client_id), &[])
        .await;
    let resp = app
        .post_form(
            "/portal/login",
            &[("email", "anna@example.org"), ("password", "!")],
        )
        .await;
    assert_eq!(resp.status(), 401);
    let page = sales.get("/settings/portal").await.text().await.unwrap();
    assert!(page.contains("Invited"));
    // An Editor may not invite couples.
    let editor = app.demo_login("Editor").await;
    assert_eq!(
        editor
            .post_form(&format!("/settings/portal/{}/invite", a.client_id), &[])
            .await
            .status(),
        403
    );
}

/// The session id a login form answers with, from its Set-Cookie header.
async fn session_id(app: &TestApp, path: &str, email: &str, password: &str, name: &str) -> String {
    let resp = app
        .post_form(path, &[("email", email), ("password", password)])
        .await;
    assert_eq!(resp.status(), 303, "login at {path}");
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    let value = set.strip_prefix(&format!("{name}=")).expect(&set);
    value.split(';').next().unwrap().to_string()
}

async fn status_with_cookie(app: &TestApp, path: &str, cookie: &str) -> u16 {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_session_sent_in_the_other_realms_cookie_opens_nothing_and_survives() {
    let app = TestApp::demo().await;
    let a = couple(&app, "Anna", "anna@example.org").await;
    portal_login(&app, &a, "anna's portal password").await;
    let staff_email = "maya@goldenhour.example";
    let staff = session_id(
        &app,
        "/login",
        staff_email,
        projectflo::seed::DEMO_PASSWORD,
        "pf_session",
    )
    .await;
    let portal = session_id(
        &app,
        "/portal/login",
        &a.email,
        "anna's portal password",
        "pf_portal",
    )
    .await;
    // Each in the wrong cookie opens nothing...
    assert_eq!(
        status_with_cookie(&app, "/portal", &format!("pf_portal={staff}")).await,
        303
    );
    assert_eq!(
        status_with_cookie(&app, "/account", &format!("pf_session={portal}")).await,
        303
    );
    // ...and both sessions still work where they belong.
    assert_eq!(
        status_with_cookie(&app, "/account", &format!("pf_session={staff}")).await,
        200
    );
    assert_eq!(
        status_with_cookie(&app, "/portal", &format!("pf_portal={portal}")).await,
        200
    );
}

#[tokio::test]
async fn the_portal_login_wears_the_studio_name() {
    let app = TestApp::demo().await;
    sqlx::query("UPDATE studio_settings SET studio_name = 'Lumen & Co Films'")
        .execute(&app.db)
        .await
        .unwrap();
    let page = app.get("/portal/login").await.text().await.unwrap();
    assert!(
        page.contains("</span> Lumen &#38; Co Films</div>")
            && page.contains("<title>Your wedding film portal · Lumen &#38; Co Films</title>"),
        "{page}"
    );
    // A refused login keeps it too; the staff login stays ProjectFlo's.
    let refused = app
        .post_form(
            "/portal/login",
            &[("email", "nobody@example.com"), ("password", "x")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        refused.contains("</span> Lumen &#38; Co Films</div>"),
        "{refused}"
    );
    let staff = app.get("/login").await.text().await.unwrap();
    assert!(staff.contains("</span> ProjectFlo</div>"), "{staff}");
}

/// A request for a portal reset link: (status, page).
async fn ask_reset(app: &TestApp, email: &str) -> (u16, String) {
    let resp = app
        .post_form("/portal/password-reset", &[("email", email)])
        .await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn portal_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.post_form("/portal/login", &[("email", email), ("password", password)])
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_couple_resets_a_forgotten_password_through_an_emailed_link() {
    let app = TestApp::demo().await;
    sqlx::query("UPDATE studio_settings SET studio_name = 'Lumen & Co Films'")
        .execute(&app.db)
        .await
        .unwrap();
    let a = couple(&app, "Anna", "anna@example.org").await;
    let old_session = portal_login(&app, &a, "anna's first password").await;
    // The login page links to the request page, which wears the studio's name.
    let login = app.get("/portal/login").await.text().await.unwrap();
    assert!(
        login.contains(
            "<a href=\"/portal/password-reset\" id=\"forgot-password\">Forgot your password?</a>"
        ),
        "{login}"
    );
    let form = app
        .get("/portal/password-reset")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("</span> Lumen &#38; Co Films</div>")
            && form.contains("action=\"/portal/password-reset\"")
            && form.contains("href=\"/portal/login\""),
        "{form}"
    );
    // An unknown email and a known one get the same answer, in about the same time.
    let mut times = (vec![], vec![]);
    let (mut unknown, mut known) = (String::new(), String::new());
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let (status, page) = ask_reset(&app, "nobody@example.org").await;
        times.0.push(t.elapsed());
        assert_eq!(status, 200);
        unknown = page.replace("nobody@example.org", "X");
        let t = std::time::Instant::now();
        let (status, page) = ask_reset(&app, "Anna@Example.org").await;
        times.1.push(t.elapsed());
        assert_eq!(status, 200);
        known = page.replace("Anna@Example.org", "X");
    }
    assert_eq!(unknown, known);
    assert!(
        known.contains("</span> Lumen &#38; Co Films</div>"),
        "{known}"
    );
    let fastest = |t: &Vec<std::time::Duration>| t.iter().min().copied().unwrap();
    let gap = fastest(&times.0).abs_diff(fastest(&times.1));
    assert!(gap < std::time::Duration::from_millis(100), "{times:?}");
    // The email is in the outbox (the communications log, without SMTP): the studio's name,
    // a link to the portal's set-password page.
    let notes: String = sqlx::query_scalar(
        "SELECT notes FROM communications_log WHERE notes LIKE 'To: anna@example.org%'
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        notes.contains("Subject: Reset your Lumen & Co Films portal password"),
        "{notes}"
    );
    let first = app.last_link_to("anna@example.org").await;
    // A fresh link for the last of the three requests; the earlier ones stop working with it.
    let link = first.trim_start_matches(&app.url("")).to_string();
    assert!(link.starts_with("/portal/set-password/"), "{link}");
    let older: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM one_time_tokens WHERE client_user_id IS NOT NULL
           AND purpose = 'password_reset' AND used_at IS NULL",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(older.len(), 3);
    let page = app.get(&link).await.text().await.unwrap();
    assert!(
        page.contains("</span> Lumen &#38; Co Films</div>") && page.contains("name=\"password\""),
        "{page}"
    );
    // A password that breaks the rule is named and uses nothing up.
    let resp = app
        .post_form(&link, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(resp.status(), 422);
    let new = "anna's brand new password";
    let resp = app
        .post_form(&link, &[("password", new), ("confirm", new)])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/portal/login?notice=password-set"
    );
    // The link works once; every other waiting link of Anna's stops working too.
    let again = app
        .post_form(
            &link,
            &[
                ("password", "yet another one!"),
                ("confirm", "yet another one!"),
            ],
        )
        .await;
    assert_eq!(again.status(), 410);
    let gone = again.text().await.unwrap();
    assert!(
        gone.contains("expired or was already used")
            && gone.contains("href=\"/portal/password-reset\"")
            && gone.contains("</span> Lumen &#38; Co Films</div>"),
        "{gone}"
    );
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM one_time_tokens WHERE client_user_id IS NOT NULL AND used_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(waiting, 0);
    // The old session is over; the old password is refused and the new one opens the portal.
    let resp = old_session.get(app.url("/portal")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        portal_status(&app, &a.email, "anna's first password").await,
        401
    );
    assert_eq!(portal_status(&app, &a.email, new).await, 303);
    // The audit log says so in words, with the couple as the record.
    let owner = app.demo_login("Owner").await;
    let audit = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(
        audit.contains("<td>Asked for a portal password reset link</td>")
            && audit.contains("<td>Chose a new portal password from a reset link</td>")
            && audit.contains("Portal login · Anna Test</a>"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_reset_link_opens_only_its_own_kind_of_login() {
    let app = TestApp::demo().await;
    let maya = "maya@goldenhour.example";
    app.post_form("/password-reset", &[("email", maya)]).await;
    let staff_link = app.last_link_to(maya).await;
    let token = staff_link.rsplit('/').next().unwrap();
    // A staff member's link is no couple's: the portal refuses it and leaves it unused.
    let page = app.get(&format!("/portal/set-password/{token}")).await;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("expired or was already used")
    );
    let resp = app
        .post_form(
            &format!("/portal/set-password/{token}"),
            &[
                ("password", "a portal password"),
                ("confirm", "a portal password"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 410);
    let resp = app
        .post_form(
            &format!("/set-password/{token}"),
            &[
                ("password", "maya's new password"),
                ("confirm", "maya's new password"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn reset_requests_are_throttled_alike_for_known_and_unknown_emails() {
    let app = TestApp::demo().await;
    let a = couple(&app, "Anna", "anna@example.org").await;
    portal_login(&app, &a, "anna's portal password").await;
    let mut refused = vec![];
    for email in ["anna@example.org", "nobody@example.org"] {
        for _ in 0..5 {
            assert_eq!(ask_reset(&app, email).await.0, 200);
        }
        let resp = app
            .post_form("/portal/password-reset", &[("email", email)])
            .await;
        assert_eq!(resp.status(), 429, "{email}");
        assert!(resp.headers().contains_key("retry-after"));
        refused.push(resp.text().await.unwrap().replace(email, "X"));
    }
    assert_eq!(refused[0], refused[1]);
    assert!(refused[0].contains("Too many requests"), "{}", refused[0]);
    let links: i64 =
        sqlx::query_scalar("SELECT count(*) FROM one_time_tokens WHERE purpose = 'password_reset'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(links, 5, "a refused request sends nothing");
    // Asking for links is no failed login: the couple still logs in from here.
    assert_eq!(
        portal_status(&app, "anna@example.org", "anna's portal password").await,
        303
    );
}

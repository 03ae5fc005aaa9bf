//! Browser tests: real Chromium through chromedriver. Where chromedriver is missing they say so
//! loudly and skip; with CI=true they fail instead.
use crate::helpers::TestApp;
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The chromedriver URL, started once per test run; None when it is not installed (outside CI).
fn chromedriver() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(String::from)
            .or_else(|| which("chromedriver"));
        let Some(bin) = bin else {
            let msg = "chromedriver is not installed: browser tests cannot run \
                       (Debian: apt-get install chromium chromium-driver)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg}");
            }
            eprintln!("\n!!!!!!!!!! SKIPPING BROWSER TESTS: {msg} !!!!!!!!!!\n");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (tx, rx) = std::sync::mpsc::channel();
        // chromedriver dies with the thread that spawned it, which lives as long as it does.
        std::thread::spawn(move || {
            let mut cmd = Command::new(bin);
            cmd.arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            unsafe {
                cmd.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                        .map_err(std::io::Error::from)
                });
            }
            let mut child = cmd.spawn().expect("starting chromedriver");
            tx.send(()).unwrap();
            let _ = child.wait();
        });
        rx.recv().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(format!("http://127.0.0.1:{port}"))
    })
    .as_deref()
}

fn which(name: &str) -> Option<String> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .map(|p| p.to_string_lossy().into_owned())
}

/// A headless Chromium session, or None (skip) when chromedriver is missing outside CI.
pub async fn browser() -> Option<Client> {
    browser_sized(None).await
}

/// A headless Chromium session with a phone's viewport (`width` CSS pixels).
pub async fn phone(width: u32) -> Option<Client> {
    browser_sized(Some(width)).await
}

async fn browser_sized(phone_width: Option<u32>) -> Option<Client> {
    let url = chromedriver()?;
    let mut caps = serde_json::Map::new();
    let mut args = vec![
        "--headless=new",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
    ];
    if nix::unistd::Uid::effective().is_root() {
        args.push("--no-sandbox");
    }
    let mut opts = serde_json::json!({ "args": args });
    if let Some(width) = phone_width {
        opts["mobileEmulation"] = serde_json::json!({ "deviceMetrics": { "width": width, "height": 844, "pixelRatio": 1 } });
    }
    if std::path::Path::new("/usr/bin/chromium").exists() {
        opts["binary"] = "/usr/bin/chromium".into();
    }
    caps.insert("goog:chromeOptions".into(), opts);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(url)
        .await
        .expect("starting a Chromium session");
    Some(client)
}

pub async fn click(c: &Client, at: Locator<'_>) {
    c.find(at).await.unwrap().click().await.unwrap();
}

pub async fn text(c: &Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

/// The text of an element once it is there (bounded wait).
pub async fn wait_text(c: &Client, at: Locator<'_>) -> String {
    c.wait()
        .for_element(at)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn type_in(c: &Client, at: Locator<'_>, keys: &str) {
    c.find(at).await.unwrap().send_keys(keys).await.unwrap();
}

/// Log in through the login page with the keyboard, as a person would.
pub async fn login(c: &Client, app: &TestApp, email: &str, password: &str) {
    c.goto(&app.url("/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "the dashboard needs a login"
    );
    type_in(c, Locator::Id("email"), email).await;
    let pw = c.find(Locator::Id("password")).await.unwrap();
    pw.send_keys(password).await.unwrap();
    pw.send_keys("\u{E007}").await.unwrap(); // Enter submits the form
    wait_for_path(c, "/").await;
}

/// Wait (bounded) until the browser is on `path`.
pub async fn wait_for_path(c: &Client, path: &str) {
    // Generous: a login hashes its password (argon2, two at a time), and the whole suite
    // shares two cores.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = c.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "still on {url}, expected {path}");
        c.wait()
            .at_most(Duration::from_millis(200))
            .for_element(Locator::Css("body"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn dashboard_shows_every_area_in_the_navigation() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let h1 = text(&c, Locator::Css("main h1")).await;
    assert_eq!(h1, "Dashboard");
    let links = c.find_all(Locator::Css("nav#nav a")).await.unwrap();
    let mut labels = vec![];
    for l in &links {
        labels.push(l.text().await.unwrap());
    }
    assert_eq!(
        labels,
        [
            "Dashboard",
            "Leads",
            "Quotes",
            "Projects",
            "Tasks",
            "Calendar",
            "Invoices",
            "Reports",
            "Settings"
        ]
    );
    // The demo studio's name and its leads are on the page.
    let body = text(&c, Locator::Css("body")).await;
    assert!(body.contains("Golden Hour Films"), "{body}");
    assert!(body.contains("Emma Rodriguez"), "{body}");
    // Follow a navigation link: the team's calendar.
    click(&c, Locator::LinkText("Calendar")).await;
    let h1 = text(&c, Locator::Css("main h1")).await;
    assert_eq!(h1, "Calendar");
    let current = text(&c, Locator::Css("nav a[aria-current=page]")).await;
    assert_eq!(current, "Calendar");
    let body = text(&c, Locator::Css("main")).await;
    assert!(body.contains("The whole team"), "{body}");
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_staff_member_logs_in_sees_the_dashboard_and_logs_out() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    // A wrong password first: the message is by the form, and nothing else happens.
    c.goto(&app.url("/login")).await.unwrap();
    type_in(&c, Locator::Id("email"), "priya@goldenhour.example").await;
    type_in(&c, Locator::Id("password"), "not it\u{E007}").await;
    let err = wait_text(&c, Locator::Id("login-error")).await;
    assert!(err.contains("do not match"), "{err}");
    login(
        &c,
        &app,
        "priya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let user = text(&c, Locator::Css(".usermenu a[href=\"/account\"]")).await;
    assert!(
        user.contains("Priya Patel") && user.contains("Sales"),
        "{user}"
    );
    // Sales sees Leads but not Invoices.
    let nav = text(&c, Locator::Css("nav#nav")).await;
    assert!(nav.contains("Leads") && !nav.contains("Invoices"), "{nav}");
    click(&c, Locator::Css(".usermenu button")).await;
    wait_for_path(&c, "/login").await;
    let notice = text(&c, Locator::Css(".flash.ok")).await;
    assert_eq!(notice, "You are logged out.");
    // The dashboard is closed again.
    c.goto(&app.url("/")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_couple_logs_into_the_portal() {
    let app = TestApp::demo().await;
    let couple = crate::portal::couple(&app, "Anna", "anna@example.org").await;
    let Some(c) = browser().await else { return };
    // The invitation link from the studio, then the portal login.
    let sales = app.demo_login("Sales").await;
    sales
        .post_form(
            &format!("/settings/portal/{}/invite", couple.client_id),
            &[],
        )
        .await;
    let link = app.last_link_to("anna@example.org").await;
    c.goto(&link).await.unwrap();
    type_in(&c, Locator::Id("password"), "our wedding film 2027").await;
    type_in(&c, Locator::Id("confirm"), "our wedding film 2027\u{E007}").await;
    wait_for_path(&c, "/portal/login").await;
    type_in(&c, Locator::Id("email"), "anna@example.org").await;
    type_in(&c, Locator::Id("password"), "our wedding film 2027\u{E007}").await;
    wait_for_path(&c, "/portal").await;
    let body = text(&c, Locator::Css("main")).await;
    assert!(
        body.contains("Welcome, Anna Test")
            && body.contains("GHF-Anna")
            && body.contains("$1,260.00"),
        "{body}"
    );
    click(&c, Locator::LinkText("GHF-Anna")).await;
    let h1 = wait_text(&c, Locator::Css("main h1")).await;
    assert_eq!(h1, "GHF-Anna");
    c.close().await.unwrap();
}

/// Not a check: saves screenshots of the main pages to `target/screenshots/` for people to
/// look at (`cargo test -- --ignored screenshots`).
#[tokio::test]
#[ignore]
async fn screenshots() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    c.goto(&app.url("/login")).await.unwrap();
    std::fs::write(dir.join("login.png"), c.screenshot().await.unwrap()).unwrap();
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    for (name, path) in [
        ("dashboard", "/"),
        ("account", "/account"),
        ("users", "/settings/users"),
        ("roles", "/settings/roles"),
        ("audit", "/settings/audit"),
        ("settings", "/settings"),
        ("leads", "/leads"),
        ("inquiry", "/leads/6"),
        ("todos", "/todos"),
        ("catalogs", "/settings/catalog"),
        ("templates", "/settings/catalog/task-templates"),
        ("template", "/settings/catalog/task-templates/5"),
        ("studio", "/settings/studio"),
        ("preview", "/settings/rules-preview?film=1&scene=3&scene=5"),
        ("inquire", "/inquire"),
        ("quotes", "/quotes"),
        ("builder", "/quotes/1"),
        ("projects", "/projects"),
        ("project", "/projects/2"),
        ("board", "/projects/1/tasks"),
        ("capacity", "/capacity"),
    ] {
        c.goto(&app.url(path)).await.unwrap();
        std::fs::write(
            dir.join(format!("{name}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    let couple = crate::portal::couple(&app, "Anna", "anna@example.org").await;
    let portal = crate::portal::portal_login(&app, &couple, "anna's portal password").await;
    drop(portal);
    c.goto(&app.url("/portal/login")).await.unwrap();
    type_in(&c, Locator::Id("email"), "anna@example.org").await;
    type_in(
        &c,
        Locator::Id("password"),
        "anna's portal password\u{E007}",
    )
    .await;
    wait_for_path(&c, "/portal").await;
    std::fs::write(dir.join("portal.png"), c.screenshot().await.unwrap()).unwrap();
    c.close().await.unwrap();
    // Phase 4: the couple's proposal (Ava's, sent again for its link), Sofia's contract with its
    // audit trail, Olivia's versions of the agreement.
    let sales = app.demo_login("Sales").await;
    let ava: i32 = sqlx::query_scalar(
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sales
        .post_form(&format!("/quotes/{ava}/proposal"), &[])
        .await;
    let link = app.last_link_to("ava.t@example.com").await;
    let (sofia, olivia): (i32, i32) = sqlx::query_as(
        "SELECT (SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c
                 ON c.id = i.contact_id WHERE c.email = 'sofia.garcia@example.com'),
                (SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c
                 ON c.id = i.contact_id WHERE c.email = 'olivia.nguyen@example.com')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let (project, wedding): (i32, chrono::NaiveDate) =
        sqlx::query_as("SELECT project_id, (SELECT wedding_date FROM projects WHERE id = project_id) FROM builds WHERE id = $1")
            .bind(olivia)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let c = browser().await.unwrap();
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    for (name, url) in [
        ("proposal", link),
        ("contract", app.url(&format!("/quotes/{sofia}/contract"))),
        ("changes", app.url(&format!("/quotes/{olivia}/changes"))),
        ("booked", app.url(&format!("/quotes/{olivia}"))),
        ("inbox", app.url("/inbox")),
        ("invoices", app.url("/invoices")),
        (
            "calendar-week",
            app.url(&format!("/calendar?view=week&date={wedding}")),
        ),
        ("calendar-month", app.url("/calendar?view=month")),
        (
            "shoot-day",
            app.url(&format!("/projects/{project}/shoot-day")),
        ),
        ("who-can-shoot", app.url(&format!("/quotes/{ava}"))),
    ] {
        c.goto(&url).await.unwrap();
        std::fs::write(
            dir.join(format!("{name}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    c.close().await.unwrap();
    // Phase 5: Nina's own tasks (her timer running on the fine cut).
    let c = browser().await.unwrap();
    login(
        &c,
        &app,
        "nina@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    c.goto(&app.url("/tasks")).await.unwrap();
    std::fs::write(dir.join("my-tasks.png"), c.screenshot().await.unwrap()).unwrap();
    c.close().await.unwrap();
    // The same studio on a phone.
    let Some(c) = phone(390).await else { return };
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    for (name, path) in [("phone-leads", "/leads"), ("phone-builder", "/quotes/1")] {
        c.goto(&app.url(path)).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
    c.close().await.unwrap();
}

/// The reports with their charts on a synthetic studio of two years (`seed --scale`), for the
/// README: target/screenshots/report-profit.png, report-team.png, report-pipeline.png and
/// report-cash-flow.png.
#[tokio::test]
async fn report_screenshots() {
    let clock = projectflo::clock::Clock::Fixed(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 10, 15, 18, 0, 0).unwrap(),
    );
    let app = TestApp::with_settings_at(crate::helpers::Template::Empty, clock, |_| {}).await;
    projectflo::seed::studio(&app.db, clock, 2, 120)
        .await
        .unwrap();
    let Some(c) = browser().await else { return };
    c.set_window_size(1280, 1700).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    for (name, path) in [
        ("report-profit", "/reports/profit"),
        ("report-team", "/reports/team"),
        ("report-pipeline", "/reports/pipeline"),
        ("report-cash-flow", "/reports/cash-flow"),
        ("dashboard-owner", "/"),
    ] {
        c.goto(&app.url(path)).await.unwrap();
        let svg = c.find(Locator::Css("svg.chart, .kpis")).await.unwrap();
        assert!(
            !svg.text()
                .await
                .unwrap_or_default()
                .contains("Nothing in this range")
        );
        std::fs::write(
            dir.join(format!("{name}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_couple_fills_in_the_public_form_and_the_lead_is_on_the_board() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    c.goto(&app.url("/inquire?utm_source=pinterest&utm_campaign=boho"))
        .await
        .unwrap();
    // The required fields say so before anything is sent.
    for id in ["first_name", "email"] {
        let input = c.find(Locator::Id(id)).await.unwrap();
        let required = input.attr("aria-required").await.unwrap();
        assert_eq!(required.as_deref(), Some("true"), "{id}");
        let label = text(&c, Locator::Css(&format!("label[for={id}]"))).await;
        assert!(label.ends_with(" *"), "{label}");
    }
    for (id, text) in [
        ("first_name", "Lena"),
        ("last_name", "Park"),
        ("email", "lena.park@example.net"),
        ("venue", "Carmel Mission"),
    ] {
        type_in(&c, Locator::Id(id), text).await;
    }
    type_in(&c, Locator::Id("message"), "A small October wedding.").await;
    click(&c, Locator::Css("button[type=submit]")).await;
    let thanks = wait_text(&c, Locator::Id("thanks")).await;
    assert!(thanks.contains("We have your message"));
    // The studio sees it on the board, in New, with its follow-up.
    login(
        &c,
        &app,
        "priya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    c.goto(&app.url("/leads")).await.unwrap();
    let new_col = text(&c, Locator::Css("section.column[data-status='New']")).await;
    assert!(
        new_col.contains("Lena Park") && new_col.contains("Follow-up: Priya Patel"),
        "{new_col}"
    );
    click(&c, Locator::LinkText("Lena Park")).await;
    let body = c.wait().for_element(Locator::Id("act-h")).await.unwrap();
    drop(body);
    let page = text(&c, Locator::Css("main")).await;
    assert!(
        page.contains("Follow up with Lena Park") && page.contains("pinterest"),
        "{page}"
    );
    c.close().await.unwrap();
}

/// Wait (bounded) until the text of `css` differs from `old`; returns the new text.
async fn wait_for_change(c: &Client, css: &str, old: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t != old {
                    return t;
                }
            }
        }
        assert!(Instant::now() < deadline, "{css} still reads {old:?}");
        let _ = c
            .wait()
            .at_most(Duration::from_millis(100))
            .for_element(Locator::Css("body"))
            .await;
    }
}

#[tokio::test]
async fn a_quote_is_configured_and_its_price_follows_without_a_reload() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    login(
        &c,
        &app,
        "priya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let emma: i32 = sqlx::query_scalar("SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'emma.rodriguez@example.com'").fetch_one(&app.db).await.unwrap();
    c.goto(&app.url(&format!("/leads/{emma}"))).await.unwrap();
    click(&c, Locator::Id("start-quote")).await;
    let total = wait_text(&c, Locator::Id("live-total")).await;
    assert_eq!(total, "$0.00");
    // From here on, the page must never reload: a marker on window survives only in-place updates.
    c.execute("window.__stillHere = true;", vec![])
        .await
        .unwrap();
    c.find(Locator::Id("add-scene"))
        .await
        .unwrap()
        .select_by_label("Ceremony")
        .await
        .unwrap();
    c.find(Locator::Id("add-operator"))
        .await
        .unwrap()
        .select_by_label("Lead Videographer")
        .await
        .unwrap();
    click(&c, Locator::Id("add-coverage")).await;
    // Ceremony, 1 x 1.5 h (scene default) x $150
    let total = wait_for_change(&c, "#live-total", "$0.00").await;
    assert_eq!(total, "$225.00");
    c.find(Locator::Id("add-film"))
        .await
        .unwrap()
        .select_by_label("Highlight Film")
        .await
        .unwrap();
    click(&c, Locator::Id("add-film-button")).await;
    // + the Highlight component for Ceremony (476.00) + Music 85.00 + Grade Pack 250.00
    let total = wait_for_change(&c, "#live-total", "$225.00").await;
    assert_eq!(total, "$1,036.00");
    let breakdown = text(&c, Locator::Id("breakdown")).await;
    assert!(
        breakdown.contains("Licensed Music Track (Cinematic)") && !breakdown.contains("Film Grain"),
        "{breakdown}"
    );
    // Change the component's style to Vintage Film: the price and the engine-made line follow.
    let select = c
        .find(Locator::Css(".component-row select[name=editing_style_id]"))
        .await
        .unwrap();
    select.select_by_label("Vintage Film").await.unwrap();
    // 1,036.00 - 85.00 (Cinematic grade) + 127.50 (Vintage 1.5 h) - 85 - 250 + 180 (Film Grain) = 923.50
    let total = wait_for_change(&c, "#live-total", "$1,036.00").await;
    assert_eq!(total, "$923.50");
    let breakdown = text(&c, Locator::Id("breakdown")).await;
    assert!(
        breakdown.contains("Film Grain & Texture Pass (Vintage Film)")
            && !breakdown.contains("Licensed Music Track"),
        "{breakdown}"
    );
    let still: serde_json::Value = c
        .execute("return window.__stillHere === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, serde_json::Value::Bool(true), "no page reload");
    c.close().await.unwrap();
}

/// The id of the element that has the keyboard focus, once it is `id` (bounded wait).
async fn wait_for_focus(c: &Client, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let focused = c
            .execute(
                "return document.activeElement ? document.activeElement.id : null;",
                vec![],
            )
            .await
            .unwrap();
        if focused == serde_json::json!(id) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the focus is on {focused}, not #{id}"
        );
        let _ = c
            .wait()
            .at_most(Duration::from_millis(100))
            .for_element(Locator::Css("body"))
            .await;
    }
}

/// The count shown in a column's heading of the board.
async fn column_count(c: &Client, status: &str) -> String {
    let css = format!("section.column[data-status='{status}'] .count");
    text(c, Locator::Css(&css)).await
}

async fn no_reload_since_marker(c: &Client) {
    let marker = c
        .execute("return window.__marker === 1;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, serde_json::json!(true), "no full page load");
    assert_eq!(c.current_url().await.unwrap().path(), "/leads");
}

#[tokio::test]
async fn a_lead_moves_on_the_board_in_place_by_button_and_by_dragging() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    login(
        &c,
        &app,
        "priya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let emma: i32 = sqlx::query_scalar("SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'emma.rodriguez@example.com'").fetch_one(&app.db).await.unwrap();
    c.goto(&app.url("/leads")).await.unwrap();
    let (new, contacted) = (
        column_count(&c, "New").await,
        column_count(&c, "Contacted").await,
    );
    assert_eq!((new.as_str(), contacted.as_str()), ("3", "1"));
    c.execute("window.__marker = 1;", vec![]).await.unwrap();
    // The button: the card goes to Contacted, the counts follow, the keyboard stays by the card.
    click(&c, Locator::Id(&format!("move-{emma}-contacted"))).await;
    c.wait()
        .for_element(Locator::Css(&format!(
            "section.column[data-status='Contacted'] #lead-{emma}"
        )))
        .await
        .unwrap();
    wait_for_focus(&c, &format!("move-{emma}-proposal-sent")).await;
    no_reload_since_marker(&c).await;
    assert_eq!(column_count(&c, "New").await, "2");
    assert_eq!(column_count(&c, "Contacted").await, "2");
    let flash = text(&c, Locator::Id("board-flash")).await;
    assert_eq!(
        flash,
        "Moved Emma Rodriguez to Contacted; the follow-up to-do is done."
    );
    let follow_up: String = sqlx::query_scalar(
        "SELECT status::text FROM activities WHERE inquiry_id = $1 AND is_follow_up",
    )
    .bind(emma)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(follow_up, "Completed");
    // Dragging the card to the next column does the same, without a reload.
    let drag = "const [id, status] = arguments;
        const card = document.getElementById('lead-' + id);
        const col = document.querySelector(`#board-region .column[data-status='${status}']`);
        const dt = new DataTransfer();
        card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
        col.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
        col.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));";
    c.execute(drag, vec![emma.into(), "Proposal Sent".into()])
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(&format!(
            "section.column[data-status='Proposal Sent'] #lead-{emma}"
        )))
        .await
        .unwrap();
    no_reload_since_marker(&c).await;
    assert_eq!(column_count(&c, "Contacted").await, "1");
    // A move the rules refuse: the reason by the card, nothing moved.
    c.execute(drag, vec![emma.into(), "Booked".into()])
        .await
        .unwrap();
    let reason = wait_text(&c, Locator::Id(&format!("move-error-{emma}"))).await;
    assert!(reason.contains("only by booking"), "{reason}");
    let role = c
        .find(Locator::Id(&format!("move-error-{emma}")))
        .await
        .unwrap()
        .attr("role")
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("alert"));
    c.find(Locator::Css(&format!(
        "section.column[data-status='Proposal Sent'] #lead-{emma}"
    )))
    .await
    .expect("still in Proposal Sent");
    wait_for_focus(&c, &format!("lead-link-{emma}")).await;
    no_reload_since_marker(&c).await;
    c.close().await.unwrap();
}

/// The id of the element that has keyboard focus.
async fn focused(c: &Client) -> String {
    let v = c
        .execute("return document.activeElement.id;", vec![])
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

/// Select all of a field's text and type over it.
async fn retype(c: &Client, id: &str, keys: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.send_keys("\u{E009}a").await.unwrap(); // Ctrl+A
    e.send_keys(keys).await.unwrap();
}

#[tokio::test]
async fn a_quote_is_edited_with_the_keyboard_and_focus_stays_where_it_was() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    login(
        &c,
        &app,
        "priya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let (build, line): (i32, i32) = sqlx::query_as(
        "SELECT d.build_id, c.id FROM build_components c
         JOIN build_deliverables d ON d.id = c.build_deliverable_id ORDER BY d.build_id, c.id LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    c.goto(&app.url(&format!("/quotes/{build}"))).await.unwrap();
    c.execute("window.__stillHere = true;", vec![])
        .await
        .unwrap();
    let minutes = format!("minutes-{line}");
    let included = format!("included-{line}");
    let style = format!("style-{line}");

    // New minutes, then Tab: the price follows and focus is on the next control, "included".
    let price = text(&c, Locator::Css(&format!("#component-{line} .money"))).await;
    retype(&c, &minutes, "7\u{E004}").await;
    let css = format!("#component-{line} .money");
    wait_for_change(&c, &css, &price).await;
    assert_eq!(focused(&c).await, included);
    // Space toggles "included": the line is priced again, focus stays on the box.
    let total = text(&c, Locator::Id("live-total")).await;
    c.find(Locator::Id(&included))
        .await
        .unwrap()
        .send_keys(" ")
        .await
        .unwrap();
    let total = wait_for_change(&c, "#live-total", &total).await;
    assert_eq!(focused(&c).await, included);
    // Tick it again, then an arrow key picks another style: focus stays on the style.
    c.find(Locator::Id(&included))
        .await
        .unwrap()
        .send_keys(" ")
        .await
        .unwrap();
    let total = wait_for_change(&c, "#live-total", &total).await;
    c.find(Locator::Id(&style))
        .await
        .unwrap()
        .send_keys("\u{E015}") // ArrowDown
        .await
        .unwrap();
    let total = wait_for_change(&c, "#live-total", &total).await;
    assert_eq!(focused(&c).await, style);

    // An add-on with a quantity that is no number: the reason by the field, what was typed
    // kept, focus still there, nothing added.
    retype(&c, "add-item-quantity", "abc\u{E007}").await;
    let problem = wait_text(&c, Locator::Id("add-item-quantity-error")).await;
    assert_eq!(problem, "\u{201c}abc\u{201d} is not a number");
    let typed = c
        .find(Locator::Id("add-item-quantity"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("abc"));
    assert_eq!(focused(&c).await, "add-item-quantity");
    assert_eq!(text(&c, Locator::Id("live-total")).await, total);
    // Two of them: added, the form is fresh, focus stays in the quantity.
    retype(&c, "add-item-quantity", "2\u{E007}").await;
    let total = wait_for_change(&c, "#live-total", &total).await;
    assert_eq!(focused(&c).await, "add-item-quantity");
    assert!(
        c.find(Locator::Id("add-item-quantity-error"))
            .await
            .is_err()
    );
    // Remove it with the keyboard: focus goes to the add-on picker, not the top of the page.
    let remove = c
        .find_all(Locator::Css("#breakdown button[aria-label^=Remove]"))
        .await
        .unwrap();
    remove.last().unwrap().send_keys("\u{E007}").await.unwrap();
    wait_for_change(&c, "#live-total", &total).await;
    assert_eq!(focused(&c).await, "add-item");

    // Save as package says so, next to the button, and focus stays in the name.
    type_in(
        &c,
        Locator::Id("package-name"),
        "Keyboard Collection\u{E007}",
    )
    .await;
    let said = wait_text(&c, Locator::Id("package-feedback")).await;
    assert!(said.contains("Keyboard Collection"), "{said}");
    assert_eq!(focused(&c).await, "package-name");

    let still: serde_json::Value = c
        .execute("return window.__stillHere === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, serde_json::Value::Bool(true), "no page reload");
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_owner_assigns_a_second_shooter_sees_them_on_the_week_and_reads_why_not_for_someone_on_leave()
 {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    // Olivia's wedding needs a second shooter on the ceremony; two videographers, one on leave.
    let (project, build, wedding): (i32, i32, chrono::NaiveDate) = sqlx::query_as(
        "SELECT p.id, b.id, p.wedding_date FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let line: i32 = sqlx::query_scalar(
        "INSERT INTO build_coverage_assignments (build_id, coverage_scene_id, operator_type_id)
         SELECT $1, s.id, o.id FROM coverage_scenes s, operator_types o
         WHERE s.name = 'Ceremony' AND o.name = 'Second Shooter' RETURNING id",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let mut people = vec![];
    for (first, last) in [("Rosa", "Lind"), ("Theo", "Park")] {
        let email = format!("{}@crew.example", first.to_lowercase());
        projectflo::accounts::admin::create_user(
            &app.db,
            &email,
            "Videographer",
            first,
            last,
            crate::helpers::TEST_PASSWORD,
        )
        .await
        .unwrap();
        let id: i32 = sqlx::query_scalar(
            "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1",
        )
        .bind(&email)
        .fetch_one(&app.db)
        .await
        .unwrap();
        people.push(id);
    }
    let tz: String = sqlx::query_scalar("SELECT time_zone FROM studio_settings")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let (s, e) = projectflo::calendar::rules::all_day_range(wedding, wedding, &tz);
    sqlx::query(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, is_all_day,
                                      event_type)
         VALUES ($1, 'Parental leave', $2, $3, true, 'ABSENCE')",
    )
    .bind(people[0])
    .bind(s)
    .bind(e)
    .execute(&app.db)
    .await
    .unwrap();
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    c.goto(&app.url(&format!("/projects/{project}/shoot-day")))
        .await
        .unwrap();
    c.execute("window.__marker = 1;", vec![]).await.unwrap();
    // Rosa is on leave: refused, and the page says who, when and why.
    pick(&c, line, people[0]).await;
    let why = wait_text(&c, Locator::Id(&format!("error-line-{line}"))).await;
    assert!(why.contains("Rosa Lind is not available"), "{why}");
    assert!(why.contains("(all day): Parental leave (absence)"), "{why}");
    // Theo is free: assigned in place, no reload.
    pick(&c, line, people[1]).await;
    let crew = c
        .wait()
        .for_element(Locator::Css(&format!(
            "#line-{line} li[data-crew='{}']",
            people[1]
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(crew.contains("Theo Park"), "{crew}");
    let v = c
        .execute("return window.__marker === 1", vec![])
        .await
        .unwrap();
    assert_eq!(v, serde_json::json!(true), "the page was not reloaded");
    // The team's week of the wedding: Theo's row has the ceremony.
    c.goto(&app.url(&format!("/calendar?view=week&date={wedding}")))
        .await
        .unwrap();
    let row = text(
        &c,
        Locator::Css(&format!("tr[data-person-row='{}']", people[1])),
    )
    .await;
    assert!(row.contains("Ceremony (Second Shooter)"), "{row}");
    assert!(row.contains("10:00"), "{row}");
    let rosa = text(
        &c,
        Locator::Css(&format!("tr[data-person-row='{}']", people[0])),
    )
    .await;
    assert!(rosa.contains("Parental leave"), "{rosa}");
}

/// Choose a person in a coverage line's picker and press Assign.
async fn pick(c: &Client, line: i32, who: i32) {
    let select = c.find(Locator::Id(&format!("who-{line}"))).await.unwrap();
    select.select_by_value(&who.to_string()).await.unwrap();
    click(c, Locator::Id(&format!("assign-btn-{line}"))).await;
}

/// Drag an element by `dx` pixels with the mouse (WebDriver actions: press, move, release).
async fn drag_by(c: &Client, css: &str, dx: i64) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let grip = c.find(Locator::Css(css)).await.unwrap();
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: grip,
            duration: None,
            x: 0,
            y: 0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: dx / 2,
            y: 0,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: dx - dx / 2,
            y: 0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(mouse).await.unwrap();
    c.release_actions().await.unwrap();
}

#[tokio::test]
async fn an_event_is_resized_by_dragging_its_edge_in_the_week_view() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    let sam: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'sam@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let tz: String = sqlx::query_scalar("SELECT time_zone FROM studio_settings")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // Next Wednesday (not Sam's day off), a timed personal event and an all-day absence.
    let today = projectflo::clock::Clock::System.today(&tz);
    let day = (1..=7)
        .map(|n| today + chrono::Duration::days(n))
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Wed)
        .unwrap();
    let at = |h: u32| {
        projectflo::calendar::rules::local_instant(day.and_hms_opt(h, 0, 0).unwrap(), &tz).unwrap()
    };
    let timed: i32 = sqlx::query_scalar(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, event_type)
         VALUES ($1, 'Lens cleaning', $2, $3, 'PERSONAL') RETURNING id",
    )
    .bind(sam)
    .bind(at(10))
    .bind(at(11))
    .fetch_one(&app.db)
    .await
    .unwrap();
    let (s, e) = projectflo::calendar::rules::all_day_range(day, day, &tz);
    let all_day: i32 = sqlx::query_scalar(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, is_all_day,
                                      event_type)
         VALUES ($1, 'Workshop', $2, $3, true, 'PERSONAL') RETURNING id",
    )
    .bind(sam)
    .bind(s)
    .bind(e)
    .fetch_one(&app.db)
    .await
    .unwrap();
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    c.goto(&app.url(&format!("/calendar?view=week&date={day}&person={sam}")))
        .await
        .unwrap();
    c.execute("window.__marker = 1;", vec![]).await.unwrap();
    // The timed event's edge, 64 pixels right: four steps of 30 minutes, 11:00 -> 13:00.
    drag_by(&c, &format!(".chip[data-event='{timed}'] .chip-grip"), 64).await;
    c.wait()
        .for_element(Locator::XPath(&format!(
            "//a[@data-event='{timed}']/span[@class='chip-time' and text()='10:00–13:00']"
        )))
        .await
        .unwrap();
    let end: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT end_time FROM calendar_events WHERE id = $1")
            .bind(timed)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(end, at(13));
    // The all-day event's edge onto the next day's column: it lasts two days.
    let width = c
        .execute(
            "return document.querySelector(`td.cal-day[data-day='${arguments[0]}']`).getBoundingClientRect().width",
            vec![day.to_string().into()],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    drag_by(
        &c,
        &format!(".chip[data-event='{all_day}'][data-day='{day}'] .chip-grip"),
        width.round() as i64,
    )
    .await;
    let next = day + chrono::Duration::days(1);
    c.wait()
        .for_element(Locator::Css(&format!(
            ".chip[data-event='{all_day}'][data-day='{next}']"
        )))
        .await
        .unwrap();
    let end: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT end_time FROM calendar_events WHERE id = $1")
            .bind(all_day)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        end,
        projectflo::calendar::rules::all_day_range(next, next, &tz).1
    );
    let v = c
        .execute("return window.__marker === 1", vec![])
        .await
        .unwrap();
    assert_eq!(v, serde_json::json!(true), "in place, no reload");
}

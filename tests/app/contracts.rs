//! Phase 4: the contract. The template and its merge fields, the contract rendered on
//! acceptance with the SHA-256 of its text, each partner signing by their own link, the text
//! locked from the first signature, the studio's countersignature, the PDF with its audit
//! trail kept with the documents and shown in the couple's portal.
use crate::browser::browser;
use crate::helpers::{Session, TestApp, build_of, scalar_of};
use crate::portal::{Couple, portal_login};
use fantoccini::Locator;
use rust_decimal::{Decimal, RoundingStrategy};
use sha2::{Digest, Sha256};

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The quote's contract in force: id, text, its stored SHA-256, proposal version, locked.
async fn live(app: &TestApp, build: i32) -> (i32, String, String, i32, bool) {
    sqlx::query_as(
        "SELECT id, body, text_sha256, proposal_version, locked_at IS NOT NULL FROM contracts
         WHERE build_id = $1 AND voided_at IS NULL",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

const SIGNATURES: &str = "SELECT count(*) FROM contract_signatures WHERE contract_id = $1";

fn path_of(app: &TestApp, link: &str) -> String {
    link.trim_start_matches(&app.url("")).to_string()
}

/// Submit a signing form from a browser that calls itself `agent`.
async fn sign_as(
    app: &TestApp,
    path: &str,
    agent: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("{path}/sign")))
        .header("user-agent", agent)
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_template_refuses_unknown_merge_fields_by_the_field() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let page = owner.get("/settings/contract").await.text().await.unwrap();
    assert!(page.contains("{{couple_names}}"), "{page}");
    let index = owner.get("/settings").await.text().await.unwrap();
    assert!(index.contains("href=\"/settings/contract\""), "{index}");
    let templates = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM contract_templates")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let before = templates(&app).await;
    let bad = "# Agreement\n\nFor {{couple_names}} on {{wedding_day}}, paid to {{studio}}.";
    let resp = owner
        .post_form("/settings/contract", &[("body", bad)])
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(
            "id=\"error-body\" role=\"alert\">unknown merge fields {{wedding_day}}, {{studio}};"
        ),
        "{html}"
    );
    assert!(
        html.contains("{{wedding_day}}, paid to"),
        "what was typed is kept"
    );
    assert_eq!(templates(&app).await, before, "nothing saved");
    let unclosed = owner
        .post_form("/settings/contract", &[("body", "For {{couple_names")])
        .await;
    assert_eq!(unclosed.status(), 422);
    let good = "# Agreement\n\nFor {{ couple_names }} on {{wedding_date}}: {{total}}.";
    let resp = owner
        .post_form("/settings/contract", &[("body", good)])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(templates(&app).await, before + 1);
    let saved: String =
        sqlx::query_scalar("SELECT body FROM contract_templates ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(saved, good);
    // Sales may not change it.
    let sales = app.demo_login("Sales").await;
    let resp = sales
        .post_form("/settings/contract", &[("body", good)])
        .await;
    assert_eq!(resp.status(), 403);
}

/// Send the quote's next proposal version from the builder; the couple's link.
async fn send_proposal(s: &Session, build: i32) -> String {
    let html = s
        .post_form(&format!("/quotes/{build}/proposal"), &[])
        .await
        .text()
        .await
        .unwrap();
    html.split("id=\"share-link\">")
        .nth(1)
        .expect("the couple's link")
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn acceptance_renders_the_contract_and_the_first_signature_locks_its_text() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let none = scalar_of::<i64>(
        &app,
        "SELECT count(*) FROM contracts WHERE build_id = $1",
        ava,
    )
    .await;
    assert_eq!(none, 0, "no contract before the couple accepts");
    let link = send_proposal(&s, ava).await;
    let proposal = path_of(&app, &link);
    let resp = app
        .post_form(
            &format!("{proposal}/accept"),
            &[("name", "Ava Thompson"), ("version", "2")],
        )
        .await;
    assert_eq!(resp.status(), 303);

    // Rendered from version 2 and stored with the SHA-256 of its exact text.
    let (contract, body, hash, version, locked) = live(&app, ava).await;
    assert_eq!(version, 2);
    assert!(!locked);
    assert_eq!(hash, sha256_hex(&body));
    assert!(!body.contains("{{"), "{body}");
    let (total, percent, days): (Decimal, Decimal, i32) = sqlx::query_as(
        "SELECT v.total, s.deposit_percent, s.balance_due_days_before_wedding
         FROM proposal_versions v, studio_settings s WHERE v.build_id = $1 AND v.version = 2",
    )
    .bind(ava)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let deposit = (total * percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let usd = |d: Decimal| projectflo::money::format(d, "USD");
    for expected in [
        "between **Golden Hour Films** (\"the studio\") and **Ava Thompson**".to_string(),
        "- Highlight Film".to_string(),
        "- Drone Aerials".to_string(),
        "- Keepsake USB Box × 2".to_string(),
        format!("The total price is **{}**", usd(total)),
        format!(
            "- Deposit: {} ({}% of the total)",
            usd(deposit),
            percent.normalize()
        ),
        format!("- Balance: {}, due on ", usd(total - deposit)),
        format!("({days} days before the wedding)"),
        "proposal version 2".to_string(),
    ] {
        assert!(body.contains(&expected), "{expected:?} in {body}");
    }
    // Ava got her own signing link by email; her page shows the text and its fingerprint.
    let sign = path_of(&app, &app.last_link_to("ava.t@example.com").await);
    assert!(sign.starts_with("/contract/"), "{sign}");
    let page = app.get(&sign).await.text().await.unwrap();
    assert!(
        page.contains(&hash) && page.contains("Highlight Film"),
        "{page}"
    );
    assert!(page.contains("<strong>Ava Thompson</strong>"), "{page}");

    // No consent, or no name: 422 by the field, nothing stored.
    let resp = sign_as(
        &app,
        &sign,
        "AvaPhone/1.0",
        &[("name", "Ava Thompson"), ("text_sha256", &hash)],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"consent-error\""));
    let resp = sign_as(
        &app,
        &sign,
        "AvaPhone/1.0",
        &[("name", "  "), ("consent", "yes"), ("text_sha256", &hash)],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"name-error\""), "{html}");
    assert!(html.contains(" checked"), "the tick is kept");
    // A text other than the one in force: 409.
    let other = "0".repeat(64);
    let resp = sign_as(
        &app,
        &sign,
        "AvaPhone/1.0",
        &[
            ("name", "Ava Thompson"),
            ("consent", "yes"),
            ("text_sha256", &other),
        ],
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(scalar_of::<i64>(&app, SIGNATURES, contract).await, 0);
    assert!(!live(&app, ava).await.4, "still unlocked");

    // Ava signs: her name, consent, time, address, browser and the hash of what she read.
    let fields = [
        ("name", "Ava Thompson"),
        ("consent", "yes"),
        ("text_sha256", hash.as_str()),
    ];
    let resp = sign_as(&app, &sign, "AvaPhone/1.0 (test)", &fields).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], format!("{sign}#signed"));
    let row: (String, String, String, bool, String, String, String) = sqlx::query_as(
        "SELECT role, signer_name, email, consent, ip, user_agent, text_sha256
         FROM contract_signatures WHERE contract_id = $1",
    )
    .bind(contract)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "couple".into(),
            "Ava Thompson".into(),
            "ava.t@example.com".into(),
            true,
            "127.0.0.1".into(),
            "AvaPhone/1.0 (test)".into(),
            hash.clone()
        )
    );
    let page = app.get(&sign).await.text().await.unwrap();
    assert!(page.contains("id=\"signed\""), "{page}");
    assert_eq!(
        sign_as(&app, &sign, "AvaPhone/1.0", &fields).await.status(),
        409,
        "once"
    );

    // From the first signature the text is locked: a partner can no longer be added (which
    // would render it again), and the database refuses a change too.
    let (_, _, _, _, locked) = live(&app, ava).await;
    assert!(locked);
    let contract_page = format!("/quotes/{ava}/contract");
    let html = s.get(&contract_page).await.text().await.unwrap();
    assert!(!html.contains("id=\"partner-form\""), "{html}");
    let resp = s
        .post_form(
            &format!("{contract_page}/partner"),
            &[
                ("partner_name", "Noah Partner"),
                ("partner_email", "noah.partner@example.com"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("signers cannot change"));
    let direct = sqlx::query("UPDATE contracts SET body = body || ' And more.' WHERE id = $1")
        .bind(contract)
        .execute(&app.db)
        .await;
    assert!(direct.is_err(), "the database keeps a signed text too");
    let (_, body_after, hash_after, _, _) = live(&app, ava).await;
    assert_eq!((body_after, hash_after), (body.clone(), hash.clone()));

    // The acceptance cannot be taken back while a signed contract stands...
    let resp = s
        .post_form(&format!("/quotes/{ava}/withdraw"), &[("confirm", "yes")])
        .await;
    assert_eq!(resp.status(), 409);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("void the contract on its page first")
    );
    // ...until a person voids it, with a reason; it stays on record, visibly.
    let void = format!("{contract_page}/void");
    assert_eq!(s.post_form(&void, &[("reason", " ")]).await.status(), 422);
    let resp = s
        .post_form(&void, &[("reason", "The couple moved the wedding")])
        .await;
    assert_eq!(resp.status(), 303);
    let html = s.get(&contract_page).await.text().await.unwrap();
    assert!(html.contains(&format!("id=\"void-{contract}\"")), "{html}");
    assert!(html.contains("The couple moved the wedding") && html.contains("AvaPhone/1.0 (test)"));
    let page = app.get(&sign).await.text().await.unwrap();
    assert!(page.contains("id=\"contract-void\""), "{page}");
    assert!(!page.contains("id=\"sign-form\""));
    let resp = s
        .post_form(&format!("/quotes/{ava}/withdraw"), &[("confirm", "yes")])
        .await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn both_partners_sign_then_the_studio_countersigns_and_the_pdf_is_kept() {
    let app = TestApp::demo().await;
    // Booking by hand here (the countersignature books by itself otherwise: tests/app/auto_book.rs).
    sqlx::query("UPDATE studio_settings SET auto_book = 'manual'")
        .execute(&app.db)
        .await
        .unwrap();
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    let page_path = format!("/quotes/{sofia}/contract");
    // The demo: rendered again when Mateo was added (both names), Sofia signed, locked.
    let (contract, body, hash, version, locked) = live(&app, sofia).await;
    assert_eq!(version, 2);
    assert!(locked);
    assert_eq!(hash, sha256_hex(&body));
    assert!(body.contains("**Sofia Garcia and Mateo Ruiz**"), "{body}");
    let builder = owner
        .get(&format!("/quotes/{sofia}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        builder.contains(&format!("href=\"{page_path}\"")),
        "{builder}"
    );
    let html = owner.get(&page_path).await.text().await.unwrap();
    assert!(
        html.contains("id=\"contract-stage\">Awaiting signatures<"),
        "{html}"
    );
    assert!(
        html.contains(&hash) && html.contains("203.0.113.24"),
        "{html}"
    );

    // The studio countersigns last: refused while Mateo has not signed.
    let countersign = format!("{page_path}/countersign");
    let studio_fields = [
        ("name", "Maya Chen"),
        ("consent", "yes"),
        ("text_sha256", hash.as_str()),
    ];
    let resp = owner.post_form(&countersign, &studio_fields).await;
    assert_eq!(resp.status(), 409);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("waiting for Mateo Ruiz")
    );
    assert_eq!(scalar_of::<i64>(&app, SIGNATURES, contract).await, 1);

    // Mateo signs by his own link (sent again from the contract page).
    let mateo: i32 = sqlx::query_scalar(
        "SELECT id FROM contract_signers WHERE contract_id = $1 AND name = 'Mateo Ruiz'",
    )
    .bind(contract)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let resp = owner
        .post_form(&format!("{page_path}/signers/{mateo}/resend"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let sign = path_of(&app, &app.last_link_to("mateo.ruiz@example.com").await);
    let resp = sign_as(
        &app,
        &sign,
        "MateoLaptop/2.0",
        &[
            ("name", "Mateo Ruiz"),
            ("consent", "yes"),
            ("text_sha256", hash.as_str()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let mut conn = app.db.acquire().await.unwrap();
    assert!(
        !projectflo::contract::fully_signed(&mut conn, sofia)
            .await
            .unwrap()
    );

    // Then the studio: without consent 422, with it the contract is fully signed.
    let resp = owner
        .post_form(
            &countersign,
            &[("name", "Maya Chen"), ("text_sha256", &hash)],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let resp = owner
        .client
        .post(owner.url(&countersign))
        .header("user-agent", "StudioDesk/3.0")
        .form(&[
            ("name", "Maya Chen"),
            ("consent", "yes"),
            ("text_sha256", hash.as_str()),
            ("csrf", owner.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        projectflo::contract::fully_signed(&mut conn, sofia)
            .await
            .unwrap()
    );
    let ava = build_of(&app, "ava.t@example.com").await;
    assert!(
        !projectflo::contract::fully_signed(&mut conn, ava)
            .await
            .unwrap()
    );
    drop(conn);
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT role, signer_name, ip, user_agent, text_sha256 FROM contract_signatures
         WHERE contract_id = $1 ORDER BY signed_at, id",
    )
    .bind(contract)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let seen: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("couple", "Sofia Garcia", "203.0.113.24"),
            ("couple", "Mateo Ruiz", "127.0.0.1"),
            ("studio", "Maya Chen", "127.0.0.1"),
        ]
    );
    assert_eq!(rows[1].3, "MateoLaptop/2.0");
    assert_eq!(rows[2].3, "StudioDesk/3.0");
    assert!(rows.iter().all(|r| r.4 == hash), "each signed this text");

    // The PDF: a real PDF with the audit trail, kept with the inquiry's documents.
    let (document, kind, inquiry): (i32, String, i32) = sqlx::query_as(
        "SELECT d.id, d.document_type, d.inquiry_id FROM contracts k
         JOIN documents d ON d.id = k.document_id WHERE k.id = $1",
    )
    .bind(contract)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(kind, "Contract");
    let resp = owner.get(&format!("/quotes/{sofia}/contract.pdf")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let pdf = resp.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    let has = |needle: &str| pdf.windows(needle.len()).any(|w| w == needle.as_bytes());
    for needle in [
        "Signatures and audit trail",
        "Fully signed by the couple and the studio.",
        "203.0.113.24",
        "MateoLaptop/2.0",
        "StudioDesk/3.0",
        "mateo.ruiz@example.com",
        "Agreed to sign electronically: yes.",
        hash.as_str(),
        "/Type /Page",
    ] {
        assert!(has(needle), "{needle} in the PDF");
    }
    let kept = owner
        .get(&format!("/documents/{document}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(kept.to_vec(), pdf, "the PDF served is the one kept");
    let inquiry_page = owner
        .get(&format!("/leads/{inquiry}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        inquiry_page.contains(&format!("href=\"/documents/{document}\"")),
        "{inquiry_page}"
    );
    let html = owner.get(&page_path).await.text().await.unwrap();
    assert!(
        html.contains("id=\"contract-stage\">Fully signed<"),
        "{html}"
    );
    assert!(html.contains("Countersigned by Maya Chen"), "{html}");
    // A fully signed contract is neither voided nor dropped with the acceptance.
    let resp = owner
        .post_form(
            &format!("{page_path}/void"),
            &[("reason", "changed our minds")],
        )
        .await;
    assert_eq!(resp.status(), 409);
    let resp = owner
        .post_form(&format!("/quotes/{sofia}/withdraw"), &[("confirm", "yes")])
        .await;
    assert_eq!(resp.status(), 409);

    // The couple sees it in their portal (their client record points at the inquiry).
    let client: i32 = sqlx::query_scalar(
        "INSERT INTO clients (contact_id, inquiry_id)
         SELECT contact_id, id FROM inquiries WHERE id = $1 RETURNING id",
    )
    .bind(inquiry)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let couple = Couple {
        client_id: client,
        email: "sofia.garcia@example.com".into(),
        records: vec![],
    };
    let portal = portal_login(&app, &couple, "sofia's portal password").await;
    let home = portal
        .get(app.url("/portal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains(&format!("href=\"/portal/documents/{document}\"")),
        "{home}"
    );
    let file = portal
        .get(app.url(&format!("/portal/documents/{document}/file")))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);

    // Signed by all: the studio books without having to give a reason, and the contract goes
    // with the project's documents.
    let booked = owner
        .post_form(&format!("/quotes/{sofia}/book"), &[("reason", "")])
        .await;
    assert_eq!(booked.status(), 303);
    let project: Option<i32> = sqlx::query_scalar("SELECT project_id FROM documents WHERE id = $1")
        .bind(document)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(project.is_some(), "the contract is the project's");
}

#[tokio::test]
async fn a_partner_signs_on_the_signing_page_with_the_keyboard() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    let (contract, _, hash, _, _) = live(&app, sofia).await;
    let mateo: i32 = sqlx::query_scalar(
        "SELECT id FROM contract_signers WHERE contract_id = $1 AND position = 2",
    )
    .bind(contract)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let resp = owner
        .post_form(
            &format!("/quotes/{sofia}/contract/signers/{mateo}/resend"),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let link = app.last_link_to("mateo.ruiz@example.com").await;
    c.goto(&link).await.unwrap();
    // Space ticks the consent, Tab goes on to the name, Enter signs.
    let consent = c.find(Locator::Id("consent")).await.unwrap();
    consent.send_keys(" ").await.unwrap();
    consent.send_keys("\u{E004}").await.unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("name"));
    focused.send_keys("Mateo Ruiz\u{E007}").await.unwrap();
    let done = c
        .wait()
        .for_element(Locator::Id("signed"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.starts_with("You signed this contract on"), "{done}");
    c.close().await.unwrap();
    let (name, agent, signed): (String, String, String) = sqlx::query_as(
        "SELECT signer_name, user_agent, text_sha256 FROM contract_signatures
         WHERE signer_id = $1",
    )
    .bind(mateo)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(name, "Mateo Ruiz");
    assert!(agent.contains("Chrome"), "{agent}");
    assert_eq!(signed, hash);
}

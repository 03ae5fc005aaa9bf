//! Booking on the contract's last signature (Settings > Contract, `auto_book`), a couple
//! signing in the portal, and the notifications of signatures, booking and change orders going
//! through `notify::staff` (so the owner's email per kind works for them).
use crate::helpers::{Session, TestApp, build_of, scalar_of as scalar};
use crate::portal::{Couple, portal_login};

const MAYA: &str = "maya@goldenhour.example";

/// Everything booking writes for a quote and everything signing wrote, as one line.
async fn state(app: &TestApp, build: i32) -> String {
    scalar(
        app,
        "SELECT concat_ws(' | ', b.status::text, b.project_id, b.approved_price, i.status::text,
                c.type::text, (SELECT count(*) FROM clients), (SELECT count(*) FROM projects),
                (SELECT count(*) FROM invoices), (SELECT count(*) FROM build_change_orders),
                (SELECT count(*) FROM contract_signatures))
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
        build,
    )
    .await
}

async fn hash_of(app: &TestApp, build: i32) -> String {
    scalar(
        app,
        "SELECT text_sha256 FROM contracts WHERE build_id = $1 AND voided_at IS NULL",
        build,
    )
    .await
}

/// Mateo signs Sofia's contract by his link (sent again from the contract page).
async fn mateo_signs(app: &TestApp, owner: &Session, sofia: i32) {
    let mateo: i32 = scalar(
        app,
        "SELECT g.id FROM contract_signers g JOIN contracts k ON k.id = g.contract_id
         WHERE k.build_id = $1 AND k.voided_at IS NULL AND g.name = 'Mateo Ruiz'",
        sofia,
    )
    .await;
    let resp = owner
        .post_form(
            &format!("/quotes/{sofia}/contract/signers/{mateo}/resend"),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let link = app.last_link_to("mateo.ruiz@example.com").await;
    let path = link.trim_start_matches(&app.url("")).to_string();
    let hash = hash_of(app, sofia).await;
    let resp = app
        .post_form(
            &format!("{path}/sign"),
            &[
                ("name", "Mateo Ruiz"),
                ("consent", "yes"),
                ("text_sha256", hash.as_str()),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
}

async fn countersign(app: &TestApp, owner: &Session, build: i32) -> reqwest::Response {
    let hash = hash_of(app, build).await;
    owner
        .post_form(
            &format!("/quotes/{build}/contract/countersign"),
            &[
                ("name", "Maya Chen"),
                ("consent", "yes"),
                ("text_sha256", hash.as_str()),
            ],
        )
        .await
}

async fn emails_to(app: &TestApp, email: &str, like: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM communications_log
         WHERE notes LIKE 'To: ' || $1 || '%' AND notes LIKE $2",
    )
    .bind(email)
    .bind(like)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_last_signature_books_the_quote_and_the_owner_is_emailed_each_kind() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    // Settings > Studio lists the new kinds; the owner chooses to be emailed all three.
    let studio = owner.get("/settings/studio").await.text().await.unwrap();
    for kind in ["contract_signed", "booked", "change_order_answered"] {
        assert!(studio.contains(&format!("value=\"{kind}\"")), "{kind}");
    }
    sqlx::query(
        "UPDATE studio_settings
         SET notify_email_kinds = '{contract_signed,booked,change_order_answered}'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    // The default setting: booking on the last signature, shown with its explanation.
    let settings = owner.get("/settings/contract").await.text().await.unwrap();
    assert!(
        settings.contains("value=\"on_signatures\" id=\"auto-book-on_signatures\" checked"),
        "{settings}"
    );
    assert!(
        settings.contains("the quote is booked at once"),
        "{settings}"
    );

    mateo_signs(&app, &owner, sofia).await;
    assert_eq!(
        emails_to(&app, MAYA, "%Mateo Ruiz signed the contract for quote #%").await,
        1
    );
    let inbox: i64 = scalar(
        &app,
        "SELECT count(*) FROM notifications WHERE link_url = '/quotes/' || $1 || '/contract'",
        sofia,
    )
    .await;
    assert!(inbox >= 2, "Owner and Sales are told in the inbox");
    let before = state(&app, sofia).await;
    assert!(before.starts_with("Proposal Sent | "), "{before}");

    let resp = countersign(&app, &owner, sofia).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/quotes/{sofia}/contract?done=countersigned-booked")
    );
    // Booked in the countersignature's transaction: the client, the project, the invoices.
    let (status, inquiry, contact, invoices, reason, clients): (
        String,
        String,
        String,
        i64,
        Option<String>,
        i64,
    ) = sqlx::query_as(
        "SELECT b.status::text, i.status::text, c.type::text,
                (SELECT count(*) FROM invoices n WHERE n.project_id = b.project_id),
                b.booked_reason,
                (SELECT count(*) FROM clients l WHERE l.contact_id = c.id)
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(sofia)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), inquiry.as_str(), contact.as_str()),
        ("Booked", "Booked", "Client")
    );
    assert_eq!((invoices, reason, clients), (2, None, 1));
    let audit: (Option<i32>, String) = sqlx::query_as(
        "SELECT contributor_id, details->>'automatic' FROM audit_log
         WHERE action = 'builds.book' AND entity_id = $1",
    )
    .bind(sofia)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audit,
        (None, "on the contract's last signature".to_string())
    );
    // The signed contract goes with the project's documents; the couple is invited.
    let document_project: Option<i32> = scalar(
        &app,
        "SELECT d.project_id FROM contracts k JOIN documents d ON d.id = k.document_id
         WHERE k.build_id = $1 AND k.voided_at IS NULL",
        sofia,
    )
    .await;
    assert!(document_project.is_some());
    let link = app.last_link_to("sofia.garcia@example.com").await;
    assert!(link.contains("/portal/set-password/"), "{link}");
    assert_eq!(
        emails_to(&app, MAYA, "%Sofia Garcia booked automatically%").await,
        1
    );
    let page = owner
        .get(&format!(
            "/quotes/{sofia}/contract?done=countersigned-booked"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"contract-booked\""), "{page}");
    assert!(page.contains("the wedding is booked"), "{page}");
    let history = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(
        history.contains("Booked the wedding automatically, on the contract"),
        "{history}"
    );

    // A change order answered (Olivia's Rush Delivery, waiting): told by email too.
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let version: i32 = scalar(
        &app,
        "SELECT version_number FROM build_change_orders
         WHERE build_id = $1 AND status = 'Pending Approval'",
        olivia,
    )
    .await;
    let resp = owner
        .post_form(
            &format!("/quotes/{olivia}/change-orders/{version}/answer"),
            &[("answer", "approve")],
        )
        .await;
    assert!(resp.status().is_success() || resp.status().is_redirection());
    assert_eq!(
        emails_to(
            &app,
            MAYA,
            &format!("%Change order {version} of quote #{olivia} approved%")
        )
        .await,
        1
    );
    let link: String = scalar(
        &app,
        "SELECT link_url FROM notifications WHERE message LIKE 'Change order %'
         AND link_url = '/quotes/' || $1 || '/changes' ORDER BY id DESC LIMIT 1",
        olivia,
    )
    .await;
    assert_eq!(link, format!("/quotes/{olivia}/changes"));
}

#[tokio::test]
async fn with_booking_by_hand_a_fully_signed_contract_waits_for_staff() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    // Bad input: a 422 by the field, nothing changed, nothing audited.
    let resp = owner
        .post_form("/settings/contract/booking", &[("auto_book", "on_deposit")])
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"error-auto_book\""), "{html}");
    let setting = || async {
        sqlx::query_scalar::<_, String>("SELECT auto_book FROM studio_settings")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(setting().await, "on_signatures");
    // Only who may manage settings may change it.
    let sales = app.demo_login("Sales").await;
    let resp = sales
        .post_form("/settings/contract/booking", &[("auto_book", "manual")])
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(setting().await, "on_signatures");
    let resp = owner
        .post_form("/settings/contract/booking", &[("auto_book", "manual")])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(setting().await, "manual");
    let audited: (String, String) = sqlx::query_as(
        "SELECT details->>'before', details->>'after' FROM audit_log
         WHERE action = 'settings.auto_book.update'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, ("on_signatures".into(), "manual".into()));

    mateo_signs(&app, &owner, sofia).await;
    let resp = countersign(&app, &owner, sofia).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/quotes/{sofia}/contract?done=countersigned-manual")
    );
    let status: String = scalar(&app, "SELECT status::text FROM builds WHERE id = $1", sofia).await;
    assert_eq!(status, "Proposal Sent");
    let page = owner
        .get(&format!("/quotes/{sofia}/contract"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"contract-unbooked\""), "{page}");
    // Staff book it, with no reason needed now.
    let resp = owner
        .post_form(&format!("/quotes/{sofia}/book"), &[("reason", "")])
        .await;
    assert_eq!(resp.status(), 303);
    let status: String = scalar(&app, "SELECT status::text FROM builds WHERE id = $1", sofia).await;
    assert_eq!(status, "Booked");
}

#[tokio::test]
async fn a_booking_that_cannot_happen_keeps_the_signature_and_says_why() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    mateo_signs(&app, &owner, sofia).await;
    // No wedding date: booking is refused, the countersignature stands.
    sqlx::query(
        "UPDATE inquiries SET wedding_date = NULL
         WHERE id = (SELECT inquiry_id FROM builds WHERE id = $1)",
    )
    .bind(sofia)
    .execute(&app.db)
    .await
    .unwrap();
    let before = state(&app, sofia).await;
    let resp = countersign(&app, &owner, sofia).await;
    assert_eq!(resp.status(), 303);
    let after = state(&app, sofia).await;
    let signatures = |s: &str| s.rsplit(" | ").next().unwrap().parse::<i64>().unwrap();
    assert_eq!(
        signatures(&after),
        signatures(&before) + 1,
        "the signature stands"
    );
    let (b, a) = (
        before.rsplit_once(" | ").unwrap().0,
        after.rsplit_once(" | ").unwrap().0,
    );
    assert_eq!(a, b, "nothing of the booking is left");
    let note: String = scalar(
        &app,
        "SELECT auto_book_note FROM contracts WHERE build_id = $1 AND voided_at IS NULL",
        sofia,
    )
    .await;
    assert!(note.contains("no wedding date"), "{note}");
    let page = owner
        .get(&format!("/quotes/{sofia}/contract"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"auto-book-note\""), "{page}");
    assert!(page.contains("no wedding date"), "{page}");
    let told: i64 = scalar(
        &app,
        "SELECT count(*) FROM notifications
         WHERE link_url = '/quotes/' || $1 || '/contract' AND message LIKE '%could not be booked%'",
        sofia,
    )
    .await;
    assert!(told >= 1);
    let failed: i64 = scalar(
        &app,
        "SELECT count(*) FROM audit_log WHERE action = 'builds.auto_book.fail' AND entity_id = $1",
        sofia,
    )
    .await;
    assert_eq!(failed, 1);
}

#[tokio::test]
async fn an_injected_failure_while_booking_on_the_last_signature_loses_no_signature() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    mateo_signs(&app, &owner, sofia).await;
    // The invoices fail, after the client, the project and the agreement were written.
    sqlx::raw_sql(
        "CREATE FUNCTION pg_temp_fail() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
         CREATE TRIGGER fail_invoices BEFORE INSERT ON invoices
           FOR EACH ROW EXECUTE FUNCTION pg_temp_fail();",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let before = state(&app, sofia).await;
    let resp = countersign(&app, &owner, sofia).await;
    assert_eq!(resp.status(), 303);
    let after = state(&app, sofia).await;
    assert_eq!(
        after.rsplit_once(" | ").unwrap().0,
        before.rsplit_once(" | ").unwrap().0,
        "no client, project, invoice or status change"
    );
    let studio_signed: i64 = scalar(
        &app,
        "SELECT count(*) FROM contract_signatures s JOIN contracts k ON k.id = s.contract_id
         WHERE k.build_id = $1 AND s.role = 'studio'",
        sofia,
    )
    .await;
    assert_eq!(studio_signed, 1);
    let note: String = scalar(
        &app,
        "SELECT auto_book_note FROM contracts WHERE build_id = $1 AND voided_at IS NULL",
        sofia,
    )
    .await;
    assert!(note.contains("unexpected error"), "{note}");
    assert!(!note.contains("injected"), "no internals shown: {note}");
    // Once fixed, staff book it by hand.
    sqlx::raw_sql("DROP TRIGGER fail_invoices ON invoices")
        .execute(&app.db)
        .await
        .unwrap();
    let resp = owner
        .post_form(&format!("/quotes/{sofia}/book"), &[("reason", "")])
        .await;
    assert_eq!(resp.status(), 303);
}

/// The csrf token of a portal page.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_partner_signs_their_own_contract_in_the_portal_and_no_one_elses() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    // Sofia's contract made again (the one she signed is void), so she signs it anew.
    let resp = owner
        .post_form(
            &format!("/quotes/{sofia}/contract/void"),
            &[("reason", "Wrong venue in the text")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let resp = owner
        .post_form(&format!("/quotes/{sofia}/contract"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let (contract, old): (i32, i32) = sqlx::query_as(
        "SELECT (SELECT id FROM contracts WHERE build_id = $1 AND voided_at IS NULL),
                (SELECT id FROM contracts WHERE build_id = $1 AND voided_at IS NOT NULL)",
    )
    .bind(sofia)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let theirs: i32 = scalar(
        &app,
        "SELECT id FROM contracts WHERE build_id = $1 AND voided_at IS NULL",
        olivia,
    )
    .await;
    // Sofia has a portal login (her client record points at her inquiry).
    let client: i32 = scalar(
        &app,
        "INSERT INTO clients (contact_id, inquiry_id)
         SELECT contact_id, inquiry_id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         WHERE b.id = $1 RETURNING id",
        sofia,
    )
    .await;
    let couple = Couple {
        client_id: client,
        email: "sofia.garcia@example.com".into(),
        records: vec![],
    };
    let portal = portal_login(&app, &couple, "sofia's portal password").await;
    let get = |path: String| {
        let portal = &portal;
        let app = &app;
        async move { portal.get(app.url(&path)).send().await.unwrap() }
    };
    let home = get("/portal".into()).await.text().await.unwrap();
    assert!(
        home.contains(&format!("href=\"/portal/contracts/{contract}\"")),
        "{home}"
    );
    assert!(home.contains("Waiting for your signature"), "{home}");
    let page = get(format!("/portal/contracts/{contract}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"sign-form\""), "{page}");
    let csrf = csrf_of(&page);
    let hash = hash_of(&app, sofia).await;
    let count = |id: i32| {
        let app = &app;
        async move {
            scalar::<i64>(
                app,
                "SELECT count(*) FROM contract_signatures WHERE contract_id = $1",
                id,
            )
            .await
        }
    };
    let sign = |id: i32, fields: Vec<(&'static str, String)>| {
        let portal = &portal;
        let app = &app;
        async move {
            portal
                .post(app.url(&format!("/portal/contracts/{id}/sign")))
                .header("user-agent", "SofiaTablet/1.0")
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let good = |csrf: &str, hash: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("name", "Sofia Garcia".to_string()),
            ("consent", "yes".to_string()),
            ("text_sha256", hash.to_string()),
        ]
    };
    // Another couple's contract, and the void one: nothing signed.
    let resp = sign(theirs, good(&csrf, &hash)).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        get(format!("/portal/contracts/{theirs}")).await.status(),
        404
    );
    // The contract as a PDF, for her own contract only.
    assert!(
        page.contains(&format!("href=\"/portal/contracts/{contract}/pdf\"")),
        "{page}"
    );
    let pdf = get(format!("/portal/contracts/{contract}/pdf")).await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    assert_eq!(
        get(format!("/portal/contracts/{theirs}/pdf"))
            .await
            .status(),
        404
    );
    let (olivia_before, old_before) = (count(theirs).await, count(old).await);
    let resp = sign(old, good(&csrf, &hash)).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(
        (count(theirs).await, count(old).await),
        (olivia_before, old_before)
    );
    // Without the consent, or without the CSRF token: refused, nothing signed.
    let mut no_consent = good(&csrf, &hash);
    no_consent.retain(|f| f.0 != "consent");
    let resp = sign(contract, no_consent).await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"consent-error\""));
    let resp = sign(contract, good("wrong", &hash)).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert_eq!(count(contract).await, 0);
    // Signed: the same record as by link.
    let resp = sign(contract, good(&csrf, &hash)).await;
    assert_eq!(resp.status(), 303);
    let row: (String, String, String, String, bool, i32) = sqlx::query_as(
        "SELECT s.signer_name, s.email, s.user_agent, s.text_sha256, s.consent, g.position
         FROM contract_signatures s JOIN contract_signers g ON g.id = s.signer_id
         WHERE s.contract_id = $1",
    )
    .bind(contract)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "Sofia Garcia".into(),
            "sofia.garcia@example.com".into(),
            "SofiaTablet/1.0".into(),
            hash.clone(),
            true,
            1
        )
    );
    // Twice: a 409, still one signature.
    let resp = sign(contract, good(&csrf, &hash)).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(count(contract).await, 1);
    let home = get("/portal".into()).await.text().await.unwrap();
    assert!(home.contains("You signed it on"), "{home}");

    // The studio countersigns last, which books it; the portal shows the signed PDF.
    let resp = countersign(&app, &owner, sofia).await;
    assert_eq!(resp.status(), 303);
    let document: i32 = scalar(
        &app,
        "SELECT document_id FROM contracts WHERE id = $1",
        contract,
    )
    .await;
    let home = get("/portal".into()).await.text().await.unwrap();
    assert!(
        home.contains(&format!("href=\"/portal/documents/{document}\"")),
        "{home}"
    );
    assert!(home.contains("Sofia Garcia wedding"), "{home}");
}

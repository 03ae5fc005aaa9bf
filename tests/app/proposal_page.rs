//! The couple's proposal looks like the studio's own: its logo, welcome and terms (Settings >
//! Proposal page), each line in the catalog's words, and the tax, which follows into the
//! payment schedule, the contract and the invoices booking issues.
use crate::helpers::{Session, TestApp};
use reqwest::multipart::{Form, Part};
use rust_decimal::Decimal;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// What the page's form sends: the texts and, when given, a logo file.
async fn save(
    s: &Session,
    intro: &str,
    terms: &str,
    logo: Option<(&[u8], &str)>,
    remove: bool,
) -> reqwest::Response {
    let mut form = Form::new()
        .text("intro", intro.to_string())
        .text("terms", terms.to_string());
    if let Some((data, name)) = logo {
        form = form.part(
            "logo",
            Part::bytes(data.to_vec()).file_name(name.to_string()),
        );
    }
    if remove {
        form = form.text("remove_logo", "1");
    }
    s.client
        .post(s.url(&format!("/settings/proposal?csrf={}", s.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn settings_row(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ', proposal_intro, proposal_terms, md5(logo), logo_type,
                logo_updated_at) FROM studio_settings",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Ava's quote sent again (version 2): its id, price before tax and the couple's link.
async fn send_ava(app: &TestApp) -> (i32, Decimal, String) {
    let (build, live): (i32, Decimal) = sqlx::query_as(
        "SELECT b.id, b.live_price FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let sales = app.demo_login("Sales").await;
    let html = sales
        .post_form(&format!("/quotes/{build}/proposal"), &[])
        .await
        .text()
        .await
        .unwrap();
    let link = html
        .split("id=\"share-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next();
    (build, live, link.unwrap().to_string())
}

#[tokio::test]
async fn the_studio_sets_its_logo_welcome_and_terms_and_bad_files_change_nothing() {
    let app = TestApp::demo().await;
    let owner = app.owner().await;
    // Reached from Settings; the demo studio has its logo, served as an image.
    let index = owner.get("/settings").await.text().await.unwrap();
    assert!(index.contains("href=\"/settings/proposal\""), "{index}");
    let page = owner.get("/settings/proposal").await.text().await.unwrap();
    assert!(
        page.contains("class=\"brand-logo logo-preview\" src=\"/brand/logo?v="),
        "{page}"
    );
    let logo = app.client.get(app.url("/brand/logo")).send().await.unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.headers()["x-content-type-options"], "nosniff");

    let before = settings_row(&app).await;
    // An SVG (it can carry scripts) and a text file are refused by the field; nothing changes,
    // not even the texts sent with them, and what was typed is kept.
    for (data, name) in [
        (
            &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"[..],
            "logo.svg",
        ),
        (&b"hello"[..], "logo.txt"),
    ] {
        let resp = save(&owner, "New welcome", "", Some((data, name)), false).await;
        assert_eq!(resp.status(), 422);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("id=\"error-logo\" role=\"alert\">choose a PNG, JPEG, WebP or GIF image"),
            "{html}"
        );
        assert!(html.contains(">New welcome</textarea>"), "{html}");
        assert_eq!(settings_row(&app).await, before);
    }
    // Too big: said with its size.
    let mut big = PNG.to_vec();
    big.resize(600 * 1024, 0);
    let resp = save(&owner, "", "", Some((&big, "big.png")), false).await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("this image is 600 KB; the logo can be at most 512 KB")
    );
    let long = "x".repeat(4_001);
    let resp = save(&owner, &long, "", None, false).await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("id=\"error-intro\" role=\"alert\">keep it under 4000 characters")
    );
    assert_eq!(settings_row(&app).await, before);

    // Removed: the page says so and the logo is gone.
    assert_eq!(save(&owner, "Hello", "", None, true).await.status(), 303);
    assert_eq!(
        app.client
            .get(app.url("/brand/logo"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let page = owner.get("/settings/proposal").await.text().await.unwrap();
    assert!(page.contains("No logo yet"), "{page}");
    // A new one, kept when the texts are saved again without a file.
    assert_eq!(
        save(&owner, "Hello", "", Some((PNG, "logo.png")), false)
            .await
            .status(),
        303
    );
    assert_eq!(
        save(&owner, "Hello again", "", None, false).await.status(),
        303
    );
    let served = app.client.get(app.url("/brand/logo")).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    // Audited in words.
    let audit = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(audit.contains("Changed the proposal page"), "{audit}");
}

#[tokio::test]
async fn the_couple_reads_the_studios_words_and_the_tax_follows_to_the_invoices() {
    let app = TestApp::demo().await;
    let owner = app.owner().await;
    let terms = "## Cancellation\nThe deposit is **non-refundable**.";
    assert_eq!(
        save(&owner, "We loved meeting you.", terms, None, false)
            .await
            .status(),
        303
    );
    sqlx::query("UPDATE studio_settings SET tax_rate_percent = 8.25")
        .execute(&app.db)
        .await
        .unwrap();
    // The keepsake box is sold without tax: the tax is on the other lines only.
    let usb: i32 =
        sqlx::query_scalar("SELECT id FROM billable_items WHERE name = 'Keepsake USB Box'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let catalog = owner
        .post_form(
            &format!("/settings/catalog/billable-items/{usb}"),
            &[
                ("name", "Keepsake USB Box"),
                ("description", "Engraved wooden box with a USB drive"),
                ("category", "Products"),
                ("price", "75.00"),
                ("pricing_type", "Unit"),
                ("is_active", "true"),
            ],
        )
        .await;
    assert_eq!(catalog.status(), 303);
    // Ava's quote goes out again (version 2) with the tax of the day.
    let (build, live, link) = send_ava(&app).await;
    let untaxed: Decimal = sqlx::query_scalar(
        "SELECT sum(l.quantity * l.price_at_time_of_add) FROM build_billable_items l
         JOIN billable_items b ON b.id = l.billable_item_id
         WHERE l.build_id = $1 AND NOT b.is_taxable",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(untaxed > Decimal::ZERO);
    let sales = app.demo_login("Sales").await;
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The studio's own: logo, welcome, terms above the acceptance.
    assert!(
        page.contains("<img class=\"brand-logo\" src=\"/brand/logo?v="),
        "{page}"
    );
    assert!(
        page.contains("id=\"intro\"><p>We loved meeting you.</p>"),
        "{page}"
    );
    assert!(page.contains("<h3>Cancellation</h3>"), "{page}");
    assert!(page.contains("<strong>non-refundable</strong>"), "{page}");
    assert!(page.find("id=\"terms\"").unwrap() < page.find("action=\"/proposal/").unwrap());
    // Each line in the catalog's words: the scene, the film and its style, the add-on; a
    // description the line above already gave is not repeated.
    for words in [
        "Processional, vows, rings and recessional",
        "A 4-6 minute cinematic film of the day set to music. Cinematic: Graded, music-driven, slow motion and sound design.",
        "Engraved wooden box with a USB drive",
    ] {
        assert!(
            page.contains(&format!("<span class=\"line-about\">{words}</span>")),
            "{words}: {page}"
        );
    }
    assert_eq!(
        page.matches("A 4-6 minute cinematic film").count(),
        1,
        "{page}"
    );
    // Subtotal, 8.25% tax to the cent, and the total with it; the schedule adds up to it.
    let tax = ((live - untaxed) * Decimal::new(825, 4))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let money = |d: Decimal| projectflo::money::format(d, "USD");
    assert!(
        page.contains(&format!("id=\"proposal-subtotal\">{}<", money(live))),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "Tax (8.25%)</dt><dd id=\"proposal-tax\">{}<",
            money(tax)
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("id=\"proposal-total\">{}<", money(live + tax))),
        "{page}"
    );
    assert!(!page.contains("id=\"no-tax\""));
    assert!(page.contains("Keepsake USB Box (no tax)"), "{page}");
    let schedule: Decimal = page
        .split("id=\"schedule\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap()
        .split("class=\"money\">")
        .skip(1)
        .map(|a| {
            a.split('<')
                .next()
                .unwrap()
                .replace(['$', ','], "")
                .parse::<Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(schedule, live + tax);

    // Accepted, then booked: the invoices carry the tax the couple accepted, even though the
    // studio's rate changed since.
    let accepted = app
        .client
        .post(format!("{link}/accept"))
        .form(&[("name", "Ava Thompson"), ("version", "2")])
        .send()
        .await
        .unwrap();
    assert!(accepted.status().is_success() || accepted.status().is_redirection());
    sqlx::query("UPDATE studio_settings SET tax_rate_percent = 20")
        .execute(&app.db)
        .await
        .unwrap();
    let contract: String = sqlx::query_scalar("SELECT body FROM contracts WHERE build_id = $1")
        .bind(build)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        contract.contains(&format!(
            "{}, including {} tax (8.25%)",
            money(live + tax),
            money(tax)
        )),
        "{contract}"
    );
    let booked = sales
        .post_form(
            &format!("/quotes/{build}/book"),
            &[("reason", "Signed on paper at the studio")],
        )
        .await;
    assert_eq!(booked.status(), 303);
    let (total, taxes): (Decimal, Decimal) = sqlx::query_as(
        "SELECT sum(total_amount), sum(tax_amount) FROM invoices
         WHERE project_id = (SELECT project_id FROM builds WHERE id = $1)",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((total, taxes), (live + tax, tax));
}

#[tokio::test]
async fn with_no_tax_the_couple_is_told_none_is_added() {
    let app = TestApp::demo().await;
    let (_, _, link) = send_ava(&app).await;
    let page = app
        .client
        .get(link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"no-tax\">No sales tax is added to this total."),
        "{page}"
    );
    assert!(!page.contains("id=\"proposal-tax\""));
    // The demo studio's welcome and terms.
    assert!(page.contains("We film days the way they felt"), "{page}");
    assert!(page.contains("<h3>Booking</h3>"), "{page}");
}

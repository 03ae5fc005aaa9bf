//! The whole of Phase 4 in two browsers, as the couple and the studio would walk it: the studio
//! sends the proposal, the couple accepts it, both partners sign by their own links, the studio
//! countersigns and the setting books the wedding; the couple finds the signed contract in the
//! portal; then the studio proposes a change, the couple approves it in the portal, and the
//! approved total and the history follow.
use crate::browser::{browser, click, login, type_in, wait_for_path, wait_text};
use crate::helpers::TestApp;
use fantoccini::{Client, Locator};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};

/// Wait (bounded) until the element is there and its text contains `want`; returns the text.
async fn wait_for_text(c: &Client, css: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.ok(),
            Err(_) => None,
        };
        if let Some(now) = now.as_ref().filter(|t| t.contains(want)) {
            return now.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{css} says {now:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The couple's path of a link the studio emailed them.
fn path_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    format!(
        "{}{}",
        url.path(),
        url.query().map_or(String::new(), |q| format!("?{q}"))
    )
}

#[tokio::test]
async fn a_couple_and_the_studio_walk_from_proposal_to_booked_wedding_and_a_change() {
    let app = TestApp::demo().await;
    let Some(studio) = browser().await else {
        return;
    };
    let Some(couple) = browser().await else {
        return;
    };
    let (build, inquiry): (i32, i32) = sqlx::query_as(
        "SELECT b.id, i.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let quote = format!("/quotes/{build}");
    login(
        &studio,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;

    // The studio sends the proposal from the quote builder: the couple's link shows in place.
    studio.goto(&app.url(&quote)).await.unwrap();
    click(&studio, Locator::Id("send-proposal")).await;
    let link = wait_text(&studio, Locator::Id("share-link")).await;
    assert_eq!(
        app.last_link_to("ava.t@example.com").await,
        link,
        "emailed too"
    );

    // The couple opens it and accepts in their typed name; the thanks is where they look.
    couple.goto(&link).await.unwrap();
    let total = wait_text(&couple, Locator::Id("proposal-total")).await;
    type_in(&couple, Locator::Id("name"), "Ava Thompson\u{E007}").await;
    let thanks = wait_for_text(&couple, "#accepted", "Accepted by Ava Thompson").await;
    assert!(thanks.contains("Thank you"), "{thanks}");
    let focused = couple
        .active_element()
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap();
    assert_eq!(focused.as_deref(), Some("accepted"));

    // The studio adds Ava's partner as a second signer before anyone signs.
    studio
        .goto(&app.url(&format!("{quote}/contract")))
        .await
        .unwrap();
    type_in(&studio, Locator::Id("partner-name"), "Noah Bennett").await;
    type_in(
        &studio,
        Locator::Id("partner-email"),
        "noah.bennett@example.com",
    )
    .await;
    click(&studio, Locator::Id("add-partner")).await;
    wait_for_text(&studio, "#signers", "Noah Bennett").await;

    // Each partner signs by the link in their own email.
    for (email, name) in [
        ("ava.t@example.com", "Ava Thompson"),
        ("noah.bennett@example.com", "Noah Bennett"),
    ] {
        let link = app.last_link_to(email).await;
        assert!(link.contains("/contract/"), "{email}: {link}");
        couple.goto(&app.url(&path_of(&link))).await.unwrap();
        type_in(&couple, Locator::Id("name"), name).await;
        click(&couple, Locator::Id("consent")).await;
        click(&couple, Locator::Id("sign-button")).await;
        wait_for_text(&couple, "#signed", "You signed this contract").await;
    }

    // The studio countersigns; the setting (on all signatures) books the wedding.
    studio
        .goto(&app.url(&format!("{quote}/contract")))
        .await
        .unwrap();
    click(&studio, Locator::Id("consent")).await;
    click(&studio, Locator::Id("countersign")).await;
    wait_for_text(&studio, "#countersigned", "Countersigned by").await;
    let (status, inquiry_status, approved, invoices, pdfs): (String, String, Decimal, i64, i64) =
        sqlx::query_as(
            "SELECT b.status::text, i.status::text, b.approved_price,
                    (SELECT count(*) FROM invoices WHERE project_id = b.project_id),
                    (SELECT count(*) FROM documents WHERE project_id = b.project_id
                       AND file_name LIKE '%.pdf')
             FROM builds b JOIN inquiries i ON i.id = b.inquiry_id WHERE b.id = $1",
        )
        .bind(build)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        (status.as_str(), inquiry_status.as_str()),
        ("Booked", "Booked")
    );
    assert_eq!(projectflo::money::format(approved, "USD"), total);
    assert_eq!(
        (invoices, pdfs),
        (2, 1),
        "the schedule's invoices and the signed PDF"
    );
    studio
        .goto(&app.url(&format!("/leads/{inquiry}")))
        .await
        .unwrap();
    let lead = wait_text(&studio, Locator::Css("main")).await;
    assert!(lead.contains("Booked"), "{lead}");

    // The couple was invited to the portal at booking: they set a password, log in and find
    // the signed contract among their documents.
    let invite = app.last_link_to("ava.t@example.com").await;
    assert!(invite.contains("set-password"), "{invite}");
    couple.goto(&invite).await.unwrap();
    type_in(&couple, Locator::Id("password"), "our wedding film 2027").await;
    type_in(
        &couple,
        Locator::Id("confirm"),
        "our wedding film 2027\u{E007}",
    )
    .await;
    wait_for_path(&couple, "/portal/login").await;
    type_in(&couple, Locator::Id("email"), "ava.t@example.com").await;
    type_in(
        &couple,
        Locator::Id("password"),
        "our wedding film 2027\u{E007}",
    )
    .await;
    wait_for_path(&couple, "/portal").await;
    click(&couple, Locator::Css("a[href^='/portal/documents/']")).await;
    let download = couple
        .wait()
        .for_element(Locator::Id("download"))
        .await
        .unwrap();
    assert!(
        download
            .attr("href")
            .await
            .unwrap()
            .unwrap()
            .starts_with("/portal/documents/")
    );

    // After booking the studio changes the quote (a second keepsake box) and proposes it
    // with 10% off the change.
    let box_id: i32 =
        sqlx::query_scalar("SELECT id FROM billable_items WHERE name = 'Keepsake USB Box'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    studio.goto(&app.url(&quote)).await.unwrap();
    studio
        .find(Locator::Id("add-item"))
        .await
        .unwrap()
        .select_by_value(&box_id.to_string())
        .await
        .unwrap();
    click(&studio, Locator::Id("add-item-button")).await;
    wait_for_text(&studio, "#changed-since-approved", "").await;
    type_in(
        &studio,
        Locator::Id("change-description"),
        "A keepsake box for the grandparents",
    )
    .await;
    type_in(&studio, Locator::Id("change-discount"), "10").await;
    type_in(&studio, Locator::Id("change-reason"), "Returning couple").await;
    click(&studio, Locator::Id("propose-change")).await;
    wait_for_text(&studio, "#pending-change", "").await;

    // The couple approves it in the portal, from their quote.
    couple
        .goto(&app.url(&format!("/portal/quotes/{build}")))
        .await
        .unwrap();
    click(&couple, Locator::Id("next-step")).await;
    click(&couple, Locator::Id("approve-2")).await;
    wait_for_text(&couple, "#answered", "Approved").await;

    // The approved total follows to the cent ($75.00 less 10% = $67.50 more), and the history
    // shows both versions with the running total.
    let new_total = approved + Decimal::new(6750, 2);
    let now: Decimal = sqlx::query_scalar("SELECT approved_price FROM builds WHERE id = $1")
        .bind(build)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(now, new_total);
    studio
        .goto(&app.url(&format!("{quote}/changes")))
        .await
        .unwrap();
    let history = wait_text(&studio, Locator::Css("main")).await;
    for words in [
        "Original agreement",
        "A keepsake box for the grandparents",
        &projectflo::money::format(new_total, "USD"),
    ] {
        assert!(history.contains(words), "{words}: {history}");
    }
    studio.close().await.unwrap();
    couple.close().await.unwrap();
}

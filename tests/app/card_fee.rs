//! The card fee estimate of the profitability report is a studio setting: a field on
//! Settings > Studio checked by the field, and two optional fields of the API (left out:
//! unchanged).
use crate::helpers::{TestApp, scalar_of};

const FEES: &str = "SELECT card_fee_percent::text || ' ' || card_fee_fixed::text
                    FROM studio_settings WHERE $1 = $1";

#[tokio::test]
async fn the_card_fee_is_set_on_the_studio_settings_and_used_by_the_profit_report() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let page = owner.get("/settings/studio").await.text().await.unwrap();
    assert!(page.contains("name=\"card_fee_percent\""), "{page}");
    assert!(page.contains("name=\"card_fee_fixed\""), "{page}");
    assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "2.90 0.30");

    let phases: String = scalar_of(
        &app,
        "SELECT array_to_string(task_phase_order, E'\\n') FROM studio_settings WHERE $1 = $1",
        0,
    )
    .await;
    let mut form = vec![
        ("studio_name", "Golden Hour Films"),
        ("currency_code", "USD"),
        ("time_zone", "America/Los_Angeles"),
        ("editing_hourly_rate", "85"),
        ("tax_rate_percent", "0"),
        ("deposit_percent", "30"),
        ("balance_due_days_before_wedding", "30"),
        ("invoice_prefix", "GHF-"),
        ("task_phase_order", phases.as_str()),
        ("proposal_valid_days", "30"),
        ("card_fee_percent", "3.5"),
        ("card_fee_fixed", "0.25"),
    ];
    for (i, bad, message) in [
        (10, "101", "enter a percentage from 0 to 100"),
        (10, "-1", "enter a percentage from 0 to 100"),
        (10, "2.999", "enter a percentage from 0 to 100"),
        (10, "", "enter a percentage from 0 to 100"),
        (
            11,
            "1000.01",
            "enter an amount from 0 to 1000 with at most 2 decimals",
        ),
        (
            11,
            "thirty cents",
            "enter an amount from 0 to 1000 with at most 2 decimals",
        ),
    ] {
        let mut f = form.clone();
        f[i].1 = bad;
        let resp = owner.post_form("/settings/studio", &f).await;
        assert_eq!(resp.status(), 422, "{bad}");
        let html = resp.text().await.unwrap();
        let field = f[i].0;
        assert!(
            html.contains(&format!("id=\"error-{field}\"")) && html.contains(message),
            "{bad}"
        );
        assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "2.90 0.30");
    }
    let resp = owner.post_form("/settings/studio", &form).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "3.50 0.25");
    // A form without the fields (an older page) keeps them.
    form.truncate(10);
    let resp = owner.post_form("/settings/studio", &form).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "3.50 0.25");

    // The profitability report says the rate it used.
    let report = owner.get("/reports/profit").await.text().await.unwrap();
    assert!(report.contains("3.50% + $0.25 a card payment"), "{report}");

    // The API: shown as text, optional (left out or null: unchanged), checked by the field.
    let api: serde_json::Value = owner
        .get("/api/v1/studio-settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["card_fee_percent"], "3.50");
    assert_eq!(api["card_fee_fixed"], "0.25");
    let mut body = api.clone();
    let o = body.as_object_mut().unwrap();
    o.remove("card_fee_percent");
    o.insert("card_fee_fixed".into(), serde_json::Value::Null);
    let resp = owner.put_json("/api/v1/studio-settings", &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "3.50 0.25");
    let mut body = api.clone();
    body["card_fee_percent"] = serde_json::json!(4);
    body["card_fee_fixed"] = serde_json::json!("1000");
    let resp = owner.put_json("/api/v1/studio-settings", &body).await;
    assert_eq!(resp.status(), 200);
    let saved: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(saved["card_fee_percent"], "4.00");
    assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "4.00 1000.00");
    body["card_fee_percent"] = serde_json::json!("100.5");
    let resp = owner.put_json("/api/v1/studio-settings", &body).await;
    assert_eq!(resp.status(), 422);
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert!(
        problem.to_string().contains("card_fee_percent"),
        "{problem}"
    );
    assert_eq!(scalar_of::<String>(&app, FEES, 0).await, "4.00 1000.00");
}

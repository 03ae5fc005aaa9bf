//! The demo studio: a believable wedding videography business to explore ProjectFlo with.
//! Idempotent: the load is recorded in `seed_history` in the same transaction, so a second run
//! (or two at once) loads nothing twice.
use crate::clock::Clock;
use anyhow::Result;
use sqlx::ConnectOptions;
use sqlx::PgPool;

mod billing;
mod builds;
mod delivery;
mod postproduction;
mod production;
mod reports;
mod workflows;

use builds::{DemoQuote, LEAD, demo_build, id};

const DEMO_SQL: &str = include_str!("seed/demo.sql");
const SCALE_SQL: &str = include_str!("seed/scale.sql");
const STUDIO_SQL: &str = include_str!("seed/studio.sql");
/// The way each seeded inquiry came through the stages (run after each of the scripts).
const STAGES_SQL: &str = include_str!("seed/stages.sql");
/// The demo studio's logo (made for it; 480 x 128 pixels).
const DEMO_LOGO: &[u8] = include_bytes!("seed/demo-logo.png");

/// Add `inquiries` inquiries (and a quote for every fifth) to measure a studio with years of
/// history: `projectflo seed --scale N`. Each run adds as many again.
pub async fn scale(pool: &PgPool, clock: Clock, inquiries: i32) -> Result<()> {
    let mut tx = pool.begin().await?;
    set_clock(&mut tx, clock).await?;
    sqlx::query(SCALE_SQL)
        .bind(inquiries)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(STAGES_SQL).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The bookings a year of the synthetic studio unless told otherwise: a very busy studio (ten
/// years of it is about 50,000 projects and 2 million tasks).
pub const BOOKINGS_PER_YEAR: i32 = 5_000;

/// `projectflo seed --scale N`: a synthetic studio of `years` years taking `per_year` bookings
/// a year (`studio.sql`: leads by source, conversion, films per booking, tasks per film, hours
/// at each editor's speed, crews, invoices and payments, expenses, time entries, marketing
/// spend), on top of the demo studio's catalog and team, dated by the clock. Set-based: one
/// statement per table whatever the size. Each run adds another studio's worth.
pub async fn studio(pool: &PgPool, clock: Clock, years: i32, per_year: i32) -> Result<()> {
    demo_at(pool, clock).await?;
    // A connection of its own that does not log the script as a slow statement (it is one).
    let options = (*pool.connect_options())
        .clone()
        .log_slow_statements(tracing::log::LevelFilter::Off, std::time::Duration::ZERO);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options).await?;
    let mut tx = sqlx::Connection::begin(&mut conn).await?;
    set_clock(&mut tx, clock).await?;
    sqlx::query(
        "SELECT set_config('projectflo.scale_years', $1, true),
                set_config('projectflo.scale_per_year', $2, true)",
    )
    .bind(years.to_string())
    .bind(per_year.to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(STUDIO_SQL).execute(&mut *tx).await?;
    sqlx::raw_sql(STAGES_SQL).execute(&mut *tx).await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    Ok(())
}

/// The seed's clock for the SQL scripts (`projectflo.now`), for this transaction only.
async fn set_clock(tx: &mut sqlx::PgConnection, clock: Clock) -> Result<()> {
    sqlx::query("SELECT set_config('projectflo.now', $1, true)")
        .bind(clock.now().to_rfc3339())
        .execute(tx)
        .await?;
    Ok(())
}

/// Load the demo studio, dated around now. Returns false when it was already loaded.
pub async fn demo(pool: &PgPool) -> Result<bool> {
    demo_at(pool, Clock::System).await
}

/// Load the demo studio with its dates around the clock's instant: "yesterday" and "in 90
/// days" are the studio's local dates then.
/// Write the demo's small files (films, receipts) under the data dir where they are missing.
pub async fn demo_files(pool: &PgPool, storage: &crate::storage::Storage) -> Result<()> {
    delivery::files(pool, storage).await
}

pub async fn demo_at(pool: &PgPool, clock: Clock) -> Result<bool> {
    let mut tx = pool.begin().await?;
    set_clock(&mut tx, clock).await?;
    let fresh: Option<String> = sqlx::query_scalar(
        "INSERT INTO seed_history (name) VALUES ('demo') ON CONFLICT DO NOTHING RETURNING name",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if fresh.is_none() {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::raw_sql(DEMO_SQL).execute(&mut *tx).await?;
    sqlx::query(
        "UPDATE studio_settings SET logo = $1, logo_type = 'image/png',
                logo_updated_at = pg_temp.demo_now()",
    )
    .bind(DEMO_LOGO)
    .execute(&mut *tx)
    .await?;
    for (email, _) in DEMO_STAFF {
        let hash = crate::crypto::hash_password(DEMO_PASSWORD.to_string()).await?;
        sqlx::query(
            "INSERT INTO staff_credentials (contributor_id, password_hash, password_changed_at)
             SELECT co.id, $2, pg_temp.demo_now()
             FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1
             ON CONFLICT DO NOTHING",
        )
        .bind(email)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    demo_builds(&mut tx, clock).await?;
    demo_calendar(&mut tx, clock).await?;
    // What the delivered weddings told the team (bookings, payments, assignments, months ago)
    // has long been read.
    let before: i32 = sqlx::query_scalar("SELECT COALESCE(max(id), 0) FROM notifications")
        .fetch_one(&mut *tx)
        .await?;
    delivery::demo(&mut tx, clock).await?;
    sqlx::query("UPDATE notifications SET is_read = true WHERE id > $1")
        .bind(before)
        .execute(&mut *tx)
        .await?;
    reports::demo(&mut tx, clock).await?;
    workflows::demo(&mut tx, clock).await?;
    // The demo's emails (queued by the stories above, months ago) went out back then: none is
    // left in the outbox for the sender to send now.
    sqlx::query(
        "UPDATE email_outbox SET sent_at = pg_temp.demo_now(), created_at = pg_temp.demo_now(),
                body = NULL, attempts = 1
         WHERE sent_at IS NULL",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(STAGES_SQL).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// The team calendar around the demo's dates: who can fill which operator type, Sam's weekly
/// day off, the studio's yearly holiday for Maya, Leo's week of leave, a personal event, and
/// the crew of Olivia's booked wedding (Maya on the ceremony, Sam on the reception), made
/// through the calendar's own functions.
async fn demo_calendar(tx: &mut sqlx::PgConnection, clock: Clock) -> Result<()> {
    use crate::calendar::events::{self, EventType, NewEvent};
    use crate::calendar::{crew, recurrences, rules};
    use chrono::{Datelike, Duration};
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let tz = crate::studio::Studio::load(tx)
        .await
        .map_err(err)?
        .time_zone;
    let (today, now) = (clock.today(&tz), clock.now());
    let person = async |tx: &mut sqlx::PgConnection, email: &str| -> Result<i32> {
        Ok(sqlx::query_scalar(
            "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1",
        )
        .bind(email)
        .fetch_one(tx)
        .await?)
    };
    let maya = person(tx, "maya@goldenhour.example").await?;
    let sam = person(tx, "sam@goldenhour.example").await?;
    let leo = person(tx, "leo@goldenhour.example").await?;
    sqlx::query(
        "INSERT INTO contributor_operator_types (contributor_id, operator_type_id)
         SELECT v.who, o.id FROM (VALUES ($1, 'Lead Videographer'), ($2, 'Lead Videographer'),
                                         ($2, 'Second Shooter'), ($2, 'Drone Pilot')) v(who, name)
         JOIN operator_types o ON o.name = v.name",
    )
    .bind(maya)
    .bind(sam)
    .execute(&mut *tx)
    .await?;
    let project: i32 = sqlx::query_scalar(
        "SELECT p.id FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&mut *tx)
    .await?;
    let p = crew::project(tx, project).await.map_err(err)?;
    let wedding = p.wedding_date.unwrap_or(today);
    // Sam's day off: every week, two days after the wedding's weekday (never the wedding day).
    let off = today - Duration::days(28);
    let shift = (wedding.weekday().num_days_from_monday() + 2) % 7;
    let off = off
        + Duration::days(
            (shift as i64 - off.weekday().num_days_from_monday() as i64).rem_euclid(7),
        );
    let rule = |who, title: &str, event_type, freq, first_day| recurrences::NewRule {
        contributor_id: who,
        title: title.into(),
        event_type,
        freq,
        first_day,
        until_day: None,
    };
    let weekly = rule(sam, "Day off", EventType::Absence, rules::Freq::Weekly, off);
    recurrences::create(tx, &tz, maya, &weekly, (today, now))
        .await
        .map_err(err)?;
    let holiday_day = today + Duration::days(17);
    let yearly = rule(
        maya,
        "Studio holiday",
        EventType::Holiday,
        rules::Freq::Yearly,
        holiday_day,
    );
    recurrences::create(tx, &tz, maya, &yearly, (today, now))
        .await
        .map_err(err)?;
    let leave = rules::all_day_range(today + Duration::days(5), today + Duration::days(9), &tz);
    let at = |d: chrono::NaiveDate, h: u32| {
        rules::local_instant(d.and_hms_opt(h, 0, 0).unwrap_or_default(), &tz).unwrap_or(now)
    };
    let one = |who, title: &str, event_type, (start, end), all_day| NewEvent {
        contributor_id: who,
        project_id: None,
        coverage_assignment_id: None,
        recurrence_id: None,
        title: title.into(),
        event_type,
        start,
        end,
        all_day,
        description: None,
    };
    for e in [
        one(leo, "Annual leave", EventType::Absence, leave, true),
        one(
            maya,
            "Venue walk-through, Cavallo Point",
            EventType::Personal,
            (
                at(today + Duration::days(3), 14),
                at(today + Duration::days(3), 16),
            ),
            false,
        ),
        one(
            sam,
            "Dentist",
            EventType::Absence,
            (
                at(today + Duration::days(1), 9),
                at(today + Duration::days(1), 11),
            ),
            false,
        ),
    ] {
        if events::in_the_way(
            tx,
            e.contributor_id,
            (e.start, e.end),
            events::clashes_with(e.event_type),
            None,
        )
        .await
        .map_err(err)?
        .is_none()
        {
            events::create(tx, &tz, maya, &e, now).await.map_err(err)?;
        }
    }
    let lines = crew::lines(tx, &p, &tz).await.map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        let who = if i == 0 { maya } else { sam };
        crew::assign(tx, &tz, maya, (project, line.id, who), now)
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// A demo quote: the couple's email, coverage (scene, operator, quantity, hours), films and
/// add-ons (item, quantity, note).
const QUOTES: [DemoQuote; 3] = [
    // Ava: Highlight Film and Ceremony Edit, ceremony, reception and drone coverage, a USB box.
    DemoQuote {
        email: "ava.t@example.com",
        coverage: &[
            ("Ceremony", LEAD, 2, None),
            ("Reception", LEAD, 1, Some("5")),
            ("Drone Aerials", "Drone Pilot", 1, None),
        ],
        films: &["Highlight Film", "Ceremony Edit"],
        add_ons: &[("Keepsake USB Box", 2, "One for each family")],
    },
    // Sofia: a Feature Film of the reception.
    DemoQuote {
        email: "sofia.garcia@example.com",
        coverage: &[("Reception", LEAD, 1, None)],
        films: &["Feature Film"],
        add_ons: &[],
    },
    // Olivia: a documentary Feature Film of the ceremony and reception; booked.
    DemoQuote {
        email: "olivia.nguyen@example.com",
        coverage: &[
            ("Ceremony", LEAD, 1, None),
            ("Reception", LEAD, 1, Some("6")),
        ],
        films: &["Feature Film", "Teaser"],
        add_ons: &[("Keepsake USB Box", 1, "")],
    },
];

/// Two quotes out with couples, built through the same code as the quote builder and sent as
/// proposal versions ten days ago: Ava has version 1 to answer; Sofia was sent version 2 (her
/// version 1 link says it was replaced) and accepted it. The Owner and Sales were told (their
/// inbox): Ava opened hers nine days ago, Sofia accepted four days ago.
async fn demo_builds(tx: &mut sqlx::PgConnection, clock: Clock) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let studio = crate::studio::Studio::load(tx).await.map_err(err)?;
    let sent = Clock::Fixed(clock.now() - chrono::Duration::days(10));
    let mut built = vec![];
    for quote in &QUOTES {
        let build = demo_build(tx, quote).await?;
        crate::quote::proposal::freeze(tx, &studio, &sent, build, None)
            .await
            .map_err(err)?;
        built.push(build);
    }
    let sofia = built[1];
    let resent = Clock::Fixed(clock.now() - chrono::Duration::days(6));
    crate::quote::proposal::freeze(tx, &studio, &resent, sofia, None)
        .await
        .map_err(err)?;
    sqlx::query(
        "WITH v AS (UPDATE proposal_versions SET accepted_at = $2, accepted_by = 'Sofia Garcia'
                    WHERE build_id = $1 AND version = 2 RETURNING accepted_at)
         UPDATE builds SET accepted_at = v.accepted_at, accepted_by = 'Sofia Garcia' FROM v
         WHERE id = $1",
    )
    .bind(sofia)
    .bind(clock.now() - chrono::Duration::days(4))
    .execute(&mut *tx)
    .await?;
    // Olivia accepted version 1 eight days ago; she and Daniel signed, the studio countersigned
    // two days later, and that booked the wedding (the studio books on the last signature).
    let olivia = built[2];
    sqlx::query(
        "WITH v AS (UPDATE proposal_versions SET accepted_at = $2, accepted_by = 'Olivia Nguyen'
                    WHERE build_id = $1 AND version = 1 RETURNING accepted_at)
         UPDATE builds SET accepted_at = v.accepted_at, accepted_by = 'Olivia Nguyen' FROM v
         WHERE id = $1",
    )
    .bind(olivia)
    .bind(clock.now() - chrono::Duration::days(8))
    .execute(&mut *tx)
    .await?;
    // Olivia's quote pays in three: the studio's second schedule (the second payment, due 90
    // days before a wedding 75 days away, falls due on booking).
    sqlx::query(
        "WITH t AS (INSERT INTO payment_schedules (name, parts) VALUES ('Three payments', $2)
                    RETURNING id)
         UPDATE builds SET payment_schedule_id = t.id FROM t WHERE builds.id = $1",
    )
    .bind(olivia)
    .bind(serde_json::json!([
        {"label": "Deposit", "amount": {"kind": "percent", "value": "30"},
         "due": {"rule": "on_booking"}},
        {"label": "Second payment", "amount": {"kind": "percent", "value": "35"},
         "due": {"rule": "before_wedding", "days": 90}},
        {"label": "Balance", "amount": {"kind": "rest"},
         "due": {"rule": "before_wedding", "days": 30}},
    ]))
    .execute(&mut *tx)
    .await?;
    demo_signed_and_booked(tx, clock, &studio, olivia).await?;
    // Then a Guest Message Booth, approved by the couple with 10% off; the keepsake box taken
    // off, approved (a credit note); and Rush Delivery, proposed two days ago, waiting for
    // their answer.
    use crate::quote::change_orders::{self, Answerer, Proposal};
    let owner: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&mut *tx)
    .await?;
    // (add or take off, item, what, discount, reason, proposed days ago, answered days ago)
    let changes = [
        (
            true,
            "Guest Message Booth",
            "A guest message booth at the reception",
            "10",
            "Booked within a week",
            4,
            Some(3),
        ),
        (
            false,
            "Keepsake USB Box",
            "No keepsake box: the films are enough for us",
            "",
            "",
            3,
            Some(3),
        ),
        (
            true,
            "Rush Delivery",
            "The highlight film within 3 weeks",
            "",
            "",
            2,
            None,
        ),
    ];
    for (add, item, what, discount, reason, days_ago, answered) in changes {
        let item = id(tx, "billable_items", item).await?;
        if add {
            crate::quote::builds::add_billable(tx, olivia, item, 1, None, Some(owner))
                .await
                .map_err(err)?;
        } else {
            let line: i32 = sqlx::query_scalar(
                "SELECT id FROM build_billable_items WHERE build_id = $1 AND billable_item_id = $2",
            )
            .bind(olivia)
            .bind(item)
            .fetch_one(&mut *tx)
            .await?;
            crate::quote::builds::remove_billable(tx, olivia, line, Some(owner))
                .await
                .map_err(err)?;
        }
        let at = Clock::Fixed(clock.now() - chrono::Duration::days(days_ago));
        let proposal = Proposal {
            description: what,
            discount_percent: discount,
            discount_reason: reason,
        };
        let version = change_orders::propose(tx, &at, olivia, &proposal, owner)
            .await
            .map_err(err)?;
        if let Some(days) = answered {
            let answered = Clock::Fixed(clock.now() - chrono::Duration::days(days));
            let _ = change_orders::answer(
                tx,
                &crate::config::Settings::defaults(),
                &studio,
                &answered,
                olivia,
                version,
                true,
                Answerer::Couple,
            )
            .await
            .map_err(err)?;
        }
    }
    billing::money(tx, clock, &studio, olivia, owner).await?;
    production::tasks(tx, clock, olivia).await?;
    postproduction::chloe(tx, clock, &studio).await?;
    // Olivia's booking and approved change were read days ago (they stay in the inbox, read).
    sqlx::query("UPDATE notifications SET is_read = true WHERE link_url IN ($1, $2)")
        .bind(format!("/quotes/{olivia}"))
        .bind(format!("/quotes/{olivia}/changes"))
        .execute(&mut *tx)
        .await?;
    let (ava, viewed) = (built[0], clock.now() - chrono::Duration::days(9));
    sqlx::query(
        "UPDATE proposal_versions SET viewed_at = CASE WHEN build_id = $1 THEN $3 ELSE sent_at END
         WHERE build_id IN ($1, $2)",
    )
    .bind(ava)
    .bind(sofia)
    .bind(viewed)
    .execute(&mut *tx)
    .await?;
    // No email goes out: the demo studio emails nobody (`notify_email_kinds` is empty).
    let settings = crate::config::Settings::defaults();
    use crate::quote::proposal_page::{notify_accepted, notify_viewed};
    let _ = notify_viewed(tx, &settings, viewed, "Ava Thompson", ava, 1)
        .await
        .map_err(err)?;
    let accepted = clock.now() - chrono::Duration::days(4);
    let _ = notify_accepted(tx, &settings, accepted, "Sofia Garcia", sofia)
        .await
        .map_err(err)?;
    demo_contract(tx, clock, &studio, sofia).await
}

/// Sofia's contract, made from version 2 when she accepted it, through the same code as the
/// app: her partner Mateo was added as a signer, Sofia signed the next day from her phone and
/// Mateo has not yet, so the demo shows a contract awaiting signatures.
async fn demo_contract(
    tx: &mut sqlx::PgConnection,
    clock: Clock,
    studio: &crate::studio::Studio,
    sofia: i32,
) -> Result<()> {
    use crate::contract::contracts;
    use crate::contract::signatures::{self, Origin, SignForm};
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let accepted = Clock::Fixed(clock.now() - chrono::Duration::days(4));
    let invite = contracts::create(tx, studio, &accepted, sofia, 2, None)
        .await
        .map_err(err)?;
    let owner: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = $1",
    )
    .bind(DEMO_STAFF[0].0)
    .fetch_one(&mut *tx)
    .await?;
    contracts::add_partner(
        tx,
        studio,
        &accepted,
        sofia,
        "Mateo Ruiz",
        "mateo.ruiz@example.com",
        owner,
    )
    .await
    .map_err(err)?;
    let signed = Clock::Fixed(clock.now() - chrono::Duration::days(3));
    let form = SignForm {
        name: "Sofia Garcia".into(),
        consent: "yes".into(),
        text_sha256: String::new(),
    };
    let origin = Origin {
        ip: "203.0.113.24".into(),
        user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 \
                     (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
            .into(),
    };
    let settings = crate::config::Settings::defaults();
    let _ = signatures::sign_by_link(
        tx,
        &settings,
        &signed,
        studio,
        &invite.token,
        &form,
        &origin,
    )
    .await
    .map_err(err)?;
    // Read long ago: the demo's notifications are the ones its other stories make.
    sqlx::query("DELETE FROM notifications WHERE link_url = $1")
        .bind(format!("/quotes/{sofia}/contract"))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Olivia's contract, through the same code as the app: made from version 1 when she accepted
/// it eight days ago, her partner Daniel added, both signed seven days ago by their links, and
/// the studio (Maya) countersigned six days ago, which booked the wedding by the studio's
/// setting (`on_signatures`). The demo keeps no PDF file (it has no data directory): the
/// contract's page makes its PDF when asked.
async fn demo_signed_and_booked(
    tx: &mut sqlx::PgConnection,
    clock: Clock,
    studio: &crate::studio::Studio,
    olivia: i32,
) -> Result<()> {
    use crate::contract::contracts;
    use crate::contract::signatures::{self, Countersigner, Origin, SignForm};
    use crate::quote::auto_book::{AfterSignature, after_signature};
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let settings = crate::config::Settings::defaults();
    let ago = |days: i64, hours: i64| {
        Clock::Fixed(clock.now() - chrono::Duration::days(days) + chrono::Duration::hours(hours))
    };
    let accepted = ago(8, 0);
    let olivia_link = contracts::create(tx, studio, &accepted, olivia, 1, None)
        .await
        .map_err(err)?;
    let (owner, owner_email): (i32, String) = sqlx::query_as(
        "SELECT co.id, c.email FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = $1",
    )
    .bind(DEMO_STAFF[0].0)
    .fetch_one(&mut *tx)
    .await?;
    let daniel_link = contracts::add_partner(
        tx,
        studio,
        &accepted,
        olivia,
        "Daniel Park",
        "daniel.park@example.com",
        owner,
    )
    .await
    .map_err(err)?;
    let laptop = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, \
                  like Gecko) Version/17.5 Safari/605.1.15";
    for (invite, name, ip, hours) in [
        (&olivia_link, "Olivia Nguyen", "198.51.100.31", 2),
        (&daniel_link, "Daniel Park", "198.51.100.58", 5),
    ] {
        let form = SignForm {
            name: name.into(),
            consent: "yes".into(),
            text_sha256: String::new(),
        };
        let origin = Origin {
            ip: ip.into(),
            user_agent: laptop.into(),
        };
        let _ = signatures::sign_by_link(
            tx,
            &settings,
            &ago(7, hours),
            studio,
            &invite.token,
            &form,
            &origin,
        )
        .await
        .map_err(err)?;
    }
    let countersigned = ago(6, 0);
    let form = SignForm {
        name: "Maya Chen".into(),
        consent: "yes".into(),
        text_sha256: String::new(),
    };
    let origin = Origin {
        ip: "192.0.2.10".into(),
        user_agent: laptop.into(),
    };
    let who = Countersigner {
        contributor_id: owner,
        email: &owner_email,
    };
    signatures::countersign(tx, &countersigned, studio, olivia, &who, &form, &origin)
        .await
        .map_err(err)?;
    match after_signature(tx, None, studio, &countersigned, olivia)
        .await
        .map_err(err)?
    {
        AfterSignature::Booked(_) => {}
        _ => anyhow::bail!("the demo's countersignature did not book Olivia's wedding"),
    }
    // Read long ago, like Sofia's.
    sqlx::query("DELETE FROM notifications WHERE link_url = $1")
        .bind(format!("/quotes/{olivia}/contract"))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The password of every demo login. Change it (My account) before real use.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The demo logins (email, role), in the order the demo command prints them.
pub const DEMO_STAFF: &[(&str, &str)] = &[
    ("maya@goldenhour.example", "Owner"),
    ("jordan@goldenhour.example", "Admin"),
    ("priya@goldenhour.example", "Sales"),
    ("leo@goldenhour.example", "Editor"),
    ("sam@goldenhour.example", "Videographer"),
    ("grace@goldenhour.example", "Bookkeeper"),
];

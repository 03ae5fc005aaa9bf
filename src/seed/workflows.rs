//! The demo studio's questionnaires (wedding-day timeline, shot list, music choices) and its
//! default workflow for every booked wedding, attached to the booked projects through the
//! engine itself: on Olivia's wedding the welcome email and the timeline questionnaire have
//! gone (run by Maya, as they were past when the workflow was attached), Olivia has answered
//! and sent the timeline (her ceremony time and guests are on the project), the thank-you for it
//! waits for approval, the shot list (past when attached) is listed to run or skip, and the
//! rest are scheduled at their local times.
use crate::clock::Clock;
use crate::config::Settings;
use crate::studio::Studio;
use crate::workflows::engine;
use crate::workflows::questionnaires::{self, Meta};
use crate::workflows::questions::{Kind, Question, ShowIf};
use crate::workflows::steps::{self, StepIn};
use anyhow::Result;
use sqlx::PgConnection;

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn q(id: i32, kind: Kind, label: &str) -> Question {
    Question {
        id,
        kind,
        label: label.into(),
        help: String::new(),
        required: false,
        options: vec![],
        show_if: None,
        maps_to: None,
    }
}

fn with(mut question: Question, f: impl FnOnce(&mut Question)) -> Question {
    f(&mut question);
    question
}

fn options(list: &[&str]) -> Vec<String> {
    list.iter().map(|o| o.to_string()).collect()
}

fn show_if(question: i32, value: &str) -> Option<ShowIf> {
    Some(ShowIf {
        question,
        value: value.into(),
    })
}

/// The wedding-day timeline: the places and times of the day, a first look (and, if so, where),
/// the guests; the times and places fill in the project's details.
pub fn timeline() -> Vec<Question> {
    vec![
        q(1, Kind::Heading, "Getting ready"),
        with(q(2, Kind::ShortText, "Where are you getting ready?"), |x| {
            x.maps_to = Some("getting_ready_location".into())
        }),
        q(3, Kind::Heading, "The ceremony"),
        with(q(4, Kind::ShortText, "Ceremony venue"), |x| {
            x.required = true;
            x.maps_to = Some("ceremony_venue".into());
        }),
        with(q(5, Kind::Time, "Ceremony start time"), |x| {
            x.required = true;
            x.help = "As on the invitation, e.g. 16:30".into();
            x.maps_to = Some("ceremony_time".into());
        }),
        with(
            q(6, Kind::SingleChoice, "Will you have a first look?"),
            |x| {
                x.required = true;
                x.options = options(&["Yes", "No"]);
                x.maps_to = Some("first_look".into());
            },
        ),
        with(
            q(7, Kind::ShortText, "Where and when is the first look?"),
            |x| {
                x.required = true;
                x.show_if = show_if(6, "Yes");
            },
        ),
        q(8, Kind::Heading, "The reception"),
        with(q(9, Kind::ShortText, "Reception venue"), |x| {
            x.maps_to = Some("reception_venue".into())
        }),
        with(q(10, Kind::Time, "Reception start time"), |x| {
            x.maps_to = Some("reception_time".into())
        }),
        with(q(11, Kind::Number, "Number of guests"), |x| {
            x.maps_to = Some("guest_count".into())
        }),
        with(q(12, Kind::Date, "Rehearsal dinner (if we film it)"), |x| {
            x.help = "Leave empty if not.".into()
        }),
        q(
            13,
            Kind::LongText,
            "Anything else we should know about the day?",
        ),
    ]
}

fn shot_list() -> Vec<Question> {
    vec![
        with(q(1, Kind::MultipleChoice, "Moments you must have"), |x| {
            x.required = true;
            x.options = options(&[
                "Getting ready",
                "First look",
                "Vows",
                "Family portraits",
                "Speeches",
                "First dance",
                "Cake cutting",
                "Send-off",
            ]);
        }),
        q(2, Kind::LongText, "Family groups for the portraits"),
        q(
            3,
            Kind::LongText,
            "People we must not miss (and how we recognise them)",
        ),
        with(q(4, Kind::SingleChoice, "Is a surprise planned?"), |x| {
            x.options = options(&["Yes", "No"])
        }),
        with(q(5, Kind::LongText, "Tell us about the surprise"), |x| {
            x.show_if = show_if(4, "Yes")
        }),
        q(6, Kind::File, "A mood board or a photo that inspires you"),
    ]
}

fn music() -> Vec<Question> {
    vec![
        q(1, Kind::ShortText, "Processional song"),
        with(q(2, Kind::ShortText, "First dance song"), |x| {
            x.maps_to = Some("first_dance_song".into())
        }),
        with(q(3, Kind::SingleChoice, "Music in your film"), |x| {
            x.required = true;
            x.options = options(&["Let the studio choose", "Our own song list"]);
        }),
        with(q(4, Kind::LongText, "Your song list"), |x| {
            x.required = true;
            x.show_if = show_if(3, "Our own song list");
        }),
        q(5, Kind::LongText, "Songs to avoid"),
    ]
}

fn step(name: &str, trigger: &str, action: &str) -> StepIn {
    StepIn {
        name: name.into(),
        trigger: trigger.into(),
        offset_amount: 0,
        offset_unit: "days".into(),
        direction: "before".into(),
        at_time: "09:00".into(),
        action: action.into(),
        role: "Owner".into(),
        ..StepIn::default()
    }
}

fn timed(mut s: StepIn, amount: i32, unit: &str, direction: &str, at: &str) -> StepIn {
    s.offset_amount = amount;
    s.offset_unit = unit.into();
    s.direction = direction.into();
    s.at_time = at.into();
    s
}

fn email(mut s: StepIn, subject: &str, body: &str) -> StepIn {
    s.subject = subject.into();
    s.body = body.into();
    s
}

pub async fn demo(tx: &mut PgConnection, clock: Clock) -> Result<()> {
    let maya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut ids = vec![];
    for (name, description, days, questions) in [
        (
            "Wedding-day timeline",
            "Where and when everything happens on the day.",
            45,
            timeline(),
        ),
        (
            "Shot list",
            "The moments and the people you want in your film.",
            30,
            shot_list(),
        ),
        (
            "Music choices",
            "The songs of your day and of your film.",
            30,
            music(),
        ),
    ] {
        let meta = Meta {
            name,
            description: Some(description),
            due_days_before_wedding: days,
        };
        ids.push(
            questionnaires::create(tx, &meta, &questions, Some(maya))
                .await
                .map_err(err)?,
        );
    }
    let (timeline_id, shots_id, music_id) = (ids[0], ids[1], ids[2]);
    let workflow = steps::create(
        tx,
        "Booked wedding",
        Some("From the booking to the thank-you after the wedding."),
        None,
        Some(maya),
    )
    .await
    .map_err(err)?;
    let questionnaire = |name: &str, trigger: &str, id: i32| {
        let mut s = step(name, trigger, "questionnaire");
        s.questionnaire_id = Some(id);
        s
    };
    let mut thanks = email(
        step(
            "Thank the couple for their timeline",
            "questionnaire_submitted",
            "email",
        ),
        "Thank you for your timeline, {first_name}",
        "Dear {couple},\n\nThank you for the timeline of your day: we have the ceremony at \
         {ceremony_time} and {guest_count} guests. We will be in touch about the shot list.\n\n\
         {studio}",
    );
    thanks.trigger_questionnaire_id = Some(timeline_id);
    thanks.requires_approval = true;
    let mut reminder = email(
        timed(
            step(
                "Remind the couple about the timeline",
                "wedding_date",
                "email",
            ),
            6,
            "weeks",
            "before",
            "09:00",
        ),
        "{studio}: your wedding-day timeline",
        "Dear {first_name},\n\nYour wedding is in {days_to_wedding} days! Please send us your \
         timeline in your portal: {portal_link}\n\n{studio}",
    );
    reminder.condition = "questionnaire_not_submitted".into();
    reminder.condition_questionnaire_id = Some(timeline_id);
    let mut balance = timed(
        step("Check the balance is on its way", "wedding_date", "notify"),
        5,
        "weeks",
        "before",
        "10:00",
    );
    balance.condition = "balance_due".into();
    balance.role = "Bookkeeper".into();
    balance.subject = "The balance of this wedding is still due".into();
    let mut call = timed(
        step("Final details call", "wedding_date", "todo"),
        2,
        "weeks",
        "before",
        "09:30",
    );
    call.subject = "Call the couple to go over the day".into();
    let mut after = email(
        timed(
            step("Sneak peek and thank you", "wedding_date", "email"),
            3,
            "days",
            "after",
            "10:00",
        ),
        "Your sneak peek is coming, {first_name}",
        "Dear {couple},\n\nThank you for having us on your day. Your sneak peek is on its way.\n\n\
         {studio}",
    );
    after.requires_approval = true;
    for s in [
        email(
            step("Welcome email", "booked", "email"),
            "Welcome to {studio}, {first_name}!",
            "Dear {couple},\n\nWe are thrilled to film your wedding on {wedding_date}. Your \
             portal has your contract, invoices and, soon, a few questionnaires: \
             {portal_link}\n\n{studio}",
        ),
        timed(
            questionnaire("Send the wedding-day timeline", "booking_date", timeline_id),
            2,
            "days",
            "after",
            "10:00",
        ),
        email(
            step("Thank you for the deposit", "invoice_paid", "email"),
            "Thank you for your payment, {first_name}",
            "Dear {couple},\n\nWe received your payment: your date is yours.\n\n{studio}",
        ),
        thanks,
        timed(
            questionnaire("Send the shot list", "wedding_date", shots_id),
            3,
            "months",
            "before",
            "09:00",
        ),
        timed(
            questionnaire("Send the music choices", "wedding_date", music_id),
            2,
            "months",
            "before",
            "09:00",
        ),
        reminder,
        balance,
        call,
        after,
    ] {
        steps::save_step(tx, workflow, None, &s)
            .await
            .map_err(err)?;
    }
    engine::attach_new(tx, &clock).await.map_err(err)?;
    // Olivia's wedding: what was past at attachment is run by Maya (but the shot list, left
    // for the studio to run or skip), Olivia answers and sends the timeline, the scheduler
    // runs what is due (the thank-you waits for approval).
    let olivia: i32 = sqlx::query_scalar(
        "SELECT p.id FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&mut *tx)
    .await?;
    let studio = Studio::load(tx).await.map_err(err)?;
    let settings = Settings::defaults();
    let past: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM workflow_step_runs
         WHERE project_id = $1 AND state = 'overdue' AND name <> 'Send the shot list'
         ORDER BY position",
    )
    .bind(olivia)
    .fetch_all(&mut *tx)
    .await?;
    for run in past {
        engine::run_now(tx, &settings, &studio, &clock, run, maya)
            .await
            .map_err(err)?;
    }
    let sent: Option<i32> = sqlx::query_scalar(
        "SELECT id FROM project_questionnaires WHERE project_id = $1 AND template_id = $2",
    )
    .bind(olivia)
    .bind(timeline_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(sent) = sent {
        let now = clock.now();
        for (question, answer) in [
            (2, "The Westin St. Francis, San Francisco"),
            (4, "Kohl Mansion, Burlingame"),
            (5, "16:30"),
            (6, "Yes"),
            (7, "In the rose garden at 15:00"),
            (9, "Kohl Mansion, the Great Hall"),
            (10, "18:00"),
            (11, "120"),
        ] {
            questionnaires::answer(tx, None, sent, question, &[answer.to_string()], now)
                .await
                .map_err(err)?;
        }
        questionnaires::submit(tx, None, sent, now)
            .await
            .map_err(err)?;
    }
    engine::wake(tx, clock.now()).await.map_err(err)?;
    while engine::run_one(tx, &settings, &studio, &clock)
        .await
        .map_err(err)?
        .is_some()
    {}
    // The demo's inbox stays as the other areas tell it: what this told the studio is on the
    // project page and in the dashboard's "Approval needed" list.
    sqlx::query(
        "DELETE FROM notifications
         WHERE link_url LIKE '/projects/%#workflow' OR link_url LIKE '/projects/%#questionnaires'",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

//! Settings > Payment schedules: the studio's templates (the built-in one follows the studio
//! settings' deposit and balance, edited there), a new one, editing and deleting one (not one a
//! quote pays by: 409). A template is up to eight rows of a label, an amount (percent, fixed,
//! the rest) and a due rule; blank rows are left out; a refusal shows the form again with the
//! problem by its field.
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::payment_schedules::{self, Template};
use crate::schedule::{self, Amount, Due, MAX_PARTS, Part};
use askama::Template as Askama;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;
use std::collections::HashMap;

const HOME: &str = "/settings/payment-schedules";

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get(HOME, manage, list)
        .post(HOME, manage, create)
        .get("/settings/payment-schedules/new", manage, new)
        .get("/settings/payment-schedules/{id}", manage, edit)
        .post("/settings/payment-schedules/{id}", manage, update)
        .post("/settings/payment-schedules/{id}/delete", manage, delete)
        .post(
            "/settings/payment-schedules/reminders",
            manage,
            save_reminders,
        )
}

#[derive(Askama)]
#[template(path = "billing/schedules.html")]
struct ListPage {
    layout: Layout,
    /// (template, its parts in words, how many quotes pay by it).
    rows: Vec<(Template, Vec<String>, i64)>,
    flash: Option<String>,
    refused: Option<Refusal>,
    /// The reminder settings, as saved or as typed when refused.
    reminders: ReminderForm,
    /// What goes out in the next 14 days: (day, invoice id, number, couple, stage).
    upcoming: Vec<(String, i32, String, String, String)>,
}

impl ListPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }
}

/// The reminder settings as typed.
#[derive(Deserialize, Default, Clone, sqlx::FromRow)]
pub struct ReminderForm {
    #[serde(default)]
    pub reminder_days_before: String,
    /// "true" when the box is ticked (an unticked box sends nothing).
    #[serde(default)]
    pub reminder_on_due_day: String,
    #[serde(default)]
    pub reminder_first_overdue_days: String,
    #[serde(default)]
    pub reminder_overdue_every_days: String,
    #[serde(default)]
    pub reminder_overdue_max: String,
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
}

/// "Deposit: 30%, on booking".
fn words(p: &Part) -> String {
    format!("{}: {}, {}", p.label, p.amount.words(), p.due.words())
}

async fn list_page(
    conn: &mut PgConnection,
    clock: &crate::clock::Clock,
    staff: &Staff,
    flash: Option<String>,
    refused: Option<Refusal>,
) -> AppResult<ListPage> {
    let templates = payment_schedules::list(conn).await?;
    let uses: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT payment_schedule_id, count(*) FROM builds
         WHERE payment_schedule_id IS NOT NULL GROUP BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let rows = templates
        .into_iter()
        .map(|t| {
            let n = uses.iter().find(|u| u.0 == t.id).map_or(0, |u| u.1);
            let parts = t.parts.iter().map(words).collect();
            (t, parts, n)
        })
        .collect();
    let reminders = sqlx::query_as(
        "SELECT reminder_days_before::text AS reminder_days_before,
                reminder_on_due_day::text AS reminder_on_due_day,
                reminder_first_overdue_days::text AS reminder_first_overdue_days,
                reminder_overdue_every_days::text AS reminder_overdue_every_days,
                reminder_overdue_max::text AS reminder_overdue_max
         FROM studio_settings",
    )
    .fetch_one(&mut *conn)
    .await?;
    let layout = Layout::load(conn, staff, "Payment schedules", "/settings").await?;
    let today = clock.today(&layout.settings.time_zone);
    let upcoming = super::reminders::next_14_days(conn, today)
        .await?
        .into_iter()
        .map(|(d, id, n, c, s)| (d.format("%b %-d, %Y").to_string(), id, n, c, s))
        .collect();
    Ok(ListPage {
        upcoming,
        layout,
        rows,
        flash,
        refused,
        reminders,
    })
}

async fn list(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(q): Query<Done>,
) -> AppResult<Response> {
    let flash = match q.done.as_str() {
        "saved" => Some("The payment schedule is saved. Quotes booked from now on use it."),
        "deleted" => Some("The payment schedule is deleted."),
        "reminders" => Some("The reminder settings are saved."),
        _ => None,
    };
    let page = list_page(
        &mut db,
        &state.clock,
        &staff,
        flash.map(str::to_string),
        None,
    )
    .await?;
    Ok(render(&page))
}

/// One row of the form as typed.
#[derive(Clone, Default)]
pub struct Row {
    pub label: String,
    pub kind: String,
    pub amount: String,
    pub rule: String,
    pub days: String,
    pub date: String,
}

#[derive(Askama)]
#[template(path = "billing/schedule_form.html")]
struct FormPage {
    layout: Layout,
    /// The template edited (None: a new one).
    id: Option<i32>,
    name: String,
    rows: Vec<Row>,
    refused: Option<Refusal>,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    fn kinds(&self) -> [(&'static str, &'static str); 3] {
        [
            ("percent", "Percent of the total"),
            ("fixed", "Fixed amount"),
            ("rest", "The rest"),
        ]
    }

    fn rules(&self) -> [(&'static str, &'static str); 5] {
        [
            ("on_booking", "On booking"),
            ("after_booking", "N days after booking"),
            ("before_wedding", "N days before the wedding"),
            ("on_date", "On a fixed date"),
            ("monthly", "Monthly, the last N days before the wedding"),
        ]
    }

    fn action(&self) -> String {
        self.id
            .map_or(HOME.to_string(), |id| format!("{HOME}/{id}"))
    }
}

/// The rows of a template, padded with blank ones to eight.
fn rows_of(parts: &[Part]) -> Vec<Row> {
    let mut rows: Vec<Row> = parts
        .iter()
        .map(|p| {
            let (kind, amount) = match &p.amount {
                Amount::Percent { value } => ("percent", value.normalize().to_string()),
                Amount::Fixed { value } => ("fixed", value.normalize().to_string()),
                Amount::Rest => ("rest", String::new()),
            };
            let (days, date) = match p.due {
                Due::AfterBooking { days }
                | Due::BeforeWedding { days }
                | Due::Monthly { days } => (days.to_string(), String::new()),
                Due::OnDate { date } => (String::new(), date.to_string()),
                Due::OnBooking => (String::new(), String::new()),
            };
            Row {
                label: p.label.clone(),
                kind: kind.into(),
                amount,
                rule: p.due.name().into(),
                days,
                date,
            }
        })
        .collect();
    rows.resize(MAX_PARTS, Row::default());
    rows
}

/// The form's rows (`label_N`, `kind_N`, `amount_N`, `rule_N`, `days_N`, `date_N`).
fn rows_from(form: &HashMap<String, String>) -> Vec<Row> {
    let get = |k: &str, n: usize| form.get(&format!("{k}_{n}")).cloned().unwrap_or_default();
    (0..MAX_PARTS)
        .map(|n| Row {
            label: get("label", n),
            kind: get("kind", n),
            amount: get("amount", n),
            rule: get("rule", n),
            days: get("days", n),
            date: get("date", n),
        })
        .collect()
}

/// The parts the rows say, checked: a row with neither a label nor an amount is left out;
/// every problem names its field (the row's number counts the rows typed, from 0).
pub fn parse(rows: &[Row]) -> AppResult<Vec<Part>> {
    let mut parts = vec![];
    for (n, r) in rows.iter().enumerate() {
        if r.label.trim().is_empty() && r.amount.trim().is_empty() {
            continue;
        }
        let number = |field: &str, max: Decimal| -> AppResult<Decimal> {
            r.amount
                .trim()
                .parse::<Decimal>()
                .ok()
                .filter(|d| *d > Decimal::ZERO && *d <= max && d.scale() <= 2)
                .ok_or_else(|| {
                    AppError::field(
                        &format!("{field}_{n}"),
                        "a number more than 0 with at most two decimals",
                    )
                })
        };
        let amount = match r.kind.as_str() {
            "percent" => Amount::Percent {
                value: number("amount", Decimal::ONE_HUNDRED)?,
            },
            "fixed" => Amount::Fixed {
                value: number("amount", Decimal::from(99_999_999))?,
            },
            "rest" => Amount::Rest,
            _ => return Err(AppError::field(&format!("kind_{n}"), "choose how much")),
        };
        let days = || -> AppResult<i32> {
            r.days
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|d| (0..=schedule::MAX_DAYS).contains(d))
                .ok_or_else(|| {
                    AppError::field(
                        &format!("days_{n}"),
                        format!("a number of days from 0 to {}", schedule::MAX_DAYS),
                    )
                })
        };
        let due = match r.rule.as_str() {
            "on_booking" => Due::OnBooking,
            "after_booking" => Due::AfterBooking { days: days()? },
            "before_wedding" => Due::BeforeWedding { days: days()? },
            "monthly" => Due::Monthly { days: days()? },
            "on_date" => Due::OnDate {
                date: crate::dates::parse(r.date.trim())
                    .ok()
                    .ok_or_else(|| AppError::field(&format!("date_{n}"), "a date as YYYY-MM-DD"))?,
            },
            _ => {
                return Err(AppError::field(
                    &format!("rule_{n}"),
                    "choose when it is due",
                ));
            }
        };
        parts.push(Part {
            label: r.label.trim().to_string(),
            amount,
            due,
        });
    }
    schedule::check(&parts)?;
    Ok(parts)
}

fn name_of(form: &HashMap<String, String>) -> AppResult<String> {
    let name = form.get("name").map_or("", |s| s.trim()).to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field(
            "name",
            "name the schedule (up to 100 characters)",
        ));
    }
    Ok(name)
}

async fn new(mut db: Db, staff: Staff) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "New payment schedule", "/settings").await?;
    Ok(render(&FormPage {
        layout,
        id: None,
        name: String::new(),
        rows: rows_of(&[]),
        refused: None,
    }))
}

async fn edit(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    let t = editable(&mut db, id).await?;
    let layout = Layout::load(&mut db, &staff, "Payment schedule", "/settings").await?;
    Ok(render(&FormPage {
        layout,
        id: Some(id),
        name: t.name,
        rows: rows_of(&t.parts),
        refused: None,
    }))
}

/// A template that may be edited here: not the built-in one (409: it is the studio settings').
async fn editable(conn: &mut PgConnection, id: i32) -> AppResult<Template> {
    let t = payment_schedules::get(conn, id).await?;
    if t.builtin {
        return Err(AppError::Conflict(
            "the built-in schedule follows the studio settings' deposit and balance: change \
             them in Studio settings"
                .into(),
        ));
    }
    Ok(t)
}

async fn create(
    mut db: Db,
    staff: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    save(&mut db, &staff, None, form).await
}

async fn update(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    editable(&mut db, id).await?;
    save(&mut db, &staff, Some(id), form).await
}

async fn save(
    conn: &mut PgConnection,
    staff: &Staff,
    id: Option<i32>,
    form: HashMap<String, String>,
) -> AppResult<Response> {
    let rows = rows_from(&form);
    let result = crate::db::transaction(conn, async |tx| {
        let name = name_of(&form)?;
        let parts = parse(&rows)?;
        payment_schedules::save(tx, id, &name, &parts, staff.contributor_id).await
    })
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("{HOME}?done=saved")).into_response()),
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let refused = Refusal::from_error(e)?;
            let layout = Layout::load(conn, staff, "Payment schedule", "/settings").await?;
            let page = FormPage {
                layout,
                id,
                name: form.get("name").cloned().unwrap_or_default(),
                rows,
                refused: Some(refused.clone()),
            };
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

async fn delete(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        editable(tx, id).await?;
        payment_schedules::delete(tx, id, staff.contributor_id).await
    })
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{HOME}?done=deleted")).into_response()),
        Err(e @ AppError::Conflict(_)) => {
            let refused = Refusal::from_error(e)?;
            let page =
                list_page(&mut db, &state.clock, &staff, None, Some(refused.clone())).await?;
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

/// Save the reminder settings: each a whole number in its range (422 by the field). Audited.
async fn save_reminders(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Form(f): Form<ReminderForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let number = |field: &str, text: &str, lo: i32, hi: i32| -> AppResult<i32> {
            text.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| AppError::field(field, format!("a whole number from {lo} to {hi}")))
        };
        let before = number("reminder_days_before", &f.reminder_days_before, 0, 365)?;
        let on_the_day = f.reminder_on_due_day == "true";
        let first = number(
            "reminder_first_overdue_days",
            &f.reminder_first_overdue_days,
            1,
            365,
        )?;
        let every = number(
            "reminder_overdue_every_days",
            &f.reminder_overdue_every_days,
            1,
            365,
        )?;
        let max = number("reminder_overdue_max", &f.reminder_overdue_max, 0, 20)?;
        sqlx::query(
            "UPDATE studio_settings SET reminder_days_before = $1,
                    reminder_overdue_every_days = $2, reminder_overdue_max = $3,
                    reminder_on_due_day = $4, reminder_first_overdue_days = $5",
        )
        .bind(before)
        .bind(every)
        .bind(max)
        .bind(on_the_day)
        .bind(first)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            tx,
            Some(staff.contributor_id),
            "settings.reminders.update",
            "studio_settings",
            None,
            serde_json::json!({ "days_before": before, "on_due_day": on_the_day,
                                "first_overdue_days": first, "overdue_every_days": every,
                                "overdue_max": max }),
        )
        .await?;
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{HOME}?done=reminders")).into_response()),
        Err(e @ AppError::Validation { .. }) => {
            let refused = Refusal::from_error(e)?;
            let mut page =
                list_page(&mut db, &state.clock, &staff, None, Some(refused.clone())).await?;
            page.reminders = f;
            Ok(refused.respond(render(&page)))
        }
        Err(e) => Err(e),
    }
}

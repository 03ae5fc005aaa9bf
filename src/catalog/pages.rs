//! Settings > Catalogs: list, add, edit, delete, CSV; studio settings; the rules preview.
use super::csv as catalog_csv;
use super::field::{Catalog, Field, Kind, Values};
use super::row::Row;
use super::spec;
use super::store;
use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::error::FieldError;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .get("/settings/catalog", Access::Staff, index)
        .get("/settings/catalog/{slug}", Access::Staff, list_page)
        .post(
            "/settings/catalog/{slug}",
            Access::Perm(Permission::CatalogEdit),
            create_page,
        )
        .get("/settings/catalog/{slug}/export.csv", Access::Staff, export)
        .post(
            "/settings/catalog/{slug}/import",
            Access::Perm(Permission::CatalogEdit),
            import,
        )
        .get("/settings/catalog/{slug}/{id}", Access::Staff, edit_page)
        .post(
            "/settings/catalog/{slug}/{id}",
            Access::Perm(Permission::CatalogEdit),
            update_page,
        )
        .post(
            "/settings/catalog/{slug}/{id}/delete",
            Access::Perm(Permission::CatalogEdit),
            delete_page,
        )
        .get(
            "/settings/studio",
            Access::Perm(Permission::SettingsManage),
            studio_page,
        )
        .post(
            "/settings/studio",
            Access::Perm(Permission::SettingsManage),
            save_studio,
        )
        .get(
            "/settings/rules-preview",
            Access::Staff,
            super::preview::page,
        )
        .api(Access::Staff, utoipa_axum::routes!(api_get_studio))
        .api(
            Access::Perm(Permission::SettingsManage),
            utoipa_axum::routes!(api_put_studio),
        )
}

/// One input of a form, ready to render.
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// text | textarea | number | select | checkbox | json
    pub input: &'static str,
    pub value: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
}

impl FormField {
    pub fn rules(&self) -> Vec<(&'static str, &'static str, String)> {
        rule_inputs(&self.value)
    }

    pub fn selected(&self, v: &str) -> bool {
        self.value == v
    }
    pub fn checked(&self) -> bool {
        self.value == "true"
    }
}

async fn form_fields(
    state: &AppState,
    c: &Catalog,
    values: &Values,
    errors: &[FieldError],
) -> AppResult<Vec<FormField>> {
    let mut out = vec![];
    for f in c.writable() {
        let (input, options) = match f.kind {
            Kind::Text => ("text", vec![]),
            Kind::LongText => ("textarea", vec![]),
            Kind::EffortRules => ("json", vec![]),
            Kind::Money(_) | Kind::Amount { .. } | Kind::Int { .. } => ("number", vec![]),
            Kind::Bool => ("checkbox", vec![]),
            Kind::Enum(_, labels) => (
                "select",
                labels
                    .iter()
                    .map(|l| (l.to_string(), l.to_string()))
                    .collect(),
            ),
            Kind::Ref(target) => {
                let blank = if f.required {
                    "Choose…"
                } else {
                    "Any / every"
                };
                let mut o = vec![(String::new(), blank.to_string())];
                o.extend(
                    store::options(&mut *state.db.acquire().await?, target)
                        .await?
                        .into_iter()
                        .map(|(id, n)| (id.to_string(), n)),
                );
                ("select", o)
            }
        };
        out.push(FormField {
            name: f.name,
            label: f.label,
            hint: f.hint,
            input,
            value: values.get(f.name).cloned().flatten().unwrap_or_default(),
            required: f.required,
            options,
            error: errors
                .iter()
                .find(|e| e.field == f.name)
                .map(|e| e.message.clone()),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "catalog/index.html")]
struct Index {
    layout: Layout,
    catalogs: Vec<(&'static str, &'static str, i64, bool)>,
    can_studio: bool,
    embed: String,
}

async fn index(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let sql = spec::CATALOGS
        .iter()
        .map(|c| format!("(SELECT count(*) FROM {})", c.table))
        .collect::<Vec<_>>()
        .join(", ");
    let row = sqlx::query(&format!("SELECT {sql}"))
        .fetch_one(&state.db)
        .await?;
    let catalogs = spec::CATALOGS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.slug,
                c.title,
                sqlx::Row::get::<i64, _>(&row, i),
                c.is_rule,
            )
        })
        .collect();
    let base = state.settings.base_url();
    // The script passes the page's own UTM parameters on to the form.
    let embed = format!(
        "<iframe id=\"projectflo-inquire\" src=\"{base}/inquire\" title=\"Wedding film inquiry\" style=\"width:100%;min-height:820px;border:0\"></iframe>\n<script>(function(f){{f.src=f.src+location.search;}})(document.getElementById('projectflo-inquire'));</script>"
    );
    Ok(render(&Index {
        layout: Layout::load(&state.db, &staff, "Catalogs and rules", "/settings").await?,
        catalogs,
        can_studio: staff.can(Permission::SettingsManage),
        embed,
    }))
}

#[derive(Template)]
#[template(path = "catalog/list.html")]
struct ListPage {
    layout: Layout,
    c: &'static Catalog,
    columns: Vec<&'static str>,
    rows: Vec<(i32, String, Vec<String>)>,
    form: Vec<FormField>,
    can_edit: bool,
    flash: Option<String>,
    error: Option<String>,
    import_errors: Vec<String>,
}

/// A cell as people read it: references by name, booleans as Yes/No.
fn cell(r: &Row, f: &Field) -> String {
    match f.kind {
        Kind::Ref(_) => r.labels.get(f.name).cloned().flatten().unwrap_or_else(|| {
            if f.required {
                String::new()
            } else {
                "any".into()
            }
        }),
        Kind::Bool => {
            if r.value(f.name) == "true" {
                "Yes".into()
            } else {
                "No".into()
            }
        }
        _ => {
            let v = r.value(f.name);
            if v.chars().count() > 80 {
                format!("{}…", v.chars().take(80).collect::<String>())
            } else {
                v.to_string()
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct Flash {
    #[serde(default)]
    done: String,
}

/// Messages above the list.
#[derive(Default)]
struct Notes {
    flash: Option<String>,
    error: Option<String>,
    import_errors: Vec<String>,
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    c: &'static Catalog,
    values: &Values,
    errors: &[FieldError],
    notes: Notes,
) -> AppResult<ListPage> {
    let rows = store::list(&mut *state.db.acquire().await?, c).await?;
    let shown: Vec<&Field> = c
        .fields
        .iter()
        .filter(|f| f.kind != Kind::LongText && f.kind != Kind::EffortRules)
        .collect();
    Ok(ListPage {
        layout: Layout::load(&state.db, staff, c.title, "/settings").await?,
        c,
        columns: shown.iter().map(|f| f.label).collect(),
        rows: rows
            .iter()
            .map(|r| (r.id, r.title(c), shown.iter().map(|f| cell(r, f)).collect()))
            .collect(),
        form: form_fields(state, c, values, errors).await?,
        can_edit: staff.can(Permission::CatalogEdit),
        flash: notes.flash,
        error: notes.error,
        import_errors: notes.import_errors,
    })
}

fn defaults(c: &Catalog) -> Values {
    c.writable()
        .map(|f| {
            let v = match f.kind {
                Kind::Bool => Some("true".to_string()),
                Kind::Int { min } if f.required => Some(
                    min.max(if f.name == "priority" { 0 } else { 1 })
                        .to_string(),
                ),
                Kind::Enum(_, labels) => Some(labels[0].to_string()),
                _ => None,
            };
            (f.name.to_string(), v)
        })
        .collect()
}

async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Query(q): Query<Flash>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let flash = match q.done.as_str() {
        "created" => Some(format!("The {} is added.", c.singular)),
        "updated" => Some(format!("The {} is saved.", c.singular)),
        "deleted" => Some(format!("The {} is deleted.", c.singular)),
        d if d.starts_with("imported") => Some(format!(
            "Imported: {}.",
            d.trim_start_matches("imported-").replace('-', " ")
        )),
        _ => None,
    };
    Ok(render(
        &list_view(
            &state,
            &staff,
            c,
            &defaults(c),
            &[],
            Notes {
                flash,
                ..Default::default()
            },
        )
        .await?,
    ))
}

/// Form fields -> values (an unticked checkbox is absent: false).
fn form_values(fields: Vec<(String, String)>) -> Values {
    let mut v = Values::new();
    // The effort-rules editor sends one input per key: `effort_calculation_rules.base_hours`...
    let mut rules = serde_json::Map::new();
    let mut rules_field = None;
    for (k, val) in fields {
        if let Some((field, key)) = k.split_once('.') {
            rules_field = Some(field.to_string());
            if !val.trim().is_empty() {
                let n = serde_json::from_str::<serde_json::Value>(val.trim())
                    .ok()
                    .filter(|n| n.is_number());
                rules.insert(key.to_string(), n.unwrap_or(serde_json::Value::String(val)));
            }
        } else if k != "csrf" {
            v.insert(k, Some(val));
        }
    }
    if let Some(field) = rules_field {
        let json = (!rules.is_empty()).then(|| serde_json::Value::Object(rules).to_string());
        v.insert(field, json);
    }
    v
}

/// The four effort-rule inputs: (key, label, value).
pub fn rule_inputs(json: &str) -> Vec<(&'static str, &'static str, String)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    [
        ("base_hours", "Base hours"),
        ("hours_per_target_minute", "+ hours per target minute"),
        ("min_hours", "At least (hours)"),
        ("max_hours", "At most (hours)"),
    ]
    .into_iter()
    .map(|(k, l)| {
        (
            k,
            l,
            v.get(k)
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| x.to_string())
                })
                .unwrap_or_default(),
        )
    })
    .collect()
}

async fn create_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let values = form_values(fields);
    let mut tx = state.db.begin().await?;
    match store::create(&mut tx, c, &values, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/settings/catalog/{slug}?done=created")).into_response())
        }
        Err(e) => {
            drop(tx);
            form_error(&state, &staff, c, &values, e, None).await
        }
    }
}

/// Re-show the form with the problem by its field (422/409), keeping what was typed.
async fn form_error(
    state: &AppState,
    staff: &Staff,
    c: &'static Catalog,
    values: &Values,
    e: AppError,
    id: Option<i32>,
) -> AppResult<Response> {
    let status = e.status();
    let (errors, message) = match e {
        AppError::Validation { errors, message } => {
            (errors, (!message.is_empty()).then_some(message))
        }
        AppError::Conflict(m) => (vec![], Some(m)),
        other => return Err(other),
    };
    let message = message.map(|m| format!("Not saved: {m}"));
    let page = match id {
        None => render(
            &list_view(
                state,
                staff,
                c,
                values,
                &errors,
                Notes {
                    error: message,
                    ..Default::default()
                },
            )
            .await?,
        ),
        Some(id) => render(&edit_view(state, staff, c, id, values, &errors, message).await?),
    };
    Ok((status, page).into_response())
}

#[derive(Template)]
#[template(path = "catalog/edit.html")]
struct EditPage {
    layout: Layout,
    c: &'static Catalog,
    id: i32,
    form: Vec<FormField>,
    can_edit: bool,
    error: Option<String>,
    learned: Vec<(&'static str, String)>,
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    c: &'static Catalog,
    id: i32,
    values: &Values,
    errors: &[FieldError],
    error: Option<String>,
) -> AppResult<EditPage> {
    let row = store::get(&mut *state.db.acquire().await?, c, id).await?;
    let learned = c
        .fields
        .iter()
        .filter(|f| f.read_only)
        .map(|f| (f.label, row.value(f.name).to_string()))
        .collect();
    Ok(EditPage {
        layout: Layout::load(
            &state.db,
            staff,
            &format!("{}: {}", c.title, row.title(c)),
            "/settings",
        )
        .await?,
        c,
        id,
        form: form_fields(state, c, values, errors).await?,
        can_edit: staff.can(Permission::CatalogEdit),
        error,
        learned,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    staff: Staff,
    Path((slug, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let id: i32 = id
        .parse()
        .map_err(|_| AppError::NotFound(format!("{} not found", c.singular)))?;
    let row = store::get(&mut *state.db.acquire().await?, c, id).await?;
    Ok(render(
        &edit_view(&state, &staff, c, id, &row.values, &[], None).await?,
    ))
}

async fn update_page(
    State(state): State<AppState>,
    staff: Staff,
    Path((slug, id)): Path<(String, i32)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let values = form_values(fields);
    let mut tx = state.db.begin().await?;
    match store::update(&mut tx, c, id, &values, staff.contributor_id).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/settings/catalog/{slug}?done=updated")).into_response())
        }
        Err(e) => {
            drop(tx);
            form_error(&state, &staff, c, &values, e, Some(id)).await
        }
    }
}

async fn delete_page(
    State(state): State<AppState>,
    staff: Staff,
    Path((slug, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let mut tx = state.db.begin().await?;
    match store::delete(&mut tx, c, id, staff.contributor_id).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/settings/catalog/{slug}?done=deleted")).into_response())
        }
        Err(AppError::Conflict(m)) => {
            drop(tx);
            let page = list_view(
                &state,
                &staff,
                c,
                &defaults(c),
                &[],
                Notes {
                    error: Some(format!("Not deleted: {m}")),
                    ..Default::default()
                },
            )
            .await?;
            Ok((StatusCode::CONFLICT, render(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn export(State(state): State<AppState>, Path(slug): Path<String>) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let body = catalog_csv::export(&mut *state.db.acquire().await?, c).await?;
    let disposition = format!("attachment; filename=\"{}.csv\"", c.slug);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Upload (multipart field `file`) or paste (field `csv`).
async fn import(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    mut form: Multipart,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let mut data = vec![];
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::field("file", e.body_text()))?
    {
        if matches!(field.name(), Some("file") | Some("csv")) {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::field("file", e.body_text()))?;
            if !bytes.is_empty() {
                data = bytes.to_vec();
            }
        }
    }
    let mut tx = state.db.begin().await?;
    match catalog_csv::import(&mut tx, c, &data, staff.contributor_id).await {
        Ok(done) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!(
                "/settings/catalog/{slug}?done=imported-{}-added-{}-updated",
                done.created, done.updated
            ))
            .into_response())
        }
        Err(AppError::Validation { errors, .. }) => {
            drop(tx);
            let problems = errors.into_iter().map(|e| e.message).collect();
            let page = list_view(
                &state,
                &staff,
                c,
                &defaults(c),
                &[],
                Notes {
                    error: Some("Nothing was imported. Fix these rows and try again.".into()),
                    import_errors: problems,
                    ..Default::default()
                },
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- studio settings

#[derive(Template)]
#[template(path = "catalog/studio.html")]
struct StudioPage {
    layout: Layout,
    s: StudioForm,
    errors: Vec<FieldError>,
    flash: Option<String>,
}

impl StudioPage {
    /// (field, label, value, hint) of the simple inputs.
    fn inputs(&self) -> Vec<(&'static str, &'static str, &str, &'static str)> {
        let s = &self.s;
        vec![
            ("studio_name", "Studio name", &s.studio_name, ""),
            (
                "currency_code",
                "Currency",
                &s.currency_code,
                "Three-letter code, e.g. USD, EUR, GBP. Every price is shown in it.",
            ),
            (
                "time_zone",
                "Time zone",
                &s.time_zone,
                "e.g. America/Los_Angeles",
            ),
            (
                "editing_hourly_rate",
                "Editing hourly rate",
                &s.editing_hourly_rate,
                "Hourly task templates are priced at effort hours x this rate.",
            ),
            ("tax_rate_percent", "Tax rate (%)", &s.tax_rate_percent, ""),
            (
                "deposit_percent",
                "Deposit (%)",
                &s.deposit_percent,
                "Invoiced at booking.",
            ),
            (
                "balance_due_days_before_wedding",
                "Balance due (days before the wedding)",
                &s.balance_due_days_before_wedding,
                "",
            ),
            (
                "invoice_prefix",
                "Invoice number prefix",
                &s.invoice_prefix,
                "e.g. GHF-",
            ),
        ]
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default, sqlx::FromRow)]
pub struct StudioForm {
    #[serde(default)]
    pub studio_name: String,
    #[serde(default)]
    pub currency_code: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub editing_hourly_rate: String,
    #[serde(default)]
    pub tax_rate_percent: String,
    #[serde(default)]
    pub deposit_percent: String,
    #[serde(default)]
    pub balance_due_days_before_wedding: String,
    #[serde(default)]
    pub invoice_prefix: String,
    /// One phase per line, in order.
    #[serde(default)]
    pub task_phase_order: String,
}

impl StudioForm {
    fn check(&self) -> Vec<FieldError> {
        use rust_decimal::Decimal;
        let mut e = vec![];
        let mut bad = |f: &str, m: &str| {
            e.push(FieldError {
                field: f.into(),
                message: m.into(),
            })
        };
        if self.studio_name.trim().is_empty() || self.studio_name.len() > 255 {
            bad("studio_name", "enter the studio's name");
        }
        let cc = self.currency_code.trim();
        if cc.len() != 3 || !cc.chars().all(|c| c.is_ascii_uppercase()) {
            bad(
                "currency_code",
                "use a three-letter ISO code such as USD, EUR or GBP",
            );
        }
        if self.time_zone.trim().parse::<chrono_tz::Tz>().is_err() {
            bad(
                "time_zone",
                "use a time zone name such as America/Los_Angeles or Europe/London",
            );
        }
        let money = |v: &str, max: Decimal| {
            Decimal::from_str_exact(v.trim())
                .ok()
                .filter(|d| *d >= Decimal::ZERO && *d <= max && d.normalize().scale() <= 2)
        };
        if money(&self.editing_hourly_rate, Decimal::from(999_999)).is_none() {
            bad(
                "editing_hourly_rate",
                "enter an amount of 0 or more with at most 2 decimals",
            );
        }
        if money(&self.tax_rate_percent, Decimal::from(100)).is_none() {
            bad("tax_rate_percent", "enter a percentage from 0 to 100");
        }
        if money(&self.deposit_percent, Decimal::from(100)).is_none() {
            bad("deposit_percent", "enter a percentage from 0 to 100");
        }
        if self
            .balance_due_days_before_wedding
            .trim()
            .parse::<u16>()
            .is_err()
        {
            bad(
                "balance_due_days_before_wedding",
                "enter a whole number of days, 0 or more",
            );
        }
        if self.invoice_prefix.len() > 20 {
            bad("invoice_prefix", "at most 20 characters");
        }
        if self.phases().is_empty() {
            bad("task_phase_order", "list at least one phase, one per line");
        }
        e
    }

    fn phases(&self) -> Vec<String> {
        self.task_phase_order
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }
}

async fn load_studio(db: &sqlx::PgPool) -> AppResult<StudioForm> {
    let mut conn = db.acquire().await?;
    load_studio_in(&mut conn).await
}

async fn load_studio_in(db: &mut sqlx::PgConnection) -> AppResult<StudioForm> {
    Ok(sqlx::query_as(
        "SELECT studio_name, currency_code::text, time_zone, editing_hourly_rate::text, tax_rate_percent::text,
                deposit_percent::text, balance_due_days_before_wedding::text, invoice_prefix,
                array_to_string(task_phase_order, E'\\n') AS task_phase_order FROM studio_settings",
    )
    .fetch_one(db)
    .await?)
}

async fn studio_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<Flash>,
) -> AppResult<Response> {
    let s = load_studio(&state.db).await?;
    let flash = (q.done == "saved").then(|| "Studio settings are saved.".to_string());
    Ok(render(&StudioPage {
        layout: Layout::load(&state.db, &staff, "Studio settings", "/settings").await?,
        s,
        errors: vec![],
        flash,
    }))
}

impl StudioForm {
    /// What the API and the audit log show.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "studio_name": self.studio_name.trim(), "currency_code": self.currency_code.trim(), "time_zone": self.time_zone.trim(),
            "editing_hourly_rate": self.editing_hourly_rate.trim(), "tax_rate_percent": self.tax_rate_percent.trim(),
            "deposit_percent": self.deposit_percent.trim(), "balance_due_days_before_wedding": self.balance_due_days_before_wedding.trim(),
            "invoice_prefix": self.invoice_prefix.trim(), "task_phase_order": self.phases(),
        })
    }
}

/// Check and save the studio settings in one transaction (the page and the API both use it).
pub async fn update_studio(db: &sqlx::PgPool, s: &StudioForm, actor: i32) -> AppResult<()> {
    let errors = s.check();
    if !errors.is_empty() {
        let message = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::Validation { message, errors });
    }
    let mut tx = db.begin().await?;
    let before = load_studio_in(&mut tx).await?;
    sqlx::query(
        "UPDATE studio_settings SET studio_name = $1, currency_code = $2, time_zone = $3, editing_hourly_rate = $4::numeric,
           tax_rate_percent = $5::numeric, deposit_percent = $6::numeric, balance_due_days_before_wedding = $7::int,
           invoice_prefix = $8, task_phase_order = $9, updated_at = now()",
    )
    .bind(s.studio_name.trim())
    .bind(s.currency_code.trim())
    .bind(s.time_zone.trim())
    .bind(s.editing_hourly_rate.trim())
    .bind(s.tax_rate_percent.trim())
    .bind(s.deposit_percent.trim())
    .bind(s.balance_due_days_before_wedding.trim())
    .bind(s.invoice_prefix.trim())
    .bind(s.phases())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Some(actor),
        "settings.studio.update",
        "studio_settings",
        None,
        serde_json::json!({ "before": before.to_json(), "after": s.to_json() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn save_studio(
    State(state): State<AppState>,
    staff: Staff,
    Form(s): Form<StudioForm>,
) -> AppResult<Response> {
    match update_studio(&state.db, &s, staff.contributor_id).await {
        Ok(()) => Ok(Redirect::to("/settings/studio?done=saved").into_response()),
        Err(AppError::Validation { errors, .. }) => {
            let page = StudioPage {
                layout: Layout::load(&state.db, &staff, "Studio settings", "/settings").await?,
                s,
                errors,
                flash: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The studio settings: currency, time zone, editing rate, tax, deposit, balance due days,
/// invoice prefix, task phases.
#[utoipa::path(get, path = "/api/v1/studio-settings", tag = "catalog",
    responses((status = 200, body = Object)))]
async fn api_get_studio(State(state): State<AppState>) -> AppResult<axum::Json<serde_json::Value>> {
    Ok(axum::Json(load_studio(&state.db).await?.to_json()))
}

/// Change the studio settings (every field; decimals as strings, task_phase_order a list).
#[utoipa::path(put, path = "/api/v1/studio-settings", tag = "catalog", request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = crate::http::error::Problem)))]
async fn api_put_studio(
    State(state): State<AppState>,
    staff: Staff,
    crate::http::ApiJson(v): crate::http::ApiJson<serde_json::Value>,
) -> AppResult<axum::Json<serde_json::Value>> {
    let text = |k: &str| match &v[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let phases = v["task_phase_order"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let s = StudioForm {
        studio_name: text("studio_name"),
        currency_code: text("currency_code"),
        time_zone: text("time_zone"),
        editing_hourly_rate: text("editing_hourly_rate"),
        tax_rate_percent: text("tax_rate_percent"),
        deposit_percent: text("deposit_percent"),
        balance_due_days_before_wedding: text("balance_due_days_before_wedding"),
        invoice_prefix: text("invoice_prefix"),
        task_phase_order: phases,
    };
    update_studio(&state.db, &s, staff.contributor_id).await?;
    Ok(axum::Json(load_studio(&state.db).await?.to_json()))
}

//! Task generation (decisions.md, Phase 5): one task per (included component, template the
//! recipes select for it), run in the booking's transaction and again in the transaction of each
//! answered change order. Idempotent: a rerun adds what is missing, archives the tasks of parts
//! that went away (Completed work stays as it was), brings archived tasks back as they were, and
//! never duplicates (the unique index `tasks_component_template_key`) nor deletes. Constant
//! statements whatever the build's size.
use super::rules::{self, Existing, Placed};
use super::tasks;
use crate::error::{AppError, AppResult};
use crate::recipes::{self, EffortRules, Recipe};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use std::collections::{BTreeMap, BTreeSet};

#[derive(sqlx::FromRow)]
struct ComponentRow {
    id: i32,
    deliverable_id: i32,
    coverage_scene_id: i32,
    editing_style_id: i32,
    target_minutes: Option<Decimal>,
    included: bool,
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: i32,
    phase: Option<String>,
    effort_hours: Option<Decimal>,
    effort_calculation_rules: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct RecipeRow {
    deliverable_id: Option<i32>,
    coverage_scene_id: Option<i32>,
    editing_style_id: Option<i32>,
    task_template_id: i32,
    priority: i32,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    id: i32,
    build_component_id: i32,
    task_template_id: i32,
    status: String,
    archived_from: Option<String>,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Generated {
    pub added: usize,
    pub archived: usize,
    pub restored: usize,
}

/// A template as generation reads it.
struct Template {
    phase: Option<String>,
    effort: Option<Decimal>,
    rules: Option<EffortRules>,
}

/// Generate the project's tasks from its build's configuration, in the caller's transaction.
pub async fn generate(
    tx: &mut PgConnection,
    project: i32,
    phases: &[String],
    delivery_weeks: i32,
    now: DateTime<Utc>,
) -> AppResult<Generated> {
    // The project row locked: two runs for one project wait for each other.
    let (wedding, promised): (NaiveDate, Option<NaiveDate>) = sqlx::query_as(
        "SELECT wedding_date, promised_delivery_date FROM projects WHERE id = $1 FOR UPDATE",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("project {project}")))?;
    // The promise is made once, at the first generation (booking); later runs keep it.
    let delivery = match promised {
        Some(day) => day,
        None => {
            let day = rules::delivery(wedding, delivery_weeks);
            sqlx::query("UPDATE projects SET promised_delivery_date = $2 WHERE id = $1")
                .bind(project)
                .bind(day)
                .execute(&mut *tx)
                .await?;
            day
        }
    };
    let components: Vec<ComponentRow> = sqlx::query_as(
        "SELECT bc.id, bd.deliverable_id, bc.coverage_scene_id, bc.editing_style_id,
                bc.target_minutes, COALESCE(bc.is_included, true) AS included
         FROM builds b JOIN build_deliverables bd ON bd.build_id = b.id
         JOIN build_components bc ON bc.build_deliverable_id = bd.id
         WHERE b.project_id = $1",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let recipe_rows: Vec<RecipeRow> = sqlx::query_as(
        "SELECT deliverable_id, coverage_scene_id, editing_style_id, task_template_id, priority
         FROM component_task_recipes",
    )
    .fetch_all(&mut *tx)
    .await?;
    let recipes: Vec<Recipe> = recipe_rows
        .into_iter()
        .map(|r| Recipe {
            deliverable_id: r.deliverable_id,
            scene_id: r.coverage_scene_id,
            style_id: r.editing_style_id,
            template_id: r.task_template_id,
            priority: r.priority,
        })
        .collect();
    let templates: BTreeMap<i32, Template> = sqlx::query_as::<_, TemplateRow>(
        "SELECT id, phase, effort_hours, effort_calculation_rules FROM task_templates",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|t| {
        let rules = t
            .effort_calculation_rules
            .and_then(|v| recipes::parse_effort_rules(&v).ok());
        let template = Template {
            phase: t.phase,
            effort: t.effort_hours,
            rules,
        };
        (t.id, template)
    })
    .collect();
    let existing: Vec<Existing> = sqlx::query_as::<_, ExistingRow>(
        "SELECT id, build_component_id, task_template_id, status::text AS status,
                archived_from::text AS archived_from
         FROM tasks WHERE project_id = $1",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|e| Existing {
        id: e.id,
        component: e.build_component_id,
        template: e.task_template_id,
        status: e.status,
        archived_from: e.archived_from,
    })
    .collect();

    let mut wanted = BTreeSet::new();
    let mut minutes = BTreeMap::new();
    for c in components.iter().filter(|c| c.included) {
        minutes.insert(c.id, c.target_minutes);
        let selected = recipes::selected_templates(
            &recipes,
            c.deliverable_id,
            c.coverage_scene_id,
            c.editing_style_id,
        );
        for t in selected.into_iter().filter(|t| templates.contains_key(t)) {
            wanted.insert((c.id, t));
        }
    }
    let plan = rules::plan(&wanted, &existing);

    // Added: unassigned, planned at the template's effort for the component, due by phase.
    let (mut comp, mut tmpl, mut hours, mut due) = (vec![], vec![], vec![], vec![]);
    for (c, t) in &plan.add {
        let template = &templates[t];
        let effort = recipes::effort_hours(template.effort, template.rules.as_ref(), minutes[c]);
        let (h, _) = rules::planned(None, effort);
        comp.push(*c);
        tmpl.push(*t);
        hours.push(h);
        due.push(rules::due(delivery, phases, template.phase.as_deref()));
    }
    if !plan.add.is_empty() {
        sqlx::query(
            "INSERT INTO tasks (project_id, build_component_id, task_template_id,
                                planned_duration_hours, planned_source, status, due_date,
                                created_at, updated_at)
             SELECT $1, c, t, h, $6, 'To-Do', d, $7, $7
             FROM unnest($2::int[], $3::int[], $4::numeric[], $5::date[]) AS x(c, t, h, d)
             ON CONFLICT (build_component_id, task_template_id) DO NOTHING",
        )
        .bind(project)
        .bind(&comp)
        .bind(&tmpl)
        .bind(&hours)
        .bind(&due)
        .bind(rules::Source::Effort.words())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if !plan.archive.is_empty() {
        sqlx::query(
            "UPDATE tasks SET archived_from = status, status = 'Archived', updated_at = $2
             WHERE id = ANY($1)",
        )
        .bind(&plan.archive)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if !plan.restore.is_empty() {
        let (ids, statuses): (Vec<i32>, Vec<String>) = plan.restore.iter().cloned().unzip();
        sqlx::query(
            "UPDATE tasks SET status = x.s::tasks_status, archived_from = NULL, updated_at = $3
             FROM unnest($1::int[], $2::text[]) AS x(id, s) WHERE tasks.id = x.id",
        )
        .bind(&ids)
        .bind(&statuses)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }

    // Dependencies by phase order within each component, among the tasks not archived; a pair
    // that would close a cycle with one added by hand is left out.
    let placed: Vec<(i32, i32, i32)> = sqlx::query_as(
        "SELECT id, build_component_id, task_template_id FROM tasks
         WHERE project_id = $1 AND status <> 'Archived'",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let placed: Vec<Placed<'_>> = placed
        .iter()
        .map(|(id, c, t)| Placed {
            id: *id,
            component: *c,
            phase: templates.get(t).and_then(|t| t.phase.as_deref()),
        })
        .collect();
    let mut edges = tasks::edges(tx, project).await?;
    let mut blocking = vec![];
    let mut dependent = vec![];
    for (b, d) in rules::phase_dependencies(&placed, phases) {
        if edges.contains(&(b, d)) || rules::cycle(&edges, b, d).is_some() {
            continue;
        }
        edges.push((b, d));
        blocking.push(b);
        dependent.push(d);
    }
    if !blocking.is_empty() {
        sqlx::query(
            "INSERT INTO task_dependencies (blocking_task_id, dependent_task_id, is_generated)
             SELECT b, d, true FROM unnest($1::int[], $2::int[]) AS x(b, d)
             ON CONFLICT (blocking_task_id, dependent_task_id) DO NOTHING",
        )
        .bind(&blocking)
        .bind(&dependent)
        .execute(&mut *tx)
        .await?;
    }
    tasks::refresh_readiness(tx, project, now).await?;
    Ok(Generated {
        added: plan.add.len(),
        archived: plan.archive.len(),
        restored: plan.restore.len(),
    })
}

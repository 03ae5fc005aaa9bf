//! Packages: a build's configuration saved under a name, to start new quotes from; and
//! duplicating a build into another inquiry's quote. Both copy the same configuration.
use super::builds;
use crate::audit;
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct PackageRow {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    /// Coverage, films and add-ons by catalog id.
    #[schema(value_type = Object)]
    pub configuration: serde_json::Value,
}

/// Saved packages, by name.
pub async fn list(conn: &mut PgConnection) -> AppResult<Vec<PackageRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name, description, configuration FROM packages ORDER BY lower(name)",
    )
    .fetch_all(conn)
    .await?)
}

/// What a build is made of, by catalog ids (prices are not copied: they are computed anew).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Configuration {
    pub coverage: Vec<CoverageRow>,
    pub films: Vec<FilmRow>,
    pub add_ons: Vec<AddOnRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageRow {
    pub scene: i32,
    pub operator: i32,
    pub quantity: i32,
    pub hours: Option<rust_decimal::Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FilmRow {
    pub deliverable: i32,
    pub components: Vec<ComponentRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentRow {
    pub scene: i32,
    pub style: i32,
    pub target_minutes: Option<rust_decimal::Decimal>,
    pub included: bool,
    pub default_component: Option<i32>,
    pub follows_coverage: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AddOnRow {
    pub item: i32,
    pub quantity: i32,
    pub notes: Option<String>,
}

/// Read a build's configuration (four queries).
pub async fn configuration(tx: &mut PgConnection, build: i32) -> AppResult<Configuration> {
    let coverage = sqlx::query_as::<_, (i32, i32, i32, Option<rust_decimal::Decimal>)>(
        "SELECT coverage_scene_id, operator_type_id, quantity, hours FROM build_coverage_assignments WHERE build_id = $1 ORDER BY id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(scene, operator, quantity, hours)| CoverageRow { scene, operator, quantity, hours })
    .collect();
    let films: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT id, deliverable_id FROM build_deliverables WHERE build_id = $1 ORDER BY id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    let comps = sqlx::query_as::<_, (i32, i32, i32, Option<rust_decimal::Decimal>, bool, Option<i32>, bool)>(
        "SELECT c.build_deliverable_id, c.coverage_scene_id, c.editing_style_id, c.target_minutes, COALESCE(c.is_included, true), c.default_component_id, c.follows_coverage
         FROM build_components c JOIN build_deliverables bd ON bd.id = c.build_deliverable_id WHERE bd.build_id = $1 ORDER BY c.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    let films = films
        .into_iter()
        .map(|(bd, deliverable)| FilmRow {
            deliverable,
            components: comps
                .iter()
                .filter(|c| c.0 == bd)
                .map(|c| ComponentRow {
                    scene: c.1,
                    style: c.2,
                    target_minutes: c.3,
                    included: c.4,
                    default_component: c.5,
                    follows_coverage: c.6,
                })
                .collect(),
        })
        .collect();
    let add_ons = sqlx::query_as::<_, (i32, i32, Option<String>)>(
        "SELECT billable_item_id, quantity, notes FROM build_billable_items WHERE build_id = $1 AND NOT is_engine_made ORDER BY id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(item, quantity, notes)| AddOnRow { item, quantity, notes })
    .collect();
    Ok(Configuration {
        coverage,
        films,
        add_ons,
    })
}

/// Give an empty build this configuration, then price it once. Catalog rows deleted since the
/// configuration was saved are skipped; add-ons are at today's price, inactive ones skipped.
pub async fn apply(
    tx: &mut PgConnection,
    build: i32,
    config: &Configuration,
    actor: Option<i32>,
    what: &str,
) -> AppResult<()> {
    builds::lock(tx, build).await?;
    let c = config;
    sqlx::query(
        "INSERT INTO build_coverage_assignments (build_id, coverage_scene_id, operator_type_id, quantity, hours)
         SELECT $1, u.s, u.o, u.q, u.h FROM unnest($2::int[], $3::int[], $4::int[], $5::numeric[]) WITH ORDINALITY u(s, o, q, h, n)
         WHERE EXISTS (SELECT 1 FROM coverage_scenes WHERE id = u.s) AND EXISTS (SELECT 1 FROM operator_types WHERE id = u.o) ORDER BY u.n",
    )
    .bind(build)
    .bind(c.coverage.iter().map(|r| r.scene).collect::<Vec<_>>())
    .bind(c.coverage.iter().map(|r| r.operator).collect::<Vec<_>>())
    .bind(c.coverage.iter().map(|r| r.quantity).collect::<Vec<_>>())
    .bind(c.coverage.iter().map(|r| r.hours).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let films: Vec<i32> = c.films.iter().map(|f| f.deliverable).collect();
    let bds: Vec<(i32, i32)> = sqlx::query_as(
        "INSERT INTO build_deliverables (build_id, deliverable_id)
         SELECT $1, u.d FROM unnest($2::int[]) WITH ORDINALITY u(d, n) WHERE EXISTS (SELECT 1 FROM deliverables WHERE id = u.d) ORDER BY u.n
         RETURNING id, deliverable_id",
    )
    .bind(build)
    .bind(&films)
    .fetch_all(&mut *tx)
    .await?;
    let rows: Vec<(i32, &ComponentRow)> = c
        .films
        .iter()
        .filter_map(|f| bds.iter().find(|b| b.1 == f.deliverable).map(|b| (b.0, f)))
        .flat_map(|(bd, f)| f.components.iter().map(move |r| (bd, r)))
        .collect();
    sqlx::query(
        "INSERT INTO build_components (build_deliverable_id, coverage_scene_id, editing_style_id, target_minutes, is_included, default_component_id, follows_coverage)
         SELECT u.bd, u.s, u.st, u.m, u.inc, (SELECT id FROM deliverable_default_components WHERE id = u.dc), u.f
         FROM unnest($1::int[], $2::int[], $3::int[], $4::numeric[], $5::bool[], $6::int[], $7::bool[]) WITH ORDINALITY u(bd, s, st, m, inc, dc, f, n)
         WHERE EXISTS (SELECT 1 FROM coverage_scenes WHERE id = u.s) AND EXISTS (SELECT 1 FROM editing_styles WHERE id = u.st) ORDER BY u.n",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.scene).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.style).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.target_minutes).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.included).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.default_component).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.follows_coverage).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO build_billable_items (build_id, billable_item_id, quantity, price_at_time_of_add, notes)
         SELECT $1, b.id, u.q, b.price, u.notes FROM unnest($2::int[], $3::int[], $4::text[]) WITH ORDINALITY u(i, q, notes, n)
         JOIN billable_items b ON b.id = u.i AND b.is_active ORDER BY u.n",
    )
    .bind(build)
    .bind(c.add_ons.iter().map(|a| a.item).collect::<Vec<_>>())
    .bind(c.add_ons.iter().map(|a| a.quantity).collect::<Vec<_>>())
    .bind(c.add_ons.iter().map(|a| a.notes.clone()).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let priced = super::engine::recompute(tx, build).await?;
    audit::record(
        tx,
        actor,
        "builds.configure",
        "build",
        Some(build),
        serde_json::json!({ "from": what, "live_price": priced.total }),
    )
    .await?;
    Ok(())
}

/// Save a build's configuration as a named package.
pub async fn save(
    tx: &mut PgConnection,
    build: i32,
    name: &str,
    description: Option<&str>,
    actor: Option<i32>,
) -> AppResult<i32> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::field(
            "name",
            "give the package a name (up to 255 characters)",
        ));
    }
    builds::ensure_exists(tx, build).await?;
    let config = configuration(tx, build).await?;
    if config.coverage.is_empty() && config.films.is_empty() {
        return Err(AppError::Conflict(
            "this quote is empty: add coverage or a film before saving it as a package".into(),
        ));
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO packages (name, description, configuration) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(description.map(str::trim).filter(|d| !d.is_empty()))
    .bind(serde_json::to_value(&config).map_err(anyhow::Error::from)?)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => {
            AppError::Conflict(format!("a package named \"{name}\" already exists"))
        }
        other => other,
    })?;
    audit::record(
        tx,
        actor,
        "packages.create",
        "package",
        Some(id),
        serde_json::json!({ "name": name, "from_build": build }),
    )
    .await?;
    Ok(id)
}

/// The quote of an inquiry: the one it has; else a new one, from the package when one is
/// given, or empty.
pub async fn open_or_start(
    tx: &mut PgConnection,
    inquiry: i32,
    package: Option<i32>,
    actor: Option<i32>,
) -> AppResult<i32> {
    if let Some(id) = builds::of_inquiry(tx, inquiry).await? {
        return Ok(id);
    }
    match package {
        Some(package) => start_from_package(tx, inquiry, package, actor).await,
        None => builds::create_for_inquiry(tx, inquiry, actor).await,
    }
}

/// A new build for an inquiry, starting from a package.
pub async fn start_from_package(
    tx: &mut PgConnection,
    inquiry: i32,
    package: i32,
    actor: Option<i32>,
) -> AppResult<i32> {
    let config: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT name, configuration FROM packages WHERE id = $1")
            .bind(package)
            .fetch_optional(&mut *tx)
            .await?;
    let (name, config) = config
        .ok_or_else(|| AppError::field("package_id", format!("there is no package {package}")))?;
    let config: Configuration = serde_json::from_value(config).map_err(anyhow::Error::from)?;
    let build = builds::create_for_inquiry(tx, inquiry, actor).await?;
    apply(tx, build, &config, actor, &format!("package {name}")).await?;
    Ok(build)
}

/// Copy a build's configuration into a new build for another inquiry.
pub async fn duplicate(
    tx: &mut PgConnection,
    build: i32,
    inquiry: i32,
    actor: Option<i32>,
) -> AppResult<i32> {
    builds::ensure_exists(tx, build).await?;
    let config = configuration(tx, build).await?;
    let copy = builds::create_for_inquiry(tx, inquiry, actor).await?;
    apply(tx, copy, &config, actor, &format!("quote {build}")).await?;
    Ok(copy)
}

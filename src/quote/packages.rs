//! Packages: a build's configuration saved under a name, to start new quotes from; and
//! duplicating a build into another inquiry's quote. Both copy the same configuration.
use super::builds;
use crate::audit;
use crate::error::{AppError, AppResult};
use rust_decimal::Decimal;
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct CoverageRow {
    pub scene: i32,
    pub operator: i32,
    pub quantity: i32,
    pub hours: Option<Decimal>,
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
    pub target_minutes: Option<Decimal>,
    pub included: bool,
    pub default_component: Option<i32>,
    pub follows_coverage: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct AddOnRow {
    pub item: i32,
    pub quantity: i32,
    pub notes: Option<String>,
}

/// Read a build's configuration (three queries).
pub async fn configuration(tx: &mut PgConnection, build: i32) -> AppResult<Configuration> {
    let coverage: Vec<CoverageRow> = sqlx::query_as(
        "SELECT coverage_scene_id AS scene, operator_type_id AS operator, quantity, hours
         FROM build_coverage_assignments WHERE build_id = $1 ORDER BY id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    let films = films(tx, build).await?;
    let add_ons: Vec<AddOnRow> = sqlx::query_as(
        "SELECT billable_item_id AS item, quantity, notes FROM build_billable_items
         WHERE build_id = $1 AND NOT is_engine_made ORDER BY id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    Ok(Configuration {
        coverage,
        films,
        add_ons,
    })
}

/// A film of a build and one of its components (none: a film without components).
#[derive(sqlx::FromRow)]
struct FilmComponent {
    film_id: i32,
    deliverable: i32,
    component_id: Option<i32>,
    scene: Option<i32>,
    style: Option<i32>,
    target_minutes: Option<Decimal>,
    included: bool,
    default_component: Option<i32>,
    follows_coverage: Option<bool>,
}

/// The films of a build with their components, films and components in the order they came.
async fn films(tx: &mut PgConnection, build: i32) -> AppResult<Vec<FilmRow>> {
    Ok(films_with_ids(tx, build)
        .await?
        .into_iter()
        .map(|f| f.1)
        .collect())
}

/// The films with the ids of their rows: (build film, the film, its components' ids).
async fn films_with_ids(
    tx: &mut PgConnection,
    build: i32,
) -> AppResult<Vec<(i32, FilmRow, Vec<i32>)>> {
    let rows: Vec<FilmComponent> = sqlx::query_as(
        "SELECT bd.id AS film_id, bd.deliverable_id AS deliverable, c.id AS component_id,
                c.coverage_scene_id AS scene, c.editing_style_id AS style, c.target_minutes,
                COALESCE(c.is_included, true) AS included,
                c.default_component_id AS default_component, c.follows_coverage
         FROM build_deliverables bd
         LEFT JOIN build_components c ON c.build_deliverable_id = bd.id
         WHERE bd.build_id = $1 ORDER BY bd.id, c.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    let mut films: Vec<(i32, FilmRow, Vec<i32>)> = vec![];
    for r in rows {
        if films.last().is_none_or(|f| f.0 != r.film_id) {
            let film = FilmRow {
                deliverable: r.deliverable,
                components: vec![],
            };
            films.push((r.film_id, film, vec![]));
        }
        let (Some(id), Some(scene), Some(style)) = (r.component_id, r.scene, r.style) else {
            continue;
        };
        let last = films.last_mut().expect("pushed above");
        last.2.push(id);
        last.1.components.push(ComponentRow {
            scene,
            style,
            target_minutes: r.target_minutes,
            included: r.included,
            default_component: r.default_component,
            follows_coverage: r.follows_coverage.unwrap_or_default(),
        });
    }
    Ok(films)
}

/// Put a booked build's films back as `back` has them (a declined change order), touching only
/// what differs, so that the components of a film the change did not remove or add keep their
/// ids, and with them their tasks and the work logged on them. A film of `back` is matched to a
/// film of the build with the same deliverable and the same parts (scene and style, in order):
/// its parts' settings (length, included) are restored in place. Films with no match are
/// removed, and `back`'s films with no match are made again. Three statements.
pub async fn restore_films(tx: &mut PgConnection, build: i32, back: &[FilmRow]) -> AppResult<()> {
    let now = films_with_ids(tx, build).await?;
    let parts = |f: &FilmRow| -> Vec<(i32, i32)> {
        f.components.iter().map(|c| (c.scene, c.style)).collect()
    };
    let mut used = vec![false; now.len()];
    let mut again = vec![];
    let mut in_place: Vec<(i32, &ComponentRow)> = vec![];
    for film in back {
        let found = now.iter().enumerate().position(|(i, (_, f, _))| {
            !used[i] && f.deliverable == film.deliverable && parts(f) == parts(film)
        });
        match found {
            Some(i) => {
                used[i] = true;
                let (_, current, ids) = &now[i];
                for ((id, was), want) in ids.iter().zip(&current.components).zip(&film.components) {
                    if was != want {
                        in_place.push((*id, want));
                    }
                }
            }
            None => again.push(film.clone()),
        }
    }
    let gone: Vec<i32> = now
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|((id, _, _), _)| *id)
        .collect();
    if !gone.is_empty() {
        sqlx::query("DELETE FROM build_deliverables WHERE id = ANY($1)")
            .bind(&gone)
            .execute(&mut *tx)
            .await?;
    }
    if !in_place.is_empty() {
        sqlx::query(
            "UPDATE build_components c SET target_minutes = u.m, is_included = u.inc,
                    default_component_id = (SELECT id FROM deliverable_default_components
                                            WHERE id = u.dc),
                    follows_coverage = u.f
             FROM unnest($1::int[], $2::numeric[], $3::bool[], $4::int[], $5::bool[])
                  AS u(id, m, inc, dc, f)
             WHERE c.id = u.id",
        )
        .bind(in_place.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind(
            in_place
                .iter()
                .map(|r| r.1.target_minutes)
                .collect::<Vec<_>>(),
        )
        .bind(in_place.iter().map(|r| r.1.included).collect::<Vec<_>>())
        .bind(
            in_place
                .iter()
                .map(|r| r.1.default_component)
                .collect::<Vec<_>>(),
        )
        .bind(
            in_place
                .iter()
                .map(|r| r.1.follows_coverage)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
    }
    insert_films(tx, build, &again).await
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
    insert_coverage(tx, build, &config.coverage).await?;
    insert_films(tx, build, &config.films).await?;
    insert_add_ons(tx, build, &config.add_ons).await?;
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

async fn insert_coverage(tx: &mut PgConnection, build: i32, rows: &[CoverageRow]) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO build_coverage_assignments
                (build_id, coverage_scene_id, operator_type_id, quantity, hours)
         SELECT $1, u.s, u.o, u.q, u.h
         FROM unnest($2::int[], $3::int[], $4::int[], $5::numeric[])
              WITH ORDINALITY u(s, o, q, h, n)
         WHERE EXISTS (SELECT 1 FROM coverage_scenes WHERE id = u.s)
           AND EXISTS (SELECT 1 FROM operator_types WHERE id = u.o)
         ORDER BY u.n",
    )
    .bind(build)
    .bind(rows.iter().map(|r| r.scene).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.operator).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.quantity).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.hours).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The films whose deliverable still exists, then their components.
async fn insert_films(tx: &mut PgConnection, build: i32, films: &[FilmRow]) -> AppResult<()> {
    let deliverables: Vec<i32> = films.iter().map(|f| f.deliverable).collect();
    let bds: Vec<(i32, i32)> = sqlx::query_as(
        "INSERT INTO build_deliverables (build_id, deliverable_id)
         SELECT $1, u.d FROM unnest($2::int[]) WITH ORDINALITY u(d, n)
         WHERE EXISTS (SELECT 1 FROM deliverables WHERE id = u.d) ORDER BY u.n
         RETURNING id, deliverable_id",
    )
    .bind(build)
    .bind(&deliverables)
    .fetch_all(&mut *tx)
    .await?;
    let rows: Vec<(i32, &ComponentRow)> = films
        .iter()
        .filter_map(|f| bds.iter().find(|b| b.1 == f.deliverable).map(|b| (b.0, f)))
        .flat_map(|(bd, f)| f.components.iter().map(move |r| (bd, r)))
        .collect();
    insert_components(tx, &rows).await
}

/// Components as (build film, component); those whose scene or style is gone are skipped.
async fn insert_components(tx: &mut PgConnection, rows: &[(i32, &ComponentRow)]) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO build_components (build_deliverable_id, coverage_scene_id, editing_style_id,
                target_minutes, is_included, default_component_id, follows_coverage)
         SELECT u.bd, u.s, u.st, u.m, u.inc,
                (SELECT id FROM deliverable_default_components WHERE id = u.dc), u.f
         FROM unnest($1::int[], $2::int[], $3::int[], $4::numeric[], $5::bool[], $6::int[],
                     $7::bool[]) WITH ORDINALITY u(bd, s, st, m, inc, dc, f, n)
         WHERE EXISTS (SELECT 1 FROM coverage_scenes WHERE id = u.s)
           AND EXISTS (SELECT 1 FROM editing_styles WHERE id = u.st)
         ORDER BY u.n",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.scene).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.style).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.target_minutes).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.included).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.1.default_component)
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.1.follows_coverage)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Add-ons at today's price; items gone or no longer active are skipped.
async fn insert_add_ons(tx: &mut PgConnection, build: i32, add_ons: &[AddOnRow]) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO build_billable_items
                (build_id, billable_item_id, quantity, price_at_time_of_add, notes)
         SELECT $1, b.id, u.q, b.price, u.notes
         FROM unnest($2::int[], $3::int[], $4::text[]) WITH ORDINALITY u(i, q, notes, n)
         JOIN billable_items b ON b.id = u.i AND b.is_active ORDER BY u.n",
    )
    .bind(build)
    .bind(add_ons.iter().map(|a| a.item).collect::<Vec<_>>())
    .bind(add_ons.iter().map(|a| a.quantity).collect::<Vec<_>>())
    .bind(add_ons.iter().map(|a| a.notes.clone()).collect::<Vec<_>>())
    .execute(&mut *tx)
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
    let (sent, name) = (name, name.trim());
    if name.is_empty() || sent.chars().count() > 255 {
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
    let id = insert_package(tx, name, description, &config).await?;
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

/// A new package; a name already taken is a 409 that says so.
async fn insert_package(
    tx: &mut PgConnection,
    name: &str,
    description: Option<&str>,
    config: &Configuration,
) -> AppResult<i32> {
    sqlx::query_scalar(
        "INSERT INTO packages (name, description, configuration) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(description.map(str::trim).filter(|d| !d.is_empty()))
    .bind(serde_json::to_value(config).map_err(anyhow::Error::from)?)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => {
            AppError::Conflict(format!("a package named \"{name}\" already exists"))
        }
        other => other,
    })
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
    let (name, config) = config.ok_or_else(|| {
        AppError::unknown_ref("package_id", format!("there is no package {package}"))
    })?;
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

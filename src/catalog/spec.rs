//! The table of catalogs and rules tables, each described once (its fields and the rules
//! between them): the description drives validation, SQL, the API, the pages and CSV alike.
use super::field::{Catalog, Field, Kind, Values, f};
use crate::error::{AppError, AppResult, FieldError};

const PRICING: Kind = Kind::Enum("pricing_type_options", &["Hourly", "Fixed"]);

fn no_check(_: &Values) -> Result<(), FieldError> {
    Ok(())
}

fn present(v: &Values, k: &str) -> bool {
    v.get(k).is_some_and(|x| x.is_some())
}

fn err(field: &str, message: &str) -> Result<(), FieldError> {
    Err(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

fn check_operator(v: &Values) -> Result<(), FieldError> {
    match v.get("pricing_type").cloned().flatten().as_deref() {
        Some("Hourly") if !present(v, "default_hourly_rate") => err(
            "default_hourly_rate",
            "an hourly operator needs an hourly rate",
        ),
        Some("Fixed") if !present(v, "default_fixed_price") => err(
            "default_fixed_price",
            "a fixed-price operator needs a fixed price",
        ),
        _ => Ok(()),
    }
}

fn check_template(v: &Values) -> Result<(), FieldError> {
    match v.get("pricing_type").cloned().flatten().as_deref() {
        Some("Fixed") if !present(v, "fixed_price") => {
            err("fixed_price", "a fixed-price template needs a fixed price")
        }
        Some("Hourly")
            if !present(v, "effort_hours") && !present(v, "effort_calculation_rules") =>
        {
            err(
                "effort_hours",
                "an hourly template needs effort hours or effort rules",
            )
        }
        _ => Ok(()),
    }
}

pub const CATALOGS: &[Catalog] = &[
    Catalog {
        slug: "coverage-scenes",
        table: "coverage_scenes",
        title: "Coverage scenes",
        singular: "coverage scene",
        fields: &[
            f("name", "Name", Kind::Text, true, "e.g. Ceremony"),
            f("description", "Description", Kind::LongText, false, ""),
            f(
                "default_hours",
                "Default hours",
                Kind::Amount {
                    positive: true,
                    max: 24,
                },
                false,
                "Hours an hourly operator is booked for this scene when a quote names none.",
            ),
        ],
        check: no_check,
        is_rule: false,
    },
    Catalog {
        slug: "deliverables",
        table: "deliverables",
        title: "Films",
        singular: "film",
        fields: &[
            f("name", "Name", Kind::Text, true, "e.g. Highlight Film"),
            f("description", "Description", Kind::LongText, false, ""),
        ],
        check: no_check,
        is_rule: false,
    },
    Catalog {
        slug: "editing-styles",
        table: "editing_styles",
        title: "Editing styles",
        singular: "editing style",
        fields: &[
            f("name", "Name", Kind::Text, true, "e.g. Cinematic"),
            f("description", "Description", Kind::LongText, false, ""),
        ],
        check: no_check,
        is_rule: false,
    },
    Catalog {
        slug: "operator-types",
        table: "operator_types",
        title: "Operator types",
        singular: "operator type",
        fields: &[
            f("name", "Name", Kind::Text, true, "e.g. Lead Videographer"),
            f(
                "pricing_type",
                "Pricing",
                PRICING,
                true,
                "Hourly: rate x hours. Fixed: one price per booking.",
            ),
            f(
                "default_hourly_rate",
                "Hourly rate",
                Kind::Money(6),
                false,
                "Needed for hourly pricing.",
            ),
            f(
                "default_fixed_price",
                "Fixed price",
                Kind::Money(8),
                false,
                "Needed for fixed pricing.",
            ),
            f(
                "is_taxable",
                "Taxable",
                Kind::Bool,
                false,
                "The studio's tax rate applies to this coverage.",
            ),
        ],
        check: check_operator,
        is_rule: false,
    },
    Catalog {
        slug: "billable-items",
        table: "billable_items",
        title: "Billable items",
        singular: "billable item",
        fields: &[
            f("name", "Name", Kind::Text, true, "e.g. Rush Delivery"),
            f("description", "Description", Kind::LongText, false, ""),
            f("category", "Category", Kind::Text, false, "e.g. Add-ons"),
            f("price", "Price", Kind::Money(8), true, ""),
            f(
                "pricing_type",
                "Priced per",
                Kind::Enum("billable_item_pricing_type", &["Fixed", "Unit"]),
                true,
                "Fixed: once. Unit: per quantity.",
            ),
            f(
                "is_active",
                "Active",
                Kind::Bool,
                false,
                "Inactive items cannot be added to new quotes.",
            ),
            f(
                "is_taxable",
                "Taxable",
                Kind::Bool,
                false,
                "The studio's tax rate applies to this item.",
            ),
        ],
        check: no_check,
        is_rule: false,
    },
    Catalog {
        slug: "task-templates",
        table: "task_templates",
        title: "Task templates",
        singular: "task template",
        fields: &[
            f("name", "Name", Kind::Text, true, "e.g. Highlight Rough Cut"),
            f(
                "phase",
                "Phase",
                Kind::Text,
                false,
                "One of the studio's task phases.",
            ),
            f(
                "pricing_type",
                "Pricing",
                PRICING,
                true,
                "Hourly: effort hours x the studio's editing rate. Fixed: a set price.",
            ),
            f(
                "effort_hours",
                "Effort hours",
                Kind::Amount {
                    positive: false,
                    max: 999_999,
                },
                false,
                "Hours of work when no effort rules apply.",
            ),
            f(
                "effort_calculation_rules",
                "Effort rules",
                Kind::EffortRules,
                false,
                concat!(
                    "Hours = base + per-minute x the component's target minutes, kept between ",
                    "at least and at most. Leave all empty to use the effort hours."
                ),
            ),
            f(
                "fixed_price",
                "Fixed price",
                Kind::Money(8),
                false,
                "Needed for fixed pricing.",
            ),
            Field {
                name: "average_duration_hours",
                label: "Average hours (learned)",
                kind: Kind::Amount {
                    positive: false,
                    max: 999_999,
                },
                required: false,
                hint: "Learned every night from finished tasks.",
                read_only: true,
            },
        ],
        check: check_template,
        is_rule: false,
    },
    Catalog {
        slug: "default-components",
        table: "deliverable_default_components",
        title: "Film default components",
        singular: "default component",
        fields: &[
            f(
                "deliverable_id",
                "Film",
                Kind::Ref("deliverables"),
                true,
                "",
            ),
            f(
                "coverage_scene_id",
                "Scene",
                Kind::Ref("coverage-scenes"),
                false,
                "Empty: one component for every scene the quote covers.",
            ),
            f(
                "default_editing_style_id",
                "Style",
                Kind::Ref("editing-styles"),
                true,
                "",
            ),
            f(
                "default_target_minutes",
                "Target minutes",
                Kind::Amount {
                    positive: false,
                    max: 999_999,
                },
                false,
                "",
            ),
            f(
                "default_is_included",
                "Included by default",
                Kind::Bool,
                false,
                "",
            ),
        ],
        check: no_check,
        is_rule: true,
    },
    Catalog {
        slug: "style-requirements",
        table: "editing_style_requirements",
        title: "Style requirements",
        singular: "style requirement",
        fields: &[
            f(
                "editing_style_id",
                "Style",
                Kind::Ref("editing-styles"),
                true,
                "",
            ),
            f(
                "billable_item_id",
                "Adds billable item",
                Kind::Ref("billable-items"),
                true,
                "",
            ),
            f(
                "quantity",
                "Quantity per component",
                Kind::Int { min: 1 },
                true,
                "",
            ),
        ],
        check: no_check,
        is_rule: true,
    },
    Catalog {
        slug: "task-recipes",
        table: "component_task_recipes",
        title: "Component task recipes",
        singular: "task recipe",
        fields: &[
            f(
                "deliverable_id",
                "Film",
                Kind::Ref("deliverables"),
                false,
                "Empty: any film.",
            ),
            f(
                "coverage_scene_id",
                "Scene",
                Kind::Ref("coverage-scenes"),
                false,
                "Empty: any scene.",
            ),
            f(
                "editing_style_id",
                "Style",
                Kind::Ref("editing-styles"),
                false,
                "Empty: any style.",
            ),
            f(
                "task_template_id",
                "Needs task",
                Kind::Ref("task-templates"),
                true,
                "",
            ),
            f(
                "priority",
                "Priority",
                Kind::Int { min: -1000 },
                true,
                "Lower runs first.",
            ),
        ],
        check: no_check,
        is_rule: true,
    },
];

pub fn find(slug: &str) -> Option<&'static Catalog> {
    CATALOGS.iter().find(|c| c.slug == slug)
}

/// The catalog at this address, or a 404 naming the slug.
pub fn by_slug(slug: &str) -> AppResult<&'static Catalog> {
    find(slug).ok_or_else(|| AppError::NotFound(format!("there is no catalog \"{slug}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect()
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let c = find("billable-items").unwrap();
        let e = c
            .validate(&vals(&[
                ("name", ""),
                ("price", "-1"),
                ("pricing_type", "Weekly"),
            ]))
            .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "price", "pricing_type"]);
        let e = c
            .validate(&vals(&[
                ("name", "X"),
                ("price", "10.005"),
                ("pricing_type", "Fixed"),
            ]))
            .unwrap_err();
        assert_eq!(e[0].message, "must have at most 2 decimals");
        let ok = c
            .validate(&vals(&[
                ("name", " Rush "),
                ("price", "350"),
                ("pricing_type", "Fixed"),
            ]))
            .unwrap();
        assert_eq!(ok["name"].as_deref(), Some("Rush"));
        assert_eq!(
            ok["is_active"].as_deref(),
            Some("false"),
            "an unticked checkbox"
        );
    }

    #[test]
    fn operators_and_templates_need_the_price_their_pricing_uses() {
        let ops = find("operator-types").unwrap();
        let e = ops
            .validate(&vals(&[
                ("name", "Lead"),
                ("pricing_type", "Hourly"),
                ("default_fixed_price", "100"),
            ]))
            .unwrap_err();
        assert_eq!(e[0].field, "default_hourly_rate");
        let e = ops
            .validate(&vals(&[("name", "Drone"), ("pricing_type", "Fixed")]))
            .unwrap_err();
        assert_eq!(e[0].field, "default_fixed_price");
        let t = find("task-templates").unwrap();
        let e = t
            .validate(&vals(&[("name", "Cut"), ("pricing_type", "Fixed")]))
            .unwrap_err();
        assert_eq!(e[0].field, "fixed_price");
        let e = t
            .validate(&vals(&[
                ("name", "Cut"),
                ("pricing_type", "Hourly"),
                ("effort_calculation_rules", "{\"base\": 1}"),
            ]))
            .unwrap_err();
        assert_eq!(e[0].field, "effort_calculation_rules");
        assert!(e[0].message.contains("unknown key"));
        assert!(
            t.validate(&vals(&[
                ("name", "Cut"),
                ("pricing_type", "Hourly"),
                ("effort_calculation_rules", "{\"base_hours\": 1}")
            ]))
            .is_ok()
        );
    }
}

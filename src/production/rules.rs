//! Production rules, pure (decisions.md, Phase 5): what task generation adds, archives and
//! brings back; planned hours and where they come from; due dates by phase; dependencies by
//! phase order; cycles; the status a task's blockers give it; moves by hand; @mentions.
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

pub const TODO: &str = "To-Do";
pub const READY: &str = "Ready to Start";
pub const IN_PROGRESS: &str = "In Progress";
pub const COMPLETED: &str = "Completed";
pub const ARCHIVED: &str = "Archived";
/// Every status, in board order.
pub const STATUSES: [&str; 5] = [TODO, READY, IN_PROGRESS, COMPLETED, ARCHIVED];

/// A task that exists, as generation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub id: i32,
    pub component: i32,
    pub template: i32,
    pub status: String,
    /// Its status before it was archived.
    pub archived_from: Option<String>,
}

/// What generation does: tasks to add (component, template), to archive, to bring back (id and
/// the status it returns to).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub add: Vec<(i32, i32)>,
    pub archive: Vec<i32>,
    pub restore: Vec<(i32, String)>,
}

/// One task per wanted (included component, selected template). A wanted pair without a task is
/// added; a task whose pair is no longer wanted is archived unless it is Completed (done work
/// stays as it was); an archived task wanted again comes back in the status it had. Nothing is
/// ever deleted, and a task that exists and is wanted is left alone (never reset).
pub fn plan(wanted: &BTreeSet<(i32, i32)>, existing: &[Existing]) -> Plan {
    let mut out = Plan::default();
    let have: BTreeMap<(i32, i32), &Existing> = existing
        .iter()
        .map(|e| ((e.component, e.template), e))
        .collect();
    for pair in wanted {
        match have.get(pair) {
            None => out.add.push(*pair),
            Some(e) if e.status == ARCHIVED => out.restore.push((
                e.id,
                e.archived_from.clone().unwrap_or_else(|| TODO.to_string()),
            )),
            Some(_) => {}
        }
    }
    for e in existing {
        if !wanted.contains(&(e.component, e.template))
            && e.status != ARCHIVED
            && e.status != COMPLETED
        {
            out.archive.push(e.id);
        }
    }
    out
}

/// Where planned hours came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The assignee's own average over this many completed tasks of the template.
    Average { name: String, tasks: i32 },
    /// The assignee's usual hours for the template (set by hand).
    Default { name: String },
    /// The template's effort for the component (its rules and the film's length).
    Effort,
}

impl Source {
    pub fn words(&self) -> String {
        match self {
            Source::Average { name, tasks } => {
                let s = if *tasks == 1 { "" } else { "s" };
                format!("{name}'s average over {tasks} task{s}")
            }
            Source::Default { name } => format!("{name}'s usual hours"),
            Source::Effort => "the template's effort for this part of the film".to_string(),
        }
    }
}

/// The assignee's benchmark for a template.
#[derive(Debug, Clone, Default)]
pub struct Benchmark {
    pub name: String,
    pub average: Option<Decimal>,
    pub sample: i32,
    pub default: Option<Decimal>,
}

/// Planned hours: the assignee's average (when learned from at least one task), else their
/// default, else the template's effort for the component.
pub fn planned(assignee: Option<&Benchmark>, effort: Decimal) -> (Decimal, Source) {
    if let Some(b) = assignee {
        if let (Some(avg), true) = (b.average, b.sample > 0) {
            let source = Source::Average {
                name: b.name.clone(),
                tasks: b.sample,
            };
            return (avg, source);
        }
        if let Some(d) = b.default {
            return (
                d,
                Source::Default {
                    name: b.name.clone(),
                },
            );
        }
    }
    (effort.round_dp(2), Source::Effort)
}

/// The promised delivery day: `weeks` after the wedding.
pub fn delivery(wedding: NaiveDate, weeks: i32) -> NaiveDate {
    wedding + Days::new(7 * weeks.max(0) as u64)
}

/// A task's due day, counted back from the delivery day by phase order: the last phase is due
/// on the delivery day, each earlier phase a week before the next. A phase not in the studio's
/// order is due on the delivery day.
pub fn due(delivery: NaiveDate, phases: &[String], phase: Option<&str>) -> NaiveDate {
    let Some(i) = phase.and_then(|p| phases.iter().position(|x| x == p)) else {
        return delivery;
    };
    let weeks_before = (phases.len() - 1 - i) as u64;
    delivery - Days::new(7 * weeks_before)
}

/// A generated task for dependencies: id, component, phase.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub id: i32,
    pub component: i32,
    pub phase: Option<&'a str>,
}

/// Dependencies by phase order within each component: every task of a phase is blocked by each
/// task of the nearest earlier phase the component has (so, transitively, by every earlier one).
/// Tasks whose phase is not in the studio's order take no part. Pairs (blocking, dependent).
pub fn phase_dependencies(tasks: &[Placed<'_>], phases: &[String]) -> Vec<(i32, i32)> {
    let mut by_component: BTreeMap<i32, BTreeMap<usize, Vec<i32>>> = BTreeMap::new();
    for t in tasks {
        if let Some(i) = t.phase.and_then(|p| phases.iter().position(|x| x == p)) {
            by_component
                .entry(t.component)
                .or_default()
                .entry(i)
                .or_default()
                .push(t.id);
        }
    }
    let mut out = vec![];
    for levels in by_component.values() {
        let levels: Vec<&Vec<i32>> = levels.values().collect();
        for pair in levels.windows(2) {
            for b in pair[0] {
                for d in pair[1] {
                    out.push((*b, *d));
                }
            }
        }
    }
    out
}

/// Whether adding `blocking -> dependent` to `edges` (pairs blocking, dependent) closes a cycle;
/// if it does, the cycle as task ids: dependent -> ... -> blocking -> dependent.
pub fn cycle(edges: &[(i32, i32)], blocking: i32, dependent: i32) -> Option<Vec<i32>> {
    if blocking == dependent {
        return Some(vec![blocking, dependent]);
    }
    // A path from dependent to blocking along existing edges closes the cycle.
    let mut next: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (b, d) in edges {
        next.entry(*b).or_default().push(*d);
    }
    let mut came_from: BTreeMap<i32, i32> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([dependent]);
    let mut seen = BTreeSet::from([dependent]);
    while let Some(n) = queue.pop_front() {
        if n == blocking {
            let mut path = vec![blocking];
            let mut at = blocking;
            while at != dependent {
                at = came_from[&at];
                path.push(at);
            }
            path.reverse();
            path.push(dependent);
            return Some(path);
        }
        for m in next.get(&n).into_iter().flatten() {
            if seen.insert(*m) {
                came_from.insert(*m, n);
                queue.push_back(*m);
            }
        }
    }
    None
}

/// The status a To-Do or Ready to Start task should have: Ready to Start when every blocker is
/// Completed (or Archived: its part of the film went away), else To-Do. Other statuses stay
/// (a task in progress is not sent back by a reopened blocker).
pub fn readiness<'a>(status: &'a str, blockers: &[&str]) -> &'a str {
    if status != TODO && status != READY {
        return status;
    }
    if blockers.iter().all(|b| *b == COMPLETED || *b == ARCHIVED) {
        READY
    } else {
        TODO
    }
}

/// The moves a person may make by hand (generation archives and restores; blockers decide
/// between To-Do and Ready to Start): start a ready task, complete one in progress (or a ready
/// one directly), reopen a completed one, put one in progress back.
pub fn can_move(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        (READY, IN_PROGRESS)
            | (TODO, IN_PROGRESS)
            | (IN_PROGRESS, COMPLETED)
            | (READY, COMPLETED)
            | (IN_PROGRESS, READY)
            | (COMPLETED, IN_PROGRESS)
            | (COMPLETED, READY)
    )
}

/// The people a comment mentions: `@first` or `@first.last` (case-insensitive), matched against
/// staff (id, first name, last name); each once, in the order of the staff given.
pub fn mentions(text: &str, staff: &[(i32, String, String)]) -> Vec<i32> {
    let words: BTreeSet<String> = text
        .split(|c: char| c.is_whitespace() || ",;:!?()".contains(c))
        .filter_map(|w| w.strip_prefix('@'))
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    staff
        .iter()
        .filter(|(_, first, last)| {
            let first = first.to_lowercase();
            let full = format!("{first}.{}", last.to_lowercase());
            words.contains(&first) || words.contains(&full)
        })
        .map(|(id, _, _)| *id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn task(id: i32, component: i32, template: i32, status: &str) -> Existing {
        Existing {
            id,
            component,
            template,
            status: status.into(),
            archived_from: None,
        }
    }

    #[test]
    fn generation_adds_what_is_missing_and_never_duplicates() {
        let wanted = BTreeSet::from([(1, 10), (1, 11), (2, 10)]);
        let first = plan(&wanted, &[]);
        assert_eq!(first.add, vec![(1, 10), (1, 11), (2, 10)]);
        let existing = [
            task(5, 1, 10, TODO),
            task(6, 1, 11, IN_PROGRESS),
            task(7, 2, 10, READY),
        ];
        assert_eq!(
            plan(&wanted, &existing),
            Plan::default(),
            "a rerun changes nothing"
        );
    }

    #[test]
    fn generation_archives_what_went_away_but_keeps_completed_work() {
        let wanted = BTreeSet::from([(1, 10)]);
        let existing = [
            task(5, 1, 10, IN_PROGRESS),
            task(6, 2, 10, IN_PROGRESS),
            task(7, 2, 11, COMPLETED),
            task(8, 3, 10, TODO),
        ];
        let p = plan(&wanted, &existing);
        assert_eq!(p.archive, vec![6, 8]);
        assert!(p.add.is_empty() && p.restore.is_empty());
    }

    #[test]
    fn generation_brings_an_archived_task_back_as_it_was() {
        let wanted = BTreeSet::from([(2, 10)]);
        let mut t = task(6, 2, 10, ARCHIVED);
        t.archived_from = Some(IN_PROGRESS.into());
        let p = plan(&wanted, &[t]);
        assert_eq!(p.restore, vec![(6, IN_PROGRESS.to_string())]);
        assert!(p.add.is_empty());
    }

    #[test]
    fn planned_hours_prefer_the_average_then_the_default_then_the_effort() {
        let mut leo = Benchmark {
            name: "Leo".into(),
            average: Some(d("5.25")),
            sample: 14,
            default: Some(d("6")),
        };
        let (h, s) = planned(Some(&leo), d("4.5"));
        assert_eq!(
            (h, s.words()),
            (d("5.25"), "Leo's average over 14 tasks".into())
        );
        leo.sample = 0;
        let (h, s) = planned(Some(&leo), d("4.5"));
        assert_eq!((h, s.words()), (d("6"), "Leo's usual hours".into()));
        leo.default = None;
        assert_eq!(planned(Some(&leo), d("4.5")), (d("4.5"), Source::Effort));
        assert_eq!(planned(None, d("4.567")), (d("4.57"), Source::Effort));
    }

    #[test]
    fn due_dates_count_back_a_week_per_phase_from_the_delivery() {
        let phases: Vec<String> = [
            "Pre-Production",
            "Production",
            "Post-Production",
            "Delivery",
        ]
        .map(String::from)
        .to_vec();
        let wedding = NaiveDate::from_ymd_opt(2027, 6, 12).unwrap();
        let delivery = delivery(wedding, 12);
        assert_eq!(delivery, NaiveDate::from_ymd_opt(2027, 9, 4).unwrap());
        assert_eq!(due(delivery, &phases, Some("Delivery")), delivery);
        assert_eq!(
            due(delivery, &phases, Some("Post-Production")),
            NaiveDate::from_ymd_opt(2027, 8, 28).unwrap()
        );
        assert_eq!(
            due(delivery, &phases, Some("Pre-Production")),
            NaiveDate::from_ymd_opt(2027, 8, 14).unwrap()
        );
        assert_eq!(due(delivery, &phases, Some("Other")), delivery);
        assert_eq!(due(delivery, &phases, None), delivery);
    }

    #[test]
    fn phase_order_links_each_phase_to_the_nearest_earlier_one_within_a_component() {
        let phases: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
        let t = |id, component, phase| Placed {
            id,
            component,
            phase,
        };
        let tasks = [
            t(1, 1, Some("A")),
            t(2, 1, Some("C")),
            t(3, 1, Some("C")),
            t(4, 2, Some("B")),
            t(5, 1, None),
            t(6, 2, Some("C")),
        ];
        let mut deps = phase_dependencies(&tasks, &phases);
        deps.sort();
        assert_eq!(deps, vec![(1, 2), (1, 3), (4, 6)]);
    }

    #[test]
    fn a_cycle_is_named_task_by_task() {
        let edges = [(1, 2), (2, 3)];
        assert_eq!(cycle(&edges, 3, 1), Some(vec![1, 2, 3, 1]));
        assert_eq!(cycle(&edges, 1, 3), None);
        assert_eq!(cycle(&edges, 4, 4), Some(vec![4, 4]));
        assert_eq!(cycle(&[(1, 2)], 2, 1), Some(vec![1, 2, 1]));
    }

    #[test]
    fn ready_to_start_follows_the_blockers_both_ways() {
        assert_eq!(readiness(TODO, &[]), READY);
        assert_eq!(readiness(TODO, &[COMPLETED, ARCHIVED]), READY);
        assert_eq!(readiness(READY, &[COMPLETED, IN_PROGRESS]), TODO);
        assert_eq!(readiness(IN_PROGRESS, &[TODO]), IN_PROGRESS);
        assert_eq!(readiness(COMPLETED, &[TODO]), COMPLETED);
    }

    #[test]
    fn moves_by_hand() {
        assert!(can_move(READY, IN_PROGRESS));
        assert!(can_move(IN_PROGRESS, COMPLETED));
        assert!(can_move(COMPLETED, IN_PROGRESS));
        assert!(!can_move(ARCHIVED, IN_PROGRESS));
        assert!(!can_move(TODO, COMPLETED));
        assert!(!can_move(IN_PROGRESS, ARCHIVED));
    }

    #[test]
    fn mentions_match_first_names_or_first_dot_last() {
        let staff = vec![
            (1, "Leo".to_string(), "Martins".to_string()),
            (2, "Maya".to_string(), "Chen".to_string()),
            (3, "Sam".to_string(), "Okafor".to_string()),
        ];
        assert_eq!(
            mentions("@leo can you check? cc @Maya.Chen.", &staff),
            vec![1, 2]
        );
        assert_eq!(mentions("email sam@example.com", &staff), Vec::<i32>::new());
    }
}

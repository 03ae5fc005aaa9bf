//! Every staff page, found the way a person finds it: by following links from the dashboard.
//! Each must be reached, fit a phone's width without scrolling sideways, and pass axe-core's
//! accessibility rules (axe is vendored in `tests/vendor`, MPL-2.0).
use crate::browser::{browser, login, phone};
use crate::helpers::TestApp;
use fantoccini::{Client, Locator};
use projectflo::auth::Access;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Pages linked only when they are needed, which the demo studio does not need: the full list
/// of inquiries to copy a quote to appears once there are more than its picker shows
/// (`lists::every_open_inquiry_is_reachable_from_the_quote_copy_picker` follows that link).
const ONLY_LINKED_WHEN_NEEDED: &[&str] = &[
    "/quotes/{id}/copy-to",
    // Where Google's consent page sends a person back (the Google sync tests open it).
    "/calendar/google/callback",
];

/// How many pages of one template the crawl checks.
const PER_TEMPLATE: usize = 3;

const AXE: &str = include_str!("../vendor/axe.min.js");

/// The route templates of the staff pages: every GET a logged-in person opens in the browser
/// (not the API, not downloads: CSV, PDF, documents).
fn staff_pages() -> BTreeSet<String> {
    projectflo::app::app()
        .2
        .into_iter()
        .filter(|r| r.method == axum::http::Method::GET)
        .filter(|r| matches!(r.access, Access::Staff | Access::Perm(_)))
        .map(|r| r.path)
        .filter(|p| {
            !p.starts_with("/api/")
                && !p.ends_with(".csv")
                && !p.ends_with(".pdf")
                && !p.contains("/documents/")
        })
        .collect()
}

/// The route template a path belongs to: the one with the fewest parameters that matches.
fn template_of<'a>(path: &str, templates: &'a BTreeSet<String>) -> Option<&'a String> {
    let parts: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter(|t| {
            let tp: Vec<&str> = t.split('/').collect();
            tp.len() == parts.len()
                && tp
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
        })
        .min_by_key(|t| t.matches('{').count())
}

/// The links of the page, as written (`href`), that stay on this site.
async fn links(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value::<Vec<String>>(v)
        .unwrap()
        .into_iter()
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .collect()
}

/// axe-core's violations on the page, one line each (rule: where).
async fn axe_violations(c: &Client) -> Vec<String> {
    c.execute(&format!("{AXE}\n;return true;"), vec![])
        .await
        .unwrap();
    let v = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => v.id + ' (' + v.help + '): '
                 + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// How far the page scrolls sideways (0 when it fits), and the widest element when it does.
async fn overflow(c: &Client) -> (i64, String) {
    let v = c
        .execute(
            "const w = document.documentElement.clientWidth;
             const over = document.documentElement.scrollWidth - w;
             const culprit = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > w + 1)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))
               .slice(-3).join(' > ');
             return [over, culprit];",
            vec![],
        )
        .await
        .unwrap();
    (
        v[0].as_i64().unwrap(),
        v[1].as_str().unwrap_or("").to_string(),
    )
}

/// Follow links from the dashboard until every staff page template is reached, checking each
/// page once. `click` says whether to get there by clicking the link on the page it was found
/// (as a person does) or by opening its address. Returns the problems found, per page.
async fn crawl(c: &Client, app: &TestApp, click: bool, fits: bool) -> BTreeMap<String, String> {
    let templates = staff_pages();
    // Each template's pages checked so far: a few of each, as a record's links depend on its
    // state (a quote with a contract links to it, one without does not).
    let mut reached: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problems = BTreeMap::new();
    // (the page the link is on, the link)
    let mut queue = VecDeque::from([(String::new(), "/".to_string())]);
    while let Some((from, href)) = queue.pop_front() {
        let path = href.split(['?', '#']).next().unwrap().to_string();
        if path.ends_with(".csv") || path.ends_with(".pdf") {
            continue; // a download, not a page
        }
        let Some(template) = template_of(&path, &templates) else {
            continue;
        };
        let seen = reached.get(template).map_or(&[][..], |v| &v[..]);
        if seen.len() >= PER_TEMPLATE || seen.contains(&path) {
            continue;
        }
        if click && !from.is_empty() {
            c.goto(&app.url(&from)).await.unwrap();
            let mut clicked = false;
            for a in c
                .find_all(Locator::Css(&format!("a[href=\"{href}\"]")))
                .await
                .unwrap()
            {
                if a.is_displayed().await.unwrap() {
                    a.click().await.unwrap();
                    clicked = true;
                    break;
                }
            }
            if !clicked {
                continue; // linked but not visible here; another page may show it
            }
        } else {
            c.goto(&app.url(&href)).await.unwrap();
        }
        let at = c.current_url().await.unwrap();
        if at.path() != path {
            problems.insert(href.clone(), format!("{href} led to {}", at.path()));
            continue;
        }
        reached
            .entry(template.clone())
            .or_default()
            .push(path.clone());
        let mut found = vec![];
        if fits {
            let (over, culprit) = overflow(c).await;
            if over > 0 {
                found.push(format!("scrolls sideways by {over}px ({culprit})"));
            }
        }
        found.extend(axe_violations(c).await);
        if !found.is_empty() {
            problems.insert(href.clone(), found.join("; "));
        }
        for l in links(c).await {
            queue.push_back((href.clone(), l));
        }
    }
    let missing: Vec<_> = templates
        .iter()
        .filter(|t| !reached.contains_key(*t) && !ONLY_LINKED_WHEN_NEEDED.contains(&t.as_str()))
        .collect();
    if !missing.is_empty() {
        problems.insert("(not reached)".into(), format!("{missing:?}"));
    }
    problems
}

#[tokio::test]
async fn every_staff_page_is_reached_by_clicks_and_passes_axe() {
    let app = TestApp::demo().await;
    let Some(c) = browser().await else { return };
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let problems = crawl(&c, &app, true, false).await;
    c.close().await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn every_staff_page_fits_a_phone() {
    let app = TestApp::demo().await;
    let Some(c) = phone(390).await else { return };
    login(
        &c,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let problems = crawl(&c, &app, false, true).await;
    c.close().await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

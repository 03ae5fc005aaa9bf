//! Phase 6, the reports: profitability per project, team performance, cash flow, marketing ROI
//! (with the marketing spend entered here) and the pipeline. Each is a page (filters, a server-rendered SVG chart, a table), a CSV of the
//! same table and a JSON endpoint under `/api/v1/reports/...`.
//!
//! `range` (the filters) and `chart` (the SVG) are pure; `profit`, `team`, `cashflow`,
//! `marketing`, `pipeline` and `spend` hold one aggregate query each (no query per row) and the pure arithmetic beside
//! it; `pages` (HTML, CSV) and `api` (JSON) parse, call them and answer.
pub mod api;
pub mod cashflow;
pub mod chart;
pub mod csv_cell;
pub mod marketing;
pub mod pages;
pub mod pipeline;
pub mod profit;
pub mod range;
pub mod spend;
pub mod team;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().merge(api::routes()).merge(pages::routes())
}

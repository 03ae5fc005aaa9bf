//! ProjectFlo: runs a wedding videography studio end to end. See `docs/architecture.md`.
//!
//! Dependencies point down only: `app` -> areas (dashboard, accounts, catalog, crm, quote,
//! contract, billing, production, calendar, workflows, reports, portal, inbox, history) -> `http` -> `auth` -> shared services (`error`, `state`, `db`,
//! `audit`, `mail`, `notify`, `crypto`, `money`, `config`). `tests/app/architecture.rs` checks
//! that no module imports one that imports it back.
pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod billing;
pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod contract;
pub mod crm;
pub mod crypto;
pub mod dashboard;
pub mod dates;
pub mod db;
pub mod delivery;
pub mod error;
pub mod history;
pub mod http;
pub mod inbox;
pub mod jobs;
pub mod mail;
pub mod money;
pub mod notify;
pub mod page;
pub mod payment_schedules;
pub mod portal;
pub mod production;
pub mod quote;
pub mod recipes;
pub mod reports;
pub mod run;
pub mod schedule;
pub mod seed;
pub mod state;
pub mod storage;
pub mod studio;
pub mod workflows;

//! The one integration-test binary: real PostgreSQL (one throwaway cluster per run, a fresh
//! database per test cloned from a migrated template) and real Chromium.
mod helpers;

mod api_contract;
mod api_errors;
mod architecture;
mod audit;
mod auth;
mod auto_book;
mod billing;
mod billing_pages;
mod booking;
mod browser;
mod catalog;
mod cli;
mod contracts;
mod dashboard;
mod health;
mod inbox;
mod journey;
mod leads;
mod lists;
mod local_time;
mod openapi;
mod pages;
mod permissions;
mod portal;
mod postpone;
mod proposal_page;
mod quotes;
mod reports;
mod schedules;
mod schema;
mod seed;
mod stripe;
mod stripe_fake;

//! ProjectFlo: runs a wedding videography studio end to end. See `docs/architecture.md`.
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod config;
pub mod crm;
pub mod db;
pub mod http;
pub mod money;
pub mod portal;
pub mod quote;
pub mod run;
pub mod seed;

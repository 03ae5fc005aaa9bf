//! ProjectFlo: runs a wedding videography studio end to end. See `docs/architecture.md`.
pub mod catalog;
pub mod config;
pub mod db;
pub mod http;
pub mod money;
pub mod run;
pub mod seed;

//! Phase 3: builds and the live pricing engine.
pub mod api;
pub mod builds;
pub mod engine;
pub mod packages;
pub mod pages;
pub mod pricing;
pub mod proposal;
pub mod status;

pub use status::BuildStatus;

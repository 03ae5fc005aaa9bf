//! Phase 3: builds and the pricing engine. So far: the pure pricing rules the catalog and its
//! rules preview already need.
pub mod pricing;

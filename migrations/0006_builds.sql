-- Phase 3: the build and the live price. Only additions.

-- Engine-made lines (from editing style requirements) are marked; people's lines are not.
ALTER TABLE build_billable_items ADD COLUMN is_engine_made BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE build_billable_items ADD COLUMN engine_style_id INT NULL REFERENCES editing_styles(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX build_billable_items_engine_key ON build_billable_items (build_id, engine_style_id, billable_item_id) WHERE is_engine_made;
CREATE INDEX idx_build_billable_items_build ON build_billable_items (build_id);

-- A component made from a NULL-scene default follows the build's scenes.
ALTER TABLE build_components ADD COLUMN default_component_id INT NULL REFERENCES deliverable_default_components(id) ON DELETE SET NULL;
ALTER TABLE build_components ADD COLUMN follows_coverage BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX idx_build_components_bd ON build_components (build_deliverable_id);
CREATE INDEX idx_build_deliverables_build ON build_deliverables (build_id);
CREATE INDEX idx_build_coverage_build ON build_coverage_assignments (build_id);

-- The proposal: when it went out, the signed share link (stored hashed), the couple's answer.
ALTER TABLE builds ADD COLUMN proposal_sent_at TIMESTAMPTZ NULL;
ALTER TABLE builds ADD COLUMN share_token_hash CHAR(64) NULL UNIQUE;
ALTER TABLE builds ADD COLUMN accepted_at TIMESTAMPTZ NULL;
ALTER TABLE builds ADD COLUMN accepted_by VARCHAR(255) NULL;

-- Saved configurations a new build can start from.
CREATE TABLE packages (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  description TEXT,
  configuration JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

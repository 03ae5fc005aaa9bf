-- Phase 4: every proposal sent is a numbered version, frozen as the couple sees it: the
-- configuration, the lines and the total at the time it was sent. The couple keeps seeing it
-- until the next version is sent; an older link says it was replaced. Only additions.
CREATE TABLE proposal_versions (
  id SERIAL PRIMARY KEY,
  build_id INT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
  version INT NOT NULL CHECK (version > 0),
  -- The couple's link, stored hashed (SHA-256 of the random token).
  token_hash CHAR(64) NOT NULL UNIQUE,
  -- The build's configuration as sent (the shape packages use) and the lines as shown.
  configuration JSONB NOT NULL,
  sections JSONB NOT NULL,
  total DECIMAL(10,2) NOT NULL CHECK (total >= 0),
  sent_at TIMESTAMPTZ NOT NULL,
  sent_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  valid_until DATE NOT NULL,
  accepted_at TIMESTAMPTZ NULL,
  accepted_by VARCHAR(255) NULL,
  -- The studio took an acceptance back to change the quote (then a new version follows).
  withdrawn_at TIMESTAMPTZ NULL,
  UNIQUE (build_id, version),
  CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
);

-- How long a proposal can be accepted, in days from sending.
ALTER TABLE studio_settings ADD COLUMN proposal_valid_days INT NOT NULL DEFAULT 30
  CHECK (proposal_valid_days BETWEEN 1 AND 365);

-- Issue 17, delivery: assets uploaded by resumable (tus) uploads, download links for the couple,
-- project documents, expense receipts and the satisfaction survey. Only additions.

-- An asset once its upload is complete: its size, SHA-256, who uploaded it and when.
ALTER TABLE project_assets
  ADD COLUMN size_bytes BIGINT NULL CHECK (size_bytes >= 0),
  ADD COLUMN sha256 CHAR(64) NULL,
  ADD COLUMN content_type VARCHAR(255) NULL,
  ADD COLUMN uploaded_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  ADD COLUMN uploaded_at TIMESTAMPTZ NULL;
CREATE INDEX idx_project_assets_project ON project_assets (project_id, id);

-- A resumable upload in progress (the tus protocol): the bytes so far are in the data dir's
-- `assets/partial/<id>`; the SHA-256 runs along with them (its state after the last whole
-- 64-byte block and the bytes after it), so the checksum needs no second read of the file.
CREATE TABLE asset_uploads (
  id UUID PRIMARY KEY,
  project_id INT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  coverage_scene_id INT NULL REFERENCES coverage_scenes(id) ON DELETE SET NULL,
  asset_type project_asset_type NOT NULL,
  file_name VARCHAR(255) NOT NULL CHECK (btrim(file_name) <> ''),
  content_type VARCHAR(255) NULL,
  upload_length BIGINT NOT NULL CHECK (upload_length > 0),
  upload_offset BIGINT NOT NULL DEFAULT 0
    CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
  sha_state BYTEA NOT NULL,
  sha_tail BYTEA NOT NULL DEFAULT '\x'::bytea CHECK (length(sha_tail) < 64),
  created_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  asset_id INT NULL REFERENCES project_assets(id) ON DELETE SET NULL
);
CREATE INDEX idx_asset_uploads_project ON asset_uploads (project_id, created_at);

-- A download link to an export for the couple: the token is kept only as its SHA-256; it
-- works until `expires_at` unless revoked. A reminder goes once before it expires.
CREATE TABLE delivery_links (
  id SERIAL PRIMARY KEY,
  asset_id INT NOT NULL REFERENCES project_assets(id) ON DELETE CASCADE,
  token_hash CHAR(64) NOT NULL UNIQUE,
  expires_at TIMESTAMPTZ NOT NULL,
  revoked_at TIMESTAMPTZ NULL,
  reminded_at TIMESTAMPTZ NULL,
  created_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (expires_at > created_at)
);
CREATE INDEX idx_delivery_links_asset ON delivery_links (asset_id, id);
-- The nightly reminder reads the live links that have not been reminded, by expiry.
CREATE INDEX idx_delivery_links_to_remind ON delivery_links (expires_at)
  WHERE revoked_at IS NULL AND reminded_at IS NULL;

-- Final delivery: the day the studio marked the project's films all delivered; the survey goes
-- `survey_after_days` days after it.
ALTER TABLE projects ADD COLUMN delivered_on DATE NULL;
CREATE INDEX idx_projects_delivered_on ON projects (delivered_on) WHERE delivered_on IS NOT NULL;

ALTER TABLE studio_settings
  ADD COLUMN survey_after_days INT NOT NULL DEFAULT 14 CHECK (survey_after_days BETWEEN 0 AND 365),
  ADD COLUMN delivery_link_days INT NOT NULL DEFAULT 30 CHECK (delivery_link_days BETWEEN 1 AND 365),
  ADD COLUMN delivery_reminder_days INT NOT NULL DEFAULT 7
    CHECK (delivery_reminder_days BETWEEN 0 AND 60);

-- One survey per project, ever: the nightly job may run twice.
ALTER TABLE client_feedback_surveys
  ADD CONSTRAINT client_feedback_surveys_project_key UNIQUE (project_id);
CREATE INDEX idx_client_feedback_surveys_sent ON client_feedback_surveys (sent_date DESC, id DESC);

-- Documents of a project (and of an inquiry) are listed by their parent.
CREATE INDEX idx_documents_project ON documents (project_id, upload_date DESC) WHERE project_id IS NOT NULL;

-- Expenses: the stored receipt (under the data dir), who entered it and when.
ALTER TABLE project_expenses
  ADD COLUMN receipt_path VARCHAR(1024) NULL,
  ADD COLUMN receipt_name VARCHAR(255) NULL,
  ADD COLUMN created_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX idx_project_expenses_project ON project_expenses (project_id, expense_date DESC, id DESC);

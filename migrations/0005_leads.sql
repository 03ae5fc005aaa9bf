-- Phase 2: leads. Only additions.

-- A second inquiry from a known email is linked to the same contact and flagged.
ALTER TABLE inquiries ADD COLUMN is_returning BOOLEAN NOT NULL DEFAULT false;
-- Who entered it (NULL: the public lead form).
ALTER TABLE inquiries ADD COLUMN created_by_contributor_id INT NULL REFERENCES contributors(id) ON DELETE SET NULL;

ALTER TABLE activities ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE activities ADD COLUMN completed_at TIMESTAMPTZ NULL;
CREATE INDEX idx_activities_assignee_status ON activities (assigned_to_contributor_id, status, due_date);
CREATE INDEX idx_activities_inquiry ON activities (inquiry_id);
CREATE INDEX idx_communications_contact ON communications_log (contact_id, communication_date DESC);
CREATE INDEX idx_documents_inquiry ON documents (inquiry_id);

-- Round-robin assignment: who got the last lead, per pool.
CREATE TABLE round_robin (
  pool VARCHAR(64) PRIMARY KEY,
  last_contributor_id INT NULL REFERENCES contributors(id) ON DELETE SET NULL
);
INSERT INTO round_robin (pool) VALUES ('sales');

-- Public lead form submissions per IP, for the spam rate limit.
CREATE TABLE lead_form_submissions (
  id BIGSERIAL PRIMARY KEY,
  ip VARCHAR(64) NOT NULL,
  submitted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_lead_form_submissions_ip ON lead_form_submissions (ip, submitted_at);

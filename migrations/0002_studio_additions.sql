-- Additions the workflows need (decisions.md, "Schema"). Only additions: new tables, new
-- nullable or defaulted columns, new constraints and indexes.

-- The studio's own settings: exactly one row.
CREATE TABLE studio_settings (
  id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  studio_name VARCHAR(255) NOT NULL DEFAULT 'My Studio',
  currency_code CHAR(3) NOT NULL DEFAULT 'USD' CHECK (currency_code ~ '^[A-Z]{3}$'),
  time_zone VARCHAR(64) NOT NULL DEFAULT 'UTC',
  editing_hourly_rate DECIMAL(8,2) NOT NULL DEFAULT 75.00 CHECK (editing_hourly_rate >= 0),
  tax_rate_percent DECIMAL(5,2) NOT NULL DEFAULT 0.00 CHECK (tax_rate_percent BETWEEN 0 AND 100),
  deposit_percent DECIMAL(5,2) NOT NULL DEFAULT 30.00 CHECK (deposit_percent BETWEEN 0 AND 100),
  balance_due_days_before_wedding INT NOT NULL DEFAULT 30 CHECK (balance_due_days_before_wedding >= 0),
  invoice_prefix VARCHAR(20) NOT NULL DEFAULT 'INV-',
  task_phase_order TEXT[] NOT NULL DEFAULT ARRAY['Pre-Production', 'Production', 'Post-Production', 'Delivery'],
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO studio_settings DEFAULT VALUES;

-- Which data loads (e.g. the demo studio) have run: makes `seed --demo` idempotent.
CREATE TABLE seed_history (
  name VARCHAR(64) PRIMARY KEY,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Hourly coverage falls back to the scene's default hours.
ALTER TABLE coverage_scenes ADD COLUMN default_hours DECIMAL(5,2) NULL CHECK (default_hours > 0);
ALTER TABLE build_coverage_assignments ADD COLUMN hours DECIMAL(5,2) NULL CHECK (hours > 0);

-- What a contributor costs the studio per hour (profit per project).
ALTER TABLE contributors ADD COLUMN hourly_cost DECIMAL(8,2) NULL CHECK (hourly_cost >= 0);

-- Creation and change times on the CRM, build, project and task tables.
ALTER TABLE contacts ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE contacts ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE inquiries ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE inquiries ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE builds ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE builds ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE projects ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE projects ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE tasks ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE tasks ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE tasks ADD COLUMN completed_at TIMESTAMPTZ NULL;

-- Emails are unique regardless of case (a lead who types JANE@x.com is the same person).
CREATE UNIQUE INDEX contacts_email_lower_key ON contacts (lower(email));
CREATE INDEX idx_inquiries_status ON inquiries (status);
CREATE INDEX idx_inquiries_contact ON inquiries (contact_id);

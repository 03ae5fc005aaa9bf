-- Workflows (issue 18): ordered steps that run between booking and delivery by themselves.

-- A workflow template, attached to every booked project ('all') or to the booked projects
-- whose quote includes one film of the catalog ('deliverable': the studio's "package").
CREATE TABLE workflow_templates (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  description TEXT,
  scope VARCHAR(20) NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'deliverable')),
  deliverable_id INT NULL REFERENCES deliverables(id) ON DELETE RESTRICT,
  active BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((scope = 'deliverable') = (deliverable_id IS NOT NULL))
);

-- A step: when (trigger: an event, or a time relative to the wedding or booking date, before
-- or after, in days, weeks or months, at a time of day in the studio's zone), an optional
-- condition checked when it is due, and what it does.
CREATE TABLE workflow_steps (
  id SERIAL PRIMARY KEY,
  workflow_id INT NOT NULL REFERENCES workflow_templates(id) ON DELETE CASCADE,
  position INT NOT NULL,
  name VARCHAR(255) NOT NULL CHECK (btrim(name) <> ''),
  trigger VARCHAR(30) NOT NULL CHECK (trigger IN ('booked', 'contract_signed', 'invoice_paid',
    'questionnaire_submitted', 'wedding_date', 'booking_date')),
  offset_amount INT NOT NULL DEFAULT 0 CHECK (offset_amount BETWEEN 0 AND 120),
  offset_unit VARCHAR(10) NOT NULL DEFAULT 'days' CHECK (offset_unit IN ('days', 'weeks', 'months')),
  direction VARCHAR(10) NOT NULL DEFAULT 'before' CHECK (direction IN ('before', 'after')),
  at_time TIME NOT NULL DEFAULT '09:00',
  trigger_questionnaire_id INT NULL REFERENCES questionnaire_templates(id) ON DELETE SET NULL,
  condition VARCHAR(30) NULL CHECK (condition IN ('questionnaire_not_submitted', 'balance_due',
    'field_equals')),
  condition_questionnaire_id INT NULL REFERENCES questionnaire_templates(id) ON DELETE SET NULL,
  condition_field VARCHAR(64) NULL,
  condition_value TEXT NULL,
  action VARCHAR(20) NOT NULL CHECK (action IN ('email', 'questionnaire', 'todo', 'notify')),
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  questionnaire_id INT NULL REFERENCES questionnaire_templates(id) ON DELETE SET NULL,
  role VARCHAR(64) NULL,
  requires_approval BOOLEAN NOT NULL DEFAULT false,
  UNIQUE (workflow_id, position) DEFERRABLE INITIALLY DEFERRED
);

-- A workflow attached to a project.
CREATE TABLE project_workflows (
  id SERIAL PRIMARY KEY,
  project_id INT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  workflow_id INT NOT NULL REFERENCES workflow_templates(id) ON DELETE CASCADE,
  attached_at TIMESTAMPTZ NOT NULL,
  UNIQUE (project_id, workflow_id)
);

-- One step of a workflow on one project: its state (waiting for its event, scheduled at
-- due_at, overdue = already past when attached (the studio runs or skips it), approval =
-- due and waiting for the studio, done, skipped with a reason, failed with a reason), and the
-- email as it will go (editable while it waits for approval). Claimed by the scheduler with
-- FOR UPDATE SKIP LOCKED; its state and its outgoing email are written in one transaction.
CREATE TABLE workflow_step_runs (
  id SERIAL PRIMARY KEY,
  project_workflow_id INT NOT NULL REFERENCES project_workflows(id) ON DELETE CASCADE,
  project_id INT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  step_id INT NULL REFERENCES workflow_steps(id) ON DELETE SET NULL,
  position INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  state VARCHAR(20) NOT NULL CHECK (state IN ('waiting', 'scheduled', 'overdue', 'approval',
    'done', 'skipped', 'failed')),
  due_at TIMESTAMPTZ NULL,
  ran_at TIMESTAMPTZ NULL,
  reason TEXT NULL,
  subject TEXT NULL,
  body TEXT NULL,
  UNIQUE (project_workflow_id, step_id),
  CHECK (state NOT IN ('scheduled', 'overdue', 'approval') OR due_at IS NOT NULL)
);
CREATE INDEX workflow_step_runs_due ON workflow_step_runs (due_at, id) WHERE state = 'scheduled';
CREATE INDEX workflow_step_runs_waiting ON workflow_step_runs (id) WHERE state = 'waiting';
CREATE INDEX workflow_step_runs_attention ON workflow_step_runs (due_at, id)
  WHERE state IN ('approval', 'overdue', 'failed');
CREATE INDEX workflow_step_runs_project ON workflow_step_runs (project_id, position, id);

-- Questionnaires (issue 18): the studio's templates, built in Settings > Questionnaires, and the
-- copies sent to a couple's project, answered in the portal.

-- A template: its questions as a JSON array (each {id, kind, label, help, required, options,
-- show_if: {question, value} | null, maps_to}), checked by `workflows::questions::check`
-- before every save. `due_days_before_wedding`: the due date a copy gets when sent without one.
CREATE TABLE questionnaire_templates (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  description TEXT,
  due_days_before_wedding INT NOT NULL DEFAULT 30 CHECK (due_days_before_wedding BETWEEN 0 AND 730),
  questions JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(questions) = 'array'),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A questionnaire sent to a project: the template's questions copied as they were when sent
-- (an edit of the template never changes what a couple is answering), the answers saved as
-- they go ({question id: text or [texts]}), submitted once (the studio can reopen it).
-- The due date is fixed, or `due_days_before_wedding` days before the wedding (moved by a
-- postponement).
CREATE TABLE project_questionnaires (
  id SERIAL PRIMARY KEY,
  project_id INT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  template_id INT NULL REFERENCES questionnaire_templates(id) ON DELETE SET NULL,
  title VARCHAR(255) NOT NULL,
  questions JSONB NOT NULL CHECK (jsonb_typeof(questions) = 'array'),
  answers JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(answers) = 'object'),
  due_date DATE NOT NULL,
  due_days_before_wedding INT NULL CHECK (due_days_before_wedding BETWEEN 0 AND 730),
  status VARCHAR(20) NOT NULL DEFAULT 'Sent' CHECK (status IN ('Sent', 'Submitted')),
  sent_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NULL,
  submitted_at TIMESTAMPTZ NULL,
  CHECK ((status = 'Submitted') = (submitted_at IS NOT NULL))
);
CREATE INDEX project_questionnaires_project ON project_questionnaires (project_id, id);
CREATE INDEX project_questionnaires_open_due ON project_questionnaires (due_date)
  WHERE status = 'Sent';

-- Reminders before a questionnaire is due, each taken once (the unique key is taken in the
-- transaction that queues the email): "before" (the days before) and "due" (on the day).
CREATE TABLE questionnaire_reminders (
  id SERIAL PRIMARY KEY,
  project_questionnaire_id INT NOT NULL REFERENCES project_questionnaires(id) ON DELETE CASCADE,
  stage VARCHAR(20) NOT NULL,
  due_date DATE NOT NULL,
  sent_at TIMESTAMPTZ NOT NULL,
  UNIQUE (project_questionnaire_id, stage, due_date)
);

-- The wedding-day details a questionnaire answer can fill in (`workflows::fields`): the ones
-- the spec has no column for (ceremony time, guests...), one row per project and key. The
-- venue goes to the spec's `inquiries.venue_details`, the name to `projects.project_name`.
CREATE TABLE project_fields (
  project_id INT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  key VARCHAR(64) NOT NULL,
  value TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (project_id, key)
);

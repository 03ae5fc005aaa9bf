-- Phase 5: production. Tasks generated from the recipes, their dependencies, time entries,
-- comments and the benchmarks the nightly job learns. Additions only.

-- The promised delivery: this many weeks after the wedding (task due dates count back from it).
ALTER TABLE studio_settings ADD COLUMN delivery_weeks_after_wedding INT NOT NULL DEFAULT 12
  CHECK (delivery_weeks_after_wedding BETWEEN 1 AND 104);

-- One task per (component, template): what makes generation idempotent, proved by the database.
CREATE UNIQUE INDEX tasks_component_template_key ON tasks (build_component_id, task_template_id);
-- A project's board and a person's "My tasks", in the lists' order (due day, id).
CREATE INDEX idx_tasks_project_due ON tasks (project_id, due_date, id);
CREATE INDEX idx_tasks_assignee_due ON tasks (assigned_to_contributor_id, due_date, id);
-- Every task by due day (the API's list without a filter) and the projects by wedding day.
CREATE INDEX idx_tasks_due_id ON tasks (due_date, id);
CREATE INDEX idx_projects_wedding_id ON projects (wedding_date, id);
-- How the planned hours were chosen, in words ("Leo's average over 14 tasks").
ALTER TABLE tasks ADD COLUMN planned_source TEXT NULL;
-- The status an archived task had, so that it comes back as it was if its component does.
ALTER TABLE tasks ADD COLUMN archived_from tasks_status NULL;

-- A dependency once; never a task on itself; made by generation (phase order) or by hand.
CREATE UNIQUE INDEX task_dependencies_pair_key ON task_dependencies (blocking_task_id, dependent_task_id);
CREATE INDEX idx_task_dependencies_dependent ON task_dependencies (dependent_task_id);
ALTER TABLE task_dependencies ADD CONSTRAINT task_dependencies_not_itself
  CHECK (blocking_task_id <> dependent_task_id);
ALTER TABLE task_dependencies ADD COLUMN is_generated BOOLEAN NOT NULL DEFAULT false;

-- Time worked on a task by a person: a timer (ended_at NULL while it runs; hours set when it
-- stops) or an entry by hand (hours given). tasks.actual_duration_hours is the sum of hours.
CREATE TABLE task_time_entries (
  id SERIAL PRIMARY KEY,
  task_id INT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  started_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ NULL,
  hours DECIMAL(8,2) NULL CHECK (hours >= 0 AND hours <= 1000),
  is_manual BOOLEAN NOT NULL DEFAULT false,
  note TEXT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((ended_at IS NULL) = (hours IS NULL)),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- One running timer per person.
CREATE UNIQUE INDEX task_time_entries_one_running ON task_time_entries (contributor_id)
  WHERE ended_at IS NULL;
CREATE INDEX idx_task_time_entries_task ON task_time_entries (task_id, started_at, id);

CREATE INDEX idx_task_comments_task ON task_comments (task_id, created_at, id);

-- What the nightly job learned from: how many completed tasks, and when.
ALTER TABLE contributor_task_benchmarks ADD COLUMN sample_size INT NOT NULL DEFAULT 0;
ALTER TABLE contributor_task_benchmarks ADD COLUMN learned_at TIMESTAMPTZ NULL;
ALTER TABLE task_templates ADD COLUMN average_sample_size INT NOT NULL DEFAULT 0;

-- Each person's editing hours in a week (the capacity view; absences from the calendar come off).
ALTER TABLE contributors ADD COLUMN weekly_capacity_hours DECIMAL(5,2) NOT NULL DEFAULT 40
  CHECK (weekly_capacity_hours >= 0 AND weekly_capacity_hours <= 168);

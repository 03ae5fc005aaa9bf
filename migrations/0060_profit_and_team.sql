-- Issue 17, the reports (second part): profitability per project, team performance and the
-- dashboard by role. Only additions: a summary table kept by the database, card fees in the
-- studio settings, and the indexes these reports and the dashboard read along.

-- Payment fees. The spec's `payments` has no fee column and neither Stripe's webhook nor a
-- payment by hand tells the fee, so a card payment costs the studio an estimate from its
-- processor's published rate: card_fee_percent of the amount plus card_fee_fixed, rounded to
-- cents, per payment of method 'Card' (refunds do not give the fee back, as at Stripe). Cash,
-- cheques and bank transfers cost nothing; credits applied are not money.
ALTER TABLE studio_settings ADD COLUMN card_fee_percent DECIMAL(5,2) NOT NULL DEFAULT 2.90
  CHECK (card_fee_percent BETWEEN 0 AND 100);
ALTER TABLE studio_settings ADD COLUMN card_fee_fixed DECIMAL(8,2) NOT NULL DEFAULT 0.30
  CHECK (card_fee_fixed >= 0 AND card_fee_fixed <= 1000);

-- Hours per project and person, kept by the database as time is logged and crews change, so
-- that profitability reads a few rows per project instead of every time entry of every task
-- (2 million tasks at 50,000 projects). Costs are not stored: hours x the person's hourly cost
-- is worked out when the report is read, so a changed hourly cost needs no rewrite.
--   work_hours:  hours logged on the project's tasks (`task_time_entries`, stopped entries);
--   shoot_hours: the person's live PROJECT_ASSIGNMENT events on the project (shoot days),
--                each rounded to hundredths of an hour.
CREATE TABLE project_hours (
  project_id INT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  work_hours DECIMAL(12,2) NOT NULL DEFAULT 0,
  shoot_hours DECIMAL(12,2) NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, contributor_id)
);
-- The person filter: the projects a person worked on or shot.
CREATE INDEX idx_project_hours_contributor ON project_hours (contributor_id, project_id);

-- One statement's change, summed per (project, person). Rows that grow are inserted or added
-- to; rows that shrink are only updated (a row that shrinks was added to before; an insert
-- there could name a project or person being deleted in the same cascade). The rows are
-- locked in key order first, so concurrent writers wait for each other instead of
-- deadlocking. `delta` is a JSON array of [project_id, contributor_id, work, shoot].
CREATE FUNCTION project_hours_add(delta JSONB) RETURNS void LANGUAGE sql AS $$
    SELECT 1 FROM project_hours h, jsonb_array_elements(delta) e
    WHERE h.project_id = (e->>0)::int AND h.contributor_id = (e->>1)::int
    ORDER BY h.project_id, h.contributor_id FOR UPDATE OF h;
    INSERT INTO project_hours (project_id, contributor_id, work_hours, shoot_hours)
    SELECT (e->>0)::int, (e->>1)::int, (e->>2)::numeric, (e->>3)::numeric
    FROM jsonb_array_elements(delta) e
    WHERE (e->>2)::numeric >= 0 AND (e->>3)::numeric >= 0
    ORDER BY 1, 2
    ON CONFLICT (project_id, contributor_id) DO UPDATE
      SET work_hours = project_hours.work_hours + EXCLUDED.work_hours,
          shoot_hours = project_hours.shoot_hours + EXCLUDED.shoot_hours;
    UPDATE project_hours h
      SET work_hours = h.work_hours + (e->>2)::numeric, shoot_hours = h.shoot_hours + (e->>3)::numeric
    FROM jsonb_array_elements(delta) e
    WHERE h.project_id = (e->>0)::int AND h.contributor_id = (e->>1)::int
      AND ((e->>2)::numeric < 0 OR (e->>3)::numeric < 0);
$$;

-- Time entries: a running timer (hours NULL) counts once it stops.
CREATE FUNCTION project_hours_from_time() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_array(project_id, contributor_id, h, 0)) INTO d FROM (
          SELECT t.project_id, n.contributor_id, sum(n.hours) AS h
          FROM new_rows n JOIN tasks t ON t.id = n.task_id WHERE n.hours IS NOT NULL
          GROUP BY 1, 2 HAVING sum(n.hours) <> 0) x;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_array(project_id, contributor_id, h, 0)) INTO d FROM (
          SELECT t.project_id, o.contributor_id, -sum(o.hours) AS h
          FROM old_rows o JOIN tasks t ON t.id = o.task_id WHERE o.hours IS NOT NULL
          GROUP BY 1, 2 HAVING sum(o.hours) <> 0) x;
    ELSE
        SELECT jsonb_agg(jsonb_build_array(project_id, contributor_id, h, 0)) INTO d FROM (
          SELECT t.project_id, y.contributor_id, sum(y.h) AS h FROM (
            SELECT task_id, contributor_id, hours AS h FROM new_rows WHERE hours IS NOT NULL
            UNION ALL
            SELECT task_id, contributor_id, -hours FROM old_rows WHERE hours IS NOT NULL
          ) y JOIN tasks t ON t.id = y.task_id
          GROUP BY 1, 2 HAVING sum(y.h) <> 0) x;
    END IF;
    IF d IS NOT NULL THEN
        PERFORM project_hours_add(d);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER project_hours_time_insert AFTER INSERT ON task_time_entries
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_hours_from_time();
CREATE TRIGGER project_hours_time_update AFTER UPDATE ON task_time_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_hours_from_time();
CREATE TRIGGER project_hours_time_delete AFTER DELETE ON task_time_entries
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_hours_from_time();

-- The hours a shoot-day event counts for: live project assignments only.
CREATE FUNCTION project_hours_of_event(kind calendar_event_type, cancelled TIMESTAMPTZ,
                                       project INT, starts TIMESTAMPTZ, ends TIMESTAMPTZ)
  RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN kind = 'PROJECT_ASSIGNMENT' AND cancelled IS NULL AND project IS NOT NULL
                THEN round(extract(epoch FROM ends - starts) / 3600, 2) ELSE 0 END
$$;

CREATE FUNCTION project_hours_from_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_array(project_id, contributor_id, 0, h)) INTO d FROM (
          SELECT project_id, contributor_id,
                 sum(project_hours_of_event(event_type, cancelled_at, project_id, start_time, end_time)) AS h
          FROM new_rows WHERE project_id IS NOT NULL
          GROUP BY 1, 2) x WHERE h <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_array(project_id, contributor_id, 0, h)) INTO d FROM (
          SELECT project_id, contributor_id,
                 -sum(project_hours_of_event(event_type, cancelled_at, project_id, start_time, end_time)) AS h
          FROM old_rows WHERE project_id IS NOT NULL
          GROUP BY 1, 2) x WHERE h <> 0;
    ELSE
        SELECT jsonb_agg(jsonb_build_array(project_id, contributor_id, 0, h)) INTO d FROM (
          SELECT project_id, contributor_id, sum(h) AS h FROM (
            SELECT project_id, contributor_id,
                   project_hours_of_event(event_type, cancelled_at, project_id, start_time, end_time) AS h
            FROM new_rows WHERE project_id IS NOT NULL
            UNION ALL
            SELECT project_id, contributor_id,
                   -project_hours_of_event(event_type, cancelled_at, project_id, start_time, end_time)
            FROM old_rows WHERE project_id IS NOT NULL
          ) y GROUP BY 1, 2) x WHERE h <> 0;
    END IF;
    IF d IS NOT NULL THEN
        PERFORM project_hours_add(d);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER project_hours_events_insert AFTER INSERT ON calendar_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_hours_from_events();
CREATE TRIGGER project_hours_events_update AFTER UPDATE ON calendar_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_hours_from_events();
CREATE TRIGGER project_hours_events_delete AFTER DELETE ON calendar_events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_hours_from_events();

-- What is there already.
INSERT INTO project_hours (project_id, contributor_id, work_hours, shoot_hours)
SELECT project_id, contributor_id, sum(w), sum(s) FROM (
  SELECT t.project_id, e.contributor_id, e.hours AS w, 0 AS s
  FROM task_time_entries e JOIN tasks t ON t.id = e.task_id WHERE e.hours IS NOT NULL
  UNION ALL
  SELECT project_id, contributor_id, 0,
         project_hours_of_event(event_type, cancelled_at, project_id, start_time, end_time)
  FROM calendar_events WHERE project_id IS NOT NULL
) x GROUP BY 1, 2 HAVING sum(w) <> 0 OR sum(s) <> 0;

-- Profitability: the projects of a range of wedding days (`idx_projects_wedding_id`, 0040),
-- their expenses by project (the spec gives `project_expenses` no index) and their card
-- payments through `idx_invoices_project` and `idx_payments_invoice`.
CREATE INDEX idx_project_expenses_project_amount ON project_expenses (project_id) INCLUDE (amount);

-- Team performance: the completed tasks of a range of completion instants, read from the
-- index alone (every column the report sums is in it): the days of a range's first and last
-- months that the month totals below do not cover whole.
CREATE INDEX idx_tasks_completed_at ON tasks (completed_at)
  INCLUDE (assigned_to_contributor_id, task_template_id, planned_duration_hours,
           actual_duration_hours, due_date)
  WHERE status = 'Completed';

-- Team performance, the whole months of a range: the completed tasks summed per the studio's
-- local month of completion, person (0: nobody) and template, kept by the database as tasks
-- change (a year of a 5,000-bookings studio is about 200,000 completed tasks but 20,000 of
-- these rows; summing the tasks themselves took one to four seconds there). on_time counts
-- the tasks completed on or before their due day, in the studio's days. The month and the
-- day depend on the studio's time zone: changing it rebuilds the table (below).
CREATE TABLE task_month_totals (
  month DATE NOT NULL,
  contributor_id INT NOT NULL,
  task_template_id INT NOT NULL,
  tasks INT NOT NULL DEFAULT 0,
  planned DECIMAL(14,2) NOT NULL DEFAULT 0,
  actual DECIMAL(14,2) NOT NULL DEFAULT 0,
  with_due INT NOT NULL DEFAULT 0,
  on_time INT NOT NULL DEFAULT 0,
  PRIMARY KEY (month, contributor_id, task_template_id)
);
CREATE INDEX idx_task_month_totals_person ON task_month_totals (contributor_id, month);

-- One statement's change: what its completed tasks add to their rows (the new rows) less what
-- they added before (the old rows), summed per row and applied in key order (concurrent
-- writers wait for each other instead of deadlocking). A task that is not Completed adds
-- nothing; most changes of tasks (moves, assignments) change no row. No foreign keys: a row
-- keeps the ids of what it counted (person 0 is nobody).
CREATE FUNCTION task_month_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rows_ TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows o'
        ELSE 'SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o' END;
BEGIN
    EXECUTE format($q$
      WITH r AS (%s)
      INSERT INTO task_month_totals AS t (month, contributor_id, task_template_id, tasks,
                                          planned, actual, with_due, on_time)
      SELECT date_trunc('month', r.completed_at AT TIME ZONE $1)::date,
             COALESCE(r.assigned_to_contributor_id, 0), r.task_template_id, sum(r.sign),
             sum(r.sign * COALESCE(r.planned_duration_hours, 0)),
             sum(r.sign * COALESCE(r.actual_duration_hours, 0)),
             sum(r.sign * (r.due_date IS NOT NULL)::int),
             sum(r.sign * COALESCE(((r.completed_at AT TIME ZONE $1)::date <= r.due_date)::int, 0))
      FROM r WHERE r.status = 'Completed' AND r.completed_at IS NOT NULL
      GROUP BY 1, 2, 3
      HAVING sum(r.sign) <> 0 OR sum(r.sign * COALESCE(r.planned_duration_hours, 0)) <> 0
          OR sum(r.sign * COALESCE(r.actual_duration_hours, 0)) <> 0
          OR sum(r.sign * (r.due_date IS NOT NULL)::int) <> 0
          OR sum(r.sign * COALESCE(((r.completed_at AT TIME ZONE $1)::date <= r.due_date)::int, 0)) <> 0
      ORDER BY 1, 2, 3
      ON CONFLICT (month, contributor_id, task_template_id) DO UPDATE SET
        tasks = t.tasks + EXCLUDED.tasks, planned = t.planned + EXCLUDED.planned,
        actual = t.actual + EXCLUDED.actual, with_due = t.with_due + EXCLUDED.with_due,
        on_time = t.on_time + EXCLUDED.on_time
    $q$, rows_) USING (SELECT time_zone FROM studio_settings);
    RETURN NULL;
END $$;

CREATE TRIGGER task_month_totals_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_month_totals_apply();
CREATE TRIGGER task_month_totals_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_month_totals_apply();
CREATE TRIGGER task_month_totals_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_month_totals_apply();

-- Every completed task once, in the studio's months: what is there now, and again whenever
-- the studio's time zone changes (a rare setting; at 2 million tasks it takes seconds).
CREATE FUNCTION task_month_totals_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM task_month_totals;
    INSERT INTO task_month_totals (month, contributor_id, task_template_id, tasks, planned,
                                   actual, with_due, on_time)
    SELECT date_trunc('month', t.completed_at AT TIME ZONE z.tz)::date,
           COALESCE(t.assigned_to_contributor_id, 0), t.task_template_id, count(*),
           sum(COALESCE(t.planned_duration_hours, 0)), sum(COALESCE(t.actual_duration_hours, 0)),
           count(t.due_date),
           count(*) FILTER (WHERE (t.completed_at AT TIME ZONE z.tz)::date <= t.due_date)
    FROM tasks t, (SELECT time_zone AS tz FROM studio_settings) z
    WHERE t.status = 'Completed' AND t.completed_at IS NOT NULL
    GROUP BY 1, 2, 3;
$$;
SELECT task_month_totals_rebuild();

CREATE FUNCTION task_month_totals_zone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM task_month_totals_rebuild();
    RETURN NULL;
END $$;
CREATE TRIGGER task_month_totals_zone AFTER UPDATE OF time_zone ON studio_settings
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone)
    EXECUTE FUNCTION task_month_totals_zone();

-- The dashboard. A person's unfinished tasks by due day (an editor's years of completed tasks
-- are not walked through to find them); the unfinished tasks due before a day (projects at
-- risk of late delivery); a week's shoot days.
CREATE INDEX idx_tasks_open_assignee_due ON tasks (assigned_to_contributor_id, due_date, id)
  WHERE status IN ('To-Do', 'Ready to Start', 'In Progress');
CREATE INDEX idx_tasks_open_due_project ON tasks (due_date, project_id)
  WHERE status IN ('To-Do', 'Ready to Start', 'In Progress');
CREATE INDEX idx_calendar_events_shoots ON calendar_events (start_time)
  WHERE event_type = 'PROJECT_ASSIGNMENT' AND cancelled_at IS NULL;

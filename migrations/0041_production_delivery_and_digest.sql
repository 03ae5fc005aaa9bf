-- Phase 5, continued: the promised delivery day kept per project, "due soon" notifications
-- sent once per due day, and the optional daily email digest per person. Additions only.

-- The day the films were promised by: set when the project's tasks are first generated (the
-- wedding plus the studio's delivery weeks then), moved by a postponement. A later change of
-- the studio's setting applies to weddings booked after it, not to promises already made.
ALTER TABLE projects ADD COLUMN promised_delivery_date DATE NULL;
UPDATE projects p SET promised_delivery_date = p.wedding_date + 7 * s.delivery_weeks_after_wedding
FROM studio_settings s
WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.project_id = p.id);

-- The due day a "due soon" notification was sent for: once per due day (a moved due day is
-- told again).
ALTER TABLE tasks ADD COLUMN due_soon_notified_for DATE NULL;
-- The nightly "due soon" scan: open tasks by due day.
CREATE INDEX idx_tasks_open_due ON tasks (due_date)
  WHERE status NOT IN ('Completed', 'Archived') AND assigned_to_contributor_id IS NOT NULL;

-- The daily digest: opted in on My account; the studio-local day it was last sent (once a day).
ALTER TABLE contributors ADD COLUMN daily_digest BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE contributors ADD COLUMN digest_sent_on DATE NULL;

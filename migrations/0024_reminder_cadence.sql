-- The reminder cadence of issue 14: 7 days before the due date, on the due day, 2 days after,
-- then weekly while overdue, at most N. Only additions to the studio's settings; the stage
-- check of our own invoice_reminders table (0022) widens to the due day's reminder.
ALTER TABLE studio_settings ADD COLUMN reminder_on_due_day BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE studio_settings ADD COLUMN reminder_first_overdue_days INT NOT NULL DEFAULT 2
  CHECK (reminder_first_overdue_days BETWEEN 1 AND 365);
ALTER TABLE invoice_reminders DROP CONSTRAINT invoice_reminders_stage_check;
ALTER TABLE invoice_reminders ADD CONSTRAINT invoice_reminders_stage_check
  CHECK (stage IN ('before', 'due') OR stage ~ '^overdue-[0-9]+$');

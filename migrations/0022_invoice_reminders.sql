-- Payment reminders (issue 14): before an invoice is due and while it is overdue, each sent
-- once. Only additions.

-- The studio's reminder schedule: N days before the due date (0: none), then every N days
-- while overdue, at most M times (0: none).
ALTER TABLE studio_settings ADD COLUMN reminder_days_before INT NOT NULL DEFAULT 7
  CHECK (reminder_days_before BETWEEN 0 AND 365);
ALTER TABLE studio_settings ADD COLUMN reminder_overdue_every_days INT NOT NULL DEFAULT 7
  CHECK (reminder_overdue_every_days BETWEEN 1 AND 365);
ALTER TABLE studio_settings ADD COLUMN reminder_overdue_max INT NOT NULL DEFAULT 3
  CHECK (reminder_overdue_max BETWEEN 0 AND 20);

-- Each reminder sent: the invoice, the stage ('before' or 'overdue-N'), the due date it was
-- about, when. The unique key is what makes a reminder go out once however often the sweep
-- runs (and with several runners at once).
CREATE TABLE invoice_reminders (
  id SERIAL PRIMARY KEY,
  invoice_id INT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
  stage VARCHAR(20) NOT NULL CHECK (stage = 'before' OR stage ~ '^overdue-[0-9]+$'),
  due_date DATE NOT NULL,
  sent_at TIMESTAMPTZ NOT NULL,
  CONSTRAINT invoice_reminders_once UNIQUE (invoice_id, stage, due_date)
);

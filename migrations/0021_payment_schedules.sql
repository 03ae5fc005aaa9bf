-- Payment schedules: templates of instalments (issue 14). Only additions.

-- A template: a name and its parts, each {label, amount: {kind: percent|fixed|rest, value},
-- due: {rule: on_booking|after_booking|before_wedding|on_date|monthly, days|date}}, checked by
-- the application (schedule::check). The built-in one (exactly one) follows the studio
-- settings' deposit_percent and balance_due_days_before_wedding, so the studio settings keep
-- meaning what they meant: its parts column is not read.
CREATE TABLE payment_schedules (
  id SERIAL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  builtin BOOLEAN NOT NULL DEFAULT false,
  parts JSONB NOT NULL DEFAULT '[]',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT payment_schedules_name_unique UNIQUE (name),
  CONSTRAINT payment_schedules_parts_array CHECK (jsonb_typeof(parts) = 'array')
);
CREATE UNIQUE INDEX payment_schedules_one_builtin ON payment_schedules (builtin) WHERE builtin;
INSERT INTO payment_schedules (name, builtin) VALUES ('Deposit and balance', true);

-- The template a quote pays by (NULL: the built-in one). A template in use is not deleted.
ALTER TABLE builds ADD COLUMN payment_schedule_id INT NULL
  REFERENCES payment_schedules(id) ON DELETE RESTRICT;
CREATE INDEX idx_builds_payment_schedule ON builds (payment_schedule_id)
  WHERE payment_schedule_id IS NOT NULL;

-- Which rule made an invoice's due date, so that a postponement knows which ones follow the
-- wedding: the rule's name, its days, and for a monthly payment its months before the last.
ALTER TABLE invoices ADD COLUMN due_rule VARCHAR(20) NULL CHECK (due_rule IN
  ('on_booking', 'after_booking', 'before_wedding', 'on_date', 'monthly'));
ALTER TABLE invoices ADD COLUMN due_days INT NULL;
ALTER TABLE invoices ADD COLUMN due_months INT NULL;
-- Invoices booking issued before this column: the balance followed the wedding.
UPDATE invoices SET due_rule = 'before_wedding',
  due_days = (SELECT balance_due_days_before_wedding FROM studio_settings LIMIT 1)
  WHERE description = 'Balance';
UPDATE invoices SET due_rule = 'on_booking' WHERE description = 'Deposit';

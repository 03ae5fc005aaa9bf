-- Phase 4: booking. Only additions.

-- The configuration a change order approved (version 1: the original agreement), so that a
-- declined change can restore the last approved one exactly; versions never repeat.
ALTER TABLE build_change_orders ADD COLUMN snapshot JSONB NULL;
ALTER TABLE build_change_orders ADD COLUMN answered_at TIMESTAMPTZ NULL;
-- The configuration's own price at that version (before any discount): the next change is
-- priced from it, so that an earlier discount is never charged back.
ALTER TABLE build_change_orders ADD COLUMN live_price DECIMAL(10,2) NULL;
CREATE UNIQUE INDEX build_change_orders_version ON build_change_orders (build_id, version_number);
-- One pending change order per build at a time.
CREATE UNIQUE INDEX build_change_orders_one_pending ON build_change_orders (build_id)
  WHERE status = 'Pending Approval';

-- Invoice numbers: the studio prefix and the next number of this sequence (never duplicated;
-- a rolled-back booking may leave a gap).
CREATE SEQUENCE invoice_number_seq;
ALTER TABLE invoices ADD COLUMN description VARCHAR(255) NULL;
ALTER TABLE invoices ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX idx_invoices_project ON invoices (project_id, due_date);

-- When a build was booked, and by whom on the couple's behalf with which reason.
ALTER TABLE builds ADD COLUMN booked_at TIMESTAMPTZ NULL;
ALTER TABLE builds ADD COLUMN booked_reason TEXT NULL;

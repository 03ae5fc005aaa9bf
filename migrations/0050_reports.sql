-- Issue 17, the reports: marketing spend (entered by hand on Reports > Marketing spend) and
-- the indexes the reports' aggregate queries read along. Only additions.

-- What the studio spent on a lead source (and optionally one of its campaigns) on a day.
CREATE TABLE marketing_spend (
  id SERIAL PRIMARY KEY,
  spent_on DATE NOT NULL,
  lead_source VARCHAR(255) NOT NULL CHECK (btrim(lead_source) <> ''),
  campaign_id VARCHAR(255) NULL,
  amount DECIMAL(10,2) NOT NULL CHECK (amount > 0),
  notes TEXT,
  created_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The spend list (newest day first, then id: the keyset order) and the ROI report's range
-- (spent_on from .. to) both read this index (the same test, at 100,000 entries).
CREATE INDEX idx_marketing_spend_spent_on ON marketing_spend (spent_on DESC, id DESC);

-- Cash flow, "collected": payments by payment_date in the range, rather than every payment
-- (tests/app/reports.rs checks with EXPLAIN at 100,000 payments over ten years that a
-- six-month range is read along this index).
CREATE INDEX idx_payments_payment_date ON payments (payment_date);
-- Cash flow, refunds by refund_date in the same range.
CREATE INDEX idx_payment_refunds_refund_date ON payment_refunds (refund_date);
-- Cash flow, "invoiced": issued invoices by issue_date in the range (the same test, at 100,000
-- invoices).
CREATE INDEX idx_invoices_issue_date ON invoices (issue_date);
-- Marketing ROI and Pipeline read inquiries by created_at in the range through the existing
-- idx_inquiries_created (0007), and builds by inquiry through builds' unique inquiry_id.

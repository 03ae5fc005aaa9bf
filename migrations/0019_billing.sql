-- Phase 4: invoices, payments by hand, refunds, void, credit notes. Only additions.

-- Void: when, by whom, why (the status says Void).
ALTER TABLE invoices ADD COLUMN voided_at TIMESTAMPTZ NULL;
ALTER TABLE invoices ADD COLUMN voided_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL;
ALTER TABLE invoices ADD COLUMN void_reason TEXT NULL;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_known CHECK (status IS NULL OR status IN
  ('Draft', 'Sent', 'Partially Paid', 'Paid', 'Overdue', 'Void'));
-- What is paid never passes what is owed, whatever the code does: an invoice between nothing
-- and its total; a credit note (a negative total) between its total and nothing.
ALTER TABLE invoices ADD CONSTRAINT invoices_paid_within_total CHECK (
  amount_paid BETWEEN least(total_amount, 0) AND greatest(total_amount, 0));

-- The staff list: newest first (by id), one status or all, a page at a time.
CREATE INDEX idx_invoices_status_id ON invoices (status, id);
-- What is still owed (outstanding and overdue totals) and the overdue sweep read only the
-- open invoices.
CREATE INDEX idx_invoices_open ON invoices (due_date) INCLUDE (total_amount, amount_paid, status)
  WHERE status IN ('Sent', 'Partially Paid', 'Overdue');

-- Payments: who recorded them and when; a credit applied names the other invoice of the pair
-- (method 'Credit': +amount on the invoice it pays, -amount on the credit note it comes from).
ALTER TABLE payments ADD COLUMN recorded_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE payments ADD COLUMN recorded_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL;
ALTER TABLE payments ADD COLUMN credit_invoice_id INT NULL REFERENCES invoices(id) ON DELETE RESTRICT;
ALTER TABLE payments ADD CONSTRAINT payments_method_known CHECK (payment_method IN
  ('Cash', 'Cheque', 'Bank transfer', 'Card', 'Credit'));
ALTER TABLE payments ADD CONSTRAINT payments_amount_sign CHECK (
  (payment_method = 'Credit' AND amount <> 0 AND credit_invoice_id IS NOT NULL)
  OR (payment_method <> 'Credit' AND amount > 0 AND credit_invoice_id IS NULL));
-- The same transaction id is accepted once, across every invoice.
CREATE UNIQUE INDEX payments_transaction_id_once ON payments (transaction_id)
  WHERE transaction_id IS NOT NULL;
CREATE INDEX idx_payments_invoice ON payments (invoice_id, id);

-- Refunds, full or partial, against a payment.
CREATE TABLE payment_refunds (
  id SERIAL PRIMARY KEY,
  payment_id INT NOT NULL REFERENCES payments(id) ON DELETE RESTRICT,
  amount DECIMAL(10,2) NOT NULL CHECK (amount > 0),
  refund_date TIMESTAMPTZ NOT NULL,
  reason TEXT NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  recorded_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL
);
CREATE INDEX idx_payment_refunds_payment ON payment_refunds (payment_id, id);

-- The API's Idempotency-Key: the first answer to a key (per API caller), replayed for 24 h;
-- the same key with other parameters is refused.
CREATE TABLE api_idempotency (
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  idempotency_key VARCHAR(255) NOT NULL,
  request_sha256 TEXT NOT NULL,
  status SMALLINT NOT NULL,
  body JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (contributor_id, idempotency_key)
);
CREATE INDEX idx_api_idempotency_created ON api_idempotency (created_at);

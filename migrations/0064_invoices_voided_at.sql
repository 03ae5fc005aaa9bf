-- Cash flow's outstanding at each month's end walks back from today through the voids dated
-- since the range began: voids are few, so a partial index finds them without reading every
-- invoice.
CREATE INDEX idx_invoices_voided_at ON invoices (voided_at) WHERE voided_at IS NOT NULL;

-- Tax applies to taxable lines only (issue 14): an operator type's coverage and a billable
-- item can be marked non-taxable (films are always taxable). Existing rows stay taxable.
ALTER TABLE operator_types ADD COLUMN is_taxable BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE billable_items ADD COLUMN is_taxable BOOLEAN NOT NULL DEFAULT true;
-- The taxable part of a version's own price (live_price), so that the tax on a change is the
-- tax on the change of its taxable part. NULL on older rows: all of live_price was taxable.
ALTER TABLE build_change_orders ADD COLUMN taxable_price DECIMAL(10,2) NULL;

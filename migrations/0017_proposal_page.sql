-- The couple's proposal page looks like the studio's own: logo, a welcome and the terms.
ALTER TABLE studio_settings ADD COLUMN proposal_intro TEXT NOT NULL DEFAULT '';
ALTER TABLE studio_settings ADD COLUMN proposal_terms TEXT NOT NULL DEFAULT '';
-- A small image (PNG, JPEG, WebP or GIF, at most 512 KB), served at /brand/logo.
ALTER TABLE studio_settings ADD COLUMN logo BYTEA NULL CHECK (octet_length(logo) <= 524288);
ALTER TABLE studio_settings ADD COLUMN logo_type VARCHAR(32) NULL
  CHECK (logo_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif'));
ALTER TABLE studio_settings ADD COLUMN logo_updated_at TIMESTAMPTZ NULL;
ALTER TABLE studio_settings ADD CONSTRAINT studio_settings_logo_typed
  CHECK ((logo IS NULL) = (logo_type IS NULL));

-- What a proposal version showed: the tax at the studio's rate when it was sent (the total
-- stays the price before tax, as builds.live_price and approved_price are).
ALTER TABLE proposal_versions ADD COLUMN tax_rate_percent DECIMAL(5,2) NOT NULL DEFAULT 0;
ALTER TABLE proposal_versions ADD COLUMN tax_amount DECIMAL(10,2) NOT NULL DEFAULT 0;

-- The tax included in an invoice's total_amount (the studio's rate on its amount).
ALTER TABLE invoices ADD COLUMN tax_amount DECIMAL(10,2) NOT NULL DEFAULT 0;

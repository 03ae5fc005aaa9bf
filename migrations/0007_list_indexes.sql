-- The orders the lists are read in (newest first, then id for a stable keyset), so that a page
-- of the board, the inquiries API or the quotes list is an index scan, not a sort of every row.
CREATE INDEX idx_inquiries_created ON inquiries (created_at DESC, id DESC);
CREATE INDEX idx_inquiries_status_created ON inquiries (status, created_at DESC, id DESC);
CREATE INDEX idx_builds_updated ON builds (updated_at DESC, id DESC);

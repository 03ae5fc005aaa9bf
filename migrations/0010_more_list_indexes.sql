-- The orders of the lists paginated last, so a page is an index scan whatever the table's size:
-- a couple's communications newest first with the id as the tie-break (the index this replaces
-- stopped at the date), and a staff member's API tokens newest first (its prefix serves what
-- idx_api_tokens_contributor did).
DROP INDEX IF EXISTS idx_communications_contact;
CREATE INDEX idx_communications_contact_date_id
  ON communications_log (contact_id, communication_date DESC, id DESC);
DROP INDEX IF EXISTS idx_api_tokens_contributor;
CREATE INDEX idx_api_tokens_contributor_created
  ON api_tokens (contributor_id, created_at DESC, id DESC);

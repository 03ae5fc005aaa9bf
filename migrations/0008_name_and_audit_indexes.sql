-- The orders the remaining lists are read in, so a page is an index scan rather than a sort of
-- every row: couples by name (the contacts list's keyset: last name, first name, id, lowercased,
-- a missing name as empty), and the audit log newest first with its id as the tie-break.
CREATE INDEX idx_contacts_name ON contacts
  ((COALESCE(lower(last_name), '')), (COALESCE(lower(first_name), '')), id);
CREATE INDEX idx_audit_log_time_id ON audit_log ("timestamp" DESC, id DESC);

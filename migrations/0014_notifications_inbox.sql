-- Notifications (issue 13). The staff inbox reads one person's notifications newest first, a
-- page at a time: an index in that order, so a page is an index scan whatever the table's size.
CREATE INDEX idx_notifications_recipient_created
  ON notifications (recipient_contributor_id, created_at DESC, id DESC);
-- Every staff page's header counts the person's unread ones, up to a cap, in id order: an index
-- of the unread only, in that order, so that the count stops at the cap and a generic plan
-- reads this index rather than the table (where a LIMIT alone made a sequential scan look
-- cheap, and read every row for someone with few unread).
CREATE INDEX idx_notifications_unread
  ON notifications (recipient_contributor_id, id) WHERE NOT is_read;

-- The first time the couple opens a proposal version's page (staff opening the link do not
-- count): set once, in the same transaction as the "proposal viewed" notification.
ALTER TABLE proposal_versions ADD COLUMN viewed_at TIMESTAMPTZ NULL;

-- The kinds of notification that also email the studio's Owner(s) (crate::notify::Kind names,
-- e.g. 'new_lead'); none by default.
ALTER TABLE studio_settings ADD COLUMN notify_email_kinds TEXT[] NOT NULL DEFAULT '{}';

-- The follow-up to-do a new inquiry gets at intake ("Follow up with <name>"), marked, so that
-- moving the lead from New to Contacted closes that one and no other to-do (a marker column for
-- a row the system makes, as decisions.md has for engine-made rows).
ALTER TABLE activities ADD COLUMN is_follow_up BOOLEAN NOT NULL DEFAULT false;

-- Inquiries made before this: their first "Follow up with ..." to-do is the one intake made.
UPDATE activities SET is_follow_up = true
WHERE id IN (SELECT DISTINCT ON (inquiry_id) id FROM activities
             WHERE inquiry_id IS NOT NULL AND activity_type = 'To-Do'
               AND title LIKE 'Follow up with %'
             ORDER BY inquiry_id, id);

-- One follow-up per inquiry; also the index the move reads it by.
CREATE UNIQUE INDEX idx_activities_follow_up ON activities (inquiry_id) WHERE is_follow_up;

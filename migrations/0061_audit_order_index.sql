-- The audit log is read newest first by ("timestamp", id): idx_audit_log_time_id (0008) serves
-- that order exactly. idx_audit_log_time, on "timestamp" alone, is its prefix and tempted the
-- planner into reading every entry of a busy second (one transaction's entries share its
-- timestamp) and sorting them; without it a page reads one page of entries.
DROP INDEX idx_audit_log_time;

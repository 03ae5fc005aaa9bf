-- A password set from a link retires every other link of that login still waiting to be used
-- (an older reset link, an invitation): found by login, not by reading every link ever sent.
CREATE INDEX idx_one_time_tokens_unused_staff
  ON one_time_tokens (contributor_id) WHERE used_at IS NULL;
CREATE INDEX idx_one_time_tokens_unused_couple
  ON one_time_tokens (client_user_id) WHERE used_at IS NULL;

-- Google Calendar two-way sync (issue 15), optional: off unless its OAuth client is configured.
--
-- calendar_sync_tokens (the spec's table) is one person's connection. Its refresh_token holds
-- the refresh token sealed with AES-256-GCM (crypto::seal: 'gcm1:' || hex(nonce, ciphertext,
-- tag), the row's person authenticated with it); the key is a setting, never in the database.
ALTER TABLE calendar_sync_tokens
  -- The last access token, sealed the same way, and when Google said it expires.
  ADD COLUMN access_token TEXT NULL,
  ADD COLUMN access_expires_at TIMESTAMPTZ NULL,
  -- The dedicated "ProjectFlo" calendar in their account that our events are pushed to.
  ADD COLUMN google_calendar_id TEXT NULL,
  -- Their account as Google names it (the primary calendar's id: their address).
  ADD COLUMN account TEXT NULL,
  ADD COLUMN connected_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- What went wrong last (in people's words; never a token), cleared by a good run.
  ADD COLUMN last_error TEXT NULL,
  ADD COLUMN last_error_at TIMESTAMPTZ NULL;

-- The calendars of their account, as calendarList gives them: those chosen (selected) are
-- pulled as EXTERNAL_SYNC busy times, each incrementally with its own sync token.
CREATE TABLE calendar_sync_calendars (
  sync_id INT NOT NULL REFERENCES calendar_sync_tokens(id) ON DELETE CASCADE,
  calendar_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  is_primary BOOLEAN NOT NULL DEFAULT false,
  selected BOOLEAN NOT NULL DEFAULT false,
  -- Google's nextSyncToken of the last complete listing; NULL: the next pull is a full one.
  sync_token TEXT NULL,
  PRIMARY KEY (sync_id, calendar_id)
);

-- Our events pushed to their ProjectFlo calendar: which Google event each is, and a digest
-- of what Google was sent (title, notes, times, kind); an event whose digest differs now is
-- patched, a cancelled one deleted there.
CREATE TABLE calendar_pushed_events (
  event_id INT NOT NULL REFERENCES calendar_events(id) ON DELETE CASCADE,
  sync_id INT NOT NULL REFERENCES calendar_sync_tokens(id) ON DELETE CASCADE,
  google_event_id TEXT NOT NULL,
  pushed_digest TEXT NOT NULL,
  -- Set once the Google event is deleted (ours was cancelled).
  deleted_at TIMESTAMPTZ NULL,
  PRIMARY KEY (event_id, sync_id)
);
CREATE INDEX idx_calendar_pushed_events_sync ON calendar_pushed_events(sync_id);

-- A busy time pulled from Google (EXTERNAL_SYNC) names its calendar and event there.
ALTER TABLE calendar_events
  ADD COLUMN external_calendar_id TEXT NULL,
  ADD COLUMN external_event_id TEXT NULL;
CREATE UNIQUE INDEX idx_calendar_events_external ON calendar_events
  (contributor_id, external_calendar_id, external_event_id)
  WHERE external_event_id IS NOT NULL;

-- OAuth state parameters handed out by "Connect Google Calendar": single use, for the person
-- and the login session that started, for ten minutes. Only the SHA-256 of the state is kept.
CREATE TABLE google_oauth_states (
  state_hash TEXT PRIMARY KEY,
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  session_id TEXT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

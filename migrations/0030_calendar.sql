-- The native team calendar (issue 15): no double-booking enforced by the database, crew per
-- coverage line, the wedding day's schedule, recurring absences, secret ICS feeds.
--
-- All-day events are stored as the studio's local day(s): start_time is local midnight of the
-- first day and end_time local midnight of the day after the last (computed in the studio's
-- time zone by the app, so a day on which the clocks change lasts 23 or 25 hours), with
-- is_all_day = true. Every event is the half-open interval [start_time, end_time).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Recurring absences (a weekly day off, a holiday every year): the rule is kept here and its
-- occurrences are stored as calendar_events rows (recurrence_id, occurrence day) up to a
-- horizon, so that the exclusion constraint below covers them like any other absence.
CREATE TABLE calendar_recurrences (
  id SERIAL PRIMARY KEY,
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  title VARCHAR(255) NOT NULL,
  event_type calendar_event_type NOT NULL CHECK (event_type IN ('ABSENCE', 'HOLIDAY')),
  freq TEXT NOT NULL CHECK (freq IN ('WEEKLY', 'YEARLY')),
  first_day DATE NOT NULL,
  until_day DATE NULL CHECK (until_day >= first_day),
  -- Days of single occurrences taken out (RRULE EXDATE).
  exceptions DATE[] NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_calendar_recurrences_contributor ON calendar_recurrences(contributor_id);

ALTER TABLE calendar_events
  -- A cancelled event is kept (feeds tell subscribers STATUS:CANCELLED) but blocks no one.
  ADD COLUMN cancelled_at TIMESTAMPTZ NULL,
  ADD COLUMN coverage_assignment_id INT NULL REFERENCES build_coverage_assignments(id) ON DELETE CASCADE,
  ADD COLUMN recurrence_id INT NULL REFERENCES calendar_recurrences(id) ON DELETE CASCADE,
  ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  ADD CONSTRAINT calendar_events_ends_after_start CHECK (end_time > start_time),
  ADD CONSTRAINT calendar_events_no_double_booking EXCLUDE USING gist (
    contributor_id WITH =,
    tstzrange(start_time, end_time, '[)') WITH &&
  ) WHERE (event_type IN ('PROJECT_ASSIGNMENT', 'ABSENCE') AND cancelled_at IS NULL);

-- The calendar's range reads (who is busy when): live events by time.
CREATE INDEX idx_calendar_events_live_range ON calendar_events
  USING gist (tstzrange(start_time, end_time, '[)')) WHERE cancelled_at IS NULL;
CREATE INDEX idx_calendar_events_project ON calendar_events(project_id) WHERE project_id IS NOT NULL;
CREATE INDEX idx_calendar_events_coverage ON calendar_events(coverage_assignment_id)
  WHERE coverage_assignment_id IS NOT NULL;
CREATE INDEX idx_calendar_events_recurrence ON calendar_events(recurrence_id)
  WHERE recurrence_id IS NOT NULL;

-- The wedding day's schedule: each coverage line's local start and end, once the studio has
-- set them (before that, the defaults from the scenes' hours are shown).
CREATE TABLE shoot_schedule (
  coverage_assignment_id INT PRIMARY KEY REFERENCES build_coverage_assignments(id) ON DELETE CASCADE,
  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ NOT NULL,
  CHECK (end_time > start_time)
);

-- Which operator types (Lead Videographer, Second Shooter, Drone Pilot...) a person can fill:
-- the crew picker offers them first, and "who can shoot" is everyone with at least one.
CREATE TABLE contributor_operator_types (
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  operator_type_id INT NOT NULL REFERENCES operator_types(id) ON DELETE CASCADE,
  PRIMARY KEY (contributor_id, operator_type_id)
);
CREATE INDEX idx_contributor_operator_types_type ON contributor_operator_types(operator_type_id);

-- Secret ICS feed URLs: a person's own (contributor_id) or the studio's (studio_wide, for the
-- Owner). Only the token's SHA-256 is kept; revoking sets revoked_at.
CREATE TABLE calendar_feeds (
  id SERIAL PRIMARY KEY,
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  studio_wide BOOLEAN NOT NULL DEFAULT false,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at TIMESTAMPTZ NULL
);
CREATE UNIQUE INDEX idx_calendar_feeds_live ON calendar_feeds(contributor_id, studio_wide)
  WHERE revoked_at IS NULL;

-- The seeds write inquiries straight into a status (a booked one is inserted Booked, a lead
-- inserted Proposal Sent may be booked later through the application), so the database records
-- each as born there. Give each such inquiry the way it came, for the pipeline's days per
-- stage: New, then Contacted, Proposal Sent (not for every lost one), and the status it was
-- born in, after believable days in each stage (New 1-4, Contacted 2-8, Proposal Sent 4-18,
-- varying by inquiry), ending at its booking when it was born booked. All of it is squeezed
-- into the time before its next move (at most 70% of it) and before the seed's clock
-- (`projectflo.now`) when that is shorter.
WITH born AS (
  SELECT c.id AS change_id, c.inquiry_id AS id, c.to_status AS status, c.changed_at AS created_at,
         (SELECT b.booked_at FROM builds b WHERE b.inquiry_id = c.inquiry_id) AS booked,
         least(current_setting('projectflo.now')::timestamptz,
               c.changed_at + ((SELECT min(o.changed_at) FROM inquiry_stage_changes o
                                WHERE o.inquiry_id = c.inquiry_id AND o.id <> c.id)
                               - c.changed_at) * 0.7) AS now
  FROM inquiry_stage_changes c
  WHERE c.from_status IS NULL AND c.to_status <> 'New'
), planned AS (
  SELECT b.*,
         (CASE b.status
            WHEN 'Contacted' THEN '{Contacted}'
            WHEN 'Proposal Sent' THEN '{Contacted,"Proposal Sent"}'
            WHEN 'Booked' THEN '{Contacted,"Proposal Sent",Booked}'
            ELSE CASE WHEN b.id % 3 = 0 THEN '{Contacted,Closed-Lost}'
                      ELSE '{Contacted,"Proposal Sent",Closed-Lost}' END
          END)::inquiries_status[] AS path,
         -- Days in New, Contacted and Proposal Sent.
         ARRAY[1 + (b.id * 7) % 4 + (b.id % 10) / 10.0, 2 + (b.id * 5) % 7 + (b.id % 7) / 10.0,
               4 + (b.id * 3) % 15 + (b.id % 9) / 10.0] AS days
  FROM born b
), steps AS (
  SELECT p.change_id, p.id, p.created_at, p.now, p.booked, p.status, s.stage, s.k,
         p.path[s.k - 1] AS before,
         -- Days from the inquiry to this step, and to the last one.
         (SELECT sum(p.days[least(j, 3)]) FROM generate_series(1, s.k) j) AS at_days,
         (SELECT sum(p.days[least(j, 3)]) FROM generate_series(1, cardinality(p.path)) j)
           AS end_days
  FROM planned p, unnest(p.path) WITH ORDINALITY s(stage, k)
), timed AS (
  SELECT s.*,
         -- The last move: at the booking, or after the days; never after `now` (the clock, or
         -- before the next move), nor at the start.
         least(s.now, greatest(s.created_at + interval '1 hour',
               COALESCE(CASE WHEN s.status = 'Booked' THEN s.booked END,
                        s.created_at + s.end_days * interval '1 day'))) AS ends
  FROM steps s
), first AS (
  UPDATE inquiry_stage_changes c SET to_status = 'New'
  WHERE c.id IN (SELECT change_id FROM born)
)
INSERT INTO inquiry_stage_changes (inquiry_id, from_status, to_status, changed_at)
SELECT t.id, COALESCE(t.before, 'New'), t.stage,
       t.created_at + (t.ends - t.created_at) * (t.at_days / t.end_days)
FROM timed t
ORDER BY t.id, t.k;

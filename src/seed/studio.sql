-- A synthetic studio of `projectflo.scale_years` years of a very busy studio taking
-- `projectflo.scale_per_year` bookings a year (5,000 by default: a large multi-team studio),
-- for measuring the reports and the dashboard at size. Set-based (generate_series, one INSERT
-- per table), never a row at a time; dated by the seed's clock (`projectflo.now`) and the
-- studio's time zone; runs inside the seed's transaction on top of the demo studio's catalog.
--
-- The distributions, per year of P bookings:
-- * leads: about 3 x P inquiries, by source (share, conversion): Instagram (30%, 25%), Google
--   (22%, 28%), The Knot (15%, 38%), Referral (14%, 62%), Website (12%, 30%), WeddingWire (7%,
--   22%); campaigns within Instagram, Google, The Knot and WeddingWire; the lost ones Closed-Lost
--   after two months, the recent ones New, Contacted or Proposal Sent; a follow-up to-do each.
-- * bookings: a week to six weeks after the inquiry; the wedding 3 to 15 months later, mostly on
--   Saturdays; coverage of 3 to 6 scenes; 1 to 5 films (Highlight 100%, Feature 70%, Ceremony
--   Edit 55%, Teaser 50%, Raw Footage 35%), their components one per film and scene, and the
--   tasks the studio's own recipes select for them (about 40 per booking).
-- * hours: a booking's tasks go to its editor (80%) and two others; each editor has a speed
--   (0.75-1.45 x the template's hours) and a punctuality (60-97%
--   of tasks on time); planned hours are the template's, actual hours the editor's speed with
--   noise; one time entry per completed task (and the hours so far of tasks in progress).
-- * status by date: tasks of delivered weddings are Completed (a few recent ones late and still
--   open); weddings in post-production part done; future weddings To-Do.
-- * crew: a lead videographer on every wedding and a second shooter on 60%, on the wedding day.
-- * money: a 30% deposit invoiced and paid on booking, the balance due 30 days before the
--   wedding (paid by then, 2% overdue), by card (35%), bank transfer (55%) or cheque (10%).
-- * expenses: travel, music licences, drives, rentals on most delivered weddings; a few
--   weddings with an expensive rental or a lot of travel make the bottom of the profit report.
-- * marketing spend every month on the paid sources.

SELECT setseed(0.4217);

CREATE TEMP TABLE s_p ON COMMIT DROP AS
SELECT current_setting('projectflo.now')::timestamptz AS now,
       (current_setting('projectflo.now')::timestamptz AT TIME ZONE tz)::date AS today,
       tz,
       current_setting('projectflo.scale_years')::int AS years,
       current_setting('projectflo.scale_per_year')::int AS per_year,
       substr(md5(random()::text), 1, 6) AS tag,
       GREATEST(3, ceil(current_setting('projectflo.scale_per_year')::int / 35.0))::int AS editors,
       GREATEST(2, ceil(current_setting('projectflo.scale_per_year')::int / 30.0))::int AS shooters,
       GREATEST(2, ceil(current_setting('projectflo.scale_per_year')::int / 800.0))::int AS sales
FROM (SELECT time_zone AS tz FROM studio_settings) s;

-- The team: editors, videographers and sales people, each with an hourly cost; editors with a
-- speed and a punctuality of their own.
CREATE TEMP TABLE s_people ON COMMIT DROP AS
SELECT k.kind, k.n, nextval('contacts_id_seq')::int AS contact_id,
       nextval('contributors_id_seq')::int AS id,
       CASE k.kind WHEN 'Editor' THEN round((30 + random() * 25)::numeric, 2)
                   WHEN 'Videographer' THEN round((40 + random() * 30)::numeric, 2)
                   ELSE round((28 + random() * 10)::numeric, 2) END AS hourly_cost,
       (0.75 + random() * 0.70) AS speed,
       (0.60 + random() * 0.37) AS punctual
FROM s_p, LATERAL (
  SELECT 'Editor' AS kind, n FROM generate_series(1, s_p.editors) n
  UNION ALL SELECT 'Videographer', n FROM generate_series(1, s_p.shooters) n
  UNION ALL SELECT 'Sales', n FROM generate_series(1, s_p.sales) n
) k;

INSERT INTO contacts (id, first_name, last_name, email, type, created_at)
SELECT pe.contact_id,
       (ARRAY['Alex','Robin','Jamie','Casey','Morgan','Riley','Taylor','Jordan','Avery','Quinn'])[1 + pe.n % 10],
       pe.kind || ' ' || pe.n,
       'scale-' || lower(pe.kind) || '-' || pe.n || '-' || s_p.tag || '@studio.test',
       'Contributor', s_p.now - make_interval(years => s_p.years)
FROM s_people pe, s_p;

INSERT INTO contributors (id, contact_id, role_id, contributor_type, hourly_cost)
SELECT pe.id, pe.contact_id, r.id,
       (CASE WHEN pe.n % 3 = 0 THEN 'Internal' ELSE 'Freelance' END)::contributors_type,
       pe.hourly_cost
FROM s_people pe JOIN roles r ON r.name = pe.kind;

INSERT INTO contributor_operator_types (contributor_id, operator_type_id)
SELECT pe.id, o.id FROM s_people pe
JOIN operator_types o ON o.name IN ('Lead Videographer', 'Second Shooter')
WHERE pe.kind = 'Videographer'
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE s_editors ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id)::int - 1 AS k, id, speed, punctual
FROM s_people WHERE kind = 'Editor';
CREATE TEMP TABLE s_shooters ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id)::int - 1 AS k, id FROM s_people WHERE kind = 'Videographer';
CREATE TEMP TABLE s_sales ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id)::int - 1 AS k, id FROM s_people WHERE kind = 'Sales';

-- The lead sources: (source, share, conversion, campaigns).
CREATE TEMP TABLE s_sources ON COMMIT DROP AS
SELECT * FROM (VALUES
  ('Instagram', 0.00, 0.30, 0.25, ARRAY['reels-spring', 'reels-autumn']),
  ('Google', 0.30, 0.52, 0.28, ARRAY['search-brand', 'search-wedding-video']),
  ('The Knot', 0.52, 0.67, 0.38, ARRAY['theknot-listing']),
  ('Referral', 0.67, 0.81, 0.62, NULL::text[]),
  ('Website', 0.81, 0.93, 0.30, NULL::text[]),
  ('WeddingWire', 0.93, 1.01, 0.22, ARRAY['weddingwire-featured'])
) v(source, lo, hi, conversion, campaigns);

-- Every inquiry with its fate decided up front (ids taken from the sequences).
CREATE TEMP TABLE s_inq ON COMMIT DROP AS
WITH g AS (
  SELECT n, random() AS r_source, random() AS r_book, random() AS r_stage, random() AS r_when,
         random() AS r_misc
  FROM s_p, generate_series(1, ceil(s_p.years * s_p.per_year / 0.3318)::int) n
)
SELECT g.n, nextval('contacts_id_seq')::int AS contact_id,
       nextval('inquiries_id_seq')::int AS inquiry_id,
       so.source,
       CASE WHEN so.campaigns IS NULL THEN NULL
            ELSE so.campaigns[1 + floor(g.r_misc * array_length(so.campaigns, 1))::int] END AS campaign,
       s_p.now - (g.r_when * s_p.years * 365.25) * interval '1 day' AS created_at,
       g.r_book < so.conversion AS converts, g.r_stage, g.r_misc
FROM g CROSS JOIN s_p JOIN s_sources so ON g.r_source >= so.lo AND g.r_source < so.hi;

ALTER TABLE s_inq ADD COLUMN booked BOOLEAN, ADD COLUMN booking_at TIMESTAMPTZ,
  ADD COLUMN status inquiries_status, ADD COLUMN wedding DATE, ADD COLUMN proposed BOOLEAN;
UPDATE s_inq i SET
  booking_at = i.created_at + (7 + i.r_stage * 35) * interval '1 day',
  booked = i.converts AND i.created_at + (7 + i.r_stage * 35) * interval '1 day' < p.now
FROM s_p p;
-- Wedding days: 3 to 15 months after the inquiry, moved to a Saturday (55%), Friday (20%),
-- Sunday (15%) or another day.
UPDATE s_inq i SET wedding = d + ((wd - extract(isodow FROM d)::int + 7) % 7)
FROM (SELECT inquiry_id,
             (created_at::date + 90 + floor(r_misc * 360)::int) AS d,
             CASE WHEN r_stage < 0.55 THEN 6 WHEN r_stage < 0.75 THEN 5 WHEN r_stage < 0.90 THEN 7
                  ELSE 1 + floor(r_misc * 4)::int END AS wd
      FROM s_inq) x
WHERE x.inquiry_id = i.inquiry_id;
UPDATE s_inq i SET
  proposed = i.booked OR i.r_stage < 0.45,
  status = CASE
    WHEN i.booked THEN 'Booked'
    WHEN i.created_at < p.now - interval '60 days' THEN 'Closed-Lost'
    WHEN i.r_stage < 0.35 THEN 'Proposal Sent'
    WHEN i.r_stage < 0.65 THEN 'Contacted'
    ELSE 'New' END::inquiries_status
FROM s_p p;

INSERT INTO contacts (id, first_name, last_name, email, phone_number, type, created_at, updated_at)
SELECT i.contact_id,
       (ARRAY['Ava','Noah','Mia','Liam','Zoe','Eli','Ivy','Leo','Ada','Kai','Nora','Owen'])[1 + i.n % 12],
       (ARRAY['Reyes','Kim','Novak','Okoro','Silva','Berg','Costa','Hale','Ito','Moreau'])[1 + (i.n / 12) % 10]
         || ' ' || i.n,
       'studio-' || i.n || '-' || p.tag || '@example.test', NULL,
       (CASE WHEN i.booked THEN 'Client' ELSE 'Client Lead' END)::contacts_type,
       i.created_at, i.created_at
FROM s_inq i, s_p p;

INSERT INTO inquiries (id, contact_id, wedding_date, status, follow_up_due_date, lead_source,
                       campaign_id, created_at, updated_at)
SELECT i.inquiry_id, i.contact_id, i.wedding, i.status,
       (i.created_at AT TIME ZONE p.tz)::date + 1, i.source, i.campaign, i.created_at,
       CASE WHEN i.booked THEN i.booking_at ELSE i.created_at END
FROM s_inq i, s_p p;

-- A follow-up to-do per inquiry for a sales person (round robin); done unless it is recent.
INSERT INTO activities (assigned_to_contributor_id, contact_id, inquiry_id, due_date, activity_type,
                        title, status, is_follow_up, created_at, completed_at)
SELECT sa.id, i.contact_id, i.inquiry_id, (i.created_at AT TIME ZONE p.tz)::date + 1, 'To-Do',
       'Follow up with inquiry ' || i.n,
       (CASE WHEN i.created_at < p.now - interval '3 days' THEN 'Completed' ELSE 'Pending' END)::activity_status,
       true, i.created_at,
       CASE WHEN i.created_at < p.now - interval '3 days' THEN i.created_at + interval '20 hours' END
FROM s_inq i CROSS JOIN s_p p JOIN s_sales sa ON sa.k = i.n % p.sales;

-- The bookings: a client, a project and a build each.
CREATE TEMP TABLE s_book ON COMMIT DROP AS
SELECT i.*, nextval('clients_id_seq')::int AS client_id, nextval('projects_id_seq')::int AS project_id,
       nextval('builds_id_seq')::int AS build_id,
       (i.booking_at AT TIME ZONE p.tz)::date AS booking_day,
       i.wedding + 7 * (SELECT delivery_weeks_after_wedding FROM studio_settings) AS delivery,
       ((i.n * 7919) % p.editors)::int AS editor_k
FROM s_inq i, s_p p WHERE i.booked;
CREATE UNIQUE INDEX ON s_book (project_id);

INSERT INTO clients (id, contact_id, inquiry_id)
SELECT client_id, contact_id, inquiry_id FROM s_book;

INSERT INTO projects (id, client_id, project_name, wedding_date, booking_date, phase, created_at, updated_at)
SELECT b.project_id, b.client_id, 'Scale couple ' || b.n || ' wedding', b.wedding, b.booking_day,
       CASE WHEN b.delivery < p.today THEN 'Delivery' WHEN b.wedding < p.today THEN 'Post-Production'
            ELSE 'Pre-Production' END,
       b.booking_at, b.booking_at
FROM s_book b, s_p p;

-- Coverage and films of each booking, chosen at random with the shares above.
-- (random() drawn per pair in the select list: a volatile filter on one side of a join may be
-- evaluated once per row of that side only.)
CREATE TEMP TABLE s_scene ON COMMIT DROP AS
SELECT project_id, build_id, scene_id, scene, default_hours FROM (
  SELECT b.project_id, b.build_id, s.id AS scene_id, s.name AS scene, s.default_hours,
         random() AS r
  FROM s_book b
  JOIN coverage_scenes s ON s.name IN ('Getting Ready', 'First Look', 'Ceremony', 'Cocktail Hour',
                                       'Reception', 'Drone Aerials')
  OFFSET 0) x
WHERE r < CASE scene WHEN 'Getting Ready' THEN 0.95 WHEN 'First Look' THEN 0.75
                     WHEN 'Ceremony' THEN 1.0 WHEN 'Cocktail Hour' THEN 0.9
                     WHEN 'Reception' THEN 1.0 ELSE 0.5 END;

CREATE TEMP TABLE s_film ON COMMIT DROP AS
SELECT project_id, build_id, deliverable_id, film,
       nextval('build_deliverables_id_seq')::int AS bd_id FROM (
  SELECT b.project_id, b.build_id, d.id AS deliverable_id, d.name AS film, random() AS r
  FROM s_book b
  JOIN deliverables d ON d.name IN ('Highlight Film', 'Feature Film', 'Ceremony Edit', 'Teaser',
                                    'Raw Footage')
  OFFSET 0) x
WHERE r < CASE film WHEN 'Highlight Film' THEN 1.0 WHEN 'Feature Film' THEN 0.7
                    WHEN 'Ceremony Edit' THEN 0.55 WHEN 'Teaser' THEN 0.5 ELSE 0.35 END;

CREATE TEMP TABLE s_comp ON COMMIT DROP AS
SELECT nextval('build_components_id_seq')::int AS id, f.project_id, f.bd_id, f.film,
       f.deliverable_id,
       s.scene_id, s.scene,
       st.id AS style_id, st.name AS style,
       CASE f.film WHEN 'Highlight Film' THEN 1.0 WHEN 'Feature Film' THEN 5.0
                   WHEN 'Ceremony Edit' THEN 25.0 WHEN 'Teaser' THEN 0.5 ELSE NULL END AS minutes
FROM s_film f
JOIN s_scene s ON s.project_id = f.project_id
JOIN editing_styles st ON st.name = CASE
  WHEN f.film IN ('Highlight Film', 'Teaser') THEN
    CASE WHEN (f.project_id % 10) = 0 THEN 'Vintage Film' ELSE 'Cinematic' END
  ELSE 'Documentary' END
WHERE (f.film <> 'Ceremony Edit' OR s.scene = 'Ceremony')
  AND (f.film <> 'Teaser' OR s.scene IN ('First Look', 'Reception'));

-- The tasks the studio's recipes select for each component (a template once per component),
-- each with its planned hours (the template's effort for the component), the editor who does
-- it (the booking's editor for 80%, two others of the team for the rest), its due day by phase counting back
-- from the promised delivery, and its actual hours at the editor's speed.
CREATE TEMP TABLE s_task ON COMMIT DROP AS
WITH sel AS (
  SELECT DISTINCT ON (c.id, r.task_template_id) c.id AS component_id, c.project_id,
         r.task_template_id, c.minutes
  FROM s_comp c
  JOIN component_task_recipes r
    ON (r.deliverable_id IS NULL OR r.deliverable_id = c.deliverable_id)
   AND (r.coverage_scene_id IS NULL OR r.coverage_scene_id = c.scene_id)
   AND (r.editing_style_id IS NULL OR r.editing_style_id = c.style_id)
)
SELECT nextval('tasks_id_seq')::int AS id, sel.project_id, sel.component_id, sel.task_template_id,
       GREATEST(0.25, round(LEAST(COALESCE((t.effort_calculation_rules->>'max_hours')::numeric, 1000),
         GREATEST(COALESCE((t.effort_calculation_rules->>'min_hours')::numeric, 0),
           COALESCE((t.effort_calculation_rules->>'base_hours')::numeric, t.effort_hours, 0.75)
           + COALESCE((t.effort_calculation_rules->>'hours_per_target_minute')::numeric, 0)
             * COALESCE(sel.minutes, 0))), 2)) AS planned,
       b.delivery - 7 * GREATEST(0, array_length(st.task_phase_order, 1)
                                    - COALESCE(array_position(st.task_phase_order, t.phase::text),
                                               array_length(st.task_phase_order, 1))) AS due,
       (b.editor_k + CASE WHEN x.r < 0.8 THEN 0 WHEN x.r < 0.92 THEN 1 + b.n % 5
                          ELSE 6 + b.n % 7 END) % p.editors AS editor_k,
       random() AS r1, random() AS r2, random() AS r3
FROM sel
JOIN task_templates t ON t.id = sel.task_template_id
JOIN s_book b ON b.project_id = sel.project_id
CROSS JOIN s_p p CROSS JOIN studio_settings st
CROSS JOIN LATERAL (SELECT random() AS r WHERE sel.component_id > 0) x;

-- The price, as the quote's engine makes it: the coverage lines (hourly operators x the
-- scene's hours, fixed ones their price), each task of the films' parts (fixed templates their
-- price, hourly ones their hours x the studio's editing rate), 15% with an approved change
-- (an add-on) on top.
CREATE TEMP TABLE s_price ON COMMIT DROP AS
SELECT b.build_id, b.project_id,
       (COALESCE(sc.amount, 0) + COALESCE(tk.amount, 0)
        + CASE WHEN b.r_misc < 0.15 THEN 350 + round((b.r_stage * 450)::numeric) ELSE 0 END
       )::numeric(10,2) AS price
FROM s_book b
LEFT JOIN (SELECT s.project_id,
                  sum(CASE WHEN o.pricing_type = 'Fixed' THEN o.default_fixed_price
                           ELSE o.default_hourly_rate * s.default_hours END) AS amount
           FROM s_scene s
           JOIN operator_types o ON o.name = CASE WHEN s.scene = 'Drone Aerials' THEN 'Drone Pilot'
                                                  ELSE 'Lead Videographer' END
           GROUP BY 1) sc ON sc.project_id = b.project_id
LEFT JOIN (SELECT k.project_id,
                  sum(CASE WHEN t.pricing_type = 'Fixed' THEN COALESCE(t.fixed_price, 0)
                           ELSE round(k.planned * st.editing_hourly_rate, 2) END) AS amount
           FROM s_task k JOIN task_templates t ON t.id = k.task_template_id
           CROSS JOIN studio_settings st
           GROUP BY 1) tk ON tk.project_id = b.project_id;

INSERT INTO builds (id, client_id, inquiry_id, project_id, status, configuration_locked_at,
                    approved_price, live_price, total_paid, created_at, updated_at, booked_at,
                    proposal_sent_at, accepted_at)
SELECT b.build_id, b.client_id, b.inquiry_id, b.project_id,
       (CASE WHEN b.delivery < p.today THEN 'Completed' ELSE 'Booked' END)::builds_status,
       b.booking_at, pr.price, pr.price, 0, b.created_at, b.booking_at, b.booking_at,
       b.created_at + interval '3 days', b.booking_at - interval '1 day'
FROM s_book b JOIN s_price pr ON pr.build_id = b.build_id CROSS JOIN s_p p;

-- Quotes sent but not booked: a build with a proposal.
INSERT INTO builds (inquiry_id, status, live_price, created_at, updated_at, proposal_sent_at)
SELECT i.inquiry_id, 'Proposal Sent', 2500 + floor(i.r_misc * 6000), i.created_at,
       i.created_at + interval '3 days', i.created_at + interval '3 days'
FROM s_inq i WHERE i.proposed AND NOT i.booked;

INSERT INTO build_coverage_assignments (build_id, coverage_scene_id, operator_type_id, quantity)
SELECT s.build_id, s.scene_id, o.id, 1 FROM s_scene s
JOIN operator_types o ON o.name = CASE WHEN s.scene = 'Drone Aerials' THEN 'Drone Pilot'
                                       ELSE 'Lead Videographer' END;

INSERT INTO build_deliverables (id, build_id, deliverable_id)
SELECT bd_id, build_id, deliverable_id FROM s_film;

INSERT INTO build_components (id, build_deliverable_id, coverage_scene_id, editing_style_id,
                              target_minutes, is_included, calculated_price)
SELECT id, bd_id, scene_id, style_id, minutes, true, 0 FROM s_comp;

ALTER TABLE s_task ADD COLUMN editor INT, ADD COLUMN actual NUMERIC(8,2),
  ADD COLUMN status tasks_status, ADD COLUMN done_day DATE;
UPDATE s_task t SET editor = e.id,
  actual = GREATEST(0.10, round((t.planned * e.speed * (0.7 + t.r1 * 0.7))::numeric, 2)),
  -- Completed by the due day for the editor's punctual share, 1-14 days late for the rest;
  -- on-time ones 0-10 days early.
  done_day = CASE WHEN t.r2 < e.punctual THEN t.due - floor(t.r3 * 11)::int
                  ELSE t.due + 1 + floor(t.r3 * 14)::int END
FROM s_editors e WHERE e.k = t.editor_k;
UPDATE s_task t SET status = CASE
    -- Done: the day it was done has passed (a few of the last month's still open, late).
    WHEN t.done_day < p.today AND (t.due < p.today - 30 OR t.r1 < 0.9) THEN 'Completed'
    WHEN t.done_day < p.today THEN 'In Progress'
    -- Not done yet: started when the wedding has passed and the due day is near.
    WHEN t.due < p.today + 21 AND t.r1 < 0.3 THEN 'In Progress'
    WHEN t.due < p.today + 21 AND t.r1 < 0.5 THEN 'Ready to Start'
    ELSE 'To-Do' END::tasks_status
FROM s_p p;

INSERT INTO tasks (id, project_id, build_component_id, task_template_id, planned_duration_hours,
                   actual_duration_hours, status, due_date, assigned_to_contributor_id,
                   planned_source, created_at, updated_at, completed_at)
SELECT t.id, t.project_id, t.component_id, t.task_template_id, t.planned,
       CASE WHEN t.status = 'Completed' THEN t.actual
            WHEN t.status = 'In Progress' THEN round(t.actual * 0.5, 2) END,
       t.status, t.due, t.editor, 'the template''s effort', b.booking_at,
       b.booking_at, CASE WHEN t.status = 'Completed'
                          THEN ((t.done_day + time '17:00') AT TIME ZONE p.tz) END
FROM s_task t JOIN s_book b ON b.project_id = t.project_id CROSS JOIN s_p p;

-- Time logged: the whole of a completed task on the day it was done, half of one in progress.
INSERT INTO task_time_entries (task_id, contributor_id, started_at, ended_at, hours, is_manual,
                               created_at)
SELECT t.id, t.editor, x.ends - make_interval(secs => (x.h * 3600)::float8), x.ends, x.h, true, x.ends
FROM s_task t CROSS JOIN s_p p,
LATERAL (SELECT CASE WHEN t.status = 'Completed' THEN t.actual ELSE round(t.actual * 0.5, 2) END AS h,
                CASE WHEN t.status = 'Completed' THEN ((t.done_day + time '17:00') AT TIME ZONE p.tz)
                     ELSE p.now - interval '1 day' END AS ends) x
WHERE t.status IN ('Completed', 'In Progress') AND x.h > 0;

-- The crew on each wedding day: a lead (13:00-22:00) and, on 60%, a second shooter
-- (15:00-22:00). Each videographer shoots at most one wedding a day (the weddings of one day
-- take them in turn; a day with more weddings than videographers hires freelancers from
-- outside the calendar).
INSERT INTO calendar_events (contributor_id, project_id, title, start_time, end_time, event_type,
                             created_at, updated_at)
SELECT sh.id, w.project_id, 'Shoot: ' || w.project_name,
       ((w.wedding + CASE WHEN c.k = 0 THEN time '13:00' ELSE time '15:00' END) AT TIME ZONE p.tz),
       ((w.wedding + time '22:00') AT TIME ZONE p.tz), 'PROJECT_ASSIGNMENT', w.booking_at, w.booking_at
FROM (SELECT b.project_id, b.wedding, b.booking_at, b.r_misc, 'Scale couple ' || b.n || ' wedding' AS project_name,
             (row_number() OVER (PARTITION BY b.wedding ORDER BY b.project_id) - 1)::int AS rank
      FROM s_book b) w
CROSS JOIN s_p p
CROSS JOIN LATERAL (SELECT 0 AS k UNION ALL SELECT 1 WHERE w.r_misc < 0.6) c
JOIN s_shooters sh ON sh.k = w.rank * 2 + c.k
WHERE w.rank * 2 + c.k < p.shooters;

-- Money: the deposit (30%) invoiced and paid on booking; the balance due 30 days before the
-- wedding, paid around then (2% overdue and unpaid, 5% paid late).
CREATE TEMP TABLE s_inv ON COMMIT DROP AS
SELECT nextval('invoices_id_seq')::int AS id, b.project_id, b.build_id, x.kind,
       x.amount, x.issue, x.due, random() AS r1, random() AS r2
FROM s_book b JOIN s_price pr ON pr.build_id = b.build_id
CROSS JOIN LATERAL (VALUES
  ('Deposit', round(pr.price * 0.30, 2), b.booking_day, b.booking_day),
  ('Balance', pr.price - round(pr.price * 0.30, 2), b.booking_day, GREATEST(b.booking_day, b.wedding - 30))
) x(kind, amount, issue, due);
ALTER TABLE s_inv ADD COLUMN paid_on DATE;
UPDATE s_inv v SET paid_on = CASE
    WHEN v.kind = 'Deposit' THEN v.issue + floor(v.r1 * 4)::int
    WHEN v.r1 < 0.02 THEN NULL
    WHEN v.r1 < 0.07 THEN v.due + 3 + floor(v.r2 * 20)::int
    ELSE v.due - floor(v.r2 * 20)::int END;
UPDATE s_inv v SET paid_on = NULL FROM s_p p WHERE v.paid_on > p.today;

INSERT INTO invoices (id, project_id, invoice_number, issue_date, due_date, total_amount,
                      amount_paid, status, description, created_at, tax_amount)
SELECT v.id, v.project_id, 'S' || p.tag || '-' || v.id, v.issue, v.due, v.amount,
       CASE WHEN v.paid_on IS NULL THEN 0 ELSE v.amount END,
       CASE WHEN v.paid_on IS NOT NULL THEN 'Paid' WHEN v.due < p.today THEN 'Overdue'
            ELSE 'Sent' END,
       v.kind, (v.issue + time '10:00') AT TIME ZONE p.tz, 0
FROM s_inv v CROSS JOIN s_p p;

INSERT INTO payments (invoice_id, payment_date, amount, payment_method, transaction_id,
                      recorded_at)
SELECT v.id, (v.paid_on + time '12:00') AT TIME ZONE p.tz, v.amount,
       CASE WHEN v.r2 < 0.35 THEN 'Card' WHEN v.r2 < 0.90 THEN 'Bank transfer' ELSE 'Cheque' END,
       NULL, (v.paid_on + time '12:00') AT TIME ZONE p.tz
FROM s_inv v CROSS JOIN s_p p WHERE v.paid_on IS NOT NULL;

UPDATE builds b SET total_paid = x.paid
FROM (SELECT build_id, sum(amount) AS paid FROM s_inv WHERE paid_on IS NOT NULL GROUP BY 1) x
WHERE b.id = x.build_id;

-- Expenses of the weddings that have happened: music licences, travel, drives, rentals; a few
-- with a costly rental or a long trip.
INSERT INTO project_expenses (project_id, expense_date, description, category, amount)
SELECT b.project_id, b.wedding + x.days, x.what, x.category, x.amount
FROM s_book b CROSS JOIN s_p p
CROSS JOIN LATERAL (
  SELECT 'Licensed music' AS what, 'Music licensing' AS category,
         round((85 + random() * 165)::numeric, 2) AS amount, 10 AS days WHERE random() < 0.6 AND b.project_id > 0
  UNION ALL SELECT 'Mileage and parking', 'Travel', round((40 + random() * 260)::numeric, 2), 0
    WHERE random() < 0.45 AND b.project_id > 0
  UNION ALL SELECT 'Delivery drive', 'Materials', round((25 + random() * 40)::numeric, 2), 30
    WHERE random() < 0.5 AND b.project_id > 0
  UNION ALL SELECT 'Cinema lens and gimbal rental', 'Equipment rental',
         round((600 + random() * 1400)::numeric, 2), -2 WHERE random() < 0.04 AND b.project_id > 0
  UNION ALL SELECT 'Flights and hotel, destination wedding', 'Travel',
         round((900 + random() * 2100)::numeric, 2), -1 WHERE random() < 0.03 AND b.project_id > 0
) x
WHERE b.wedding < p.today;

-- Marketing spend: every month on the paid sources, in proportion to the studio's size.
INSERT INTO marketing_spend (spent_on, lead_source, campaign_id, amount, notes, created_at)
SELECT m::date + 1, so.source, c.campaign,
       round((p.per_year / 5000.0 * CASE so.source WHEN 'Instagram' THEN 9000 WHEN 'Google' THEN 12000
                                           WHEN 'The Knot' THEN 6000 ELSE 2500 END
              * (0.8 + random() * 0.4))::numeric, 2),
       'Monthly spend', m
FROM s_p p
CROSS JOIN generate_series(date_trunc('month', p.now - make_interval(years => p.years)),
                           date_trunc('month', p.now) - interval '1 month', interval '1 month') m
JOIN s_sources so ON so.campaigns IS NOT NULL
CROSS JOIN LATERAL unnest(so.campaigns) c(campaign);

-- The demo studio: Golden Hour Films. Runs once, inside the seed's transaction.
UPDATE studio_settings SET studio_name = 'Golden Hour Films', currency_code = 'USD',
  time_zone = 'America/Los_Angeles', editing_hourly_rate = 85.00, tax_rate_percent = 0.00,
  deposit_percent = 30.00, balance_due_days_before_wedding = 30, invoice_prefix = 'GHF-',
  task_phase_order = ARRAY['Pre-Production', 'Production', 'Post-Production', 'Delivery'],
  proposal_intro = E'Thank you for thinking of us for your wedding. We film days the way they felt: honest moments, real sound, and the people you love.\n\nBelow is everything we talked about, priced line by line. If you would like to change anything, reply to our email and we will send a new version.',
  proposal_terms = E'## Booking\nYour date is reserved once the contract is signed by you and by us; the deposit is due then. The deposit is non-refundable, as we turn other couples away for your date.\n\n## Changes\nCoverage, films and add-ons can change after booking; every change is shown to you as a change order to approve before anything is charged.\n\n## Delivery\nThe highlight film arrives within 8 weeks of the wedding and the other films within 12, through your online gallery.\n\n## Music\nFilms use licensed music, so they can be shared online.';

-- The seed's clock (`projectflo.now`, set by seed.rs from the clock it is given) and the
-- studio's local date at that instant: every demo date is relative to these.
CREATE OR REPLACE FUNCTION pg_temp.demo_now() RETURNS timestamptz LANGUAGE sql STABLE
  AS $$ SELECT current_setting('projectflo.now')::timestamptz $$;
CREATE OR REPLACE FUNCTION pg_temp.demo_today() RETURNS date LANGUAGE sql STABLE
  AS $$ SELECT (pg_temp.demo_now() AT TIME ZONE (SELECT time_zone FROM studio_settings))::date $$;

INSERT INTO coverage_scenes (name, description, default_hours) VALUES
  ('Getting Ready', 'Hair, make-up, dressing and details of both partners', 2.00),
  ('First Look', 'The private first look before the ceremony', 1.00),
  ('Ceremony', 'Processional, vows, rings and recessional', 1.50),
  ('Cocktail Hour', 'Guests, portraits and the venue between ceremony and dinner', 1.50),
  ('Reception', 'Entrances, toasts, first dance, party', 4.00),
  ('Drone Aerials', 'Aerial shots of the venue and the couple', 1.00)
ON CONFLICT (name) DO NOTHING;

INSERT INTO deliverables (name, description) VALUES
  ('Highlight Film', 'A 4-6 minute cinematic film of the day set to music'),
  ('Feature Film', 'A 20-40 minute documentary telling of the whole day'),
  ('Ceremony Edit', 'The full ceremony, multicam, with clean audio'),
  ('Teaser', 'A 60-second teaser for social media, delivered within a week'),
  ('Raw Footage', 'Every usable clip, organised by scene')
ON CONFLICT (name) DO NOTHING;

INSERT INTO editing_styles (name, description) VALUES
  ('Cinematic', 'Graded, music-driven, slow motion and sound design'),
  ('Documentary', 'Natural colour, real sound, told in order'),
  ('Vintage Film', 'Super 8 look with grain, gate weave and warm tones')
ON CONFLICT (name) DO NOTHING;

INSERT INTO operator_types (name, default_hourly_rate, default_fixed_price, pricing_type) VALUES
  ('Lead Videographer', 150.00, NULL, 'Hourly'),
  ('Second Shooter', 95.00, NULL, 'Hourly'),
  ('Drone Pilot', NULL, 450.00, 'Fixed'),
  ('Livestream Technician', NULL, 600.00, 'Fixed')
ON CONFLICT (name) DO NOTHING;

-- Travel is reimbursed at cost: no sales tax on it.
INSERT INTO billable_items (name, description, category, price, pricing_type, is_active, is_taxable) VALUES
  ('Licensed Music Track', 'A commercially licensed song for a film', 'Licensing', 85.00, 'Unit', true, true),
  ('Cinematic Colour Grade Pack', 'Custom grade built for the wedding''s palette', 'Post-Production', 250.00, 'Fixed', true, true),
  ('Film Grain & Texture Pass', 'Scanned film grain, light leaks and gate weave', 'Post-Production', 180.00, 'Fixed', true, true),
  ('Audio Restoration', 'Noise reduction and dialogue clean-up of vows and toasts', 'Post-Production', 120.00, 'Unit', true, true),
  ('Rush Delivery', 'Highlight film within 3 weeks', 'Delivery', 350.00, 'Fixed', true, true),
  ('Keepsake USB Box', 'Engraved wooden box with a USB drive', 'Products', 75.00, 'Unit', true, true),
  ('Extra Revision Round', 'One more round of changes to a film', 'Post-Production', 120.00, 'Unit', true, true),
  ('Travel (per 50 miles)', 'Travel beyond 50 miles from the studio', 'Travel', 60.00, 'Unit', true, false),
  ('Guest Message Booth', 'A self-serve booth for guests'' video messages', 'Add-ons', 400.00, 'Fixed', true, true),
  ('DVD Copy', 'Retired: films on DVD', 'Products', 25.00, 'Unit', false, true)
ON CONFLICT (name) DO NOTHING;

INSERT INTO task_templates (name, phase, effort_hours, effort_calculation_rules, pricing_type, fixed_price) VALUES
  ('Planning Call & Shot List', 'Pre-Production', NULL, NULL, 'Fixed', 120.00),
  ('Timeline Review', 'Pre-Production', NULL, NULL, 'Fixed', 60.00),
  ('Footage Ingest & Backup', 'Production', 1.00, '{"base_hours": 0.5, "hours_per_target_minute": 0.05, "max_hours": 3}', 'Hourly', NULL),
  ('Sync & Organise', 'Post-Production', 1.00, '{"base_hours": 1, "hours_per_target_minute": 0.1, "max_hours": 4}', 'Hourly', NULL),
  ('Highlight Rough Cut', 'Post-Production', 4.00, '{"base_hours": 2, "hours_per_target_minute": 1.5, "min_hours": 3, "max_hours": 16}', 'Hourly', NULL),
  ('Feature Fine Cut', 'Post-Production', 6.00, '{"base_hours": 3, "hours_per_target_minute": 0.6, "min_hours": 4, "max_hours": 30}', 'Hourly', NULL),
  ('Ceremony Multicam Edit', 'Post-Production', 3.00, '{"base_hours": 1, "hours_per_target_minute": 0.1, "max_hours": 6}', 'Hourly', NULL),
  ('Teaser Cut', 'Post-Production', 2.00, NULL, 'Hourly', NULL),
  ('Cinematic Colour Grade', 'Post-Production', 1.50, '{"base_hours": 0.5, "hours_per_target_minute": 0.5, "max_hours": 8}', 'Hourly', NULL),
  ('Documentary Colour Correction', 'Post-Production', 1.00, '{"base_hours": 0.5, "hours_per_target_minute": 0.1, "max_hours": 4}', 'Hourly', NULL),
  ('Vintage Film Emulation', 'Post-Production', 1.50, NULL, 'Hourly', NULL),
  ('Audio Mix & Master', 'Post-Production', 1.00, '{"base_hours": 0.5, "hours_per_target_minute": 0.1, "max_hours": 5}', 'Hourly', NULL),
  ('Drone Footage Stabilisation', 'Post-Production', 0.75, NULL, 'Hourly', NULL),
  ('Raw Footage Export', 'Delivery', NULL, NULL, 'Fixed', 60.00),
  ('Delivery & Online Gallery', 'Delivery', NULL, NULL, 'Fixed', 50.00)
ON CONFLICT (name) DO NOTHING;

-- "When a client adds film X, its parts default to style Y." A NULL scene means every covered scene.
INSERT INTO deliverable_default_components (deliverable_id, coverage_scene_id, default_editing_style_id, default_target_minutes, default_is_included)
SELECT d.id, s.id, st.id, v.minutes, v.included
FROM (VALUES
  ('Highlight Film', NULL, 'Cinematic', 1.00, true),
  ('Feature Film', NULL, 'Documentary', 5.00, true),
  ('Ceremony Edit', 'Ceremony', 'Documentary', 25.00, true),
  ('Teaser', 'First Look', 'Cinematic', 0.50, true),
  ('Teaser', 'Reception', 'Cinematic', 0.50, true),
  ('Raw Footage', NULL, 'Documentary', NULL, true)
) AS v(film, scene, style, minutes, included)
JOIN deliverables d ON d.name = v.film
LEFT JOIN coverage_scenes s ON s.name = v.scene
JOIN editing_styles st ON st.name = v.style;

-- "Whenever a client chooses style X, automatically add billable item Y."
INSERT INTO editing_style_requirements (editing_style_id, billable_item_id, quantity)
SELECT st.id, b.id, v.qty
FROM (VALUES
  ('Cinematic', 'Licensed Music Track', 1),
  ('Cinematic', 'Cinematic Colour Grade Pack', 1),
  ('Vintage Film', 'Film Grain & Texture Pass', 1),
  ('Documentary', 'Audio Restoration', 1)
) AS v(style, item, qty)
JOIN editing_styles st ON st.name = v.style
JOIN billable_items b ON b.name = v.item
ON CONFLICT ON CONSTRAINT idx_style_item_unique DO NOTHING;

-- "If a component for film X (scene Y, style Z) exists, it needs task T." NULL matches anything.
INSERT INTO component_task_recipes (deliverable_id, coverage_scene_id, editing_style_id, task_template_id, priority)
SELECT d.id, s.id, st.id, t.id, v.priority
FROM (VALUES
  (NULL, NULL, NULL, 'Sync & Organise', 10),
  ('Highlight Film', NULL, NULL, 'Highlight Rough Cut', 20),
  ('Feature Film', NULL, NULL, 'Feature Fine Cut', 20),
  ('Feature Film', NULL, NULL, 'Audio Mix & Master', 30),
  ('Ceremony Edit', NULL, NULL, 'Ceremony Multicam Edit', 20),
  ('Ceremony Edit', NULL, NULL, 'Audio Mix & Master', 30),
  ('Teaser', NULL, NULL, 'Teaser Cut', 20),
  ('Raw Footage', NULL, NULL, 'Raw Footage Export', 20),
  (NULL, NULL, 'Cinematic', 'Cinematic Colour Grade', 40),
  (NULL, NULL, 'Documentary', 'Documentary Colour Correction', 40),
  (NULL, NULL, 'Vintage Film', 'Vintage Film Emulation', 40),
  (NULL, 'Drone Aerials', NULL, 'Drone Footage Stabilisation', 15)
) AS v(film, scene, style, template, priority)
LEFT JOIN deliverables d ON d.name = v.film
LEFT JOIN coverage_scenes s ON s.name = v.scene
LEFT JOIN editing_styles st ON st.name = v.style
JOIN task_templates t ON t.name = v.template;

-- The team: one person per role.
INSERT INTO contacts (first_name, last_name, email, phone_number, company_name, type) VALUES
  ('Maya', 'Chen', 'maya@goldenhour.example', '+1 415 555 0101', 'Golden Hour Films', 'Contributor'),
  ('Jordan', 'Blake', 'jordan@goldenhour.example', '+1 415 555 0102', 'Golden Hour Films', 'Contributor'),
  ('Priya', 'Patel', 'priya@goldenhour.example', '+1 415 555 0103', 'Golden Hour Films', 'Contributor'),
  ('Leo', 'Martins', 'leo@goldenhour.example', '+1 415 555 0104', NULL, 'Contributor'),
  ('Sam', 'Okafor', 'sam@goldenhour.example', '+1 415 555 0105', NULL, 'Contributor'),
  ('Grace', 'Kim', 'grace@goldenhour.example', '+1 415 555 0106', 'Golden Hour Films', 'Contributor')
ON CONFLICT DO NOTHING;

INSERT INTO contributors (contact_id, role_id, contributor_type, hourly_cost)
SELECT c.id, r.id, v.kind::contributors_type, v.cost
FROM (VALUES
  ('maya@goldenhour.example', 'Owner', 'Internal', 60.00),
  ('jordan@goldenhour.example', 'Admin', 'Internal', 35.00),
  ('priya@goldenhour.example', 'Sales', 'Internal', 32.00),
  ('leo@goldenhour.example', 'Editor', 'Freelance', 45.00),
  ('sam@goldenhour.example', 'Videographer', 'External', 55.00),
  ('grace@goldenhour.example', 'Bookkeeper', 'Internal', 30.00)
) AS v(email, role, kind, cost)
JOIN contacts c ON c.email = v.email
JOIN roles r ON r.name = v.role
ON CONFLICT (contact_id) DO NOTHING;

INSERT INTO contributor_task_benchmarks (contributor_id, task_template_id, contributor_default_hours)
SELECT co.id, t.id, v.hours
FROM (VALUES
  ('leo@goldenhour.example', 'Highlight Rough Cut', 5.50),
  ('leo@goldenhour.example', 'Cinematic Colour Grade', 1.25),
  ('sam@goldenhour.example', 'Footage Ingest & Backup', 0.75)
) AS v(email, template, hours)
JOIN contacts c ON c.email = v.email
JOIN contributors co ON co.contact_id = c.id
JOIN task_templates t ON t.name = v.template
ON CONFLICT DO NOTHING;

-- Couples who got in touch, in several states of the pipeline.
INSERT INTO contacts (first_name, last_name, email, phone_number, type, created_at) VALUES
  ('Emma', 'Rodriguez', 'emma.rodriguez@example.com', '+1 415 555 0142', 'Client Lead', pg_temp.demo_now() - interval '2 days'),
  ('Noah', 'Williams', 'noah.w@example.com', '+1 510 555 0178', 'Client Lead', pg_temp.demo_now() - interval '1 day'),
  ('Olivia', 'Nguyen', 'olivia.nguyen@example.com', '+1 650 555 0133', 'Client Lead', pg_temp.demo_now() - interval '24 days'),
  ('Liam', 'Johnson', 'liam.johnson@example.com', NULL, 'Client Lead', pg_temp.demo_now() - interval '12 days'),
  ('Ava', 'Thompson', 'ava.t@example.com', '+1 408 555 0190', 'Client Lead', pg_temp.demo_now() - interval '20 days'),
  ('Sofia', 'Garcia', 'sofia.garcia@example.com', '+1 707 555 0111', 'Client Lead', pg_temp.demo_now() - interval '26 days'),
  ('Ethan', 'Brown', 'ethan.brown@example.com', '+1 415 555 0166', 'Client Lead', pg_temp.demo_now() - interval '40 days'),
  ('Mia', 'Davis', 'mia.davis@example.com', '+1 831 555 0155', 'Client Lead', pg_temp.demo_now() - interval '5 hours')
ON CONFLICT DO NOTHING;

INSERT INTO inquiries (contact_id, wedding_date, status, notes, venue_details, follow_up_due_date, lead_source, lead_source_details, campaign_id, created_at)
SELECT c.id, pg_temp.demo_today() + v.days_to_wedding, v.status::inquiries_status, v.notes, v.venue,
       pg_temp.demo_today() + v.follow_up, v.source, v.details, v.campaign, pg_temp.demo_now() - v.age
FROM (VALUES
  ('emma.rodriguez@example.com', 210, 'New', 'Loves the Vintage Film look; 140 guests.', 'Cavallo Point, Sausalito', 1, 'Instagram', 'utm_source=instagram&utm_medium=social&utm_campaign=spring-reels', 'spring-reels', interval '2 days'),
  ('noah.w@example.com', 300, 'New', 'Asked about drone coverage.', 'Nestldown, Los Gatos', 0, 'Google', 'utm_source=google&utm_medium=cpc&utm_campaign=wedding-video-sf', 'wedding-video-sf', interval '1 day'),
  ('mia.davis@example.com', 150, 'New', 'Small elopement, 20 guests.', 'Big Sur, Pfeiffer Beach', 1, 'Website', NULL, NULL, interval '5 hours'),
  ('olivia.nguyen@example.com', 75, 'Contacted', 'Call went well; wants a Feature Film.', 'Kohl Mansion, Burlingame', 3, 'The Knot', 'utm_source=theknot&utm_medium=listing', 'theknot-listing', interval '24 days'),
  ('liam.johnson@example.com', 400, 'Contacted', 'Destination wedding, Tuscany - travel to quote.', 'Borgo Santo Pietro, Tuscany', -2, 'Referral', 'Referred by Maria (2025 couple)', NULL, interval '12 days'),
  ('ava.t@example.com', 60, 'Proposal Sent', 'Proposal sent with Highlight + Ceremony Edit.', 'The Ritz-Carlton, Half Moon Bay', 2, 'Instagram', 'utm_source=instagram&utm_medium=social&utm_campaign=spring-reels', 'spring-reels', interval '20 days'),
  ('sofia.garcia@example.com', 120, 'Proposal Sent', 'Comparing two studios; decision next week.', 'Beltane Ranch, Glen Ellen', -1, 'Google', 'utm_source=google&utm_medium=organic', NULL, interval '26 days'),
  ('ethan.brown@example.com', 45, 'Closed-Lost', 'Went with a photographer-only package.', 'San Francisco City Hall', NULL, 'WeddingWire', NULL, NULL, interval '40 days')
) AS v(email, days_to_wedding, status, notes, venue, follow_up, source, details, campaign, age)
JOIN contacts c ON c.email = v.email;

-- Follow-up to-dos for the sales team, and the conversations so far.
INSERT INTO activities (assigned_to_contributor_id, contact_id, inquiry_id, due_date, activity_type, title, notes, status, is_follow_up)
SELECT co.id, i.contact_id, i.id, i.follow_up_due_date, 'To-Do',
       'Follow up with ' || c.first_name || ' ' || c.last_name, NULL,
       CASE WHEN i.status = 'Closed-Lost' THEN 'Completed' ELSE 'Pending' END::activity_status,
       true
FROM inquiries i
JOIN contacts c ON c.id = i.contact_id
CROSS JOIN (SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id WHERE r.name = 'Sales' ORDER BY co.id LIMIT 1) co
WHERE c.email LIKE '%@example.com';

INSERT INTO communications_log (contact_id, communication_date, type, notes)
SELECT c.id, pg_temp.demo_now() - v.ago, v.kind, v.notes
FROM (VALUES
  ('olivia.nguyen@example.com', interval '21 days', 'Call', '30-minute discovery call; loves documentary style.'),
  ('liam.johnson@example.com', interval '10 days', 'Email', 'Sent travel options for Tuscany.'),
  ('ava.t@example.com', interval '15 days', 'Meeting', 'Coffee meeting at the studio; walked through sample films.'),
  ('ava.t@example.com', interval '14 days', 'Email', 'Sent the proposal link.'),
  ('sofia.garcia@example.com', interval '20 days', 'Call', 'Asked about payment plans.')
) AS v(email, ago, kind, notes)
JOIN contacts c ON c.email = v.email;

-- Marketing spend over the last six months (Reports > Marketing spend), so that the ROI report
-- tells a story: the yearly listing on The Knot paid for itself with Olivia's booking;
-- Instagram reels and Google ads bring leads that have not booked yet; WeddingWire brought
-- one lead, lost.
INSERT INTO marketing_spend (spent_on, lead_source, campaign_id, amount, notes, created_by, created_at)
SELECT pg_temp.demo_today() - v.days_ago, v.source, v.campaign, v.amount, v.notes,
       (SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
        WHERE c.email = 'maya@goldenhour.example'),
       pg_temp.demo_now() - make_interval(days => v.days_ago)
FROM (VALUES
  (170, 'The Knot', 'theknot-listing', 1200.00, 'Yearly vendor listing'),
  (150, 'Instagram', 'spring-reels', 300.00, 'Boosted reels'),
  (120, 'Instagram', 'spring-reels', 300.00, 'Boosted reels'),
  (90, 'Instagram', 'spring-reels', 350.00, 'Boosted reels'),
  (60, 'Instagram', 'spring-reels', 350.00, 'Boosted reels'),
  (30, 'Instagram', 'spring-reels', 400.00, 'Boosted reels'),
  (140, 'Google', 'wedding-video-sf', 450.00, 'Search ads'),
  (105, 'Google', 'wedding-video-sf', 450.00, 'Search ads'),
  (75, 'Google', 'wedding-video-sf', 500.00, 'Search ads'),
  (45, 'Google', 'wedding-video-sf', 500.00, 'Search ads'),
  (15, 'Google', 'wedding-video-sf', 500.00, 'Search ads'),
  (110, 'WeddingWire', NULL, 250.00, 'Featured listing, one quarter')
) AS v(days_ago, source, campaign, amount, notes);

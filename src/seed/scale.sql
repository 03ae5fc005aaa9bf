-- A studio with years of history, for measuring: $1 more inquiries (with their contacts,
-- spread over the last three years and the next two) and a quote for every fifth, priced.
-- Dated by the seed's clock (`projectflo.now`).
WITH c AS (
  INSERT INTO contacts (first_name, last_name, email, phone_number, type, created_at)
  SELECT (ARRAY['Ava','Noah','Mia','Liam','Zoe','Eli','Ivy','Leo','Ada','Kai'])[1 + n % 10],
         'Scale' || n, 'scale-' || n || '-' || md5(random()::text) || '@example.test',
         NULL, 'Client Lead',
         current_setting('projectflo.now')::timestamptz - (n % 1095) * interval '1 day'
  FROM generate_series(1, $1) n
  RETURNING id, created_at
), i AS (
  INSERT INTO inquiries (contact_id, wedding_date, status, lead_source, follow_up_due_date,
                         created_at, updated_at)
  SELECT c.id, c.created_at::date + 120 + (c.id % 500),
         (ARRAY['New','Contacted','Proposal Sent','Booked','Closed-Lost'])[1 + c.id % 5]
           ::inquiries_status,
         (ARRAY['Instagram','Google','The Knot','Referral','Website'])[1 + c.id % 5],
         c.created_at::date + 1, c.created_at, c.created_at
  FROM c
  RETURNING id, status, created_at
)
INSERT INTO builds (inquiry_id, status, live_price, created_at, updated_at)
SELECT i.id,
       CASE i.status WHEN 'Booked' THEN 'Booked' WHEN 'Proposal Sent' THEN 'Proposal Sent'
            ELSE 'Inquiry' END::builds_status,
       2500 + (i.id % 60) * 100, i.created_at, i.created_at
FROM i WHERE i.id % 5 = 0;

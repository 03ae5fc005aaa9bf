-- The number of inquiries in each status, kept by the database as inquiries change, so that the
-- board's column counts and the dashboard's pipeline are one row read each, whatever the number
-- of leads (counting 100,000 inquiries takes 30-60 ms; this takes well under one).
CREATE TABLE inquiry_status_counts (
    status inquiries_status PRIMARY KEY,
    n BIGINT NOT NULL CHECK (n >= 0)
);

INSERT INTO inquiry_status_counts (status, n)
SELECT s, (SELECT count(*) FROM inquiries WHERE status = s)
FROM unnest(enum_range(NULL::inquiries_status)) s;

-- One statement's changes, summed per status (a statement that inserts 100,000 rows updates
-- each count once; an update that moves no lead between statuses writes nothing). The count
-- rows are locked in status order first, so two transactions moving leads in opposite
-- directions wait for each other instead of deadlocking.
CREATE FUNCTION inquiry_status_counts_add(delta JSONB) RETURNS void LANGUAGE sql AS $$
    SELECT 1 FROM inquiry_status_counts
    WHERE status IN (SELECT key::inquiries_status FROM jsonb_each_text(delta))
    ORDER BY status FOR UPDATE;
    UPDATE inquiry_status_counts c SET n = c.n + d.value::bigint
    FROM jsonb_each_text(delta) d WHERE c.status = d.key::inquiries_status;
$$;

CREATE FUNCTION inquiry_status_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM inquiry_status_counts_add(
            (SELECT jsonb_object_agg(status, k) FROM
               (SELECT status, count(*) AS k FROM new_rows GROUP BY status) x));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM inquiry_status_counts_add(
            (SELECT jsonb_object_agg(status, k) FROM
               (SELECT status, -count(*) AS k FROM old_rows GROUP BY status) x));
    ELSE
        PERFORM inquiry_status_counts_add(
            (SELECT jsonb_object_agg(status, k) FROM
               (SELECT status, sum(k) AS k FROM (
                  SELECT status, 1 AS k FROM new_rows UNION ALL SELECT status, -1 FROM old_rows
                ) y GROUP BY status HAVING sum(k) <> 0) x));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER inquiry_status_counts_insert AFTER INSERT ON inquiries
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inquiry_status_counts_apply();
CREATE TRIGGER inquiry_status_counts_update AFTER UPDATE ON inquiries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inquiry_status_counts_apply();
CREATE TRIGGER inquiry_status_counts_delete AFTER DELETE ON inquiries
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inquiry_status_counts_apply();

-- The dashboard's "booked weddings in the next 90 days" (a range of dates of one status, not
-- every lead) and "what the proposals out are worth" (the few builds with the couple, not
-- every quote).
CREATE INDEX idx_inquiries_status_wedding_date ON inquiries (status, wedding_date);
CREATE INDEX idx_builds_status ON builds (status);

-- The board's lead-source filter lists the sources in use: one index probe per source.
CREATE INDEX idx_inquiries_lead_source ON inquiries (lead_source);

-- Every change of an inquiry's status, with when it happened: the pipeline's average days per
-- stage. Written by a trigger, so that no way of changing a status (a person's move, a proposal
-- sent, a booking, a seed) can leave it out. The time is the writer's: an inquiry is born at its
-- created_at, and a move happens at the updated_at the same UPDATE sets (the application sets
-- it from its clock); an UPDATE that leaves updated_at alone is stamped with the database's
-- now(). The first row of an inquiry has no from_status.
CREATE TABLE inquiry_stage_changes (
  id BIGSERIAL PRIMARY KEY,
  inquiry_id INT NOT NULL REFERENCES inquiries(id) ON DELETE CASCADE,
  from_status inquiries_status NULL,
  to_status inquiries_status NOT NULL,
  changed_at TIMESTAMPTZ NOT NULL,
  CHECK (from_status IS DISTINCT FROM to_status)
);
CREATE INDEX idx_inquiry_stage_changes_inquiry
  ON inquiry_stage_changes (inquiry_id, changed_at, id);

CREATE FUNCTION inquiry_stage_changes_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inquiry_stage_changes (inquiry_id, from_status, to_status, changed_at)
        VALUES (NEW.id, NULL, NEW.status, NEW.created_at);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO inquiry_stage_changes (inquiry_id, from_status, to_status, changed_at)
        VALUES (NEW.id, OLD.status, NEW.status,
                CASE WHEN NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN NEW.updated_at
                     ELSE now() END);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER inquiry_stage_changes_insert AFTER INSERT ON inquiries
  FOR EACH ROW EXECUTE FUNCTION inquiry_stage_changes_record();
CREATE TRIGGER inquiry_stage_changes_update AFTER UPDATE OF status ON inquiries
  FOR EACH ROW EXECUTE FUNCTION inquiry_stage_changes_record();

-- The inquiries already there: born at created_at (in New when a person's move is logged since,
-- else in the status they are in), then each move people made, as the audit log has it, then,
-- when the status now is not where that leaves them, the move to it at updated_at (the last
-- write to the inquiry: the best time known for a move made without a log entry).
INSERT INTO inquiry_stage_changes (inquiry_id, from_status, to_status, changed_at)
SELECT i.id, NULL,
       COALESCE((SELECT (a.details -> 'before' ->> 'status')::inquiries_status FROM audit_log a
                 WHERE a.action = 'leads.inquiry.status' AND a.entity_type = 'inquiry'
                   AND a.entity_id = i.id
                 ORDER BY a."timestamp", a.id LIMIT 1), i.status),
       i.created_at
FROM inquiries i;

INSERT INTO inquiry_stage_changes (inquiry_id, from_status, to_status, changed_at)
SELECT a.entity_id, (a.details -> 'before' ->> 'status')::inquiries_status,
       (a.details -> 'after' ->> 'status')::inquiries_status, a."timestamp"
FROM audit_log a JOIN inquiries i ON i.id = a.entity_id
WHERE a.action = 'leads.inquiry.status' AND a.entity_type = 'inquiry'
  AND a.details -> 'before' ->> 'status' IS DISTINCT FROM a.details -> 'after' ->> 'status';

INSERT INTO inquiry_stage_changes (inquiry_id, from_status, to_status, changed_at)
SELECT i.id, l.to_status, i.status, greatest(i.updated_at, l.changed_at)
FROM inquiries i
CROSS JOIN LATERAL (SELECT c.to_status, c.changed_at FROM inquiry_stage_changes c
                    WHERE c.inquiry_id = i.id ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) l
WHERE l.to_status <> i.status;

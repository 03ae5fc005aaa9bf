-- Profitability's costs, one row per project, kept by triggers so the report reads one row per
-- project of its range instead of adding up hours, expenses and card payments at every request
-- (at 50,000 projects the sums took most of the report's time).
--   labour, crew:   project_hours x each person's hourly_cost (unrounded; the report rounds);
--   uncosted_hours: hours by people without an hourly cost;
--   expenses:       project_expenses;
--   card_amount, card_payments: the project's card payments (the card fee estimate is
--                   card_fee_percent of the amount plus card_fee_fixed per payment, from the
--                   studio settings at read time).
-- Rows only ever change by adding a difference (UPDATE ... SET x = x + d), so concurrent writers
-- add up whatever order they commit in; a person's new hourly cost recomputes their projects.
CREATE TABLE project_costs (
  project_id INT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  work_hours NUMERIC NOT NULL DEFAULT 0,
  shoot_hours NUMERIC NOT NULL DEFAULT 0,
  labour NUMERIC NOT NULL DEFAULT 0,
  crew NUMERIC NOT NULL DEFAULT 0,
  uncosted_hours NUMERIC NOT NULL DEFAULT 0,
  expenses NUMERIC NOT NULL DEFAULT 0,
  card_amount NUMERIC NOT NULL DEFAULT 0,
  card_payments INT NOT NULL DEFAULT 0
);

-- Add a difference to a project's row (made when missing). A project being deleted has no row
-- to add to and gets none.
CREATE FUNCTION project_costs_add(project INT, d_work NUMERIC, d_shoot NUMERIC, d_labour NUMERIC,
                                  d_crew NUMERIC, d_uncosted NUMERIC, d_expenses NUMERIC,
                                  d_card NUMERIC, d_payments INT)
  RETURNS void LANGUAGE sql AS $$
    INSERT INTO project_costs (project_id)
    SELECT project WHERE EXISTS (SELECT 1 FROM projects WHERE id = project)
    ON CONFLICT (project_id) DO NOTHING;
    UPDATE project_costs SET work_hours = work_hours + d_work, shoot_hours = shoot_hours + d_shoot,
           labour = labour + d_labour, crew = crew + d_crew,
           uncosted_hours = uncosted_hours + d_uncosted, expenses = expenses + d_expenses,
           card_amount = card_amount + d_card, card_payments = card_payments + d_payments
    WHERE project_id = project;
$$;

-- Hours per (project, person) change: their cost at the person's current rate.
CREATE FUNCTION project_costs_from_hours() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cost NUMERIC;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT hourly_cost INTO cost FROM contributors WHERE id = OLD.contributor_id;
        PERFORM project_costs_add(OLD.project_id, -OLD.work_hours, -OLD.shoot_hours,
            -OLD.work_hours * COALESCE(cost, 0), -OLD.shoot_hours * COALESCE(cost, 0),
            CASE WHEN cost IS NULL THEN -(OLD.work_hours + OLD.shoot_hours) ELSE 0 END, 0, 0, 0);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT hourly_cost INTO cost FROM contributors WHERE id = NEW.contributor_id;
        PERFORM project_costs_add(NEW.project_id, NEW.work_hours, NEW.shoot_hours,
            NEW.work_hours * COALESCE(cost, 0), NEW.shoot_hours * COALESCE(cost, 0),
            CASE WHEN cost IS NULL THEN NEW.work_hours + NEW.shoot_hours ELSE 0 END, 0, 0, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER project_costs_hours AFTER INSERT OR UPDATE OR DELETE ON project_hours
    FOR EACH ROW EXECUTE FUNCTION project_costs_from_hours();

-- A new hourly cost: the person's projects again, at the new rate.
CREATE FUNCTION project_costs_from_rate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE project_costs pc
       SET labour = pc.labour + h.work_hours * (COALESCE(NEW.hourly_cost, 0) - COALESCE(OLD.hourly_cost, 0)),
           crew = pc.crew + h.shoot_hours * (COALESCE(NEW.hourly_cost, 0) - COALESCE(OLD.hourly_cost, 0)),
           uncosted_hours = pc.uncosted_hours
             + CASE WHEN NEW.hourly_cost IS NULL THEN h.work_hours + h.shoot_hours ELSE 0 END
             - CASE WHEN OLD.hourly_cost IS NULL THEN h.work_hours + h.shoot_hours ELSE 0 END
      FROM project_hours h
     WHERE h.contributor_id = NEW.id AND pc.project_id = h.project_id;
    RETURN NULL;
END $$;

CREATE TRIGGER project_costs_rate AFTER UPDATE OF hourly_cost ON contributors
    FOR EACH ROW WHEN (OLD.hourly_cost IS DISTINCT FROM NEW.hourly_cost)
    EXECUTE FUNCTION project_costs_from_rate();

CREATE FUNCTION project_costs_from_expenses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM project_costs_add(OLD.project_id, 0, 0, 0, 0, 0, -OLD.amount, 0, 0);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM project_costs_add(NEW.project_id, 0, 0, 0, 0, 0, NEW.amount, 0, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER project_costs_expenses AFTER INSERT OR UPDATE OR DELETE ON project_expenses
    FOR EACH ROW EXECUTE FUNCTION project_costs_from_expenses();

CREATE FUNCTION project_costs_from_payments() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project INT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.payment_method = 'Card' THEN
        SELECT project_id INTO project FROM invoices WHERE id = OLD.invoice_id;
        IF project IS NOT NULL THEN
            PERFORM project_costs_add(project, 0, 0, 0, 0, 0, 0, -OLD.amount, -1);
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.payment_method = 'Card' THEN
        SELECT project_id INTO project FROM invoices WHERE id = NEW.invoice_id;
        IF project IS NOT NULL THEN
            PERFORM project_costs_add(project, 0, 0, 0, 0, 0, 0, NEW.amount, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER project_costs_payments AFTER INSERT OR UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION project_costs_from_payments();

-- What is there already.
INSERT INTO project_costs (project_id, work_hours, shoot_hours, labour, crew, uncosted_hours,
                           expenses, card_amount, card_payments)
SELECT p.id, COALESCE(h.work, 0), COALESCE(h.shoot, 0), COALESCE(h.labour, 0),
       COALESCE(h.crew, 0), COALESCE(h.uncosted, 0), COALESCE(x.expenses, 0),
       COALESCE(c.amount, 0), COALESCE(c.n, 0)
FROM projects p
LEFT JOIN (SELECT h.project_id, sum(h.work_hours) AS work, sum(h.shoot_hours) AS shoot,
                  sum(h.work_hours * COALESCE(co.hourly_cost, 0)) AS labour,
                  sum(h.shoot_hours * COALESCE(co.hourly_cost, 0)) AS crew,
                  sum(h.work_hours + h.shoot_hours) FILTER (WHERE co.hourly_cost IS NULL) AS uncosted
           FROM project_hours h JOIN contributors co ON co.id = h.contributor_id
           GROUP BY 1) h ON h.project_id = p.id
LEFT JOIN (SELECT project_id, sum(amount) AS expenses FROM project_expenses GROUP BY 1) x
       ON x.project_id = p.id
LEFT JOIN (SELECT i.project_id, sum(pm.amount) AS amount, count(*)::int AS n
           FROM payments pm JOIN invoices i ON i.id = pm.invoice_id
           WHERE pm.payment_method = 'Card' GROUP BY 1) c ON c.project_id = p.id;

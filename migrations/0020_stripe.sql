-- Payments by card through Stripe Checkout, and refunds through Stripe. Only additions.

-- A Checkout Session made for a couple paying an invoice by card: what it asked for, and what
-- became of it. Its completion is recorded once (the row is locked and moves from 'open'
-- to 'paid' once), however often Stripe delivers the event.
CREATE TABLE stripe_checkout_sessions (
  id TEXT PRIMARY KEY,                            -- Stripe's id, cs_...
  invoice_id INT NOT NULL REFERENCES invoices(id) ON DELETE RESTRICT,
  amount DECIMAL(10,2) NOT NULL CHECK (amount > 0), -- what it asked for (what was owed)
  currency TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'expired')),
  url TEXT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  client_user_id INT NULL REFERENCES client_users(id) ON DELETE SET NULL,
  completed_at TIMESTAMPTZ NULL,
  payment_intent TEXT NULL,                       -- pi_..., the payment's transaction_id
  amount_received DECIMAL(10,2) NULL,             -- what Stripe says was paid
  payment_id INT NULL REFERENCES payments(id) ON DELETE RESTRICT,
  -- Paid online beyond what the invoice still owed when the payment arrived (the invoice was
  -- paid meanwhile by hand, or voided): not recorded as a payment, to be refunded.
  unapplied DECIMAL(10,2) NOT NULL DEFAULT 0 CHECK (unapplied >= 0),
  -- Refunding it through Stripe: the Idempotency-Key of the attempt under way (kept until it
  -- is done or refused), then Stripe's refund id and when.
  unapplied_refund_key TEXT NULL,
  unapplied_refund_id TEXT NULL,
  unapplied_refunded_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_stripe_checkout_sessions_invoice ON stripe_checkout_sessions (invoice_id, id);
-- What is waiting for a refund, for the invoice page and the inbox.
CREATE INDEX idx_stripe_checkout_sessions_unapplied ON stripe_checkout_sessions (invoice_id)
  WHERE unapplied > 0 AND unapplied_refunded_at IS NULL;

-- A refund made through Stripe keeps Stripe's id (re_...), recorded once.
ALTER TABLE payment_refunds ADD COLUMN stripe_refund_id TEXT NULL;
CREATE UNIQUE INDEX payment_refunds_stripe_refund_once ON payment_refunds (stripe_refund_id)
  WHERE stripe_refund_id IS NOT NULL;

-- A refund through Stripe under way: written (and committed) before Stripe is called, gone once
-- the refund is recorded (in that transaction) or Stripe refused it. One left behind (Stripe
-- not answering, or the recording failing after Stripe refunded) is finished by asking for the
-- same refund again: the same Idempotency-Key gets the same Stripe refund back, never a second.
CREATE TABLE stripe_refund_attempts (
  idempotency_key TEXT PRIMARY KEY,
  payment_id INT NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
  amount DECIMAL(10,2) NOT NULL CHECK (amount > 0),
  created_at TIMESTAMPTZ NOT NULL
);
-- One at a time per payment: two people refunding one payment at once cannot both reach Stripe.
CREATE UNIQUE INDEX stripe_refund_attempts_one_per_payment ON stripe_refund_attempts (payment_id);

-- The email outbox (issue 18): every email `mail::queue` records is also written here, in the
-- same transaction as its communications_log row, and stays until a sender has handed it to
-- the mail server. Senders claim a row with FOR UPDATE SKIP LOCKED (two never send one row),
-- failures are retried with a bounded exponential backoff, and the body (it may hold a
-- password-reset link) is cleared once the email is sent.
CREATE TABLE email_outbox (
  id SERIAL PRIMARY KEY,
  communication_id INT NOT NULL REFERENCES communications_log(id) ON DELETE CASCADE,
  to_address TEXT NOT NULL,
  subject TEXT NOT NULL,
  -- NULL once sent: nothing secret stays after sending.
  body TEXT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  attempts INT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- When the next try is due; NULL: due now (never tried, or "Retry now").
  next_attempt_at TIMESTAMPTZ NULL,
  last_error TEXT NULL,
  -- Set when the sender gave up (the server refused the message for good, or every try
  -- failed); "Retry now" clears it.
  failed_at TIMESTAMPTZ NULL,
  sent_at TIMESTAMPTZ NULL,
  CONSTRAINT outbox_body_until_sent CHECK ((sent_at IS NULL) = (body IS NOT NULL)),
  CONSTRAINT outbox_sent_or_failed CHECK (sent_at IS NULL OR failed_at IS NULL)
);

-- The outbox page, newest first by keyset.
CREATE INDEX outbox_created_idx ON email_outbox (created_at, id);
-- What is still to send: the senders' scan and the page's "not sent" lists (a few rows
-- however long the history).
CREATE INDEX outbox_unsent_idx ON email_outbox (created_at, id) WHERE sent_at IS NULL;
-- The row of a communication (the log's cascade, and a lookup from the log).
CREATE INDEX outbox_communication_idx ON email_outbox (communication_id);

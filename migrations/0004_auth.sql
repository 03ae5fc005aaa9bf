-- Who may do what: staff logins, sessions, API tokens, one-time tokens (password reset and
-- invitations), login throttling, and richer audit entries.

-- A staff login belongs to a contributor; the email is the contributor's contact email.
CREATE TABLE staff_credentials (
  contributor_id INT PRIMARY KEY REFERENCES contributors(id) ON DELETE CASCADE,
  password_hash VARCHAR(255) NULL,            -- NULL until an invited person sets a password
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  password_changed_at TIMESTAMPTZ NULL
);

-- Client portal users are invited before they have a password: mark them.
ALTER TABLE client_users ADD COLUMN invited_at TIMESTAMPTZ NULL;
ALTER TABLE client_users ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT true;
CREATE UNIQUE INDEX client_users_email_lower_key ON client_users (lower(email));

-- Sessions of staff and of portal users, kept in PostgreSQL. The id is a random token.
CREATE TABLE auth_sessions (
  id VARCHAR(64) PRIMARY KEY,
  contributor_id INT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  client_user_id INT NULL REFERENCES client_users(id) ON DELETE CASCADE,
  csrf_token VARCHAR(64) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((contributor_id IS NULL) <> (client_user_id IS NULL))
);
CREATE INDEX idx_auth_sessions_contributor ON auth_sessions (contributor_id);
CREATE INDEX idx_auth_sessions_client_user ON auth_sessions (client_user_id);

-- Personal API tokens: stored as SHA-256 of the token, shown once.
CREATE TABLE api_tokens (
  id SERIAL PRIMARY KEY,
  contributor_id INT NOT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  name VARCHAR(255) NOT NULL,
  token_hash CHAR(64) NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NULL,
  last_used_at TIMESTAMPTZ NULL,
  revoked_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_api_tokens_contributor ON api_tokens (contributor_id);

-- Single-use tokens sent by email: password reset (1 h) and invitations (staff or portal).
CREATE TABLE one_time_tokens (
  token_hash CHAR(64) PRIMARY KEY,
  purpose VARCHAR(32) NOT NULL CHECK (purpose IN ('password_reset', 'staff_invite', 'portal_invite')),
  contributor_id INT NULL REFERENCES contributors(id) ON DELETE CASCADE,
  client_user_id INT NULL REFERENCES client_users(id) ON DELETE CASCADE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ NULL,
  CHECK ((contributor_id IS NULL) <> (client_user_id IS NULL))
);

-- Every login attempt, for throttling per account and per IP (and for the audit of logins).
CREATE TABLE login_attempts (
  id BIGSERIAL PRIMARY KEY,
  account VARCHAR(255) NOT NULL,             -- lower-cased email as typed
  ip VARCHAR(64) NOT NULL,
  realm VARCHAR(16) NOT NULL DEFAULT 'staff',
  attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  succeeded BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX idx_login_attempts_account ON login_attempts (account, attempted_at);
CREATE INDEX idx_login_attempts_ip ON login_attempts (ip, attempted_at);

-- Audit entries name the entity they touched.
ALTER TABLE audit_log ADD COLUMN entity_type VARCHAR(64) NULL;
ALTER TABLE audit_log ADD COLUMN entity_id INT NULL;
CREATE INDEX idx_audit_log_time ON audit_log ("timestamp" DESC);
CREATE INDEX idx_audit_log_entity ON audit_log (entity_type, entity_id);
CREATE INDEX idx_audit_log_contributor ON audit_log (contributor_id, "timestamp" DESC);


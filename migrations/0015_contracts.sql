-- Phase 4: the contract. The studio keeps a contract template (paragraphs, headings and lists
-- with merge fields); when the couple accepts a proposal version the contract is rendered from
-- that version and stored with the SHA-256 of its exact text. Each partner signs by their own
-- link, then the studio countersigns; the text is locked from the first signature. Only
-- additions.

-- Every save of the template is a new row; the newest is the one in use.
CREATE TABLE contract_templates (
  id SERIAL PRIMARY KEY,
  body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
  saved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  saved_by INT NULL REFERENCES contributors(id) ON DELETE SET NULL
);

INSERT INTO contract_templates (body) VALUES ($template$# Wedding videography agreement

This agreement is between **{{studio_name}}** ("the studio") and **{{couple_names}}** ("the couple") for filming their wedding on **{{wedding_date}}** at {{venue}}.

## Coverage

{{coverage}}

## Films

{{films}}

## Add-ons

{{add_ons}}

## Price and payments

The total price is **{{total}}**, as in proposal version {{proposal_version}} accepted by the couple.

{{payment_schedule}}

## Terms

1. The date is reserved for the couple once the deposit is paid. The deposit is not refundable.
2. The studio films and delivers what is listed above. Changes after booking are agreed in writing as a change order, and the price follows them.
3. If the couple cancels, payments already made are kept. If the studio cannot film the wedding for reasons within its control, it refunds every payment in full.
4. The studio may show short excerpts of the films as examples of its work unless the couple asks it not to in writing.

## Signatures

Each partner signs electronically with their own link, then the studio countersigns. The record of each signature (name, time, address and the fingerprint of this text) is part of this contract.
$template$);

CREATE TABLE contracts (
  id SERIAL PRIMARY KEY,
  build_id INT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
  proposal_version INT NOT NULL,
  template_id INT NULL REFERENCES contract_templates(id) ON DELETE SET NULL,
  -- The text as rendered (the template's markup with the merge fields filled in) and the
  -- SHA-256 (hex) of its UTF-8 bytes.
  body TEXT NOT NULL,
  text_sha256 CHAR(64) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  -- Set by the first signature: from then on the text cannot change.
  locked_at TIMESTAMPTZ NULL,
  -- An unsigned contract is voided when the studio takes the acceptance back; a contract with
  -- signatures only by a person, visibly, with the reason.
  voided_at TIMESTAMPTZ NULL,
  void_reason TEXT NULL,
  -- The signed PDF, once everyone signed.
  document_id INT NULL REFERENCES documents(id) ON DELETE SET NULL,
  FOREIGN KEY (build_id, proposal_version) REFERENCES proposal_versions (build_id, version)
    ON DELETE CASCADE,
  CHECK ((voided_at IS NULL) = (void_reason IS NULL))
);
-- One contract in force per quote.
CREATE UNIQUE INDEX contracts_live_per_build ON contracts (build_id) WHERE voided_at IS NULL;
CREATE INDEX idx_contracts_build ON contracts (build_id, id);

-- The text of a signed contract never changes.
CREATE FUNCTION contracts_text_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.locked_at IS NOT NULL AND (NEW.body IS DISTINCT FROM OLD.body
      OR NEW.text_sha256 IS DISTINCT FROM OLD.text_sha256
      OR NEW.locked_at IS DISTINCT FROM OLD.locked_at) THEN
    RAISE EXCEPTION 'the contract is signed: its text cannot change' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER contracts_text_locked BEFORE UPDATE ON contracts
  FOR EACH ROW EXECUTE FUNCTION contracts_text_locked();

-- Who signs for the couple: the inquiry's contact, and a second partner staff may add before
-- the first signature. Each has their own link, stored hashed (SHA-256 of the random token).
CREATE TABLE contract_signers (
  id SERIAL PRIMARY KEY,
  contract_id INT NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
  position INT NOT NULL CHECK (position IN (1, 2)),
  name VARCHAR(255) NOT NULL CHECK (btrim(name) <> ''),
  email VARCHAR(255) NOT NULL CHECK (strpos(email, '@') > 1),
  contact_id INT NULL REFERENCES contacts(id) ON DELETE SET NULL,
  token_hash CHAR(64) NOT NULL UNIQUE,
  link_sent_at TIMESTAMPTZ NOT NULL,
  UNIQUE (contract_id, position)
);

-- A signature: the typed name, the consent to sign electronically, when, from where, and the
-- SHA-256 of the exact text signed.
CREATE TABLE contract_signatures (
  id SERIAL PRIMARY KEY,
  contract_id INT NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
  role VARCHAR(10) NOT NULL CHECK (role IN ('couple', 'studio')),
  signer_id INT NULL UNIQUE REFERENCES contract_signers(id) ON DELETE CASCADE,
  contributor_id INT NULL REFERENCES contributors(id) ON DELETE SET NULL,
  signer_name VARCHAR(255) NOT NULL CHECK (btrim(signer_name) <> ''),
  email VARCHAR(255) NOT NULL,
  consent BOOLEAN NOT NULL CHECK (consent),
  signed_at TIMESTAMPTZ NOT NULL,
  ip VARCHAR(64) NOT NULL,
  user_agent VARCHAR(1000) NOT NULL,
  text_sha256 CHAR(64) NOT NULL,
  CHECK ((role = 'couple') = (signer_id IS NOT NULL))
);
CREATE INDEX idx_contract_signatures_contract ON contract_signatures (contract_id, signed_at);
-- The studio countersigns once.
CREATE UNIQUE INDEX contract_signatures_one_studio ON contract_signatures (contract_id)
  WHERE role = 'studio';

-- Phase 4: when a quote books itself. Only additions.

-- 'manual': staff book by hand only; 'on_signatures': the last signature of the contract (the
-- couple's signers, then the studio's countersignature) books the quote in its transaction.
-- (A later option, "signatures and the deposit paid", comes with payments.)
ALTER TABLE studio_settings ADD COLUMN auto_book TEXT NOT NULL DEFAULT 'on_signatures'
  CONSTRAINT studio_settings_auto_book CHECK (auto_book IN ('manual', 'on_signatures'));

-- Why the last signature did not book the quote by itself (no wedding date, ...): shown on the
-- contract's page until someone books it.
ALTER TABLE contracts ADD COLUMN auto_book_note TEXT NULL;

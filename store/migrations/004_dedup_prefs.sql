-- Dedup of redelivered PDUs and resent complaints, and the citizens' SMS
-- preferences.

-- A redelivered deliver_sm has the same body as the first (only the
-- sequence number in the header differs). Processing looks for an earlier
-- identical body from the same operator through this index.
CREATE INDEX inbound_mo_body ON inbound (operator, sha256(substring(raw from 17))) WHERE kind = 'mo';

-- dedup_key (router.DedupKey: the number and the text folded to letters
-- and digits, hashed) finds the ticket a resent complaint belongs to. The
-- index is partial: tickets opened without a number to answer have none.
ALTER TABLE tickets ADD COLUMN dedup_key text;
CREATE INDEX tickets_dedup ON tickets (dedup_key, created_at) WHERE dedup_key IS NOT NULL;

-- preferences holds what a number asked for by SMS: STOP / MULAI turn the
-- status-change SMS off and on; last_courtesy_at keeps the answer to a bare
-- "terima kasih" to once a day.
CREATE TABLE preferences (
    msisdn           text        PRIMARY KEY CHECK (msisdn ~ '^[0-9]{1,20}$'),
    status_off       boolean     NOT NULL DEFAULT false,
    last_courtesy_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- 001_initial: the durable inbox, messages, tickets, their history and the
-- outbox (DESIGN.md, "Data flow" and "Where each datum lives").
--
-- Every name is unqualified: the tables land in the first schema of the
-- connection's search_path (public in production, a throw-away schema per
-- test).

-- inbound is the audit log of every deliver_sm / data_sm we acknowledged:
-- one row per PDU, written by the ingest in the same statement as its
-- message, before the SMSC hears ESME_ROK. raw keeps the whole PDU so that
-- anything we decoded wrongly can be decoded again; the decoded columns are
-- what we understood of it at the time.
CREATE TABLE inbound (
    id            bigserial   PRIMARY KEY,
    received_at   timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    operator      text        NOT NULL,
    bind          text        NOT NULL,
    -- SMPP command_id and sequence_number are unsigned 32-bit, which
    -- outgrows int4.
    command       bigint      NOT NULL,
    seq           bigint      NOT NULL,
    source_addr   text        NOT NULL,
    source_ton    smallint    NOT NULL,
    source_npi    smallint    NOT NULL,
    dest_addr     text        NOT NULL,
    esm_class     smallint    NOT NULL,
    data_coding   smallint    NOT NULL,
    -- mo: a citizen's text (or a part of one); receipt: a delivery receipt
    -- (esm_class & 0x3C != 0), stored and acked but never a complaint;
    -- dead: a PDU we could not decode or store as a message, kept raw and
    -- answered ESME_RX_P_APPN so that the SMSC stops redelivering it.
    kind          text        NOT NULL CHECK (kind IN ('mo', 'receipt', 'dead')),
    raw           bytea       NOT NULL,
    -- Decoded text: valid UTF-8 without NUL (PostgreSQL text cannot hold
    -- either); NULL when nothing could be decoded.
    text          text,
    alphabet      text,
    invalid_chars integer     NOT NULL DEFAULT 0,
    dead_reason   text,
    CONSTRAINT inbound_dead_has_reason CHECK ((kind = 'dead') = (dead_reason IS NOT NULL))
);
-- Audits look PDUs up by operator and time ("what did Telkomsel send us at
-- 10:02?"); the ingest pays for one index on the hot path, not more.
CREATE INDEX inbound_operator_received ON inbound (operator, received_at);

-- messages are complete citizen texts waiting for, or done with,
-- processing. A message row exists only for an 'mo' inbound row from a
-- citizen's number; receipts and dead letters never become messages.
CREATE TABLE messages (
    id           bigserial   PRIMARY KEY,
    -- The PDU the text came in (for a text assembled from parts, the part
    -- that completed it). Not unique: a later migration may point several
    -- messages' parts at their own rows.
    inbound_id   bigint      NOT NULL REFERENCES inbound (id),
    operator     text        NOT NULL,
    -- The citizen's number as the ingest normalised it: digits only, no
    -- '+'. The check keeps an alphanumeric sender or a malformed number
    -- out of processing (it is how SMS loops start); the ingest turns a
    -- record that fails it into a dead letter.
    source       text        NOT NULL CONSTRAINT messages_source_digits CHECK (source ~ '^[0-9]{1,20}$'),
    source_ton   smallint    NOT NULL,
    dest         text        NOT NULL,
    text         text        NOT NULL,
    received_at  timestamptz NOT NULL,
    state        text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processed')),
    -- What processing did, from the router's fixed set ("ticket",
    -- "ignored", …).
    outcome      text,
    processed_at timestamptz,
    ticket_id    bigint,
    CONSTRAINT messages_processed_when CHECK ((state = 'processed') = (processed_at IS NOT NULL))
);
-- Processing claims pending messages in id order with FOR UPDATE SKIP
-- LOCKED. Pending rows are few (they live for milliseconds), so a partial
-- index stays tiny however large the table grows.
CREATE INDEX messages_pending ON messages (id) WHERE state = 'pending';
-- Dedup of a citizen resending the same complaint, and "my last
-- messages", look by number and time.
CREATE INDEX messages_source_received ON messages (source, received_at);

-- tickets are complaints. Exactly one per message at most (message_id is
-- unique), so that processing a message twice cannot open two tickets
-- (Promise 2); tickets opened by other channels later have no message.
CREATE TABLE tickets (
    id         bigserial   PRIMARY KEY,
    -- 9 random digits and a Damm check digit (router.TicketNumber). Random
    -- numbers collide now and then; the unique key makes the collision
    -- visible and processing draws again.
    number     text        NOT NULL UNIQUE CONSTRAINT tickets_number_shape CHECK (number ~ '^[0-9]{10}$'),
    message_id bigint      UNIQUE REFERENCES messages (id),
    -- The reporter's number, digits only. Status is told only to this
    -- number; it is shown to agencies only when policy allows.
    msisdn     text        NOT NULL,
    operator   text        NOT NULL,
    agency_id  text        NOT NULL,
    category   text        NOT NULL,
    region     text        NOT NULL,
    state      text        NOT NULL CONSTRAINT tickets_state_known CHECK (state IN (
        'diterima', 'terverifikasi', 'terdisposisi', 'ditindaklanjuti', 'selesai',
        'tunda', 'bukan_wewenang', 'arsip', 'ditanggapi_pelapor', 'selesai_otomatis')),
    text       text        NOT NULL,
    anonim     boolean     NOT NULL DEFAULT false,
    rahasia    boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- "What is the status of my ticket?" and repeated-complaint checks look
-- tickets up by the reporter's number, newest first.
CREATE INDEX tickets_msisdn_created ON tickets (msisdn, created_at DESC);
-- Agencies list their open tickets.
CREATE INDEX tickets_agency_state ON tickets (agency_id, state);

ALTER TABLE messages ADD CONSTRAINT messages_ticket_fk FOREIGN KEY (ticket_id) REFERENCES tickets (id);

-- ticket_events is each ticket's full history: who changed what, when
-- and why. Rows are only ever inserted.
CREATE TABLE ticket_events (
    id        bigserial   PRIMARY KEY,
    ticket_id bigint      NOT NULL REFERENCES tickets (id),
    at        timestamptz NOT NULL DEFAULT now(),
    state     text        NOT NULL,
    -- "sms1708" for the daemon, an agency's or an officer's id otherwise.
    actor     text        NOT NULL,
    note      text        NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket_at ON ticket_events (ticket_id, at);

-- outbox holds every SMS we mean to send, written in the same transaction
-- as the decision that wants it, and claimed by the dispatcher like
-- messages are (FOR UPDATE SKIP LOCKED, with a lease so that a crashed
-- sender's rows come back). Every row ends sent/delivered, failed (with
-- last_error) or expired — visible to operators (DESIGN.md, "Outbox").
CREATE TABLE outbox (
    id              bigserial   PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- The message that asked for this reply; NULL for status changes
    -- that no citizen's message caused. (message_id, kind) is unique so
    -- that a message processed twice cannot queue a second
    -- acknowledgement (Promise 2); NULLs never collide.
    message_id      bigint      REFERENCES messages (id),
    ticket_id       bigint      REFERENCES tickets (id),
    kind            text        NOT NULL,
    operator        text        NOT NULL,
    -- Digits only: no reply ever goes to an alphanumeric sender.
    dest_addr       text        NOT NULL CONSTRAINT outbox_dest_digits CHECK (dest_addr ~ '^[0-9]{1,20}$'),
    source_addr     text        NOT NULL,
    text            text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'expired')),
    -- Attempts counts claims: it is incremented when a sender leases the row.
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_error      text,
    -- The SMSC's message ids, one per segment, to match delivery receipts.
    smsc_ids        text[]      NOT NULL DEFAULT '{}',
    sent_at         timestamptz,
    -- A reply that could not go out by then is pointless ("your ticket
    -- is…" a week late) and ends expired.
    expires_at      timestamptz NOT NULL,
    CONSTRAINT outbox_message_kind UNIQUE (message_id, kind),
    CONSTRAINT outbox_leased CHECK (state <> 'sending' OR lease_until IS NOT NULL)
);
-- The dispatcher claims in id order among the rows not yet done (due
-- pending rows, and sending rows whose lease ran out). Those are few however
-- long the table grows, and a partial index on id lets the claim walk only
-- them, in order, instead of every sent row before them.
CREATE INDEX outbox_active ON outbox (id) WHERE state IN ('pending', 'sending');
-- Delivery receipts name the SMSC's message id.
CREATE INDEX outbox_smsc_ids ON outbox USING gin (smsc_ids);
CREATE INDEX outbox_ticket ON outbox (ticket_id) WHERE ticket_id IS NOT NULL;

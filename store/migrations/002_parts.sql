-- 002_parts: long MO reassembly (DESIGN.md, "Data flow": Assembly; SMPP.md,
-- "MO, DLR and text"). A part of a concatenated message (UDH IEI 0x00/0x08
-- or the SAR TLVs) is stored by the ingest as a parts row, in the same
-- statement as its inbound row and before its ESME_ROK; the assembler then
-- groups parts into assemblies and turns each complete (or timed-out)
-- assembly into one messages row.

-- assemblies are the messages being put together. The key is (operator,
-- source, dest, ref, total, ref_bits) — never the reference alone — but
-- phones reuse references, so the key names a message only while its
-- assembly is open: at most one open assembly per key (the unique index
-- below), and a new one once it has closed.
CREATE TABLE assemblies (
    id         bigserial   PRIMARY KEY,
    operator   text        NOT NULL,
    -- The sender, digits only, as in messages.source.
    source     text        NOT NULL,
    dest       text        NOT NULL,
    ref        integer     NOT NULL CHECK (ref BETWEEN 0 AND 65535),
    ref_bits   smallint    NOT NULL CHECK (ref_bits IN (8, 16)),
    total      smallint    NOT NULL CHECK (total BETWEEN 2 AND 255),
    -- open: waiting for parts; complete: every part arrived and the
    -- message was made; timed_out: the message was made with a gap marker
    -- for each missing part (after the timeout, or because a different part
    -- for a filled slot showed the reference had been reused).
    state      text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'complete', 'timed_out')),
    message_id bigint      REFERENCES messages (id),
    opened_at  timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz,
    CONSTRAINT assemblies_closed CHECK ((state = 'open') = (closed_at IS NULL)),
    CONSTRAINT assemblies_message CHECK ((state = 'open') = (message_id IS NULL))
);
CREATE UNIQUE INDEX assemblies_open_key ON assemblies (operator, source, dest, ref, total, ref_bits)
    WHERE state = 'open';
-- The timeout sweep walks open assemblies by age.
CREATE INDEX assemblies_open_opened ON assemblies (opened_at) WHERE state = 'open';
-- A late or duplicate part is matched against recently closed assemblies
-- of its key.
CREATE INDEX assemblies_key_closed ON assemblies (source, ref, operator, dest, total, ref_bits, closed_at)
    WHERE state <> 'open';
-- A late part's ticket is found through the message.
CREATE INDEX assemblies_message ON assemblies (message_id) WHERE message_id IS NOT NULL;

-- parts are the received parts, each pointing at its PDU. Every acked part
-- is kept, whatever became of it.
CREATE TABLE parts (
    id          bigserial   PRIMARY KEY,
    inbound_id  bigint      NOT NULL REFERENCES inbound (id),
    operator    text        NOT NULL,
    source      text        NOT NULL CONSTRAINT parts_source_digits CHECK (source ~ '^[0-9]{1,20}$'),
    source_ton  smallint    NOT NULL,
    dest        text        NOT NULL,
    ref         integer     NOT NULL CHECK (ref BETWEEN 0 AND 65535),
    ref_bits    smallint    NOT NULL CHECK (ref_bits IN (8, 16)),
    total       smallint    NOT NULL CHECK (total BETWEEN 2 AND 255),
    seq         smallint    NOT NULL,
    data_coding smallint    NOT NULL,
    -- The alphabet user_data is in (text.Alphabet's name), decided by the
    -- SMPP side with the operator's meaning of data_coding 0.
    alphabet    text        NOT NULL,
    -- The raw user data without the UDH: parts are joined as bytes and
    -- decoded once, since a GSM escape or a surrogate pair may straddle two
    -- parts.
    user_data   bytea       NOT NULL,
    received_at timestamptz NOT NULL,
    -- new: not yet looked at by the assembler; joined: fills its seq slot
    -- in assembly_id; duplicate: byte-identical to the part already in
    -- that slot of assembly_id (kept, counted, not joined); late: filled
    -- the empty slot of assembly_id after it had timed out.
    state       text        NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'joined', 'duplicate', 'late')),
    assembly_id bigint      REFERENCES assemblies (id),
    CONSTRAINT parts_seq CHECK (seq BETWEEN 1 AND total),
    CONSTRAINT parts_assigned CHECK ((state = 'new') = (assembly_id IS NULL))
);
-- The assembler sweeps parts it has not looked at (few: they live for
-- milliseconds).
CREATE INDEX parts_new ON parts (id) WHERE state = 'new';
CREATE INDEX parts_assembly ON parts (assembly_id, seq) WHERE assembly_id IS NOT NULL;

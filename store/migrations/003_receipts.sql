-- 003_receipts: delivery receipts matched to the outbox (DESIGN.md, "Data
-- flow": DLR updates; SMPP.md, "MO, DLR and text").
--
-- Message ids are matched as normalised strings: the SMPP side knows each
-- operator's id bases (hex in submit_sm_resp, decimal in receipts, zero
-- padding…) and normalises both sides before they reach the store, so the
-- store compares text with text.

-- outbox_segments holds, for each sent outbox row, the SMSC's id of each
-- segment, normalised (outbox.smsc_ids keeps them as the SMSC wrote them).
-- A receipt is matched through it by (operator, id).
CREATE TABLE outbox_segments (
    operator  text     NOT NULL,
    smsc_id   text     NOT NULL,
    outbox_id bigint   NOT NULL REFERENCES outbox (id),
    -- The segment, 1-based: a long reply has one id per part.
    part      smallint NOT NULL,
    -- Not unique on (operator, smsc_id) alone: an SMSC's ids wrap around
    -- in time, and then the newest row is the one meant.
    PRIMARY KEY (operator, smsc_id, outbox_id)
);
CREATE INDEX outbox_segments_outbox ON outbox_segments (outbox_id);

-- receipts are the parsed delivery receipts, one per receipt PDU that had
-- a message id (an unparsable one stays an inbound row of kind 'receipt').
CREATE TABLE receipts (
    id          bigserial   PRIMARY KEY,
    inbound_id  bigint      NOT NULL REFERENCES inbound (id),
    operator    text        NOT NULL,
    -- The id of the message the receipt is about, normalised.
    message_id  text        NOT NULL,
    -- SMPP 3.4 §5.2.28 state names: DELIVERED, UNDELIVERABLE, REJECTED,
    -- EXPIRED, DELETED, ACCEPTED, ENROUTE, UNKNOWN; '' when none was given.
    state       text        NOT NULL,
    -- The message will not change state again (and this is not an
    -- intermediate notification).
    final       boolean     NOT NULL,
    err         text,
    -- The receipt's "done date", in the SMSC's time zone as configured.
    done_at     timestamptz,
    received_at timestamptz NOT NULL,
    outbox_id   bigint      REFERENCES outbox (id),
    matched_at  timestamptz,
    CONSTRAINT receipts_matched CHECK ((outbox_id IS NULL) = (matched_at IS NULL))
);
-- A submit_sm_resp recorded after its receipts arrived looks for them by
-- id; the sweep walks recent unmatched receipts by age.
CREATE INDEX receipts_unmatched ON receipts (operator, message_id) WHERE outbox_id IS NULL;
CREATE INDEX receipts_unmatched_received ON receipts (received_at) WHERE outbox_id IS NULL;
CREATE INDEX receipts_outbox ON receipts (outbox_id) WHERE outbox_id IS NOT NULL;

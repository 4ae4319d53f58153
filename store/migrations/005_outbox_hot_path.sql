-- 005_outbox_hot_path: less work per reply.
--
-- outbox_smsc_ids was made for matching delivery receipts by the SMSC's id
-- as written; receipts are matched through outbox_segments (003) by the
-- normalised id instead, and nothing reads this index. A GIN index is
-- costly to keep: every state change of an outbox row (queued, leased,
-- sent, delivered) writes a new row version and with it new entries in
-- every index of the table.
DROP INDEX IF EXISTS outbox_smsc_ids;

-- 007_hot_path_fks: fewer foreign-key checks per message.
--
-- A foreign-key check is a trigger at the end of each statement that looks
-- the parent row up and locks it FOR KEY SHARE — a tuple lock that writes
-- the parent's page and a WAL record. Per complaint the hot path made about
-- ten of them; a whole-machine profile put the triggers at 6% of the CPU of
-- a benchmark run, and dropping them all took about 8% off PostgreSQL's CPU
-- per message (docs/BENCHMARKS.md).
--
-- The keys dropped here are those whose child row is written by the same
-- statement or transaction that wrote (or just read) the parent, from the id
-- that statement returned, so that no input from outside can make them
-- dangle; nothing is ever deleted from these tables either:
--   * messages, parts and receipts → inbound: one ingest statement inserts
--     the inbound row and its child with the id drawn for it;
--   * outbox_segments → outbox: the outcome statement writes the segments of
--     the row it has just updated;
--   * receipts → outbox: the id is read from outbox_segments in the statement
--     that matches (its lock on the row that the settling then updates was
--     pure cost);
--   * parts → assemblies and assemblies → messages: the assembler writes
--     both sides in one transaction.
-- The keys between messages, tickets, ticket events and the outbox stay:
-- those rows are the complaint itself, and the agencies' side (DESIGN.md)
-- writes events and status SMS for ticket ids that come from outside the
-- daemon's own statements.
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_inbound_id_fkey;
ALTER TABLE parts DROP CONSTRAINT IF EXISTS parts_inbound_id_fkey;
ALTER TABLE receipts DROP CONSTRAINT IF EXISTS receipts_inbound_id_fkey;
ALTER TABLE outbox_segments DROP CONSTRAINT IF EXISTS outbox_segments_outbox_id_fkey;
ALTER TABLE receipts DROP CONSTRAINT IF EXISTS receipts_outbox_id_fkey;
ALTER TABLE parts DROP CONSTRAINT IF EXISTS parts_assembly_id_fkey;
ALTER TABLE assemblies DROP CONSTRAINT IF EXISTS assemblies_message_id_fkey;

-- 006_outbox_leased_by: which instance holds a reply's lease.
--
-- A daemon killed mid-send leaves its leased replies 'sending' until their
-- lease runs out (the send timeout plus a margin, 45 s by default). When
-- the same instance starts again it knows none of those sends is still in
-- flight, and gives them back at once (DB.ReleaseLeases) instead of letting
-- its citizens wait out the lease. NULL: not leased, or leased before this
-- column existed.
ALTER TABLE outbox ADD COLUMN leased_by text;

-- 008_outbox_hot_updates: most changes of an outbox row touch no index.
--
-- An update is HOT (a new row version on the same page, no new index
-- entries) only when no column an index uses changes — including the
-- columns of a partial index's predicate. outbox_active had its predicate
-- on state, so every change of state (leased, sent, delivered, retried)
-- wrote a new entry into each of the table's indexes (pg_stat_user_tables
-- showed n_tup_hot_upd = 0).
--
-- The predicate is now on active, a column PostgreSQL computes from state
-- and that changes only when a row leaves pending/sending for good (or
-- comes back to it). Leasing a pending row, giving a lease back, a retry,
-- and settling a sent row from its receipt (sent → delivered / failed)
-- leave active as it was and can be HOT. The fill factor leaves room on
-- each page for those new versions.
ALTER TABLE outbox ADD COLUMN active boolean NOT NULL
    GENERATED ALWAYS AS (state IN ('pending', 'sending')) STORED;
DROP INDEX outbox_active;
-- The dispatcher's claim walks the rows not done in id order, as before;
-- queries must say "active" for the planner to use it.
CREATE INDEX outbox_active ON outbox (id) WHERE active;
ALTER TABLE outbox SET (fillfactor = 70);

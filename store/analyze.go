package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// hotTables are the tables the hot path's statements read by index while
// they grow by thousands of rows a second.
var hotTables = []string{"inbound", "messages", "parts", "assemblies", "tickets", "ticket_events",
	"outbox", "outbox_segments", "receipts"}

// analyzeMinRows is the size below which a table's statistics do not matter.
const analyzeMinRows = 1000

// growingSQL names the hot tables that have changed more rows since their
// last ANALYZE than they held then: their statistics are behind by more
// than a factor of two (or were never gathered).
const growingSQL = `SELECT relname FROM pg_stat_user_tables
WHERE schemaname = current_schema() AND relname = ANY($1)
  AND n_mod_since_analyze > greatest(n_live_tup - n_mod_since_analyze, $2)
ORDER BY relname`

// AnalyzeGrowing runs ANALYZE, every interval until ctx ends, on each hot
// table whose statistics are behind its size by more than a factor of two.
//
// Autovacuum looks at a database once a minute (autovacuum_naptime) and
// analyses a table after 10% of it changed; in a database in service that
// keeps statistics close. A new one — the first minute after a deployment,
// every test and benchmark database — grows from empty faster than that:
// statements prepared on the pool's connections keep plans made for empty
// tables (a whole-table scan inside a per-row loop), and the ingest's
// statement, which acks wait for, took up to 2.4 s in a benchmark's first
// minute instead of milliseconds. ANALYZE also makes every session plan its
// statements again. Once tables are large this rule is never met before
// autovacuum's own, and it costs one catalog query per interval.
func (db *DB) AnalyzeGrowing(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := db.analyzeGrowing(ctx); err != nil && ctx.Err() == nil {
			db.logger.Debug("analyze growing tables", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// analyzeGrowing is one round of AnalyzeGrowing; it returns the tables it
// analysed.
func (db *DB) analyzeGrowing(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, growingSQL, hotTables, analyzeMinRows)
	if err != nil {
		return nil, fmt.Errorf("store: analyze: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: analyze: %w", err)
	}
	for _, n := range names {
		if _, err := db.pool.Exec(ctx, "ANALYZE "+pgx.Identifier{n}.Sanitize()); err != nil {
			return nil, fmt.Errorf("store: analyze %s: %w", n, err)
		}
	}
	return names, nil
}

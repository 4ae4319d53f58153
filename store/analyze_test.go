package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// A hot table that grew past its statistics is analysed; one that did not
// is left to autovacuum.
func TestAnalyzeGrowing(t *testing.T) {
	db := storetest.DB(t)
	ctx := t.Context()
	if _, err := db.Pool().Exec(ctx, `INSERT INTO outbox (kind, operator, dest_addr, source_addr, text, expires_at)
		SELECT 'ack', 'telkomsel', '62812' || g, '1708', 'x', now() + interval '1 day' FROM generate_series(1, 3000) g`); err != nil {
		t.Fatal(err)
	}
	// The statistics collector learns of the inserts once the inserting
	// session reports them (within a second or so).
	deadline := time.Now().Add(15 * time.Second)
	var got []string
	for {
		var err error
		if got, err = db.AnalyzeGrowingOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !slices.Equal(got, []string{"outbox"}) {
		t.Fatalf("analysed %v, want [outbox] (3,000 rows, never analysed; the other tables are empty)", got)
	}
	var analysed bool
	if err := db.Pool().QueryRow(ctx, `SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname = 'outbox'`).Scan(&analysed); err != nil {
		t.Fatal(err)
	}
	if !analysed {
		t.Error("outbox has no last_analyze after the round")
	}
	if got, err := db.AnalyzeGrowingOnce(ctx); err != nil || len(got) != 0 {
		t.Errorf("second round analysed %v, %v; want nothing (statistics are current)", got, err)
	}
}

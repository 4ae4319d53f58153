package store

import "context"

// AnalyzeGrowingOnce is one round of AnalyzeGrowing, for tests.
func (db *DB) AnalyzeGrowingOnce(ctx context.Context) ([]string, error) {
	return db.analyzeGrowing(ctx)
}

// InsertBatch stores recs in one statement of the ingest, without the
// queue or the answers, for benchmarks of the statement itself.
func (in *Ingest) InsertBatch(ctx context.Context, recs []Inbound) error {
	rows := make([]ingestRow, len(recs))
	for i := range recs {
		rows[i] = prepare(&recs[i])
	}
	_, err := in.insert(ctx, rows)
	return err
}

package store

import "context"

// AnalyzeGrowingOnce is one round of AnalyzeGrowing, for tests.
func (db *DB) AnalyzeGrowingOnce(ctx context.Context) ([]string, error) {
	return db.analyzeGrowing(ctx)
}

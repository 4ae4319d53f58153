package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// Two instances starting together on a fresh database both migrate
// without error: tern serialises them on pg_advisory_lock, and the
// second finds nothing left to do.
func TestMigrateConcurrentlyOnAFreshSchema(t *testing.T) {
	a := storetest.EmptyDB(t)
	url := a.Pool().Config().ConnString()
	schema := storetest.Schema(t, url)
	b, err := store.Open(t.Context(), url, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	errs := make(chan error, 2)
	for _, db := range []*store.DB{a, b} {
		go func() { errs <- db.Migrate(t.Context()) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	// And again, as every later start does.
	if err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}

	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	v, err := a.SchemaVersion(t.Context())
	if err != nil || int(v) != len(files) {
		t.Fatalf("SchemaVersion = %d, %v; want %d (one per migration file)", v, err, len(files))
	}
	// Everything landed in the URL's search_path schema, none in public.
	rows, err := a.Pool().Query(t.Context(),
		"SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// Later migrations add tables; these must be there whatever comes.
	for _, want := range []string{"assemblies", "inbound", "messages", "outbox", "parts", "preferences", store.VersionTable, "ticket_events", "tickets"} {
		if !slices.Contains(got, want) {
			t.Errorf("table %s missing from schema %s (have %v)", want, schema, got)
		}
	}
	// The migration's "reset all" left pooled connections on the schema.
	var sp string
	if err := a.Pool().QueryRow(context.Background(), "SHOW search_path").Scan(&sp); err != nil || sp != schema {
		t.Errorf("search_path after Migrate = %q, %v; want %q", sp, err, schema)
	}
}

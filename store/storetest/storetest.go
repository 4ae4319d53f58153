// Package storetest gives tests a real, private PostgreSQL schema and a
// private corner of a real Redis. The servers are named by
// SMS1708_TEST_DATABASE_URL and SMS1708_TEST_REDIS_URL; a test that needs
// one fails (never skips) when its variable is unset, so that a CI run
// cannot pass by skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sp4n-lapor/sms1708/store"
)

// Environment variables naming the test servers.
const (
	DatabaseEnv = "SMS1708_TEST_DATABASE_URL"
	RedisEnv    = "SMS1708_TEST_REDIS_URL"
)

// DB returns a store.DB on a fresh, migrated schema of its own, dropped
// when the test ends.
func DB(t testing.TB) *store.DB {
	t.Helper()
	u := newSchema(t)
	db := open(t, u)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return db
}

// EmptyDB is DB without the migrations: the schema exists and is empty.
func EmptyDB(t testing.TB) *store.DB {
	t.Helper()
	return open(t, newSchema(t))
}

// URL returns a database URL whose search_path is a fresh, migrated schema
// of its own, dropped when the test ends — for end-to-end tests that start
// the daemon from a config. Its application_name is the schema's name.
func URL(t testing.TB) string {
	t.Helper()
	u := newSchema(t)
	db, err := store.Open(t.Context(), u, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return u
}

// Schema returns the schema (the first search_path entry) of a URL made by
// this package.
func Schema(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return u.Query().Get("search_path")
}

func open(t testing.TB, u string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), u, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// newSchema creates a schema with a random name and returns the test URL
// with search_path (and application_name) set to it. The schema is dropped
// when the test ends, after any cleanup registered later (such as closing
// the pool) has run.
func newSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(DatabaseEnv)
	if base == "" {
		t.Fatalf("storetest: %s is not set; it must name a PostgreSQL database the tests may create schemas in", DatabaseEnv)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("storetest: %s must be a postgres:// URL", DatabaseEnv)
	}
	schema := "t_" + randomHex(8)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("storetest: connect: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		// A test may leave backends behind (a statement orphaned by a cut
		// connection, a pool not yet closed) still holding locks in the
		// schema; end them, or DROP can deadlock with them.
		const terminate = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`
		var err2 error
		for range 5 {
			if _, err2 = conn.Exec(ctx, terminate, schema); err2 != nil {
				break
			}
			if _, err2 = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err2 == nil {
				return
			}
		}
		t.Errorf("storetest: drop schema %s: %v", schema, err2)
	})

	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns a store.Redis on SMS1708_TEST_REDIS_URL whose keys all
// start with a prefix of its own; the keys under it are deleted when the
// test ends.
func Redis(t testing.TB) *store.Redis {
	t.Helper()
	u := os.Getenv(RedisEnv)
	if u == "" {
		t.Fatalf("storetest: %s is not set; it must name a Redis database the tests may write to", RedisEnv)
	}
	r, err := store.OpenRedis(t.Context(), u)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	prefix := "sms1708test:" + randomHex(6) + ":"
	r = r.WithKeyPrefix(prefix)
	t.Cleanup(func() {
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := r.Client()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("storetest: scan redis keys: %v", err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("storetest: delete redis keys: %v", err)
				return
			}
			keys = keys[n:]
		}
	})
	return r
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}

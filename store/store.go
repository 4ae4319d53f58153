// Package store is sms1708's durable side: PostgreSQL through pgx v5 and
// Redis through go-redis v9. It implements the interfaces package router
// declares (Store, Outbox) and holds the ingest, the group commit that stands
// behind every ESME_ROK (DESIGN.md, "Promises" 1 and 5, "Data flow").
//
// PostgreSQL is the source of truth: raw inbound PDUs, messages, tickets,
// ticket events and the outbox live there, in the schema of
// migrations/*.sql. Redis holds only what is hot and expendable (the shared
// per-operator TPS budget); losing it loses no message (DESIGN.md, "Where
// each datum lives").
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

// VersionTable is the table in which the migrator records the schema
// version. It is unqualified on purpose, so that it lands in the first
// schema of the connection's search_path, next to the tables it describes.
const VersionTable = "sms1708_schema_version"

// ErrNotFound is returned by the lookups when no row matches.
var ErrNotFound = errors.New("store: not found")

//go:embed migrations/*.sql
var migrationFS embed.FS

// defaultMaxConns is the pool size used when the URL names none
// (pool_max_conns). pgxpool's own default, max(4, GOMAXPROCS), is too small
// for the ingest, the processor, the outbox dispatcher and the HTTP API
// sharing one pool on a two-core machine.
const defaultMaxConns = 16

// cancelGrace is how long a statement whose context ended may take to
// acknowledge its cancel request before its connection is closed.
const cancelGrace = time.Second

// DB is the PostgreSQL side of the store. It is safe for concurrent use.
type DB struct {
	pool     *pgxpool.Pool
	logger   *slog.Logger
	policy   OutboxPolicy
	normID   IDNormalizer // see SetSubmitIDNormalizer
	instance string       // see SetInstance
	waiting  receiptWatch // see receiptsWaiting
}

// Open connects to PostgreSQL at url (a postgres:// URL or a key=value DSN)
// and checks the connection. Run-time parameters in the URL, such as
// search_path or application_name, become session defaults of every pooled
// connection; the migrations honour search_path too.
func Open(ctx context.Context, url string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse error may quote the URL, password included.
		return nil, errors.New("store: open: invalid database url")
	}
	// Every statement of the daemon is prepared once per connection and
	// is a point or batch lookup by key, with bounded arrays and literal
	// partial-index predicates: one generic plan suits every call. Left to
	// choose (plan_cache_mode auto), PostgreSQL keeps planning a fresh
	// custom plan on every call of the statements over unnest($n) arrays,
	// whose row estimate it can only make from the values: at 1,000 MO/s,
	// 3.3 s of planning per benchmark run, against 0.45 s with generic
	// plans, and about 6% of the server's CPU (docs/BENCHMARKS.md). A
	// plan_cache_mode in the URL wins.
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	// When a context ends mid-statement, ask the server to cancel the
	// statement rather than only dropping the connection (pgx's default):
	// a statement left running on an orphaned backend — say, an ingest
	// batch waiting on a lock — would go on to commit records whose
	// senders were already told 0x64, and hold its locks meanwhile. If the
	// server does not answer the cancel within cancelGrace, the
	// connection is dropped after all.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db := &DB{pool: pool, logger: logger, policy: DefaultOutboxPolicy()}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	return db, nil
}

// Close closes every connection of the pool, waiting for those in use to
// be released.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that PostgreSQL answers. Without a deadline in ctx it waits at
// most five seconds.
func (db *DB) Ping(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Pool returns the underlying pool, for tests and administrative commands.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrate brings the schema up to the newest embedded migration. It is safe
// to run from several instances at once: tern holds a session-level
// pg_advisory_lock on its own connection while it creates the version table
// and while it migrates, so a second instance waits and then finds nothing
// left to do. Each migration runs in its own transaction.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	// tern runs "reset all" after each migration, which returns search_path
	// to the session default given at connection start-up (the URL), so the
	// connection is still fit for the pool. Release it anyway only when it
	// is clean: on error it may hold the advisory lock or an open
	// transaction, and destroying it frees both.
	ok := false
	defer func() {
		if ok {
			conn.Release()
			return
		}
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
	}()

	m, err := migrate.NewMigrator(ctx, conn.Conn(), VersionTable)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("store: migrate: load: %w", err)
	}
	from, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	to, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	ok = true
	if to != from {
		db.logger.Info("database migrated", "from_version", from, "to_version", to)
	}
	return nil
}

// SchemaVersion returns the version recorded by Migrate (0 before the first
// migration).
func (db *DB) SchemaVersion(ctx context.Context) (int32, error) {
	var v int32
	err := db.pool.QueryRow(ctx, "SELECT version FROM "+VersionTable).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", notFound(err))
	}
	return v, nil
}

// notFound translates pgx.ErrNoRows into ErrNotFound at the store's edge.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

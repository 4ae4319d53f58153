package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/sp4n-lapor/sms1708/router"
)

// OutboxPolicy is how long and how often the outbox retries a reply.
type OutboxPolicy struct {
	// MaxAttempts is the number of sends after which a temporarily failing
	// row is failed for good (10).
	MaxAttempts int
	// Backoff is the wait after the first temporary failure; it doubles
	// with each further attempt, up to MaxBackoff (5s, 10m).
	Backoff, MaxBackoff time.Duration
	// TTL is how long after it was queued a reply is still worth sending;
	// past it the row ends expired (24h).
	TTL time.Duration
}

// DefaultOutboxPolicy returns the defaults named in OutboxPolicy.
func DefaultOutboxPolicy() OutboxPolicy {
	return OutboxPolicy{MaxAttempts: 10, Backoff: 5 * time.Second, MaxBackoff: 10 * time.Minute, TTL: 24 * time.Hour}
}

// SetOutboxPolicy replaces the outbox policy; zero fields keep their
// defaults. Call it before the DB is used.
func (db *DB) SetOutboxPolicy(p OutboxPolicy) {
	d := DefaultOutboxPolicy()
	if p.MaxAttempts > 0 {
		d.MaxAttempts = p.MaxAttempts
	}
	if p.Backoff > 0 {
		d.Backoff = p.Backoff
	}
	if p.MaxBackoff > 0 {
		d.MaxBackoff = p.MaxBackoff
	}
	if p.TTL > 0 {
		d.TTL = p.TTL
	}
	db.policy = d
}

var _ router.Outbox = (*DB)(nil)

// maxErrorLen bounds last_error: an SMSC's or our own error string, kept
// for operators to read, not a place for a novel.
const maxErrorLen = 500

// ClaimOutbox implements router.Outbox: it leases up to limit due rows —
// pending rows whose next attempt is due, and rows whose sender's lease ran
// out (it crashed or hung; the SMS may have gone out, and at-least-once is
// the price of never losing a reply) — in id order, for lease, counting an
// attempt for each. Rows past their expiry are not leased but ended
// 'expired'. FOR UPDATE SKIP LOCKED lets dispatchers in several instances
// claim side by side.
func (db *DB) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]router.OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, claimOutboxSQL, limit, lease.Seconds(), db.instance)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (router.OutboxItem, error) {
		var it router.OutboxItem
		err := r.Scan(&it.ID, &it.Operator, &it.To, &it.From, &it.Text, &it.Attempts)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	return items, nil
}

// claimOutboxSQL locks the due rows once (due), ends those that expired,
// and leases the rest; the two updates touch disjoint rows.
const claimOutboxSQL = `
WITH due AS (
    SELECT id FROM outbox
    WHERE active -- the partial index outbox_active: state is pending or sending
      AND ((state = 'pending' AND next_attempt_at <= now())
        OR (state = 'sending' AND lease_until < now()))
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
expired AS (
    UPDATE outbox o SET state = 'expired', lease_until = NULL,
           last_error = coalesce(o.last_error, 'expired before it could be sent')
    FROM due WHERE o.id = due.id AND o.expires_at <= now()
    RETURNING o.id
)
UPDATE outbox o SET state = 'sending', lease_until = now() + make_interval(secs => $2),
       attempts = o.attempts + 1, leased_by = NULLIF($3, '')
FROM due WHERE o.id = due.id AND o.expires_at > now()
RETURNING o.id, o.operator, o.dest_addr, o.source_addr, o.text, o.attempts`

// CompleteOutbox implements router.Outbox, in one transaction for all
// results: a sent row becomes 'sent' with the SMSC's message ids; a
// permanent error ends it 'failed'; a temporary one sends it back to
// 'pending' with exponential backoff (jittered, so that rows failed
// together do not retry together), unless it has used its attempts
// ('failed') or outlived its expiry ('expired'). Every failure keeps its
// reason in last_error. A result for a row no longer leased (its lease ran
// out and another sender took it) is ignored. The ids of each row sent are
// also recorded normalised (outbox_segments, see SetSubmitIDNormalizer),
// and receipts that arrived before them are matched once that has
// committed (see "Matching runs in both directions").
func (db *DB) CompleteOutbox(ctx context.Context, results []router.SendResult) error {
	if len(results) == 0 {
		return nil
	}
	n := len(results)
	ids := make([]int64, n)
	ok := make([]bool, n)
	permanent := make([]bool, n)
	errs := make([]string, n)
	smscIDs := make([]string, n)
	var sent []int64
	for i, r := range results {
		ids[i] = r.ID
		ok[i] = r.Err == nil
		permanent[i] = r.Permanent
		if r.Err != nil {
			errs[i] = truncate(cleanText(r.Err.Error()), maxErrorLen)
		} else if len(r.MessageIDs) > 0 {
			sent = append(sent, r.ID)
		}
		// Each row's ids travel as one JSON array: a jagged text[][] is not
		// something PostgreSQL arrays can hold.
		b, err := json.Marshal(cleanAll(r.MessageIDs))
		if err != nil {
			return fmt.Errorf("store: complete outbox: %w", err)
		}
		smscIDs[i] = string(b)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: complete outbox: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var seg segmentArgs
	if len(sent) > 0 {
		if seg, err = db.segments(ctx, tx, results, sent); err != nil {
			return fmt.Errorf("store: complete outbox: %w", err)
		}
	}
	p := db.policy
	rows, err := tx.Query(ctx, completeOutboxSQL, ids, ok, permanent, errs, smscIDs,
		p.MaxAttempts, p.Backoff.Seconds(), p.MaxBackoff.Seconds())
	if err != nil {
		return fmt.Errorf("store: complete outbox: %w", err)
	}
	nowSent, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("store: complete outbox: %w", err)
	}
	nowSent = slices.DeleteFunc(nowSent, func(id int64) bool { return id == 0 })
	withSegments := len(nowSent) > 0 && len(seg.outbox) > 0
	if withSegments {
		if _, err := tx.Exec(ctx, insertSegmentsSQL, seg.operator, seg.smscID, seg.outbox, seg.part, nowSent); err != nil {
			return fmt.Errorf("store: complete outbox: segments: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: complete outbox: commit: %w", err)
	}
	if withSegments && db.receiptsWaiting() {
		// The outcomes are recorded; receipts that came before them are
		// matched now that the segments are visible to everyone (see
		// "Matching runs in both directions"). A failure here loses
		// nothing: the receipt sweep matches them later.
		if _, err := db.matchWith(ctx, matchSegmentsSQL, nowSent); err != nil {
			db.logger.Warn("match receipts of replies just sent; the sweep will retry", "rows", len(nowSent), "err", err)
		}
	}
	return nil
}

// segmentArgs are the normalised ids of the rows sent, as column arrays.
type segmentArgs struct {
	operator, smscID []string
	outbox           []int64
	part             []int16
}

// segments normalises the SMSC ids of the rows sent, with each row's
// operator: as the dispatcher reported it, or looked up when a result does
// not say.
func (db *DB) segments(ctx context.Context, tx pgx.Tx, results []router.SendResult, sent []int64) (segmentArgs, error) {
	var a segmentArgs
	ops := make(map[int64]string, len(sent))
	var unknown []int64
	for _, r := range results {
		if r.Err == nil && len(r.MessageIDs) > 0 {
			if r.Operator != "" {
				ops[r.ID] = r.Operator
			} else {
				unknown = append(unknown, r.ID)
			}
		}
	}
	if len(unknown) > 0 {
		rows, err := tx.Query(ctx, "SELECT id, operator FROM outbox WHERE id = ANY($1)", unknown)
		if err != nil {
			return a, err
		}
		var id int64
		var op string
		if _, err := pgx.ForEachRow(rows, []any{&id, &op}, func() error { ops[id] = op; return nil }); err != nil {
			return a, err
		}
	}
	for _, r := range results {
		op, found := ops[r.ID]
		if r.Err != nil || !found {
			continue
		}
		for k, raw := range r.MessageIDs {
			norm := cleanText(db.normalizeID(op, raw))
			if norm == "" || k >= 1<<15 {
				continue
			}
			a.operator = append(a.operator, op)
			a.smscID = append(a.smscID, norm)
			a.outbox = append(a.outbox, r.ID)
			a.part = append(a.part, int16(k+1))
		}
	}
	return a, nil
}

// insertSegmentsSQL records the normalised ids of the rows that did become
// 'sent' ($5).
const insertSegmentsSQL = `
INSERT INTO outbox_segments (operator, smsc_id, outbox_id, part)
SELECT o, s, b, p FROM unnest($1::text[], $2::text[], $3::int8[], $4::int2[]) AS u(o, s, b, p)
WHERE b = ANY($5)
ON CONFLICT DO NOTHING`

const completeOutboxSQL = `
UPDATE outbox o SET
    state = CASE
        WHEN r.ok THEN 'sent'
        WHEN r.permanent THEN 'failed'
        WHEN o.expires_at <= now() THEN 'expired'
        WHEN o.attempts >= $6 THEN 'failed'
        ELSE 'pending' END,
    smsc_ids = CASE WHEN r.ok THEN ARRAY(SELECT jsonb_array_elements_text(r.smsc_ids::jsonb)) ELSE o.smsc_ids END,
    sent_at = CASE WHEN r.ok THEN now() ELSE o.sent_at END,
    last_error = CASE WHEN r.ok THEN o.last_error ELSE r.err END,
    next_attempt_at = CASE
        WHEN NOT r.ok AND NOT r.permanent AND o.expires_at > now() AND o.attempts < $6
        THEN now() + make_interval(secs => least($8::float8,
                 $7::float8 * power(2, least(greatest(o.attempts - 1, 0), 30)) * (0.75 + random() * 0.5)))
        ELSE o.next_attempt_at END,
    lease_until = NULL,
    leased_by = NULL
FROM unnest($1::bigint[], $2::bool[], $3::bool[], $4::text[], $5::text[])
     AS r(id, ok, permanent, err, smsc_ids)
WHERE o.id = r.id AND o.state = 'sending'
RETURNING CASE WHEN o.state = 'sent' THEN o.id ELSE 0 END`

// releasePace spaces the replies ReleaseLeases gives back (50 a second).
const releasePace = 20 * time.Millisecond

// SetInstance names this daemon instance in the leases it takes (see
// ReleaseLeases). The name must be unique among the instances sharing the
// database and stable across restarts of the same one; "" takes leases
// without a name, which ReleaseLeases never gives back. Call it before the
// DB is used.
func (db *DB) SetInstance(name string) { db.instance = name }

// ReleaseLeases gives back the replies leased by this instance that are
// still 'sending': call it at start, before any send, when none of them
// can still be in flight (the process that leased them is gone). They
// become pending and due within seconds (paced, releasePace apart) —
// instead of waiting for their leases to run out — with their attempt
// counted; one that had gone out just before
// the previous process died is sent again, as it would have been after its
// lease (the crash window of a submit). It returns how many it gave back.
func (db *DB) ReleaseLeases(ctx context.Context) (int, error) {
	if db.instance == "" {
		return 0, nil
	}
	// Paced: a burst of everything given back at once keeps many sends in
	// flight, each sent but not yet recorded for a moment; another crash
	// then would send all of those twice.
	tag, err := db.pool.Exec(ctx, `UPDATE outbox o SET state = 'pending', lease_until = NULL, leased_by = NULL,
		next_attempt_at = now() + make_interval(secs => g.k * $2::float8),
		last_error = coalesce(o.last_error, 'lease given back at restart')
		FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM outbox
		      WHERE state = 'sending' AND leased_by = $1) g
		WHERE o.id = g.id AND o.state = 'sending'`, db.instance, releasePace.Seconds())
	if err != nil {
		return 0, fmt.Errorf("store: release leases: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PendingOutbox returns the number of outbox rows not yet done: pending
// or being sent.
func (db *DB) PendingOutbox(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE active").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: pending outbox: %w", err)
	}
	return n, nil
}

// OutboxStats counts the replies not yet done, by state, and returns the
// age of the oldest (0 when there is none). It walks the partial index
// outbox_active: the rows not done, however long the table.
func (db *DB) OutboxStats(ctx context.Context) (pending, sending int, oldest time.Duration, err error) {
	var secs float64
	err = db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'sending'),
		coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE active`).Scan(&pending, &sending, &secs)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("store: outbox stats: %w", err)
	}
	return pending, sending, time.Duration(secs * float64(time.Second)), nil
}

// WatchOutbox sets sms1708_outbox_rows and sms1708_outbox_oldest_seconds
// on m every interval until ctx is done. A failed count leaves the last
// values (the database being down is told by other metrics and /readyz).
func (db *DB) WatchOutbox(ctx context.Context, m *Metrics, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if pending, sending, oldest, err := db.OutboxStats(ctx); err == nil {
			m.outboxRows.WithLabelValues("pending").Set(float64(pending))
			m.outboxRows.WithLabelValues("sending").Set(float64(sending))
			m.outboxOldest.Set(oldest.Seconds())
		} else if ctx.Err() == nil {
			db.logger.Debug("count outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// OutboxRow is an outbox row as stored.
type OutboxRow struct {
	ID            int64
	CreatedAt     time.Time
	MessageID     int64 // 0 when no message asked for it
	TicketID      int64 // 0 when it belongs to no ticket
	Kind          string
	Operator      string
	DestAddr      string
	SourceAddr    string
	Text          string
	State         string // pending, sending, sent, delivered, failed, expired
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    time.Time // zero when not leased
	LastError     string
	SMSCIDs       []string
	SentAt        time.Time // zero until sent
	ExpiresAt     time.Time
}

const outboxColumns = `id, created_at, coalesce(message_id, 0), coalesce(ticket_id, 0), kind, operator,
    dest_addr, source_addr, text, state, attempts, next_attempt_at, lease_until,
    coalesce(last_error, ''), smsc_ids, sent_at, expires_at`

func scanOutboxRow(r pgx.CollectableRow) (OutboxRow, error) {
	var o OutboxRow
	var lease, sent *time.Time
	err := r.Scan(&o.ID, &o.CreatedAt, &o.MessageID, &o.TicketID, &o.Kind, &o.Operator,
		&o.DestAddr, &o.SourceAddr, &o.Text, &o.State, &o.Attempts, &o.NextAttemptAt, &lease,
		&o.LastError, &o.SMSCIDs, &sent, &o.ExpiresAt)
	if lease != nil {
		o.LeaseUntil = *lease
	}
	if sent != nil {
		o.SentAt = *sent
	}
	return o, err
}

// OutboxByMessage returns the outbox rows a message asked for, oldest
// first.
func (db *DB) OutboxByMessage(ctx context.Context, messageID int64) ([]OutboxRow, error) {
	return db.outboxRows(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE message_id = $1 ORDER BY id", messageID)
}

// OutboxByTicket returns the outbox rows of a ticket, oldest first.
func (db *DB) OutboxByTicket(ctx context.Context, ticketID int64) ([]OutboxRow, error) {
	return db.outboxRows(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE ticket_id = $1 ORDER BY id", ticketID)
}

// OutboxByID returns one outbox row, or ErrNotFound.
func (db *DB) OutboxByID(ctx context.Context, id int64) (OutboxRow, error) {
	rows, err := db.outboxRows(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE id = $1", id)
	if err != nil {
		return OutboxRow{}, err
	}
	if len(rows) == 0 {
		return OutboxRow{}, fmt.Errorf("store: outbox row %d: %w", id, ErrNotFound)
	}
	return rows[0], nil
}

func (db *DB) outboxRows(ctx context.Context, sql string, arg int64) ([]OutboxRow, error) {
	rows, err := db.pool.Query(ctx, sql, arg)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanOutboxRow)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	// Do not leave half a rune at the end.
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = cleanText(s)
	}
	return out
}

package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/router"
)

// Delivery receipts (SMPP 3.4 §5.2.12, Appendix B; SMPP.md, "MO, DLR and
// text") are matched to the outbox by (operator, normalised SMSC message
// id). Normalising is the SMPP side's job — it knows each operator's id
// bases — so the store compares text with text: the ingest gets receipts
// with DLR.MessageID already normalised (receipt base), and CompleteOutbox
// normalises the submit_sm_resp ids through the function set with
// SetSubmitIDNormalizer (submit base). outbox.smsc_ids keeps the ids as
// the SMSC wrote them; outbox_segments the normalised ones, one per
// segment.
//
// Most receipts never reach the matching below: the ingest stores a
// receipt of a reply of one segment already recorded sent matched, and
// settles the reply in the same statement (ingestSQL). The rest — receipts
// of longer replies, and receipts that came before their response was
// recorded — are stored unmatched and matched here.
//
// Matching runs in both directions, each after the other side's data has
// committed: the ReceiptMatcher matches receipts the ingest has committed
// (told in-process), and CompleteOutbox, once the segments of the rows it
// recorded sent have committed, matches any receipt that came first — so a
// receipt that arrives before its submit_sm_resp, or on another bind, or in
// another instance, is matched all the same, without either side locking
// the other out: whichever of the two commits comes second, the matching
// that follows it sees the other. Both may find the same receipt; each
// takes the receipts it matches with FOR UPDATE SKIP LOCKED, and the one
// that finds a receipt locked leaves it to the one holding it. A periodic
// sweep covers a matcher that stopped between a commit and its match.
//
// In service a receipt comes seconds after its submit_sm_resp, so the
// matching that follows CompleteOutbox nearly always finds nothing; it
// costs a statement and a transaction per batch of outcomes. CompleteOutbox
// therefore matches only while this instance knows receipts are waiting
// (receiptsWaiting): one of its receipt matches is under way, or left a
// receipt unmatched, or its sweep found one, within receiptsWaitingFor. A
// receipt stored by another instance and not matched there is found by the
// sweep.
//
// A matched outbox row in state 'sent' becomes 'delivered' when every
// segment has a final DELIVERED receipt, and 'failed', with the receipt's
// state and error in last_error, as soon as any segment has a final
// receipt of another state (UNDELIVERABLE, REJECTED, EXPIRED, DELETED).
// Intermediate and non-final receipts are kept and matched but change
// nothing.

// IDNormalizer maps an SMSC message id, as an operator's submit_sm_resp
// wrote it, to the normalised form receipts are matched by; "" means the id
// is unusable and is not matched.
type IDNormalizer func(operator, id string) string

// SetSubmitIDNormalizer sets how CompleteOutbox normalises the SMSC's
// message ids (by default it keeps them as they are). Call it before the DB
// is used.
func (db *DB) SetSubmitIDNormalizer(f IDNormalizer) { db.normID = f }

func (db *DB) normalizeID(operator, id string) string {
	if db.normID == nil {
		return id
	}
	return db.normID(operator, id)
}

// matchReceiptsSQL matches unmatched receipts, given by id, to the newest
// outbox row that sent their (operator, id). A receipt another transaction
// is matching is skipped: that one matches it.
const matchReceiptsSQL = `
WITH c AS (
    SELECT r.id, n.outbox_id FROM receipts r
    JOIN LATERAL (SELECT s.outbox_id FROM outbox_segments s
                  WHERE s.operator = r.operator AND s.smsc_id = r.message_id
                  ORDER BY s.outbox_id DESC LIMIT 1) n ON true
    WHERE r.id = ANY($1) AND r.outbox_id IS NULL
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE receipts r SET outbox_id = c.outbox_id, matched_at = now()
FROM c WHERE r.id = c.id
RETURNING r.outbox_id`

// matchSegmentsSQL matches the unmatched receipts of the given outbox
// rows' segments (just committed) the same way.
const matchSegmentsSQL = `
WITH c AS (
    SELECT r.id, n.outbox_id FROM receipts r
    JOIN LATERAL (SELECT s.outbox_id FROM outbox_segments s
                  WHERE s.operator = r.operator AND s.smsc_id = r.message_id
                  ORDER BY s.outbox_id DESC LIMIT 1) n ON true
    WHERE r.outbox_id IS NULL
      AND (r.operator, r.message_id) IN (SELECT operator, smsc_id FROM outbox_segments WHERE outbox_id = ANY($1))
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE receipts r SET outbox_id = c.outbox_id, matched_at = now()
FROM c WHERE r.id = c.id
RETURNING r.outbox_id`

// lockSentSQL locks the given outbox rows still 'sent', in id order, and
// returns them. It is a statement of its own so that the settling that
// follows it counts the receipts with a snapshot taken after the lock: of
// two transactions matching receipts of two segments of one row, the
// second waits here for the first to commit and then sees both receipts.
// FOR NO KEY UPDATE is the lock the settling's own UPDATE takes (it changes
// no key): enough to put two settlings of one row in turn.
const lockSentSQL = `SELECT id FROM outbox WHERE id = ANY($1) AND state = 'sent' ORDER BY id FOR NO KEY UPDATE`

// settleSQL ends the given 'sent' outbox rows whose receipts are final:
// failed as soon as a segment's final receipt is not DELIVERED (the first
// such receipt is the reason), delivered when every segment's is.
const settleSQL = `
WITH seg AS (
    SELECT outbox_id, count(DISTINCT smsc_id) AS n FROM outbox_segments
    WHERE outbox_id = ANY($1) GROUP BY outbox_id
), dlv AS (
    SELECT outbox_id, count(DISTINCT message_id) AS n FROM receipts
    WHERE outbox_id = ANY($1) AND final AND state = 'DELIVERED' GROUP BY outbox_id
), bad AS (
    SELECT DISTINCT ON (outbox_id) outbox_id, message_id, state, err FROM receipts
    WHERE outbox_id = ANY($1) AND final AND state <> 'DELIVERED'
    ORDER BY outbox_id, id
), verdict AS (
    SELECT seg.outbox_id, bad.outbox_id IS NOT NULL AS failed,
           'receipt for ' || bad.message_id || ': ' || bad.state || coalesce(' err:' || bad.err, '') AS reason
    FROM seg LEFT JOIN dlv USING (outbox_id) LEFT JOIN bad USING (outbox_id)
    WHERE bad.outbox_id IS NOT NULL OR coalesce(dlv.n, 0) >= seg.n
)
UPDATE outbox o SET
    state = CASE WHEN v.failed THEN 'failed' ELSE 'delivered' END,
    last_error = CASE WHEN v.failed THEN left(v.reason, 500) ELSE o.last_error END
FROM verdict v
WHERE o.id = v.outbox_id AND o.state = 'sent'`

// settleSingleSQL ends the given 'sent' outbox rows of one segment that
// have a final receipt, in one statement: failed when a final receipt is not
// DELIVERED (the first such is the reason), delivered otherwise. A row of
// one segment has no other segment's receipt to wait for, so the lock and
// the counting of settleSQL are not needed; a second transaction settling
// the same row waits for the first's row lock and then finds it no longer
// 'sent'. It returns the rows it ended. The receipts are looked up with one
// index probe per row (LATERAL … LIMIT 1): the form "outbox_id = ANY($1)"
// was planned as a scan of the whole table while statistics lagged behind
// the matching, which sets outbox_id on every receipt.
var settleSingleSQL = `
UPDATE outbox o SET ` + settleByReceipt("r") + `
FROM unnest($1::bigint[]) AS u(id)
CROSS JOIN LATERAL (SELECT message_id, state, err FROM receipts
                    WHERE outbox_id = u.id AND final
                    ORDER BY state = 'DELIVERED', id LIMIT 1) r
WHERE o.id = u.id AND o.state = 'sent' AND cardinality(o.smsc_ids) = 1
RETURNING o.id`

// settleByReceipt is the SET list that ends an outbox row o from one final
// receipt, the row a of (message_id, state, err): delivered when it says
// DELIVERED, failed otherwise with the receipt as the reason. Both places
// that settle a reply of one segment use it (settleSingleSQL, ingestSQL).
func settleByReceipt(a string) string {
	return `state = CASE WHEN ` + a + `.state = 'DELIVERED' THEN 'delivered' ELSE 'failed' END,
    last_error = CASE WHEN ` + a + `.state = 'DELIVERED' THEN o.last_error
        ELSE left('receipt for ' || ` + a + `.message_id || ': ' || ` + a + `.state || coalesce(' err:' || ` + a + `.err, ''), 500) END`
}

// settle ends the outbox rows receipts were just matched to: those of one
// segment at once (settleSingleSQL, nearly every reply), the others by
// locking those still 'sent' and applying settleSQL.
func settle(ctx context.Context, tx pgx.Tx, outboxIDs []int64) error {
	if len(outboxIDs) == 0 {
		return nil
	}
	slices.Sort(outboxIDs)
	outboxIDs = slices.Compact(outboxIDs)
	rows, err := tx.Query(ctx, settleSingleSQL, outboxIDs)
	if err != nil {
		return fmt.Errorf("settle outbox: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("settle outbox: %w", err)
	}
	if len(done) == len(outboxIDs) {
		return nil
	}
	outboxIDs = slices.DeleteFunc(outboxIDs, func(id int64) bool { return slices.Contains(done, id) })
	rows, err = tx.Query(ctx, lockSentSQL, outboxIDs)
	if err != nil {
		return fmt.Errorf("settle outbox: lock: %w", err)
	}
	sent, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("settle outbox: lock: %w", err)
	}
	if len(sent) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, settleSQL, sent); err != nil {
		return fmt.Errorf("settle outbox: %w", err)
	}
	return nil
}

// matchWith runs one of the match statements and settles what it matched,
// in one transaction.
func (db *DB) matchWith(ctx context.Context, sql string, ids []int64) (int, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, sql, ids)
	if err != nil {
		return 0, err
	}
	matched, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	if len(matched) == 0 {
		return 0, nil // nothing written: the rollback ends it
	}
	if err := settle(ctx, tx, matched); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return len(matched), nil
}

// ReceiptMatcherConfig tunes the ReceiptMatcher. Zero values take the
// defaults.
type ReceiptMatcherConfig struct {
	// Sweep is how often receipts left unmatched are tried again (5s).
	Sweep time.Duration
	// Window is how far back the sweep looks (15m). A receipt older than
	// that is still matched when its submit_sm_resp is recorded; the sweep
	// is only for a matcher that stopped between a receipt's commit and
	// its match.
	Window time.Duration
	// Batch is the most receipts matched in one transaction (256).
	Batch int
	// Linger is how long a wake-up waits for more receipts before it
	// matches (router.DefaultLinger; negative: not at all).
	Linger time.Duration
}

func (c ReceiptMatcherConfig) withDefaults() ReceiptMatcherConfig {
	if c.Sweep <= 0 {
		c.Sweep = 5 * time.Second
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Linger == 0 {
		c.Linger = router.DefaultLinger
	}
	return c
}

// ReceiptMatcher matches freshly committed receipts to the outbox (see
// above). The ingest hands it receipt ids in-process (Notify); a periodic
// sweep retries recent unmatched ones.
type ReceiptMatcher struct {
	db     *DB
	cfg    ReceiptMatcherConfig
	m      *Metrics
	logger *slog.Logger

	mu   sync.Mutex
	ids  []int64
	wake chan struct{}
}

// NewReceiptMatcher returns a matcher on db. m may be nil.
func NewReceiptMatcher(db *DB, cfg ReceiptMatcherConfig, m *Metrics, logger *slog.Logger) *ReceiptMatcher {
	if m == nil {
		m = NewMetrics(prometheus.NewRegistry())
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ReceiptMatcher{db: db, cfg: cfg.withDefaults(), m: m, logger: logger, wake: make(chan struct{}, 1)}
}

// Notify hands over the ids of freshly committed receipts. It never
// blocks.
func (rm *ReceiptMatcher) Notify(receiptIDs []int64) {
	if len(receiptIDs) == 0 {
		return
	}
	rm.mu.Lock()
	if len(rm.ids)+len(receiptIDs) <= maxNotified {
		rm.ids = append(rm.ids, receiptIDs...)
	}
	rm.mu.Unlock()
	select {
	case rm.wake <- struct{}{}:
	default:
	}
}

func (rm *ReceiptMatcher) takeIDs() []int64 {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	n := min(len(rm.ids), rm.cfg.Batch)
	ids := append([]int64(nil), rm.ids[:n]...)
	rm.ids = rm.ids[n:]
	if len(rm.ids) == 0 {
		rm.ids = nil
	}
	return ids
}

// Run matches until ctx is done. Errors are logged; the sweep retries.
func (rm *ReceiptMatcher) Run(ctx context.Context) error {
	tick := time.NewTicker(rm.cfg.Sweep)
	defer tick.Stop()
	for {
		for ids := rm.takeIDs(); len(ids) > 0; ids = rm.takeIDs() {
			if _, err := rm.Match(ctx, ids); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				rm.logger.Warn("match receipts", "err", err)
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-rm.wake:
			router.Linger(ctx, rm.cfg.Linger)
		case <-tick.C:
			if _, err := rm.Sweep(ctx); err != nil && ctx.Err() == nil {
				rm.logger.Warn("sweep receipts", "err", err)
			}
		}
	}
}

// Match matches the given receipts (those still unmatched) in one
// transaction and returns how many it matched.
func (rm *ReceiptMatcher) Match(ctx context.Context, receiptIDs []int64) (int, error) {
	if len(receiptIDs) == 0 {
		return 0, nil
	}
	w := &rm.db.waiting
	w.matching.Add(1)
	n, err := rm.db.matchWith(ctx, matchReceiptsSQL, receiptIDs)
	if err != nil || n < len(receiptIDs) {
		// Some may wait for their submit_sm_resp to be recorded (or were
		// matched already: telling CompleteOutbox to look costs only a
		// statement).
		w.unmatchedAt.Store(time.Now().UnixNano())
	}
	w.matching.Add(-1) // after unmatchedAt: receiptsWaiting sees one or the other
	if err != nil {
		return 0, fmt.Errorf("store: match receipts: %w", err)
	}
	return n, nil
}

// receiptsWaitingFor is how long after a receipt match left a receipt
// unmatched CompleteOutbox keeps matching receipts to the rows it records
// sent. Receipts that come before their submit_sm_resp is recorded come
// milliseconds before it; the sweep finds any later.
const receiptsWaitingFor = time.Minute

// receiptWatch is what this instance knows of receipts waiting for their
// outbox row (see "Matching runs in both directions").
type receiptWatch struct {
	matching    atomic.Int32 // receipt matches under way
	unmatchedAt atomic.Int64 // when a match last left a receipt unmatched, Unix ns
}

// receiptsWaiting reports whether a receipt of this instance may be waiting
// for a segment just committed: a receipt match is under way (its snapshot
// may predate the commit), or one left a receipt unmatched lately.
func (db *DB) receiptsWaiting() bool {
	w := &db.waiting
	if w.matching.Load() > 0 {
		return true
	}
	at := w.unmatchedAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < receiptsWaitingFor
}

// Sweep tries every unmatched receipt of the last Window again, a batch
// per transaction, and returns how many it matched. It also sets
// sms1708_dlr_unmatched_recent.
func (rm *ReceiptMatcher) Sweep(ctx context.Context) (int, error) {
	var after int64
	total := 0
	for {
		rows, err := rm.db.pool.Query(ctx, `SELECT id FROM receipts
			WHERE outbox_id IS NULL AND received_at > now() - make_interval(secs => $1) AND id > $2
			ORDER BY id LIMIT $3`, rm.cfg.Window.Seconds(), after, rm.cfg.Batch)
		if err != nil {
			return total, fmt.Errorf("store: sweep receipts: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return total, fmt.Errorf("store: sweep receipts: %w", err)
		}
		if len(ids) > 0 {
			n, err := rm.Match(ctx, ids)
			if err != nil {
				return total, err
			}
			total += n
			after = ids[len(ids)-1]
		}
		if len(ids) < rm.cfg.Batch {
			break
		}
	}
	var n int64
	if err := rm.db.pool.QueryRow(ctx, `SELECT count(*) FROM receipts
		WHERE outbox_id IS NULL AND received_at > now() - make_interval(secs => $1)`, rm.cfg.Window.Seconds()).Scan(&n); err != nil {
		return total, fmt.Errorf("store: sweep receipts: %w", err)
	}
	rm.m.dlrUnmatched.Set(float64(n))
	if total > 0 || n > 0 {
		// Receipts came before their responses were recorded, perhaps on
		// another instance's binds: CompleteOutbox looks for them again.
		rm.db.waiting.unmatchedAt.Store(time.Now().UnixNano())
	}
	return total, nil
}

// Receipt is a receipts row as stored.
type Receipt struct {
	ID         int64
	InboundID  int64
	Operator   string
	MessageID  string // normalised
	State      string
	Final      bool
	Err        string
	DoneAt     time.Time // zero when the receipt had none
	ReceivedAt time.Time
	OutboxID   int64 // 0 while unmatched
}

// ReceiptsByOutbox returns the receipts matched to an outbox row, oldest
// first.
func (db *DB) ReceiptsByOutbox(ctx context.Context, outboxID int64) ([]Receipt, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, inbound_id, operator, message_id, state, final,
		coalesce(err, ''), done_at, received_at, coalesce(outbox_id, 0)
		FROM receipts WHERE outbox_id = $1 ORDER BY id`, outboxID)
	if err != nil {
		return nil, fmt.Errorf("store: receipts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Receipt, error) {
		var rc Receipt
		var done *time.Time
		err := r.Scan(&rc.ID, &rc.InboundID, &rc.Operator, &rc.MessageID, &rc.State, &rc.Final,
			&rc.Err, &done, &rc.ReceivedAt, &rc.OutboxID)
		if done != nil {
			rc.DoneAt = *done
		}
		return rc, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: receipts: %w", err)
	}
	return out, nil
}

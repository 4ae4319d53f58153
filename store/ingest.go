package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors the ingest hands to Inbound.Done. Callers branch on them with
// errors.Is: nil is ESME_ROK; ErrDeadLetter is ESME_RX_P_APPN (0x65, the
// PDU is kept and must not be redelivered); anything else means the record
// is not known to be stored, ESME_RX_T_APPN (0x64), and the SMSC retries —
// redelivery plus dedup is always safe, a false ESME_ROK never is.
var (
	// ErrDeadLetter: the record could not be stored as what it claimed to
	// be and was stored, raw, as a dead letter.
	ErrDeadLetter = errors.New("store: ingest: stored as dead letter")
	// ErrNotCommitted: the batch's commit failed or its outcome is unknown
	// (timeout, connection lost); the record may or may not be stored.
	ErrNotCommitted = errors.New("store: ingest: not committed")
	// ErrOverloaded: the queue was full; the record was not taken.
	ErrOverloaded = errors.New("store: ingest: queue full")
	// ErrClosed: the ingest has stopped; the record was not taken.
	ErrClosed = errors.New("store: ingest: closed")
)

// Inbound is one received deliver_sm or data_sm, as the SMPP layer hands it
// to the ingest.
type Inbound struct {
	Operator, Bind string
	Command        uint32 // command_id
	Seq            uint32 // sequence_number
	SourceAddr     string
	SourceTON      uint8
	SourceNPI      uint8
	DestAddr       string
	ESMClass       uint8
	DataCoding     uint8
	// Text is the decoded short message. The ingest stores it as valid
	// UTF-8 without NUL whatever it is given (invalid bytes and NUL become
	// U+FFFD); Raw keeps the original.
	Text         string
	Alphabet     string // e.g. "gsm7", "ucs2", "latin1"
	InvalidChars int    // characters the decoder could not map
	Raw          []byte // the whole PDU, header included
	// Receipt marks a delivery receipt (esm_class & 0x3C != 0; the ingest
	// checks ESMClass too): stored as kind 'receipt', never a message.
	Receipt bool
	// DLR is the receipt as parsed, when it could be (with a message id):
	// it gets a receipts row, which the ReceiptMatcher matches to the
	// outbox. A receipt without DLR is still stored and acked.
	DLR *DLR
	// DeadReason, when not empty, says why the PDU could not be decoded;
	// it is stored raw as kind 'dead' and Done gets ErrDeadLetter.
	DeadReason string
	// MSISDN is the citizen's number, normalised to digits only, for the
	// message row. Leave it empty when the sender is not a citizen's
	// number (alphanumeric, a short code): the PDU is then stored for the
	// audit but never becomes a message, so nothing ever replies to it.
	// A non-empty MSISDN that is not 1 to 20 digits makes the record a
	// dead letter.
	MSISDN string
	// Part, when not nil, makes the record one part of a concatenated
	// message (UDH IEI 0x00/0x08 or the SAR TLVs): besides its inbound row
	// it gets a parts row, and no messages row — the assembler makes one
	// message of all the parts (see Assembler). Alphabet must then name
	// the alphabet of Part.UserData (text.Alphabet's String), since the
	// parts are decoded together, later. A part with Total 1 is a whole
	// message: Part is ignored and Text is the message. A part whose
	// numbers are impossible (Total 0, Seq 0 or above Total, RefBits not 8
	// or 16, an 8-bit Ref above 255) is a dead letter. A part from a
	// sender without an MSISDN is kept for the audit only, like any text
	// from such a sender.
	Part       *Part
	ReceivedAt time.Time // zero means now
	// Done is called exactly once, from the ingest's goroutine, with nil
	// only after the record is committed. It must not block.
	Done func(error)
}

// DLR is a parsed delivery receipt (SMPP 3.4 §5.2.12, Appendix B).
type DLR struct {
	// MessageID is the SMSC's id of the message the receipt is about,
	// normalised the same way as the ids CompleteOutbox stores (see
	// DB.SetSubmitIDNormalizer): the two are compared as text.
	MessageID string
	// State is the SMPP 3.4 §5.2.28 state name ("DELIVERED",
	// "UNDELIVERABLE", "REJECTED", "EXPIRED", "DELETED", "ACCEPTED",
	// "ENROUTE", "UNKNOWN"), or "" when the receipt gave none.
	State string
	// Final: the message will not change state again.
	Final bool
	// Err is the receipt's error ("gsm:001", "000"), or "".
	Err string
	// DoneAt is the receipt's done date; zero when it had none.
	DoneAt time.Time
}

// Part is one part of a concatenated MO, as the SMPP layer found it.
type Part struct {
	// Ref is the reference shared by the parts; RefBits its width on the
	// wire (8 or 16: SAR references are 16 bits). Two messages whose
	// references differ in width are different messages.
	Ref     uint16
	RefBits uint8
	// Total is the number of parts, Seq this part's number (1..Total).
	Total, Seq uint8
	// UserData is the raw user data without the UDH, in the record's
	// DataCoding and Alphabet.
	UserData []byte
}

// IngestConfig tunes the group commit. Zero values take the defaults.
type IngestConfig struct {
	// MaxBatch is the most records stored in one statement (256).
	MaxBatch int
	// MaxWait bounds how long the flusher keeps collecting records before
	// it stores them (1ms). When no other statement is in flight the
	// flusher never waits for records that have not arrived: when the
	// queue runs empty it stores at once, so an idle ingest adds no
	// latency. When one is, the flusher collects for MaxWait (or MaxBatch
	// records) before it stores: the group commit's second statement
	// carries what came during that wait instead of one or two records,
	// which at a moderate rate halves the statements and commits, and
	// with them most of the database's work per record.
	MaxWait time.Duration
	// CommitTimeout bounds one statement, waiting for a connection
	// included (5s). Past it the outcome is treated as unknown.
	CommitTimeout time.Duration
	// Queue is the number of records that may wait; Submit refuses more
	// with ErrOverloaded (4096).
	Queue int
	// Flushers is the number of statements in flight at once (2): while
	// one batch waits for its commit to reach the disk, the next is
	// already being written.
	Flushers int
}

func (c IngestConfig) withDefaults() IngestConfig {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.MaxWait <= 0 {
		c.MaxWait = time.Millisecond
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 5 * time.Second
	}
	if c.Queue <= 0 {
		c.Queue = 4096
	}
	if c.Flushers <= 0 {
		c.Flushers = 2
	}
	return c
}

// Ingest is the group commit between the SMPP sessions and PostgreSQL
// (DESIGN.md, "Data flow"): records from every bind are queued, stored many
// to a statement, and each record's Done is called only after the statement
// that stored it has committed. Throughput comes from batching, never from
// acking early.
type Ingest struct {
	db          *DB
	cfg         IngestConfig
	m           *Metrics
	logger      *slog.Logger
	onCommitted func(messageIDs []int64)
	onParts     func(partIDs []int64)
	onReceipts  func(receiptIDs []int64)
	queue       chan Inbound

	// mu orders Submit against Run closing: Submit sends under the read
	// lock, Run sets closed under the write lock, so that once closed is
	// set nothing more can enter the queue and Run's final drain is
	// complete.
	mu     sync.RWMutex
	closed bool

	failing  atomic.Bool  // the last statement failed (logged once per spell)
	flushing atomic.Int32 // statements in flight
}

// NewIngest returns an ingest storing into db. onCommitted, if not nil, is
// called from the ingest's goroutine after each flush with the ids of the
// messages rows it committed, to hand them to processing without a polling
// delay; it must not block. m may be nil (metrics are then not exported).
func NewIngest(db *DB, cfg IngestConfig, m *Metrics, logger *slog.Logger, onCommitted func(messageIDs []int64)) *Ingest {
	if m == nil {
		m = NewMetrics(prometheus.NewRegistry())
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	return &Ingest{
		db:          db,
		cfg:         cfg,
		m:           m,
		logger:      logger,
		onCommitted: onCommitted,
		queue:       make(chan Inbound, cfg.Queue),
	}
}

// OnParts sets f to be called from the ingest's goroutine after each flush
// with the ids of the parts rows it committed, to hand them to the
// assembler (Assembler.Notify) without a polling delay; f must not block.
// Call it before Run.
func (in *Ingest) OnParts(f func(partIDs []int64)) { in.onParts = f }

// OnReceipts sets f to be called from the ingest's goroutine after each
// flush with the ids of the receipts rows it committed, to hand them to
// the ReceiptMatcher (ReceiptMatcher.Notify); f must not block. Call it
// before Run.
func (in *Ingest) OnReceipts(f func(receiptIDs []int64)) { in.onReceipts = f }

// Submit queues rec. It never blocks: when the queue is full, or the ingest
// has stopped, rec.Done is called at once with ErrOverloaded or ErrClosed.
func (in *Ingest) Submit(rec Inbound) {
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		in.m.records.WithLabelValues(OutcomeFailed).Inc()
		done(rec, ErrClosed)
		return
	}
	select {
	case in.queue <- rec:
		in.mu.RUnlock()
		in.m.queueDepth.Set(float64(len(in.queue)))
	default:
		in.mu.RUnlock()
		in.m.records.WithLabelValues(OutcomeOverloaded).Inc()
		done(rec, ErrOverloaded)
	}
}

// Run stores queued records until ctx is done; then it refuses new records
// (ErrClosed), stores those already queued, and returns nil. Statements run
// on a context detached from ctx, each bounded by CommitTimeout, so that a
// shutdown does not abort a commit whose records are waiting for their
// answer. Run must be called once.
func (in *Ingest) Run(ctx context.Context) error {
	flushCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range in.cfg.Flushers {
		wg.Go(func() { in.flushLoop(ctx, flushCtx) })
	}
	<-ctx.Done()
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	wg.Wait()
	in.m.queueDepth.Set(0)
	return nil
}

// flushLoop is one flusher: it stores batches until ctx is done, then
// what is left in the queue.
func (in *Ingest) flushLoop(ctx, flushCtx context.Context) {
	batch := make([]Inbound, 0, in.cfg.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			// Once closed is set (under the write lock, so after every
			// Submit in progress) the queue can only shrink: drain it with
			// the other flushers until it is empty. Each flusher sets it
			// itself, before draining, lest it drain and leave while a
			// Submit still gets in.
			in.mu.Lock()
			in.closed = true
			in.mu.Unlock()
			for len(in.queue) > 0 {
				batch = in.fill(batch[:0], false)
				if len(batch) > 0 {
					in.flush(flushCtx, batch)
				}
			}
			return
		case rec := <-in.queue:
			batch = in.fill(append(batch[:0], rec), in.flushing.Load() > 0)
			in.flushing.Add(1)
			in.flush(flushCtx, batch)
			in.flushing.Add(-1)
		}
	}
}

// fill adds to batch what is queued, up to MaxBatch records or MaxWait,
// whichever comes first. With wait false it never waits on an empty
// queue; with wait true (another statement is in flight) it waits for
// records until MaxWait has passed.
func (in *Ingest) fill(batch []Inbound, wait bool) []Inbound {
	deadline := time.Now().Add(in.cfg.MaxWait)
	var timer *time.Timer
	for len(batch) < in.cfg.MaxBatch {
		select {
		case rec := <-in.queue:
			batch = append(batch, rec)
		default:
			if !wait {
				return batch
			}
			if timer == nil {
				timer = time.NewTimer(time.Until(deadline))
				defer timer.Stop()
			}
			select {
			case rec := <-in.queue:
				batch = append(batch, rec)
			case <-timer.C:
				return batch
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	return batch
}

// flush stores one batch and answers every record in it.
func (in *Ingest) flush(ctx context.Context, batch []Inbound) {
	in.m.queueDepth.Set(float64(len(in.queue)))
	in.m.batchRecords.Observe(float64(len(batch)))
	rows := make([]ingestRow, len(batch))
	for i := range batch {
		rows[i] = prepare(&batch[i])
	}
	var c committedIDs
	in.store(ctx, batch, rows, &c)
	if len(c.messages) > 0 && in.onCommitted != nil {
		in.onCommitted(c.messages)
	}
	if len(c.parts) > 0 && in.onParts != nil {
		in.onParts(c.parts)
	}
	if len(c.receipts) > 0 && in.onReceipts != nil {
		in.onReceipts(c.receipts)
	}
}

// committedIDs are the ids of the messages, parts and receipts rows a flush
// committed.
type committedIDs struct{ messages, parts, receipts []int64 }

// store inserts recs (prepared as rows) in one statement. When a statement
// fails because of what is in it (a data or integrity error) the batch is
// split in halves and each half tried again, so that one bad record cannot
// keep its batch-mates from committing; the single record that still fails
// becomes a dead letter. Any other failure — connection, timeout, server
// going away — fails the whole batch with ErrNotCommitted: the SMSC will
// redeliver, which is safe.
func (in *Ingest) store(ctx context.Context, recs []Inbound, rows []ingestRow, committed *committedIDs) {
	ids, err := in.insert(ctx, rows)
	if err == nil {
		for i := range recs {
			if rows[i].kind == kindDead {
				in.m.records.WithLabelValues(OutcomeDead).Inc()
				done(recs[i], fmt.Errorf("%w: %s", ErrDeadLetter, rows[i].deadReason))
				continue
			}
			in.m.records.WithLabelValues(OutcomeCommitted).Inc()
			if recs[i].InvalidChars > 0 {
				in.m.undecodable.Add(float64(recs[i].InvalidChars))
			}
			if rows[i].kind == kindReceipt {
				in.m.countDLR(rows[i].operator, rows[i].dlrState, rows[i].dlr)
			}
			done(recs[i], nil)
			if ids[i].message != 0 {
				committed.messages = append(committed.messages, ids[i].message)
			}
			if ids[i].part != 0 {
				committed.parts = append(committed.parts, ids[i].part)
			}
			if ids[i].receipt != 0 {
				committed.receipts = append(committed.receipts, ids[i].receipt)
			}
		}
		return
	}
	if !recordError(err) {
		in.failAll(recs, err)
		return
	}
	if len(recs) > 1 {
		mid := len(recs) / 2
		in.store(ctx, recs[:mid], rows[:mid], committed)
		in.store(ctx, recs[mid:], rows[mid:], committed)
		return
	}
	// One record that cannot be stored as itself: keep its raw bytes as a
	// dead letter so that the SMSC stops redelivering it and a human can
	// look at it.
	dead := rows[0]
	dead.kind = kindDead
	dead.deadReason = "store: " + errorReason(err)
	dead.msisdn = ""
	dead.part = false
	dead.dlr = false
	in.logger.Warn("inbound record stored as dead letter",
		"operator", dead.operator, "bind", dead.bind, "seq", dead.seq, "reason", dead.deadReason)
	if _, err2 := in.insert(ctx, []ingestRow{dead}); err2 != nil {
		in.failAll(recs, errors.Join(err, err2))
		return
	}
	in.m.records.WithLabelValues(OutcomeDead).Inc()
	done(recs[0], fmt.Errorf("%w: %s", ErrDeadLetter, dead.deadReason))
}

func (in *Ingest) failAll(recs []Inbound, err error) {
	in.m.records.WithLabelValues(OutcomeFailed).Add(float64(len(recs)))
	err = fmt.Errorf("%w: %w", ErrNotCommitted, err)
	for i := range recs {
		done(recs[i], err)
	}
}

// insert stores rows in one statement (an implicit transaction: the
// statement's success, read up to ReadyForQuery, is the commit's) and
// returns, aligned with rows, the ids of each row's new messages or parts
// row (0 for none).
func (in *Ingest) insert(ctx context.Context, rows []ingestRow) ([]rowIDs, error) {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.CommitTimeout)
	defer cancel()
	a := newIngestArgs(len(rows))
	for i := range rows {
		a.add(&rows[i])
	}
	start := time.Now()
	var res []ordID
	pgRows, err := in.db.pool.Query(ctx, ingestSQL, a.args()...)
	if err == nil {
		res, err = pgx.CollectRows(pgRows, func(r pgx.CollectableRow) (ordID, error) {
			var v ordID
			var msg, part, rct *int64
			var matched *bool
			if err := r.Scan(&v.ord, &msg, &part, &rct, &matched); err != nil {
				return v, err
			}
			if rct != nil && (matched == nil || !*matched) {
				v.receipt = *rct
			}
			if msg != nil {
				v.message = *msg
			}
			if part != nil {
				v.part = *part
			}
			return v, nil
		})
	}
	in.m.commitSeconds.Observe(time.Since(start).Seconds())
	if err == nil && len(res) != len(rows) {
		err = fmt.Errorf("stored %d rows of %d", len(res), len(rows))
	}
	if err != nil {
		if !recordError(err) && in.failing.CompareAndSwap(false, true) {
			in.logger.Warn("ingest cannot store; answering 0x64 until it can", "err", err)
		}
		return nil, err
	}
	if in.failing.CompareAndSwap(true, false) {
		in.logger.Info("ingest storing again")
	}
	ids := make([]rowIDs, len(rows))
	for _, r := range res {
		ids[r.ord-1] = r.rowIDs
	}
	return ids, nil
}

// rowIDs are the ids of the messages, parts or receipts row stored for one
// record.
type rowIDs struct{ message, part, receipt int64 }

type ordID struct {
	ord int64
	rowIDs
}

// recordError reports whether err is about the data of the statement (SQLSTATE
// class 22 data exception, 23 integrity constraint violation, 54 program
// limit exceeded), so that storing fewer records may succeed.
func recordError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false
	}
	switch pgErr.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// errorReason describes err for dead_reason: the server's message and
// SQLSTATE, never its detail (which quotes the row, the citizen's number
// and text included).
func errorReason(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	}
	return err.Error()
}

func done(rec Inbound, err error) {
	if rec.Done != nil {
		rec.Done(err)
	}
}

// Inbound kinds, as in the inbound.kind check.
const (
	kindMO      = "mo"
	kindReceipt = "receipt"
	kindDead    = "dead"
)

// ingestRow is an Inbound as it is stored: kind decided, strings clean.
type ingestRow struct {
	receivedAt           time.Time
	operator, bind       string
	command, seq         int64
	sourceAddr           string
	sourceTON, sourceNPI int16
	destAddr             string
	esmClass, dataCoding int16
	kind                 string
	raw                  []byte
	text, alphabet       string
	invalidChars         int32
	deadReason, msisdn   string
	// A part of a concatenated message (see Part).
	part                    bool
	ref                     int32
	refBits, total, partSeq int16
	userData                []byte
	// A parsed receipt (see DLR).
	dlr                     bool
	dlrID, dlrState, dlrErr string
	dlrFinal                bool
	dlrDone                 *time.Time
}

func prepare(rec *Inbound) ingestRow {
	r := ingestRow{
		receivedAt:   rec.ReceivedAt,
		operator:     cleanText(rec.Operator),
		bind:         cleanText(rec.Bind),
		command:      int64(rec.Command),
		seq:          int64(rec.Seq),
		sourceAddr:   cleanText(rec.SourceAddr),
		sourceTON:    int16(rec.SourceTON),
		sourceNPI:    int16(rec.SourceNPI),
		destAddr:     cleanText(rec.DestAddr),
		esmClass:     int16(rec.ESMClass),
		dataCoding:   int16(rec.DataCoding),
		kind:         kindMO,
		raw:          rec.Raw,
		text:         cleanText(rec.Text),
		alphabet:     cleanText(rec.Alphabet),
		invalidChars: int32(min(max(rec.InvalidChars, 0), 1<<31-1)),
		msisdn:       cleanText(rec.MSISDN),
	}
	if r.receivedAt.IsZero() {
		r.receivedAt = time.Now()
	}
	// raw is NOT NULL and pgx sends a nil slice as NULL: an empty PDU
	// must still be storable.
	if r.raw == nil {
		r.raw = []byte{}
	}
	switch {
	case rec.DeadReason != "":
		r.kind, r.deadReason, r.msisdn = kindDead, cleanText(rec.DeadReason), ""
	case rec.Receipt || rec.ESMClass&0x3C != 0:
		r.kind, r.msisdn = kindReceipt, ""
		if d := rec.DLR; d != nil && d.MessageID != "" {
			r.dlr = true
			r.dlrID, r.dlrState, r.dlrErr = cleanText(d.MessageID), cleanText(d.State), cleanText(d.Err)
			r.dlrFinal = d.Final
			if !d.DoneAt.IsZero() {
				t := d.DoneAt
				r.dlrDone = &t
			}
		}
	case rec.Part != nil && rec.Part.Total != 1:
		if reason := partProblem(rec.Part); reason != "" {
			r.kind, r.deadReason, r.msisdn = kindDead, reason, ""
			break
		}
		if r.msisdn == "" {
			break // not a citizen's: kept for the audit only
		}
		p := rec.Part
		r.part = true
		r.ref, r.refBits, r.total, r.partSeq = int32(p.Ref), int16(p.RefBits), int16(p.Total), int16(p.Seq)
		r.userData = p.UserData
		if r.userData == nil {
			r.userData = []byte{}
		}
	}
	if !r.part {
		r.userData = []byte{} // unused, but the array may not hold NULL for bytea's sake
	}
	return r
}

// partProblem says what is impossible about p, or "" when nothing is.
func partProblem(p *Part) string {
	switch {
	case p.Total == 0:
		return "malformed part: total 0"
	case p.Seq == 0 || p.Seq > p.Total:
		return fmt.Sprintf("malformed part: seq %d of %d", p.Seq, p.Total)
	case p.RefBits != 8 && p.RefBits != 16:
		return fmt.Sprintf("malformed part: %d-bit reference", p.RefBits)
	case p.RefBits == 8 && p.Ref > 0xFF:
		return fmt.Sprintf("malformed part: 8-bit reference %d", p.Ref)
	}
	return ""
}

// cleanText returns s as PostgreSQL text can hold it: valid UTF-8 without
// NUL, each bad byte or NUL replaced by U+FFFD so that the damage stays
// visible.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// ingestSQL stores a batch in one statement: the inbound rows, and for each
// citizen's text its messages row, for each part of a citizen's long text
// its parts row, and for each parsed receipt its receipts row, pointing at
// its inbound row. Inbound ids are drawn up front
// (nextval in a materialized CTE) so that every insert and the result can
// refer to them; the result is one row per input, in input order (ord), with
// the message, part and receipt ids or NULLs.
//
// A receipt whose SMSC id names a reply of one segment already recorded
// sent (outbox_segments) is stored matched, and a final one settles that
// reply — delivered, or failed with the receipt's state — in this same
// statement: in service receipts come seconds after the response, so this
// is nearly every receipt, and it needs neither a hand-off to the
// ReceiptMatcher nor a transaction of its own (nor is there anything left
// undone if the daemon dies after the commit). Receipts of longer replies,
// and those that come before their response is recorded, are stored
// unmatched and handed to the matcher (receipts.go).
var ingestSQL = `
WITH r AS MATERIALIZED (
    SELECT nextval('inbound_id_seq') AS inbound_id, u.*
    FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int8[], $5::int8[],
                $6::text[], $7::int2[], $8::int2[], $9::text[], $10::int2[], $11::int2[],
                $12::text[], $13::bytea[], $14::text[], $15::text[], $16::int4[],
                $17::text[], $18::text[],
                $19::bool[], $20::int4[], $21::int2[], $22::int2[], $23::int2[], $24::bytea[],
                $25::bool[], $26::text[], $27::text[], $28::bool[], $29::text[], $30::timestamptz[])
         WITH ORDINALITY AS u(received_at, operator, bind, command, seq,
                              source_addr, source_ton, source_npi, dest_addr, esm_class, data_coding,
                              kind, raw, text, alphabet, invalid_chars,
                              dead_reason, msisdn,
                              is_part, ref, ref_bits, total, part_seq, user_data,
                              is_dlr, dlr_id, dlr_state, dlr_final, dlr_err, dlr_done, ord)
),
ins AS (
    INSERT INTO inbound (id, received_at, operator, bind, command, seq,
                         source_addr, source_ton, source_npi, dest_addr, esm_class, data_coding,
                         kind, raw, text, alphabet, invalid_chars, dead_reason)
    SELECT inbound_id, received_at, operator, bind, command, seq,
           source_addr, source_ton, source_npi, dest_addr, esm_class, data_coding,
           kind, raw, NULLIF(text, ''), NULLIF(alphabet, ''), invalid_chars, NULLIF(dead_reason, '')
    FROM r ORDER BY ord
),
msg AS (
    INSERT INTO messages (inbound_id, operator, source, source_ton, dest, text, received_at)
    SELECT inbound_id, operator, msisdn, source_ton, dest_addr, text, received_at
    FROM r WHERE kind = 'mo' AND msisdn <> '' AND NOT is_part
    ORDER BY ord
    RETURNING id, inbound_id
),
prt AS (
    INSERT INTO parts (inbound_id, operator, source, source_ton, dest, ref, ref_bits, total, seq,
                       data_coding, alphabet, user_data, received_at)
    SELECT inbound_id, operator, msisdn, source_ton, dest_addr, ref, ref_bits, total, part_seq,
           data_coding, alphabet, user_data, received_at
    FROM r WHERE kind = 'mo' AND msisdn <> '' AND is_part
    ORDER BY ord
    RETURNING id, inbound_id
),
rct AS (
    INSERT INTO receipts (inbound_id, operator, message_id, state, final, err, done_at, received_at,
                          outbox_id, matched_at)
    SELECT r.inbound_id, r.operator, r.dlr_id, r.dlr_state, r.dlr_final, NULLIF(r.dlr_err, ''), r.dlr_done,
           r.received_at, seg.outbox_id, CASE WHEN seg.outbox_id IS NOT NULL THEN now() END
    FROM r
    -- One probe per receipt: the newest row that sent this id, if it has
    -- one segment. (A join with a separate CTE of matches was planned as a
    -- nested loop that ran the whole CTE again for every receipt.)
    LEFT JOIN LATERAL (
        SELECT n.outbox_id
        FROM (SELECT s.outbox_id FROM outbox_segments s
              WHERE s.operator = r.operator AND s.smsc_id = r.dlr_id
              ORDER BY s.outbox_id DESC LIMIT 1) n
        JOIN outbox o ON o.id = n.outbox_id
        WHERE cardinality(o.smsc_ids) = 1) seg ON true
    WHERE r.kind = 'receipt' AND r.is_dlr
    ORDER BY r.ord
    RETURNING id, inbound_id, outbox_id, state, final, message_id, err
),
settled AS (
    UPDATE outbox o SET ` + settleByReceipt("x") + `
    FROM (SELECT DISTINCT ON (outbox_id) outbox_id, message_id, state, err FROM rct
          WHERE final AND outbox_id IS NOT NULL
          ORDER BY outbox_id, state = 'DELIVERED', id) x
    WHERE o.id = x.outbox_id AND o.state = 'sent'
)
SELECT r.ord, msg.id, prt.id, rct.id, rct.outbox_id IS NOT NULL FROM r
LEFT JOIN msg USING (inbound_id)
LEFT JOIN prt USING (inbound_id)
LEFT JOIN rct USING (inbound_id)
ORDER BY r.ord`

// ingestArgs are the column arrays of ingestSQL.
type ingestArgs struct {
	receivedAt                                 []time.Time
	operator, bind, sourceAddr, destAddr, kind []string
	text, alphabet, deadReason, msisdn         []string
	command, seq                               []int64
	sourceTON, sourceNPI, esmClass, dataCoding []int16
	raw                                        [][]byte
	invalidChars                               []int32
	isPart                                     []bool
	ref                                        []int32
	refBits, total, partSeq                    []int16
	userData                                   [][]byte
	isDLR, dlrFinal                            []bool
	dlrID, dlrState, dlrErr                    []string
	dlrDone                                    []*time.Time
}

func newIngestArgs(n int) *ingestArgs {
	return &ingestArgs{
		receivedAt: make([]time.Time, 0, n),
		operator:   make([]string, 0, n), bind: make([]string, 0, n),
		sourceAddr: make([]string, 0, n), destAddr: make([]string, 0, n), kind: make([]string, 0, n),
		text: make([]string, 0, n), alphabet: make([]string, 0, n),
		deadReason: make([]string, 0, n), msisdn: make([]string, 0, n),
		command: make([]int64, 0, n), seq: make([]int64, 0, n),
		sourceTON: make([]int16, 0, n), sourceNPI: make([]int16, 0, n),
		esmClass: make([]int16, 0, n), dataCoding: make([]int16, 0, n),
		raw: make([][]byte, 0, n), invalidChars: make([]int32, 0, n),
		isPart: make([]bool, 0, n), ref: make([]int32, 0, n),
		refBits: make([]int16, 0, n), total: make([]int16, 0, n), partSeq: make([]int16, 0, n),
		userData: make([][]byte, 0, n),
		isDLR:    make([]bool, 0, n), dlrFinal: make([]bool, 0, n),
		dlrID: make([]string, 0, n), dlrState: make([]string, 0, n), dlrErr: make([]string, 0, n),
		dlrDone: make([]*time.Time, 0, n),
	}
}

func (a *ingestArgs) add(r *ingestRow) {
	a.receivedAt = append(a.receivedAt, r.receivedAt)
	a.operator = append(a.operator, r.operator)
	a.bind = append(a.bind, r.bind)
	a.command = append(a.command, r.command)
	a.seq = append(a.seq, r.seq)
	a.sourceAddr = append(a.sourceAddr, r.sourceAddr)
	a.sourceTON = append(a.sourceTON, r.sourceTON)
	a.sourceNPI = append(a.sourceNPI, r.sourceNPI)
	a.destAddr = append(a.destAddr, r.destAddr)
	a.esmClass = append(a.esmClass, r.esmClass)
	a.dataCoding = append(a.dataCoding, r.dataCoding)
	a.kind = append(a.kind, r.kind)
	a.raw = append(a.raw, r.raw)
	a.text = append(a.text, r.text)
	a.alphabet = append(a.alphabet, r.alphabet)
	a.invalidChars = append(a.invalidChars, r.invalidChars)
	a.deadReason = append(a.deadReason, r.deadReason)
	a.msisdn = append(a.msisdn, r.msisdn)
	a.isPart = append(a.isPart, r.part)
	a.ref = append(a.ref, r.ref)
	a.refBits = append(a.refBits, r.refBits)
	a.total = append(a.total, r.total)
	a.partSeq = append(a.partSeq, r.partSeq)
	a.userData = append(a.userData, r.userData)
	a.isDLR = append(a.isDLR, r.dlr)
	a.dlrID = append(a.dlrID, r.dlrID)
	a.dlrState = append(a.dlrState, r.dlrState)
	a.dlrFinal = append(a.dlrFinal, r.dlrFinal)
	a.dlrErr = append(a.dlrErr, r.dlrErr)
	a.dlrDone = append(a.dlrDone, r.dlrDone)
}

func (a *ingestArgs) args() []any {
	return []any{a.receivedAt, a.operator, a.bind, a.command, a.seq,
		a.sourceAddr, a.sourceTON, a.sourceNPI, a.destAddr, a.esmClass, a.dataCoding,
		a.kind, a.raw, a.text, a.alphabet, a.invalidChars,
		a.deadReason, a.msisdn,
		a.isPart, a.ref, a.refBits, a.total, a.partSeq, a.userData,
		a.isDLR, a.dlrID, a.dlrState, a.dlrFinal, a.dlrErr, a.dlrDone}
}

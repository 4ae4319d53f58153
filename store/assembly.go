package store

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// GapMarkerFormat is what an assembled text shows where parts never
// arrived (DESIGN.md: an incomplete message is processed with a gap marker,
// never dropped). The %s is the missing part's number, or a range "2–4" for
// several in a row; the %d is the number of parts.
const GapMarkerFormat = "[…bagian %s dari %d tidak diterima…]"

// LateNotePrefix starts the note of the ticket event recorded when a part
// arrives after its message was processed; the part's own text follows.
const LateNotePrefix = "bagian susulan: "

// AssemblyPart is one received part as AssembleText sees it.
type AssemblyPart struct {
	Seq      uint8 // 1..total
	Alphabet text.Alphabet
	UserData []byte // raw, without the UDH
}

// AssembleText is the pure part of reassembly (3GPP TS 23.040 §9.2.3.24.1):
// given the parts received of a message of total parts, it returns the text
// and the sequence numbers that are missing. The raw user data of parts
// that follow each other are joined before decoding, once, because a GSM
// escape or a UTF-16 surrogate pair may straddle two parts; where parts are
// missing the text shows a gap marker (GapMarkerFormat), one per run of
// missing parts. Parts whose Seq is 0 or above total are ignored, and of
// two parts with one Seq the first given wins. A run of parts changes
// alphabet only where its parts do (a phone should never do that; the
// runs are then decoded apart). The result is valid UTF-8 without NUL.
func AssembleText(total uint8, parts []AssemblyPart) (string, []uint8) {
	slots := make([]*AssemblyPart, int(total)+1)
	for i := range parts {
		p := &parts[i]
		if p.Seq == 0 || p.Seq > total || slots[p.Seq] != nil {
			continue
		}
		slots[p.Seq] = p
	}
	var (
		b       strings.Builder
		missing []uint8
		run     []byte
		runAlph text.Alphabet
		inRun   bool
		pending bool // a marker was written last: text after it needs a space
	)
	flush := func() {
		if !inRun {
			return
		}
		s := text.Decode(run, runAlph).Text
		if s != "" {
			if pending {
				b.WriteByte(' ')
			}
			b.WriteString(s)
			pending = false
		}
		run, inRun = run[:0], false
	}
	for seq := 1; seq <= int(total); {
		p := slots[seq]
		if p == nil {
			flush()
			first := seq
			for seq <= int(total) && slots[seq] == nil {
				missing = append(missing, uint8(seq))
				seq++
			}
			which := strconv.Itoa(first)
			if last := seq - 1; last > first {
				which += "–" + strconv.Itoa(last)
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, GapMarkerFormat, which, total)
			pending = true
			continue
		}
		if inRun && p.Alphabet != runAlph {
			flush()
		}
		if !inRun {
			runAlph, inRun = p.Alphabet, true
		}
		run = append(run, p.UserData...)
		seq++
	}
	flush()
	return b.String(), missing
}

// AssemblerConfig tunes reassembly. Zero values take the defaults.
type AssemblerConfig struct {
	// Timeout is how long an assembly waits for its missing parts, from
	// when its first part was looked at, before its message is made with
	// gap markers (60s).
	Timeout time.Duration
	// LateWindow is how long after an assembly closed a part may still be
	// matched to it (1h): a part byte-identical to one it holds is a
	// duplicate (a redelivery), and a part for one of its empty slots is
	// late and joins its message or ticket. Past it a part starts a new
	// assembly, since phones reuse references.
	LateWindow time.Duration
	// Sweep is how often parts and assemblies left behind (by a crash,
	// another instance, an error) are looked at, and timeouts checked (1s).
	Sweep time.Duration
	// Batch is the most parts or assemblies handled in one transaction
	// (256).
	Batch int
	// Linger is how long a wake-up waits for more parts before it
	// assembles (router.DefaultLinger; negative: not at all), so that a
	// burst is handled in a few transactions rather than one per ingest
	// flush.
	Linger time.Duration
}

func (c AssemblerConfig) withDefaults() AssemblerConfig {
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.LateWindow <= 0 {
		c.LateWindow = time.Hour
	}
	if c.Sweep <= 0 {
		c.Sweep = time.Second
	}
	if c.Linger == 0 {
		c.Linger = router.DefaultLinger
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	return c
}

// Assembler puts the parts of long MO back together (DESIGN.md, "Data
// flow": Assembly). The ingest stores each part as a parts row and hands
// its id over in-process (Notify); a periodic sweep takes whatever was left
// behind. Everything is in PostgreSQL, so parts may arrive in any order,
// duplicated, on different binds or instances, and across restarts.
//
// Parts are keyed by (operator, source, dest, ref, total, ref_bits). Every
// change to the assemblies of a key is made holding a transaction-scoped
// advisory lock on the key, taken in a fixed order, so that several
// assemblers — in one process or many — never complete one assembly twice
// nor open two for one key. Parts are claimed with FOR UPDATE SKIP LOCKED.
//
// A part joins the open assembly of its key when its slot there is empty;
// if the slot holds the same bytes it is a duplicate (kept, counted, not
// joined); if it holds other bytes the reference was reused: the open
// assembly is closed with gap markers and the part opens a new one. With no
// open assembly, a part byte-identical to one of a recently closed
// assembly is a duplicate, a part for the empty slot of a recently
// timed-out assembly is late, and any other part opens an assembly. When
// every part is in, the user data is joined in order and decoded once, and
// the messages row is made (pending, for the router) in the same
// transaction. A late part's text goes into its message while that is
// still pending, else into a ticket event of the message's ticket.
type Assembler struct {
	db         *DB
	cfg        AssemblerConfig
	m          *Metrics
	logger     *slog.Logger
	onMessages func(messageIDs []int64)

	mu   sync.Mutex
	ids  []int64
	wake chan struct{}
}

// maxNotified bounds the part ids Notify keeps while the assembler is
// behind; beyond it ids are dropped, and the sweep finds their parts.
const maxNotified = 1 << 16

// NewAssembler returns an assembler on db. onMessages, if not nil, is
// called after each commit with the ids of the messages it made, to hand
// them to processing; it must not block. m may be nil.
func NewAssembler(db *DB, cfg AssemblerConfig, m *Metrics, logger *slog.Logger, onMessages func(messageIDs []int64)) *Assembler {
	if m == nil {
		m = NewMetrics(prometheus.NewRegistry())
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Assembler{
		db:         db,
		cfg:        cfg.withDefaults(),
		m:          m,
		logger:     logger,
		onMessages: onMessages,
		wake:       make(chan struct{}, 1),
	}
}

// Notify hands over the ids of freshly committed parts. It never blocks.
func (a *Assembler) Notify(partIDs []int64) {
	if len(partIDs) == 0 {
		return
	}
	a.mu.Lock()
	if len(a.ids)+len(partIDs) <= maxNotified {
		a.ids = append(a.ids, partIDs...)
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *Assembler) takeIDs() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := min(len(a.ids), a.cfg.Batch)
	ids := append([]int64(nil), a.ids[:n]...)
	a.ids = a.ids[n:]
	if len(a.ids) == 0 {
		a.ids = nil
	}
	return ids
}

// Run assembles until ctx is done. Errors are logged and retried by the
// next sweep: a part stays 'new' until a transaction that handled it
// commits, so nothing is lost by waiting.
func (a *Assembler) Run(ctx context.Context) error {
	tick := time.NewTicker(a.cfg.Sweep)
	defer tick.Stop()
	sweep := true
	for {
		for {
			ids := a.takeIDs()
			if len(ids) == 0 && !sweep {
				break
			}
			n, err := a.Assemble(ctx, ids, sweep)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				a.logger.Warn("assemble parts", "err", err)
				break // the sweep finds the parts again
			}
			sweep = sweep && n >= a.cfg.Batch
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
			router.Linger(ctx, a.cfg.Linger)
		case <-tick.C:
			for {
				n, err := a.Expire(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					a.logger.Warn("expire assemblies", "err", err)
					break
				}
				if n < a.cfg.Batch {
					break
				}
			}
			if err := a.updatePending(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("count pending parts", "err", err)
			}
			sweep = true
		}
	}
}

// updatePending sets sms1708_assembly_parts_pending: parts not yet looked
// at plus parts in open assemblies. It is the database's count, the same
// from every instance.
func (a *Assembler) updatePending(ctx context.Context) error {
	var n int64
	err := a.db.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM parts WHERE state = 'new')
		     + (SELECT count(*) FROM assemblies a JOIN parts p ON p.assembly_id = a.id
		        WHERE a.state = 'open' AND p.state = 'joined')`).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: assembly: %w", err)
	}
	a.m.partsPending.Set(float64(n))
	return nil
}

// Assemble handles, in one transaction, up to Batch new parts: those in
// partIDs, then, when sweep is true, any other new part in id order. It
// returns the number of parts handled. Parts another transaction has
// claimed, or that were handled already, are skipped.
func (a *Assembler) Assemble(ctx context.Context, partIDs []int64, sweep bool) (int, error) {
	if len(partIDs) == 0 && !sweep {
		return 0, nil
	}
	if partIDs == nil {
		partIDs = []int64{}
	}
	tx, err := a.db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: assemble: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	parts, err := claimParts(ctx, tx, partIDs, sweep, a.cfg.Batch)
	if err != nil {
		return 0, err
	}
	if len(parts) == 0 {
		return 0, nil
	}
	keys := make([]assemblyKey, 0, len(parts))
	for _, p := range parts {
		keys = append(keys, p.key)
	}
	w, err := a.load(ctx, tx, keys)
	if err != nil {
		return 0, err
	}
	for _, p := range parts {
		w.place(p)
	}
	res, err := w.write(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("store: assemble: commit: %w", err)
	}
	a.done(res)
	return len(parts), nil
}

// Expire closes, in one transaction, up to Batch open assemblies older than
// Timeout: each becomes a message with gap markers where its parts are
// missing. It returns the number closed.
func (a *Assembler) Expire(ctx context.Context) (int, error) {
	tx, err := a.db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: expire assemblies: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// No row lock here: every change to a key's assemblies is made under
	// its advisory lock, which load takes; load then reads them afresh.
	rows, err := tx.Query(ctx, `
		SELECT operator, source, dest, ref, ref_bits, total FROM assemblies
		WHERE state = 'open' AND opened_at <= now() - make_interval(secs => $1)
		ORDER BY opened_at LIMIT $2`, a.cfg.Timeout.Seconds(), a.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("store: expire assemblies: %w", err)
	}
	keys, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return 0, fmt.Errorf("store: expire assemblies: %w", err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	w, err := a.load(ctx, tx, keys)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ks := range w.keys {
		if o := ks.open; o != nil && o.due {
			w.close(o, stateTimedOut)
			n++
		}
	}
	res, err := w.write(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("store: expire assemblies: commit: %w", err)
	}
	a.done(res)
	return n, nil
}

// done counts what a committed transaction did and hands its messages on.
func (a *Assembler) done(r writeResult) {
	a.m.assemblyCompleted.Add(float64(r.completed))
	a.m.assemblyTimeouts.Add(float64(r.timedOut))
	a.m.assemblyDuplicates.Add(float64(r.duplicates))
	a.m.assemblyLate.Add(float64(r.late))
	if r.lateUnattached > 0 {
		a.logger.Info("late parts kept; their message was processed and opened no ticket", "parts", r.lateUnattached)
	}
	if len(r.messages) > 0 && a.onMessages != nil {
		a.onMessages(r.messages)
	}
}

// Assembly states, as in the assemblies.state check.
const (
	stateOpen     = "open"
	stateComplete = "complete"
	stateTimedOut = "timed_out"
)

// Part states, as in the parts.state check.
const (
	partJoined    = "joined"
	partDuplicate = "duplicate"
	partLate      = "late"
)

// assemblyKey says which message a part belongs to, while its assembly
// is open.
type assemblyKey struct {
	operator, source, dest string
	ref                    int32
	refBits, total         int16
}

// lockID is the advisory lock of the key: a 64-bit hash, the same in every
// instance. A collision only makes two keys wait for each other.
func (k assemblyKey) lockID() int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "sms1708/assembly\x00%s\x00%s\x00%s\x00%d\x00%d\x00%d",
		k.operator, k.source, k.dest, k.ref, k.refBits, k.total)
	return int64(h.Sum64())
}

func scanKey(r pgx.CollectableRow) (assemblyKey, error) {
	var k assemblyKey
	err := r.Scan(&k.operator, &k.source, &k.dest, &k.ref, &k.refBits, &k.total)
	return k, err
}

// partRow is a parts row as the assembler handles it.
type partRow struct {
	id, inboundID int64
	key           assemblyKey
	sourceTON     int16
	seq           int16
	dataCoding    int16
	alphabet      string
	userData      []byte
	receivedAt    time.Time
	state         string // for rows loaded into an assembly: joined or late
}

func (p *partRow) assemblyPart() AssemblyPart {
	a, err := text.ParseAlphabet(p.alphabet)
	if err != nil {
		a = text.AlphabetFor(byte(p.dataCoding), text.GSM7)
	}
	return AssemblyPart{Seq: uint8(p.seq), Alphabet: a, UserData: p.userData}
}

// sameAs reports whether q repeats p byte for byte.
func (p *partRow) sameAs(q *partRow) bool {
	return p.dataCoding == q.dataCoding && string(p.userData) == string(q.userData)
}

const partColumns = `id, inbound_id, operator, source, dest, ref, ref_bits, total,
    source_ton, seq, data_coding, alphabet, user_data, received_at, state`

func scanPart(r pgx.CollectableRow) (*partRow, error) {
	p := &partRow{}
	k := &p.key
	err := r.Scan(&p.id, &p.inboundID, &k.operator, &k.source, &k.dest, &k.ref, &k.refBits, &k.total,
		&p.sourceTON, &p.seq, &p.dataCoding, &p.alphabet, &p.userData, &p.receivedAt, &p.state)
	return p, err
}

// claimParts locks the new parts to handle, in id order (arrival order).
func claimParts(ctx context.Context, tx pgx.Tx, ids []int64, sweep bool, limit int) ([]*partRow, error) {
	var parts []*partRow
	if len(ids) > 0 {
		rows, err := tx.Query(ctx, `SELECT `+partColumns+` FROM parts
			WHERE state = 'new' AND id = ANY($1) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, ids, limit)
		if err == nil {
			parts, err = pgx.CollectRows(rows, scanPart)
		}
		if err != nil {
			return nil, fmt.Errorf("store: assemble: claim: %w", err)
		}
	}
	if sweep && len(parts) < limit {
		rows, err := tx.Query(ctx, `SELECT `+partColumns+` FROM parts
			WHERE state = 'new' AND NOT (id = ANY($1)) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, ids, limit-len(parts))
		var more []*partRow
		if err == nil {
			more, err = pgx.CollectRows(rows, scanPart)
		}
		if err != nil {
			return nil, fmt.Errorf("store: assemble: claim: %w", err)
		}
		parts = append(parts, more...)
		slices.SortFunc(parts, func(a, b *partRow) int { return cmp.Compare(a.id, b.id) })
	}
	return parts, nil
}

// assembly is an assemblies row in the making.
type assembly struct {
	id        int64 // 0 until a new one is given its id in write
	key       assemblyKey
	state     string
	messageID int64
	due       bool // open and older than Timeout
	slots     map[int16]*partRow

	isNew   bool
	closeAs string     // set when this transaction closes it
	late    []*partRow // late parts joined in this transaction
}

// keyState is what one key's assemblies look like.
type keyState struct {
	open   *assembly
	closed []*assembly // recently closed, newest first
}

// work is one transaction's view of the keys it holds locked, and what it
// decided to write.
type work struct {
	a       *Assembler
	keys    map[assemblyKey]*keyState
	updates []partUpdate
	closing []*assembly
	created []*assembly
	late    []*assembly
}

type partUpdate struct {
	part  *partRow
	state string
	asm   *assembly
}

// load locks keys (in a fixed order, so that two transactions can never
// wait for each other) and reads their open and recently closed
// assemblies with the parts that fill them.
func (a *Assembler) load(ctx context.Context, tx pgx.Tx, keys []assemblyKey) (*work, error) {
	w := &work{a: a, keys: make(map[assemblyKey]*keyState, len(keys))}
	var locks []int64
	var ka keyArgs
	for _, k := range keys {
		if _, ok := w.keys[k]; ok {
			continue
		}
		w.keys[k] = &keyState{}
		locks = append(locks, k.lockID())
		ka.add(k)
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	if _, err := tx.Exec(ctx, lockKeysSQL, locks); err != nil {
		return nil, fmt.Errorf("store: assembly: lock: %w", err)
	}
	// Read after the locks: in READ COMMITTED each statement sees what was
	// committed before it began, so this sees every change made by the
	// transactions that held the locks before us.
	rows, err := tx.Query(ctx, loadAssembliesSQL, append(ka.args(), a.cfg.LateWindow.Seconds(), a.cfg.Timeout.Seconds())...)
	if err != nil {
		return nil, fmt.Errorf("store: assembly: load: %w", err)
	}
	asms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*assembly, error) {
		as := &assembly{slots: map[int16]*partRow{}}
		k := &as.key
		var closedAt *time.Time
		err := r.Scan(&as.id, &k.operator, &k.source, &k.dest, &k.ref, &k.refBits, &k.total,
			&as.state, &as.messageID, &as.due, &closedAt)
		return as, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: assembly: load: %w", err)
	}
	byID := make(map[int64]*assembly, len(asms))
	ids := make([]int64, 0, len(asms))
	for _, as := range asms {
		ks := w.keys[as.key]
		if ks == nil {
			continue // the join only matches keys we asked for
		}
		if as.state == stateOpen {
			ks.open = as
		} else {
			ks.closed = append(ks.closed, as)
		}
		byID[as.id] = as
		ids = append(ids, as.id)
	}
	if len(ids) == 0 {
		return w, nil
	}
	rows, err = tx.Query(ctx, `SELECT assembly_id, `+partColumns+` FROM parts
		WHERE assembly_id = ANY($1) AND state IN ('joined', 'late')`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: assembly: load parts: %w", err)
	}
	var asmID int64
	p := &partRow{}
	_, err = pgx.ForEachRow(rows, []any{&asmID, &p.id, &p.inboundID, &p.key.operator, &p.key.source,
		&p.key.dest, &p.key.ref, &p.key.refBits, &p.key.total, &p.sourceTON, &p.seq, &p.dataCoding,
		&p.alphabet, &p.userData, &p.receivedAt, &p.state}, func() error {
		if as := byID[asmID]; as != nil {
			q := *p
			as.slots[q.seq] = &q
		}
		p.userData = nil // pgx reuses a non-nil slice: give each row its own
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: assembly: load parts: %w", err)
	}
	return w, nil
}

// lockKeysSQL takes the advisory locks of the keys in ascending order: the
// sorted subquery feeds the aggregate row by row.
const lockKeysSQL = `SELECT count(pg_advisory_xact_lock(k))
FROM (SELECT k FROM unnest($1::int8[]) AS u(k) ORDER BY k) s`

// loadAssembliesSQL reads the open and the recently closed assemblies of
// some keys, newest first, with whether an open one is due to time out.
// The two halves each walk their own partial index.
const loadAssembliesSQL = `
WITH k AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::int2[], $6::int2[])
        AS k(operator, source, dest, ref, ref_bits, total)
)
SELECT a.id, a.operator, a.source, a.dest, a.ref, a.ref_bits, a.total, a.state,
       coalesce(a.message_id, 0), a.opened_at <= now() - make_interval(secs => $8), a.closed_at
FROM k JOIN assemblies a ON a.operator = k.operator AND a.source = k.source AND a.dest = k.dest
     AND a.ref = k.ref AND a.total = k.total AND a.ref_bits = k.ref_bits AND a.state = 'open'
UNION ALL
SELECT a.id, a.operator, a.source, a.dest, a.ref, a.ref_bits, a.total, a.state,
       coalesce(a.message_id, 0), false, a.closed_at
FROM k JOIN assemblies a ON a.source = k.source AND a.ref = k.ref AND a.operator = k.operator
     AND a.dest = k.dest AND a.total = k.total AND a.ref_bits = k.ref_bits
     AND a.state <> 'open' AND a.closed_at > now() - make_interval(secs => $7)
ORDER BY closed_at DESC NULLS FIRST, id DESC`

// place decides what becomes of a new part (see Assembler).
func (w *work) place(p *partRow) {
	ks := w.keys[p.key]
	if o := ks.open; o != nil {
		s := o.slots[p.seq]
		switch {
		case s == nil:
			w.join(o, p, partJoined)
			if len(o.slots) == int(o.key.total) {
				w.close(o, stateComplete)
			}
			return
		case s.sameAs(p):
			w.updates = append(w.updates, partUpdate{p, partDuplicate, o})
			return
		default:
			// Another text in a filled slot: the phone reused the
			// reference, so the open message will get no more parts.
			w.close(o, stateTimedOut)
		}
	}
	for _, c := range ks.closed {
		if s := c.slots[p.seq]; s != nil && s.sameAs(p) {
			w.updates = append(w.updates, partUpdate{p, partDuplicate, c})
			return
		}
	}
	for _, c := range ks.closed {
		if c.state == stateTimedOut && c.slots[p.seq] == nil {
			w.join(c, p, partLate)
			if c.closeAs == "" {
				if len(c.late) == 0 {
					w.late = append(w.late, c)
				}
				c.late = append(c.late, p)
			}
			return
		}
	}
	n := &assembly{key: p.key, state: stateOpen, isNew: true, slots: map[int16]*partRow{}}
	ks.open = n
	w.created = append(w.created, n)
	w.join(n, p, partJoined)
}

func (w *work) join(as *assembly, p *partRow, state string) {
	p.state = state
	as.slots[p.seq] = p
	w.updates = append(w.updates, partUpdate{p, state, as})
}

// close closes an open assembly: its message is made in write.
func (w *work) close(as *assembly, state string) {
	as.state, as.closeAs = state, state
	ks := w.keys[as.key]
	if ks.open == as {
		ks.open = nil
	}
	ks.closed = append([]*assembly{as}, ks.closed...)
	w.closing = append(w.closing, as)
}

// text is the assembly's text from the parts it holds.
func (as *assembly) text() string {
	parts := make([]AssemblyPart, 0, len(as.slots))
	for _, p := range as.slots {
		parts = append(parts, p.assemblyPart())
	}
	s, _ := AssembleText(uint8(as.key.total), parts)
	return s
}

// last is the part that arrived last: its PDU stands for the message.
func (as *assembly) last() *partRow {
	var l *partRow
	for _, p := range as.slots {
		if l == nil || p.id > l.id {
			l = p
		}
	}
	return l
}

// writeResult is what a transaction did, for metrics and hand-off once it
// has committed.
type writeResult struct {
	messages                              []int64
	completed, timedOut, duplicates, late int
	lateUnattached                        int
}

// write stores what the transaction decided, in a few multi-row
// statements.
func (w *work) write(ctx context.Context, tx pgx.Tx) (writeResult, error) {
	var res writeResult
	if len(w.created) > 0 || len(w.closing) > 0 {
		var aids, mids []int64
		err := tx.QueryRow(ctx, `SELECT
			ARRAY(SELECT nextval('assemblies_id_seq') FROM generate_series(1, $1)),
			ARRAY(SELECT nextval('messages_id_seq') FROM generate_series(1, $2))`,
			len(w.created), len(w.closing)).Scan(&aids, &mids)
		if err != nil {
			return res, fmt.Errorf("store: assembly: draw ids: %w", err)
		}
		for i, as := range w.created {
			as.id = aids[i]
		}
		for i, as := range w.closing {
			as.messageID = mids[i]
		}
	}
	b := &pgx.Batch{}
	var closedExisting int
	if len(w.closing) > 0 {
		var m struct {
			id, inbound                 []int64
			operator, source, dest, txt []string
			ton                         []int16
			at                          []time.Time
		}
		var u struct {
			id, msg []int64
			state   []string
		}
		for _, as := range w.closing {
			l := as.last()
			var at time.Time
			for _, p := range as.slots {
				if p.receivedAt.After(at) {
					at = p.receivedAt
				}
			}
			m.id = append(m.id, as.messageID)
			m.inbound = append(m.inbound, l.inboundID)
			m.operator = append(m.operator, as.key.operator)
			m.source = append(m.source, as.key.source)
			m.dest = append(m.dest, as.key.dest)
			m.txt = append(m.txt, as.text())
			m.ton = append(m.ton, l.sourceTON)
			m.at = append(m.at, at)
			if as.closeAs == stateComplete {
				res.completed++
			} else {
				res.timedOut++
			}
			res.messages = append(res.messages, as.messageID)
			if !as.isNew {
				u.id = append(u.id, as.id)
				u.msg = append(u.msg, as.messageID)
				u.state = append(u.state, as.closeAs)
			}
		}
		b.Queue(`INSERT INTO messages (id, inbound_id, operator, source, source_ton, dest, text, received_at)
			SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::int2[], $6::text[], $7::text[], $8::timestamptz[])`,
			m.id, m.inbound, m.operator, m.source, m.ton, m.dest, m.txt, m.at)
		if len(u.id) > 0 {
			closedExisting = len(u.id)
			// Before the new assemblies are inserted: one of them may open
			// the key this closes, and only one may be open per key.
			b.Queue(`UPDATE assemblies a SET state = u.state, message_id = u.msg, closed_at = now()
				FROM unnest($1::int8[], $2::text[], $3::int8[]) AS u(id, state, msg)
				WHERE a.id = u.id AND a.state = 'open'`, u.id, u.state, u.msg).Exec(func(ct pgconn.CommandTag) error {
				if int(ct.RowsAffected()) != closedExisting {
					return fmt.Errorf("closed %d open assemblies of %d: another transaction changed them", ct.RowsAffected(), closedExisting)
				}
				return nil
			})
		}
	}
	if len(w.created) > 0 {
		var ka keyArgs
		var id, msg []int64
		var state []string
		for _, as := range w.created {
			ka.add(as.key)
			id = append(id, as.id)
			msg = append(msg, as.messageID)
			state = append(state, as.state)
		}
		b.Queue(`INSERT INTO assemblies (id, operator, source, dest, ref, ref_bits, total, state, message_id, closed_at)
			SELECT u.id, u.operator, u.source, u.dest, u.ref, u.ref_bits, u.total, u.state, NULLIF(u.msg, 0),
			       CASE WHEN u.state = 'open' THEN NULL ELSE now() END
			FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::int2[], $6::int2[],
			            $7::int8[], $8::text[], $9::int8[])
			     AS u(operator, source, dest, ref, ref_bits, total, id, state, msg)`,
			append(ka.args(), id, state, msg)...)
	}
	if len(w.updates) > 0 {
		var id, asm []int64
		var state []string
		for _, u := range w.updates {
			id = append(id, u.part.id)
			asm = append(asm, u.asm.id)
			state = append(state, u.state)
			switch u.state {
			case partDuplicate:
				res.duplicates++
			case partLate:
				res.late++
			}
		}
		b.Queue(`UPDATE parts p SET state = u.state, assembly_id = u.asm
			FROM unnest($1::int8[], $2::text[], $3::int8[]) AS u(id, state, asm)
			WHERE p.id = u.id AND p.state = 'new'`, id, state, asm)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return res, fmt.Errorf("store: assembly: %w", err)
		}
	}
	n, err := w.writeLate(ctx, tx)
	if err != nil {
		return res, err
	}
	res.lateUnattached = n
	return res, nil
}

// writeLate puts late parts where a reader will see them: into the message
// of their assembly while it is still pending (its text is made again,
// with the part in its place), else into a ticket event of the ticket the
// message opened. It returns the number of late parts whose message opened
// no ticket: they are kept, with nothing more to do.
func (w *work) writeLate(ctx context.Context, tx pgx.Tx) (int, error) {
	if len(w.late) == 0 {
		return 0, nil
	}
	var ids []int64
	var texts []string
	for _, as := range w.late {
		ids = append(ids, as.messageID)
		texts = append(texts, as.text())
	}
	// A message the router has claimed is locked: this waits for its
	// transaction and then finds it processed. The ticket is then looked
	// up by a later statement, which sees that transaction's commit.
	rows, err := tx.Query(ctx, `UPDATE messages m SET text = u.text
		FROM unnest($1::int8[], $2::text[]) AS u(id, text)
		WHERE m.id = u.id AND m.state = 'pending' RETURNING m.id`, ids, texts)
	if err != nil {
		return 0, fmt.Errorf("store: assembly: late parts: %w", err)
	}
	updated, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("store: assembly: late parts: %w", err)
	}
	var msg []int64
	var notes []string
	for _, as := range w.late {
		if slices.Contains(updated, as.messageID) {
			continue
		}
		for _, p := range as.late {
			msg = append(msg, as.messageID)
			notes = append(notes, LateNotePrefix+text.Decode(p.userData, p.assemblyPart().Alphabet).Text)
		}
	}
	if len(msg) == 0 {
		return 0, nil
	}
	ct, err := tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, state, actor, note)
		SELECT t.id, t.state, $3, u.note
		FROM unnest($1::int8[], $2::text[]) WITH ORDINALITY AS u(message_id, note, ord)
		JOIN tickets t ON t.message_id = u.message_id
		ORDER BY u.ord`, msg, notes, EventActor)
	if err != nil {
		return 0, fmt.Errorf("store: assembly: late parts: %w", err)
	}
	return len(msg) - int(ct.RowsAffected()), nil
}

// keyArgs are keys as column arrays.
type keyArgs struct {
	operator, source, dest []string
	ref                    []int32
	refBits, total         []int16
}

func (ka *keyArgs) add(k assemblyKey) {
	ka.operator = append(ka.operator, k.operator)
	ka.source = append(ka.source, k.source)
	ka.dest = append(ka.dest, k.dest)
	ka.ref = append(ka.ref, k.ref)
	ka.refBits = append(ka.refBits, k.refBits)
	ka.total = append(ka.total, k.total)
}

func (ka *keyArgs) args() []any {
	return []any{ka.operator, ka.source, ka.dest, ka.ref, ka.refBits, ka.total}
}

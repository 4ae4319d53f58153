package router

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// DispatcherConfig tunes the outbox dispatcher.
type DispatcherConfig struct {
	Batch       int           // rows claimed at once; default 256
	Concurrency int           // sends in flight at once across operators; default 64
	Lease       time.Duration // a claimed row comes back to the pool after this; default SendTimeout+15s
	SendTimeout time.Duration // one send, waiting for window, budget and response; default 30s
	Poll        time.Duration // how often to look for due rows without a wake-up; default 1s
}

func (c *DispatcherConfig) defaults() {
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	// A lease shorter than a send (plus the time to record its outcome)
	// would let a second dispatcher send the same row while the first is
	// still waiting for its response. Longer than that only delays the
	// resend of a row whose dispatcher crashed mid-send.
	if floor := c.SendTimeout + 15*time.Second; c.Lease < floor {
		c.Lease = floor
	}
}

// ErrNoOperator is the send error for an outbox row whose operator has no
// Sender in this instance: the row waits for a later attempt.
var ErrNoOperator = errors.New("router: no sender for operator")

// ErrHandoffLapsed is the send error for a row handed over by the
// processor that waited in this instance too long to be sent within its
// lease: it goes back to the pool for a later attempt.
var ErrHandoffLapsed = errors.New("router: handed-over reply waited too long to be sent within its lease")

// ErrShuttingDown is the send error for a handed-over row the dispatcher
// stopped before sending: it goes back to the pool at once rather than
// waiting for its lease to run out.
var ErrShuttingDown = errors.New("router: dispatcher stopped before sending")

// ErrOperatorDown is the send error for a row whose operator has no bind
// that can send: it is retried later without holding a send slot, so that
// one operator down cannot starve the others.
var ErrOperatorDown = errors.New("router: operator has no bind up that can send")

// leaseReleaser is implemented by outboxes that can give back, at start,
// the rows this instance leased before it last stopped (store.DB).
type leaseReleaser interface {
	ReleaseLeases(ctx context.Context) (int, error)
}

// canSend is implemented by senders that can tell whether they can send at
// all (smpp.Operator: a transceiver or a transmitter is bound).
type canSend interface{ CanSend() bool }

// PermanentError marks a send error that retrying cannot cure (the SMSC
// refused the destination for good). Senders wrap such errors in it.
type PermanentError interface {
	error
	Permanent() bool
}

// Dispatcher sends the outbox: it claims due rows, sends each through the
// operator it names, and records the outcome. Rows are leased, so several
// dispatchers may share one outbox; a crash between a send and its record
// can send a row twice (the one duplicate an SMS gateway cannot rule out),
// never lose it.
//
// Replies the processor queues are usually not claimed at all: the
// processing transaction stores them already leased and hands them over
// in-process (HandoffLease, Handoff), which spares the database a claim —
// one statement, one commit and one row version per reply — on the hot
// path. Claims remain for retries, for rows left by a crash or another
// instance, and for replies queued while the hand-over queue was full.
type Dispatcher struct {
	outbox  Outbox
	senders atomic.Pointer[map[string]Sender]
	cfg     DispatcherConfig
	metrics *Metrics
	logger  *slog.Logger
	wake    chan struct{}
	due     atomic.Bool // rows were queued pending: claim

	hmu     sync.Mutex
	handed  []OutboxItem // leased rows handed over, oldest first
	running bool         // Run is taking hand-overs
}

// handoffMargin is kept between a handed-over row's last moment to start
// a send (SendBy) plus a whole send and the end of its lease, for the
// record of the outcome.
const handoffMargin = 5 * time.Second

// handoffQueue bounds the rows waiting in the hand-over queue, in units
// of Concurrency: a queue that long drains in seconds at any operator
// contract (four rounds of sends), far inside the few seconds a handed-over
// row may wait (see SendBy).
const handoffQueue = 4

// HandoffLease tells the processor whether to queue n new replies leased
// for a hand-over, and for how long: the dispatcher's lease while it runs
// and its hand-over queue is empty or has room for them, else zero (queue
// them pending; they are claimed).
func (d *Dispatcher) HandoffLease(n int) time.Duration {
	d.hmu.Lock()
	defer d.hmu.Unlock()
	if !d.running || (len(d.handed) > 0 && len(d.handed)+n > handoffQueue*d.cfg.Concurrency) {
		return 0
	}
	return d.cfg.Lease
}

// Handoff takes rows the processor stored leased (with HandoffLease's
// lease) in a transaction that began at leasedAt or later, and sends them
// as soon as a slot is free. It never blocks. Rows handed after Run has
// stopped stay leased and are claimed again when their lease runs out.
func (d *Dispatcher) Handoff(items []OutboxItem, leasedAt time.Time) {
	if len(items) == 0 {
		return
	}
	sendBy := leasedAt.Add(d.cfg.Lease - d.cfg.SendTimeout - handoffMargin)
	d.hmu.Lock()
	if !d.running {
		d.hmu.Unlock()
		return
	}
	for _, it := range items {
		it.SendBy = sendBy
		d.handed = append(d.handed, it)
	}
	d.hmu.Unlock()
	d.poke()
}

// takeHanded returns up to n handed-over rows still in time, and the ones
// that lapsed.
func (d *Dispatcher) takeHanded(n int, now time.Time) (live, lapsed []OutboxItem) {
	d.hmu.Lock()
	defer d.hmu.Unlock()
	i := 0
	for ; i < len(d.handed) && len(live) < n; i++ {
		if it := d.handed[i]; now.After(it.SendBy) {
			lapsed = append(lapsed, it)
		} else {
			live = append(live, it)
		}
	}
	d.handed = d.handed[i:]
	if len(d.handed) == 0 {
		d.handed = nil
	}
	return live, lapsed
}

// stopHandoff ends the hand-overs and returns the rows still waiting.
func (d *Dispatcher) stopHandoff() []OutboxItem {
	d.hmu.Lock()
	defer d.hmu.Unlock()
	d.running = false
	left := d.handed
	d.handed = nil
	return left
}

// NewDispatcher returns a dispatcher over outbox, sending through senders
// (by operator name).
func NewDispatcher(outbox Outbox, senders map[string]Sender, cfg DispatcherConfig, m *Metrics, logger *slog.Logger) *Dispatcher {
	cfg.defaults()
	d := &Dispatcher{outbox: outbox, cfg: cfg, metrics: m, logger: logger, wake: make(chan struct{}, 1)}
	s := maps.Clone(senders)
	d.senders.Store(&s)
	return d
}

// Notify wakes the dispatcher: rows were queued pending, to be claimed.
// It never blocks.
func (d *Dispatcher) Notify() {
	d.due.Store(true)
	d.poke()
}

// poke wakes the run loop without asking for a claim: a slot was freed or
// rows were handed over.
func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx is done. Sends in flight when ctx ends are
// cancelled and their rows recorded for retry.
func (d *Dispatcher) Run(ctx context.Context) error {
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	sem := make(chan struct{}, d.cfg.Concurrency)
	results := make(chan SendResult, d.cfg.Concurrency)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.recordLoop(ctx, results)
	}()
	var wg sync.WaitGroup
	// Give back what this instance had leased before it last stopped —
	// none of it can be in flight now — before it takes any new lease
	// (hand-overs start once running is set), so that nothing leased from
	// now on is given back.
	if r, ok := d.outbox.(leaseReleaser); ok {
		if n, err := r.ReleaseLeases(ctx); err != nil {
			d.logger.Warn("give back leases of an earlier run; they are sent again when their leases run out", "err", err)
		} else if n > 0 {
			d.logger.Info("gave back replies leased by an earlier run of this instance", "rows", n)
		}
	}
	d.hmu.Lock()
	d.running = true
	d.hmu.Unlock()
	// Order matters on the way out: stop taking hand-overs and give back
	// those not sent, wait for every send, then let the recorder flush
	// their outcomes before Run returns.
	defer func() {
		for _, it := range d.stopHandoff() {
			results <- d.giveBack(it, ErrShuttingDown)
		}
		wg.Wait()
		close(results)
		<-recorded
	}()
	// claim says rows may be due in the outbox: at the start (an earlier
	// run's), when told (Notify), on every poll (retries, other
	// instances), and while claims come back full. A freed slot or a
	// hand-over alone does not query the database.
	claim := true
	for ctx.Err() == nil {
		// Take only as many rows as there is room to send, so that a row
		// never sits leased behind a slow operator. Claims, when rows may
		// be due, get at least half the free slots — rows queued pending
		// are older than any hand-over and must not starve behind a
		// stream of them — and hand-overs the rest (their lease is
		// running); a full claim loops at once for more.
		if d.due.Swap(false) {
			claim = true
		}
		free := d.cfg.Concurrency - len(sem)
		var items []OutboxItem
		want, claimed := 0, 0
		if free > 0 && claim {
			want = min(max(free/2, 1), d.cfg.Batch)
			more, err := d.outbox.ClaimOutbox(ctx, want, d.cfg.Lease)
			if err != nil && ctx.Err() == nil {
				d.logger.Warn("claim outbox", "err", err)
			}
			items, claimed = more, len(more)
			claim = claimed == want // a full claim: more may be due
		}
		if free-claimed > 0 {
			live, lapsed := d.takeHanded(free-claimed, time.Now())
			for _, it := range lapsed {
				results <- d.giveBack(it, ErrHandoffLapsed)
			}
			items = append(items, live...)
		}
		for _, it := range items {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A freed slot wakes the loop: with every slot busy it
				// claimed nothing and sleeps until a wake or the next poll,
				// which would cap sending at one batch per poll interval.
				defer d.poke()
				defer func() { <-sem }()
				results <- d.send(ctx, it)
			}()
		}
		if claimed > 0 && claimed == want {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-tick.C:
			claim = true
		}
	}
	return nil
}

// giveBack is the result of a handed-over row that is not sent: a
// temporary failure, so that the row is due again soon.
func (d *Dispatcher) giveBack(it OutboxItem, err error) SendResult {
	res := SendResult{ID: it.ID, Operator: it.Operator, Err: err}
	d.count(it.Operator, res)
	return res
}

func (d *Dispatcher) send(ctx context.Context, it OutboxItem) SendResult {
	s, ok := (*d.senders.Load())[it.Operator]
	if !ok {
		res := SendResult{ID: it.ID, Operator: it.Operator, Err: ErrNoOperator}
		d.count(it.Operator, res)
		return res
	}
	if c, ok := s.(canSend); ok && !c.CanSend() {
		res := SendResult{ID: it.ID, Operator: it.Operator, Err: ErrOperatorDown}
		d.count(it.Operator, res)
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	ids, err := s.Send(ctx, it.From, it.To, it.Text)
	res := SendResult{ID: it.ID, Operator: it.Operator, MessageIDs: ids, Err: err}
	var pe PermanentError
	if errors.As(err, &pe) && pe.Permanent() {
		res.Permanent = true
	}
	d.count(it.Operator, res)
	return res
}

func (d *Dispatcher) count(operator string, r SendResult) {
	outcome := MTSent
	switch {
	case errors.Is(r.Err, ErrNoOperator):
		outcome = MTNoRoute
	case r.Err != nil && r.Permanent:
		outcome = MTFailed
	case r.Err != nil:
		outcome = MTRetry
	}
	d.metrics.mt.WithLabelValues(operator, outcome).Inc()
	if r.Err != nil {
		d.logger.Warn("send reply", "operator", operator, "outbox_id", r.ID, "outcome", outcome, "err", r.Err)
	}
}

// recordLoop stores outcomes in batches: whatever has arrived since the
// last write goes in one call. It outlives ctx until results is closed, so
// that a send that went out just before shutdown is recorded as sent
// rather than sent again.
func (d *Dispatcher) recordLoop(ctx context.Context, results <-chan SendResult) {
	batch := make([]SendResult, 0, d.cfg.Batch)
	for r := range results {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < d.cfg.Batch {
			select {
			case r, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		d.record(ctx, batch)
	}
}

// recordRetryAfterStop bounds the retries of recording outcomes once the
// dispatcher has been told to stop.
const recordRetryAfterStop = 5 * time.Second

// record stores a batch of outcomes, retrying while the store fails
// (PostgreSQL restarting, say) for as long as the rows' leases leave
// (Lease − SendTimeout after the send: the least any of them has left), or
// recordRetryAfterStop once ctx has ended. A row whose outcome is never
// recorded is sent again when its lease runs out — the one duplicate an SMS
// gateway cannot rule out — so every retry that succeeds is a reply the
// citizen does not get twice. Meanwhile new outcomes queue and the sends
// that produce them wait: sending what cannot be recorded only makes
// more duplicates. Recording twice is harmless (only rows still 'sending'
// change).
func (d *Dispatcher) record(ctx context.Context, batch []SendResult) {
	start := time.Now()
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := d.outbox.CompleteOutbox(rctx, batch)
		cancel()
		if err == nil {
			if attempt > 1 {
				d.logger.Info("recorded send outcomes after retrying", "rows", len(batch), "attempts", attempt)
			}
			return
		}
		limit := d.cfg.Lease - d.cfg.SendTimeout
		if ctx.Err() != nil {
			limit = min(limit, recordRetryAfterStop)
		}
		if time.Since(start)+wait > limit {
			// The leases run out and the rows are sent again: duplicates,
			// not losses.
			d.logger.Error("record send outcomes; their rows will be sent again", "rows", len(batch), "attempts", attempt, "err", err)
			return
		}
		if attempt == 1 {
			d.logger.Warn("record send outcomes; retrying", "rows", len(batch), "err", err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

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

// ErrOperatorDown is the send error for a row whose operator has no bind
// that can send: it is retried later without holding a send slot, so that
// one operator down cannot starve the others.
var ErrOperatorDown = errors.New("router: operator has no bind up that can send")

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
type Dispatcher struct {
	outbox  Outbox
	senders atomic.Pointer[map[string]Sender]
	cfg     DispatcherConfig
	metrics *Metrics
	logger  *slog.Logger
	wake    chan struct{}
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

// Notify wakes the dispatcher: rows were queued. It never blocks.
func (d *Dispatcher) Notify() {
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
	// Order matters on the way out: wait for every send, then let the
	// recorder flush their outcomes before Run returns.
	defer func() {
		wg.Wait()
		close(results)
		<-recorded
	}()
	for {
		// Claim only as many rows as there is room to send, so that a row
		// never sits leased behind a slow operator.
		free := d.cfg.Concurrency - len(sem)
		var items []OutboxItem
		if free > 0 {
			var err error
			items, err = d.outbox.ClaimOutbox(ctx, min(free, d.cfg.Batch), d.cfg.Lease)
			if err != nil && ctx.Err() == nil {
				d.logger.Warn("claim outbox", "err", err)
			}
		}
		for _, it := range items {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A freed slot wakes the loop: with every slot busy it
				// claimed nothing and sleeps until a wake or the next poll,
				// which would cap sending at one batch per poll interval.
				defer d.Notify()
				defer func() { <-sem }()
				results <- d.send(ctx, it)
			}()
		}
		if len(items) > 0 && len(items) == min(free, d.cfg.Batch) {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-tick.C:
		}
	}
}

func (d *Dispatcher) send(ctx context.Context, it OutboxItem) SendResult {
	s, ok := (*d.senders.Load())[it.Operator]
	if !ok {
		res := SendResult{ID: it.ID, Err: ErrNoOperator}
		d.count(it.Operator, res)
		return res
	}
	if c, ok := s.(canSend); ok && !c.CanSend() {
		res := SendResult{ID: it.ID, Err: ErrOperatorDown}
		d.count(it.Operator, res)
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	ids, err := s.Send(ctx, it.From, it.To, it.Text)
	res := SendResult{ID: it.ID, MessageIDs: ids, Err: err}
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
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := d.outbox.CompleteOutbox(rctx, batch); err != nil {
			// The leases run out and the rows are sent again: duplicates,
			// not losses.
			d.logger.Error("record send outcomes", "rows", len(batch), "err", err)
		}
		cancel()
	}
}

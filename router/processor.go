package router

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ProcessorConfig tunes message processing.
type ProcessorConfig struct {
	Batch     int           // messages per transaction; default 256
	Sweep     time.Duration // how often to claim messages left behind (crash, another instance); default 1s
	ShortCode string        // our short code, the sender of replies; default "1708"
	TriageID  string        // the national triage desk's agency id; default "lapor-nasional"
}

func (c *ProcessorConfig) defaults() {
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Sweep <= 0 {
		c.Sweep = time.Second
	}
	if c.ShortCode == "" {
		c.ShortCode = "1708"
	}
	if c.TriageID == "" {
		c.TriageID = "lapor-nasional"
	}
}

// Processor turns committed messages into tickets and replies. The ingest
// hands it freshly committed ids in-process (Notify), so the hot path has no
// polling delay; a periodic sweep claims whatever was left behind. Several
// processors, in one instance or many, may run against one database: the
// store claims with SKIP LOCKED and processing is idempotent per message.
type Processor struct {
	store   Store
	cfg     ProcessorConfig
	tpl     atomic.Pointer[Templates]
	metrics *Metrics
	logger  *slog.Logger
	queued  func() // told when replies were queued (wakes the dispatcher)
	flood   *Flood // nil: no per-number limits

	mu   sync.Mutex
	ids  []int64
	wake chan struct{}
}

// NewProcessor returns a processor over s. onQueued, if not nil, is called
// after a transaction queued replies.
func NewProcessor(s Store, cfg ProcessorConfig, tpl Templates, m *Metrics, logger *slog.Logger, onQueued func()) *Processor {
	cfg.defaults()
	p := &Processor{
		store:   s,
		cfg:     cfg,
		metrics: m,
		logger:  logger,
		queued:  onQueued,
		wake:    make(chan struct{}, 1),
	}
	p.tpl.Store(&tpl)
	return p
}

// SetFlood installs per-number reply limits. Call it before Run.
func (p *Processor) SetFlood(f *Flood) { p.flood = f }

// SetTemplates swaps the reply templates (after a reload validated them).
func (p *Processor) SetTemplates(t Templates) { p.tpl.Store(&t) }

// Notify hands over the ids of freshly committed messages. It never blocks.
func (p *Processor) Notify(ids []int64) {
	if len(ids) == 0 {
		return
	}
	p.mu.Lock()
	p.ids = append(p.ids, ids...)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Processor) requeue(ids []int64) {
	p.mu.Lock()
	p.ids = append(ids, p.ids...)
	p.mu.Unlock()
}

func (p *Processor) takeIDs() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(len(p.ids), p.cfg.Batch)
	ids := append([]int64(nil), p.ids[:n]...)
	p.ids = p.ids[n:]
	if len(p.ids) == 0 {
		p.ids = nil // let the backing array go after a burst
	}
	return ids
}

// Run processes until ctx is done. Errors from the store are logged and
// retried on the next wake or sweep: a message stays pending until it is
// processed, so nothing is lost by waiting.
func (p *Processor) Run(ctx context.Context) error {
	tick := time.NewTicker(p.cfg.Sweep)
	defer tick.Stop()
	sweep := true // claim what an earlier run left behind at once
	for {
		for {
			ids := p.takeIDs()
			if len(ids) == 0 && !sweep {
				break
			}
			n, err := p.processOnce(ctx, ids, sweep)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.logger.Warn("process messages", "err", err)
				// Put the ids back without waking up: retry on the next
				// sweep tick rather than spin while the store is down.
				p.requeue(ids)
				break
			}
			// Keep sweeping while batches come back full: a backlog.
			sweep = sweep && n >= p.cfg.Batch
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-tick.C:
			sweep = true
		}
	}
}

func (p *Processor) processOnce(ctx context.Context, ids []int64, sweep bool) (int, error) {
	start := time.Now()
	decisions, err := p.store.Process(ctx, ids, p.cfg.Batch, sweep, func(msgs []Message) []Decision {
		return p.decide(ctx, msgs)
	})
	if err != nil {
		p.metrics.processErrors.Inc()
		return 0, err
	}
	p.metrics.processSeconds.Observe(time.Since(start).Seconds())
	replies := 0
	for _, d := range decisions {
		p.metrics.messages.WithLabelValues(d.Outcome).Inc()
		if d.Ticket != nil {
			p.metrics.tickets.Inc()
		}
		replies += len(d.Replies)
	}
	if replies > 0 && p.queued != nil {
		p.queued()
	}
	return len(decisions), nil
}

// Decide is the pure part of processing: what each message becomes. For now
// every complaint is a ticket for the national triage desk ("no wrong door":
// when the right agency cannot be told, the triage desk, never nowhere).
func (p *Processor) Decide(msgs []Message) []Decision {
	return p.decide(context.Background(), msgs)
}

func (p *Processor) decide(ctx context.Context, msgs []Message) []Decision {
	tpl := *p.tpl.Load()
	// Count every message against its number's limits before deciding; a
	// message over the limit is still processed, only its replies are held.
	nums := make([]string, len(msgs))
	for i, m := range msgs {
		nums[i] = m.Source
	}
	allowed := p.flood.Allow(ctx, nums)
	out := make([]Decision, 0, len(msgs))
	for i, m := range msgs {
		d := p.decideOne(tpl, m)
		if !allowed[i] && len(d.Replies) > 0 {
			d.RepliesHeld = len(d.Replies)
			d.Replies = nil
			// The message row says so, for operators and the end-state
			// checks: "ticket_held" is a ticket whose acknowledgement was
			// held back by flood control.
			d.Outcome += HeldSuffix
		}
		out = append(out, d)
	}
	return out
}

// Outcomes of processing a message (a fixed set: a metric label). Each may
// carry HeldSuffix when flood control held its replies back.
const (
	OutcomeTicket = "ticket"
	OutcomeHelp   = "help"
	HeldSuffix    = "_held"
)

func (p *Processor) decideOne(tpl Templates, m Message) Decision {
	d := Decision{MessageID: m.ID}
	// Replies go only to a number a reply can reach; the ingest leaves
	// Source empty for alphanumeric senders and short codes.
	reply := func(kind, text string) {
		if m.Source == "" {
			return
		}
		d.Replies = append(d.Replies, Reply{
			Kind:     kind,
			Operator: m.Operator,
			To:       m.Source,
			From:     p.cfg.ShortCode,
			Text:     text,
		})
	}
	if strings.TrimSpace(m.Text) == "" {
		d.Outcome = OutcomeHelp
		reply(ReplyHelp, tpl.Render(ReplyHelp, ""))
		return d
	}
	n := NewTicketNumber()
	d.Outcome = OutcomeTicket
	d.Ticket = &Ticket{
		Number:   n,
		MSISDN:   m.Source,
		Operator: m.Operator,
		AgencyID: p.cfg.TriageID,
		State:    StateDiterima,
		Text:     m.Text,
	}
	d.Event = "diterima via SMS " + m.Operator
	reply(ReplyAck, tpl.Render(ReplyAck, n))
	return d
}

package router

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sp4n-lapor/sms1708/parser"
)

// ProcessorConfig tunes message processing.
type ProcessorConfig struct {
	Batch     int           // messages per transaction; default 256
	Sweep     time.Duration // how often to claim messages left behind (crash, another instance); default 1s
	ShortCode string        // our short code, the sender of replies; default "1708"
	TriageID  string        // the national triage desk's agency id; default "lapor-nasional"
	// DedupWindow: the same complaint from the same number within it is
	// linked to the first ticket instead of opening another; default 24h.
	DedupWindow time.Duration
	Clock       Clock // default the wall clock
	// Linger is how long a wake-up waits for more messages before it
	// claims (DefaultLinger; negative: not at all). Under load it turns
	// many small transactions into a few larger ones, leaving the
	// database's time to the ingest, whose commits the citizens' acks
	// wait for; it delays a reply by no more than itself.
	Linger time.Duration
}

// DefaultLinger is the default wait of a wake-up for more work (see
// ProcessorConfig.Linger). At 1,000 MO/s on two cores, 40 ms rather than
// 10 ms took about 6% off the database's CPU, for up to 5 ms more from MO
// to reply at the median (docs/BENCHMARKS.md); 100 ms gained no more.
const DefaultLinger = 40 * time.Millisecond

// Linger waits d, or until ctx ends: a wake-up gathers the work arriving
// in the same burst before it is taken in one batch.
func Linger(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (c *ProcessorConfig) defaults() {
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Sweep <= 0 {
		c.Sweep = time.Second
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.ShortCode == "" {
		c.ShortCode = "1708"
	}
	if c.TriageID == "" {
		c.TriageID = TriageAgency
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = 24 * time.Hour
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
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
	cls     atomic.Pointer[Classifier] // nil: no routing configured, every complaint to triage
	clock   Clock
	metrics *Metrics
	logger  *slog.Logger
	queued  func() // told when replies were queued pending (wakes the dispatcher)
	flood   *Flood // nil: no per-number limits
	handoff Handoff

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
		clock:   cfg.Clock,
	}
	p.tpl.Store(&tpl)
	return p
}

// Handoff takes replies straight from processing to sending: the store
// queues them already leased to this instance (Reply.Lease), and they are
// handed over in-process once the transaction has committed. The
// Dispatcher implements it.
type Handoff interface {
	// HandoffLease is the lease to queue n new replies with, or zero when
	// they should be queued pending instead.
	HandoffLease(n int) time.Duration
	// Handoff takes the rows stored leased by a transaction that began at
	// leasedAt or later.
	Handoff(items []OutboxItem, leasedAt time.Time)
}

// SetHandoff makes processing hand its replies to h (see Handoff). Call
// it before Run.
func (p *Processor) SetHandoff(h Handoff) { p.handoff = h }

// SetFlood installs per-number reply limits. Call it before Run.
func (p *Processor) SetFlood(f *Flood) { p.flood = f }

// SetClassifier swaps the classifier (at start and after a reload
// validated the routing files); work in flight finishes with the old one.
func (p *Processor) SetClassifier(c *Classifier) { p.cls.Store(c) }

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

func (p *Processor) queuedIDs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids)
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
			if p.queuedIDs() < p.cfg.Batch {
				Linger(ctx, p.cfg.Linger)
			}
		case <-tick.C:
			sweep = true
		}
	}
}

func (p *Processor) processOnce(ctx context.Context, ids []int64, sweep bool) (int, error) {
	start := time.Now()
	decisions, err := p.store.Process(ctx, ids, p.cfg.Batch, sweep, func(lk Lookup, msgs []Message) ([]Decision, error) {
		ds, err := p.decide(ctx, lk, msgs)
		if err == nil && p.handoff != nil {
			leaseReplies(ds, p.handoff)
		}
		return ds, err
	})
	if err != nil {
		p.metrics.processErrors.Inc()
		return 0, err
	}
	p.metrics.processSeconds.Observe(time.Since(start).Seconds())
	pending := 0
	var handed []OutboxItem
	for _, d := range decisions {
		p.metrics.messages.WithLabelValues(d.Outcome).Inc()
		if d.Ticket != nil {
			p.metrics.tickets.Inc()
		}
		for _, r := range d.Replies {
			if r.Lease > 0 && r.OutboxID != 0 {
				handed = append(handed, OutboxItem{ID: r.OutboxID, Operator: r.Operator, To: r.To, From: r.From, Text: r.Text, Attempts: 1})
			} else if r.Lease <= 0 {
				pending++
			}
		}
	}
	if len(handed) > 0 {
		p.handoff.Handoff(handed, start)
	}
	if pending > 0 && p.queued != nil {
		p.queued()
	}
	return len(decisions), nil
}

// leaseReplies asks for a lease for all the replies of a batch, and sets
// it on each when granted.
func leaseReplies(ds []Decision, h Handoff) {
	n := 0
	for _, d := range ds {
		n += len(d.Replies)
	}
	if n == 0 {
		return
	}
	lease := h.HandoffLease(n)
	if lease <= 0 {
		return
	}
	for i := range ds {
		for j := range ds[i].Replies {
			ds[i].Replies[j].Lease = lease
		}
	}
}

// Decide is the core of processing: what each message becomes. A complaint
// is routed to the agency that must handle it, or to the national triage
// desk when that cannot be told ("no wrong door": never nowhere); the other
// commands answer from the store's state, read through lk in a few batched
// lookups.
func (p *Processor) Decide(ctx context.Context, lk Lookup, msgs []Message) ([]Decision, error) {
	return p.decide(ctx, lk, msgs)
}

// Outcomes of processing a message (a fixed set: a metric label). Each may
// carry HeldSuffix when flood control held its replies back.
const (
	OutcomeTicket        = "ticket"
	OutcomeDuplicate     = "duplicate"
	OutcomeStatus        = "status"
	OutcomeAppend        = "append"
	OutcomeInvalidTicket = "invalid_ticket"
	OutcomeStop          = "stop"
	OutcomeStart         = "start"
	OutcomeHelp          = "help"
	OutcomeCourtesy      = "courtesy"
	OutcomeRedelivery    = "redelivery"
	HeldSuffix           = "_held"
)

// Outcomes lists every outcome, for metrics created at zero.
var Outcomes = []string{OutcomeTicket, OutcomeDuplicate, OutcomeStatus, OutcomeAppend,
	OutcomeInvalidTicket, OutcomeStop, OutcomeStart, OutcomeHelp, OutcomeCourtesy, OutcomeRedelivery}

// batchContext is what one batch's decisions share: the lookups done for
// the whole batch, and the tickets this batch creates (so that a complaint
// sent twice in one batch makes one ticket).
type batchContext struct {
	tpl      Templates
	cls      *Classifier
	tickets  map[TicketNumber]TicketInfo
	recent   map[string]TicketInfo
	prefs    map[string]Prefs
	newByKey map[string]TicketNumber
	now      time.Time
}

func (p *Processor) decide(ctx context.Context, lk Lookup, msgs []Message) ([]Decision, error) {
	bc := batchContext{tpl: *p.tpl.Load(), cls: p.cls.Load(), newByKey: map[string]TicketNumber{}, now: p.clock.Now()}
	cmds := make([]parser.Command, len(msgs))
	var numbers []TicketNumber
	var keys, nums []string
	for i, m := range msgs {
		cmds[i] = p.parse(bc.cls, m.Text)
		switch cmds[i].Kind {
		case parser.Status, parser.Append:
			if cmds[i].Ticket != "" {
				numbers = append(numbers, TicketNumber(cmds[i].Ticket))
			}
		case parser.Complaint:
			if m.Source != "" {
				keys = append(keys, DedupKey(m.Source, m.Text))
			}
		case parser.Courtesy:
			nums = append(nums, m.Source)
		}
	}
	// Three batched lookups, each skipped when the batch needs none.
	var err error
	if lk != nil {
		if len(numbers) > 0 {
			if bc.tickets, err = lk.TicketsByNumber(ctx, numbers); err != nil {
				return nil, err
			}
		}
		if len(keys) > 0 && p.cfg.DedupWindow > 0 {
			if bc.recent, err = lk.RecentTickets(ctx, keys, bc.now.Add(-p.cfg.DedupWindow)); err != nil {
				return nil, err
			}
		}
		if len(nums) > 0 {
			if bc.prefs, err = lk.Prefs(ctx, nums); err != nil {
				return nil, err
			}
		}
	}
	// Count every message against its number's limits before deciding; a
	// message over the limit is still processed, only its replies are held.
	srcs := make([]string, len(msgs))
	for i, m := range msgs {
		if !m.Redelivery { // the same SMS again counts once
			srcs[i] = m.Source
		}
	}
	allowed := p.flood.Allow(ctx, srcs)
	out := make([]Decision, 0, len(msgs))
	for i, m := range msgs {
		d := p.decideOne(&bc, m, cmds[i])
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
	return out, nil
}

// parse reads a text as a command; without a classifier (no routing
// configured) every non-empty text is a complaint.
func (p *Processor) parse(c *Classifier, text string) parser.Command {
	if c != nil {
		return c.Parser().Parse(text)
	}
	if strings.TrimSpace(text) == "" {
		return parser.Command{Kind: parser.Empty}
	}
	return parser.Command{Kind: parser.Complaint, Text: text}
}

func (p *Processor) decideOne(bc *batchContext, m Message, cmd parser.Command) Decision {
	d := Decision{MessageID: m.ID}
	if m.Redelivery {
		// The first copy of this PDU was (or will be) handled; this one
		// only proves the SMSC did not get our ack.
		d.Outcome = OutcomeRedelivery
		return d
	}
	// Replies go only to a number a reply can reach; the ingest leaves
	// Source empty for alphanumeric senders and short codes.
	reply := func(kind, tpl string, v Vars) {
		if m.Source == "" {
			return
		}
		d.Replies = append(d.Replies, Reply{
			Kind:     kind,
			Operator: m.Operator,
			To:       m.Source,
			From:     p.cfg.ShortCode,
			Text:     bc.tpl.Render(tpl, v),
		})
	}
	// own finds a ticket the sender may see: a ticket's status is told only
	// to the number that filed it.
	own := func() (TicketInfo, bool) {
		t, ok := bc.tickets[TicketNumber(cmd.Ticket)]
		return t, ok && t.MSISDN == m.Source
	}
	badTicket := func() {
		d.Outcome = OutcomeInvalidTicket
		if errors.Is(cmd.TicketErr, parser.ErrTicketCheck) {
			reply(KindStatus, TplBadTicket, Vars{})
		} else {
			reply(KindStatus, TplTicketFormat, Vars{})
		}
	}
	switch cmd.Kind {
	case parser.Status:
		if cmd.Ticket == "" {
			badTicket()
			return d
		}
		d.Outcome = OutcomeStatus
		t, ok := own()
		if !ok {
			reply(KindStatus, TplNotFound, Vars{Ticket: TicketNumber(cmd.Ticket)})
			return d
		}
		reply(KindStatus, TplStatus, Vars{Ticket: t.Number, State: t.State, Agency: p.agencyShort(bc.cls, t.AgencyID)})
		return d
	case parser.Append:
		if cmd.Ticket == "" {
			badTicket()
			return d
		}
		d.Outcome = OutcomeAppend
		t, ok := own()
		if !ok {
			reply(KindStatus, TplNotFound, Vars{Ticket: TicketNumber(cmd.Ticket)})
			return d
		}
		d.LinkNumber = t.Number
		d.LinkNote = "tambahan dari pelapor: " + cmd.Text
		reply(KindAck, TplAppendOK, Vars{Ticket: t.Number})
		return d
	case parser.Stop, parser.Start:
		off := cmd.Kind == parser.Stop
		d.SetStatusOff = &off
		if off {
			d.Outcome = OutcomeStop
			reply(KindAck, TplStopOK, Vars{})
		} else {
			d.Outcome = OutcomeStart
			reply(KindAck, TplStartOK, Vars{})
		}
		return d
	case parser.Help, parser.Empty:
		d.Outcome = OutcomeHelp
		reply(KindHelp, TplHelp, Vars{})
		return d
	case parser.Courtesy:
		// A bare "terima kasih" opens no ticket and gets a short answer at
		// most once a day: a thank-you must not start a conversation loop.
		d.Outcome = OutcomeCourtesy
		if last := bc.prefs[m.Source].LastCourtesy; bc.now.Sub(last) >= 24*time.Hour {
			reply(KindCourtesy, TplCourtesy, Vars{})
			d.CourtesySent = len(d.Replies) > 0
		}
		return d
	}

	// A complaint. The same complaint from the same number within the
	// dedup window is linked to the first ticket and told its number again.
	if m.Source != "" && p.cfg.DedupWindow > 0 {
		key := DedupKey(m.Source, m.Text)
		prior, ok := bc.recent[key]
		if !ok {
			if n, seen := bc.newByKey[key]; seen {
				prior, ok = TicketInfo{Number: n}, true
			}
		}
		if ok {
			d.Outcome = OutcomeDuplicate
			d.LinkNumber = prior.Number
			d.LinkNote = "laporan yang sama dikirim ulang"
			reply(KindAck, TplAckAgain, Vars{Ticket: prior.Number})
			return d
		}
		defer func() {
			if d.Ticket != nil {
				d.Ticket.DedupKey = key
				bc.newByKey[key] = d.Ticket.Number
			}
		}()
	}
	n := NewTicketNumber()
	route := Route{AgencyID: p.cfg.TriageID, Category: OtherCategory, Triage: true}
	if bc.cls != nil {
		route = bc.cls.RouteCommand(cmd)
	}
	d.Outcome = OutcomeTicket
	d.Ticket = &Ticket{
		Number:   n,
		MSISDN:   m.Source,
		Operator: m.Operator,
		AgencyID: route.AgencyID,
		Category: route.Category,
		Region:   route.Region,
		State:    StateDiterima,
		Text:     m.Text,
		Anonim:   cmd.Anonim,
		Rahasia:  cmd.Rahasia,
	}
	d.Event = "diterima via SMS " + m.Operator
	if len(route.Explain) > 0 {
		d.Event += "; " + strings.Join(route.Explain, "; ")
	}
	if route.AgencyID != "" && route.AgencyID != p.cfg.TriageID && !route.Triage {
		d.Ticket.State = StateTerdisposisi
		reply(KindAck, TplAckAgency, Vars{Ticket: n, Agency: p.agencyShort(bc.cls, route.AgencyID)})
	} else {
		reply(KindAck, TplAck, Vars{Ticket: n})
	}
	return d
}

// agencyShort is the agency's short name for an SMS, or a generic one.
func (p *Processor) agencyShort(c *Classifier, id string) string {
	if c != nil {
		if a, ok := c.Directory().Get(id); ok && a.Short != "" {
			return a.Short
		}
	}
	return "petugas LAPOR!"
}

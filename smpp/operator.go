package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// BindMode is how an operator's binds are made.
type BindMode string

// Bind modes.
const (
	// BindTransceiver is one bind_transceiver connection per bind.
	BindTransceiver BindMode = "transceiver"
	// BindTransmitterReceiver is a bind_transmitter and a bind_receiver connection per bind.
	BindTransmitterReceiver BindMode = "transmitter+receiver"
)

// OperatorConfig is one operator's SMPP account and contract. Zero durations take defaults.
type OperatorConfig struct {
	Name                           string // "telkomsel": metric label and Inbound.Operator
	Host                           string
	Port                           int
	SystemID, Password, SystemType string
	Bind                           BindMode      // default BindTransceiver
	Binds                          int           // connections (a TX+RX pair counts as one bind); default 1
	Window                         int           // outstanding submit_sm per connection; default 10
	TPS                            int           // submit_sm per second for the operator; 0 = unlimited
	EnquireLink                    time.Duration // default 30s
	DialTimeout                    time.Duration // default 10s
	BindTimeout                    time.Duration // default 10s
	ResponseTimeout                time.Duration // default 30s
	WriteTimeout                   time.Duration // default 10s
	ReconnectMin, ReconnectMax     time.Duration // backoff with jitter, defaults 1s, 60s
	SourceTON, SourceNPI           uint8         // for our short code (often 3/0 or 0/1: per operator)
	DestTON, DestNPI               uint8         // for citizens' numbers; both zero means 1/1
	DefaultAlphabet                text.Alphabet // meaning of data_coding 0 (for the Handler's decoding)
	DrainTimeout                   time.Duration // on shutdown: wait for handed-out MOs, default 5s

	// TLS, when not nil, wraps every connection in TLS (for operators that offer SMPP over
	// TLS instead of a VPN); nil is plain TCP. The SMSC's certificate is verified against
	// TLS.ServerName, or against Host when ServerName is empty (as crypto/tls.Dial does; an
	// IP address in Host is then checked against the certificate's IP SANs). Set RootCAs
	// for an operator's private CA. The config is cloned by NewOperator and not modified.
	TLS *tls.Config
	// TLSHandshakeTimeout bounds the TLS handshake after the TCP connect; default 10s. A
	// peer that never completes it counts as a failed bind (reason "tls") and is retried
	// with backoff.
	TLSHandshakeTimeout time.Duration

	// ThrottlePause is how long all sends of the operator wait after a submit_sm is answered
	// ESME_RTHROTTLED (we exceeded the contract's rate); default 1s.
	ThrottlePause time.Duration
	// QueueFullPause is the same after ESME_RMSGQFUL (the SMSC itself is full, so we back off
	// longer); default 5s.
	QueueFullPause time.Duration
}

// Inbound is a deliver_sm or data_sm handed to the Handler.
type Inbound struct {
	Operator   string
	Bind       string    // the connection: "telkomsel/0", or "telkomsel/0/rx" for a TX+RX pair
	PDU        *PDU      // nil when DecodeErr != nil
	Raw        []byte    // the whole PDU as read
	DecodeErr  error     // undecodable: store raw as a dead letter, answer StatusXPAppn
	ReceivedAt time.Time // when the reader had the whole PDU
}

// Handler receives MO and receipts. done must be called exactly once, from any goroutine:
// done(nil) answers ESME_ROK, done(err) answers StatusOf(err). If the connection that
// delivered the PDU is gone by then, nothing is sent (the SMSC redelivers; dedup absorbs it).
// HandleInbound runs on the connection's own handler goroutine, never on the read loop, but
// a slow handler holds up the PDUs behind it on that connection.
type Handler interface {
	HandleInbound(in Inbound, done func(error))
}

// Options are an operator's collaborators; all may be zero.
type Options struct {
	Logger  *slog.Logger // default: discard
	Metrics *Metrics     // default: unregistered series
	Budget  Budget       // nil: a local limit of cfg.TPS
}

// Budget is the shared per-operator TPS budget (implemented on Redis by package store). Allow
// returns 0 when one submit_sm may go now, or how long to wait before asking again. When it
// fails the operator falls back to a local limit of tps.
type Budget interface {
	Allow(ctx context.Context, operator string, tps int) (time.Duration, error)
}

// Operator keeps an operator's binds up and sends through them.
type Operator struct {
	cfg    OperatorConfig
	h      Handler
	log    *slog.Logger
	m      *opMetrics
	budget Budget

	mu         sync.Mutex
	sessions   []*session      // bound connections
	changed    chan struct{}   // closed and replaced when a session comes or goes, or while draining a window or MO count changes
	waiters    []chan struct{} // Send callers parked for a window slot, oldest first; a freed slot wakes one
	rr         int             // round robin over sessions
	started    bool
	stopped    bool // draining or done: no intake, no sends
	moOut      int  // inbound PDUs handed out whose done has not been called
	pauseUntil time.Time
	nextSend   time.Time // local limiter: the earliest next submit
	budgetWarn time.Time // last warning about the shared budget
}

// NewOperator checks cfg, fills in defaults and creates the operator's metric series at zero.
// It does not connect: Run does.
func NewOperator(cfg OperatorConfig, h Handler, opts Options) (*Operator, error) {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("smpp: operator %q: "+format, append([]any{cfg.Name}, a...)...))
	}
	if cfg.Name == "" {
		bad("name is empty")
	}
	if cfg.Host == "" {
		bad("host is empty")
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		bad("port %d out of range", cfg.Port)
	}
	if cfg.SystemID == "" {
		bad("system_id is empty")
	}
	switch cfg.Bind {
	case "":
		cfg.Bind = BindTransceiver
	case BindTransceiver, BindTransmitterReceiver:
	default:
		bad("bind %q: want %q or %q", cfg.Bind, BindTransceiver, BindTransmitterReceiver)
	}
	if cfg.Binds < 0 || cfg.Window < 0 || cfg.TPS < 0 {
		bad("binds, window and tps must not be negative")
	}
	if h == nil {
		bad("no handler")
	}
	for _, d := range []time.Duration{cfg.EnquireLink, cfg.DialTimeout, cfg.BindTimeout, cfg.ResponseTimeout,
		cfg.WriteTimeout, cfg.ReconnectMin, cfg.ReconnectMax, cfg.DrainTimeout, cfg.TLSHandshakeTimeout,
		cfg.ThrottlePause, cfg.QueueFullPause} {
		if d < 0 {
			bad("negative duration %s", d)
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.EnquireLink, 30*time.Second)
	def(&cfg.DialTimeout, 10*time.Second)
	def(&cfg.BindTimeout, 10*time.Second)
	def(&cfg.ResponseTimeout, 30*time.Second)
	def(&cfg.WriteTimeout, 10*time.Second)
	def(&cfg.ReconnectMin, time.Second)
	def(&cfg.ReconnectMax, 60*time.Second)
	def(&cfg.DrainTimeout, 5*time.Second)
	def(&cfg.TLSHandshakeTimeout, 10*time.Second)
	def(&cfg.ThrottlePause, time.Second)
	def(&cfg.QueueFullPause, 5*time.Second)
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
		if cfg.TLS.ServerName == "" {
			cfg.TLS.ServerName = cfg.Host
		}
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = cfg.ReconnectMin
	}
	if cfg.Binds == 0 {
		cfg.Binds = 1
	}
	if cfg.Window == 0 {
		cfg.Window = 10
	}
	if cfg.DestTON == 0 && cfg.DestNPI == 0 {
		cfg.DestTON, cfg.DestNPI = 1, 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	o := &Operator{
		cfg: cfg, h: h, log: opts.Logger, budget: opts.Budget,
		changed: make(chan struct{}),
	}
	var conns []string
	for i := range cfg.Binds {
		for _, c := range o.conns(i) {
			conns = append(conns, c.name)
		}
	}
	o.m = newOpMetrics(opts.Metrics, cfg.Name, conns)
	return o, nil
}

// Name returns the operator's name.
func (o *Operator) Name() string { return o.cfg.Name }

type connSpec struct {
	name    string
	bindCmd uint32
}

// conns names the connections of bind i.
func (o *Operator) conns(i int) []connSpec {
	base := o.cfg.Name + "/" + strconv.Itoa(i)
	if o.cfg.Bind == BindTransmitterReceiver {
		return []connSpec{{base + "/tx", CmdBindTransmitter}, {base + "/rx", CmdBindReceiver}}
	}
	return []connSpec{{base, CmdBindTransceiver}}
}

// Run keeps cfg.Binds binds up (reconnecting with backoff) until ctx is done, then drains:
// stops taking new deliver_sm (answers StatusXTAppn) and new sends, waits up to DrainTimeout
// for handed-out MOs to be answered and submits in flight to complete, sends unbind on every
// connection (bounded wait for unbind_resp), closes, returns. It returns nil after a drain.
func (o *Operator) Run(ctx context.Context) error {
	o.mu.Lock()
	if o.started {
		o.mu.Unlock()
		return fmt.Errorf("smpp: operator %s: Run called twice", o.cfg.Name)
	}
	o.started = true
	o.mu.Unlock()

	var wg sync.WaitGroup
	for i := range o.cfg.Binds {
		for _, c := range o.conns(i) {
			wg.Go(func() { o.keep(ctx, c.name, i, c.bindCmd) })
		}
	}
	<-ctx.Done()

	o.mu.Lock()
	o.stopped = true
	o.notifyLocked()
	o.mu.Unlock()
	o.log.Info("draining", "mo_outstanding", o.outstanding())
	// The keepers return at once (a dial or bind in progress is interrupted by ctx), so no
	// session is registered after this.
	wg.Wait()
	o.waitIdle(o.cfg.DrainTimeout)

	o.mu.Lock()
	sessions := append([]*session(nil), o.sessions...)
	o.mu.Unlock()
	wait := min(o.cfg.ResponseTimeout, o.cfg.DrainTimeout)
	var uw sync.WaitGroup
	for _, s := range sessions {
		uw.Go(func() {
			s.unbind(wait)
			// close has closed the socket; the reader returns at once.
			t := time.NewTimer(time.Second)
			defer t.Stop()
			select {
			case <-s.readerOut:
			case <-t.C:
			}
		})
	}
	uw.Wait()
	o.log.Info("stopped")
	return nil
}

func (o *Operator) outstanding() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.moOut
}

// waitIdle waits until no handed-out MO awaits its done and no submit awaits its response.
func (o *Operator) waitIdle(limit time.Duration) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		o.mu.Lock()
		busy, inflight := o.moOut, 0
		for _, s := range o.sessions {
			s.mu.Lock()
			inflight += s.inFlight
			s.mu.Unlock()
		}
		ch := o.changed
		o.mu.Unlock()
		if busy == 0 && inflight == 0 {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			o.log.Warn("drain timeout: unbinding anyway", "mo_outstanding", busy, "submits_in_flight", inflight)
			return
		}
	}
}

// keep keeps one connection bound until ctx is done, with exponential backoff and jitter
// between attempts. A refused bind counts double: an SMSC that says no (wrong password,
// ESME_RALYBND) is asked again more slowly than one that merely dropped us. Every failed
// attempt is counted in bind_failures_total by reason.
func (o *Operator) keep(ctx context.Context, name string, index int, bindCmd uint32) {
	attempt := 0
	for first := true; ; first = false {
		if !first {
			o.m.reconnect(name)
		}
		s, err := o.dial(ctx, name, index, bindCmd)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			o.m.state(name, stateFailed)
			o.m.bindFailure(name, failureReason(err))
			var st Status
			if errors.As(err, &st) {
				attempt += 2
			} else {
				attempt++
			}
			d := o.backoff(attempt)
			o.log.Warn("bind failed", "bind", name, "err", err, "retry_in", d.String())
			if sleepCtx(ctx, d) != nil {
				return
			}
			continue
		}
		up := time.Now()
		if o.register(s) {
			o.m.state(name, stateBound)
			o.log.Info("bound", "bind", name, "mode", CommandName(bindCmd))
		}
		select {
		case <-ctx.Done():
			return // Run unbinds it
		case <-s.closed:
		}
		// A link that stayed bound a while was healthy: its drop starts the
		// backoff afresh, so an SMSC restart costs about ReconnectMin, not
		// the backoff earned by drops long ago. A link that flaps keeps
		// climbing. (Waiting for ReconnectMax of uptime made a few drops
		// cost up to a minute of silence.)
		if time.Since(up) >= 10*o.cfg.ReconnectMin {
			attempt = 0
		}
		attempt++
		d := o.backoff(attempt)
		o.log.Warn("connection closed", "bind", name, "err", s.closeErr, "retry_in", d.String())
		if sleepCtx(ctx, d) != nil {
			return
		}
	}
}

// backoff is ReconnectMin·2^(attempt−1), capped at ReconnectMax, with jitter in [d/2, d] so
// that binds dropped together do not come back together.
func (o *Operator) backoff(attempt int) time.Duration {
	d := o.cfg.ReconnectMin
	for i := 1; i < attempt && d < o.cfg.ReconnectMax; i++ {
		d *= 2
	}
	d = min(d, o.cfg.ReconnectMax)
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// register adds a freshly bound session; false if it closed already.
func (o *Operator) register(s *session) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s.isClosed() {
		return false
	}
	o.sessions = append(o.sessions, s)
	o.m.bindsUp(o.bindsUpLocked())
	o.notifyLocked()
	return true
}

// sessionClosed is called by session.close, after s.closed is closed (so register, under the
// same lock, cannot add it afterwards).
func (o *Operator) sessionClosed(s *session) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, x := range o.sessions {
		if x == s {
			o.sessions = append(o.sessions[:i], o.sessions[i+1:]...)
			o.m.state(s.name, stateClosed)
			break
		}
	}
	o.m.bindsUp(o.bindsUpLocked())
	o.notifyLocked()
}

// BindsUp returns the binds fully bound: transceivers, or transmitter+receiver pairs with both
// halves bound.
func (o *Operator) BindsUp() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bindsUpLocked()
}

// CanSend reports whether a bind that can carry submit_sm is up (a
// transceiver, or the transmitter half of a pair even while its receiver is
// down): whether replies can go out now.
func (o *Operator) CanSend() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.sessions {
		if s.canTransmit() {
			return true
		}
	}
	return false
}

func (o *Operator) bindsUpLocked() int {
	if o.cfg.Bind != BindTransmitterReceiver {
		return len(o.sessions)
	}
	halves := make(map[int]uint8)
	for _, s := range o.sessions {
		if s.bindCmd == CmdBindTransmitter {
			halves[s.index] |= 1
		} else {
			halves[s.index] |= 2
		}
	}
	n := 0
	for _, h := range halves {
		if h == 3 {
			n++
		}
	}
	return n
}

func (o *Operator) notifyLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// beginMO counts an inbound PDU handed out; false while draining (answer it 0x64 instead).
func (o *Operator) beginMO() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return false
	}
	o.moOut++
	return true
}

func (o *Operator) endMO() {
	o.mu.Lock()
	o.moOut--
	if o.stopped {
		// Only waitIdle, which runs once draining, waits for the MO count.
		o.notifyLocked()
	}
	o.mu.Unlock()
}

// slotFreed is called when a window slot is given back. It wakes one waiting sender, not
// all: closing changed for every freed slot woke every parked Send (~22 of 32 in the
// benchmark) for one of them to win the slot, ~10% of the CPU of an MT. While draining,
// waitIdle watches the window, so everything is woken then.
func (o *Operator) slotFreed() {
	o.mu.Lock()
	if o.stopped {
		o.notifyLocked()
	} else {
		o.wakeOneLocked()
	}
	o.mu.Unlock()
}

// wakeOneLocked wakes the oldest parked sender, if any. Its channel has room for the one
// send it ever gets, so this never blocks.
func (o *Operator) wakeOneLocked() {
	if len(o.waiters) == 0 {
		return
	}
	w := o.waiters[0]
	o.waiters[0] = nil
	o.waiters = o.waiters[1:]
	w <- struct{}{}
}

// unpark removes w, a sender that stops waiting for another reason (ctx, a broadcast). If a
// freed slot already woke it, that wake-up is passed to the next sender, so that a slot is
// never left free while someone waits.
func (o *Operator) unpark(w chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, x := range o.waiters {
		if x == w {
			o.waiters = append(o.waiters[:i], o.waiters[i+1:]...)
			return
		}
	}
	o.wakeOneLocked()
}

// throttled pauses all sends of the operator after the SMSC said it is overloaded.
func (o *Operator) throttled(st Status) {
	o.m.throttled()
	d := o.cfg.ThrottlePause
	if st == StatusMsgQFul {
		d = o.cfg.QueueFullPause
	}
	o.mu.Lock()
	if until := time.Now().Add(d); until.After(o.pauseUntil) {
		o.pauseUntil = until
	}
	o.mu.Unlock()
	o.log.Warn("SMSC overloaded: pausing sends", "status", st.Name(), "pause", d.String())
}

// permanentError marks a send error that retrying cannot cure (router.PermanentError).
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }

// Send submits one SMS through a bound transmitter-capable connection, respecting the window
// and TPS, and returns the SMSC message id of each segment. The text is GSM 03.38 when it
// validates, else UCS2; a long one is split by text.Encode with one random 8-bit reference and
// esm_class UDHI on every part; registered_delivery is 1. An SMSC refusal is returned as a
// Status (whose Permanent method tells the router not to retry); when a later part fails, the
// ids of the parts already accepted are returned with the error. It blocks, within ctx, while
// no bind is up or every window is full. It satisfies router.Sender.
func (o *Operator) Send(ctx context.Context, from, to, msg string) ([]string, error) {
	enc, err := text.Encode(msg, uint16(rand.N(0x10000)), false)
	if err != nil {
		return nil, permanentError{fmt.Errorf("smpp: send: %w", err)}
	}
	ids := make([]string, 0, len(enc.Segments))
	for i, seg := range enc.Segments {
		p := &PDU{
			CommandID: CmdSubmitSM,
			SourceTON: o.cfg.SourceTON, SourceNPI: o.cfg.SourceNPI, SourceAddr: from,
			DestTON: o.cfg.DestTON, DestNPI: o.cfg.DestNPI, DestAddr: to,
			RegisteredDelivery: 1,
			DataCoding:         enc.DataCoding,
			ShortMessage:       seg.ShortMessage(),
		}
		if seg.UDH != nil {
			p.ESMClass = 0x40
		}
		id, err := o.submitOne(ctx, p)
		if err != nil {
			if len(enc.Segments) > 1 {
				err = fmt.Errorf("smpp: send part %d of %d: %w", i+1, len(enc.Segments), err)
			}
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (o *Operator) submitOne(ctx context.Context, p *PDU) (string, error) {
	if err := o.waitPause(ctx); err != nil {
		return "", err
	}
	s, err := o.acquire(ctx)
	if err != nil {
		return "", err
	}
	// The window slot is taken before the TPS token: a token must not age while we wait
	// for room, or the burst after it would exceed the rate.
	if err := o.waitTPS(ctx); err != nil {
		s.release()
		return "", err
	}
	return s.submit(ctx, p)
}

func (o *Operator) waitPause(ctx context.Context) error {
	o.mu.Lock()
	d := time.Until(o.pauseUntil)
	o.mu.Unlock()
	if d <= 0 {
		return nil
	}
	if err := sleepCtx(ctx, d); err != nil {
		return fmt.Errorf("smpp: send: paused after throttling: %w", err)
	}
	return nil
}

// acquire picks a usable transmitter-capable session with window room, round robin, waiting
// within ctx until one has room.
func (o *Operator) acquire(ctx context.Context) (*session, error) {
	for {
		o.mu.Lock()
		if o.stopped {
			o.mu.Unlock()
			return nil, ErrClosed
		}
		ch := o.changed
		n := len(o.sessions)
		for i := range n {
			s := o.sessions[(o.rr+i)%n]
			if s.canTransmit() && s.tryAcquire() {
				o.rr = (o.rr + i + 1) % n
				o.mu.Unlock()
				return s, nil
			}
		}
		// Parked under the same lock as the look above: a slot freed after it wakes us
		// (slotFreed takes o.mu after giving the slot back), one freed before it was seen.
		w := make(chan struct{}, 1)
		o.waiters = append(o.waiters, w)
		o.mu.Unlock()
		select {
		case <-w:
		case <-ch: // a bind came or went, or the operator stops
			o.unpark(w)
		case <-ctx.Done():
			o.unpark(w)
			return nil, fmt.Errorf("smpp: send: waiting for a bind with window room: %w", ctx.Err())
		}
	}
}

// waitTPS takes one submit from the shared budget, or from the local limiter when there is
// no budget or it fails (Redis down: keep sending, at the local rate).
func (o *Operator) waitTPS(ctx context.Context) error {
	if o.cfg.TPS <= 0 {
		return nil
	}
	if o.budget != nil {
		for {
			d, err := o.budget.Allow(ctx, o.cfg.Name, o.cfg.TPS)
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("smpp: send: tps budget: %w", ctx.Err())
				}
				o.warnBudget(err)
				break
			}
			if d <= 0 {
				return nil
			}
			if err := sleepCtx(ctx, d); err != nil {
				return fmt.Errorf("smpp: send: tps budget: %w", err)
			}
		}
	}
	// Local limiter: one submit every 1/TPS, no burst.
	interval := time.Second / time.Duration(o.cfg.TPS)
	o.mu.Lock()
	now := time.Now()
	at := o.nextSend
	if at.Before(now) {
		at = now
	}
	o.nextSend = at.Add(interval)
	o.mu.Unlock()
	if err := sleepCtx(ctx, at.Sub(now)); err != nil {
		return fmt.Errorf("smpp: send: tps limit: %w", err)
	}
	return nil
}

func (o *Operator) warnBudget(err error) {
	o.mu.Lock()
	warn := time.Since(o.budgetWarn) > 10*time.Second
	if warn {
		o.budgetWarn = time.Now()
	}
	o.mu.Unlock()
	if warn {
		o.log.Warn("shared tps budget unavailable: using the local limit", "err", err)
	}
}

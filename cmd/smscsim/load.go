package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// `smscsim load` drives a running sms1708 over SMPP the way the operators' SMSCs would on a
// busy day: it runs its own fake SMSCs (the same three as serve), waits for the daemon to
// bind, sends citizens' complaints at a given rate and REDELIVERS every deliver_sm that is
// not answered ESME_ROK (a temporary error, no answer in time, a connection lost), as a real
// SMSC does, until it is acked. Every unique complaint carries a marker ("[L-000123]") so
// that the end state can be checked against what was sent (cmd/chaos check): one ticket per
// complaint, nothing lost, one acknowledgement each.

// loadResultsVersion is the version of the results file's shape.
const loadResultsVersion = 1

// Defaults of smscsim load.
const (
	defaultLoadCount     = 1000
	defaultLoadWindow    = 10
	defaultLoadPrefix    = "L"
	defaultFloodSize     = 20
	loadPollInterval     = 100 * time.Millisecond
	loadSubmitQueueDepth = 4096
	// defaultReceiptDelay: Indonesian SMSCs report DELIVRD seconds after the submit, once the
	// handset has the reply; one second keeps runs short and still lets the daemon record its
	// submit before the receipt comes, as it does in service.
	defaultReceiptDelay = time.Second
)

// loadOptions are the flags of smscsim load.
type loadOptions struct {
	cfg          config
	rate         float64 // messages per second; 0 = as fast as the windows allow
	window       int     // outstanding deliver_sm per SMSC
	duration     time.Duration
	count        int
	multipart    float64 // share of complaints longer than one SMS
	ucs2         float64 // share of complaints with a character outside GSM 03.38
	repeat       float64 // share of messages that resend an earlier complaint
	flood        float64 // share of messages from flooding numbers
	floodSize    int     // complaints per flooding number
	seed         uint64
	out          string
	prefix       string
	senderBase   uint64
	bindTimeout  time.Duration
	respTimeout  time.Duration
	redeliverMin time.Duration
	redeliverMax time.Duration
	drainTimeout time.Duration
	replyWait    time.Duration
	settle       time.Duration
	disconnects  int
	discWithin   time.Duration
	receiptDelay time.Duration // how long after a submit_sm_resp its DELIVRD receipt is sent
	// hold, when not nil, keeps the SMSCs up after the replies settled until hold reaches
	// EOF (or holdMax), still recording submits: cmd/chaos closes it once the database shows
	// no reply in flight, so that a reply resent after a crash is seen (and counted).
	hold    io.Reader
	holdMax time.Duration
}

const loadUsage = `  smscsim load [--rate N] [--window W] [--count N | --duration D] [--out FILE] [flags]
      Run the three fake SMSCs (as serve, or --config), wait for sms1708 to bind, then send
      complaints at --rate messages/s (0: as fast as --window outstanding deliver_sm per
      SMSC allow) for --count messages or --duration, with a mix of single and multipart,
      GSM-7 and UCS2, repeats and floods. Every deliver_sm not answered ESME_ROK is
      redelivered with backoff until it is. Prints MO acked/s, latencies and replies, and
      writes every complaint (marker, sender, ack and reply times) to --out as JSON for
      "chaos check". Loopback only. "smscsim load -h" lists every flag.
`

func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smscsim load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadOptions
	configPath := fs.String("config", "", "YAML `file` listing operators {name, listen, system_id, password} (as serve)")
	fs.Float64Var(&o.rate, "rate", 100, "messages per second (0: as fast as the windows allow)")
	fs.IntVar(&o.window, "window", defaultLoadWindow, "outstanding deliver_sm per SMSC")
	fs.DurationVar(&o.duration, "duration", 0, "send for this long (instead of --count)")
	fs.IntVar(&o.count, "count", 0, fmt.Sprintf("send this many messages (default %d when --duration is not given)", defaultLoadCount))
	fs.Float64Var(&o.multipart, "multipart", 0.2, "share of complaints sent as multipart (2–3 parts)")
	fs.Float64Var(&o.ucs2, "ucs2", 0.2, "share of complaints with a character outside GSM-7 (sent UCS2)")
	fs.Float64Var(&o.repeat, "repeat", 0.1, "share of messages that resend an earlier complaint from the same number")
	fs.Float64Var(&o.flood, "flood", 0.05, "share of messages from numbers that send many complaints")
	fs.IntVar(&o.floodSize, "flood-size", defaultFloodSize, "complaints per flooding number")
	seed := fs.Int64("seed", 0, "seed of the mix and of the disconnect moments (0: from the clock; printed)")
	fs.StringVar(&o.out, "out", "", "write the results as JSON to this `file`")
	fs.StringVar(&o.prefix, "prefix", defaultLoadPrefix, "marker prefix: complaints are marked [PREFIX-000001]…")
	base := fs.Int64("sender-base", -1, "first citizen number serial (0–99999999; default from the seed)")
	fs.DurationVar(&o.bindTimeout, "bind-timeout", 90*time.Second, "how long to wait for the daemon to bind to every SMSC")
	fs.DurationVar(&o.respTimeout, "response-timeout", 10*time.Second, "redeliver a deliver_sm not answered within this")
	fs.DurationVar(&o.redeliverMin, "redeliver-min", 200*time.Millisecond, "first redelivery backoff (doubles per attempt)")
	fs.DurationVar(&o.redeliverMax, "redeliver-max", 5*time.Second, "largest redelivery backoff")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 3*time.Minute, "after the last first send, how long to keep redelivering")
	fs.DurationVar(&o.replyWait, "reply-wait", 2*time.Minute, "after the drain, how long to wait for replies")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "replies have settled when none came for this long")
	fs.DurationVar(&o.receiptDelay, "receipt-delay", defaultReceiptDelay, "send each DELIVRD receipt this long after its submit_sm_resp, as an SMSC does once the handset has the reply (0: at once)")
	fs.IntVar(&o.disconnects, "disconnects", 0, "cut every SMSC connection this many times at random moments (fault injection)")
	fs.DurationVar(&o.discWithin, "disconnect-within", 0, "the disconnects fall in 10%–80% of this (default: the expected send time)")
	hold := fs.Bool("hold", false, "after the replies settle, keep the SMSCs up until stdin closes (for cmd/chaos)")
	fs.DurationVar(&o.holdMax, "hold-max", 5*time.Minute, "the longest --hold waits")
	level := fs.String("log-level", "warn", "log `level` of the fake SMSCs: debug, info, warn, error")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "smscsim load: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "smscsim load: --log-level: %v\n", err)
		return exitUsage
	}
	if o.cfg, err = loadConfig(*configPath); err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	o.seed = uint64(*seed)
	if *seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	if *base >= 0 {
		o.senderBase = uint64(*base)
	} else {
		o.senderBase = (o.seed % 9000) * 10000
	}
	if o.count == 0 && o.duration == 0 {
		o.count = defaultLoadCount
	}
	if *hold {
		o.hold = os.Stdin
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "smscsim load: %v\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	res, err := runLoad(ctx, o, logger, stdout)
	if res != nil && o.out != "" {
		if werr := writeResults(o.out, res); werr != nil {
			fmt.Fprintf(stderr, "smscsim load: %v\n", werr)
			return exitFailure
		}
		fmt.Fprintf(stdout, "load: results written to %s\n", o.out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "smscsim load: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func (o *loadOptions) validate() error {
	var errs []error
	share := func(name string, v float64) {
		if v < 0 || v > 1 || math.IsNaN(v) {
			errs = append(errs, fmt.Errorf("--%s %v: want a share from 0 to 1", name, v))
		}
	}
	share("multipart", o.multipart)
	share("ucs2", o.ucs2)
	share("repeat", o.repeat)
	share("flood", o.flood)
	if o.repeat+o.flood > 0.9 {
		errs = append(errs, errors.New("--repeat plus --flood: leave at least 10% for new complaints"))
	}
	if o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) {
		errs = append(errs, fmt.Errorf("--rate %v: want 0 or more", o.rate))
	}
	if o.window < 1 {
		errs = append(errs, fmt.Errorf("--window %d: want 1 or more", o.window))
	}
	if o.count < 0 || o.duration < 0 {
		errs = append(errs, errors.New("--count and --duration must not be negative"))
	}
	if o.floodSize < 2 {
		errs = append(errs, fmt.Errorf("--flood-size %d: want 2 or more", o.floodSize))
	}
	if o.senderBase > 99_999_999 {
		errs = append(errs, fmt.Errorf("--sender-base %d: want 0–99999999", o.senderBase))
	}
	if o.prefix == "" || strings.Trim(o.prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		errs = append(errs, fmt.Errorf("--prefix %q: want capital letters A–Z", o.prefix))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"bind-timeout", o.bindTimeout}, {"response-timeout", o.respTimeout}, {"redeliver-min", o.redeliverMin},
		{"redeliver-max", o.redeliverMax}, {"drain-timeout", o.drainTimeout}, {"reply-wait", o.replyWait}, {"settle", o.settle}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s %s: want more than 0", d.name, d.v))
		}
	}
	if o.receiptDelay < 0 {
		errs = append(errs, fmt.Errorf("--receipt-delay %s: want 0 or more", o.receiptDelay))
	}
	if o.disconnects < 0 {
		errs = append(errs, errors.New("--disconnects must not be negative"))
	}
	if o.disconnects > 0 && o.discWithin == 0 && o.duration == 0 && o.rate == 0 {
		errs = append(errs, errors.New("--disconnects with --rate 0 and --count needs --disconnect-within"))
	}
	if err := o.cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, op := range o.cfg.Operators {
		if !loopbackAddr(op.Listen) {
			errs = append(errs, fmt.Errorf("operator %s: listen %q: load listens on the loopback interface only", op.Name, op.Listen))
		}
	}
	return errors.Join(errs...)
}

// loopbackAddr reports whether a listen address is on the loopback interface: load sends
// citizens' texts to whoever binds, so it must never be reachable from elsewhere.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// The results file: what chaos check reads.

// LoadResults is the JSON written by --out.
type loadResults struct {
	Version    int                      `json:"version"`
	Seed       uint64                   `json:"seed"`
	Prefix     string                   `json:"prefix"`
	Started    int64                    `json:"started"`  // unix ms of the first send
	Finished   int64                    `json:"finished"` // unix ms when the results were taken
	Params     map[string]any           `json:"params"`
	Summary    loadSummary              `json:"summary"`
	Complaints []complaintResult        `json:"complaints"`
	Replies    map[string][]reply       `json:"replies"` // by citizen number: every reply the daemon submitted to it
	Unknown    int                      `json:"unknown_replies"`
	Acks       [][2]int64               `json:"acks"`   // per acked PDU: [unix ms the acked attempt was sent, unix ms of the ack]
	Faults     []int64                  `json:"faults"` // unix ms of each disconnect
	Operators  map[string]operatorTally `json:"operators"`
}

type operatorTally struct {
	Addr     string `json:"addr"`
	PDUs     int    `json:"pdus"`
	Attempts int    `json:"attempts"`
	Acked    int    `json:"acked"`
	Submits  int    `json:"submits"`
}

type complaintResult struct {
	Marker   string       `json:"marker"`
	Sender   string       `json:"sender"`
	Operator string       `json:"operator"`
	Kind     string       `json:"kind"`     // single or multipart (of the first send)
	Alphabet string       `json:"alphabet"` // gsm7 or ucs2
	Flood    bool         `json:"flood"`    // the sender sends many complaints
	Text     string       `json:"text"`     // as first sent
	Sends    []sendResult `json:"sends"`    // the first send, then each repeat
}

type sendResult struct {
	Repeat    bool        `json:"repeat"`
	FirstSent int64       `json:"first_sent"`      // unix ms of the first attempt of the first part
	Acked     int64       `json:"acked,omitempty"` // unix ms when the last part was acked; 0: not acked
	PDUs      []pduResult `json:"pdus"`
}

type pduResult struct {
	ShortMessage []byte `json:"short_message"` // with the UDH: the bytes the inbound row's raw PDU holds
	DataCoding   uint8  `json:"data_coding"`
	Attempts     int    `json:"attempts"`   // deliver_sm written (the first and each redelivery)
	Deferred     int    `json:"deferred"`   // attempts not made because no receiver was bound
	Acked        int64  `json:"acked"`      // unix ms of the ESME_ROK; 0: not acked
	Rejected     string `json:"rejected"`   // a permanent error (ESME_RX_P_APPN…): not redelivered
	LastError    string `json:"last_error"` // why the last attempt was not acked
}

type loadSummary struct {
	Messages       int       `json:"messages"`   // messages sent (a multipart message counts once)
	Complaints     int       `json:"complaints"` // unique complaints
	Repeats        int       `json:"repeats"`
	FloodMessages  int       `json:"flood_messages"`
	FloodNumbers   int       `json:"flood_numbers"`
	PDUs           int       `json:"pdus"`
	Attempts       int       `json:"attempts"`
	Redeliveries   int       `json:"redeliveries"`
	Deferred       int       `json:"deferred"`
	CutInFlight    int       `json:"cut_in_flight"` // attempts whose connection closed or timed out before an answer
	Refused        int       `json:"refused"`       // attempts answered with a temporary error
	PDUsAcked      int       `json:"pdus_acked"`
	PDUsRejected   int       `json:"pdus_rejected"`
	Unacked        int       `json:"unacked"`
	MessagesAcked  int       `json:"messages_acked"`
	AckedPerSecond float64   `json:"acked_per_second"`
	SendSeconds    float64   `json:"send_seconds"`
	RespMs         quantiles `json:"resp_ms"`  // deliver_sm → response of each acked attempt
	AckMs          quantiles `json:"ack_ms"`   // first attempt → ESME_ROK of each PDU
	ReplyMs        quantiles `json:"reply_ms"` // first send → first reply, complaints from numbers that are not flooding
	Replies        int       `json:"replies"`
	Submits        int       `json:"submits"`
	Disconnects    int       `json:"disconnects"`
}

type quantiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func quantilesOf(v []float64) quantiles {
	if len(v) == 0 {
		return quantiles{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return quantiles{N: len(s), P50: at(0.50), P99: at(0.99), Max: s[len(s)-1]}
}

func (q quantiles) String() string {
	if q.N == 0 {
		return "n=0"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", fmtMs(q.P50), fmtMs(q.P99), fmtMs(q.Max), q.N)
}

func fmtMs(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.2fs", ms/1000)
}

func writeResults(path string, res *loadResults) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// The run.

// pduRec is one deliver_sm of a message, redelivered until acked.
type pduRec struct {
	send *sendRec
	op   *loadOperator
	mo   smsctest.MO

	// Guarded by load.mu.
	firstSent time.Time
	attempts  int
	deferred  int
	ackSent   time.Time // when the acked attempt was written
	acked     time.Time
	rejected  smpp.Status
	lastErr   string
	done      bool
}

// sendRec is one SMS from a citizen: a complaint's first send or a repeat.
type sendRec struct {
	complaint *complaintRec
	repeat    bool
	pdus      []*pduRec
	firstSent time.Time // guarded by load.mu
	acked     time.Time
	left      int // parts not yet acked
}

type complaintRec struct {
	marker, sender, operator, kind, alphabet, text string
	flood                                          bool
	body                                           string // the text after the marker, varied by repeats
	sends                                          []*sendRec
	op                                             *loadOperator
	nextRef                                        *uint16 // the sender's concatenation reference counter
}

type loadOperator struct {
	name  string
	srv   *smsctest.Server
	queue chan *pduRec
	pdus  int // guarded by load.mu
}

type load struct {
	o      loadOptions
	log    *slog.Logger
	ops    []*loadOperator
	stdout io.Writer

	mu         sync.Mutex
	complaints []*complaintRec
	sends      []*sendRec
	pending    int // PDUs not yet acked or rejected
	changed    chan struct{}
	faults     []time.Time
	started    time.Time
	lastFirst  time.Time
	jitter     *rand.Rand
	respMs     []float64
	ackMs      []float64
	cut        int
	refused    int
	inflight   int // deliver_sm written and not yet answered
}

// runLoad runs the whole load and returns its results; they are returned (possibly partial)
// with the error when the run could not finish: the daemon never bound, MOs stayed unacked.
func runLoad(ctx context.Context, o loadOptions, logger *slog.Logger, stdout io.Writer) (res *loadResults, err error) {
	l := &load{o: o, log: logger, stdout: stdout, changed: make(chan struct{}), jitter: rand.New(rand.NewPCG(o.seed, 0x6a177e7))}
	defer func() {
		// Unbind politely so that the daemon does not count a broken link, then close.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		for _, op := range l.ops {
			_ = op.srv.Unbind(uctx)
			err = errors.Join(err, op.srv.Close())
		}
	}()
	for _, oc := range o.cfg.Operators {
		mids, _ := parseIDFormat(oc.MessageIDs)
		rids, _ := parseIDFormat(oc.ReceiptIDs)
		def, _ := parseDefaultAlphabet(oc.DefaultAlphabet)
		srv, err := smsctest.NewServer(smsctest.Config{
			Name:            oc.Name,
			Addr:            oc.Listen,
			SystemID:        oc.SystemID,
			Password:        oc.Password,
			Logger:          logger.With("component", "smsc", "operator", oc.Name),
			EnquireLink:     oc.EnquireLink,
			ResponseTimeout: o.respTimeout,
			MessageIDs:      mids,
			ReceiptIDs:      &rids,
			AutoReceipt:     oc.AutoReceipt == nil || *oc.AutoReceipt,
			ReceiptDelay:    o.receiptDelay,
			DefaultAlphabet: def,
		})
		if err != nil {
			return nil, fmt.Errorf("operator %s: %w", oc.Name, err)
		}
		l.ops = append(l.ops, &loadOperator{name: oc.Name, srv: srv, queue: make(chan *pduRec, loadSubmitQueueDepth)})
		fmt.Fprintf(stdout, "load: smsc %s listening on %s\n", oc.Name, srv.Addr())
	}
	fmt.Fprintf(stdout, "load: seed %d, prefix %s; waiting up to %s for sms1708 to bind\n", o.seed, o.prefix, o.bindTimeout)
	bctx, cancel := context.WithTimeout(ctx, o.bindTimeout)
	for _, op := range l.ops {
		if err := op.srv.WaitBound(bctx, 1); err != nil {
			cancel()
			return nil, fmt.Errorf("operator %s: no bind within %s (is sms1708 running with these SMSCs?): %w", op.name, o.bindTimeout, err)
		}
	}
	cancel()
	fmt.Fprintln(stdout, "load: bound; sending")

	// The workers stop when the run ends, whatever stopped it.
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopWorkers(); wg.Wait() }()
	for _, op := range l.ops {
		for range o.window {
			wg.Add(1)
			go func() { defer wg.Done(); l.worker(wctx, op) }()
		}
	}
	l.started = time.Now()
	if o.disconnects > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); l.disconnector(wctx) }()
	}

	err = l.produce(ctx)
	l.mu.Lock()
	l.lastFirst = time.Now()
	msgs := len(l.sends)
	l.mu.Unlock()
	fmt.Fprintf(stdout, "load: %d messages sent in %.1fs; draining (up to %s)\n", msgs, time.Since(l.started).Seconds(), o.drainTimeout)
	if err == nil {
		err = l.drain(ctx)
	}
	if err == nil {
		fmt.Fprintln(stdout, "load: every MO acked; waiting for replies to settle")
		err = l.settle(ctx)
	}
	if err == nil && o.hold != nil {
		fmt.Fprintln(stdout, "load: settled; holding until stdin closes")
		l.holdOn(ctx)
	}
	res = l.results()
	printSummary(stdout, res)
	return res, err
}

// produce sends the first attempt of each message at the rate asked, until --count or
// --duration. Redeliveries are not paced: they go as soon as their backoff ends.
func (l *load) produce(ctx context.Context) error {
	gen := newGenerator(l.o, l.ops)
	start := l.started
	for i := 0; ; i++ {
		if l.o.count > 0 && i >= l.o.count {
			return nil
		}
		if l.o.duration > 0 && time.Since(start) >= l.o.duration {
			return nil
		}
		if l.o.rate > 0 {
			at := start.Add(time.Duration(float64(i) / l.o.rate * float64(time.Second)))
			if d := time.Until(at); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		s, err := gen.next()
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.sends = append(l.sends, s)
		if !s.repeat {
			l.complaints = append(l.complaints, s.complaint)
		}
		s.complaint.sends = append(s.complaint.sends, s)
		l.pending += len(s.pdus)
		s.left = len(s.pdus)
		for _, p := range s.pdus {
			p.op.pdus++
		}
		l.mu.Unlock()
		for _, p := range s.pdus {
			select {
			case p.op.queue <- p:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// worker is one slot of an SMSC's window: it sends one deliver_sm at a time and waits for
// its answer.
func (l *load) worker(ctx context.Context, op *loadOperator) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-op.queue:
			l.attempt(ctx, op, p)
		}
	}
}

func (l *load) attempt(ctx context.Context, op *loadOperator, p *pduRec) {
	now := time.Now()
	l.mu.Lock()
	if p.firstSent.IsZero() {
		p.firstSent = now
		if p.send.firstSent.IsZero() {
			p.send.firstSent = now
		}
	}
	l.inflight++
	l.mu.Unlock()
	actx, cancel := context.WithTimeout(ctx, l.o.respTimeout)
	st, err := op.srv.SendMO(actx, p.mo)
	cancel()
	end := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	if ctx.Err() != nil {
		return // the run is over; this attempt counts for nothing
	}
	switch {
	case errors.Is(err, smsctest.ErrNotBound):
		// Nothing went on the wire: the daemon is not bound (killed, restarting).
		p.deferred++
		p.lastErr = "no bind"
	case err != nil:
		p.attempts++
		l.cut++
		p.lastErr = err.Error()
	case st == smpp.StatusOK:
		p.attempts++
		p.done, p.acked, p.ackSent = true, end, now
		l.pending--
		l.respMs = append(l.respMs, float64(end.Sub(now).Microseconds())/1000)
		l.ackMs = append(l.ackMs, float64(end.Sub(p.firstSent).Microseconds())/1000)
		if p.send.left--; p.send.left == 0 {
			p.send.acked = end
		}
		l.notifyLocked()
		return
	case st == smpp.StatusXPAppn:
		// A permanent error: a real SMSC gives up on the message. It is counted, and the
		// checker expects no ticket for it.
		p.attempts++
		p.done, p.rejected = true, st
		l.pending--
		l.notifyLocked()
		return
	default:
		p.attempts++
		l.refused++
		p.lastErr = statusName(st)
	}
	n := p.attempts + p.deferred
	d := l.o.redeliverMin << min(n-1, 20)
	if d > l.o.redeliverMax || d <= 0 {
		d = l.o.redeliverMax
	}
	// Jitter in [d/2, d], so that redeliveries after an outage do not all come back at once.
	d = d/2 + time.Duration(l.jitter.Int64N(int64(d/2)+1))
	time.AfterFunc(d, func() {
		select {
		case op.queue <- p:
		case <-ctx.Done():
		}
	})
}

func (l *load) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// disconnector cuts every SMSC connection at --disconnects random moments, as a broken link
// or a crashing SMSC does; deliver_sm in flight lose their answer and are redelivered.
func (l *load) disconnector(ctx context.Context) {
	within := l.o.discWithin
	if within == 0 {
		within = l.o.duration
		if within == 0 {
			within = time.Duration(float64(l.o.count) / l.o.rate * float64(time.Second))
		}
	}
	rng := rand.New(rand.NewPCG(l.o.seed, 0xd15c))
	at := make([]time.Duration, l.o.disconnects)
	for i := range at {
		at[i] = time.Duration((0.1 + 0.7*rng.Float64()) * float64(within))
	}
	slices.Sort(at)
	for _, d := range at {
		t := time.NewTimer(time.Until(l.started.Add(d)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		// Cut when deliver_sm are in flight (committed or being committed, not yet acked):
		// that is the window the fault is about. Wait for one, briefly.
		for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait); {
			l.mu.Lock()
			n := l.inflight
			l.mu.Unlock()
			if n > 0 {
				break
			}
			if sleepCtx(ctx, 500*time.Microsecond) != nil {
				return
			}
		}
		now := time.Now()
		for _, op := range l.ops {
			op.srv.Disconnect()
		}
		l.mu.Lock()
		l.faults = append(l.faults, now)
		l.mu.Unlock()
		fmt.Fprintf(l.stdout, "load: disconnect at +%.2fs\n", now.Sub(l.started).Seconds())
	}
}

// drain waits until every PDU is acked or rejected, bounded by --drain-timeout.
func (l *load) drain(ctx context.Context) error {
	deadline := time.NewTimer(l.o.drainTimeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		n, ch := l.pending, l.changed
		l.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("%d MO PDUs still not acked %s after the last first send", n, l.o.drainTimeout)
		case <-ch:
		}
	}
}

// settle waits until every number that is not flooding got at least one reply per
// complaint and no new submit_sm came for --settle, bounded by --reply-wait. A flooding
// number may legitimately get fewer replies (flood control holds them back).
func (l *load) settle(ctx context.Context) error {
	deadline := time.Now().Add(l.o.replyWait)
	want := map[string]int{}
	l.mu.Lock()
	for _, c := range l.complaints {
		if !c.flood && c.acked() {
			want[c.sender] = max(want[c.sender], 1)
		}
	}
	l.mu.Unlock()
	last, lastChange := -1, time.Now()
	tick := time.NewTicker(loadPollInterval)
	defer tick.Stop()
	for {
		total := 0
		got := map[string]int{}
		for _, op := range l.ops {
			for _, s := range op.srv.Submits() {
				total++
				got[strings.TrimPrefix(s.To, "+")]++
			}
		}
		if total != last {
			last, lastChange = total, time.Now()
		}
		missing := 0
		for n, w := range want {
			if got[n] < w {
				missing++
			}
		}
		if missing == 0 && time.Since(lastChange) >= l.o.settle {
			return nil
		}
		if time.Now().After(deadline) {
			if missing > 0 {
				fmt.Fprintf(l.stdout, "load: %d numbers still without a reply after %s\n", missing, l.o.replyWait)
			}
			return nil // the checker reports missing replies; the load itself did its part
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *complaintRec) acked() bool {
	for _, s := range c.sends {
		if !s.acked.IsZero() {
			return true
		}
	}
	return false
}

func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// results gathers what was sent and what came back.
func (l *load) results() *loadResults {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.o
	res := &loadResults{
		Version:  loadResultsVersion,
		Seed:     o.seed,
		Prefix:   o.prefix,
		Started:  unixMs(l.started),
		Finished: time.Now().UnixMilli(),
		Params: map[string]any{
			"rate": o.rate, "window": o.window, "count": o.count, "duration": o.duration.String(),
			"multipart": o.multipart, "ucs2": o.ucs2, "repeat": o.repeat, "flood": o.flood,
			"flood_size": o.floodSize, "sender_base": o.senderBase, "disconnects": o.disconnects,
			"redeliver_min": o.redeliverMin.String(), "redeliver_max": o.redeliverMax.String(),
			"response_timeout": o.respTimeout.String(),
		},
		Replies:   map[string][]reply{},
		Operators: map[string]operatorTally{},
		Acks:      [][2]int64{},
		Faults:    []int64{},
	}
	senders := map[string]bool{}
	floods := map[string]bool{}
	for _, c := range l.complaints {
		senders[c.sender] = true
		if c.flood {
			floods[c.sender] = true
		}
	}
	// Replies: every submit_sm, its parts joined, by the number it went to.
	for _, op := range l.ops {
		byTo := map[string][]smsctest.Submit{}
		subs := op.srv.Submits()
		res.Summary.Submits += len(subs)
		for _, s := range subs {
			to := strings.TrimPrefix(s.To, "+")
			byTo[to] = append(byTo[to], s)
		}
		for to, subs := range byTo {
			rs := joinParts(op.name, subs)
			if !senders[to] {
				res.Unknown += len(rs)
				continue
			}
			res.Replies[to] = append(res.Replies[to], rs...)
			res.Summary.Replies += len(rs)
		}
		res.Operators[op.name] = operatorTally{Addr: op.srv.Addr(), PDUs: op.pdus, Submits: len(subs)}
	}
	for to := range res.Replies {
		slices.SortStableFunc(res.Replies[to], func(a, b reply) int { return cmp.Compare(a.At, b.At) })
	}
	sm := &res.Summary
	var replyMs []float64
	var firstSend, lastAck time.Time
	for _, c := range l.complaints {
		cr := complaintResult{Marker: c.marker, Sender: c.sender, Operator: c.operator, Kind: c.kind,
			Alphabet: c.alphabet, Flood: c.flood, Text: c.text}
		for _, s := range c.sends {
			sr := sendResult{Repeat: s.repeat, FirstSent: unixMs(s.firstSent), Acked: unixMs(s.acked)}
			sm.Messages++
			if s.repeat {
				sm.Repeats++
			}
			if c.flood {
				sm.FloodMessages++
			}
			if !s.acked.IsZero() {
				sm.MessagesAcked++
			}
			for _, p := range s.pdus {
				pr := pduResult{ShortMessage: p.mo.ShortMessage, DataCoding: p.mo.DataCoding, Attempts: p.attempts,
					Deferred: p.deferred, Acked: unixMs(p.acked), LastError: p.lastErr}
				if p.rejected != 0 {
					pr.Rejected = statusName(p.rejected)
					sm.PDUsRejected++
				}
				sm.PDUs++
				sm.Attempts += p.attempts
				sm.Redeliveries += max(0, p.attempts-1)
				sm.Deferred += p.deferred
				t := res.Operators[p.op.name]
				t.Attempts += p.attempts
				if p.done && p.rejected == 0 {
					sm.PDUsAcked++
					t.Acked++
					res.Acks = append(res.Acks, [2]int64{unixMs(p.ackSent), unixMs(p.acked)})
					if p.acked.After(lastAck) {
						lastAck = p.acked
					}
				}
				res.Operators[p.op.name] = t
				if !p.done {
					sm.Unacked++
				}
				if !p.firstSent.IsZero() && (firstSend.IsZero() || p.firstSent.Before(firstSend)) {
					firstSend = p.firstSent
				}
				sr.PDUs = append(sr.PDUs, pr)
			}
			cr.Sends = append(cr.Sends, sr)
		}
		res.Complaints = append(res.Complaints, cr)
		// MO→reply: numbers that sent one complaint only, where the first reply is its.
		if !c.flood && !c.sends[0].firstSent.IsZero() {
			if rs := res.Replies[c.sender]; len(rs) > 0 {
				replyMs = append(replyMs, float64(rs[0].At-c.sends[0].firstSent.UnixMilli()))
			}
		}
	}
	slices.SortFunc(res.Acks, func(a, b [2]int64) int { return cmp.Compare(a[1], b[1]) })
	for _, f := range l.faults {
		res.Faults = append(res.Faults, f.UnixMilli())
	}
	sm.Complaints = len(l.complaints)
	sm.FloodNumbers = len(floods)
	sm.CutInFlight = l.cut
	sm.Refused = l.refused
	sm.Disconnects = len(l.faults)
	if !l.lastFirst.IsZero() {
		sm.SendSeconds = l.lastFirst.Sub(l.started).Seconds()
	}
	if span := lastAck.Sub(firstSend).Seconds(); span > 0 {
		sm.AckedPerSecond = float64(sm.PDUsAcked) / span
	}
	sm.RespMs = quantilesOf(l.respMs)
	sm.AckMs = quantilesOf(l.ackMs)
	sm.ReplyMs = quantilesOf(replyMs)
	return res
}

func printSummary(w io.Writer, res *loadResults) {
	s := res.Summary
	fmt.Fprintf(w, "load: summary (seed %d)\n", res.Seed)
	fmt.Fprintf(w, "  messages sent       %d (%d unique complaints, %d repeats, %d from %d flooding numbers)\n",
		s.Messages, s.Complaints, s.Repeats, s.FloodMessages, s.FloodNumbers)
	fmt.Fprintf(w, "  MO PDUs             %d in %d attempts: %d redeliveries (%d answered with a temporary error, %d cut or timed out), %d deferred (no bind)\n",
		s.PDUs, s.Attempts, s.Redeliveries, s.Refused, s.CutInFlight, s.Deferred)
	fmt.Fprintf(w, "  MO acked            %d PDUs (%d messages), %d rejected, %d unacked; %.1f PDUs acked/s over %.1fs of sending\n",
		s.PDUsAcked, s.MessagesAcked, s.PDUsRejected, s.Unacked, s.AckedPerSecond, s.SendSeconds)
	fmt.Fprintf(w, "  deliver_sm→resp     %s\n", s.RespMs)
	fmt.Fprintf(w, "  MO→ack              %s (first attempt to ESME_ROK, redeliveries included)\n", s.AckMs)
	fmt.Fprintf(w, "  MO→reply            %s (numbers with one complaint)\n", s.ReplyMs)
	fmt.Fprintf(w, "  replies received    %d (%d submit_sm), %d to numbers we did not send from\n", s.Replies, s.Submits, res.Unknown)
	if s.Disconnects > 0 {
		fmt.Fprintf(w, "  disconnects         %d\n", s.Disconnects)
	}
}

// The mix.

// generator makes the messages of a run from the seed: the same seed, the same messages.
type generator struct {
	o        loadOptions
	ops      []*loadOperator
	rng      *rand.Rand
	serial   int // complaints made
	senders  uint64
	recent   []*complaintRec // candidates for repeats
	flooder  *complaintRec   // the current flooding number's last complaint
	floodOut int             // complaints the flooder still has to send
}

func newGenerator(o loadOptions, ops []*loadOperator) *generator {
	return &generator{o: o, ops: ops, rng: rand.New(rand.NewPCG(o.seed, 0x10ad))}
}

// Operators' number ranges (Indonesian mobile prefixes), so that a reply routed by prefix
// goes back through the SMSC the complaint came in on.
var senderPrefixes = map[string]string{"telkomsel": "62812", "indosat": "62857", "three": "62896"}

func (g *generator) newSender(op *loadOperator) string {
	p, ok := senderPrefixes[op.name]
	if !ok {
		p = "62899"
	}
	n := (g.o.senderBase + g.senders) % 100_000_000
	g.senders++
	return fmt.Sprintf("%s%08d", p, n)
}

// next returns the next message: a new complaint, a repeat of an earlier one, or a flooding
// number's next complaint.
func (g *generator) next() (*sendRec, error) {
	if g.floodOut > 0 {
		g.floodOut--
		c := g.complaint(g.flooder.op, g.flooder.sender, true)
		c.nextRef = g.flooder.nextRef
		g.flooder = c
		return g.send(c, false)
	}
	// A flood starts with probability p so that floods make about --flood of the messages.
	f, n := g.o.flood, float64(g.o.floodSize)
	if f > 0 && g.rng.Float64() < f/(n*(1-f)+f) {
		op := g.ops[g.rng.IntN(len(g.ops))]
		c := g.complaint(op, g.newSender(op), true)
		g.flooder, g.floodOut = c, g.o.floodSize-1
		return g.send(c, false)
	}
	if len(g.recent) > 0 && g.rng.Float64() < g.o.repeat/(1-f) {
		c := g.recent[g.rng.IntN(len(g.recent))]
		return g.send(c, true)
	}
	op := g.ops[g.rng.IntN(len(g.ops))]
	c := g.complaint(op, g.newSender(op), false)
	g.recent = append(g.recent, c)
	if len(g.recent) > 500 {
		g.recent = g.recent[1:]
	}
	return g.send(c, false)
}

var (
	loadSubjects = []string{
		"Jalan berlubang", "Lampu penerangan jalan mati", "Sampah menumpuk", "Air PDAM tidak mengalir",
		"Pungutan liar saat mengurus KTP", "Saluran air tersumbat", "Jembatan kayu rusak",
		"Puskesmas tutup pada jam layanan", "Bantuan sosial tidak sampai ke warga", "Guru sering tidak hadir",
		"Antrean BPJS sangat panjang", "Pohon tumbang menutup jalan", "Trotoar dipakai berjualan",
	}
	loadPlaces = []string{
		"di Desa Sukamaju RT 03 RW 02", "di Jl. Merdeka dekat pasar", "di Kelurahan Cempaka Putih",
		"di Kecamatan Cibinong", "di depan SDN Karanganyar", "di Dusun Krajan", "di Kampung Rawa Bebek",
		"di perempatan Jl. Sudirman", "di belakang kantor desa",
	}
	loadDetails = []string{
		"sudah dua minggu belum diperbaiki.", "warga kesulitan lewat saat hujan.",
		"mohon segera ditindaklanjuti.", "sudah dilaporkan ke kelurahan tapi belum ada tanggapan.",
		"anak sekolah terpaksa memutar jauh.", "kami khawatir ada korban.", "petugas tidak pernah datang.",
		"banyak warga lansia yang terdampak.", "kondisinya makin parah setiap hari.",
	}
	// Characters outside GSM 03.38 that phones really send: they make the whole SMS UCS2.
	loadUCS2 = []string{"🙏", "’", "—", "“tolong”", "…", "😢"}
)

// complaint makes a new complaint with its own marker.
func (g *generator) complaint(op *loadOperator, sender string, flood bool) *complaintRec {
	g.serial++
	c := &complaintRec{
		marker:   fmt.Sprintf("[%s-%06d]", g.o.prefix, g.serial),
		sender:   sender,
		operator: op.name,
		flood:    flood,
		op:       op,
	}
	ref := uint16(g.rng.IntN(256))
	c.nextRef = &ref
	ucs2 := g.rng.Float64() < g.o.ucs2
	multi := g.rng.Float64() < g.o.multipart
	pick := func(s []string) string { return s[g.rng.IntN(len(s))] }
	body := pick(loadSubjects) + " " + pick(loadPlaces)
	if ucs2 {
		body += " " + pick(loadUCS2)
	}
	body += ", " + pick(loadDetails)
	if multi {
		// Two or three parts: add details until the text needs them.
		parts := 2 + g.rng.IntN(2)
		for segments(c.marker+" "+body) < parts {
			body += " " + pick(loadDetails)
		}
	} else {
		for segments(c.marker+" "+body) > 1 {
			body = strings.TrimRight(body[:strings.LastIndex(body, " ")], " ,")
		}
	}
	c.body = body
	c.text = c.marker + " " + body
	c.kind = "single"
	if segments(c.text) > 1 {
		c.kind = "multipart"
	}
	c.alphabet = "gsm7"
	if _, ok := text.EncodeGSM7(c.text); !ok {
		c.alphabet = "ucs2"
	}
	return c
}

func segments(s string) int {
	enc, err := text.Encode(s, 0, false)
	if err != nil {
		return math.MaxInt
	}
	return len(enc.Segments)
}

// send makes the PDUs of one SMS of complaint c. A repeat is the same complaint typed again:
// the same after normalising case, spaces and punctuation, but never byte-identical to an
// earlier send, so that the checker can tell each PDU in the inbound table.
func (g *generator) send(c *complaintRec, repeat bool) (*sendRec, error) {
	msg := c.text
	if repeat {
		body := c.body
		switch i := len(c.sends); i {
		case 1:
			body = strings.ToUpper(body)
		case 2:
			body = strings.ReplaceAll(body, " ", "  ")
		default:
			body += strings.Repeat("!", i-2)
		}
		msg = c.marker + " " + body
	}
	ref := *c.nextRef
	*c.nextRef = (ref + 1) % 256
	enc, err := text.Encode(msg, ref, false)
	if err != nil {
		return nil, fmt.Errorf("load: encode: %w", err)
	}
	s := &sendRec{complaint: c, repeat: repeat}
	for _, seg := range enc.Segments {
		mo := smsctest.MO{From: c.sender, To: defaultShort, DataCoding: enc.DataCoding, ShortMessage: seg.ShortMessage()}
		if seg.UDH != nil {
			mo.ESMClass = 0x40
		}
		s.pdus = append(s.pdus, &pduRec{send: s, op: c.op, mo: mo})
	}
	return s, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// holdOn waits until o.hold reaches EOF, ctx ends or holdMax passes.
func (l *load) holdOn(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, l.o.hold)
		close(done)
	}()
	t := time.NewTimer(l.o.holdMax)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
	case <-t.C:
	}
}

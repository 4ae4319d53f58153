package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var testTemplates = Templates{
	TplAck:          "Laporan Anda diterima. No tiket {ticket}. Terima kasih.",
	TplAckAgency:    "Laporan diterima. No tiket {ticket}, diteruskan ke {agency}.",
	TplAckAgain:     "Laporan yang sama sudah diterima: No tiket {ticket}.",
	TplStatus:       "Tiket {ticket}: {state} ({agency}).",
	TplNotFound:     "Tiket {ticket} tidak ditemukan.",
	TplBadTicket:    "Nomor tiket salah.",
	TplTicketFormat: "Format: CEK <no tiket>.",
	TplAppendOK:     "Tambahan untuk tiket {ticket} diterima.",
	TplStopOK:       "SMS status dihentikan.",
	TplStartOK:      "SMS status aktif lagi.",
	TplHelp:         "Tulis aduan Anda lalu kirim ke 1708.",
	TplCourtesy:     "Sama-sama.",
}

// withTemplates returns testTemplates with some replaced.
func withTemplates(over Templates) Templates {
	t := Templates{}
	for k, v := range testTemplates {
		t[k] = v
	}
	for k, v := range over {
		if v == "" {
			delete(t, k)
		} else {
			t[k] = v
		}
	}
	return t
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestTemplatesValidate(t *testing.T) {
	tests := []struct {
		name    string
		tpl     Templates
		wantErr []string
	}{
		{"good", testTemplates, nil},
		{"missing help", withTemplates(Templates{TplHelp: ""}), []string{"replies.help: missing"}},
		{"too long for one SMS", withTemplates(Templates{TplAck: strings.Repeat("a", 151) + "{ticket}"}), []string{"replies.ack: 161 units"}},
		{"escapes count two", withTemplates(Templates{TplAck: strings.Repeat("[", 76) + "{ticket}"}), []string{"replies.ack: 162 units"}},
		{"agency counted at its longest", withTemplates(Templates{TplAckAgency: strings.Repeat("a", 131) + "{ticket}{agency}"}), []string{"replies.ack_agency: 161 units"}},
		{"unknown placeholder", withTemplates(Templates{TplAck: "No {tiket}"}), []string{"unknown placeholder {tiket}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tpl.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// 75 escapes are 150 septets: with ten digits that is 160 and still fits.
func TestTemplatesEscapesAtTheLimitFit(t *testing.T) {
	tpl := withTemplates(Templates{TplAck: strings.Repeat("[", 75) + "{ticket}"})
	if err := tpl.Validate(); err != nil {
		t.Fatalf("160 septets rejected: %v", err)
	}
}

func TestDecide(t *testing.T) {
	p := NewProcessor(nil, ProcessorConfig{}, testTemplates, NewMetrics(prometheus.NewRegistry(), nil), discard(), nil)
	msgs := []Message{
		{ID: 1, Operator: "telkomsel", Source: "6281234567890", Dest: "1708", Text: "jalan rusak di desa kami"},
		{ID: 2, Operator: "indosat", Source: "", Dest: "1708", Text: "promo dari pengirim alfanumerik"},
		{ID: 3, Operator: "three", Source: "6289912345678", Dest: "1708", Text: "  \n "},
	}
	got, err := p.Decide(context.Background(), nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Decide returned %d decisions, want 3", len(got))
	}

	c := got[0]
	if c.MessageID != 1 || c.Outcome != OutcomeTicket || c.Ticket == nil {
		t.Fatalf("complaint: %+v", c)
	}
	if !c.Ticket.Number.Valid() || c.Ticket.AgencyID != "lapor-nasional" || c.Ticket.State != StateDiterima || c.Ticket.MSISDN != "6281234567890" {
		t.Errorf("complaint ticket: %+v", *c.Ticket)
	}
	if len(c.Replies) != 1 {
		t.Fatalf("complaint replies: %+v", c.Replies)
	}
	r := c.Replies[0]
	want := Reply{Kind: ReplyAck, Operator: "telkomsel", To: "6281234567890", From: "1708",
		Text: "Laporan Anda diterima. No tiket " + string(c.Ticket.Number) + ". Terima kasih."}
	if r != want {
		t.Errorf("ack = %+v, want %+v", r, want)
	}

	// A sender no reply can reach still gets a ticket, but no reply: that
	// is how SMS loops start.
	if got[1].Ticket == nil || len(got[1].Replies) != 0 {
		t.Errorf("alphanumeric sender: ticket %v, replies %+v; want a ticket and no reply", got[1].Ticket, got[1].Replies)
	}
	if got[2].Ticket != nil || got[2].Outcome != OutcomeHelp || len(got[2].Replies) != 1 || got[2].Replies[0].Kind != ReplyHelp {
		t.Errorf("empty text: %+v; want the help reply and no ticket", got[2])
	}
}

// fakeStore records what Process was asked and decides through the callback.
type fakeStore struct {
	mu      sync.Mutex
	pending map[int64]Message
	calls   int
	fail    error
}

func (s *fakeStore) Process(ctx context.Context, ids []int64, limit int, sweep bool, decide func(Lookup, []Message) ([]Decision, error)) ([]Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return nil, s.fail
	}
	var batch []Message
	for _, id := range ids {
		if m, ok := s.pending[id]; ok && len(batch) < limit {
			batch = append(batch, m)
			delete(s.pending, id)
		}
	}
	if sweep {
		for id, m := range s.pending {
			if len(batch) >= limit {
				break
			}
			batch = append(batch, m)
			delete(s.pending, id)
		}
	}
	if len(batch) == 0 {
		return nil, nil
	}
	return decide(nil, batch)
}

func (s *fakeStore) left() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProcessorHandOffAndSweep(t *testing.T) {
	fs := &fakeStore{pending: map[int64]Message{}}
	for i := int64(1); i <= 10; i++ {
		fs.pending[i] = Message{ID: i, Operator: "telkomsel", Source: "6281234567890", Text: fmt.Sprintf("aduan nomor %d", i)}
	}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	var queued sync.WaitGroup
	queued.Add(1)
	var once sync.Once
	p := NewProcessor(fs, ProcessorConfig{Batch: 4, Sweep: time.Hour}, testTemplates, m, discard(), func() { once.Do(queued.Done) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	// The first run sweeps: a backlog left by a crash is claimed at once,
	// batch after batch, without waiting for a tick.
	waitFor(t, "the backlog to be processed", func() bool { return fs.left() == 0 })
	queued.Wait()
	fs.mu.Lock()
	fs.pending[11] = Message{ID: 11, Operator: "telkomsel", Source: "6281234567890", Text: "aduan baru"}
	fs.mu.Unlock()
	p.Notify([]int64{11})
	waitFor(t, "the handed-off message", func() bool { return fs.left() == 0 })
	cancel()
	<-done
	if got := testutil.ToFloat64(m.tickets); got != 11 {
		t.Errorf("tickets created = %v, want 11", got)
	}
}

func TestProcessorKeepsIDsWhenStoreFails(t *testing.T) {
	fs := &fakeStore{pending: map[int64]Message{}, fail: errors.New("database down")}
	p := NewProcessor(fs, ProcessorConfig{Sweep: time.Hour}, testTemplates, NewMetrics(prometheus.NewRegistry(), nil), discard(), nil)
	p.Notify([]int64{7, 8})
	if _, err := p.processOnce(context.Background(), p.takeIDs(), false); err == nil {
		t.Fatal("processOnce succeeded on a failing store")
	}
	// Run's error path puts ids back; simulate it and check nothing is lost.
	p.requeue([]int64{7, 8})
	if got := p.takeIDs(); len(got) != 2 || got[0] != 7 || got[1] != 8 {
		t.Fatalf("ids after a failed batch = %v, want [7 8]", got)
	}
}

type fakeOutbox struct {
	mu      sync.Mutex
	due     []OutboxItem
	results []SendResult
	calls   int
	claims  int
	// failCompletes makes that many CompleteOutbox calls fail first.
	failCompletes int
}

func (o *fakeOutbox) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]OutboxItem, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claims++
	n := min(limit, len(o.due))
	out := o.due[:n]
	o.due = o.due[n:]
	return out, nil
}

func (o *fakeOutbox) CompleteOutbox(ctx context.Context, r []SendResult) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if o.failCompletes > 0 {
		o.failCompletes--
		return errors.New("database restarting")
	}
	o.results = append(o.results, r...)
	return nil
}

func (o *fakeOutbox) recorded() []SendResult {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]SendResult(nil), o.results...)
}

type permErr struct{}

func (permErr) Error() string   { return "refused for good" }
func (permErr) Permanent() bool { return true }

type fakeSender struct {
	err  error
	down bool
	sent *atomic.Int32
}

func (s fakeSender) CanSend() bool { return !s.down }

func (s fakeSender) Send(ctx context.Context, from, to, text string) ([]string, error) {
	if s.sent != nil {
		s.sent.Add(1)
	}
	if s.err != nil {
		return nil, s.err
	}
	return []string{"id-" + to}, nil
}

func TestDispatcherRecordsEveryOutcome(t *testing.T) {
	ob := &fakeOutbox{due: []OutboxItem{
		{ID: 1, Operator: "telkomsel", To: "6281111111111", From: "1708", Text: "a"},
		{ID: 2, Operator: "indosat", To: "6281555555555", From: "1708", Text: "b"},
		{ID: 3, Operator: "three", To: "6289912345678", From: "1708", Text: "c"},
		{ID: 4, Operator: "xl", To: "6281777777777", From: "1708", Text: "d"},
	}}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, []string{"telkomsel", "indosat", "three"})
	d := NewDispatcher(ob, map[string]Sender{
		"telkomsel": fakeSender{},
		"indosat":   fakeSender{err: errors.New("no bind up")},
		"three":     fakeSender{err: permErr{}},
	}, DispatcherConfig{Poll: time.Hour}, m, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	waitFor(t, "four outcomes", func() bool { return len(ob.recorded()) == 4 })
	cancel()
	<-done
	byID := map[int64]SendResult{}
	for _, r := range ob.recorded() {
		byID[r.ID] = r
	}
	if r := byID[1]; r.Err != nil || len(r.MessageIDs) != 1 || r.MessageIDs[0] != "id-6281111111111" {
		t.Errorf("sent row: %+v", r)
	}
	if r := byID[2]; r.Err == nil || r.Permanent {
		t.Errorf("temporary failure: %+v; want a retryable error", r)
	}
	if r := byID[3]; r.Err == nil || !r.Permanent {
		t.Errorf("permanent failure: %+v; want permanent", r)
	}
	if r := byID[4]; !errors.Is(r.Err, ErrNoOperator) || r.Permanent {
		t.Errorf("unknown operator: %+v; want ErrNoOperator, retryable", r)
	}
	for _, c := range []struct {
		op, outcome string
		want        float64
	}{{"telkomsel", MTSent, 1}, {"indosat", MTRetry, 1}, {"three", MTFailed, 1}, {"xl", MTNoRoute, 1}} {
		if got := testutil.ToFloat64(m.mt.WithLabelValues(c.op, c.outcome)); got != c.want {
			t.Errorf("mt{%s,%s} = %v, want %v", c.op, c.outcome, got, c.want)
		}
	}
}

type fakeCounter struct {
	mu   sync.Mutex
	n    map[string]int64
	down bool
}

func (c *fakeCounter) CountMessages(ctx context.Context, nums []string) ([]int64, []int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil, nil, errors.New("redis: connection refused")
	}
	out := make([]int64, len(nums))
	for i, n := range nums {
		c.n[n]++
		out[i] = c.n[n]
	}
	return out, out, nil
}

func TestFloodHoldsRepliesButKeepsTickets(t *testing.T) {
	reg := prometheus.NewRegistry()
	shared := &fakeCounter{n: map[string]int64{}}
	fl := NewFlood(FloodLimits{PerMinute: 3}, shared, reg, discard())
	p := NewProcessor(nil, ProcessorConfig{}, testTemplates, NewMetrics(reg, nil), discard(), nil)
	p.SetFlood(fl)
	var msgs []Message
	for i := range 5 {
		msgs = append(msgs, Message{ID: int64(i + 1), Operator: "telkomsel", Source: "6281234567890", Text: fmt.Sprintf("spam nomor %d", i)})
	}
	msgs = append(msgs, Message{ID: 6, Operator: "telkomsel", Source: "6281111111111", Text: "jalan rusak"})
	got, err := p.Decide(context.Background(), nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range got[:5] {
		if d.Ticket == nil {
			t.Errorf("message %d over the limit lost its ticket", i+1)
		}
		wantReplies := 1
		if i >= 3 {
			wantReplies = 0
		}
		wantOutcome := OutcomeTicket
		if wantReplies == 0 {
			wantOutcome = OutcomeTicket + HeldSuffix
		}
		if d.Outcome != wantOutcome {
			t.Errorf("message %d: outcome %q, want %q", i+1, d.Outcome, wantOutcome)
		}
		if len(d.Replies) != wantReplies || d.RepliesHeld != 1-wantReplies {
			t.Errorf("message %d: %d replies, %d held; want %d, %d", i+1, len(d.Replies), d.RepliesHeld, wantReplies, 1-wantReplies)
		}
	}
	if len(got[5].Replies) != 1 {
		t.Errorf("another number was held too: %+v", got[5])
	}
	if held := testutil.ToFloat64(fl.held); held != 2 {
		t.Errorf("replies held = %v, want 2", held)
	}
	if over := testutil.ToFloat64(fl.over); over != 1 {
		t.Errorf("numbers over limit = %v, want 1", over)
	}
}

// With Redis down the limits still hold, counted by this instance, and the
// degraded state shows.
func TestFloodFallsBackToLocalCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	shared := &fakeCounter{n: map[string]int64{}, down: true}
	fl := NewFlood(FloodLimits{PerMinute: 2, PerDay: 100}, shared, reg, discard())
	got := fl.Allow(context.Background(), []string{"6281234567890", "6281234567890", "6281234567890", ""})
	want := []bool{true, true, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Allow = %v, want %v", got, want)
		}
	}
	if up := testutil.ToFloat64(fl.up); up != 0 {
		t.Errorf("sms1708_flood_shared_up = %v with Redis down, want 0", up)
	}
	shared.mu.Lock()
	shared.down = false
	shared.mu.Unlock()
	fl.Allow(context.Background(), []string{"6289999999999"})
	if up := testutil.ToFloat64(fl.up); up != 1 {
		t.Errorf("sms1708_flood_shared_up = %v after Redis came back, want 1", up)
	}
}

// fakeLookup answers from maps.
type fakeLookup struct {
	tickets map[TicketNumber]TicketInfo
	recent  map[string]TicketInfo
	prefs   map[string]Prefs
	calls   int
}

func (f *fakeLookup) TicketsByNumber(ctx context.Context, n []TicketNumber) (map[TicketNumber]TicketInfo, error) {
	f.calls++
	return f.tickets, nil
}

func (f *fakeLookup) RecentTickets(ctx context.Context, keys []string, since time.Time) (map[string]TicketInfo, error) {
	f.calls++
	return f.recent, nil
}

func (f *fakeLookup) Prefs(ctx context.Context, m []string) (map[string]Prefs, error) {
	f.calls++
	return f.prefs, nil
}

func TestDecideDedupAndCommands(t *testing.T) {
	const me, other = "6281234567890", "6289876543210"
	mine, theirs := NewTicketNumber(), NewTicketNumber()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	lk := &fakeLookup{
		tickets: map[TicketNumber]TicketInfo{
			mine:   {ID: 1, Number: mine, MSISDN: me, State: StateTerdisposisi, AgencyID: "pln"},
			theirs: {ID: 2, Number: theirs, MSISDN: other, State: StateDiterima},
		},
		recent: map[string]TicketInfo{DedupKey(me, "Lampu jalan mati!"): {ID: 1, Number: mine, MSISDN: me}},
		prefs:  map[string]Prefs{me: {LastCourtesy: now.Add(-time.Hour)}},
	}
	fixed := clockFunc(func() time.Time { return now })
	p := NewProcessor(nil, ProcessorConfig{Clock: fixed}, testTemplates, NewMetrics(prometheus.NewRegistry(), nil), discard(), nil)
	msg := func(id int64, from, text string) Message {
		return Message{ID: id, Operator: "telkomsel", Source: from, Dest: "1708", Text: text}
	}
	wrong := []byte(mine)
	wrong[9] = '0' + (wrong[9]-'0'+1)%10
	tests := []struct {
		name        string
		m           Message
		wantOutcome string
		wantLink    TicketNumber
		wantReply   string // substring of the one reply; "" for no reply
		wantTicket  bool
	}{
		{"resent complaint links to the first ticket", msg(1, me, "lampu   jalan mati"), OutcomeDuplicate, mine, string(mine), false},
		{"new complaint opens a ticket", msg(2, me, "jalan berlubang di depan pasar"), OutcomeTicket, "", "No tiket", true},
		{"status of own ticket", msg(3, me, "CEK "+string(mine)), OutcomeStatus, "", "diteruskan ke instansi", false},
		{"status of another number's ticket is not found", msg(4, me, "cek "+string(theirs)), OutcomeStatus, "", "tidak ditemukan", false},
		{"wrong check digit gets a hint", msg(5, me, "CEK "+string(wrong)), OutcomeInvalidTicket, "", "salah", false},
		{"append to own ticket", msg(6, me, "TAMBAH "+string(mine)+" sudah 3 hari"), OutcomeAppend, mine, "Tambahan", false},
		{"append to another's ticket refused", msg(7, me, "TAMBAH "+string(theirs)+" halo"), OutcomeAppend, "", "tidak ditemukan", false},
		{"stop", msg(8, me, "STOP"), OutcomeStop, "", "dihentikan", false},
		{"start", msg(9, me, "mulai"), OutcomeStart, "", "aktif", false},
		{"help", msg(10, me, "bantuan"), OutcomeHelp, "", "kirim ke 1708", false},
		{"courtesy answered once a day: not again within 24h", msg(11, me, "terima kasih"), OutcomeCourtesy, "", "", false},
		{"courtesy from a new number is answered", msg(12, other, "makasih"), OutcomeCourtesy, "", "Sama-sama", false},
		{"stop inside a complaint is a complaint", msg(13, other, "Stop pungli di pasar"), OutcomeTicket, "", "No tiket", true},
	}
	cls := loadTestClassifier(t)
	p.SetClassifier(cls)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Decide(context.Background(), lk, []Message{tt.m})
			if err != nil {
				t.Fatal(err)
			}
			d := got[0]
			if d.Outcome != tt.wantOutcome || d.LinkNumber != tt.wantLink || (d.Ticket != nil) != tt.wantTicket {
				t.Fatalf("decision %+v; want outcome %q link %q ticket %v", d, tt.wantOutcome, tt.wantLink, tt.wantTicket)
			}
			if tt.wantReply == "" {
				if len(d.Replies) != 0 {
					t.Fatalf("replies %+v, want none", d.Replies)
				}
				return
			}
			if len(d.Replies) != 1 || !strings.Contains(d.Replies[0].Text, tt.wantReply) {
				t.Fatalf("replies %+v, want one containing %q", d.Replies, tt.wantReply)
			}
		})
	}
}

// Two identical complaints in one batch make one ticket.
func TestDecideDedupWithinBatch(t *testing.T) {
	p := NewProcessor(nil, ProcessorConfig{}, testTemplates, NewMetrics(prometheus.NewRegistry(), nil), discard(), nil)
	msgs := []Message{
		{ID: 1, Operator: "telkomsel", Source: "6281234567890", Text: "Sampah menumpuk di pasar"},
		{ID: 2, Operator: "telkomsel", Source: "6281234567890", Text: "sampah menumpuk di pasar."},
		{ID: 3, Operator: "telkomsel", Source: "6281111111111", Text: "sampah menumpuk di pasar"},
	}
	got, err := p.Decide(context.Background(), &fakeLookup{}, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Ticket == nil || got[1].Ticket != nil || got[1].LinkNumber != got[0].Ticket.Number {
		t.Fatalf("resend in one batch: %+v / %+v", got[0], got[1])
	}
	if got[2].Ticket == nil {
		t.Fatalf("the same text from another number must open its own ticket: %+v", got[2])
	}
	if got[0].Ticket.DedupKey == "" || got[0].Ticket.DedupKey != DedupKey("6281234567890", "SAMPAH menumpuk,  di pasar") {
		t.Errorf("dedup key %q does not fold case, spaces and punctuation", got[0].Ticket.DedupKey)
	}
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// loadTestClassifier loads the real routing configuration of the repo.
func loadTestClassifier(t *testing.T) *Classifier {
	t.Helper()
	c, err := LoadClassifier(ClassifierConfig{Dir: "../configs/routing"})
	if err != nil {
		t.Fatalf("LoadClassifier: %v", err)
	}
	return c
}

// An operator with no bind up fails its rows at once for a later retry,
// without calling Send (which would wait for a bind and hold a slot).
func TestDispatcherSkipsOperatorWithNoBind(t *testing.T) {
	ob := &fakeOutbox{due: []OutboxItem{
		{ID: 1, Operator: "telkomsel", To: "6281111111111", From: "1708", Text: "a"},
		{ID: 2, Operator: "indosat", To: "6281555555555", From: "1708", Text: "b"},
	}}
	var calls atomic.Int32
	m := NewMetrics(prometheus.NewRegistry(), []string{"telkomsel", "indosat"})
	d := NewDispatcher(ob, map[string]Sender{
		"telkomsel": fakeSender{down: true, sent: &calls},
		"indosat":   fakeSender{},
	}, DispatcherConfig{Poll: time.Hour}, m, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	waitFor(t, "two outcomes", func() bool { return len(ob.recorded()) == 2 })
	cancel()
	<-done
	for _, r := range ob.recorded() {
		switch r.ID {
		case 1:
			if !errors.Is(r.Err, ErrOperatorDown) || r.Permanent {
				t.Errorf("row of the operator that is down: %+v; want ErrOperatorDown, retryable", r)
			}
		case 2:
			if r.Err != nil {
				t.Errorf("row of the operator that is up: %+v", r)
			}
		}
	}
	if c := calls.Load(); c != 0 {
		t.Errorf("Send called %d times on an operator with no bind", c)
	}
}

func (o *fakeOutbox) claimCalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.claims
}

// blockingSender holds every send until its context ends.
type blockingSender struct{ started chan string }

func (s blockingSender) Send(ctx context.Context, from, to, text string) ([]string, error) {
	s.started <- to
	<-ctx.Done()
	return nil, ctx.Err()
}

// Replies handed over by processing are sent without a claim; only a
// poll, a Notify or a full claim makes the dispatcher query the outbox.
func TestDispatcherSendsHandedOverRowsWithoutClaiming(t *testing.T) {
	ob := &fakeOutbox{}
	var sent atomic.Int32
	m := NewMetrics(prometheus.NewRegistry(), []string{"telkomsel"})
	d := NewDispatcher(ob, map[string]Sender{"telkomsel": fakeSender{sent: &sent}}, DispatcherConfig{Poll: time.Hour, Concurrency: 8}, m, discard())
	if l := d.HandoffLease(1); l != 0 {
		t.Fatalf("HandoffLease before Run = %v, want 0 (nobody would send the rows)", l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	waitFor(t, "the start-up claim", func() bool { return ob.claimCalls() == 1 })
	waitFor(t, "hand-overs to be taken", func() bool { return d.HandoffLease(1) > 0 })
	// An empty queue takes a batch of any size (a processing batch may be
	// larger than the queue); a busy one takes what fits.
	lease := d.HandoffLease(100)
	if want := 30*time.Second + 15*time.Second; lease != want {
		t.Fatalf("HandoffLease(100) with an empty queue = %v, want the dispatcher's lease %v", lease, want)
	}
	// Fill the queue by hand (rows that lapsed long ago, so that the loop
	// gives them back if it runs meanwhile).
	var stale []OutboxItem
	for i := int64(1001); i <= 1030; i++ {
		stale = append(stale, OutboxItem{ID: i, Operator: "telkomsel"})
	}
	d.hmu.Lock()
	d.handed = stale
	d.hmu.Unlock()
	if l := d.HandoffLease(2); l != lease {
		t.Errorf("HandoffLease(2) with 30 of 32 waiting = %v, want %v", l, lease)
	}
	if l := d.HandoffLease(3); l != 0 {
		t.Errorf("HandoffLease(3) with 30 of 32 waiting = %v, want 0", l)
	}
	d.hmu.Lock()
	d.handed = nil
	d.hmu.Unlock()
	var items []OutboxItem
	for i := int64(1); i <= 20; i++ {
		items = append(items, OutboxItem{ID: i, Operator: "telkomsel", To: fmt.Sprintf("62811000000%02d", i), From: "1708", Text: "ok", Attempts: 1})
	}
	// A row whose transaction began long ago would be sent too close to
	// the end of its lease: it goes back to the pool unsent.
	d.Handoff([]OutboxItem{{ID: 99, Operator: "telkomsel", To: "6281100000099", From: "1708", Text: "late"}}, time.Now().Add(-time.Minute))
	d.Handoff(items, time.Now())
	waitFor(t, "21 outcomes", func() bool { return len(ob.recorded()) == 21 })
	cancel()
	<-done
	for _, r := range ob.recorded() {
		switch {
		case r.ID == 99:
			if !errors.Is(r.Err, ErrHandoffLapsed) || r.Permanent {
				t.Errorf("lapsed row: %+v; want ErrHandoffLapsed, retryable", r)
			}
		case r.Err != nil || len(r.MessageIDs) != 1:
			t.Errorf("handed-over row %d: %+v; want sent", r.ID, r)
		}
	}
	if c := sent.Load(); c != 20 {
		t.Errorf("sends = %d, want 20 (the lapsed row is not sent)", c)
	}
	if c := ob.claimCalls(); c != 1 {
		t.Errorf("ClaimOutbox called %d times, want only the start-up claim: freed slots and hand-overs need no query", c)
	}
	d.Notify()
	if l := d.HandoffLease(1); l != 0 {
		t.Errorf("HandoffLease after Run = %v, want 0", l)
	}
}

// Rows still waiting when the dispatcher stops go back to the pool at
// once, as temporary failures, instead of waiting for their lease.
func TestDispatcherGivesBackHandedOverRowsOnStop(t *testing.T) {
	ob := &fakeOutbox{}
	bs := blockingSender{started: make(chan string, 4)}
	m := NewMetrics(prometheus.NewRegistry(), []string{"telkomsel"})
	d := NewDispatcher(ob, map[string]Sender{"telkomsel": bs}, DispatcherConfig{Poll: time.Hour, Concurrency: 1}, m, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	waitFor(t, "hand-overs to be taken", func() bool { return d.HandoffLease(1) > 0 })
	d.Handoff([]OutboxItem{{ID: 1, Operator: "telkomsel", To: "6281100000001", From: "1708", Text: "a"}}, time.Now())
	<-bs.started
	d.Handoff([]OutboxItem{{ID: 2, Operator: "telkomsel", To: "6281100000002", From: "1708", Text: "b"}}, time.Now())
	cancel()
	<-done
	got := map[int64]SendResult{}
	for _, r := range ob.recorded() {
		got[r.ID] = r
	}
	if r, ok := got[2]; !ok || !errors.Is(r.Err, ErrShuttingDown) || r.Permanent {
		t.Errorf("row waiting at stop: %+v (recorded %v); want ErrShuttingDown, retryable", r, ok)
	}
	if r, ok := got[1]; !ok || r.Err == nil {
		t.Errorf("row cut off mid-send: %+v (recorded %v); want a retryable error", r, ok)
	}
}

// orderSender records the order of sends and takes a moment for each.
type orderSender struct {
	mu  sync.Mutex
	got []string
}

func (s *orderSender) Send(ctx context.Context, from, to, text string) ([]string, error) {
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	s.got = append(s.got, to)
	s.mu.Unlock()
	return []string{"id-" + to}, nil
}

// A row queued pending is claimed while hand-overs keep every slot busy:
// claims get their share of the slots and are not starved.
func TestDispatcherClaimsPendingRowsBetweenHandOvers(t *testing.T) {
	ob := &fakeOutbox{}
	snd := &orderSender{}
	m := NewMetrics(prometheus.NewRegistry(), []string{"telkomsel"})
	d := NewDispatcher(ob, map[string]Sender{"telkomsel": snd}, DispatcherConfig{Poll: time.Hour, Concurrency: 2}, m, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	waitFor(t, "hand-overs to be taken", func() bool { return d.HandoffLease(1) > 0 })
	var items []OutboxItem
	for i := int64(1); i <= 60; i++ {
		items = append(items, OutboxItem{ID: i, Operator: "telkomsel", To: fmt.Sprintf("62811%08d", i), From: "1708", Text: "ok"})
	}
	d.Handoff(items, time.Now())
	waitFor(t, "sending to start", func() bool { return len(ob.recorded()) > 0 })
	ob.mu.Lock()
	ob.due = []OutboxItem{{ID: 100, Operator: "telkomsel", To: "6281900000100", From: "1708", Text: "pending"}}
	ob.mu.Unlock()
	d.Notify()
	waitFor(t, "61 outcomes", func() bool { return len(ob.recorded()) == 61 })
	cancel()
	<-done
	snd.mu.Lock()
	defer snd.mu.Unlock()
	pos := slices.Index(snd.got, "6281900000100")
	if pos < 0 || pos > 10 {
		t.Errorf("the pending row went out as send %d of %d; want it among the next few, not after the hand-overs", pos+1, len(snd.got))
	}
}

// Outcomes that cannot be stored (the database is restarting) are stored
// when it is back, not dropped: a dropped outcome means the reply is sent
// again when its lease runs out.
func TestDispatcherRetriesRecordingOutcomes(t *testing.T) {
	ob := &fakeOutbox{failCompletes: 3}
	m := NewMetrics(prometheus.NewRegistry(), []string{"telkomsel"})
	d := NewDispatcher(ob, map[string]Sender{"telkomsel": fakeSender{}}, DispatcherConfig{Poll: time.Hour}, m, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	waitFor(t, "hand-overs to be taken", func() bool { return d.HandoffLease(1) > 0 })
	d.Handoff([]OutboxItem{{ID: 7, Operator: "telkomsel", To: "6281100000007", From: "1708", Text: "ok"}}, time.Now())
	waitFor(t, "the outcome to be recorded", func() bool { return len(ob.recorded()) == 1 })
	cancel()
	<-done
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.calls != 4 || ob.results[0].ID != 7 || ob.results[0].Err != nil {
		t.Errorf("CompleteOutbox called %d times, recorded %+v; want 4 calls (3 failures, then the send recorded)", ob.calls, ob.results)
	}
}

// releasingOutbox is a fakeOutbox whose ReleaseLeases waits to be let go.
type releasingOutbox struct {
	fakeOutbox
	called, release chan struct{}
}

func (o *releasingOutbox) ReleaseLeases(ctx context.Context) (int, error) {
	close(o.called)
	<-o.release
	return 2, nil
}

// At start the dispatcher gives back its earlier leases before it takes
// any hand-over: a row handed over meanwhile would be given back too and
// sent twice.
func TestDispatcherReleasesEarlierLeasesBeforeHandOvers(t *testing.T) {
	ob := &releasingOutbox{called: make(chan struct{}), release: make(chan struct{})}
	m := NewMetrics(prometheus.NewRegistry(), []string{"telkomsel"})
	d := NewDispatcher(ob, map[string]Sender{"telkomsel": fakeSender{}}, DispatcherConfig{Poll: time.Hour}, m, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	<-ob.called
	if l := d.HandoffLease(1); l != 0 {
		t.Errorf("HandoffLease while earlier leases are given back = %v, want 0", l)
	}
	close(ob.release)
	waitFor(t, "hand-overs to be taken", func() bool { return d.HandoffLease(1) > 0 })
	cancel()
	<-done
}

func TestRenderPlaceholders(t *testing.T) {
	v := Vars{Ticket: "1234567897", Agency: "Pemkab {state}", State: "selesai"}
	for _, tt := range []struct{ tpl, want string }{
		{"Tiket {ticket}.", "Tiket 1234567897."},
		{"{ticket}/{ticket} {agency}: {state}", "1234567897/1234567897 Pemkab {state}: " + StateLabel("selesai")},
		{"tanpa kurung", "tanpa kurung"},
		{"{ {tiket} {", "{ {tiket} {"},
		{"{ticket", "{ticket"},
		{"}{ticket}{", "}1234567897{"},
	} {
		if got := render(tt.tpl, v); got != tt.want {
			t.Errorf("render(%q) = %q, want %q", tt.tpl, got, tt.want)
		}
	}
}

package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

func testLoadOptions() loadOptions {
	cfg := defaultConfig()
	for i := range cfg.Operators {
		cfg.Operators[i].Listen = "127.0.0.1:0"
		f := false
		cfg.Operators[i].AutoReceipt = &f
	}
	return loadOptions{
		cfg: cfg, rate: 0, window: 4, count: 120, multipart: 0.3, ucs2: 0.3, repeat: 0.15, flood: 0.1,
		floodSize: 5, seed: 7, prefix: "T", senderBase: 100, bindTimeout: 10 * time.Second,
		respTimeout: 2 * time.Second, redeliverMin: 5 * time.Millisecond, redeliverMax: 50 * time.Millisecond,
		drainTimeout: 20 * time.Second, replyWait: 10 * time.Second, settle: 200 * time.Millisecond,
	}
}

func TestLoadOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*loadOptions)
		want   string // a substring of the error; "" for none
	}{
		{"defaults are valid", func(*loadOptions) {}, ""},
		{"a share above one is refused", func(o *loadOptions) { o.ucs2 = 1.5 }, "--ucs2"},
		{"repeats and floods leave room for new complaints", func(o *loadOptions) { o.repeat, o.flood = 0.5, 0.5 }, "at least 10%"},
		{"a negative rate is refused", func(o *loadOptions) { o.rate = -1 }, "--rate"},
		{"a lowercase prefix is refused", func(o *loadOptions) { o.prefix = "x" }, "--prefix"},
		{"a listener beyond loopback is refused", func(o *loadOptions) { o.cfg.Operators[0].Listen = "0.0.0.0:2775" }, "loopback interface only"},
		{"disconnects at full speed need a window", func(o *loadOptions) { o.disconnects = 2 }, "--disconnect-within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testLoadOptions()
			tt.change(&o)
			err := o.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("validate = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestGeneratorMix checks the mix a seed makes: the same seed the same messages; every
// complaint a unique marker; repeats from the same number with the same text after
// normalising case, spaces and punctuation, never byte-identical; floods from one number.
func TestGeneratorMix(t *testing.T) {
	o := testLoadOptions()
	o.count = 2000
	ops := []*loadOperator{{name: "telkomsel"}, {name: "indosat"}, {name: "three"}}
	gen := func() []*sendRec {
		g := newGenerator(o, ops)
		var out []*sendRec
		for range o.count {
			s, err := g.next()
			if err != nil {
				t.Fatal(err)
			}
			s.complaint.sends = append(s.complaint.sends, s)
			out = append(out, s)
		}
		return out
	}
	a, b := gen(), gen()
	texts := func(ss []*sendRec) []string {
		var out []string
		for _, s := range ss {
			for _, p := range s.pdus {
				out = append(out, s.complaint.sender+" "+string(p.mo.ShortMessage))
			}
		}
		return out
	}
	if diff := cmp.Diff(texts(a), texts(b)); diff != "" {
		t.Fatalf("the same seed made different messages (-first +second):\n%s", diff)
	}

	norm := regexp.MustCompile(`[^a-z0-9]+`)
	normalise := func(s string) string { return strings.Trim(norm.ReplaceAllString(strings.ToLower(s), " "), " ") }
	markers := map[string]*complaintRec{}
	seenPDU := map[string]bool{}
	var multi, ucs2, repeats, flood int
	floodBy := map[string]map[string]bool{}
	for _, s := range a {
		c := s.complaint
		if prev, ok := markers[c.marker]; ok && prev != c {
			t.Fatalf("marker %s used by two complaints", c.marker)
		}
		markers[c.marker] = c
		var joined []byte
		for _, p := range s.pdus {
			key := c.sender + string(p.mo.ShortMessage)
			if seenPDU[key] {
				t.Fatalf("%s: a PDU sent twice from %s", c.marker, c.sender)
			}
			seenPDU[key] = true
			data := p.mo.ShortMessage
			if p.mo.ESMClass&0x40 != 0 {
				data = data[data[0]+1:]
			}
			joined = append(joined, data...)
		}
		alpha := text.GSM7
		if s.pdus[0].mo.DataCoding == 0x08 {
			alpha = text.UCS2
			ucs2++
		}
		got := text.DecodeShortMessage(s.pdus[0].mo.DataCoding, alpha, joined).Text
		if normalise(got) != normalise(c.text) || !strings.HasPrefix(got, c.marker+" ") {
			t.Fatalf("%s: sent %q, want %q up to case, spaces and punctuation", c.marker, got, c.text)
		}
		if len(s.pdus) > 1 {
			multi++
		}
		if s.repeat {
			repeats++
			if got == c.text {
				t.Fatalf("%s: a repeat byte-identical to the first send", c.marker)
			}
		}
		if c.flood {
			flood++
			if floodBy[c.sender] == nil {
				floodBy[c.sender] = map[string]bool{}
			}
			floodBy[c.sender][c.marker] = true
		}
	}
	share := func(n int) float64 { return float64(n) / float64(len(a)) }
	for _, sh := range []struct {
		name      string
		got, want float64
	}{{"multipart", share(multi), o.multipart * (1 - o.repeat)}, {"ucs2", share(ucs2), o.ucs2}, {"repeat", share(repeats), o.repeat}, {"flood", share(flood), o.flood}} {
		if sh.got < sh.want*0.6 || sh.got > sh.want*1.4+0.02 {
			t.Errorf("%s share %.3f, want about %.3f", sh.name, sh.got, sh.want)
		}
	}
	for sender, ms := range floodBy {
		if len(ms) > o.floodSize {
			t.Errorf("flooding number %s sent %d complaints, want at most %d", sender, len(ms), o.floodSize)
		}
	}
}

// fakeDaemon binds to the load's SMSCs with the real session layer, refuses the first
// delivery of every third distinct PDU with ESME_RX_T_APPN, and answers each acked first
// part with one reply, as the daemon does.
type fakeDaemon struct {
	mu      sync.Mutex
	seen    map[string]int // sender + short_message → deliveries
	refused int
	acked   map[string]bool
}

func (f *fakeDaemon) handler(op **smpp.Operator) smpp.Handler {
	return handlerFunc(func(in smpp.Inbound, done func(error)) {
		p := in.PDU
		key := p.SourceAddr + string(p.ShortMessage)
		f.mu.Lock()
		f.seen[key]++
		first := f.seen[key] == 1
		n := len(f.seen)
		refuse := first && n%3 == 0
		if refuse {
			f.refused++
		} else {
			f.acked[key] = true
		}
		f.mu.Unlock()
		if refuse {
			done(smpp.StatusXTAppn)
			return
		}
		done(nil)
		if p.ESMClass&0x40 != 0 && p.ShortMessage[int(p.ShortMessage[0])] != 1 { // the last octet of the 8-bit UDH is the part number
			return // not the first part
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = (*op).Send(ctx, "1708", p.SourceAddr, "Laporan Anda diterima.")
		}()
	})
}

type handlerFunc func(smpp.Inbound, func(error))

func (h handlerFunc) HandleInbound(in smpp.Inbound, done func(error)) { h(in, done) }

func TestLoadRedeliversUntilAcked(t *testing.T) {
	o := testLoadOptions()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type outcome struct {
		res *loadResults
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := runLoad(ctx, o, slog.New(slog.DiscardHandler), pw)
		pw.Close()
		done <- outcome{res, err}
	}()

	f := &fakeDaemon{seen: map[string]int{}, acked: map[string]bool{}}
	re := regexp.MustCompile(`^load: smsc (\w+) listening on 127\.0\.0\.1:(\d+)$`)
	sc := bufio.NewScanner(pr)
	var ops []*smpp.Operator
	opCtx, stopOps := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopOps(); wg.Wait() }()
	for len(ops) < len(o.cfg.Operators) && sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		port, _ := strconv.Atoi(m[2])
		op := new(*smpp.Operator)
		var err error
		*op, err = smpp.NewOperator(smpp.OperatorConfig{Name: m[1], Host: "127.0.0.1", Port: port, SystemID: "sms1708",
			Password: "dev-" + m[1], ReconnectMin: 10 * time.Millisecond, ReconnectMax: 100 * time.Millisecond}, f.handler(op), smpp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, *op)
		wg.Add(1)
		go func() { defer wg.Done(); _ = (*op).Run(opCtx) }()
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	r := <-done
	if r.err != nil {
		t.Fatalf("runLoad: %v", r.err)
	}
	res := r.res
	s := res.Summary
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Messages != o.count || s.Unacked != 0 || s.PDUsAcked != s.PDUs {
		t.Fatalf("messages %d (want %d), PDUs %d, acked %d, unacked %d", s.Messages, o.count, s.PDUs, s.PDUsAcked, s.Unacked)
	}
	if s.Redeliveries != f.refused || s.Refused != f.refused || f.refused == 0 {
		t.Errorf("redeliveries %d, refused %d; the daemon refused %d first deliveries", s.Redeliveries, s.Refused, f.refused)
	}
	// Every PDU the load counts as acked was acked by the daemon, and redelivered ones
	// came back byte for byte.
	for _, c := range res.Complaints {
		for _, sr := range c.Sends {
			for _, p := range sr.PDUs {
				key := c.Sender + string(p.ShortMessage)
				if !f.acked[key] || p.Acked == 0 {
					t.Fatalf("%s: PDU acked by the load %v, by the daemon %v", c.Marker, p.Acked != 0, f.acked[key])
				}
				if want := 1 + map[bool]int{true: 1}[f.seen[key] > 1]; p.Attempts != want || f.seen[key] != want {
					t.Fatalf("%s: %d attempts, the daemon saw %d, want %d", c.Marker, p.Attempts, f.seen[key], want)
				}
			}
		}
		if !c.Flood && len(res.Replies[c.Sender]) == 0 {
			t.Errorf("%s: no reply recorded for %s", c.Marker, c.Sender)
		}
	}
	if s.Replies != len(f.acked)-countLaterParts(res) || res.Unknown != 0 {
		t.Errorf("replies %d (unknown %d), want one per message: %d", s.Replies, res.Unknown, len(f.acked)-countLaterParts(res))
	}
	if len(res.Acks) != s.PDUsAcked {
		t.Errorf("%d ack times, want %d", len(res.Acks), s.PDUsAcked)
	}
}

func countLaterParts(res *loadResults) int {
	n := 0
	for _, c := range res.Complaints {
		for _, s := range c.Sends {
			n += len(s.PDUs) - 1
		}
	}
	return n
}

package smpp

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNewOperatorRefusesBadConfig(t *testing.T) {
	ok := testConfig(2775)
	tests := []struct {
		name   string
		mutate func(*OperatorConfig)
		want   string
	}{
		{"no name", func(c *OperatorConfig) { c.Name = "" }, "name is empty"},
		{"no host", func(c *OperatorConfig) { c.Host = "" }, "host is empty"},
		{"port", func(c *OperatorConfig) { c.Port = 70000 }, "port 70000"},
		{"system_id", func(c *OperatorConfig) { c.SystemID = "" }, "system_id"},
		{"bind mode", func(c *OperatorConfig) { c.Bind = "receiver" }, `bind "receiver"`},
		{"negative window", func(c *OperatorConfig) { c.Window = -1 }, "negative"},
		{"negative duration", func(c *OperatorConfig) { c.ResponseTimeout = -time.Second }, "negative duration"},
		{"negative pause", func(c *OperatorConfig) { c.QueueFullPause = -time.Second }, "negative duration"},
		{"negative handshake timeout", func(c *OperatorConfig) { c.TLSHandshakeTimeout = -time.Second }, "negative duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mutate(&cfg)
			_, err := NewOperator(cfg, newHandler(), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "smpp: ") {
				t.Errorf("NewOperator = %v, want an error about %q", err, tc.want)
			}
		})
	}
	if _, err := NewOperator(ok, nil, Options{}); err == nil {
		t.Error("NewOperator without a handler succeeded")
	}
}

func TestNewOperatorDefaults(t *testing.T) {
	o, err := NewOperator(OperatorConfig{Name: "indosat", Host: "h", Port: 1, SystemID: "s"}, newHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Bind != BindTransceiver || c.Binds != 1 || c.Window != 10 || c.EnquireLink != 30*time.Second ||
		c.DialTimeout != 10*time.Second || c.BindTimeout != 10*time.Second || c.ResponseTimeout != 30*time.Second ||
		c.WriteTimeout != 10*time.Second || c.ReconnectMin != time.Second || c.ReconnectMax != time.Minute ||
		c.DrainTimeout != 5*time.Second || c.DestTON != 1 || c.DestNPI != 1 || c.TLS != nil ||
		c.TLSHandshakeTimeout != 10*time.Second || c.ThrottlePause != time.Second || c.QueueFullPause != 5*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if o.Name() != "indosat" {
		t.Errorf("Name = %q", o.Name())
	}
}

func TestMetricsExistAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, name := range []string{"telkomsel", "indosat"} { // two operators share one Metrics
		cfg := testConfig(1)
		cfg.Name, cfg.Bind, cfg.Binds = name, BindTransmitterReceiver, 2
		if _, err := NewOperator(cfg, newHandler(), Options{Metrics: m}); err != nil {
			t.Fatal(err)
		}
	}
	const conns = 2 * 2 * 2 // operators × binds × (tx, rx)
	tests := []struct {
		metric string
		want   int
	}{
		{"sms1708_smpp_binds_up", 2},
		{"sms1708_smpp_bind_state_changes_total", conns * len(allStates)},
		{"sms1708_smpp_bind_failures_total", conns * len(allFailures)},
		{"sms1708_smpp_reconnects_total", conns},
		{"sms1708_smpp_pdus_total", 2 * 2 * len(allCommands)},
		{"sms1708_smpp_mo_received_total", 2 * len(allKinds)},
		{"sms1708_smpp_submits_total", 2 * len(allOutcomes)},
		{"sms1708_smpp_submit_seconds", 2},
		{"sms1708_smpp_window_in_flight", conns},
		{"sms1708_smpp_throttled_total", 2},
	}
	for _, tc := range tests {
		if got := testutil.CollectAndCount(reg, tc.metric); got != tc.want {
			t.Errorf("%s: %d series, want %d", tc.metric, got, tc.want)
		}
	}
	if v := testutil.ToFloat64(m.bindStateChanges.WithLabelValues("indosat", "indosat/1/rx", stateFailed)); v != 0 {
		t.Errorf("failed = %v", v)
	}
}

func TestSendLongMessageInParts(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		parts int
		dc    byte
	}{
		{"gsm7 two parts", strings.Repeat("Laporan diterima. ", 12), 2, 0x00},
		{"ucs2 two parts", strings.Repeat("Terima kasih 🙏 ", 6), 2, 0x08},
		{"gsm7 one part", "Tiket 1234567890", 1, 0x00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t)
			r := start(t, testConfig(p.port()), newHandler(), Options{})
			pc := p.bound(t)
			res := sendAsync(r.o, context.Background(), tc.text)
			var ref byte
			var joined []byte
			for i := range tc.parts {
				sub := pc.expect(CmdSubmitSM, StatusOK, 0)
				if sub.DataCoding != tc.dc || sub.RegisteredDelivery != 1 {
					t.Errorf("part %d: data_coding %#x registered_delivery %d", i+1, sub.DataCoding, sub.RegisteredDelivery)
				}
				sm := sub.ShortMessage
				if tc.parts == 1 {
					if sub.ESMClass != 0 {
						t.Errorf("single part with esm_class %#x", sub.ESMClass)
					}
					joined = sm
				} else {
					if sub.ESMClass != 0x40 || len(sm) < 6 || !bytes.Equal(sm[:3], []byte{5, 0, 3}) ||
						int(sm[4]) != tc.parts || int(sm[5]) != i+1 {
						t.Fatalf("part %d: esm_class %#x UDH % X", i+1, sub.ESMClass, sm[:min(6, len(sm))])
					}
					if i == 0 {
						ref = sm[3]
					} else if sm[3] != ref {
						t.Errorf("part %d: ref %d, want %d (one ref per message)", i+1, sm[3], ref)
					}
					joined = append(joined, sm[6:]...)
				}
				pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: string(rune('a' + i))})
			}
			got := wait(t, res)
			if got.err != nil || len(got.ids) != tc.parts || got.ids[0] != "a" {
				t.Fatalf("Send = %v, %v", got.ids, got.err)
			}
			if tc.dc == 0 && string(joined) != tc.text {
				t.Errorf("joined parts %q, want %q", joined, tc.text)
			}
		})
	}
}

func TestSendTooLongIsPermanent(t *testing.T) {
	o, err := NewOperator(testConfig(1), newHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Send(context.Background(), "1708", "628", strings.Repeat("x", 256*153))
	var pe interface{ Permanent() bool }
	if !errors.As(err, &pe) || !pe.Permanent() {
		t.Fatalf("Send = %v, want a permanent error", err)
	}
}

// budget is a fake shared TPS budget.
type budget struct {
	mu    sync.Mutex
	calls int
	waits []time.Duration // returned in turn, then 0
	err   error
}

func (b *budget) Allow(ctx context.Context, operator string, tps int) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if operator != "telkomsel" || tps != 20 {
		return 0, errors.New("wrong operator or tps")
	}
	if b.err != nil {
		return 0, b.err
	}
	if len(b.waits) > 0 {
		d := b.waits[0]
		b.waits = b.waits[1:]
		return d, nil
	}
	return 0, nil
}

func TestSendWaitsForSharedBudget(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.TPS = 20
	b := &budget{waits: []time.Duration{30 * time.Millisecond}}
	r := start(t, cfg, newHandler(), Options{Budget: b})
	pc := p.bound(t)
	begin := time.Now()
	res := sendAsync(r.o, context.Background(), "a")
	sub := pc.expect(CmdSubmitSM, StatusOK, 0)
	if d := time.Since(begin); d < 30*time.Millisecond {
		t.Errorf("submit after %v, want after the budget's 30ms", d)
	}
	pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: "1"})
	if got := wait(t, res); got.err != nil {
		t.Fatal(got.err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.calls != 2 {
		t.Errorf("Allow called %d times, want 2 (wait, then go)", b.calls)
	}
}

func TestSendFallsBackToLocalLimit(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.TPS = 20 // one every 50ms
	r := start(t, cfg, newHandler(), Options{Budget: &budget{err: errors.New("redis: connection refused")}})
	pc := p.bound(t)
	var at []time.Time
	for range 3 {
		res := sendAsync(r.o, context.Background(), "a")
		sub := pc.expect(CmdSubmitSM, StatusOK, 0)
		at = append(at, time.Now())
		pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: "1"})
		if got := wait(t, res); got.err != nil {
			t.Fatal(got.err)
		}
	}
	if d := at[2].Sub(at[0]); d < 90*time.Millisecond {
		t.Errorf("3 submits in %v at a local limit of 20/s, want ≥ 100ms", d)
	}
}

func TestThrottledPausesSends(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.ThrottlePause = time.Minute // cannot run out during the test, however slow the machine
	r := start(t, cfg, newHandler(), Options{})
	pc := p.bound(t)
	res := sendAsync(r.o, context.Background(), "a")
	sub := pc.expect(CmdSubmitSM, StatusOK, 0)
	pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Status: StatusThrottled, Seq: sub.Seq})
	got := wait(t, res)
	if !errors.Is(got.err, StatusThrottled) {
		t.Fatalf("Send = %v, want ESME_RTHROTTLED", got.err)
	}
	if v := testutil.ToFloat64(r.o.m.m.throttled.WithLabelValues("telkomsel")); v != 1 {
		t.Errorf("throttled_total = %v", v)
	}
	// During the pause nothing is sent.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.o.Send(ctx, "1708", "628", "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send during the pause = %v, want it to wait out its context", err)
	}
	pc.ping(3) // and no submit_sm was written
}

func TestThrottlePausesFromConfig(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*OperatorConfig)
		status Status
		want   time.Duration
	}{
		{"throttled, default", func(*OperatorConfig) {}, StatusThrottled, time.Second},
		{"queue full, default", func(*OperatorConfig) {}, StatusMsgQFul, 5 * time.Second},
		{"throttled, configured", func(c *OperatorConfig) { c.ThrottlePause = 250 * time.Millisecond }, StatusThrottled, 250 * time.Millisecond},
		{"queue full, configured", func(c *OperatorConfig) { c.QueueFullPause = 42 * time.Second }, StatusMsgQFul, 42 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(1)
			tc.cfg(&cfg)
			o, err := NewOperator(cfg, newHandler(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			o.throttled(tc.status)
			after := time.Now()
			o.mu.Lock()
			until := o.pauseUntil
			o.mu.Unlock()
			if until.Before(before.Add(tc.want)) || until.After(after.Add(tc.want)) {
				t.Errorf("paused until now+%v, want now+%v", until.Sub(before), tc.want)
			}
		})
	}
}

package smpp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
)

// End-to-end tests of the operator against the in-process fake SMSC, over real TCP.

type answer struct {
	in   smpp.Inbound
	done func(error)
}

// handlerFunc answers every inbound PDU with verdict and reports it on seen.
type handlerFunc struct {
	seen    chan answer
	verdict func(smpp.Inbound) error // nil: the test answers through seen
}

func (h *handlerFunc) HandleInbound(in smpp.Inbound, done func(error)) {
	if h.verdict != nil {
		done(h.verdict(in))
	}
	h.seen <- answer{in, done}
}

type fixture struct {
	srv *smsctest.Server
	op  *smpp.Operator
	h   *handlerFunc
	run chan error
	ctx context.Context
}

func setup(t *testing.T, scfg smsctest.Config, mutate func(*smpp.OperatorConfig), verdict func(smpp.Inbound) error) *fixture {
	t.Helper()
	scfg.Name, scfg.SystemID, scfg.Password = "telkomsel", "sms1708", "secret"
	srv, err := smsctest.NewServer(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := smpp.OperatorConfig{
		Name: "telkomsel", Host: "127.0.0.1", Port: srv.Port(),
		SystemID: "sms1708", Password: "secret",
		Window: 4, ResponseTimeout: 2 * time.Second, WriteTimeout: time.Second,
		DialTimeout: time.Second, BindTimeout: time.Second,
		ReconnectMin: 5 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		DrainTimeout: time.Second, SourceTON: 3, SourceNPI: 0,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h := &handlerFunc{seen: make(chan answer, 64), verdict: verdict}
	op, err := smpp.NewOperator(cfg, h, smpp.Options{Metrics: smpp.NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	f := &fixture{srv: srv, op: op, h: h, run: make(chan error, 1), ctx: ctx}
	runCtx, stop := context.WithCancel(context.Background())
	go func() { f.run <- op.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-f.run:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
		cancel()
	})
	return f
}

func (f *fixture) bound(t *testing.T, n int) {
	t.Helper()
	if err := f.srv.WaitBound(f.ctx, n); err != nil {
		t.Fatalf("fake SMSC: %d bound: %v", n, err)
	}
}

func TestSMSCMOAnsweredByVerdict(t *testing.T) {
	tests := []struct {
		name    string
		verdict error
		want    smpp.Status
	}{
		{"stored", nil, smpp.StatusOK},
		{"store down", errors.New("store: not committed"), smpp.StatusXTAppn},
		{"dead letter", smpp.StatusXPAppn, smpp.StatusXPAppn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, smsctest.Config{}, nil, func(smpp.Inbound) error { return tc.verdict })
			f.bound(t, 1)
			st, err := f.srv.SendMO(f.ctx, smsctest.MO{From: "6281234567890", To: "1708", Text: "LAPOR jalan rusak"})
			if err != nil || st != tc.want {
				t.Fatalf("SendMO = %s, %v; want %s", st.Name(), err, tc.want.Name())
			}
			a := <-f.h.seen
			if a.in.PDU == nil || string(a.in.PDU.ShortMessage) != "LAPOR jalan rusak" || a.in.PDU.SourceAddr != "6281234567890" {
				t.Errorf("inbound %+v", a.in)
			}
		})
	}
}

func TestSMSCMOWithSeqOfPendingSubmit(t *testing.T) {
	f := setup(t, smsctest.Config{Faults: smsctest.Faults{SubmitReply: smsctest.ReplyHold}}, nil,
		func(smpp.Inbound) error { return nil })
	f.bound(t, 1)
	res := make(chan error, 1)
	go func() {
		_, err := f.op.Send(f.ctx, "1708", "6281234567890", "balasan")
		res <- err
	}()
	// The first submit_sm after the bind carries seq 2; deliver an MO with the same seq while
	// the submit is held unanswered.
	if err := f.srv.WaitHeld(f.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if sub := f.srv.Rejected(); len(sub) != 0 {
		t.Fatalf("rejected %+v", sub)
	}
	st, err := f.srv.SendMO(f.ctx, smsctest.MO{From: "6281234567890", To: "1708", Text: "halo", Seq: 2})
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("SendMO = %s, %v", st.Name(), err)
	}
	if a := <-f.h.seen; a.in.PDU == nil || string(a.in.PDU.ShortMessage) != "halo" {
		t.Fatalf("inbound %+v", a.in)
	}
	select {
	case err := <-res:
		t.Fatalf("Send completed by the MO: %v", err)
	default:
	}
	f.srv.ReleaseHeld(1)
	if err := <-res; err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func TestSMSCSendAndReceipt(t *testing.T) {
	f := setup(t, smsctest.Config{AutoReceipt: true}, nil, func(smpp.Inbound) error { return nil })
	f.bound(t, 1)
	long := strings.Repeat("Laporan Anda sudah kami terima dan diteruskan. ", 5)
	ids, err := f.op.Send(f.ctx, "1708", "6281234567890", long)
	if err != nil || len(ids) != 2 {
		t.Fatalf("Send = %v, %v; want 2 ids", ids, err)
	}
	subs := f.srv.Submits()
	if len(subs) != 2 {
		t.Fatalf("%d submits, want 2", len(subs))
	}
	var text string
	for i, s := range subs {
		if s.MessageID != ids[i] || s.From != "1708" || s.SourceTON != 3 || s.DestTON != 1 || s.DestNPI != 1 ||
			s.ESMClass != 0x40 || s.UDH == nil || s.RegisteredDelivery != 1 || s.DecodeErr != nil {
			t.Errorf("submit %d: %+v", i, s)
		}
		text += s.Text
	}
	if text != long {
		t.Errorf("SMSC reassembled %q, want %q", text, long)
	}
	// Both parts asked for a receipt: two DLRs come back as receipts.
	for range 2 {
		select {
		case a := <-f.h.seen:
			if a.in.PDU == nil || a.in.PDU.ESMClass&0x3C != 0x04 {
				t.Errorf("receipt %+v", a.in.PDU)
			}
		case <-f.ctx.Done():
			t.Fatal("no receipt")
		}
	}
}

func TestSMSCRefusedBindNeverUp(t *testing.T) {
	f := setup(t, smsctest.Config{}, func(c *smpp.OperatorConfig) { c.Password = "wrong" }, nil)
	ctx, cancel := context.WithTimeout(f.ctx, 200*time.Millisecond)
	defer cancel()
	if err := f.srv.WaitBound(ctx, 1); err == nil {
		t.Fatal("bound with a wrong password")
	}
	if f.op.BindsUp() != 0 {
		t.Error("BindsUp with a refused bind")
	}
}

func TestSMSCUnbindAndDisconnectRecover(t *testing.T) {
	f := setup(t, smsctest.Config{}, nil, func(smpp.Inbound) error { return nil })
	f.bound(t, 1)
	if err := f.srv.Unbind(f.ctx); err != nil {
		t.Fatalf("our unbind_resp: %v", err)
	}
	f.bound(t, 1)
	f.srv.Disconnect()
	// The SMSC may still count the dropped session for a moment: retry until an MO goes
	// through a new one.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for ; ; <-tick.C {
		st, err := f.srv.SendMO(f.ctx, smsctest.MO{From: "628111", To: "1708", Text: "masih hidup"})
		if err == nil && st == smpp.StatusOK {
			break
		}
		if f.ctx.Err() != nil {
			t.Fatalf("no MO after reconnect: %s, %v", st.Name(), err)
		}
	}
}

func TestSMSCUnansweredEnquireLinkReconnects(t *testing.T) {
	f := setup(t, smsctest.Config{Faults: smsctest.Faults{NoEnquireLinkResp: true}}, func(c *smpp.OperatorConfig) {
		c.EnquireLink, c.ResponseTimeout = 20*time.Millisecond, 50*time.Millisecond
	}, nil)
	f.bound(t, 1)
	// Our enquire_link goes unanswered: we drop the connection and bind again.
	if err := f.srv.WaitSessions(f.ctx, 0); err != nil {
		t.Fatalf("connection not dropped: %v", err)
	}
	f.srv.SetFaults(smsctest.Faults{})
	f.bound(t, 1)
}

func TestSMSCDrain(t *testing.T) {
	f := setup(t, smsctest.Config{}, func(c *smpp.OperatorConfig) { c.Binds = 2 }, func(smpp.Inbound) error { return nil })
	f.bound(t, 2)
	// Run's cleanup cancels: both binds unbind and the SMSC sees no session left.
	ctx, cancel := context.WithCancel(context.Background())
	op, err := smpp.NewOperator(smpp.OperatorConfig{Name: "x", Host: "127.0.0.1", Port: f.srv.Port(),
		SystemID: "sms1708", Password: "secret", Binds: 2}, f.h, smpp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- op.Run(ctx) }()
	f.bound(t, 4)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := f.srv.WaitSessions(f.ctx, 2); err != nil {
		t.Fatalf("sessions after drain: %v", err)
	}
}

package smpp_test

// One test per fake-SMSC scenario of issue 3 ("Fake SMSC scenarios"), each asserting what the
// daemon side did: the acks it sent, the statuses Send returned, reconnects and metrics
// (gathered from a fresh registry). Scenarios already covered elsewhere:
//
//   - no bind response ............ TestNoBindResponseTimesOut (session_test.go); here
//     TestScenarioNoBindResponse adds the fake SMSC's DropBindResp and the metrics
//   - bind rejected ............... TestBindRefusedRetriesMoreSlowly (session_test.go),
//     TestSMSCRefusedBindNeverUp (smsc_test.go)
//   - ESME_RALYBND on rebind ...... TestScenarioAlreadyBoundOnRebind
//   - unanswered enquire_link ..... TestEnquireLinkOursAndUnansweredCloses (session_test.go),
//     TestSMSCUnansweredEnquireLinkReconnects (smsc_test.go)
//   - generic_nack to a submit .... TestSubmitRefusedReturnsStatus (session_test.go),
//     TestScenarioGenericNackToSubmit
//   - late response ............... TestScenarioLateResponse
//   - missing response ............ TestResponseTimeoutFreesWindow (session_test.go),
//     TestScenarioMissingResponse
//   - mismatched response ......... TestSubmitMatchedBySeqAndCommand (session_test.go),
//     TestScenarioMismatchedResponse
//   - deliver_sm with the seq of a pending submit_sm ... TestDeliverSMWithSeqOfPendingSubmit
//     (session_test.go), TestSMSCMOWithSeqOfPendingSubmit (smsc_test.go)
//   - PDUs split across TCP reads . TestFramesSplitAcrossReads (session_test.go),
//     TestScenarioPDUsSplitAcrossReads
//   - several PDUs in one read .... TestScenarioSeveralPDUsInOneRead
//   - impossible lengths .......... TestImpossibleLengthNacksAndCloses (session_test.go),
//     TestScenarioImpossibleLength
//   - unknown commands ............ TestGenericNackForUnknownCommand (session_test.go),
//     TestScenarioUnknownCommand
//   - unbind from the SMSC ........ TestUnbindFromSMSC (session_test.go),
//     TestSMSCUnbindAndDisconnectRecover (smsc_test.go)
//   - TCP reset ................... TestConnectionResetFailsPendingAndReconnects
//     (session_test.go), TestScenarioTCPReset
//   - a peer that stops reading ... TestPeerThatStopsReadingCannotFreeze (session_test.go:
//     our write deadline), TestScenarioPeerStopsReading (Send and Close stay bounded)
//   - throttling and queue-full ... TestThrottledPausesSends (operator_test.go),
//     TestScenarioThrottling
//   - MO with receipted_message_id but esm_class 0 ... TestScenarioMOWithReceiptedMessageID
//   - data_sm MO .................. TestDataSMAnsweredWithDataSMResp (session_test.go),
//     TestScenarioDataSM
//   - last part first, two senders sharing a reference, duplicate parts, DLR formats: the
//     store's tests (reassembly and DLR parsing); the fake SMSC's senders are checked in
//     smsctest (TestSendPartsWire, TestSendReceiptFormatWire) and here, end to end, by
//     TestScenarioPartsAndReceiptFormats.
//   - TLS: tls_test.go.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
)

const scenarioLimit = 5 * time.Second

// boundSlack is what a bounded wait may overrun its own limit by on a loaded machine: the
// bound checked is "finite and about its limit", not a latency.
const boundSlack = 3 * time.Second

// recorder is a Handler that records every inbound PDU and answers it with verdict (nil:
// ESME_ROK) at once.
type recorder struct {
	mu      sync.Mutex
	ins     []smpp.Inbound
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) HandleInbound(in smpp.Inbound, done func(error)) {
	r.mu.Lock()
	r.ins = append(r.ins, in)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	done(nil)
}

// wait returns the first n inbound PDUs once there are n.
func (r *recorder) wait(t *testing.T, n int) []smpp.Inbound {
	t.Helper()
	deadline := time.NewTimer(scenarioLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if len(r.ins) >= n {
			out := append([]smpp.Inbound(nil), r.ins[:n]...)
			r.mu.Unlock()
			return out
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("handler saw fewer than %d inbound PDUs", n)
		}
	}
}

// opRun is an operator running until the test ends, with its own registry.
type opRun struct {
	t    *testing.T
	op   *smpp.Operator
	reg  *prometheus.Registry
	rec  *recorder
	stop func() time.Duration // cancels Run and waits for it; returns how long that took
}

func baseConfig(port int) smpp.OperatorConfig {
	return smpp.OperatorConfig{
		Name: "telkomsel", Host: "127.0.0.1", Port: port,
		SystemID: "sms1708", Password: "secret",
		Window: 4, EnquireLink: time.Hour,
		ResponseTimeout: 2 * time.Second, WriteTimeout: time.Second,
		DialTimeout: time.Second, BindTimeout: time.Second,
		ReconnectMin: 5 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		DrainTimeout: time.Second, SourceTON: 3, SourceNPI: 0,
	}
}

func runOperator(t *testing.T, cfg smpp.OperatorConfig) *opRun {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec := newRecorder()
	op, err := smpp.NewOperator(cfg, rec, smpp.Options{Metrics: smpp.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := op.Run(ctx); err != nil {
			t.Errorf("Run = %v", err)
		}
		close(done)
	}()
	var once sync.Once
	var took time.Duration
	r := &opRun{t: t, op: op, reg: reg, rec: rec}
	r.stop = func() time.Duration {
		once.Do(func() {
			begin := time.Now()
			cancel()
			select {
			case <-done:
			case <-time.After(2 * scenarioLimit):
				t.Error("Run did not return")
			}
			took = time.Since(begin)
		})
		return took
	}
	t.Cleanup(func() { r.stop() })
	return r
}

// scenario is a fake SMSC and an operator bound to it.
type scenario struct {
	*opRun
	srv *smsctest.Server
	ctx context.Context
}

func newScenario(t *testing.T, scfg smsctest.Config, mutate func(*smpp.OperatorConfig)) *scenario {
	t.Helper()
	scfg.Name, scfg.SystemID, scfg.Password = "telkomsel", "sms1708", "secret"
	srv, err := smsctest.NewServer(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := baseConfig(srv.Port())
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*scenarioLimit)
	t.Cleanup(cancel)
	return &scenario{opRun: runOperator(t, cfg), srv: srv, ctx: ctx}
}

func (sc *scenario) bound(n int) {
	sc.t.Helper()
	if err := sc.srv.WaitBound(sc.ctx, n); err != nil {
		sc.t.Fatalf("fake SMSC: %d bound: %v", n, err)
	}
	sc.eventually(fmt.Sprintf("binds_up = %d", n), func() bool { return sc.op.BindsUp() == n })
}

// metric sums the series of name whose labels include every pair of labels ("k", "v", …);
// operator is always telkomsel. A histogram gives its sample count. A missing series fails
// the test: every series exists at zero.
func (r *opRun) metric(name string, labels ...string) float64 {
	r.t.Helper()
	want := map[string]string{"operator": "telkomsel"}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	mfs, err := r.reg.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			found = true
			sum += metricValue(m)
		}
	}
	if !found {
		r.t.Fatalf("no series %s%v", name, want)
	}
	return sum
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// eventually polls cond until it holds or the deadline passes.
func (r *opRun) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(scenarioLimit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// wantMetric checks a metric's value now.
func (r *opRun) wantMetric(want float64, name string, labels ...string) {
	r.t.Helper()
	if got := r.metric(name, labels...); got != want {
		r.t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// atLeast waits until a metric reaches min.
func (r *opRun) atLeast(min float64, name string, labels ...string) {
	r.t.Helper()
	r.eventually(fmt.Sprintf("%s%v ≥ %v", name, labels, min), func() bool { return r.metric(name, labels...) >= min })
}

type sent struct {
	ids []string
	err error
}

func (r *opRun) sendAsync(ctx context.Context, msg string) <-chan sent {
	ch := make(chan sent, 1)
	go func() {
		ids, err := r.op.Send(ctx, "1708", "6281234567890", msg)
		ch <- sent{ids, err}
	}()
	return ch
}

func (r *opRun) result(ch <-chan sent) sent {
	r.t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(scenarioLimit):
		r.t.Fatal("Send did not return")
	}
	return sent{}
}

const (
	mBindFailures = "sms1708_smpp_bind_failures_total"
	mStates       = "sms1708_smpp_bind_state_changes_total"
	mReconnects   = "sms1708_smpp_reconnects_total"
	mBindsUp      = "sms1708_smpp_binds_up"
	mPDUs         = "sms1708_smpp_pdus_total"
	mMO           = "sms1708_smpp_mo_received_total"
	mSubmits      = "sms1708_smpp_submits_total"
	mInFlight     = "sms1708_smpp_window_in_flight"
	mThrottled    = "sms1708_smpp_throttled_total"
)

func TestScenarioNoBindResponse(t *testing.T) {
	sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{DropBindResp: true}}, func(c *smpp.OperatorConfig) {
		c.BindTimeout = 200 * time.Millisecond
	})
	sc.atLeast(2, mBindFailures, "reason", "timeout")
	sc.atLeast(1, mReconnects)
	if sc.op.BindsUp() != 0 {
		t.Error("bound without a bind_resp")
	}
	sc.wantMetric(0, mBindsUp)
	for _, b := range sc.srv.BindAttempts() {
		if !b.Dropped || b.Command != smpp.CmdBindTransceiver {
			t.Errorf("bind attempt %+v", b)
		}
	}
	sc.srv.SetFaults(smsctest.Faults{})
	sc.bound(1)
	sc.wantMetric(1, mBindsUp)
	sc.wantMetric(0, mBindFailures, "reason", "refused")
}

func TestScenarioAlreadyBoundOnRebind(t *testing.T) {
	const min = 20 * time.Millisecond
	sc := newScenario(t, smsctest.Config{}, func(c *smpp.OperatorConfig) {
		c.ReconnectMin, c.ReconnectMax = min, 400*time.Millisecond
	})
	sc.bound(1)
	// The SMSC still counts the old bind when the connection drops: every rebind is
	// answered ESME_RALYBND.
	sc.srv.SetFaults(smsctest.Faults{RejectBind: smpp.StatusAlyBnd})
	sc.srv.Disconnect()
	// Three refusals: backoffs in [2, 4]·min then [8, 16]·min, below ReconnectMax.
	const refusals = 3
	if err := sc.srv.WaitBindAttempts(sc.ctx, 1+refusals); err != nil {
		t.Fatal(err)
	}
	sc.atLeast(refusals, mBindFailures, "reason", "already_bound")
	sc.wantMetric(0, mBindsUp)
	attempts := sc.srv.BindAttempts()[1 : 1+refusals]
	for _, a := range attempts {
		if a.Status != smpp.StatusAlyBnd {
			t.Fatalf("attempt %+v, want ESME_RALYBND", a)
		}
	}
	// It slows down: after the drop the backoff is of attempt 1; each refusal then counts as
	// two failures, so the waits are backoff(3) ≥ 2·min and backoff(5) ≥ 8·min (jitter keeps
	// at least half of min·2^(attempt−1)), where a plain reconnect would wait ≥ min/2, ≥ min.
	// Only lower bounds: a loaded machine can make gaps longer, never shorter.
	for i, want := range []time.Duration{2 * min, 8 * min} {
		if gap := attempts[i+1].At.Sub(attempts[i].At); gap < want {
			t.Errorf("retry %d after %v, want ≥ %v", i+1, gap, want)
		}
	}
	sc.srv.SetFaults(smsctest.Faults{})
	sc.bound(1)
	sc.atLeast(2, mStates, "state", "bound")
}

func TestScenarioGenericNackToSubmit(t *testing.T) {
	tests := []struct {
		name   string
		status smpp.Status // the SMSC's SubmitStatus
		want   smpp.Status
	}{
		{"without a status", smpp.StatusOK, smpp.StatusInvCmdID},
		{"with a status", smpp.StatusSysErr, smpp.StatusSysErr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{
				SubmitReply: smsctest.ReplyGenericNack, SubmitStatus: tc.status}}, nil)
			sc.bound(1)
			_, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "halo")
			var st smpp.Status
			if !errors.As(err, &st) || st != tc.want {
				t.Fatalf("Send = %v, want status %s", err, tc.want.Name())
			}
			var pe interface{ Permanent() bool }
			if errors.As(err, &pe) && pe.Permanent() {
				t.Error("a generic_nack is not a permanent refusal")
			}
			sc.wantMetric(1, mPDUs, "command", "generic_nack", "direction", "in")
			sc.wantMetric(1, mSubmits, "outcome", "rejected")
			sc.wantMetric(0, mSubmits, "outcome", "ok")
			sc.wantMetric(0, mInFlight)
			sc.wantMetric(0, mReconnects) // the connection stays up
			if n := len(sc.srv.Rejected()); n != 1 {
				t.Errorf("SMSC rejected %d", n)
			}
		})
	}
}

func TestScenarioLateResponse(t *testing.T) {
	sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{SubmitReply: smsctest.ReplyHold}},
		func(c *smpp.OperatorConfig) { c.ResponseTimeout = time.Second })
	sc.bound(1)
	a := sc.sendAsync(sc.ctx, "pertama")
	if err := sc.srv.WaitHeld(sc.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := sc.result(a); !errors.Is(got.err, smpp.ErrResponseTimeout) {
		t.Fatalf("first Send = %v, %v; want ErrResponseTimeout", got.ids, got.err)
	}
	sc.wantMetric(1, mSubmits, "outcome", "timeout")
	// A second submit is pending when the first one's response finally arrives.
	b := sc.sendAsync(sc.ctx, "kedua")
	if err := sc.srv.WaitHeld(sc.ctx, 2); err != nil {
		t.Fatal(err)
	}
	sc.srv.ReleaseHeld(1)
	sc.eventually("late response read", func() bool {
		return sc.metric(mPDUs, "command", "submit_sm_resp", "direction", "in") == 1
	})
	select {
	case got := <-b:
		t.Fatalf("second Send completed by the first one's late response: %v, %v", got.ids, got.err)
	default:
	}
	sc.srv.ReleaseHeld(1)
	got := sc.result(b)
	subs := sc.srv.Submits()
	if len(subs) != 2 || subs[1].Text != "kedua" {
		t.Fatalf("SMSC submits %+v", subs)
	}
	if got.err != nil || len(got.ids) != 1 || got.ids[0] != subs[1].MessageID || got.ids[0] == subs[0].MessageID {
		t.Fatalf("second Send = %v, %v; want [%s]", got.ids, got.err, subs[1].MessageID)
	}
	sc.wantMetric(1, mSubmits, "outcome", "ok")
	sc.wantMetric(1, mSubmits, "outcome", "timeout")
	sc.wantMetric(0, mInFlight)
}

func TestScenarioMissingResponse(t *testing.T) {
	sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{SubmitReply: smsctest.ReplyNone}},
		func(c *smpp.OperatorConfig) { c.Window, c.ResponseTimeout = 1, time.Second })
	sc.bound(1)
	if _, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "hilang"); !errors.Is(err, smpp.ErrResponseTimeout) {
		t.Fatalf("Send = %v, want ErrResponseTimeout", err)
	}
	sc.wantMetric(1, mSubmits, "outcome", "timeout")
	sc.wantMetric(0, mInFlight)
	// The window slot came back: with a window of 1 the next submit goes out and succeeds.
	sc.srv.SetFaults(smsctest.Faults{})
	ids, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "ada")
	if err != nil || len(ids) != 1 {
		t.Fatalf("Send after a lost response = %v, %v", ids, err)
	}
	sc.wantMetric(0, mReconnects)
}

func TestScenarioMismatchedResponse(t *testing.T) {
	sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{SubmitReply: smsctest.ReplyWrongCommand}},
		func(c *smpp.OperatorConfig) { c.ResponseTimeout = 150 * time.Millisecond })
	sc.bound(1)
	_, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "halo")
	if !errors.Is(err, smpp.ErrResponseTimeout) {
		t.Fatalf("Send = %v, want ErrResponseTimeout: a deliver_sm_resp with our seq is not our response", err)
	}
	sc.wantMetric(1, mPDUs, "command", "deliver_sm_resp", "direction", "in")
	sc.wantMetric(1, mSubmits, "outcome", "timeout")
	sc.wantMetric(0, mSubmits, "outcome", "ok")
}

func TestScenarioPDUsSplitAcrossReads(t *testing.T) {
	sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{SplitWrites: true}}, nil)
	sc.bound(1) // the bind_resp came one byte at a time too
	st, err := sc.srv.SendMO(sc.ctx, smsctest.MO{From: "6281234567890", To: "1708", Text: "LAPOR jalan rusak"})
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("SendMO = %s, %v", st.Name(), err)
	}
	in := sc.rec.wait(t, 1)[0]
	if in.PDU == nil || string(in.PDU.ShortMessage) != "LAPOR jalan rusak" {
		t.Fatalf("inbound %+v", in)
	}
	ids, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "diterima")
	if err != nil || len(ids) != 1 || ids[0] != sc.srv.Submits()[0].MessageID {
		t.Fatalf("Send = %v, %v", ids, err)
	}
	sc.wantMetric(1, mMO, "kind", "mo")
	sc.wantMetric(0, mReconnects)
}

func TestScenarioSeveralPDUsInOneRead(t *testing.T) {
	sc := newScenario(t, smsctest.Config{}, nil)
	sc.bound(1)
	var mos []smsctest.MO
	for i := range 5 {
		mos = append(mos, smsctest.MO{From: "6281234567890", To: "1708", Text: fmt.Sprintf("aduan %d", i)})
	}
	mos = append(mos, smsctest.MO{From: "6281234567891", To: "1708", Text: "data", DataSM: true})
	st, err := sc.srv.SendBurst(sc.ctx, mos)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if s != smpp.StatusOK {
			t.Errorf("PDU %d answered %s", i, s.Name())
		}
	}
	ins := sc.rec.wait(t, len(mos))
	for i, in := range ins {
		if got := string(in.PDU.Payload()); got != mos[i].Text {
			t.Errorf("inbound %d = %q, want %q (arrival order)", i, got, mos[i].Text)
		}
	}
	sc.wantMetric(6, mMO, "kind", "mo")
	sc.wantMetric(5, mPDUs, "command", "deliver_sm_resp", "direction", "out")
	sc.wantMetric(1, mPDUs, "command", "data_sm_resp", "direction", "out")
}

// header is a bare PDU header.
func rawHeader(length, cmd uint32, status smpp.Status, seq uint32) []byte {
	b := make([]byte, 0, 16)
	for _, v := range []uint32{length, cmd, uint32(status), seq} {
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return b
}

func TestScenarioImpossibleLength(t *testing.T) {
	tests := []struct {
		name   string
		length uint32
	}{
		{"huge", 0xFFFFFFF0},
		{"shorter than a header", 8},
		{"just over the limit", smpp.MaxPDULen + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScenario(t, smsctest.Config{}, nil)
			sc.bound(1)
			resp, err := sc.srv.SendRaw(sc.ctx, rawHeader(tc.length, smpp.CmdDeliverSM, 0, 42))
			if err != nil {
				t.Fatal(err)
			}
			if resp.CommandID != smpp.CmdGenericNack || resp.Status != smpp.StatusInvCmdLen || resp.Seq != 42 {
				t.Fatalf("answer %s %s seq %d, want generic_nack ESME_RINVCMDLEN seq 42",
					smpp.CommandName(resp.CommandID), resp.Status.Name(), resp.Seq)
			}
			// The stream cannot be re-framed: the connection is closed and bound anew.
			if err := sc.srv.WaitBindAttempts(sc.ctx, 2); err != nil {
				t.Fatal(err)
			}
			sc.atLeast(1, mStates, "state", "closed")
			sc.atLeast(1, mReconnects)
			sc.eventually("rebound", func() bool { return sc.op.BindsUp() == 1 })
			sc.wantMetric(1, mPDUs, "command", "generic_nack", "direction", "out")
			sc.wantMetric(0, mMO, "kind", "mo")
		})
	}
}

func TestScenarioUnknownCommand(t *testing.T) {
	tests := []struct {
		name string
		cmd  uint32
	}{
		{"unassigned id", 0x00000077},
		{"alert_notification", 0x00000102},
		{"query_sm", 0x00000003},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScenario(t, smsctest.Config{}, nil)
			sc.bound(1)
			resp, err := sc.srv.SendRaw(sc.ctx, rawHeader(16, tc.cmd, 0, 9))
			if err != nil {
				t.Fatal(err)
			}
			if resp.CommandID != smpp.CmdGenericNack || resp.Status != smpp.StatusInvCmdID || resp.Seq != 9 {
				t.Fatalf("answer %s %s seq %d, want generic_nack ESME_RINVCMDID seq 9",
					smpp.CommandName(resp.CommandID), resp.Status.Name(), resp.Seq)
			}
			// The connection survives: an MO still goes through the same session.
			if st, err := sc.srv.SendMO(sc.ctx, smsctest.MO{From: "628111", To: "1708", Text: "masih"}); err != nil || st != smpp.StatusOK {
				t.Fatalf("SendMO after the unknown command = %s, %v", st.Name(), err)
			}
			sc.wantMetric(0, mReconnects)
			sc.wantMetric(1, mPDUs, "command", "generic_nack", "direction", "out")
			if n := len(sc.srv.BindAttempts()); n != 1 {
				t.Errorf("%d binds, want 1", n)
			}
		})
	}
}

func TestScenarioTCPReset(t *testing.T) {
	sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{SubmitReply: smsctest.ReplyHold}}, nil)
	sc.bound(1)
	res := sc.sendAsync(sc.ctx, "halo")
	if err := sc.srv.WaitHeld(sc.ctx, 1); err != nil {
		t.Fatal(err)
	}
	sc.srv.Reset()
	// ErrConnectionLost, not ErrResponseTimeout: the reset itself failed the pending submit.
	got := sc.result(res)
	if !errors.Is(got.err, smpp.ErrConnectionLost) {
		t.Fatalf("Send = %v, %v; want ErrConnectionLost", got.ids, got.err)
	}
	sc.wantMetric(1, mSubmits, "outcome", "lost")
	sc.wantMetric(0, mInFlight)
	sc.atLeast(1, mStates, "state", "closed")
	sc.srv.SetFaults(smsctest.Faults{})
	if err := sc.srv.WaitBindAttempts(sc.ctx, 2); err != nil {
		t.Fatal(err)
	}
	sc.bound(1)
	sc.atLeast(1, mReconnects)
	if ids, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "lagi"); err != nil || len(ids) != 1 {
		t.Fatalf("Send after reconnect = %v, %v", ids, err)
	}
}

func TestScenarioPeerStopsReading(t *testing.T) {
	const (
		respTimeout = 200 * time.Millisecond
		drain       = 300 * time.Millisecond
	)
	sc := newScenario(t, smsctest.Config{}, func(c *smpp.OperatorConfig) {
		c.ResponseTimeout, c.WriteTimeout, c.DrainTimeout = respTimeout, 100*time.Millisecond, drain
	})
	sc.bound(1)
	sc.srv.SetFaults(smsctest.Faults{StopReading: true})
	// Send has no deadline of its own: the response timeout (or the write deadline) bounds it.
	begin := time.Now()
	_, err := sc.op.Send(context.Background(), "1708", "6281234567890", "halo")
	if !errors.Is(err, smpp.ErrResponseTimeout) && !errors.Is(err, smpp.ErrConnectionLost) {
		t.Fatalf("Send = %v, want a response timeout or a lost connection", err)
	}
	if d := time.Since(begin); d > respTimeout+boundSlack {
		t.Errorf("Send took %v", d)
	}
	// Close (drain: an unbind nobody reads) is bounded too.
	if d := sc.stop(); d > drain+respTimeout+boundSlack {
		t.Errorf("stopping the operator took %v", d)
	}
	sc.wantMetric(1, mPDUs, "command", "unbind", "direction", "out")
}

func TestScenarioThrottling(t *testing.T) {
	// Far apart, so that which pause ran shows whatever the machine's load: ESME_RTHROTTLED
	// must let the next submit through well before queueFullPause; after ESME_RMSGQFUL
	// nothing may go for (at least) probe.
	const (
		throttlePause  = 100 * time.Millisecond
		queueFullPause = time.Minute
		probe          = 500 * time.Millisecond
	)
	tests := []struct {
		name    string
		status  smpp.Status
		outcome string
	}{
		{"throttled", smpp.StatusThrottled, "throttled"},
		{"queue full", smpp.StatusMsgQFul, "queue_full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScenario(t, smsctest.Config{Faults: smsctest.Faults{SubmitStatus: tc.status}}, func(c *smpp.OperatorConfig) {
				c.ThrottlePause, c.QueueFullPause = throttlePause, queueFullPause
			})
			sc.bound(1)
			_, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "satu")
			var st smpp.Status
			if !errors.As(err, &st) || st != tc.status {
				t.Fatalf("Send = %v, want %s", err, tc.status.Name())
			}
			sc.srv.SetFaults(smsctest.Faults{})
			sc.wantMetric(1, mThrottled)
			sc.wantMetric(1, mSubmits, "outcome", tc.outcome)
			if tc.status == smpp.StatusMsgQFul {
				ctx, cancel := context.WithTimeout(sc.ctx, probe)
				defer cancel()
				if _, err := sc.op.Send(ctx, "1708", "6281234567890", "dua"); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Send during the queue-full pause = %v, want it to wait out its context", err)
				}
				if n := len(sc.srv.Submits()); n != 0 {
					t.Errorf("%d submits reached the SMSC during the pause", n)
				}
				return
			}
			if _, err := sc.op.Send(sc.ctx, "1708", "6281234567890", "dua"); err != nil {
				t.Fatalf("Send after the pause: %v", err)
			}
			gap := sc.srv.Submits()[0].At.Sub(sc.srv.Rejected()[0].At)
			if gap < throttlePause {
				t.Errorf("next submit %v after ESME_RTHROTTLED, want ≥ %v", gap, throttlePause)
			}
			sc.wantMetric(1, mSubmits, "outcome", "ok")
			sc.wantMetric(0, mReconnects)
		})
	}
}

func TestScenarioMOWithReceiptedMessageID(t *testing.T) {
	sc := newScenario(t, smsctest.Config{}, nil)
	sc.bound(1)
	st, err := sc.srv.SendMO(sc.ctx, smsctest.MO{From: "6281234567890", To: "1708", Text: "balas tiket",
		TLVs: []smpp.TLV{{Tag: smpp.TagReceiptedMessageID, Value: []byte("5F3A1B2C\x00")}}})
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("SendMO = %s, %v", st.Name(), err)
	}
	in := sc.rec.wait(t, 1)[0]
	if v, ok := in.PDU.TLV(smpp.TagReceiptedMessageID); !ok || string(v) != "5F3A1B2C\x00" || in.PDU.ESMClass != 0 {
		t.Fatalf("inbound %+v", in.PDU)
	}
	// esm_class decides: an MO, not a receipt.
	sc.wantMetric(1, mMO, "kind", "mo")
	sc.wantMetric(0, mMO, "kind", "receipt")
}

func TestScenarioDataSM(t *testing.T) {
	sc := newScenario(t, smsctest.Config{}, nil)
	sc.bound(1)
	st, err := sc.srv.SendMO(sc.ctx, smsctest.MO{From: "6281234567890", To: "1708", Text: "LAPOR lewat data sm", DataSM: true})
	if err != nil || st != smpp.StatusOK {
		t.Fatalf("SendMO(data_sm) = %s, %v", st.Name(), err)
	}
	in := sc.rec.wait(t, 1)[0]
	if in.PDU.CommandID != smpp.CmdDataSM || string(in.PDU.Payload()) != "LAPOR lewat data sm" || in.PDU.SourceAddr != "6281234567890" {
		t.Fatalf("inbound %+v", in.PDU)
	}
	sc.wantMetric(1, mPDUs, "command", "data_sm", "direction", "in")
	sc.wantMetric(1, mPDUs, "command", "data_sm_resp", "direction", "out")
	sc.wantMetric(0, mPDUs, "command", "generic_nack", "direction", "out")
	sc.wantMetric(1, mMO, "kind", "mo")
}

func TestScenarioPartsAndReceiptFormats(t *testing.T) {
	sc := newScenario(t, smsctest.Config{}, nil)
	sc.bound(1)
	long := strings.Repeat("jalan rusak parah ", 20) // 360 septets: 3 parts
	st, err := sc.srv.SendParts(sc.ctx, "6281234567890", "1708", long,
		smsctest.PartsOpts{Ref: 0x1234, Ref16: true, Order: []int{3, 1, 2}, Duplicate: []int{1}})
	if err != nil || len(st) != 4 {
		t.Fatalf("SendParts = %v, %v", st, err)
	}
	for _, rc := range []smsctest.ReceiptOpts{
		{From: "6281234567890", To: "1708", MessageID: "5F3A1B2C", Format: smsctest.ReceiptTLVOnly},
		{From: "6281234567890", To: "1708", MessageID: "5F3A1B2C", Format: smsctest.ReceiptTextOnly, TextIDDecimal: true, TextIDPad: 20, UpperCase: true},
	} {
		if s, err := sc.srv.SendReceiptFormat(sc.ctx, rc); err != nil || s != smpp.StatusOK {
			t.Fatalf("SendReceiptFormat = %s, %v", s.Name(), err)
		}
	}
	ins := sc.rec.wait(t, 6)
	var seqs []int
	for _, in := range ins[:4] {
		sm := in.PDU.ShortMessage
		if in.PDU.ESMClass != 0x40 || len(sm) < 7 || sm[1] != 0x08 || sm[3] != 0x12 || sm[4] != 0x34 || sm[5] != 3 {
			t.Fatalf("part UDH % X", sm[:min(7, len(sm))])
		}
		seqs = append(seqs, int(sm[6]))
	}
	if fmt.Sprint(seqs) != "[3 1 2 1]" {
		t.Errorf("parts arrived as %v, want [3 1 2 1]", seqs)
	}
	sc.wantMetric(4, mMO, "kind", "mo")
	sc.wantMetric(2, mMO, "kind", "receipt")
	sc.wantMetric(6, mPDUs, "command", "deliver_sm_resp", "direction", "out")
}

package smpp

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBindTransceiver(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.accept(t)
	b := pc.read()
	want := PDU{CommandID: CmdBindTransceiver, Seq: 1, SystemID: "sms1708", Password: "secret", InterfaceVersion: 0x34}
	if b.CommandID != want.CommandID || b.Seq != 1 || b.SystemID != want.SystemID || b.Password != want.Password || b.InterfaceVersion != 0x34 {
		t.Fatalf("bind = %+v, want %+v", b, want)
	}
	if r.o.BindsUp() != 0 {
		t.Error("BindsUp before bind_resp")
	}
	pc.write(&PDU{CommandID: CmdBindTransceiver | RespBit, Seq: 1, SystemID: "SMSC"})
	eventually(t, "bind up", func() bool { return r.o.BindsUp() == 1 })
	if got := testutil.ToFloat64(r.o.m.m.bindsUp.WithLabelValues("telkomsel")); got != 1 {
		t.Errorf("binds_up = %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.o.m.m.bindStateChanges.WithLabelValues("telkomsel", "telkomsel/0", stateBound)); got != 1 {
		t.Errorf("bind_state_changes{bound} = %v, want 1", got)
	}
}

func TestBindTransmitterReceiverPair(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.Bind = BindTransmitterReceiver
	r := start(t, cfg, newHandler(), Options{})
	got := map[uint32]bool{}
	for range 2 {
		pc := p.accept(t)
		b := pc.read()
		got[b.CommandID] = true
		if len(got) == 1 {
			if r.o.BindsUp() != 0 {
				t.Error("BindsUp counts half a pair")
			}
		}
		pc.write(&PDU{CommandID: b.CommandID | RespBit, Seq: b.Seq})
	}
	if !got[CmdBindTransmitter] || !got[CmdBindReceiver] {
		t.Fatalf("binds = %v, want one transmitter and one receiver", got)
	}
	eventually(t, "pair up", func() bool { return r.o.BindsUp() == 1 })
}

func TestBindRefusedRetriesMoreSlowly(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.ReconnectMin, cfg.ReconnectMax = 40*time.Millisecond, time.Second
	r := start(t, cfg, newHandler(), Options{})
	var refusedAt time.Time
	for i := range 2 {
		pc := p.accept(t)
		if i == 1 {
			// A refused bind counts as two failures: the wait is at least ReconnectMin
			// (backoff of attempt 2 is in [ReconnectMin, 2·ReconnectMin]).
			if gap := time.Since(refusedAt); gap < cfg.ReconnectMin {
				t.Errorf("retry after %v, want at least %v", gap, cfg.ReconnectMin)
			}
		}
		b := pc.read()
		pc.write(&PDU{CommandID: b.CommandID | RespBit, Status: StatusInvPaswd, Seq: b.Seq})
		refusedAt = time.Now()
	}
	eventually(t, "failed state counted", func() bool {
		return testutil.ToFloat64(r.o.m.m.bindStateChanges.WithLabelValues("telkomsel", "telkomsel/0", stateFailed)) >= 2
	})
	eventually(t, "bind_failures{refused} counted", func() bool {
		return testutil.ToFloat64(r.o.m.m.bindFailures.WithLabelValues("telkomsel", "telkomsel/0", failRefused)) >= 2
	})
	if got := testutil.ToFloat64(r.o.m.m.reconnects.WithLabelValues("telkomsel", "telkomsel/0")); got < 1 {
		t.Errorf("reconnects = %v, want ≥ 1", got)
	}
	if r.o.BindsUp() != 0 {
		t.Error("a refused bind counts as up")
	}
}

func TestBackoff(t *testing.T) {
	o := &Operator{cfg: OperatorConfig{ReconnectMin: 100 * time.Millisecond, ReconnectMax: time.Second}}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 500 * time.Millisecond, time.Second}, // capped
		{60, 500 * time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		for range 100 {
			if d := o.backoff(tc.attempt); d < tc.min || d > tc.max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}

func TestNoBindResponseTimesOut(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.BindTimeout = 50 * time.Millisecond
	start(t, cfg, newHandler(), Options{})
	pc := p.accept(t)
	pc.read() // the bind, never answered
	pc.expectClosed()
	p.bound(t) // and it tries again
}

func TestEnquireLinkFromSMSCAnswered(t *testing.T) {
	p := newPeer(t)
	start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	pc.ping(77)
	pc.ping(0x7FFFFFFF)
}

func TestEnquireLinkOursAndUnansweredCloses(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.EnquireLink = 20 * time.Millisecond
	cfg.ResponseTimeout = 500 * time.Millisecond // the answered one must make it on a loaded machine
	r := start(t, cfg, newHandler(), Options{})
	pc := p.bound(t)
	e := pc.expect(CmdEnquireLink, StatusOK, 0)
	pc.write(&PDU{CommandID: CmdEnquireLink | RespBit, Seq: e.Seq})
	e2 := pc.expect(CmdEnquireLink, StatusOK, 0)
	if e2.Seq == e.Seq {
		t.Errorf("enquire_link reused seq %d", e.Seq)
	}
	// Unanswered: we close within ResponseTimeout and bind again.
	pc.expectClosed()
	p.bound(t)
	eventually(t, "rebound", func() bool { return r.o.BindsUp() == 1 })
}

func TestUnbindFromSMSC(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	eventually(t, "bound", func() bool { return r.o.BindsUp() == 1 })
	pc.write(&PDU{CommandID: CmdUnbind, Seq: 9})
	pc.expect(CmdUnbind|RespBit, StatusOK, 9)
	pc.expectClosed()
	p.bound(t) // reconnects
}

func TestDrainUnbinds(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	eventually(t, "bound", func() bool { return r.o.BindsUp() == 1 })
	done := r.stopAsync()
	u := pc.expect(CmdUnbind, StatusOK, 0)
	pc.write(&PDU{CommandID: CmdUnbind | RespBit, Seq: u.Seq})
	wait(t, done)
	if err := r.err; err != nil {
		t.Errorf("Run = %v, want nil after a drain", err)
	}
	pc.expectClosed()
}

func TestDrainWithUnansweredUnbindIsBounded(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.ResponseTimeout = 100 * time.Millisecond
	r := start(t, cfg, newHandler(), Options{})
	pc := p.bound(t)
	eventually(t, "bound", func() bool { return r.o.BindsUp() == 1 })
	begin := time.Now()
	done := r.stopAsync()
	pc.expect(CmdUnbind, StatusOK, 0) // never answered
	wait(t, done)
	if d := time.Since(begin); d > cfg.ResponseTimeout+boundSlack {
		t.Errorf("drain took %v with an unanswered unbind", d)
	}
}

func deliverSM(seq uint32, text string) *PDU {
	return &PDU{CommandID: CmdDeliverSM, Seq: seq, SourceTON: 1, SourceNPI: 1, SourceAddr: "6281234567890",
		DestAddr: "1708", ShortMessage: []byte(text)}
}

func TestDeliverSMAnsweredAfterDone(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Status
	}{
		{"stored", nil, StatusOK},
		{"not stored", errors.New("store: commit failed"), StatusXTAppn},
		{"dead letter", StatusXPAppn, StatusXPAppn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t)
			h := newHandler()
			r := start(t, testConfig(p.port()), h, Options{})
			pc := p.bound(t)
			pc.write(deliverSM(5, "LAPOR jalan rusak"))
			c := h.next(t)
			if c.in.PDU == nil || string(c.in.PDU.ShortMessage) != "LAPOR jalan rusak" || c.in.Operator != "telkomsel" ||
				c.in.Bind != "telkomsel/0" || c.in.DecodeErr != nil || len(c.in.Raw) == 0 || c.in.ReceivedAt.IsZero() {
				t.Fatalf("inbound = %+v", c.in)
			}
			// Nothing answered before done: the next frame is the ping's response.
			pc.ping(100)
			c.done(tc.err)
			pc.expect(CmdDeliverSM|RespBit, tc.want, 5)
			c.done(nil) // a second call is ignored
			pc.ping(101)
			if got := testutil.ToFloat64(r.o.m.m.moReceived.WithLabelValues("telkomsel", kindMO)); got != 1 {
				t.Errorf("mo_received{mo} = %v, want 1", got)
			}
		})
	}
}

func TestDataSMAnsweredWithDataSMResp(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	pc.write(&PDU{CommandID: CmdDataSM, Seq: 8, SourceAddr: "628222", DestAddr: "1708",
		TLVs: []TLV{{Tag: TagMessagePayload, Value: []byte("halo")}}})
	c := h.next(t)
	if string(c.in.PDU.Payload()) != "halo" {
		t.Fatalf("payload %q", c.in.PDU.Payload())
	}
	c.done(nil)
	pc.expect(CmdDataSM|RespBit, StatusOK, 8)
}

func TestReceiptCountedAsReceipt(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	r := start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	d := deliverSM(3, "id:1 stat:DELIVRD")
	d.ESMClass = 0x04
	pc.write(d)
	h.next(t).done(nil)
	pc.expect(CmdDeliverSM|RespBit, StatusOK, 3)
	if got := testutil.ToFloat64(r.o.m.m.moReceived.WithLabelValues("telkomsel", kindReceipt)); got != 1 {
		t.Errorf("mo_received{receipt} = %v, want 1", got)
	}
}

func TestUndecodableDeliverSMHandedOverRaw(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	r := start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	// deliver_sm whose sm_length (0x20) runs past the body.
	raw := wire(t, "00000000 00000005 00000000 0000000B",
		"00 0101", cstr("628"), "0000", cstr("1708"), "00 00 00 00 00 00 00 00 00", "20", hexOf("abc"))
	binary.BigEndian.PutUint32(raw, uint32(len(raw)))
	pc.writeRaw(raw)
	c := h.next(t)
	if c.in.DecodeErr == nil || c.in.PDU != nil {
		t.Fatalf("inbound = %+v, want DecodeErr and no PDU", c.in)
	}
	checkBytes(t, "Raw", raw, c.in.Raw)
	c.done(StatusXPAppn)
	pc.expect(CmdDeliverSM|RespBit, StatusXPAppn, 11)
	if got := testutil.ToFloat64(r.o.m.m.moReceived.WithLabelValues("telkomsel", kindDead)); got != 1 {
		t.Errorf("mo_received{dead} = %v, want 1", got)
	}
	pc.ping(1) // the connection survives
}

func TestDoneAfterConnectionDiedSendsNothing(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	r := start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	pc.write(deliverSM(5, "hello"))
	c := h.next(t)
	pc.reset()
	pc2 := p.bound(t)
	eventually(t, "rebound", func() bool { return r.o.BindsUp() == 1 })
	c.done(nil)
	// The answer belonged to the dead connection: nothing arrives on the new one.
	pc2.ping(2)
}

func TestDeliverSMWithSeqOfPendingSubmit(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	r := start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	res := sendAsync(r.o, context.Background(), "halo")
	sub := pc.expect(CmdSubmitSM, StatusOK, 0)
	// An MO that happens to carry the seq of our pending submit_sm is an MO, not a response.
	pc.write(deliverSM(sub.Seq, "tabrakan"))
	c := h.next(t)
	if string(c.in.PDU.ShortMessage) != "tabrakan" {
		t.Fatalf("MO %q", c.in.PDU.ShortMessage)
	}
	c.done(nil)
	pc.expect(CmdDeliverSM|RespBit, StatusOK, sub.Seq)
	select {
	case got := <-res:
		t.Fatalf("Send completed by a deliver_sm: %+v", got)
	default:
	}
	pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: "m1"})
	got := wait(t, res)
	if got.err != nil || len(got.ids) != 1 || got.ids[0] != "m1" {
		t.Fatalf("Send = %v, %v; want [m1]", got.ids, got.err)
	}
}

func TestSubmitMatchedBySeqAndCommand(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	res := sendAsync(r.o, context.Background(), "Tiket 1234567890 diterima")
	sub := pc.expect(CmdSubmitSM, StatusOK, 0)
	want := PDU{CommandID: CmdSubmitSM, Seq: sub.Seq, SourceTON: 3, SourceNPI: 0, SourceAddr: "1708",
		DestTON: 1, DestNPI: 1, DestAddr: "6281234567890", RegisteredDelivery: 1, DataCoding: 0,
		ShortMessage: []byte("Tiket 1234567890 diterima")}
	if sub.SourceTON != want.SourceTON || sub.SourceAddr != want.SourceAddr || sub.DestTON != 1 || sub.DestNPI != 1 ||
		sub.DestAddr != want.DestAddr || sub.RegisteredDelivery != 1 || sub.DataCoding != 0 || sub.ESMClass != 0 ||
		string(sub.ShortMessage) != string(want.ShortMessage) {
		t.Fatalf("submit_sm = %+v\nwant %+v", sub, want)
	}
	if sub.Seq < 2 || sub.Seq > maxSeq {
		t.Errorf("seq %d: want 2.. (1 is the bind)", sub.Seq)
	}
	// Right seq, wrong response type, then wrong seq: neither completes it.
	pc.write(&PDU{CommandID: CmdDeliverSM | RespBit, Seq: sub.Seq})
	pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq + 1000, MessageID: "wrong"})
	pc.ping(50)
	pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: "abc123"})
	got := wait(t, res)
	if got.err != nil || len(got.ids) != 1 || got.ids[0] != "abc123" {
		t.Fatalf("Send = %v, %v", got.ids, got.err)
	}
	if v := testutil.ToFloat64(r.o.m.m.submits.WithLabelValues("telkomsel", outcomeOK)); v != 1 {
		t.Errorf("submits{ok} = %v", v)
	}
}

func TestSubmitRefusedReturnsStatus(t *testing.T) {
	tests := []struct {
		name      string
		status    Status
		permanent bool
	}{
		{"invalid destination", 0x0B, true},
		{"system error", StatusSysErr, false},
		{"generic_nack", StatusInvCmdID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t)
			r := start(t, testConfig(p.port()), newHandler(), Options{})
			pc := p.bound(t)
			res := sendAsync(r.o, context.Background(), "x")
			sub := pc.expect(CmdSubmitSM, StatusOK, 0)
			cmd := CmdSubmitSM | RespBit
			if tc.name == "generic_nack" {
				cmd = CmdGenericNack
			}
			pc.write(&PDU{CommandID: cmd, Status: tc.status, Seq: sub.Seq})
			got := wait(t, res)
			var st Status
			if !errors.As(got.err, &st) || st != tc.status {
				t.Fatalf("Send error %v, want status %s", got.err, tc.status.Name())
			}
			var pe interface{ Permanent() bool }
			if !errors.As(got.err, &pe) || pe.Permanent() != tc.permanent {
				t.Errorf("Permanent = %v, want %v", pe != nil && pe.Permanent(), tc.permanent)
			}
		})
	}
}

func TestGenericNackForUnknownCommand(t *testing.T) {
	p := newPeer(t)
	start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	pc.writeRaw(wire(t, "00000010 00000077 00000000 00000009"))
	pc.expect(CmdGenericNack, StatusInvCmdID, 9)
	// A submit_sm from the SMSC is known but not for us.
	pc.write(&PDU{CommandID: CmdSubmitSM, Seq: 10})
	pc.expect(CmdSubmitSM|RespBit, StatusInvBndSts, 10)
	pc.ping(11) // still up
}

func TestImpossibleLengthNacksAndCloses(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	pc.writeRaw(wire(t, "FFFFFFF0 00000005 00000000 0000002A"))
	pc.expect(CmdGenericNack, StatusInvCmdLen, 42)
	pc.expectClosed()
	p.bound(t)
	eventually(t, "rebound", func() bool { return r.o.BindsUp() == 1 })
}

func TestFramesSplitAcrossReads(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	b, _ := deliverSM(21, "split").Marshal()
	e, _ := (&PDU{CommandID: CmdEnquireLink, Seq: 22}).Marshal()
	stream := append(b, e...)
	for i := range stream {
		pc.writeRaw(stream[i : i+1])
	}
	pc.expect(CmdEnquireLink|RespBit, StatusOK, 22)
	c := h.next(t)
	if string(c.in.PDU.ShortMessage) != "split" {
		t.Fatalf("MO %q", c.in.PDU.ShortMessage)
	}
	c.done(nil)
	pc.expect(CmdDeliverSM|RespBit, StatusOK, 21)
}

func TestWindowRespected(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.Window = 2
	r := start(t, cfg, newHandler(), Options{})
	pc := p.bound(t)
	const n = 5
	results := make([]chan sendResult, n)
	for i := range results {
		results[i] = sendAsync(r.o, context.Background(), "m")
	}
	var outstanding []*PDU
	answered := 0
	for answered < n {
		if len(outstanding) < cfg.Window && answered+len(outstanding) < n {
			outstanding = append(outstanding, pc.expect(CmdSubmitSM, StatusOK, 0))
			continue
		}
		// The window is full: nothing more may arrive until we answer. Prove it with a
		// ping (the window's submits would have been written before its response).
		if len(outstanding) == cfg.Window {
			eventually(t, "window gauge", func() bool {
				return testutil.ToFloat64(r.o.m.m.windowInFlight.WithLabelValues("telkomsel", "telkomsel/0")) == 2
			})
			pc.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if f, err := ReadFrame(pc.c); err == nil {
				cmd, _, _, _ := FrameHeader(f)
				t.Fatalf("got %s with a full window", CommandName(cmd))
			}
		}
		s := outstanding[0]
		outstanding = outstanding[1:]
		pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: s.Seq, MessageID: "id"})
		answered++
	}
	for _, ch := range results {
		if got := wait(t, ch); got.err != nil {
			t.Errorf("Send: %v", got.err)
		}
	}
}

func TestResponseTimeoutFreesWindow(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.Window = 1
	cfg.ResponseTimeout = 500 * time.Millisecond // the second submit must make it on a loaded machine
	r := start(t, cfg, newHandler(), Options{})
	pc := p.bound(t)
	res := sendAsync(r.o, context.Background(), "a")
	pc.expect(CmdSubmitSM, StatusOK, 0) // never answered
	got := wait(t, res)
	if !errors.Is(got.err, ErrResponseTimeout) {
		t.Fatalf("Send = %v, want ErrResponseTimeout", got.err)
	}
	res = sendAsync(r.o, context.Background(), "b")
	sub := pc.expect(CmdSubmitSM, StatusOK, 0)
	pc.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: "late"})
	if got := wait(t, res); got.err != nil {
		t.Fatalf("second Send: %v", got.err)
	}
	if v := testutil.ToFloat64(r.o.m.m.submits.WithLabelValues("telkomsel", outcomeTimeout)); v != 1 {
		t.Errorf("submits{timeout} = %v", v)
	}
}

func TestConnectionResetFailsPendingAndReconnects(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	pc := p.bound(t)
	res := sendAsync(r.o, context.Background(), "a")
	pc.expect(CmdSubmitSM, StatusOK, 0)
	begin := time.Now()
	pc.reset()
	got := wait(t, res)
	if !errors.Is(got.err, ErrConnectionLost) {
		t.Fatalf("Send = %v, want ErrConnectionLost", got.err)
	}
	if d := time.Since(begin); d > boundSlack {
		t.Errorf("pending submit failed after %v, want at once", d)
	}
	pc2 := p.bound(t)
	eventually(t, "rebound", func() bool { return r.o.BindsUp() == 1 })
	res = sendAsync(r.o, context.Background(), "b")
	sub := pc2.expect(CmdSubmitSM, StatusOK, 0)
	pc2.write(&PDU{CommandID: CmdSubmitSM | RespBit, Seq: sub.Seq, MessageID: "x"})
	if got := wait(t, res); got.err != nil {
		t.Fatal(got.err)
	}
}

func TestSendWaitsForBindWithinContext(t *testing.T) {
	p := newPeer(t)
	r := start(t, testConfig(p.port()), newHandler(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := r.o.Send(ctx, "1708", "628", "x") // never bound: the peer does not answer
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want deadline exceeded", err)
	}
}

func TestDrainRefusesNewMOAndWaitsForDone(t *testing.T) {
	p := newPeer(t)
	h := newHandler()
	r := start(t, testConfig(p.port()), h, Options{})
	pc := p.bound(t)
	pc.write(deliverSM(1, "first"))
	c := h.next(t)
	done := r.stopAsync()
	eventually(t, "stopped", func() bool {
		r.o.mu.Lock()
		defer r.o.mu.Unlock()
		return r.o.stopped
	})
	// Draining: a new MO is refused for later, the handler never sees it.
	pc.write(deliverSM(2, "second"))
	pc.expect(CmdDeliverSM|RespBit, StatusXTAppn, 2)
	if _, err := r.o.Send(context.Background(), "1708", "628", "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Send while draining = %v, want ErrClosed", err)
	}
	// The handed-out MO is still answered, and only then comes the unbind.
	c.done(nil)
	pc.expect(CmdDeliverSM|RespBit, StatusOK, 1)
	u := pc.expect(CmdUnbind, StatusOK, 0)
	pc.write(&PDU{CommandID: CmdUnbind | RespBit, Seq: u.Seq})
	wait(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	select {
	case c := <-h.calls:
		t.Fatalf("handler got %q while draining", c.in.PDU.ShortMessage)
	default:
	}
}

func TestPeerThatStopsReadingCannotFreeze(t *testing.T) {
	p := newPeer(t)
	cfg := testConfig(p.port())
	cfg.WriteTimeout = 100 * time.Millisecond
	cfg.ResponseTimeout = 200 * time.Millisecond // bounds the final unbind, which nobody answers
	r := start(t, cfg, newHandler(), Options{})
	pc := p.bound(t)
	if tc, ok := pc.c.(interface{ SetReadBuffer(int) error }); ok {
		tc.SetReadBuffer(4096)
	}
	// Flood enquire_link without ever reading the responses, until our writer gives up and
	// closes the connection (the flood's writes then fail).
	e, _ := (&PDU{CommandID: CmdEnquireLink, Seq: 1}).Marshal()
	burst := make([]byte, 0, len(e)*1024)
	for range 1024 {
		burst = append(burst, e...)
	}
	deadline := time.Now().Add(6 * waitLimit) // the flood is slow under -race on a loaded machine
	for {
		if time.Now().After(deadline) {
			t.Fatal("the operator never closed the connection of a peer that stops reading")
		}
		pc.c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := pc.c.Write(burst); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			break // reset by the operator
		}
	}
	p.bound(t) // and it reconnects
	eventually(t, "rebound", func() bool { return r.o.BindsUp() == 1 })
	begin := time.Now()
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > cfg.ResponseTimeout+boundSlack {
		t.Errorf("stop took %v", d)
	}
}

func TestSeqWraps(t *testing.T) {
	s := &session{pending: map[uint32]*pending{}, seq: maxSeq - 1}
	s.pending[1] = &pending{}
	var got []uint32
	for range 3 {
		got = append(got, s.nextSeqLocked())
	}
	want := []uint32{maxSeq, 2, 3} // 1 is still pending
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("seqs %v, want %v", got, want)
		}
	}
}

package smpp

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A scripted SMSC for the session tests: a listener whose connections the test drives PDU by
// PDU, reading and writing with the adapter under test. (The full fake SMSC is smpp/smsctest.)

const waitLimit = 5 * time.Second

// boundSlack is what a bounded wait may overrun its own limit by on a loaded machine (the
// race detector and other packages' tests and fuzzers share two cores): the bound checked is
// "finite and about its limit", not a latency.
const boundSlack = 3 * time.Second

type peer struct {
	ln    net.Listener
	conns chan *peerConn
}

type peerConn struct {
	t *testing.T
	c net.Conn
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{ln: ln, conns: make(chan *peerConn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(p.conns)
				return
			}
			p.conns <- &peerConn{t: t, c: c}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for pc := range p.conns {
			pc.c.Close()
		}
	})
	return p
}

func (p *peer) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// accept waits for the next connection.
func (p *peer) accept(t *testing.T) *peerConn {
	t.Helper()
	select {
	case pc, ok := <-p.conns:
		if !ok {
			t.Fatal("listener closed")
		}
		t.Cleanup(func() { pc.c.Close() })
		return pc
	case <-time.After(waitLimit):
		t.Fatal("no connection from the operator")
	}
	return nil
}

// bound accepts a connection and answers its bind with ESME_ROK.
func (p *peer) bound(t *testing.T) *peerConn {
	t.Helper()
	pc := p.accept(t)
	b := pc.read()
	switch b.CommandID {
	case CmdBindTransceiver, CmdBindTransmitter, CmdBindReceiver:
	default:
		t.Fatalf("first PDU %s, want a bind", CommandName(b.CommandID))
	}
	pc.write(&PDU{CommandID: b.CommandID | RespBit, Seq: b.Seq, SystemID: "SMSC"})
	return pc
}

func (pc *peerConn) readFrame() ([]byte, error) {
	pc.c.SetReadDeadline(time.Now().Add(waitLimit))
	return ReadFrame(pc.c)
}

// read reads one PDU, failing the test on anything but a well-formed PDU.
func (pc *peerConn) read() *PDU {
	pc.t.Helper()
	f, err := pc.readFrame()
	if err != nil {
		pc.t.Fatalf("peer read: %v", err)
	}
	p, err := Decode(f)
	if err != nil {
		pc.t.Fatalf("peer decode: %v", err)
	}
	return p
}

// expect reads one PDU and checks its command, status and (when not 0) seq.
func (pc *peerConn) expect(cmd uint32, st Status, seq uint32) *PDU {
	pc.t.Helper()
	p := pc.read()
	if p.CommandID != cmd || p.Status != st || (seq != 0 && p.Seq != seq) {
		pc.t.Fatalf("peer got %s status %s seq %d; want %s status %s seq %d",
			CommandName(p.CommandID), p.Status.Name(), p.Seq, CommandName(cmd), st.Name(), seq)
	}
	return p
}

// expectClosed reads until the operator closes the connection.
func (pc *peerConn) expectClosed() {
	pc.t.Helper()
	f, err := pc.readFrame()
	if err == nil {
		cmd, _, _, _ := FrameHeader(f)
		pc.t.Fatalf("peer got %s, want the connection closed", CommandName(cmd))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		pc.t.Fatal("connection still open")
	}
}

func (pc *peerConn) write(p *PDU) {
	pc.t.Helper()
	b, err := p.Marshal()
	if err != nil {
		pc.t.Fatal(err)
	}
	pc.writeRaw(b)
}

func (pc *peerConn) writeRaw(b []byte) {
	pc.t.Helper()
	pc.c.SetWriteDeadline(time.Now().Add(waitLimit))
	if _, err := pc.c.Write(b); err != nil {
		pc.t.Fatalf("peer write: %v", err)
	}
}

// ping proves the connection alive and, because responses leave in order, that no response
// was queued before this point: the next frame must be its enquire_link_resp.
func (pc *peerConn) ping(seq uint32) {
	pc.t.Helper()
	pc.write(&PDU{CommandID: CmdEnquireLink, Seq: seq})
	pc.expect(CmdEnquireLink|RespBit, StatusOK, seq)
}

// reset closes the connection with a TCP RST.
func (pc *peerConn) reset() {
	if tc, ok := pc.c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	pc.c.Close()
}

// handler records inbound PDUs for the test to answer.
type handler struct{ calls chan call }

type call struct {
	in   Inbound
	done func(error)
}

func newHandler() *handler { return &handler{calls: make(chan call, 64)} }

func (h *handler) HandleInbound(in Inbound, done func(error)) { h.calls <- call{in, done} }

func (h *handler) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(waitLimit):
		t.Fatal("handler not called")
	}
	return call{}
}

func testConfig(port int) OperatorConfig {
	return OperatorConfig{
		Name: "telkomsel", Host: "127.0.0.1", Port: port,
		SystemID: "sms1708", Password: "secret",
		Window:          2,
		EnquireLink:     time.Hour, // tests that want enquire_link set it
		DialTimeout:     time.Second,
		BindTimeout:     time.Second,
		ResponseTimeout: 2 * time.Second,
		WriteTimeout:    time.Second,
		ReconnectMin:    5 * time.Millisecond,
		ReconnectMax:    20 * time.Millisecond,
		DrainTimeout:    2 * time.Second,
		SourceTON:       3, SourceNPI: 0,
	}
}

type running struct {
	o      *Operator
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	err    error         // Run's result, once done is closed
}

// start runs an operator until the test ends (or stop is called).
func start(t *testing.T, cfg OperatorConfig, h Handler, opts Options) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(reg)
	}
	o, err := NewOperator(cfg, h, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{o: o, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = o.Run(ctx); close(r.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(2 * waitLimit):
			t.Error("Run did not return")
		}
	})
	return r
}

// stopAsync cancels Run; the returned channel closes when Run has returned (then read r.err).
func (r *running) stopAsync() <-chan struct{} {
	r.cancel()
	return r.done
}

// stop cancels Run and waits for it.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	wait(t, r.stopAsync())
	return r.err
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// sendResult runs Send in a goroutine.
type sendResult struct {
	ids []string
	err error
}

func sendAsync(o *Operator, ctx context.Context, text string) chan sendResult {
	ch := make(chan sendResult, 1)
	go func() {
		ids, err := o.Send(ctx, "1708", "6281234567890", text)
		ch <- sendResult{ids, err}
	}()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatal("timed out")
	}
	var zero T
	return zero
}

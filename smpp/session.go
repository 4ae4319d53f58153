package smpp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// Errors of a request whose fate is unknown or that never left; all are worth retrying.
var (
	// ErrConnectionLost: the connection closed before the response arrived (the SMSC may or may
	// not have taken the request).
	ErrConnectionLost = errors.New("smpp: connection lost")
	// ErrResponseTimeout: no response within ResponseTimeout.
	ErrResponseTimeout = errors.New("smpp: response timeout")
	// ErrClosed: the operator is draining or stopped; nothing more is sent.
	ErrClosed = errors.New("smpp: operator stopped")
)

// maxSeq is the highest sequence number (SMPP 3.4 §3.2: 0x00000001–0x7FFFFFFF).
const maxSeq = 0x7FFFFFFF

// Queue sizes. They bound memory per connection; a full queue is backpressure, never growth.
const (
	respQueue    = 1024 // responses we owe the SMSC
	ctrlQueue    = 16   // enquire_link, unbind
	inboundQueue = 1024 // deliver_sm/data_sm waiting for the handler
)

// sendBuffer is the socket send buffer of every connection (SO_SNDBUF; see dial).
const sendBuffer = 32 << 10

// outFrame is one encoded PDU for the writer; thenClose closes the connection once it is
// written (generic_nack for a broken stream, unbind_resp).
type outFrame struct {
	b         []byte
	cmd       uint32
	thenClose bool
}

type result struct {
	p   *PDU
	err error
}

// pending is a request of ours awaiting its response.
type pending struct {
	resp   uint32 // the response command id that completes it (generic_nack always does)
	ch     chan result
	timer  *time.Timer
	window bool // holds a window slot (submit_sm)
}

// inboundItem is a deliver_sm/data_sm on its way to the handler.
type inboundItem struct {
	in   Inbound
	done func(error)
}

// session is one TCP connection bound to an SMSC. The reader goroutine owns reads, the writer
// goroutine owns writes (with write deadlines, responses first), the keepalive goroutine sends
// enquire_link, and the handler goroutine hands deliver_sm to the Handler so that a slow
// handler never delays an enquire_link_resp.
type session struct {
	o       *Operator
	name    string   // "telkomsel/0", "telkomsel/0/tx"
	index   int      // which of cfg.Binds
	bindCmd uint32   // CmdBindTransceiver, CmdBindTransmitter or CmdBindReceiver
	conn    net.Conn // the TCP connection, or the TLS connection over it
	raw     net.Conn // the TCP connection: close closes this one
	br      *bufio.Reader
	log     *slog.Logger

	respQ, ctrlQ, submitQ chan outFrame
	inQ                   chan inboundItem

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error         // set before closed is closed
	readerOut chan struct{} // closed when the reader has returned

	mu       sync.Mutex
	seq      uint32
	pending  map[uint32]*pending
	inFlight int  // submit_sm holding window slots
	usable   bool // bound and not unbinding: Send may pick it
	dead     bool // close has run: no new pending request may be registered
}

func (s *session) canTransmit() bool { return s.bindCmd != CmdBindReceiver }

// dial connects and binds. The bind is synchronous, before any goroutine starts: nothing but
// the bind_resp (or an enquire_link, answered at once) is expected before it.
func (o *Operator) dial(ctx context.Context, name string, index int, bindCmd uint32) (*session, error) {
	cfg := &o.cfg
	d := net.Dialer{Timeout: cfg.DialTimeout}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &attemptError{failDial, fmt.Errorf("smpp: dial %s: %w", addr, err)}
	}
	raw := conn
	if tc, ok := conn.(*net.TCPConn); ok {
		// A fixed send buffer instead of the kernel's autotuning (up to 4 MiB on Linux):
		// with batched writes, a peer that stops reading would otherwise absorb megabytes
		// before a write of ours blocks and its deadline closes the connection (and in
		// TestPeerThatStopsReadingCannotFreeze both directions could stall first). 32 KiB
		// (the kernel doubles it) is ~400 submit_sm in flight: at 100 ms round trip still
		// ~4,000 submit_sm/s per bind, far above any operator's contract.
		if err := tc.SetWriteBuffer(sendBuffer); err != nil {
			conn.Close()
			return nil, &attemptError{failDial, fmt.Errorf("smpp: dial %s: set send buffer: %w", addr, err)}
		}
	}
	if cfg.TLS != nil {
		if conn, err = o.handshake(ctx, conn); err != nil {
			return nil, err
		}
	}
	s := &session{
		o: o, name: name, index: index, bindCmd: bindCmd, conn: conn, raw: raw,
		br:        bufio.NewReaderSize(conn, 4096),
		log:       o.log.With("bind", name),
		respQ:     make(chan outFrame, respQueue),
		ctrlQ:     make(chan outFrame, ctrlQueue),
		submitQ:   make(chan outFrame, max(cfg.Window, 1)),
		inQ:       make(chan inboundItem, inboundQueue),
		closed:    make(chan struct{}),
		readerOut: make(chan struct{}),
		pending:   make(map[uint32]*pending),
	}
	if err := s.bind(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	s.mu.Lock()
	s.usable = true
	s.mu.Unlock()
	go s.readLoop()
	go s.writeLoop()
	go s.handlerLoop()
	go s.keepalive()
	return s, nil
}

// handshake runs the TLS client handshake on conn within TLSHandshakeTimeout (and ctx); conn
// is closed when it fails. cfg.TLS.ServerName was filled in by NewOperator.
func (o *Operator) handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	fail := func(err error) (net.Conn, error) {
		conn.Close()
		return nil, &attemptError{failTLS, fmt.Errorf("smpp: tls handshake with %s: %w", o.cfg.TLS.ServerName, err)}
	}
	hctx, cancel := context.WithTimeout(ctx, o.cfg.TLSHandshakeTimeout)
	defer cancel()
	// The deadline bounds the handshake's reads and writes even if the context's interrupt
	// were late; it is cleared before the bind sets its own.
	if err := conn.SetDeadline(time.Now().Add(o.cfg.TLSHandshakeTimeout)); err != nil {
		return fail(err)
	}
	tc := tls.Client(conn, o.cfg.TLS)
	if err := tc.HandshakeContext(hctx); err != nil {
		return fail(err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return fail(err)
	}
	return tc, nil
}

// attemptError tells why a dial or bind attempt failed, for bind_failures_total{reason}.
type attemptError struct {
	reason string
	err    error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// failureReason returns the bind_failures_total reason of a failed attempt.
func failureReason(err error) string {
	var ae *attemptError
	if errors.As(err, &ae) {
		return ae.reason
	}
	return failOther
}

// bind sends the bind and waits for its response, within BindTimeout (and ctx).
func (s *session) bind(ctx context.Context) error {
	cfg := &s.o.cfg
	what := CommandName(s.bindCmd)
	deadline := time.Now().Add(cfg.BindTimeout)
	if err := s.conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("smpp: %s: %w", what, err)
	}
	// Cancelling ctx interrupts the bind at once rather than after BindTimeout.
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	s.seq = 1
	req := &PDU{CommandID: s.bindCmd, Seq: 1, SystemID: cfg.SystemID, Password: cfg.Password,
		SystemType: cfg.SystemType, InterfaceVersion: 0x34}
	b, err := req.Marshal()
	if err != nil {
		return fmt.Errorf("smpp: %s: %w", what, err)
	}
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("smpp: %s: write: %w", what, err)
	}
	s.o.m.pdu(s.bindCmd, dirOut)
	for {
		frame, err := ReadFrame(s.br)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("smpp: %s: %w", what, ctx.Err())
			}
			reason := failClosed
			if errors.Is(err, os.ErrDeadlineExceeded) {
				reason = failTimeout
			}
			return &attemptError{reason, fmt.Errorf("smpp: %s: waiting for response: %w", what, err)}
		}
		cmd, status, seq, _ := FrameHeader(frame)
		s.o.m.pdu(cmd, dirIn)
		switch {
		case (cmd == s.bindCmd|RespBit || cmd == CmdGenericNack) && seq == 1:
			if status != StatusOK {
				reason := failRefused
				if status == StatusAlyBnd {
					reason = failAlreadyBound
				}
				return &attemptError{reason, fmt.Errorf("smpp: %s refused: %w", what, status)}
			}
			if cmd == CmdGenericNack {
				return &attemptError{failRefused, fmt.Errorf("smpp: %s answered by generic_nack without a status", what)}
			}
			// If ctx ended meanwhile, its AfterFunc has run (or is running) and spoiled the
			// deadline: treat the bind as interrupted.
			if !stop() {
				return fmt.Errorf("smpp: %s: %w", what, context.Cause(ctx))
			}
			if err := s.conn.SetDeadline(time.Time{}); err != nil {
				return fmt.Errorf("smpp: %s: %w", what, err)
			}
			return nil
		case cmd == CmdEnquireLink:
			r, _ := (&PDU{CommandID: CmdEnquireLink | RespBit, Seq: seq}).Marshal()
			if _, err := s.conn.Write(r); err != nil {
				return fmt.Errorf("smpp: %s: write enquire_link_resp: %w", what, err)
			}
			s.o.m.pdu(CmdEnquireLink|RespBit, dirOut)
		default:
			s.log.Warn("unexpected PDU before bind_resp", "command", CommandName(cmd), "seq", seq)
		}
	}
}

// close tears the connection down once: every pending request fails with ErrConnectionLost,
// the goroutines stop, and the operator stops picking this session.
func (s *session) close(err error) {
	s.closeOnce.Do(func() {
		s.closeErr = err
		s.mu.Lock()
		s.usable, s.dead = false, true
		pend := s.pending
		s.pending = make(map[uint32]*pending)
		s.inFlight = 0
		s.mu.Unlock()
		close(s.closed)
		// The TCP connection, not the TLS one: tls.Conn.Close first writes close_notify,
		// which waits for a write stuck on a peer that stopped reading. SMPP's unbind
		// already ended the session cleanly when there was one.
		s.raw.Close()
		for _, p := range pend {
			p.timer.Stop()
			p.ch <- result{err: ErrConnectionLost}
		}
		s.o.m.inFlight(s.name, 0)
		s.o.sessionClosed(s)
	})
}

func (s *session) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// nextSeqLocked returns the next free sequence number, wrapping after 0x7FFFFFFF.
func (s *session) nextSeqLocked() uint32 {
	for {
		s.seq++
		if s.seq == 0 || s.seq > maxSeq {
			s.seq = 1
		}
		if _, busy := s.pending[s.seq]; !busy {
			return s.seq
		}
	}
}

// tryAcquire takes a window slot if the session is usable and has room.
func (s *session) tryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.usable || s.inFlight >= s.o.cfg.Window {
		return false
	}
	s.inFlight++
	s.o.m.inFlight(s.name, s.inFlight)
	return true
}

// release gives back a window slot that request did not take over.
func (s *session) release() {
	s.mu.Lock()
	if s.inFlight > 0 {
		s.inFlight--
	}
	s.o.m.inFlight(s.name, s.inFlight)
	s.mu.Unlock()
	s.o.slotFreed()
}

// request sends p (its Seq is assigned here) through q and waits for the response matched by
// seq and command. A response with an error status is returned as both the PDU and the Status.
// If window is set the caller holds a window slot, which request now owns: it is released when
// the request completes, times out or its connection dies — not when ctx ends, because the
// SMSC still counts the request against our window until it answers.
func (s *session) request(ctx context.Context, p *PDU, q chan outFrame, window bool) (*PDU, error) {
	what := CommandName(p.CommandID)
	pend := &pending{resp: p.CommandID | RespBit, ch: make(chan result, 1), window: window}
	s.mu.Lock()
	if s.dead {
		s.mu.Unlock()
		if window {
			s.release()
		}
		return nil, fmt.Errorf("smpp: %s: %w", what, ErrConnectionLost)
	}
	p.Seq = s.nextSeqLocked()
	seq := p.Seq
	b, err := p.Marshal()
	if err != nil {
		s.mu.Unlock()
		if window {
			s.release()
		}
		return nil, err
	}
	s.pending[seq] = pend
	pend.timer = time.AfterFunc(s.o.cfg.ResponseTimeout, func() {
		s.complete(seq, pend, 0, result{err: ErrResponseTimeout})
	})
	s.mu.Unlock()

	select {
	case q <- outFrame{b: b, cmd: p.CommandID}:
	case <-s.closed:
		// close has failed the pending request; its result is in pend.ch.
	case <-ctx.Done():
		s.complete(seq, pend, 0, result{err: ctx.Err()})
	}
	select {
	case r := <-pend.ch:
		if r.err != nil {
			return r.p, fmt.Errorf("smpp: %s: %w", what, r.err)
		}
		return r.p, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("smpp: %s: %w", what, ctx.Err())
	}
}

// complete finishes a pending request. want, when not nil, must be the request registered
// under seq (a timer of a finished request must not complete a later one). cmd, when not 0, is
// the response's command id and must match: a deliver_sm_resp cannot complete a submit_sm.
func (s *session) complete(seq uint32, want *pending, cmd uint32, r result) bool {
	s.mu.Lock()
	p, ok := s.pending[seq]
	if !ok || (want != nil && p != want) || (cmd != 0 && cmd != CmdGenericNack && cmd != p.resp) {
		s.mu.Unlock()
		return false
	}
	delete(s.pending, seq)
	if p.window && s.inFlight > 0 {
		s.inFlight--
		s.o.m.inFlight(s.name, s.inFlight)
	}
	s.mu.Unlock()
	p.timer.Stop()
	p.ch <- r
	if p.window {
		s.o.slotFreed()
	}
	return true
}

// respond queues a response. It waits for room (the writer frees it within WriteTimeout, or
// the connection closes) and gives up silently once the connection is gone.
func (s *session) respond(p *PDU, thenClose bool) {
	b, err := p.Marshal()
	if err != nil {
		s.log.Error("cannot encode response", "command", CommandName(p.CommandID), "err", err)
		return
	}
	select {
	case s.respQ <- outFrame{b: b, cmd: p.CommandID, thenClose: thenClose}:
	case <-s.closed:
	}
}

// respondLater is respond for callers that must not block (a Handler's done, from the
// ingest): when the queue is full the wait moves to a goroutine.
func (s *session) respondLater(p *PDU) {
	if s.isClosed() {
		return
	}
	b, err := p.Marshal()
	if err != nil {
		s.log.Error("cannot encode response", "command", CommandName(p.CommandID), "err", err)
		return
	}
	f := outFrame{b: b, cmd: p.CommandID}
	select {
	case s.respQ <- f:
	case <-s.closed:
	default:
		go func() {
			select {
			case s.respQ <- f:
			case <-s.closed:
			}
		}()
	}
}

// maxBatch bounds the bytes the writer gathers into one write (the buffer it keeps is at most
// this plus one PDU), so that one write deadline covers a bounded amount of data. 4 KiB is
// ~25 submit_sm or ~250 deliver_sm_resp: batching gains little beyond that, and it keeps
// each write well below the send buffer (sendBuffer).
const maxBatch = 4 << 10

// writeLoop owns writes: responses before enquire_link/unbind before submits, each write with
// a deadline so that a peer that stops reading closes the connection instead of freezing us.
// It takes one frame (waiting for it), then whatever else is already queued, in the same
// priority order, into one buffer written with one write(2): under load, a burst of
// deliver_sm_resp or submit_sm costs one system call instead of one each. Each queue stays
// FIFO, and nothing queued after a frame that closes the connection is written.
func (s *session) writeLoop() {
	var buf []byte
	var cmds []uint32
	for {
		var f outFrame
		select {
		case f = <-s.respQ:
		default:
			select {
			case f = <-s.respQ:
			case f = <-s.ctrlQ:
			default:
				select {
				case f = <-s.respQ:
				case f = <-s.ctrlQ:
				case f = <-s.submitQ:
				case <-s.closed:
					return
				}
			}
		}
		buf = append(buf[:0], f.b...)
		cmds = append(cmds[:0], f.cmd)
		for !f.thenClose && len(buf) < maxBatch {
			var ok bool
			if f, ok = s.nextQueued(); !ok {
				break
			}
			buf = append(buf, f.b...)
			cmds = append(cmds, f.cmd)
		}
		if err := s.conn.SetWriteDeadline(time.Now().Add(s.o.cfg.WriteTimeout)); err != nil {
			s.close(fmt.Errorf("smpp: write %s: %w", CommandName(cmds[0]), err))
			return
		}
		if _, err := s.conn.Write(buf); err != nil {
			s.close(fmt.Errorf("smpp: write %s: %w", batchName(cmds), err))
			return
		}
		for _, c := range cmds {
			s.o.m.pdu(c, dirOut)
		}
		if f.thenClose {
			s.close(fmt.Errorf("smpp: closed after %s", CommandName(f.cmd)))
			return
		}
	}
}

// nextQueued takes the next frame already queued, without waiting, in the writer's priority
// order; ok is false when every queue is empty.
func (s *session) nextQueued() (f outFrame, ok bool) {
	select {
	case f = <-s.respQ:
		return f, true
	default:
	}
	select {
	case f = <-s.ctrlQ:
		return f, true
	default:
	}
	select {
	case f = <-s.submitQ:
		return f, true
	default:
	}
	return outFrame{}, false
}

// batchName names the frames of a failed write for its error: the command, or the first one
// and how many others went with it.
func batchName(cmds []uint32) string {
	if len(cmds) == 1 {
		return CommandName(cmds[0])
	}
	return fmt.Sprintf("%s and %d more", CommandName(cmds[0]), len(cmds)-1)
}

// readLoop owns reads. A panic on peer input closes this connection only.
func (s *session) readLoop() {
	defer close(s.readerOut)
	defer close(s.inQ)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("reader panic: closing the connection", "panic", fmt.Sprint(r))
			s.close(fmt.Errorf("smpp: reader panic: %v", r))
		}
	}()
	// Every network wait has a deadline: we send enquire_link every EnquireLink, so a live
	// SMSC makes us read at least that often.
	idle := s.o.cfg.EnquireLink + s.o.cfg.ResponseTimeout
	for {
		if err := s.conn.SetReadDeadline(time.Now().Add(idle)); err != nil {
			s.close(fmt.Errorf("smpp: read: %w", err))
			return
		}
		frame, err := ReadFrame(s.br)
		if err != nil {
			var fe *FrameError
			if errors.As(err, &fe) {
				// The stream cannot be re-framed: say why, then close.
				s.log.Warn("impossible command_length: closing", "length", fe.Length, "command", CommandName(fe.CommandID))
				s.o.m.pdu(fe.CommandID, dirIn)
				s.stopUsing()
				s.respond(&PDU{CommandID: CmdGenericNack, Status: StatusInvCmdLen, Seq: fe.Seq}, true)
				s.awaitClose(err)
				return
			}
			s.close(fmt.Errorf("smpp: read: %w", err))
			return
		}
		if !s.dispatch(frame) {
			return
		}
	}
}

// stopUsing takes the session out of Send's choice before it closes.
func (s *session) stopUsing() {
	s.mu.Lock()
	s.usable = false
	s.mu.Unlock()
}

// awaitClose waits for the writer to close the connection after its last frame, within
// WriteTimeout, and closes it itself otherwise.
func (s *session) awaitClose(err error) {
	t := time.NewTimer(s.o.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case <-s.closed:
	case <-t.C:
		s.close(err)
	}
}

// dispatch handles one frame read; false stops the reader.
func (s *session) dispatch(frame []byte) bool {
	cmd, status, seq, _ := FrameHeader(frame)
	s.o.m.pdu(cmd, dirIn)
	switch {
	case cmd == CmdEnquireLink:
		s.respond(&PDU{CommandID: CmdEnquireLink | RespBit, Seq: seq}, false)
	case cmd == CmdUnbind:
		s.log.Info("SMSC unbinds")
		s.stopUsing()
		s.respond(&PDU{CommandID: CmdUnbind | RespBit, Seq: seq}, true)
		s.awaitClose(errors.New("smpp: unbound by the SMSC"))
		return false
	case cmd == CmdDeliverSM || cmd == CmdDataSM:
		// Dispatched by command id before any seq matching: an SMSC's deliver_sm whose seq
		// equals one of our pending submit_sm is still an MO.
		s.inbound(frame, cmd, seq)
	case cmd&RespBit != 0:
		s.response(frame, cmd, status, seq)
	default:
		if _, known := fieldsOf(cmd); known {
			// A request an SMSC may not send us (bind, submit_sm).
			s.respond(&PDU{CommandID: cmd | RespBit, Status: StatusInvBndSts, Seq: seq}, false)
		} else {
			s.respond(&PDU{CommandID: CmdGenericNack, Status: StatusInvCmdID, Seq: seq}, false)
		}
		s.log.Warn("unexpected request", "command", CommandName(cmd), "command_id", fmt.Sprintf("0x%08X", cmd), "seq", seq)
	}
	return true
}

func (s *session) response(frame []byte, cmd uint32, status Status, seq uint32) {
	p, err := Decode(frame)
	var r result
	switch {
	case err != nil && errors.Is(err, ErrUnknownCommand):
		s.log.Warn("response of an unknown command", "command_id", fmt.Sprintf("0x%08X", cmd), "seq", seq)
		return
	case err != nil:
		r = result{err: fmt.Errorf("undecodable %s (status %s): %w", CommandName(cmd), status.Name(), err)}
	case cmd == CmdGenericNack && status == StatusOK:
		r = result{p: p, err: errors.New("generic_nack without a status")}
	case status != StatusOK:
		r = result{p: p, err: status}
	default:
		r = result{p: p}
	}
	if !s.complete(seq, nil, cmd, r) {
		s.log.Warn("response matches no request of ours", "command", CommandName(cmd), "seq", seq, "status", status.Name())
	}
}

// inbound hands a deliver_sm or data_sm to the handler goroutine with a done func that answers
// on this connection, if it is still alive then.
func (s *session) inbound(frame []byte, cmd, seq uint32) {
	p, err := Decode(frame)
	kind := kindMO
	switch {
	case err != nil:
		kind, p = kindDead, nil
		s.log.Warn("undecodable PDU handed over raw", "command", CommandName(cmd), "seq", seq, "err", err)
	case p.ESMClass&0x3C != 0:
		kind = kindReceipt
	}
	if !s.o.beginMO() {
		// Draining: the SMSC will redeliver it to whoever is up.
		s.respond(&PDU{CommandID: cmd | RespBit, Status: StatusXTAppn, Seq: seq}, false)
		return
	}
	var once sync.Once
	done := func(err error) {
		once.Do(func() {
			s.respondLater(&PDU{CommandID: cmd | RespBit, Status: StatusOf(err), Seq: seq})
			s.o.endMO()
		})
	}
	item := inboundItem{
		in: Inbound{Operator: s.o.cfg.Name, Bind: s.name, PDU: p, Raw: frame, DecodeErr: err,
			ReceivedAt: time.Now()},
		done: done,
	}
	s.o.m.mo(kind)
	select {
	case s.inQ <- item:
	default:
		// The handler is behind: refuse for now, the SMSC retries.
		s.log.Warn("inbound queue full: answering ESME_RX_T_APPN", "command", CommandName(cmd))
		done(StatusXTAppn)
	}
}

// handlerLoop hands inbound PDUs to the Handler in arrival order, off the read loop.
func (s *session) handlerLoop() {
	for it := range s.inQ {
		if s.isClosed() {
			// Nothing could be answered: leave it to the SMSC's redelivery.
			it.done(ErrConnectionLost)
			continue
		}
		s.handle(it)
	}
}

func (s *session) handle(it inboundItem) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panic: closing the connection", "panic", fmt.Sprint(r))
			s.close(fmt.Errorf("smpp: handler panic: %v", r))
			it.done(ErrConnectionLost)
		}
	}()
	s.o.h.HandleInbound(it.in, it.done)
}

// keepalive sends enquire_link every EnquireLink; a missing response closes the connection.
func (s *session) keepalive() {
	t := time.NewTicker(s.o.cfg.EnquireLink)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.o.cfg.ResponseTimeout)
		_, err := s.request(ctx, &PDU{CommandID: CmdEnquireLink}, s.ctrlQ, false)
		cancel()
		if err != nil {
			if !s.isClosed() {
				s.log.Warn("enquire_link unanswered: closing", "err", err)
			}
			s.close(fmt.Errorf("smpp: enquire_link: %w", err))
			return
		}
	}
}

// unbind sends unbind and waits for unbind_resp up to wait, then closes the connection.
func (s *session) unbind(wait time.Duration) {
	s.stopUsing()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := s.request(ctx, &PDU{CommandID: CmdUnbind}, s.ctrlQ, false); err != nil && !s.isClosed() {
		s.log.Warn("unbind unanswered", "err", err)
	}
	s.close(errors.New("smpp: unbound"))
}

// submit sends one submit_sm on a session whose window slot the caller holds.
func (s *session) submit(ctx context.Context, p *PDU) (string, error) {
	start := time.Now()
	r, err := s.request(ctx, p, s.submitQ, true)
	var st Status
	switch {
	case err == nil:
		s.o.m.submit(outcomeOK, time.Since(start))
		return r.MessageID, nil
	case errors.As(err, &st) && st == StatusThrottled:
		s.o.m.submit(outcomeThrottled, time.Since(start))
		s.o.throttled(st)
	case errors.As(err, &st) && st == StatusMsgQFul:
		s.o.m.submit(outcomeQueueFull, time.Since(start))
		s.o.throttled(st)
	case errors.As(err, &st):
		s.o.m.submit(outcomeRejected, time.Since(start))
	case errors.Is(err, ErrResponseTimeout):
		s.o.m.submit(outcomeTimeout, 0)
	case errors.Is(err, ErrConnectionLost):
		s.o.m.submit(outcomeLost, 0)
	case ctx.Err() != nil:
		s.o.m.submit(outcomeCanceled, 0)
	default:
		s.o.m.submit(outcomeError, 0)
	}
	return "", err
}

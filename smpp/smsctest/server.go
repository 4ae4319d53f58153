// Package smsctest is an in-process fake SMSC that speaks SMPP 3.4 (SMPP v3.4 Issue 1.2,
// §2 sessions, §4 PDU definitions, §4.6 deliver_sm, §5.2.12 esm_class, Appendix B delivery
// receipts) over real TCP on the loopback interface.
//
// Tests of the session layer and the daemon bind to it exactly as they would to an operator's
// SMSC; cmd/smscsim runs one per operator for development and demos. It checks bind
// credentials, answers enquire_link and unbind, records every submit_sm with its text decoded,
// sends mobile-originated deliver_sm and delivery receipts round-robin over the bound
// receivers, and can misbehave on purpose through Faults.
//
// Every PDU it writes is encoded by package smpp's own Marshal (never go-smpp's NewDeliverSM,
// which corrupts deliver_sm), so what a test receives is what a real SMSC would send.
package smsctest

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// Default timings; every network wait of the server is bounded by one of them.
const (
	DefaultResponseTimeout = 30 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
)

// ErrNotBound is returned when a PDU must go to a bound receiver (RX or TRX) and there is none.
var ErrNotBound = errors.New("smsctest: no bound receiver session")

// ErrClosed is returned by calls made on, or interrupted by, a closed Server or session.
var ErrClosed = errors.New("smsctest: closed")

// IDFormat is how the server writes SMSC message ids.
type IDFormat int

// Message id formats. Real SMSCs differ: some answer submit_sm with hex ids and put the same
// number in decimal in their receipts, which is what ReceiptIDs lets a test reproduce.
const (
	IDHex     IDFormat = iota // upper-case hexadecimal, e.g. "5F3A1B2C"
	IDDecimal                 // decimal, e.g. "1597120300"
)

// Config configures a Server. The zero value of every field is usable.
type Config struct {
	Name string // operator name, for logs; also the system_id in bind_resp ("smsctest" when empty)
	Addr string // listen address, default "127.0.0.1:0"

	// SystemID and Password are checked on bind: an unknown system_id is answered
	// ESME_RINVSYSID (0x0F), a wrong password ESME_RINVPASWD (0x0E).
	SystemID, Password string

	Logger *slog.Logger // nil: discard

	// EnquireLink is how often the server sends its own enquire_link on each bound session;
	// 0 = never. A session that does not answer within ResponseTimeout is closed.
	EnquireLink time.Duration
	// ResponseTimeout bounds the wait for a response to any PDU the server sends when the
	// caller's context has no earlier deadline. Default DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// WriteTimeout bounds each write; a peer that stops reading is disconnected after it.
	// Default DefaultWriteTimeout.
	WriteTimeout time.Duration

	// MessageIDs is the format of message ids in submit_sm_resp (default IDHex);
	// ReceiptIDs the format of the same ids in receipts (default: MessageIDs).
	MessageIDs IDFormat
	ReceiptIDs *IDFormat
	// FirstMessageID is the first message id handed out; 0 = derived from the clock, so that a
	// restarted simulator does not reuse the ids of the previous run.
	FirstMessageID uint64

	// DefaultAlphabet is what data_coding 0 means on this SMSC, both in the submit_sm it
	// decodes and in the deliver_sm it encodes: text.GSM7 (the zero value means GSM7),
	// text.ASCII or text.Latin1. Operators differ; the daemon has the same setting.
	DefaultAlphabet text.Alphabet

	// AutoReceipt: after each accepted submit_sm that asks for a receipt (registered_delivery
	// bits 1–0 = 01), send a DELIVRD receipt to a bound receiver.
	AutoReceipt bool
	// ReceiptDelay is how long after the submit_sm_resp an automatic receipt is sent (0: at
	// once). A real SMSC sends DELIVRD when the handset has the message, seconds later; a
	// receipt sent at once reaches the ESME before it has recorded its own submit.
	ReceiptDelay time.Duration

	// Faults are the initial misbehaviours; change them later with SetFaults.
	Faults Faults

	// Now is the clock (default time.Now); receipts and Submit.At use it.
	Now func() time.Time

	// TLS, when not nil, serves SMPP over TLS with this config (it needs Certificates);
	// nil serves plain TCP. Each handshake is bounded by ResponseTimeout.
	TLS *tls.Config
}

// SubmitReply is how the fake SMSC answers submit_sm (Faults.SubmitReply).
type SubmitReply int

// Ways of answering submit_sm.
const (
	// ReplyResp answers submit_sm_resp, with Faults.SubmitStatus (the default).
	ReplyResp SubmitReply = iota
	// ReplyGenericNack answers generic_nack with Faults.SubmitStatus, or ESME_RINVCMDID
	// when that is ESME_ROK, as an SMSC that cannot parse the request does.
	ReplyGenericNack
	// ReplyNone never answers: the response is lost. The submit is recorded as accepted
	// (the SMSC took it; only the answer went missing).
	ReplyNone
	// ReplyWrongCommand answers with the submit's sequence number but the wrong command id
	// (deliver_sm_resp), and nothing else: a peer that matches by number alone takes it
	// for the submit_sm_resp.
	ReplyWrongCommand
	// ReplyHold keeps each response until Server.ReleaseHeld sends it, so that a test
	// decides exactly when it arrives (late responses, responses after a reset).
	ReplyHold
)

// Faults are deliberate misbehaviours of the fake SMSC, for testing a peer's resilience. They
// can be changed at any time with Server.SetFaults and apply to PDUs read after the change.
type Faults struct {
	// DropBindResp: bind requests are read but never answered.
	DropBindResp bool
	// RejectBind, when not StatusOK, answers every bind with this status.
	RejectBind smpp.Status
	// NoEnquireLinkResp: enquire_link requests are read but never answered.
	NoEnquireLinkResp bool
	// SubmitStatus, when not StatusOK, answers every submit_sm with this status (e.g.
	// ESME_RTHROTTLED 0x58 or ESME_RMSGQFUL 0x14); such submits are recorded in Rejected,
	// not in Submits.
	SubmitStatus smpp.Status
	// SubmitDelay delays each submit_sm_resp; the session keeps reading meanwhile, as a real
	// SMSC does with a window of outstanding requests.
	SubmitDelay time.Duration
	// StopReading: sessions stop reading from their sockets, so the peer's writes eventually
	// block; a PDU already being read is not handled either. Reading resumes when the fault
	// is cleared.
	StopReading bool
	// SubmitReply is how submit_sm is answered; see the Reply constants.
	SubmitReply SubmitReply
	// MaxBinds, when > 0, answers ESME_RALYBND (0x05) to any bind while that many sessions
	// are bound, as an SMSC does that enforces the contract's bind count or still counts a
	// connection that died without unbind.
	MaxBinds int
	// SplitWrites: every PDU the server writes goes out one byte per write, so the peer's
	// reads see PDUs cut at every offset.
	SplitWrites bool
}

// BindAttempt is one bind request the server received.
type BindAttempt struct {
	SystemID string
	Command  uint32      // smpp.CmdBindTransceiver, CmdBindTransmitter or CmdBindReceiver
	Status   smpp.Status // the status answered; meaningless when Dropped
	Dropped  bool        // not answered (Faults.DropBindResp)
	At       time.Time
}

// Submit is one submit_sm the server received.
type Submit struct {
	From, To             string // source_addr, destination_addr
	SourceTON, SourceNPI uint8
	DestTON, DestNPI     uint8
	Text                 string // decoded per data_coding, UDH removed
	DataCoding, ESMClass uint8
	UDH                  []byte // nil unless esm_class has UDHI (0x40)
	MessageID            string // as sent in submit_sm_resp; empty when rejected
	RegisteredDelivery   uint8
	Status               smpp.Status // the status answered (StatusOK in Submits)
	At                   time.Time
	PDU                  *smpp.PDU // the decoded request; do not modify
	DecodeErr            error     // the text could not be decoded cleanly
}

// Server is a fake SMSC listening on TCP. It is safe for concurrent use.
type Server struct {
	cfg Config
	ln  net.Listener
	log *slog.Logger

	ctx    context.Context // cancelled by Close; bounds the server's own goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	sessions map[*session]struct{}
	nextSess int
	rr       int // round-robin cursor over receivers
	submits  []Submit
	rejected []Submit
	faults   Faults
	binds    []BindAttempt
	held     []func() // responses kept by ReplyHold, oldest first
	heldSubs []Submit // the submits they answer, same order
	msgID    uint64
	changed  chan struct{} // closed and replaced on every change waiters care about
}

// NewServer starts a fake SMSC; it is listening when NewServer returns.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Name == "" {
		cfg.Name = "smsctest"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = DefaultResponseTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	switch cfg.DefaultAlphabet {
	case 0:
		cfg.DefaultAlphabet = text.GSM7
	case text.GSM7, text.ASCII, text.Latin1:
	default:
		return nil, fmt.Errorf("smsctest: default alphabet %s is not gsm7, ascii or latin1", cfg.DefaultAlphabet)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReceiptIDs == nil {
		f := cfg.MessageIDs
		cfg.ReceiptIDs = &f
	}
	first := cfg.FirstMessageID
	if first == 0 {
		// Seconds since 2020 shifted left: unique across restarts, fits any id field.
		first = uint64(cfg.Now().Unix()-1577836800) << 16
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smsctest: listen %s: %w", cfg.Addr, err)
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
		ln = tls.NewListener(ln, cfg.TLS)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		log:      cfg.Logger,
		ctx:      ctx,
		cancel:   cancel,
		sessions: make(map[*session]struct{}),
		faults:   cfg.Faults,
		msgID:    first,
		changed:  make(chan struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	s.log.Info("smsc listening", "addr", ln.Addr().String())
	return s, nil
}

// Addr returns the address the server listens on, e.g. "127.0.0.1:40123".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Name returns the operator name from Config.
func (s *Server) Name() string { return s.cfg.Name }

// Close stops listening, closes every session without unbinding and waits for the server's
// goroutines. Pending SendMO calls return ErrClosed. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.notifyLocked()
	s.mu.Unlock()

	s.cancel()
	err := s.ln.Close()
	for _, ss := range sessions {
		ss.close()
	}
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("smsctest: close: %w", err)
	}
	return nil
}

// SetFaults replaces the server's faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.notifyLocked()
	s.mu.Unlock()
}

// Faults returns the server's current faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Bound returns the number of sessions currently bound as receiver or transceiver, i.e. able
// to receive deliver_sm.
func (s *Server) Bound() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.receiversLocked())
}

// BoundTransmitters returns the number of sessions currently bound as transmitter or
// transceiver, i.e. able to submit.
func (s *Server) BoundTransmitters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ss := range s.sessions {
		if ss.mode().canSubmit() {
			n++
		}
	}
	return n
}

// Sessions returns the number of open TCP connections, bound or not.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// WaitBound waits until at least n sessions are bound as receiver or transceiver.
func (s *Server) WaitBound(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.receiversLocked()) >= n })
}

// WaitSessions waits until exactly n TCP connections are open (e.g. 0 after the peer unbound).
func (s *Server) WaitSessions(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.sessions) == n })
}

// Submits returns a copy of the accepted submit_sm, in arrival order.
func (s *Server) Submits() []Submit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submit(nil), s.submits...)
}

// Rejected returns a copy of the submit_sm answered with an error status (see
// Faults.SubmitStatus), in arrival order.
func (s *Server) Rejected() []Submit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submit(nil), s.rejected...)
}

// WaitSubmit returns the first accepted submit (in arrival order, including those already
// received) for which match returns true; a nil match matches any.
func (s *Server) WaitSubmit(ctx context.Context, match func(Submit) bool) (Submit, error) {
	var found Submit
	err := s.wait(ctx, func() bool {
		for _, sub := range s.submits {
			if match == nil || match(sub) {
				found = sub
				return true
			}
		}
		return false
	})
	return found, err
}

// wait blocks until cond, evaluated under s.mu after every change, is true.
func (s *Server) wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("smsctest: wait: %w", ctx.Err())
		}
	}
}

// notifyLocked wakes every waiter; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) receiversLocked() []*session {
	var rx []*session
	for ss := range s.sessions {
		if ss.mode().canReceive() {
			rx = append(rx, ss)
		}
	}
	// Map order is random; sort by id so that round-robin is a fair rotation.
	slices.SortFunc(rx, func(a, b *session) int { return cmp.Compare(a.id, b.id) })
	return rx
}

// nextReceiver picks the next bound receiver, round-robin.
func (s *Server) nextReceiver() (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	rx := s.receiversLocked()
	if len(rx) == 0 {
		return nil, ErrNotBound
	}
	s.rr++
	return rx[s.rr%len(rx)], nil
}

func (s *Server) newMessageID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgID++
	return s.msgID
}

func formatID(n uint64, f IDFormat) string {
	if f == IDDecimal {
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("%X", n)
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary accept errors (EMFILE…): back off briefly rather than spin.
			s.log.Warn("accept", "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.nextSess++
		ss := newSession(s, conn, s.nextSess)
		s.sessions[ss] = struct{}{}
		s.notifyLocked()
		s.wg.Add(1)
		s.mu.Unlock()
		go ss.run()
	}
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.notifyLocked()
	s.mu.Unlock()
}

// Unbind sends unbind on every open session, waits (bounded by ctx and ResponseTimeout) for
// each unbind_resp, and closes the sessions.
func (s *Server) Unbind(ctx context.Context) error {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	var errs []error
	for _, ss := range sessions {
		if _, err := ss.request(ctx, &smpp.PDU{CommandID: smpp.CmdUnbind}); err != nil {
			errs = append(errs, err)
		}
		ss.close()
	}
	return errors.Join(errs...)
}

// Disconnect drops every TCP connection at once, without unbind, as a crashing SMSC or a
// broken network would (the peer reads end of stream).
func (s *Server) Disconnect() {
	for _, ss := range s.allSessions() {
		ss.close()
	}
}

// Reset drops every TCP connection with a TCP RST (SO_LINGER 0), as a firewall or a
// rebooting SMSC does: the peer's next read or write fails with "connection reset".
func (s *Server) Reset() {
	for _, ss := range s.allSessions() {
		c := ss.conn
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		ss.close()
	}
}

func (s *Server) allSessions() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	return sessions
}

// BindAttempts returns a copy of the bind requests received, in arrival order.
func (s *Server) BindAttempts() []BindAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BindAttempt(nil), s.binds...)
}

// WaitBindAttempts waits until at least n bind requests have been received.
func (s *Server) WaitBindAttempts(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.binds) >= n })
}

func (s *Server) recordBind(b BindAttempt) {
	s.mu.Lock()
	s.binds = append(s.binds, b)
	s.notifyLocked()
	s.mu.Unlock()
}

// boundLocked counts the sessions bound in any mode.
func (s *Server) boundLocked() int {
	n := 0
	for ss := range s.sessions {
		if ss.mode() != unbound {
			n++
		}
	}
	return n
}

// Held returns the number of submit_sm responses kept by ReplyHold.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// HeldSubmits returns the submits whose responses are held, oldest first, with the message
// ids their responses will carry: a test can send the receipt before the response.
func (s *Server) HeldSubmits() []Submit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submit(nil), s.heldSubs...)
}

// WaitHeld waits until at least n submit_sm responses are held.
func (s *Server) WaitHeld(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.held) >= n })
}

// ReleaseHeld sends the oldest n held submit_sm responses (all when n < 0), in arrival
// order, on the connections that carried the requests; a response whose connection is gone
// is dropped. It returns how many it took off the queue.
func (s *Server) ReleaseHeld(n int) int {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0
	}
	if n < 0 || n > len(s.held) {
		n = len(s.held)
	}
	out := s.held[:n:n]
	s.held = append([]func(){}, s.held[n:]...)
	s.heldSubs = append([]Submit(nil), s.heldSubs[n:]...)
	s.notifyLocked()
	s.mu.Unlock()
	for _, f := range out {
		f()
	}
	return n
}

// SendRaw writes frame as it is on a bound receiver session (round-robin) and, when the frame
// has a header, waits for the response with its sequence number (of the matching type, or a
// generic_nack), bounded by ctx and ResponseTimeout. It sends what Marshal cannot: unknown
// command ids, impossible command_length values, truncated bodies. A frame shorter than a
// header is written and nil is returned at once.
func (s *Server) SendRaw(ctx context.Context, frame []byte) (*smpp.PDU, error) {
	ss, err := s.nextReceiver()
	if err != nil {
		return nil, err
	}
	cmd, _, seq, ok := smpp.FrameHeader(frame)
	if !ok {
		return nil, ss.writeBytes(frame, 0)
	}
	rs, err := ss.exchange(ctx, frame, []uint32{cmd}, []uint32{seq})
	if err != nil {
		return nil, fmt.Errorf("smsctest: send raw: %w", err)
	}
	return rs[0], nil
}

// SendBurst sends the deliver_sm (or data_sm) of every MO in ONE write on one bound receiver
// session, so that the peer reads several PDUs at once, and waits for every response. The
// statuses are in the order of mos.
func (s *Server) SendBurst(ctx context.Context, mos []MO) ([]smpp.Status, error) {
	ss, err := s.nextReceiver()
	if err != nil {
		return nil, err
	}
	var b []byte
	cmds := make([]uint32, len(mos))
	seqs := make([]uint32, len(mos))
	for i, mo := range mos {
		p, err := mo.pdu(s.cfg.DefaultAlphabet)
		if err != nil {
			return nil, err
		}
		if p.Seq == 0 {
			p.Seq = ss.nextSeq()
		}
		f, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("smsctest: send burst: %w", err)
		}
		b = append(b, f...)
		cmds[i], seqs[i] = p.CommandID, p.Seq
	}
	rs, err := ss.exchange(ctx, b, cmds, seqs)
	if err != nil {
		return nil, fmt.Errorf("smsctest: send burst: %w", err)
	}
	st := make([]smpp.Status, len(rs))
	for i, r := range rs {
		st[i] = r.Status
	}
	return st, nil
}

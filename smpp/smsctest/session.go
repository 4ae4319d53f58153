package smsctest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// bindMode is what a session is bound as.
type bindMode int32

const (
	unbound bindMode = iota
	boundTX
	boundRX
	boundTRX
)

func (m bindMode) canReceive() bool { return m == boundRX || m == boundTRX }
func (m bindMode) canSubmit() bool  { return m == boundTX || m == boundTRX }

func (m bindMode) String() string {
	switch m {
	case boundTX:
		return "transmitter"
	case boundRX:
		return "receiver"
	case boundTRX:
		return "transceiver"
	}
	return "unbound"
}

// maxSeq keeps sequence numbers in 1..0x7FFFFFFF (SMPP 3.4 §5.1.4).
const maxSeq = 0x7FFFFFFF

// session is one TCP connection from an ESME. One goroutine (run) reads; writes are serialised
// by wmu and bounded by WriteTimeout; requests the server sends wait for their responses in
// pending, matched by sequence number and response type.
type session struct {
	srv  *Server
	conn net.Conn
	id   int
	log  *slog.Logger

	bind    atomic.Int32 // bindMode
	seq     atomic.Uint32
	wmu     sync.Mutex
	mu      sync.Mutex
	pending map[uint32]*pendingReq

	closeOnce sync.Once
	done      chan struct{} // closed when the connection is closed
}

type pendingReq struct {
	cmd uint32
	ch  chan *smpp.PDU // buffered 1
}

func newSession(s *Server, conn net.Conn, id int) *session {
	return &session{
		srv:     s,
		conn:    conn,
		id:      id,
		log:     s.log.With("session", id, "remote", conn.RemoteAddr().String()),
		pending: make(map[uint32]*pendingReq),
		done:    make(chan struct{}),
	}
}

func (ss *session) mode() bindMode { return bindMode(ss.bind.Load()) }

func (ss *session) close() {
	ss.closeOnce.Do(func() {
		close(ss.done)
		ss.conn.Close()
	})
}

func (ss *session) nextSeq() uint32 {
	for {
		old := ss.seq.Load()
		next := old + 1
		if next > maxSeq {
			next = 1
		}
		if ss.seq.CompareAndSwap(old, next) {
			return next
		}
	}
}

// run is the session's read loop; it owns all reads on the connection.
func (ss *session) run() {
	defer ss.srv.wg.Done()
	var wg sync.WaitGroup // goroutines started by this session (delayed responses, enquire_link)
	defer func() {
		ss.close()
		wg.Wait()
		ss.srv.removeSession(ss)
		ss.log.Info("session closed")
	}()
	ss.log.Info("session opened")
	if tc, ok := ss.conn.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(ss.srv.ctx, ss.srv.cfg.ResponseTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			ss.log.Warn("tls handshake", "err", err)
			return
		}
	}
	if d := ss.srv.cfg.EnquireLink; d > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); ss.enquireLinkLoop(d) }()
	}
	for {
		if !ss.waitReadable() {
			return
		}
		frame, err := smpp.ReadFrame(ss.conn)
		if err != nil {
			var fe *smpp.FrameError
			if errors.As(err, &fe) {
				// The stream cannot be re-framed: say why, then hang up.
				ss.log.Warn("impossible command_length", "length", fe.Length)
				_ = ss.write(&smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdLen, Seq: fe.Seq})
				return
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				ss.log.Debug("read", "err", err)
			}
			return
		}
		// A PDU whose read began before StopReading was set is held too: a test that set the
		// fault knows that nothing more is answered.
		if !ss.waitReadable() {
			return
		}
		if !ss.handle(frame, &wg) {
			return
		}
	}
}

// waitReadable blocks while Faults.StopReading is set; false when the session is closed.
func (ss *session) waitReadable() bool {
	for {
		ss.srv.mu.Lock()
		stop := ss.srv.faults.StopReading
		ch := ss.srv.changed
		ss.srv.mu.Unlock()
		if !stop {
			return true
		}
		select {
		case <-ch:
		case <-ss.done:
			return false
		}
	}
}

// handle processes one frame; false closes the session.
func (ss *session) handle(frame []byte, wg *sync.WaitGroup) bool {
	p, err := smpp.Decode(frame)
	if err != nil {
		cmd, _, seq, _ := smpp.FrameHeader(frame)
		if cmd&smpp.RespBit != 0 {
			ss.log.Warn("undecodable response", "command_id", fmt.Sprintf("0x%08X", cmd), "err", err)
			return true // never answer a response
		}
		if errors.Is(err, smpp.ErrUnknownCommand) {
			ss.log.Debug("unknown command", "command_id", fmt.Sprintf("0x%08X", cmd))
			return ss.write(&smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdID, Seq: seq}) == nil
		}
		ss.log.Warn("undecodable request", "command_id", fmt.Sprintf("0x%08X", cmd), "err", err)
		return ss.write(&smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdLen, Seq: seq}) == nil
	}
	if p.IsResponse() {
		ss.complete(p)
		return true
	}
	switch p.CommandID {
	case smpp.CmdBindTransceiver, smpp.CmdBindTransmitter, smpp.CmdBindReceiver:
		return ss.handleBind(p)
	case smpp.CmdEnquireLink:
		if ss.srv.Faults().NoEnquireLinkResp {
			return true
		}
		return ss.write(&smpp.PDU{CommandID: smpp.CmdEnquireLink | smpp.RespBit, Seq: p.Seq}) == nil
	case smpp.CmdUnbind:
		_ = ss.write(&smpp.PDU{CommandID: smpp.CmdUnbind | smpp.RespBit, Seq: p.Seq})
		ss.log.Info("unbound by peer")
		return false
	case smpp.CmdSubmitSM:
		return ss.handleSubmit(p, wg)
	case smpp.CmdDeliverSM, smpp.CmdDataSM:
		// An ESME may not send these to us in this simulator's role.
		return ss.write(&smpp.PDU{CommandID: p.CommandID | smpp.RespBit, Status: smpp.StatusInvBndSts, Seq: p.Seq}) == nil
	default:
		return ss.write(&smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdID, Seq: p.Seq}) == nil
	}
}

func (ss *session) handleBind(p *smpp.PDU) bool {
	srv := ss.srv
	f := srv.Faults()
	attempt := BindAttempt{SystemID: p.SystemID, Command: p.CommandID, At: srv.cfg.Now()}
	if f.DropBindResp {
		ss.log.Info("bind dropped (fault)", "system_id", p.SystemID)
		attempt.Dropped = true
		srv.recordBind(attempt)
		return true
	}
	resp := &smpp.PDU{CommandID: p.CommandID | smpp.RespBit, Seq: p.Seq}
	cfg := srv.cfg
	switch {
	case ss.mode() != unbound:
		resp.Status = smpp.StatusAlyBnd
	case f.RejectBind != smpp.StatusOK:
		resp.Status = f.RejectBind
	case p.SystemID != cfg.SystemID:
		resp.Status = smpp.StatusInvSysID
	case p.Password != cfg.Password:
		resp.Status = smpp.StatusInvPaswd
	}
	mode := map[uint32]bindMode{
		smpp.CmdBindTransceiver: boundTRX,
		smpp.CmdBindTransmitter: boundTX,
		smpp.CmdBindReceiver:    boundRX,
	}[p.CommandID]
	// Publish the bind under the write lock, then write the response: a peer that has read
	// bind_resp finds itself bound (SendMO works at once), and no deliver_sm, which needs the
	// same lock, can overtake the response. The MaxBinds check and the publication happen
	// under srv.mu together, so that two concurrent binds cannot both take the last place.
	ss.wmu.Lock()
	if resp.Status == smpp.StatusOK {
		srv.mu.Lock()
		if f.MaxBinds > 0 && srv.boundLocked() >= f.MaxBinds {
			resp.Status = smpp.StatusAlyBnd
		} else {
			ss.bind.Store(int32(mode))
		}
		srv.mu.Unlock()
	}
	if resp.Status == smpp.StatusOK {
		// The body (system_id, sc_interface_version §5.3.2.25) only on success (§4.1.2).
		resp.SystemID = cfg.Name
		resp.TLVs = []smpp.TLV{{Tag: 0x0210, Value: []byte{0x34}}}
	}
	// Record before answering: a peer that read the response finds its attempt listed.
	attempt.Status = resp.Status
	srv.recordBind(attempt)
	err := ss.writeLocked(resp)
	ss.wmu.Unlock()
	if resp.Status != smpp.StatusOK {
		ss.log.Info("bind refused", "system_id", p.SystemID, "status", resp.Status.Name())
		return err == nil
	}
	if err != nil {
		return false
	}
	ss.log.Info("bound", "mode", mode.String(), "system_id", p.SystemID)
	return true
}

func (ss *session) handleSubmit(p *smpp.PDU, wg *sync.WaitGroup) bool {
	if !ss.mode().canSubmit() {
		return ss.write(&smpp.PDU{CommandID: smpp.CmdSubmitSM | smpp.RespBit, Status: smpp.StatusInvBndSts, Seq: p.Seq}) == nil
	}
	srv := ss.srv
	f := srv.Faults()
	sub := decodeSubmit(p, srv.cfg.DefaultAlphabet, srv.cfg.Now())
	status := f.SubmitStatus
	if f.SubmitReply == ReplyGenericNack && status == smpp.StatusOK {
		status = smpp.StatusInvCmdID
	}
	var id uint64
	if status != smpp.StatusOK {
		sub.Status = status
	} else {
		id = srv.newMessageID()
		sub.MessageID = formatID(id, srv.cfg.MessageIDs)
	}
	var resp *smpp.PDU // nil: no answer at all
	switch f.SubmitReply {
	case ReplyGenericNack:
		resp = &smpp.PDU{CommandID: smpp.CmdGenericNack, Status: status, Seq: p.Seq}
	case ReplyNone:
	case ReplyWrongCommand:
		resp = &smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq}
	default:
		resp = &smpp.PDU{CommandID: smpp.CmdSubmitSM | smpp.RespBit, Status: status, Seq: p.Seq, MessageID: sub.MessageID}
	}
	respond := func() bool {
		// Record before answering: a test that saw the response must find the submit.
		srv.mu.Lock()
		if sub.Status == smpp.StatusOK {
			srv.submits = append(srv.submits, sub)
		} else {
			srv.rejected = append(srv.rejected, sub)
		}
		srv.notifyLocked()
		srv.mu.Unlock()
		if resp == nil {
			ss.log.Debug("submit_sm not answered (fault)", "to", Mask(sub.To), "message_id", sub.MessageID)
			return true
		}
		ss.log.Debug("submit_sm", "to", Mask(sub.To), "response", smpp.CommandName(resp.CommandID),
			"status", resp.Status.Name(), "message_id", sub.MessageID)
		if ss.write(resp) != nil {
			return false
		}
		if srv.cfg.AutoReceipt && resp.CommandID == smpp.CmdSubmitSM|smpp.RespBit && sub.Status == smpp.StatusOK &&
			sub.RegisteredDelivery&0x03 == 1 {
			srv.wg.Add(1)
			go func() {
				defer srv.wg.Done()
				if d := srv.cfg.ReceiptDelay; d > 0 {
					t := time.NewTimer(d)
					defer t.Stop()
					select {
					case <-srv.ctx.Done():
						return
					case <-t.C:
					}
				}
				srv.autoReceipt(sub, id)
			}()
		}
		return true
	}
	if f.SubmitReply == ReplyHold {
		srv.mu.Lock()
		srv.held = append(srv.held, func() {
			if !respond() {
				ss.close()
			}
		})
		srv.heldSubs = append(srv.heldSubs, sub)
		srv.notifyLocked()
		srv.mu.Unlock()
		return true
	}
	if f.SubmitDelay <= 0 {
		return respond()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTimer(f.SubmitDelay)
		defer t.Stop()
		select {
		case <-t.C:
			if !respond() {
				ss.close()
			}
		case <-ss.done:
		}
	}()
	return true
}

// decodeSubmit turns a submit_sm into a Submit, decoding its text; data_coding 0 is def.
func decodeSubmit(p *smpp.PDU, def text.Alphabet, at time.Time) Submit {
	sub := Submit{
		From: p.SourceAddr, To: p.DestAddr,
		SourceTON: p.SourceTON, SourceNPI: p.SourceNPI, DestTON: p.DestTON, DestNPI: p.DestNPI,
		DataCoding: p.DataCoding, ESMClass: p.ESMClass, RegisteredDelivery: p.RegisteredDelivery,
		At: at, PDU: p,
	}
	data := p.Payload()
	if p.ESMClass&0x40 != 0 {
		udh, rest, err := text.SplitUDH(data)
		if err != nil {
			sub.DecodeErr = err
		} else {
			sub.UDH = append([]byte(nil), udh...)
			data = rest
		}
	}
	d := text.Decode(data, text.AlphabetFor(p.DataCoding, def))
	sub.Text = d.Text
	if d.Invalid > 0 && sub.DecodeErr == nil {
		sub.DecodeErr = fmt.Errorf("smsctest: %d undecodable units in %s text", d.Invalid, d.Alphabet)
	}
	return sub
}

// complete hands a response to the request waiting for it. A response nobody waits for, or of
// the wrong type, is logged and dropped, as a real SMSC would.
func (ss *session) complete(p *smpp.PDU) {
	ss.mu.Lock()
	req, ok := ss.pending[p.Seq]
	if ok && (p.CommandID == req.cmd|smpp.RespBit || p.CommandID == smpp.CmdGenericNack) {
		delete(ss.pending, p.Seq)
	} else {
		ok = false
	}
	ss.mu.Unlock()
	if !ok {
		ss.log.Debug("unexpected response", "command_id", fmt.Sprintf("0x%08X", p.CommandID), "seq", p.Seq)
		return
	}
	req.ch <- p
}

// request sends p (a request; its Seq is assigned when zero) and waits for its response,
// bounded by ctx and ResponseTimeout.
func (ss *session) request(ctx context.Context, p *smpp.PDU) (*smpp.PDU, error) {
	if p.Seq == 0 {
		p.Seq = ss.nextSeq()
	}
	b, err := p.Marshal()
	if err != nil {
		return nil, fmt.Errorf("smsctest: marshal 0x%08X: %w", p.CommandID, err)
	}
	rs, err := ss.exchange(ctx, b, []uint32{p.CommandID}, []uint32{p.Seq})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// exchange writes b, one or more encoded requests, in a single write and waits for the
// response to each (cmds[i], seqs[i]), bounded by ctx and ResponseTimeout.
func (ss *session) exchange(ctx context.Context, b []byte, cmds, seqs []uint32) ([]*smpp.PDU, error) {
	ctx, cancel := context.WithTimeout(ctx, ss.srv.cfg.ResponseTimeout)
	defer cancel()
	reqs := make([]*pendingReq, len(seqs))
	ss.mu.Lock()
	for i, seq := range seqs {
		if _, dup := ss.pending[seq]; dup {
			for _, s := range seqs[:i] {
				delete(ss.pending, s)
			}
			ss.mu.Unlock()
			return nil, fmt.Errorf("smsctest: sequence number %d already pending", seq)
		}
		reqs[i] = &pendingReq{cmd: cmds[i], ch: make(chan *smpp.PDU, 1)}
		ss.pending[seq] = reqs[i]
	}
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		for i, seq := range seqs {
			if ss.pending[seq] == reqs[i] {
				delete(ss.pending, seq)
			}
		}
		ss.mu.Unlock()
	}()
	if err := ss.writeBytes(b, cmds[0]); err != nil {
		return nil, err
	}
	out := make([]*smpp.PDU, len(reqs))
	for i, req := range reqs {
		select {
		case out[i] = <-req.ch:
			continue
		case <-ss.done:
		case <-ss.srv.ctx.Done():
		case <-ctx.Done():
		}
		// A response that arrived just before the connection closed still counts (a
		// generic_nack before the peer hangs up).
		select {
		case out[i] = <-req.ch:
			continue
		default:
		}
		switch {
		case ss.srv.ctx.Err() != nil:
			return nil, ErrClosed
		case ctx.Err() != nil:
			return nil, fmt.Errorf("smsctest: wait for response to 0x%08X seq %d: %w", cmds[i], seqs[i], ctx.Err())
		default:
			return nil, fmt.Errorf("smsctest: session %d closed before response to 0x%08X: %w", ss.id, cmds[i], ErrClosed)
		}
	}
	return out, nil
}

// write marshals and writes one PDU; any failure closes the session.
func (ss *session) write(p *smpp.PDU) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.writeLocked(p)
}

// writeLocked is write with ss.wmu held.
func (ss *session) writeLocked(p *smpp.PDU) error {
	b, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("smsctest: marshal 0x%08X: %w", p.CommandID, err)
	}
	return ss.writeBytesLocked(b, p.CommandID)
}

// writeBytes writes encoded frames (cmd is for errors only); any failure closes the session.
func (ss *session) writeBytes(b []byte, cmd uint32) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.writeBytesLocked(b, cmd)
}

func (ss *session) writeBytesLocked(b []byte, cmd uint32) error {
	select {
	case <-ss.done:
		return fmt.Errorf("smsctest: write: %w", ErrClosed)
	default:
	}
	chunk := len(b)
	if ss.srv.Faults().SplitWrites {
		chunk = 1
	}
	_ = ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.cfg.WriteTimeout))
	for off := 0; off < len(b); off += chunk {
		if _, err := ss.conn.Write(b[off:min(off+chunk, len(b))]); err != nil {
			ss.close()
			return fmt.Errorf("smsctest: write 0x%08X: %w", cmd, err)
		}
	}
	return nil
}

// enquireLinkLoop sends enquire_link every d while the session is bound, and closes the
// session when one goes unanswered.
func (ss *session) enquireLinkLoop(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ss.done:
			return
		case <-t.C:
		}
		if ss.mode() == unbound {
			continue
		}
		ctx, cancel := context.WithTimeout(ss.srv.ctx, ss.srv.cfg.ResponseTimeout)
		_, err := ss.request(ctx, &smpp.PDU{CommandID: smpp.CmdEnquireLink})
		cancel()
		if err != nil {
			ss.log.Warn("enquire_link unanswered, closing", "err", err)
			ss.close()
			return
		}
	}
}

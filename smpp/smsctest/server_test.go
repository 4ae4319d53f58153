package smsctest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

const (
	testSystemID = "sms1708"
	testPassword = "secret"
	waitLimit    = 5 * time.Second
)

// esme is a raw SMPP client built on package smpp's codec, one PDU at a time, so that the
// tests read like a transcript of the wire.
type esme struct {
	t    *testing.T
	conn net.Conn
	seq  uint32
}

func dial(t *testing.T, addr string) *esme {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &esme{t: t, conn: conn}
}

// send writes p, assigning the next sequence number when p.Seq is 0; it returns the seq.
func (e *esme) send(p *smpp.PDU) uint32 {
	e.t.Helper()
	if p.Seq == 0 {
		e.seq++
		p.Seq = e.seq
	}
	b, err := p.Marshal()
	if err != nil {
		e.t.Fatalf("marshal %s: %v", smpp.CommandName(p.CommandID), err)
	}
	e.writeRaw(b)
	return p.Seq
}

func (e *esme) writeRaw(b []byte) {
	e.t.Helper()
	_ = e.conn.SetWriteDeadline(time.Now().Add(waitLimit))
	if _, err := e.conn.Write(b); err != nil {
		e.t.Fatalf("write: %v", err)
	}
}

func (e *esme) readFrame(limit time.Duration) ([]byte, error) {
	_ = e.conn.SetReadDeadline(time.Now().Add(limit))
	return smpp.ReadFrame(e.conn)
}

// read reads and decodes the next PDU, failing the test on any error.
func (e *esme) read() *smpp.PDU {
	e.t.Helper()
	frame, err := e.readFrame(waitLimit)
	if err != nil {
		e.t.Fatalf("read: %v", err)
	}
	p, err := smpp.Decode(frame)
	if err != nil {
		e.t.Fatalf("decode: %v\n%s", err, hex.Dump(frame))
	}
	return p
}

func (e *esme) bind(cmd uint32, systemID, password string) *smpp.PDU {
	e.t.Helper()
	seq := e.send(&smpp.PDU{CommandID: cmd, SystemID: systemID, Password: password, InterfaceVersion: 0x34})
	resp := e.read()
	if resp.CommandID != cmd|smpp.RespBit || resp.Seq != seq {
		e.t.Fatalf("bind: got %s seq %d, want %s seq %d", smpp.CommandName(resp.CommandID), resp.Seq, smpp.CommandName(cmd|smpp.RespBit), seq)
	}
	return resp
}

func (e *esme) mustBind(cmd uint32) {
	e.t.Helper()
	if resp := e.bind(cmd, testSystemID, testPassword); resp.Status != smpp.StatusOK {
		e.t.Fatalf("bind: %v", resp.Status)
	}
}

// expectClosed checks that the server hung up.
func (e *esme) expectClosed() {
	e.t.Helper()
	frame, err := e.readFrame(waitLimit)
	if err == nil {
		e.t.Fatalf("read: got a frame, want the connection closed:\n%s", hex.Dump(frame))
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
		e.t.Fatalf("read: %v, want EOF", err)
	}
}

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.SystemID == "" {
		cfg.SystemID, cfg.Password = testSystemID, testPassword
	}
	if testing.Verbose() && cfg.Logger == nil {
		cfg.Logger = slogToStderr()
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { s.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("Close did not return")
		}
	})
	return s
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

func TestBind(t *testing.T) {
	tests := []struct {
		name         string
		cmd          uint32
		systemID     string
		password     string
		faults       Faults
		want         smpp.Status
		wantReceiver int
	}{
		{"transceiver accepted", smpp.CmdBindTransceiver, testSystemID, testPassword, Faults{}, smpp.StatusOK, 1},
		{"transmitter accepted, cannot receive", smpp.CmdBindTransmitter, testSystemID, testPassword, Faults{}, smpp.StatusOK, 0},
		{"receiver accepted", smpp.CmdBindReceiver, testSystemID, testPassword, Faults{}, smpp.StatusOK, 1},
		{"wrong password refused", smpp.CmdBindTransceiver, testSystemID, "wrong", Faults{}, smpp.StatusInvPaswd, 0},
		{"unknown system_id refused", smpp.CmdBindTransceiver, "someone", testPassword, Faults{}, smpp.StatusInvSysID, 0},
		{"fault RejectBind refused", smpp.CmdBindReceiver, testSystemID, testPassword, Faults{RejectBind: smpp.StatusBindFail}, smpp.StatusBindFail, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{Name: "telkomsel", Faults: tt.faults})
			c := dial(t, s.Addr())
			seq := c.send(&smpp.PDU{CommandID: tt.cmd, SystemID: tt.systemID, Password: tt.password, InterfaceVersion: 0x34})
			frame, err := c.readFrame(waitLimit)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := smpp.Decode(frame)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, hex.Dump(frame))
			}
			if resp.CommandID != tt.cmd|smpp.RespBit || resp.Seq != seq || resp.Status != tt.want {
				t.Fatalf("got %s seq %d status %v, want %s seq %d status %v\n%s",
					smpp.CommandName(resp.CommandID), resp.Seq, resp.Status, smpp.CommandName(tt.cmd|smpp.RespBit), seq, tt.want, hex.Dump(frame))
			}
			if tt.want == smpp.StatusOK {
				if resp.SystemID != "telkomsel" {
					t.Errorf("bind_resp system_id = %q, want telkomsel", resp.SystemID)
				}
			} else if len(frame) != smpp.HeaderLen {
				// §4.1.2: no body when the bind is refused.
				t.Errorf("refused bind_resp has a body:\n%s", hex.Dump(frame))
			}
			// Bound is published before bind_resp is written: no waiting needed.
			if got := s.Bound(); got != tt.wantReceiver {
				t.Errorf("Bound() = %d, want %d", got, tt.wantReceiver)
			}
		})
	}
}

func TestBindTwiceAlreadyBound(t *testing.T) {
	s := newServer(t, Config{})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	if got := c.bind(smpp.CmdBindTransceiver, testSystemID, testPassword).Status; got != smpp.StatusAlyBnd {
		t.Fatalf("second bind: %v, want ESME_RALYBND", got)
	}
}

// wantDeliverSM is the wire image of the deliver_sm for "Halo" from a citizen to 1708, field
// by field (SMPP 3.4 §4.6.1).
func wantDeliverSM(seq uint32) []byte {
	var b []byte
	b = append(b, 0, 0, 0, 0)                          // command_length, patched below
	b = binary.BigEndian.AppendUint32(b, 0x00000005)   // command_id deliver_sm
	b = binary.BigEndian.AppendUint32(b, 0)            // command_status
	b = binary.BigEndian.AppendUint32(b, seq)          // sequence_number
	b = append(b, 0)                                   // service_type ""
	b = append(b, 1, 1)                                // source_addr_ton international, npi ISDN
	b = append(b, "6281234567890\x00"...)              // source_addr
	b = append(b, 0, 1)                                // dest_addr_ton unknown, npi ISDN
	b = append(b, "1708\x00"...)                       // destination_addr
	b = append(b, 0x00)                                // esm_class
	b = append(b, 0x00)                                // protocol_id
	b = append(b, 0x00)                                // priority_flag
	b = append(b, 0x00)                                // schedule_delivery_time ""
	b = append(b, 0x00)                                // validity_period ""
	b = append(b, 0x00)                                // registered_delivery
	b = append(b, 0x00)                                // replace_if_present_flag
	b = append(b, 0x00)                                // data_coding: SMSC default (GSM 03.38)
	b = append(b, 0x00)                                // sm_default_msg_id
	b = append(b, 4)                                   // sm_length
	b = append(b, 'H', 'a', 'l', 'o')                  // short_message, GSM 03.38 unpacked
	binary.BigEndian.PutUint32(b[0:4], uint32(len(b))) // command_length
	return b
}

func TestSendMOWireImage(t *testing.T) {
	s := newServer(t, Config{})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	res := s.SendMOAsync(MO{From: "6281234567890", To: "1708", Text: "Halo"})
	frame, err := c.readFrame(waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	seq := binary.BigEndian.Uint32(frame[12:16])
	if want := wantDeliverSM(seq); !bytes.Equal(frame, want) {
		t.Fatalf("deliver_sm on the wire:\n%s\nwant:\n%s", hex.Dump(frame), hex.Dump(want))
	}
	c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: seq})
	if r := <-res; r.Err != nil || r.Status != smpp.StatusOK {
		t.Fatalf("SendMOAsync = %+v, want ESME_ROK", r)
	}
}

func TestSendMO(t *testing.T) {
	ucs2 := func(s string) []byte { return text.EncodeUCS2(s) }
	long := strings.Repeat("jalan rusak ", 30) // 360 GSM septets: message_payload
	tests := []struct {
		name   string
		mo     MO
		answer smpp.Status
		want   smpp.PDU // fields of the deliver_sm, Seq and CommandID aside
	}{
		{
			name:   "GSM7 text acknowledged",
			mo:     MO{From: "6281234567890", To: "1708", Text: "jalan rusak di desa kami {RT 05}"},
			answer: smpp.StatusOK,
			want: smpp.PDU{SourceTON: 1, SourceNPI: 1, SourceAddr: "6281234567890", DestTON: 0, DestNPI: 1, DestAddr: "1708",
				ShortMessage: gsm(t, "jalan rusak di desa kami {RT 05}")},
		},
		{
			name:   "non-GSM text goes as UCS2, temporary error reported",
			mo:     MO{From: "6281234567890", To: "1708", Text: "banjir 🙏 tolong"},
			answer: smpp.StatusXTAppn,
			want: smpp.PDU{SourceTON: 1, SourceNPI: 1, SourceAddr: "6281234567890", DestTON: 0, DestNPI: 1, DestAddr: "1708",
				DataCoding: 0x08, ShortMessage: ucs2("banjir 🙏 tolong")},
		},
		{
			name:   "national number, forced UCS2, permanent error reported",
			mo:     MO{From: "081234567890", To: "1708", Text: "halo", DataCoding: 0x08},
			answer: smpp.StatusXPAppn,
			want: smpp.PDU{SourceTON: 2, SourceNPI: 1, SourceAddr: "081234567890", DestTON: 0, DestNPI: 1, DestAddr: "1708",
				DataCoding: 0x08, ShortMessage: ucs2("halo")},
		},
		{
			name: "raw multipart part with UDH and a TLV",
			mo: MO{From: "6281234567890", To: "1708", ESMClass: 0x40,
				ShortMessage: []byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'a', 'b'}, TLVs: []smpp.TLV{{Tag: 0x1403, Value: []byte{7}}}},
			answer: smpp.StatusOK,
			want: smpp.PDU{SourceTON: 1, SourceNPI: 1, SourceAddr: "6281234567890", DestTON: 0, DestNPI: 1, DestAddr: "1708",
				ESMClass: 0x40, ShortMessage: []byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'a', 'b'}, TLVs: []smpp.TLV{{Tag: 0x1403, Value: []byte{7}}}},
		},
		{
			name:   "long text in message_payload",
			mo:     MO{From: "6281234567890", To: "1708", Text: long},
			answer: smpp.StatusOK,
			want: smpp.PDU{SourceTON: 1, SourceNPI: 1, SourceAddr: "6281234567890", DestTON: 0, DestNPI: 1, DestAddr: "1708",
				TLVs: []smpp.TLV{{Tag: smpp.TagMessagePayload, Value: gsm(t, long)}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{})
			c := dial(t, s.Addr())
			c.mustBind(smpp.CmdBindReceiver)
			res := s.SendMOAsync(tt.mo)
			frame, err := c.readFrame(waitLimit)
			if err != nil {
				t.Fatal(err)
			}
			got, err := smpp.Decode(frame)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, hex.Dump(frame))
			}
			want := tt.want
			want.CommandID, want.Seq = smpp.CmdDeliverSM, got.Seq
			if diff := cmp.Diff(&want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("deliver_sm (-want +got):\n%s\n%s", diff, hex.Dump(frame))
			}
			c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: got.Seq, Status: tt.answer})
			r := <-res
			if r.Err != nil || r.Status != tt.answer {
				t.Fatalf("SendMOAsync = %+v, want status %v", r, tt.answer)
			}
		})
	}
}

func gsm(t *testing.T, s string) []byte {
	t.Helper()
	b, ok := text.EncodeGSM7(s)
	if !ok {
		t.Fatalf("%q is not GSM", s)
	}
	return b
}

func TestSendMOGenericNackAndSeq(t *testing.T) {
	s := newServer(t, Config{})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	res := s.SendMOAsync(MO{From: "6281234567890", To: "1708", Text: "x", Seq: 4242})
	p := c.read()
	if p.CommandID != smpp.CmdDeliverSM || p.Seq != 4242 {
		t.Fatalf("got %s seq %d, want deliver_sm seq 4242", smpp.CommandName(p.CommandID), p.Seq)
	}
	// A response of the wrong type with the right seq must not complete the request.
	c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM | smpp.RespBit, Seq: 4242, MessageID: "x"})
	c.send(&smpp.PDU{CommandID: smpp.CmdGenericNack, Seq: 4242, Status: smpp.StatusInvCmdID})
	if r := <-res; r.Err != nil || r.Status != smpp.StatusInvCmdID {
		t.Fatalf("SendMOAsync = %+v, want ESME_RINVCMDID from the generic_nack", r)
	}
}

func TestSendMONoReceiver(t *testing.T) {
	s := newServer(t, Config{})
	if _, err := s.SendMO(ctxT(t), MO{From: "6281234567890", To: "1708", Text: "x"}); !errors.Is(err, ErrNotBound) {
		t.Fatalf("no session: err = %v, want ErrNotBound", err)
	}
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransmitter)
	if _, err := s.SendMO(ctxT(t), MO{From: "6281234567890", To: "1708", Text: "x"}); !errors.Is(err, ErrNotBound) {
		t.Fatalf("transmitter only: err = %v, want ErrNotBound", err)
	}
}

func TestSendMORoundRobin(t *testing.T) {
	s := newServer(t, Config{})
	a, b := dial(t, s.Addr()), dial(t, s.Addr())
	a.mustBind(smpp.CmdBindReceiver)
	b.mustBind(smpp.CmdBindTransceiver)
	// Each client answers two deliver_sm and says which one it got, before answering.
	order := make(chan string, 4)
	for name, e := range map[string]*esme{"a": a, "b": b} {
		go func() {
			for range 2 {
				frame, err := e.readFrame(waitLimit)
				if err != nil {
					order <- "error: " + err.Error()
					return
				}
				order <- name
				resp, _ := (&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: binary.BigEndian.Uint32(frame[12:16])}).Marshal()
				_, _ = e.conn.Write(resp)
			}
		}()
	}
	var got []string
	for i := range 4 {
		if st, err := s.SendMO(ctxT(t), MO{From: "6281234567890", To: "1708", Text: "x"}); err != nil || st != smpp.StatusOK {
			t.Fatalf("MO %d: %v %v", i, st, err)
		}
		got = append(got, <-order)
	}
	if got[0] == got[1] || got[0] != got[2] || got[1] != got[3] {
		t.Fatalf("receivers %v, want alternation", got)
	}
}

func TestSubmit(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		sm      smpp.PDU
		want    Submit
		idDigit string // characters the message id is made of
	}{
		{
			name: "GSM7 with extension characters, hex id",
			sm: smpp.PDU{SourceTON: 0, SourceNPI: 1, SourceAddr: "1708", DestTON: 1, DestNPI: 1, DestAddr: "6281234567890",
				RegisteredDelivery: 1, ShortMessage: gsm(t, "Tiket [1234567890] diterima €5")},
			want: Submit{From: "1708", To: "6281234567890", SourceNPI: 1, DestTON: 1, DestNPI: 1,
				Text: "Tiket [1234567890] diterima €5", RegisteredDelivery: 1},
			idDigit: "0123456789ABCDEF",
		},
		{
			name: "UCS2 with a surrogate pair, decimal id",
			cfg:  Config{MessageIDs: IDDecimal},
			sm: smpp.PDU{SourceAddr: "1708", DestTON: 1, DestNPI: 1, DestAddr: "6281234567890",
				DataCoding: 0x08, ShortMessage: text.EncodeUCS2("Terima kasih 🙏")},
			want:    Submit{From: "1708", To: "6281234567890", DestTON: 1, DestNPI: 1, Text: "Terima kasih 🙏", DataCoding: 0x08},
			idDigit: "0123456789",
		},
		{
			name: "UDH split off",
			sm: smpp.PDU{SourceAddr: "1708", DestAddr: "6281234567890", ESMClass: 0x40,
				ShortMessage: append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, gsm(t, "bagian satu")...)},
			want: Submit{From: "1708", To: "6281234567890", ESMClass: 0x40, UDH: []byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01},
				Text: "bagian satu"},
			idDigit: "0123456789ABCDEF",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.cfg)
			c := dial(t, s.Addr())
			c.mustBind(smpp.CmdBindTransmitter)
			sm := tt.sm
			sm.CommandID = smpp.CmdSubmitSM
			seq := c.send(&sm)
			resp := c.read()
			if resp.CommandID != smpp.CmdSubmitSM|smpp.RespBit || resp.Seq != seq || resp.Status != smpp.StatusOK {
				t.Fatalf("got %s seq %d %v, want submit_sm_resp seq %d ESME_ROK", smpp.CommandName(resp.CommandID), resp.Seq, resp.Status, seq)
			}
			if resp.MessageID == "" || strings.Trim(resp.MessageID, tt.idDigit) != "" {
				t.Fatalf("message_id %q, want digits of %q", resp.MessageID, tt.idDigit)
			}
			got, err := s.WaitSubmit(ctxT(t), func(sub Submit) bool { return sub.To == "6281234567890" })
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.MessageID = resp.MessageID
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Submit{}, "At", "PDU"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Submit (-want +got):\n%s", diff)
			}
			if got.PDU == nil || got.At.IsZero() {
				t.Errorf("Submit.PDU = %v, At = %v: want both set", got.PDU, got.At)
			}
			if n := len(s.Submits()); n != 1 {
				t.Errorf("len(Submits()) = %d, want 1", n)
			}
		})
	}
}

func TestSubmitIDsAreDistinct(t *testing.T) {
	s := newServer(t, Config{FirstMessageID: 0xFF})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	var ids []string
	for range 3 {
		c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestAddr: "6281234567890", ShortMessage: []byte("x")})
		ids = append(ids, c.read().MessageID)
	}
	if diff := cmp.Diff([]string{"100", "101", "102"}, ids); diff != "" {
		t.Errorf("message ids (-want +got):\n%s", diff)
	}
}

func TestSubmitRefusedWhenNotTransmitter(t *testing.T) {
	tests := []struct {
		name string
		bind uint32 // 0: not bound
	}{{"unbound", 0}, {"receiver", smpp.CmdBindReceiver}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{})
			c := dial(t, s.Addr())
			if tt.bind != 0 {
				c.mustBind(tt.bind)
			}
			c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestAddr: "6281234567890", ShortMessage: []byte("x")})
			if p := c.read(); p.CommandID != smpp.CmdSubmitSM|smpp.RespBit || p.Status != smpp.StatusInvBndSts {
				t.Fatalf("got %s %v, want submit_sm_resp ESME_RINVBNDSTS", smpp.CommandName(p.CommandID), p.Status)
			}
			if n := len(s.Submits()); n != 0 {
				t.Errorf("recorded %d submits, want 0", n)
			}
		})
	}
}

func TestWaitSubmitHonoursContext(t *testing.T) {
	s := newServer(t, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.WaitSubmit(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// checkReceipt checks every field of a receipt deliver_sm.
func checkReceipt(t *testing.T, frame []byte, from, to, id, stat string, state byte) *smpp.PDU {
	t.Helper()
	p, err := smpp.Decode(frame)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, hex.Dump(frame))
	}
	want := &smpp.PDU{
		CommandID: smpp.CmdDeliverSM, Seq: p.Seq,
		SourceTON: 1, SourceNPI: 1, SourceAddr: from, DestTON: 0, DestNPI: 1, DestAddr: to,
		ESMClass: 0x04, ShortMessage: p.ShortMessage,
		TLVs: []smpp.TLV{
			{Tag: smpp.TagReceiptedMessageID, Value: append([]byte(id), 0)},
			{Tag: smpp.TagMessageState, Value: []byte{state}},
		},
	}
	if diff := cmp.Diff(want, p, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("receipt (-want +got):\n%s\n%s", diff, hex.Dump(frame))
	}
	body := text.Decode(p.ShortMessage, text.GSM7).Text
	dlvrd := "000"
	if stat == "DELIVRD" {
		dlvrd = "001"
	}
	prefix := "id:" + id + " sub:001 dlvrd:" + dlvrd + " submit date:"
	if !strings.HasPrefix(body, prefix) || !strings.Contains(body, " stat:"+stat+" err:000 text:") {
		t.Fatalf("receipt text %q, want %q… stat:%s err:000 text:…", body, prefix, stat)
	}
	return p
}

func TestSendReceipt(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	s := newServer(t, Config{Now: func() time.Time { return now }})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestTON: 1, DestNPI: 1, DestAddr: "6281234567890",
		RegisteredDelivery: 1, ShortMessage: gsm(t, "Laporan Anda diterima, tiket 1234567890")})
	id := c.read().MessageID

	res := make(chan Result, 1)
	go func() {
		st, err := s.SendReceipt(t.Context(), "1708", "6281234567890", id, "UNDELIV")
		res <- Result{st, err}
	}()
	frame, err := c.readFrame(waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	p := checkReceipt(t, frame, "6281234567890", "1708", id, "UNDELIV", 5)
	wantText := "id:" + id + " sub:001 dlvrd:000 submit date:2503040506 done date:2503040506 stat:UNDELIV err:000 text:Laporan Anda diterim"
	if got := text.Decode(p.ShortMessage, text.GSM7).Text; got != wantText {
		t.Errorf("receipt text\n got %q\nwant %q", got, wantText)
	}
	c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq})
	if r := <-res; r.Err != nil || r.Status != smpp.StatusOK {
		t.Fatalf("SendReceipt = %+v", r)
	}
	if _, err := s.SendReceipt(t.Context(), "1708", "6281234567890", id, "BOGUS"); err == nil {
		t.Error("SendReceipt with an unknown stat succeeded")
	}
}

func TestAutoReceipt(t *testing.T) {
	dec := IDDecimal
	tests := []struct {
		name       string
		cfg        Config
		rd         uint8
		wantID     func(hexID string) string
		wantNoDLR  bool
		submitFrom string
	}{
		{"same id format", Config{AutoReceipt: true, FirstMessageID: 0x1000}, 1, func(h string) string { return h }, false, "1708"},
		{"hex submit id, decimal receipt id", Config{AutoReceipt: true, FirstMessageID: 0x1000, ReceiptIDs: &dec}, 1,
			func(string) string { return "4097" }, false, "1708"},
		{"no receipt asked", Config{AutoReceipt: true}, 0, nil, true, "1708"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.cfg)
			c := dial(t, s.Addr())
			c.mustBind(smpp.CmdBindTransceiver)
			c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: tt.submitFrom, DestTON: 1, DestNPI: 1, DestAddr: "6281234567890",
				RegisteredDelivery: tt.rd, ShortMessage: gsm(t, "Terima kasih")})
			resp := c.read()
			if resp.CommandID != smpp.CmdSubmitSM|smpp.RespBit {
				t.Fatalf("got %s, want submit_sm_resp first", smpp.CommandName(resp.CommandID))
			}
			if tt.wantNoDLR {
				// Whatever comes next must be the answer to this enquire_link, not a receipt.
				c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink})
				if p := c.read(); p.CommandID != smpp.CmdEnquireLink|smpp.RespBit {
					t.Fatalf("got %s, want enquire_link_resp (no receipt)", smpp.CommandName(p.CommandID))
				}
				return
			}
			frame, err := c.readFrame(waitLimit)
			if err != nil {
				t.Fatal(err)
			}
			p := checkReceipt(t, frame, "6281234567890", "1708", tt.wantID(resp.MessageID), "DELIVRD", 2)
			c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq})
		})
	}
}

// With ReceiptDelay the receipt comes that long after the submit_sm_resp, not before: what
// the session sends at once is the answer to a later request.
func TestAutoReceiptDelay(t *testing.T) {
	const delay = 300 * time.Millisecond
	s := newServer(t, Config{AutoReceipt: true, ReceiptDelay: delay})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestTON: 1, DestNPI: 1, DestAddr: "6281234567890",
		RegisteredDelivery: 1, ShortMessage: gsm(t, "Terima kasih")})
	resp := c.read()
	answered := time.Now()
	if resp.CommandID != smpp.CmdSubmitSM|smpp.RespBit {
		t.Fatalf("got %s, want submit_sm_resp first", smpp.CommandName(resp.CommandID))
	}
	c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink})
	if p := c.read(); p.CommandID != smpp.CmdEnquireLink|smpp.RespBit {
		t.Fatalf("got %s, want enquire_link_resp before the delayed receipt", smpp.CommandName(p.CommandID))
	}
	frame, err := c.readFrame(waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(answered); waited < delay {
		t.Errorf("receipt %s after the submit_sm_resp, want at least %s", waited, delay)
	}
	p := checkReceipt(t, frame, "6281234567890", "1708", resp.MessageID, "DELIVRD", 2)
	c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq})
}

func TestEnquireLinkAndGenericNack(t *testing.T) {
	s := newServer(t, Config{})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	tests := []struct {
		name string
		req  []byte
		want smpp.PDU
	}{
		{"enquire_link answered", frame(0x00000015, 7), smpp.PDU{CommandID: smpp.CmdEnquireLink | smpp.RespBit, Seq: 7}},
		{"replace_sm not implemented", frame(0x00000007, 8), smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdID, Seq: 8}},
		{"unknown command id", frame(0x00ABCDEF, 9), smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdID, Seq: 9}},
		{"truncated submit_sm", frame(0x00000004, 10, 0, 1, 1), smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdLen, Seq: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.writeRaw(tt.req)
			if diff := cmp.Diff(&tt.want, c.read(), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// frame builds a raw PDU with the given body.
func frame(cmd, seq uint32, body ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(smpp.HeaderLen+len(body)))
	b = binary.BigEndian.AppendUint32(b, cmd)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, body...)
}

func TestImpossibleLengthClosesSession(t *testing.T) {
	s := newServer(t, Config{})
	c := dial(t, s.Addr())
	b := frame(0x00000015, 3)
	binary.BigEndian.PutUint32(b[0:4], 5)
	c.writeRaw(b)
	if diff := cmp.Diff(&smpp.PDU{CommandID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdLen, Seq: 3}, c.read(), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("response (-want +got):\n%s", diff)
	}
	c.expectClosed()
	if err := s.WaitSessions(ctxT(t), 0); err != nil {
		t.Fatal(err)
	}
}

func TestServerEnquireLink(t *testing.T) {
	s := newServer(t, Config{EnquireLink: 20 * time.Millisecond, ResponseTimeout: 200 * time.Millisecond})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	for range 2 {
		p := c.read()
		if p.CommandID != smpp.CmdEnquireLink {
			t.Fatalf("got %s, want enquire_link", smpp.CommandName(p.CommandID))
		}
		c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink | smpp.RespBit, Seq: p.Seq})
	}
	// Leave the next one unanswered: the server hangs up.
	if p := c.read(); p.CommandID != smpp.CmdEnquireLink {
		t.Fatalf("got %s, want enquire_link", smpp.CommandName(p.CommandID))
	}
	c.expectClosed()
}

func TestUnbind(t *testing.T) {
	t.Run("by the peer", func(t *testing.T) {
		s := newServer(t, Config{})
		c := dial(t, s.Addr())
		c.mustBind(smpp.CmdBindTransceiver)
		seq := c.send(&smpp.PDU{CommandID: smpp.CmdUnbind})
		if diff := cmp.Diff(&smpp.PDU{CommandID: smpp.CmdUnbind | smpp.RespBit, Seq: seq}, c.read(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("response (-want +got):\n%s", diff)
		}
		c.expectClosed()
		if err := s.WaitSessions(ctxT(t), 0); err != nil {
			t.Fatal(err)
		}
		if s.Bound() != 0 {
			t.Errorf("Bound() = %d after unbind", s.Bound())
		}
	})
	t.Run("by the server", func(t *testing.T) {
		s := newServer(t, Config{})
		c := dial(t, s.Addr())
		c.mustBind(smpp.CmdBindTransceiver)
		errc := make(chan error, 1)
		go func() { errc <- s.Unbind(t.Context()) }()
		p := c.read()
		if p.CommandID != smpp.CmdUnbind {
			t.Fatalf("got %s, want unbind", smpp.CommandName(p.CommandID))
		}
		c.send(&smpp.PDU{CommandID: smpp.CmdUnbind | smpp.RespBit, Seq: p.Seq})
		if err := <-errc; err != nil {
			t.Fatalf("Unbind: %v", err)
		}
		c.expectClosed()
	})
}

func TestFaults(t *testing.T) {
	t.Run("DropBindResp", func(t *testing.T) {
		s := newServer(t, Config{Faults: Faults{DropBindResp: true}})
		c := dial(t, s.Addr())
		c.send(&smpp.PDU{CommandID: smpp.CmdBindTransceiver, SystemID: testSystemID, Password: testPassword})
		seq := c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink})
		// The server reads in order: if the bind had been answered, its response would come first.
		if p := c.read(); p.CommandID != smpp.CmdEnquireLink|smpp.RespBit || p.Seq != seq {
			t.Fatalf("got %s seq %d, want enquire_link_resp seq %d (bind unanswered)", smpp.CommandName(p.CommandID), p.Seq, seq)
		}
		if s.Bound() != 0 {
			t.Errorf("Bound() = %d", s.Bound())
		}
	})
	t.Run("NoEnquireLinkResp", func(t *testing.T) {
		s := newServer(t, Config{})
		c := dial(t, s.Addr())
		c.mustBind(smpp.CmdBindTransceiver)
		s.SetFaults(Faults{NoEnquireLinkResp: true})
		c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink})
		c.writeRaw(frame(0x00ABCDEF, 99))
		if p := c.read(); p.CommandID != smpp.CmdGenericNack || p.Seq != 99 {
			t.Fatalf("got %s seq %d, want the generic_nack (enquire_link unanswered)", smpp.CommandName(p.CommandID), p.Seq)
		}
	})
	t.Run("SubmitStatus", func(t *testing.T) {
		s := newServer(t, Config{Faults: Faults{SubmitStatus: smpp.StatusThrottled}})
		c := dial(t, s.Addr())
		c.mustBind(smpp.CmdBindTransceiver)
		frameOut := func() []byte {
			b, _ := (&smpp.PDU{CommandID: smpp.CmdSubmitSM, Seq: 5, SourceAddr: "1708", DestAddr: "6281234567890", ShortMessage: []byte("x")}).Marshal()
			return b
		}()
		c.writeRaw(frameOut)
		got, err := c.readFrame(waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		// §4.4.2: no message_id when the submit is refused.
		if want := frame(smpp.CmdSubmitSM|smpp.RespBit, 5); !bytes.Equal(got[:8], want[:8]) || binary.BigEndian.Uint32(got[8:12]) != 0x58 {
			t.Fatalf("submit_sm_resp:\n%s\nwant a header-only ESME_RTHROTTLED", hex.Dump(got))
		}
		if len(s.Submits()) != 0 || len(s.Rejected()) != 1 || s.Rejected()[0].Status != smpp.StatusThrottled {
			t.Errorf("Submits = %v, Rejected = %v", s.Submits(), s.Rejected())
		}
	})
	t.Run("SubmitDelay keeps reading", func(t *testing.T) {
		s := newServer(t, Config{Faults: Faults{SubmitDelay: 100 * time.Millisecond}})
		c := dial(t, s.Addr())
		c.mustBind(smpp.CmdBindTransceiver)
		sub := c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestAddr: "6281234567890", ShortMessage: []byte("x")})
		el := c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink})
		if p := c.read(); p.CommandID != smpp.CmdEnquireLink|smpp.RespBit || p.Seq != el {
			t.Fatalf("got %s, want enquire_link_resp before the delayed submit_sm_resp", smpp.CommandName(p.CommandID))
		}
		if p := c.read(); p.CommandID != smpp.CmdSubmitSM|smpp.RespBit || p.Seq != sub || p.Status != smpp.StatusOK {
			t.Fatalf("got %s %v, want submit_sm_resp ESME_ROK", smpp.CommandName(p.CommandID), p.Status)
		}
	})
	t.Run("StopReading", func(t *testing.T) {
		s := newServer(t, Config{Faults: Faults{StopReading: true}})
		c := dial(t, s.Addr())
		c.send(&smpp.PDU{CommandID: smpp.CmdBindTransceiver, SystemID: testSystemID, Password: testPassword})
		if frame, err := c.readFrame(100 * time.Millisecond); err == nil {
			t.Fatalf("got a response while the server is not reading:\n%s", hex.Dump(frame))
		}
		s.SetFaults(Faults{})
		if p := c.read(); p.CommandID != smpp.CmdBindTransceiver|smpp.RespBit || p.Status != smpp.StatusOK {
			t.Fatalf("got %s %v, want bind_transceiver_resp ESME_ROK once reading resumes", smpp.CommandName(p.CommandID), p.Status)
		}
	})
}

func TestCloseDoesNotHang(t *testing.T) {
	s, err := NewServer(Config{SystemID: testSystemID, Password: testPassword, Faults: Faults{SubmitDelay: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)
	c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestAddr: "6281234567890", ShortMessage: []byte("x")})
	res := s.SendMOAsync(MO{From: "6281234567890", To: "1708", Text: "unanswered"})
	if p := c.read(); p.CommandID != smpp.CmdDeliverSM {
		t.Fatalf("got %s, want deliver_sm", smpp.CommandName(p.CommandID))
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Close did not return")
	}
	if r := <-res; r.Err == nil {
		t.Fatalf("SendMOAsync after Close = %+v, want an error", r)
	}
	c.expectClosed()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.SendMO(t.Context(), MO{From: "6281234567890", To: "1708", Text: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("SendMO after Close: %v, want ErrClosed", err)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"6281234567890", "6281*****7890"},
		{"081234567890", "0812****7890"},
		{"1708", "1708"},
		{"1234567", "12***67"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func slogToStderr() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestDefaultAlphabetLatin1(t *testing.T) {
	s := newServer(t, Config{DefaultAlphabet: text.Latin1})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindTransceiver)

	res := s.SendMOAsync(MO{From: "6281234567890", To: "1708", Text: "café"})
	p := c.read()
	if p.DataCoding != 0 || !bytes.Equal(p.ShortMessage, []byte{'c', 'a', 'f', 0xE9}) {
		t.Fatalf("deliver_sm data_coding 0x%02X short_message %x, want 0x00 and Latin-1 63616665e9", p.DataCoding, p.ShortMessage)
	}
	c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq})
	if r := <-res; r.Err != nil || r.Status != smpp.StatusOK {
		t.Fatalf("SendMOAsync = %+v", r)
	}

	c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestAddr: "6281234567890", ShortMessage: []byte{'n', 0xE9}})
	c.read()
	if got := s.Submits()[0].Text; got != "né" {
		t.Errorf("submit text %q, want %q (data_coding 0 read as Latin-1)", got, "né")
	}
	if _, err := NewServer(Config{DefaultAlphabet: text.UCS2}); err == nil {
		t.Error("NewServer accepted UCS2 as the default alphabet")
	}
}

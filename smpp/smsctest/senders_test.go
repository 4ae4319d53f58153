package smsctest

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// answerAll reads n deliver_sm (checking that each decodes with smpp.Decode), answers each
// ESME_ROK and returns them.
func (e *esme) answerAll(n int) []*smpp.PDU {
	e.t.Helper()
	var out []*smpp.PDU
	for range n {
		p := e.read()
		if p.CommandID != smpp.CmdDeliverSM {
			e.t.Fatalf("got %s, want deliver_sm", smpp.CommandName(p.CommandID))
		}
		e.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Seq: p.Seq})
		out = append(out, p)
	}
	return out
}

type sendResult struct {
	st  []smpp.Status
	err error
}

func TestSendPartsWire(t *testing.T) {
	gsm := strings.Repeat("Jalan rusak di desa kami. ", 14) // 364 septets: 3 parts
	ucs := strings.Repeat("Terima kasih 🙏 ", 9)             // 144 UTF-16 units: 3 parts
	tests := []struct {
		name  string
		text  string
		opts  PartsOpts
		seqs  []int // part numbers in arrival order
		dc    uint8
		check func(t *testing.T, p *smpp.PDU, total int) (seq int, data []byte)
	}{
		{"8-bit udh in order", gsm, PartsOpts{Ref: 0x1234}, []int{1, 2, 3}, 0x00, udh8(0x34)},
		{"16-bit udh last part first", gsm, PartsOpts{Ref: 0x1234, Ref16: true, Order: []int{3, 1, 2}}, []int{3, 1, 2}, 0x00, udh16(0x1234)},
		{"sar with a duplicate", gsm, PartsOpts{Ref: 0xBEEF, SAR: true, Duplicate: []int{2}}, []int{1, 2, 3, 2}, 0x00, sar(0xBEEF)},
		{"ucs2 with a part missing", ucs, PartsOpts{Ref: 7, Order: []int{1, 3}}, []int{1, 3}, 0x08, udh8(7)},
		{"ucs2 complete", ucs, PartsOpts{Ref: 7, Order: []int{2, 1, 3}}, []int{2, 1, 3}, 0x08, udh8(7)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, Config{})
			c := dial(t, s.Addr())
			c.mustBind(smpp.CmdBindReceiver)
			res := make(chan sendResult, 1)
			go func() {
				st, err := s.SendParts(ctxT(t), "6281234567890", "1708", tc.text, tc.opts)
				res <- sendResult{st, err}
			}()
			ps := c.answerAll(len(tc.seqs))
			r := <-res
			if r.err != nil || len(r.st) != len(tc.seqs) {
				t.Fatalf("SendParts = %v, %v", r.st, r.err)
			}
			parts := map[int][]byte{}
			var got []int
			for _, p := range ps {
				if p.DataCoding != tc.dc || p.SourceAddr != "6281234567890" || p.DestAddr != "1708" {
					t.Errorf("part: data_coding %#x from %s to %s", p.DataCoding, p.SourceAddr, p.DestAddr)
				}
				seq, data := tc.check(t, p, 3)
				got = append(got, seq)
				parts[seq] = data
			}
			if !slices.Equal(got, tc.seqs) {
				t.Errorf("parts arrived as %v, want %v", got, tc.seqs)
			}
			if len(parts) == 3 {
				joined := append(append(append([]byte(nil), parts[1]...), parts[2]...), parts[3]...)
				if d := text.Decode(joined, text.AlphabetFor(tc.dc, text.GSM7)); d.Text != tc.text {
					t.Errorf("joined parts decode to %q", d.Text)
				}
			}
		})
	}
}

func udh8(ref byte) func(*testing.T, *smpp.PDU, int) (int, []byte) {
	return func(t *testing.T, p *smpp.PDU, total int) (int, []byte) {
		t.Helper()
		sm := p.ShortMessage
		if p.ESMClass != 0x40 || len(sm) < 6 || !slices.Equal(sm[:5], []byte{5, 0, 3, ref, byte(total)}) {
			t.Fatalf("esm_class %#x UDH % X", p.ESMClass, sm[:min(6, len(sm))])
		}
		return int(sm[5]), sm[6:]
	}
}

func udh16(ref uint16) func(*testing.T, *smpp.PDU, int) (int, []byte) {
	return func(t *testing.T, p *smpp.PDU, total int) (int, []byte) {
		t.Helper()
		sm := p.ShortMessage
		if p.ESMClass != 0x40 || len(sm) < 7 || !slices.Equal(sm[:6], []byte{6, 8, 4, byte(ref >> 8), byte(ref), byte(total)}) {
			t.Fatalf("esm_class %#x UDH % X", p.ESMClass, sm[:min(7, len(sm))])
		}
		return int(sm[6]), sm[7:]
	}
}

func sar(ref uint16) func(*testing.T, *smpp.PDU, int) (int, []byte) {
	return func(t *testing.T, p *smpp.PDU, total int) (int, []byte) {
		t.Helper()
		r, ok1 := p.TLV(smpp.TagSarMsgRefNum)
		n, ok2 := p.TLV(smpp.TagSarTotalSegments)
		q, ok3 := p.TLV(smpp.TagSarSegmentSeqnum)
		if p.ESMClass != 0 || !ok1 || !ok2 || !ok3 || len(r) != 2 || binary.BigEndian.Uint16(r) != ref ||
			len(n) != 1 || int(n[0]) != total || len(q) != 1 {
			t.Fatalf("esm_class %#x TLVs %+v", p.ESMClass, p.TLVs)
		}
		return int(q[0]), p.ShortMessage
	}
}

func TestSendPartsRefusesBadPartNumbers(t *testing.T) {
	s := newServer(t, Config{})
	for _, order := range [][]int{{0}, {4}, {-1}} {
		if _, err := s.SendParts(ctxT(t), "628", "1708", strings.Repeat("x", 400), PartsOpts{Order: order}); err == nil {
			t.Errorf("Order %v accepted for 3 parts", order)
		}
	}
}

func TestSendReceiptFormatWire(t *testing.T) {
	now := time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC)
	const dates = "submit date:2405171030 done date:2405171030"
	idTLV := smpp.TLV{Tag: smpp.TagReceiptedMessageID, Value: []byte("5F3A1B2C\x00")}
	state := func(b byte) smpp.TLV { return smpp.TLV{Tag: smpp.TagMessageState, Value: []byte{b}} }
	tests := []struct {
		name string
		opts ReceiptOpts
		esm  uint8
		text string
		tlvs []smpp.TLV
	}{
		{"tlvs and text", ReceiptOpts{}, 0x04,
			"id:5F3A1B2C sub:001 dlvrd:001 " + dates + " stat:DELIVRD err:000 text:", []smpp.TLV{idTLV, state(2)}},
		{"tlvs only", ReceiptOpts{Format: ReceiptTLVOnly, Stat: "UNDELIV", NetworkError: 0x0001}, 0x04,
			"", []smpp.TLV{idTLV, state(5), {Tag: smpp.TagNetworkErrorCode, Value: []byte{3, 0, 1}}}},
		{"text only, decimal id zero-padded, upper case", ReceiptOpts{Format: ReceiptTextOnly, TextIDDecimal: true, TextIDPad: 20, UpperCase: true}, 0x04,
			"ID:00000000001597643564 SUB:001 DLVRD:001 SUBMIT DATE:2405171030 DONE DATE:2405171030 STAT:DELIVRD ERR:000 TEXT:", nil},
		{"missing fields", ReceiptOpts{Stat: "EXPIRED", Err: "027", Omit: []string{"sub", "dlvrd", "submit date", "done date", "text"}}, 0x04,
			"id:5F3A1B2C stat:EXPIRED err:027", []smpp.TLV{idTLV, state(3)}},
		{"intermediate notification", ReceiptOpts{ESMClass: 0x20, Stat: "ENROUTE"}, 0x20,
			"id:5F3A1B2C sub:001 dlvrd:000 " + dates + " stat:ENROUTE err:000 text:", []smpp.TLV{idTLV, state(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, Config{Now: func() time.Time { return now }})
			c := dial(t, s.Addr())
			c.mustBind(smpp.CmdBindReceiver)
			o := tc.opts
			o.From, o.To, o.MessageID = "6281234567890", "1708", "5F3A1B2C"
			res := make(chan error, 1)
			go func() {
				st, err := s.SendReceiptFormat(ctxT(t), o)
				if err == nil && st != smpp.StatusOK {
					t.Errorf("status %s", st.Name())
				}
				res <- err
			}()
			p := c.answerAll(1)[0]
			if err := <-res; err != nil {
				t.Fatal(err)
			}
			if p.ESMClass != tc.esm || p.SourceAddr != "6281234567890" || p.DestAddr != "1708" {
				t.Errorf("esm_class %#x from %s to %s", p.ESMClass, p.SourceAddr, p.DestAddr)
			}
			if got := string(p.ShortMessage); got != tc.text {
				t.Errorf("text\n got %q\nwant %q", got, tc.text)
			}
			if diff := cmp.Diff(tc.tlvs, p.TLVs); diff != "" {
				t.Errorf("TLVs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendReceiptFormatRefusesBadOptions(t *testing.T) {
	s := newServer(t, Config{})
	for _, o := range []ReceiptOpts{
		{MessageID: "not-hex", TextIDDecimal: true},
		{MessageID: "1", Stat: "GONE"},
	} {
		if _, err := s.SendReceiptFormat(ctxT(t), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestSubmitReplies(t *testing.T) {
	tests := []struct {
		name  string
		reply SubmitReply
		want  uint32 // response command; 0 = none
		st    smpp.Status
	}{
		{"generic_nack", ReplyGenericNack, smpp.CmdGenericNack, smpp.StatusInvCmdID},
		{"none", ReplyNone, 0, 0},
		{"wrong command", ReplyWrongCommand, smpp.CmdDeliverSM | smpp.RespBit, smpp.StatusOK},
		{"hold", ReplyHold, smpp.CmdSubmitSM | smpp.RespBit, smpp.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, Config{Faults: Faults{SubmitReply: tc.reply}})
			c := dial(t, s.Addr())
			c.mustBind(smpp.CmdBindTransceiver)
			seq := c.send(&smpp.PDU{CommandID: smpp.CmdSubmitSM, SourceAddr: "1708", DestAddr: "628", ShortMessage: []byte("x")})
			if tc.reply == ReplyNone || tc.reply == ReplyHold {
				if f, err := c.readFrame(50 * time.Millisecond); err == nil {
					t.Fatalf("got a response: % X", f)
				}
			}
			if tc.reply == ReplyHold {
				if err := s.WaitHeld(ctxT(t), 1); err != nil {
					t.Fatal(err)
				}
				held := s.HeldSubmits()
				if len(held) != 1 || held[0].MessageID == "" || held[0].Text != "x" {
					t.Fatalf("HeldSubmits = %+v", held)
				}
				if len(s.Submits()) != 0 || s.ReleaseHeld(5) != 1 || s.Held() != 0 || len(s.HeldSubmits()) != 0 {
					t.Fatal("held response not released once")
				}
				if p := c.read(); p.CommandID != tc.want || p.Seq != seq || p.MessageID != held[0].MessageID {
					t.Fatalf("released %s seq %d id %q, want id %q", smpp.CommandName(p.CommandID), p.Seq, p.MessageID, held[0].MessageID)
				}
				tc.want = 0 // read already
			}
			if tc.want != 0 {
				p := c.read()
				if p.CommandID != tc.want || p.Status != tc.st || p.Seq != seq {
					t.Fatalf("got %s %s seq %d", smpp.CommandName(p.CommandID), p.Status.Name(), p.Seq)
				}
			}
			c.send(&smpp.PDU{CommandID: smpp.CmdEnquireLink})
			if p := c.read(); p.CommandID != smpp.CmdEnquireLink|smpp.RespBit {
				t.Fatalf("got %s, want enquire_link_resp", smpp.CommandName(p.CommandID))
			}
			if n := len(s.Submits()) + len(s.Rejected()); n != 1 {
				t.Errorf("%d submits recorded", n)
			}
		})
	}
}

func TestMaxBinds(t *testing.T) {
	s := newServer(t, Config{Faults: Faults{MaxBinds: 1}})
	a := dial(t, s.Addr())
	a.mustBind(smpp.CmdBindTransmitter)
	b := dial(t, s.Addr())
	if p := b.bind(smpp.CmdBindReceiver, testSystemID, testPassword); p.Status != smpp.StatusAlyBnd {
		t.Fatalf("second bind: %s, want ESME_RALYBND", p.Status.Name())
	}
	a.conn.Close()
	if err := s.WaitSessions(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	b.mustBind(smpp.CmdBindReceiver) // the place is free again
	var got []smpp.Status
	for _, at := range s.BindAttempts() {
		got = append(got, at.Status)
	}
	if want := []smpp.Status{smpp.StatusOK, smpp.StatusAlyBnd, smpp.StatusOK}; !slices.Equal(got, want) {
		t.Errorf("bind attempts %v, want %v", got, want)
	}
}

func TestSendBurstAndSplitWrites(t *testing.T) {
	s := newServer(t, Config{Faults: Faults{SplitWrites: true}})
	c := dial(t, s.Addr())
	c.mustBind(smpp.CmdBindReceiver) // its response came one byte per write
	res := make(chan sendResult, 1)
	go func() {
		st, err := s.SendBurst(ctxT(t), []MO{
			{From: "628111", To: "1708", Text: "satu"},
			{From: "628222", To: "1708", Text: "dua", DataSM: true},
		})
		res <- sendResult{st, err}
	}()
	p1, p2 := c.read(), c.read()
	if p1.CommandID != smpp.CmdDeliverSM || string(p1.ShortMessage) != "satu" ||
		p2.CommandID != smpp.CmdDataSM || string(p2.Payload()) != "dua" {
		t.Fatalf("burst: %+v, %+v", p1, p2)
	}
	c.send(&smpp.PDU{CommandID: smpp.CmdDataSM | smpp.RespBit, Seq: p2.Seq, MessageID: ""})
	c.send(&smpp.PDU{CommandID: smpp.CmdDeliverSM | smpp.RespBit, Status: smpp.StatusXTAppn, Seq: p1.Seq})
	r := <-res
	if r.err != nil || !slices.Equal(r.st, []smpp.Status{smpp.StatusXTAppn, smpp.StatusOK}) {
		t.Fatalf("SendBurst = %v, %v", r.st, r.err)
	}
}

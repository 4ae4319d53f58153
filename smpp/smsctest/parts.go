package smsctest

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// PartsOpts shapes the concatenated MO that SendParts sends, so that tests can reproduce
// what handsets and SMSCs do to long messages (3GPP TS 23.040 §9.2.3.24.1 and .8; SMPP 3.4
// §5.3.2.22–24).
type PartsOpts struct {
	// Ref is the concatenation reference; an 8-bit UDH carries only its low byte.
	Ref uint16
	// Ref16 uses the 16-bit reference UDH (IEI 0x08, 152 septets / 66 UCS2 units per part)
	// instead of the 8-bit one (IEI 0x00, 153 / 67).
	Ref16 bool
	// SAR sends the parts without a UDH and with the SAR TLVs instead: sar_msg_ref_num
	// (0x020C, two octets), sar_total_segments (0x020E), sar_segment_seqnum (0x020F).
	SAR bool
	// Order lists the part numbers (1-based) to send, in sending order: {3, 1, 2} sends the
	// last part first. A part left out is never sent (an incomplete message). nil sends
	// every part in order.
	Order []int
	// Duplicate lists part numbers sent once more after all the others, as an SMSC that
	// redelivers a part whose deliver_sm_resp it did not get.
	Duplicate []int
}

// SendParts sends text from a handset (from) to our short code (to) as a concatenated MO:
// text.Encode splits it (GSM 03.38 with data_coding 0 when every character is in it, else
// UCS2 with 0x08; on a server whose DefaultAlphabet is not GSM7, data_coding 0 is then
// mislabelled), and each part goes out as its own deliver_sm with esm_class UDHI (0x40) and
// the UDH of opts, or with SAR TLVs and esm_class 0. A text that fits one message is still
// sent as part 1 of 1. Each part is sent like SendMO (round-robin over the bound receivers,
// waiting for its response); the statuses are in sending order. It stops at the first error,
// returning the statuses so far.
func (s *Server) SendParts(ctx context.Context, from, to, msg string, opts PartsOpts) ([]smpp.Status, error) {
	mos, err := partsMOs(from, to, msg, opts)
	if err != nil {
		return nil, err
	}
	var st []smpp.Status
	for _, mo := range mos {
		r, err := s.SendMO(ctx, mo)
		if err != nil {
			return st, fmt.Errorf("smsctest: send parts: %w", err)
		}
		st = append(st, r)
	}
	return st, nil
}

// partsMOs builds the MOs of SendParts in sending order.
func partsMOs(from, to, msg string, opts PartsOpts) ([]MO, error) {
	enc, err := text.Encode(msg, opts.Ref, opts.Ref16 && !opts.SAR)
	if err != nil {
		return nil, fmt.Errorf("smsctest: send parts: %w", err)
	}
	total := len(enc.Segments)
	order := opts.Order
	if order == nil {
		for i := range total {
			order = append(order, i+1)
		}
	}
	order = append(slices.Clone(order), opts.Duplicate...)
	mos := make([]MO, 0, len(order))
	for _, n := range order {
		if n < 1 || n > total {
			return nil, fmt.Errorf("smsctest: send parts: part %d of %d", n, total)
		}
		data := enc.Segments[n-1].Data
		mo := MO{From: from, To: to, DataCoding: enc.DataCoding}
		switch {
		case opts.SAR:
			mo.ShortMessage = slices.Clone(data)
			mo.TLVs = []smpp.TLV{
				{Tag: smpp.TagSarMsgRefNum, Value: binary.BigEndian.AppendUint16(nil, opts.Ref)},
				{Tag: smpp.TagSarTotalSegments, Value: []byte{byte(total)}},
				{Tag: smpp.TagSarSegmentSeqnum, Value: []byte{byte(n)}},
			}
		case opts.Ref16:
			mo.ESMClass = 0x40
			mo.ShortMessage = append([]byte{6, 0x08, 4, byte(opts.Ref >> 8), byte(opts.Ref), byte(total), byte(n)}, data...)
		default:
			mo.ESMClass = 0x40
			mo.ShortMessage = append([]byte{5, 0x00, 3, byte(opts.Ref), byte(total), byte(n)}, data...)
		}
		mos = append(mos, mo)
	}
	return mos, nil
}

// ReceiptFormat is where a delivery receipt carries its data.
type ReceiptFormat int

// Receipt formats seen from real SMSCs.
const (
	// ReceiptTLVAndText carries the TLVs receipted_message_id (0x001E) and message_state
	// (0x0427) and the SMPP 3.4 Appendix B text (the default).
	ReceiptTLVAndText ReceiptFormat = iota
	// ReceiptTLVOnly carries the TLVs and an empty short_message.
	ReceiptTLVOnly
	// ReceiptTextOnly carries the text and no TLV.
	ReceiptTextOnly
)

// ReceiptOpts describes a delivery receipt for SendReceiptFormat.
type ReceiptOpts struct {
	From string // the handset the message went to: source_addr of the receipt
	To   string // our short code: destination_addr of the receipt
	// MessageID is the id as the SMSC gave it in submit_sm_resp; receipted_message_id
	// carries it unchanged.
	MessageID string
	// Stat is the final state: DELIVRD (default), EXPIRED, DELETED, UNDELIV, ACCEPTD,
	// UNKNOWN, REJECTD or ENROUTE.
	Stat string
	// Err is the text's err: field; default "000".
	Err    string
	Format ReceiptFormat
	// TextIDDecimal writes the id in the text in decimal, reading MessageID as hexadecimal,
	// as SMSCs do that answer submit_sm in hex and report in decimal.
	TextIDDecimal bool
	// TextIDPad left-pads the id in the text with zeros to this many characters.
	TextIDPad int
	// UpperCase writes the text's field names in upper case ("ID:… STAT:…"); Appendix B
	// has them in lower case.
	UpperCase bool
	// Omit lists text fields to leave out: "id", "sub", "dlvrd", "submit date",
	// "done date", "stat", "err", "text".
	Omit []string
	// ESMClass is the receipt's esm_class; 0 means 0x04 (SMSC delivery receipt).
	ESMClass uint8
	// NetworkError, when not zero, adds network_error_code (0x0423): network type GSM (3)
	// and this error code.
	NetworkError uint16
}

// SendReceiptFormat sends a delivery receipt shaped by o (a deliver_sm, round-robin over the
// bound receivers) and returns the status of the deliver_sm_resp. The submit date and the
// text: field come from the recorded submit with MessageID when there is one.
func (s *Server) SendReceiptFormat(ctx context.Context, o ReceiptOpts) (smpp.Status, error) {
	submitted, orig := s.cfg.Now(), ""
	s.mu.Lock()
	for _, sub := range s.submits {
		if sub.MessageID == o.MessageID {
			submitted, orig = sub.At, sub.Text
			break
		}
	}
	s.mu.Unlock()
	return s.sendReceipt(ctx, o, submitted, orig)
}

// receiptPDU builds the deliver_sm of a receipt.
func (s *Server) receiptPDU(o ReceiptOpts, submitted time.Time, orig string) (*smpp.PDU, error) {
	if o.Stat == "" {
		o.Stat = "DELIVRD"
	}
	state, ok := messageStates[o.Stat]
	if !ok {
		return nil, fmt.Errorf("smsctest: send receipt: unknown stat %q", o.Stat)
	}
	if o.Err == "" {
		o.Err = "000"
	}
	if o.ESMClass == 0 {
		o.ESMClass = 0x04
	}
	textID := o.MessageID
	if o.TextIDDecimal {
		n, err := strconv.ParseUint(o.MessageID, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("smsctest: send receipt: message id %q is not hexadecimal: %w", o.MessageID, err)
		}
		textID = strconv.FormatUint(n, 10)
	}
	if pad := o.TextIDPad - len(textID); pad > 0 {
		textID = strings.Repeat("0", pad) + textID
	}
	dlvrd := "000"
	if o.Stat == "DELIVRD" {
		dlvrd = "001"
	}
	if r := []rune(orig); len(r) > 20 {
		orig = string(r[:20])
	}
	fields := []struct{ name, value string }{
		{"id", textID}, {"sub", "001"}, {"dlvrd", dlvrd},
		{"submit date", submitted.Format(receiptTime)}, {"done date", s.cfg.Now().Format(receiptTime)},
		{"stat", o.Stat}, {"err", o.Err}, {"text", orig},
	}
	var parts []string
	for _, f := range fields {
		if slices.Contains(o.Omit, f.name) {
			continue
		}
		name := f.name
		if o.UpperCase {
			name = strings.ToUpper(name)
		}
		parts = append(parts, name+":"+f.value)
	}
	p := &smpp.PDU{
		CommandID:  smpp.CmdDeliverSM,
		SourceAddr: o.From, DestAddr: o.To,
		ESMClass: o.ESMClass,
	}
	p.SourceTON, p.SourceNPI = tonNPI(o.From)
	p.DestTON, p.DestNPI = tonNPI(o.To)
	if o.Format != ReceiptTLVOnly {
		// The receipt text is ASCII except for the quoted original text; keep it GSM when
		// possible.
		sm, dc, _ := encodeText(strings.Join(parts, " "), 0, s.cfg.DefaultAlphabet)
		p.DataCoding, p.ShortMessage = dc, sm[:min(len(sm), maxShortMessage)]
	}
	if o.Format != ReceiptTextOnly {
		p.TLVs = []smpp.TLV{
			{Tag: smpp.TagReceiptedMessageID, Value: append([]byte(o.MessageID), 0)},
			{Tag: smpp.TagMessageState, Value: []byte{state}},
		}
		if o.NetworkError != 0 {
			p.TLVs = append(p.TLVs, smpp.TLV{Tag: smpp.TagNetworkErrorCode,
				Value: []byte{3, byte(o.NetworkError >> 8), byte(o.NetworkError)}})
		}
	}
	return p, nil
}

func (s *Server) sendReceipt(ctx context.Context, o ReceiptOpts, submitted time.Time, orig string) (smpp.Status, error) {
	p, err := s.receiptPDU(o, submitted, orig)
	if err != nil {
		return 0, err
	}
	ss, err := s.nextReceiver()
	if err != nil {
		return 0, err
	}
	resp, err := ss.request(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("smsctest: send receipt: %w", err)
	}
	return resp.Status, nil
}

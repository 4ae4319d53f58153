package smsctest

import (
	"context"
	"fmt"
	"strings"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// maxShortMessage is the largest short_message field (§4.6.1: 0–254 octets); longer user data
// goes in message_payload.
const maxShortMessage = 254

// MO is a mobile-originated message to deliver with a deliver_sm.
type MO struct {
	From, To string // source_addr (the citizen), destination_addr (our short code)
	Text     string // encoded per DataCoding unless ShortMessage is set
	// DataCoding 0 (the zero value) is the SMSC's default alphabet (Config.DefaultAlphabet,
	// GSM 03.38 unless set), unless Text does not fit it: then UCS2 (0x08) is chosen. 0x08
	// forces UCS2; 0x01 ASCII and 0x03 Latin-1 are encoded when the text fits them. Any other
	// value needs ShortMessage.
	DataCoding uint8
	ESMClass   uint8
	// ShortMessage, when not nil, is sent as is (with the UDH when ESMClass&0x40) and Text is
	// ignored: for multipart, binary or deliberately broken messages.
	ShortMessage []byte
	TLVs         []smpp.TLV
	// Seq is the sequence number to use; 0 = the session's next. A test can reuse a number the
	// peer has pending to check that responses are matched by type as well as number.
	Seq uint32
	// DataSM sends a data_sm (SMPP 3.4 §4.7) instead of a deliver_sm: the user data goes in
	// message_payload, as data_sm has no short_message; the peer must answer data_sm_resp.
	DataSM bool
}

// Result is the outcome of SendMOAsync.
type Result struct {
	Status smpp.Status // the command_status of the deliver_sm_resp (or generic_nack)
	Err    error       // not nil when no response was received
}

// SendMO sends one deliver_sm (or data_sm, MO.DataSM) on a bound receiver session (round-robin over them) and waits
// for its deliver_sm_resp, bounded by ctx and Config.ResponseTimeout. The status is that of
// the response; a generic_nack's status is returned the same way.
func (s *Server) SendMO(ctx context.Context, mo MO) (smpp.Status, error) {
	p, err := mo.pdu(s.cfg.DefaultAlphabet)
	if err != nil {
		return 0, err
	}
	ss, err := s.nextReceiver()
	if err != nil {
		return 0, err
	}
	resp, err := ss.request(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("smsctest: send mo: %w", err)
	}
	s.log.Debug("mo delivered", "from", Mask(mo.From), "to", mo.To, "session", ss.id, "status", resp.Status.Name())
	return resp.Status, nil
}

// SendMOAsync is SendMO without waiting: the result arrives on the returned channel (buffered,
// so it may be ignored). It is bounded by Config.ResponseTimeout and by Close.
func (s *Server) SendMOAsync(mo MO) <-chan Result {
	ch := make(chan Result, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ch <- Result{Err: ErrClosed}
		return ch
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		st, err := s.SendMO(s.ctx, mo)
		ch <- Result{Status: st, Err: err}
	}()
	return ch
}

// pdu builds the deliver_sm for mo.
func (mo MO) pdu(def text.Alphabet) (*smpp.PDU, error) {
	p := &smpp.PDU{
		CommandID:  smpp.CmdDeliverSM,
		Seq:        mo.Seq,
		SourceAddr: mo.From,
		DestAddr:   mo.To,
		ESMClass:   mo.ESMClass,
		DataCoding: mo.DataCoding,
		TLVs:       append([]smpp.TLV(nil), mo.TLVs...),
	}
	p.SourceTON, p.SourceNPI = tonNPI(mo.From)
	p.DestTON, p.DestNPI = tonNPI(mo.To)
	sm := mo.ShortMessage
	if sm == nil {
		var err error
		sm, p.DataCoding, err = encodeText(mo.Text, mo.DataCoding, def)
		if err != nil {
			return nil, err
		}
	}
	if mo.DataSM {
		p.CommandID = smpp.CmdDataSM
	}
	if len(sm) > maxShortMessage || mo.DataSM {
		p.TLVs = append(p.TLVs, smpp.TLV{Tag: smpp.TagMessagePayload, Value: sm})
	} else {
		p.ShortMessage = sm
	}
	return p, nil
}

// encodeText encodes s for data_coding dc; dc 0 means def, or UCS2 when s does not fit def.
func encodeText(s string, dc uint8, def text.Alphabet) ([]byte, uint8, error) {
	switch dc {
	case 0x00:
		var b []byte
		var ok bool
		switch def {
		case text.ASCII:
			b, ok = encode8bit(s, 0x7F)
		case text.Latin1:
			b, ok = encode8bit(s, 0xFF)
		default:
			b, ok = text.EncodeGSM7(s)
		}
		if ok {
			return b, 0x00, nil
		}
		return text.EncodeUCS2(s), 0x08, nil
	case 0x08:
		return text.EncodeUCS2(s), 0x08, nil
	case 0x01, 0x03:
		limit := rune(0x7F)
		if dc == 0x03 {
			limit = 0xFF
		}
		b, ok := encode8bit(s, limit)
		if !ok {
			return nil, 0, fmt.Errorf("smsctest: encode mo: text does not fit data_coding 0x%02X", dc)
		}
		return b, dc, nil
	}
	return nil, 0, fmt.Errorf("smsctest: encode mo: data_coding 0x%02X needs MO.ShortMessage", dc)
}

// encode8bit encodes s one byte per rune when every rune is at most limit (IA5, Latin-1).
func encode8bit(s string, limit rune) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > limit || r == 0 {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// tonNPI picks the type of number for an address the way SMSCs commonly do: a short code is
// unknown/ISDN, a leading 0 national, other digits international, anything else alphanumeric.
func tonNPI(addr string) (ton, npi uint8) {
	if addr == "" {
		return 0, 0
	}
	for _, r := range addr {
		if r < '0' || r > '9' {
			return 5, 0 // alphanumeric
		}
	}
	switch {
	case len(addr) <= 8:
		return 0, 1
	case addr[0] == '0':
		return 2, 1
	}
	return 1, 1
}

// Receipt states (SMPP 3.4 Appendix B) and their message_state values (§5.3.2.35).
var messageStates = map[string]byte{
	"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4,
	"UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8,
}

// SendReceipt sends a delivery receipt for messageID: a deliver_sm with esm_class 0x04 from the
// handset (from) to our short code (to), whose text is
// "id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…"
// and whose TLVs are receipted_message_id and message_state. stat is one of DELIVRD, EXPIRED,
// DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE (default DELIVRD). The id in the text and
// in the TLV is written as given. The submit date and text come from the recorded submit with
// that id when there is one. SendReceiptFormat sends other shapes of receipt.
func (s *Server) SendReceipt(ctx context.Context, to, from, messageID, stat string) (smpp.Status, error) {
	return s.SendReceiptFormat(ctx, ReceiptOpts{From: from, To: to, MessageID: messageID, Stat: stat})
}

// autoReceipt sends the DELIVRD receipt for an accepted submit, with the id in ReceiptIDs format.
func (s *Server) autoReceipt(sub Submit, id uint64) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ResponseTimeout)
	defer cancel()
	rid := formatID(id, *s.cfg.ReceiptIDs)
	st, err := s.sendReceipt(ctx, ReceiptOpts{From: sub.To, To: sub.From, MessageID: rid}, sub.At, sub.Text)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("auto receipt not delivered", "message_id", rid, "err", err)
		}
		return
	}
	if st != smpp.StatusOK {
		s.log.Warn("auto receipt refused", "message_id", rid, "status", st.Name())
	}
}

// Mask hides the middle digits of a phone number for logs: "6281234567890" → "6281*****7890".
// Short codes (up to 5 characters) are not personal and are returned as they are.
func Mask(msisdn string) string {
	if len(msisdn) <= 5 {
		return msisdn
	}
	keepHead, keepTail := 4, 4
	if len(msisdn) < keepHead+keepTail+2 {
		keepHead, keepTail = 2, 2
	}
	return msisdn[:keepHead] + strings.Repeat("*", len(msisdn)-keepHead-keepTail) + msisdn[len(msisdn)-keepTail:]
}

// receiptTime is the layout of the submit and done dates in a receipt (Appendix B).
const receiptTime = "0601021504"

package smpp

// Delivery receipts: SMPP 3.4 §5.2.12 (esm_class 0x04 SMSC delivery receipt, 0x20 intermediate
// delivery notification), §5.3.2.12 receipted_message_id, §5.3.2.31 network_error_code,
// §5.3.2.35 message_state, §5.2.28 message states, and Appendix B (the de-facto text format
// "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
// err:E text:…", which the specification calls vendor-specific and SMSCs vary freely).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxReceiptText bounds the receipt text that ParseReceipt reads: a longer text is truncated to
// this many bytes before parsing. Appendix B receipts are about 110 bytes; a kilobyte leaves
// room for verbose SMSCs while keeping the parse cost fixed whatever a peer sends.
const MaxReceiptText = 1024

// MaxMessageIDLen is the longest message id ParseReceipt accepts: message_id is a C-Octet
// String of at most 65 octets including its NUL (SMPP 3.4 §5.2.23). A longer id, in the TLV or
// in the text, is not an id and is ignored.
const MaxMessageIDLen = 64

// Message states as Receipt.State names them: the names of SMPP 3.4 §5.2.28, whichever way
// the SMSC wrote them (message_state TLV values 1–8, or the Appendix B "stat:" abbreviations).
const (
	ReceiptEnroute       = "ENROUTE"       // 1, ENROUTE
	ReceiptDelivered     = "DELIVERED"     // 2, DELIVRD
	ReceiptExpired       = "EXPIRED"       // 3, EXPIRED
	ReceiptDeleted       = "DELETED"       // 4, DELETED
	ReceiptUndeliverable = "UNDELIVERABLE" // 5, UNDELIV
	ReceiptAccepted      = "ACCEPTED"      // 6, ACCEPTD
	ReceiptUnknown       = "UNKNOWN"       // 7, UNKNOWN, and any state we cannot read
	ReceiptRejected      = "REJECTED"      // 8, REJECTD
)

// receiptStates is indexed by the message_state value (SMPP 3.4 §5.2.28).
var receiptStates = [...]string{
	1: ReceiptEnroute, 2: ReceiptDelivered, 3: ReceiptExpired, 4: ReceiptDeleted,
	5: ReceiptUndeliverable, 6: ReceiptAccepted, 7: ReceiptUnknown, 8: ReceiptRejected,
}

// ErrNoReceiptID is wrapped by ParseReceipt when neither receipted_message_id nor the text
// carries a usable message id: such a receipt cannot be matched to anything we sent.
var ErrNoReceiptID = errors.New("smpp: receipt without a message id")

// Receipt is a delivery receipt (SMPP 3.4 §5.2.12 esm_class 0x04 / 0x20, Appendix B text
// format), as ParseReceipt reads it from a deliver_sm or data_sm.
type Receipt struct {
	// MessageID is the SMSC's id of the message the receipt is about, as the SMSC wrote it
	// (receipted_message_id first, else the text's "id:"), trimmed of spaces and NULs. Compare
	// it with the submit_sm_resp id only through NormalizeMessageID, with the operator's
	// ReceiptIDBase here and SubmitIDBase there.
	MessageID string
	// State is one of the Receipt* state names: message_state when that TLV holds 1–8, else
	// the text's "stat:" (DELIVRD→DELIVERED, UNDELIV→UNDELIVERABLE, ACCEPTD→ACCEPTED,
	// REJECTD→REJECTED; EXPIRED, DELETED, UNKNOWN, ENROUTE as they are; full names and the
	// numbers 1–8 too, in any case). A state present but unreadable is UNKNOWN; State is
	// empty only when the receipt carries no state at all.
	State string
	// Final reports that the message will not change state again: State is DELIVERED,
	// EXPIRED, DELETED, UNDELIVERABLE or REJECTED, and this is not an intermediate
	// notification (which by definition reports a state before the final one).
	Final bool
	// Err is the error: network_error_code when that TLV is well formed (three octets),
	// rendered "<network>:<code>" with the code in decimal, at least three digits —
	// "gsm:001", "ansi41:012", "smpp:008", "smsc:1234" (networks 1–8 of §5.3.2.31 are
	// "ansi136ad", "is95ad", "gsm", "ansi136", "is95", "ansi41", "smpp", "smsc"; others
	// "net<N>"); else the text's "err:" as written ("000", "0x1b"); else empty.
	Err string
	// Submitted and Delivered are the text's "sub:" and "dlvrd:" counts, -1 when absent or
	// not a number.
	Submitted, Delivered int
	// SubmitDate and DoneDate are the text's "submit date:" and "done date:" (YYMMDDhhmm or
	// YYMMDDhhmmss, years 2000–2099) in the SMSC's time zone; zero when absent or not a valid
	// date.
	SubmitDate, DoneDate time.Time
	// Intermediate reports esm_class 0x20, an intermediate delivery notification.
	Intermediate bool
	// Text is the text's "text:" field (by Appendix B the first 20 characters of the original
	// message, though some SMSCs send more), valid UTF-8 without NULs (invalid bytes become
	// U+FFFD, so it is at most 3×MaxReceiptText bytes); empty if absent.
	Text string
}

// ParseReceipt reads a receipt from the fields of a deliver_sm or data_sm: esm_class, the
// optional parameters and the text of the short message (or message_payload), which for a
// receipt is ASCII, so string(short_message) will do. Whether the PDU is a receipt at all is
// the caller's decision, by esm_class (some SMSCs attach receipted_message_id to ordinary MO);
// ParseReceipt itself reads any input.
//
// The TLVs come first: receipted_message_id (0x001E), message_state (0x0427) and
// network_error_code (0x0423) each win over the text's field for the same thing. Then the text,
// tolerantly: keys in any case ("ID:", "Stat:"), in any order, with extra spaces around the
// colon, "submit date", "submit_date" or "submitdate" (and "done …" likewise), missing fields,
// and garbage before, between or after the fields. A key counts only at the start of a word;
// a value is the first word after its colon, except "text:", which runs to the end or to the
// next key that has not been read yet (so a text holding "id:" after the id does not cut it).
// The first occurrence of a key wins. Text longer than MaxReceiptText is truncated first.
//
// loc is the SMSC's time zone for the dates (per-operator config); nil means UTC.
//
// The error, wrapping ErrNoReceiptID, comes only when no message id can be found at all; the
// Receipt then holds whatever else was read, for logging. ParseReceipt never panics and does
// no I/O; it allocates at most the id from the TLV, the rendered network error, and a cleaned
// copy of the text when that holds NULs or invalid UTF-8.
func ParseReceipt(esmClass uint8, tlvs []TLV, text string, loc *time.Location) (Receipt, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(text) > MaxReceiptText {
		text = text[:MaxReceiptText]
	}
	r := Receipt{Submitted: -1, Delivered: -1, Intermediate: esmClass&0x3C == 0x20}
	stateTLV := false // message_state held 1–8: the text's "stat:" is not read
	for _, t := range tlvs {
		switch t.Tag {
		case TagReceiptedMessageID:
			if r.MessageID == "" {
				if id := receiptTrimBytes(t.Value); len(id) > 0 && len(id) <= MaxMessageIDLen {
					r.MessageID = string(id)
				}
			}
		case TagMessageState:
			switch {
			case stateTLV:
			case len(t.Value) == 1 && t.Value[0] >= 1 && int(t.Value[0]) < len(receiptStates):
				r.State, stateTLV = receiptStates[t.Value[0]], true
			default:
				// A state was reported but cannot be read; the text may still say.
				r.State = ReceiptUnknown
			}
		case TagNetworkErrorCode:
			if r.Err == "" && len(t.Value) == 3 {
				r.Err = networkError(t.Value[0], uint16(t.Value[1])<<8|uint16(t.Value[2]))
			}
		}
	}

	var seen uint16 // bit k: key k was read
	_, key, val := receiptNextKey(text, 0, 0)
	for key != keyNone {
		skip := uint16(0)
		if key == keyText {
			// Only a key not read yet ends the text: one that was read already is the
			// message's own words.
			skip = seen | 1<<keyText
		}
		end, nextKey, nextVal := receiptNextKey(text, val, skip)
		if seen&(1<<key) == 0 {
			seen |= 1 << key
			r.setField(key, text[val:end], stateTLV, loc)
		}
		key, val = nextKey, nextVal
	}
	if r.MessageID == "" {
		return r, fmt.Errorf("smpp: parse receipt: %w", ErrNoReceiptID)
	}
	r.Final = !r.Intermediate && receiptFinal(r.State)
	return r, nil
}

// ReceiptFromPDU is ParseReceipt on a decoded deliver_sm or data_sm: its esm_class, TLVs and
// message_payload (or short_message) read as text.
func ReceiptFromPDU(p *PDU, loc *time.Location) (Receipt, error) {
	b := p.Payload()
	if len(b) > MaxReceiptText {
		b = b[:MaxReceiptText]
	}
	return ParseReceipt(p.ESMClass, p.TLVs, string(b), loc)
}

func receiptFinal(state string) bool {
	switch state {
	case ReceiptDelivered, ReceiptExpired, ReceiptDeleted, ReceiptUndeliverable, ReceiptRejected:
		return true
	}
	return false
}

// setField stores the value of one text field; v runs from after the colon to the next key.
func (r *Receipt) setField(k receiptKey, v string, stateTLV bool, loc *time.Location) {
	if k == keyText {
		r.Text = receiptCleanText(receiptTrim(v))
		return
	}
	w := receiptFirstWord(v)
	switch k {
	case keyID:
		if r.MessageID == "" && w != "" && len(w) <= MaxMessageIDLen {
			r.MessageID = w
		}
	case keySub:
		r.Submitted = receiptCount(w)
	case keyDlvrd:
		r.Delivered = receiptCount(w)
	case keySubmitDate:
		r.SubmitDate = receiptDate(w, loc)
	case keyDoneDate:
		r.DoneDate = receiptDate(w, loc)
	case keyStat:
		if !stateTLV && w != "" {
			r.State = receiptStatText(w)
		}
	case keyErr:
		if r.Err == "" {
			r.Err = w
		}
	}
}

// receiptStatText maps a "stat:" word to a state name.
func receiptStatText(w string) string {
	if len(w) == 1 && w[0] >= '1' && w[0] <= '8' {
		return receiptStates[w[0]-'0']
	}
	for _, m := range receiptStatWords {
		if strings.EqualFold(w, m.word) {
			return m.state
		}
	}
	return ReceiptUnknown
}

var receiptStatWords = [...]struct{ word, state string }{
	{"DELIVRD", ReceiptDelivered}, {"DELIVERED", ReceiptDelivered},
	{"UNDELIV", ReceiptUndeliverable}, {"UNDELIVERABLE", ReceiptUndeliverable},
	{"EXPIRED", ReceiptExpired}, {"DELETED", ReceiptDeleted},
	{"ACCEPTD", ReceiptAccepted}, {"ACCEPTED", ReceiptAccepted},
	{"UNKNOWN", ReceiptUnknown},
	{"REJECTD", ReceiptRejected}, {"REJECTED", ReceiptRejected},
	{"ENROUTE", ReceiptEnroute},
}

// networkError renders network_error_code (SMPP 3.4 §5.3.2.31): network type, error code.
func networkError(network uint8, code uint16) string {
	var buf [24]byte
	var b []byte
	switch network {
	case 1:
		b = append(buf[:0], "ansi136ad"...)
	case 2:
		b = append(buf[:0], "is95ad"...)
	case 3:
		b = append(buf[:0], "gsm"...)
	case 4:
		b = append(buf[:0], "ansi136"...)
	case 5:
		b = append(buf[:0], "is95"...)
	case 6:
		b = append(buf[:0], "ansi41"...)
	case 7:
		b = append(buf[:0], "smpp"...)
	case 8:
		b = append(buf[:0], "smsc"...)
	default:
		b = strconv.AppendUint(append(buf[:0], "net"...), uint64(network), 10)
	}
	b = append(b, ':')
	switch {
	case code < 10:
		b = append(b, '0', '0')
	case code < 100:
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, uint64(code), 10)
	return string(b)
}

// receiptCount reads "sub:"/"dlvrd:": up to 9 decimal digits, else -1.
func receiptCount(w string) int {
	if w == "" || len(w) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// receiptDate reads YYMMDDhhmm or YYMMDDhhmmss in loc; the zero time when it is anything
// else, including an impossible date (a 31st of February is not normalised to March).
func receiptDate(w string, loc *time.Location) time.Time {
	if len(w) != 10 && len(w) != 12 {
		return time.Time{}
	}
	var f [6]int
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < '0' || c > '9' {
			return time.Time{}
		}
		f[i/2] = f[i/2]*10 + int(c-'0')
	}
	year, month, day, hour, minute, sec := 2000+f[0], f[1], f[2], f[3], f[4], f[5]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if t.Day() != day {
		return time.Time{}
	}
	return t
}

// receiptKey is a field of the Appendix B text.
type receiptKey uint8

const (
	keyNone receiptKey = iota
	keyID
	keySub
	keyDlvrd
	keySubmitDate
	keyDoneDate
	keyStat
	keyErr
	keyText
)

// receiptNextKey finds the first key at or after from that is not in skip (a bit set of
// keys): its start, the key, and where its value starts (after the colon and any spaces). It
// returns len(s), keyNone, len(s) when there is none.
func receiptNextKey(s string, from int, skip uint16) (start int, k receiptKey, val int) {
	for i := from; i < len(s); i++ {
		if !receiptLetter(s[i]) || (i > 0 && receiptAlnum(s[i-1])) {
			continue
		}
		if k, val := receiptMatchKey(s, i); k != keyNone && skip&(1<<k) == 0 {
			return i, k, val
		}
	}
	return len(s), keyNone, len(s)
}

// receiptMatchKey matches a key followed by optional spaces and a colon at s[i].
func receiptMatchKey(s string, i int) (receiptKey, int) {
	w, j := receiptWord(s, i)
	var k receiptKey
	switch {
	case strings.EqualFold(w, "id"):
		k = keyID
	case strings.EqualFold(w, "sub"):
		k = keySub
	case strings.EqualFold(w, "dlvrd"):
		k = keyDlvrd
	case strings.EqualFold(w, "stat"):
		k = keyStat
	case strings.EqualFold(w, "err"):
		k = keyErr
	case strings.EqualFold(w, "text"):
		k = keyText
	case strings.EqualFold(w, "submitdate"):
		k = keySubmitDate
	case strings.EqualFold(w, "donedate"):
		k = keyDoneDate
	case strings.EqualFold(w, "submit"), strings.EqualFold(w, "done"):
		// "submit date", "submit_date", "submit  date".
		sep := j
		for sep < len(s) && (s[sep] == ' ' || s[sep] == '_') {
			sep++
		}
		if sep == j {
			return keyNone, 0
		}
		d, end := receiptWord(s, sep)
		if !strings.EqualFold(d, "date") {
			return keyNone, 0
		}
		k = keyDoneDate
		if len(w) == len("submit") {
			k = keySubmitDate
		}
		j = end
	default:
		return keyNone, 0
	}
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j >= len(s) || s[j] != ':' {
		return keyNone, 0
	}
	j++
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	return k, j
}

// receiptWord returns the run of ASCII letters at s[i] (at most 10: no key is longer).
func receiptWord(s string, i int) (string, int) {
	j := i
	for j < len(s) && j-i <= 10 && receiptLetter(s[j]) {
		j++
	}
	return s[i:j], j
}

func receiptLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func receiptAlnum(c byte) bool { return receiptLetter(c) || c >= '0' && c <= '9' }

// receiptSpace separates words in receipt text: whitespace, NUL, and the commas and
// semicolons some SMSCs put between fields.
func receiptSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', 0, ',', ';':
		return true
	}
	return false
}

// receiptFirstWord returns the first word of v.
func receiptFirstWord(v string) string {
	i := 0
	for i < len(v) && receiptSpace(v[i]) {
		i++
	}
	j := i
	for j < len(v) && !receiptSpace(v[j]) {
		j++
	}
	return v[i:j]
}

// receiptTrim trims whitespace and NULs at both ends.
func receiptTrim(s string) string {
	for len(s) > 0 && receiptBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && receiptBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func receiptBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0
}

// receiptTrimBytes cuts a C-Octet String at its first NUL (SMSCs differ on whether the TLV
// includes it, and some pad with more) and trims whitespace at both ends, without copying.
func receiptTrimBytes(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	for len(b) > 0 && receiptBlank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && receiptBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// receiptCleanText makes the text storable: valid UTF-8 and no NULs. It allocates only when
// something has to change.
func receiptCleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// IDBase says how an SMSC writes the message ids it hands out, in one of two places: the
// submit_sm_resp and the receipt. Some SMSCs answer submit_sm with a hexadecimal id and name
// the same message in decimal in the receipt; each operator's config therefore carries two
// bases, SubmitIDBase (for submit_sm_resp message_id) and ReceiptIDBase (for Receipt.MessageID),
// and both sides go through NormalizeMessageID with their own base before they are stored or
// compared. In YAML it reads "auto" (or empty), "hex" or "decimal".
type IDBase uint8

// Message id bases.
const (
	// IDAuto keeps the id as text: trimmed, lower-case, without leading zeros. Right when both
	// sides write the id the same way (the usual case), whatever its alphabet.
	IDAuto IDBase = iota
	// IDHex reads the id as a hexadecimal number (an optional "0x" too), up to 64 bits.
	IDHex
	// IDDecimal reads the id as a decimal number, up to 64 bits.
	IDDecimal
)

// String returns "auto", "hex" or "decimal".
func (b IDBase) String() string {
	switch b {
	case IDAuto:
		return "auto"
	case IDHex:
		return "hex"
	case IDDecimal:
		return "decimal"
	}
	return "IDBase(" + strconv.Itoa(int(b)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (b IDBase) MarshalText() ([]byte, error) {
	if b > IDDecimal {
		return nil, fmt.Errorf("smpp: marshal id base: unknown value %d", b)
	}
	return []byte(b.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: "auto" or "", "hex", "decimal", in any
// case.
func (b *IDBase) UnmarshalText(text []byte) error {
	switch s := string(text); {
	case s == "" || strings.EqualFold(s, "auto"):
		*b = IDAuto
	case strings.EqualFold(s, "hex"):
		*b = IDHex
	case strings.EqualFold(s, "decimal"):
		*b = IDDecimal
	default:
		return fmt.Errorf("smpp: id base %q: want auto, hex or decimal", s)
	}
	return nil
}

// NormalizeMessageID makes an SMSC message id comparable between the submit_sm_resp and the
// receipt. The rule:
//
//  1. trim spaces and NULs at both ends, and lower-case ASCII letters;
//  2. with IDHex or IDDecimal, if the id is a number in that base that fits in 64 bits, the
//     result is that number in decimal;
//  3. otherwise (IDAuto, or an id that is not such a number) the result is the id from step 1
//     without the leading zeros that precede a letter or digit ("0" stays "0", "0-1" stays
//     "0-1"), so that normalising again changes nothing.
//
// Examples:
//
//	NormalizeMessageID(" 1A2B\x00", IDHex)     == "6699"
//	NormalizeMessageID("0x1a2b", IDHex)        == "6699"
//	NormalizeMessageID("0000006699", IDDecimal) == "6699"
//	NormalizeMessageID("0001A2B", IDAuto)       == "1a2b"
//	NormalizeMessageID("000", IDAuto)           == "0"
//	NormalizeMessageID("550E8400-E29B", IDHex)  == "550e8400-e29b" (not a number: as IDAuto)
//
// So an operator answering submit_sm with "1A2B" and writing "id:6699" in its receipt is
// configured SubmitIDBase: IDHex, ReceiptIDBase: IDDecimal, and both sides normalise to
// "6699". With IDHex the result of a numeric id is decimal, so normalising twice is not
// idempotent: normalise the raw id once, with the base of the place it came from.
func NormalizeMessageID(id string, base IDBase) string {
	id = strings.ToLower(receiptTrim(id))
	switch base {
	case IDHex:
		h := id
		if len(h) > 2 && h[0] == '0' && h[1] == 'x' {
			h = h[2:]
		}
		if n, ok := parseIDNumber(h, 16); ok {
			return strconv.FormatUint(n, 10)
		}
	case IDDecimal:
		if n, ok := parseIDNumber(id, 10); ok {
			return strconv.FormatUint(n, 10)
		}
	}
	i := 0
	for i < len(id)-1 && id[i] == '0' && receiptAlnum(id[i+1]) {
		i++
	}
	return id[i:]
}

// SameMessageID reports whether an id from a submit_sm_resp and the id of a receipt name the
// same message, given the operator's SubmitIDBase and ReceiptIDBase.
func SameMessageID(submitID string, submitBase IDBase, receiptID string, receiptBase IDBase) bool {
	s := NormalizeMessageID(submitID, submitBase)
	return s != "" && s == NormalizeMessageID(receiptID, receiptBase)
}

// parseIDNumber parses lower-case digits of base 10 or 16 into a uint64, refusing empty input
// and overflow (without strconv's allocated error on failure).
func parseIDNumber(s string, base uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		if n > (^uint64(0)-d)/base {
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}

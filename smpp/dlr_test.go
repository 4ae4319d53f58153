package smpp_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sp4n-lapor/sms1708/smpp"
)

// wib is Western Indonesian Time, the zone Telkomsel's SMSCs write receipt dates in. A fixed
// zone keeps the tests independent of the machine's tzdata.
var wib = time.FixedZone("WIB", 7*60*60)

func tlvID(id string) smpp.TLV     { return smpp.TLV{Tag: smpp.TagReceiptedMessageID, Value: []byte(id)} }
func tlvState(s byte) smpp.TLV     { return smpp.TLV{Tag: smpp.TagMessageState, Value: []byte{s}} }
func tlvNetErr(b ...byte) smpp.TLV { return smpp.TLV{Tag: smpp.TagNetworkErrorCode, Value: b} }

func at(y, mo, d, h, mi, s int) time.Time {
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, wib)
}

// none is Receipt.Submitted and Delivered when the receipt does not say.
const none = -1

type receiptCase struct {
	name string
	esm  uint8
	tlvs []smpp.TLV
	text string
	want smpp.Receipt
}

// receiptCases are receipts as real SMSCs write them; the fuzz target is seeded with them.
var receiptCases = []receiptCase{
	{
		name: "kannel-style appendix B receipt is delivered and final",
		esm:  0x04,
		text: "id:0123456789 sub:001 dlvrd:001 submit date:2403011230 done date:2403011231 stat:DELIVRD err:000 text:Laporan anda diteri",
		want: smpp.Receipt{MessageID: "0123456789", State: smpp.ReceiptDelivered, Final: true, Err: "000",
			Submitted: 1, Delivered: 1, SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 1, 12, 31, 0),
			Text: "Laporan anda diteri"},
	},
	{
		name: "jasmin-style receipt with uuid id and TLVs reads the TLVs",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvID("ad7d8e9b-0b53-4c47-9b9c-1d0e1e0a1b2c\x00"), tlvState(2)},
		text: "id:ad7d8e9b-0b53-4c47-9b9c-1d0e1e0a1b2c sub:001 dlvrd:001 submit date:240301123005 done date:240301123107 stat:DELIVRD err:000 text:",
		want: smpp.Receipt{MessageID: "ad7d8e9b-0b53-4c47-9b9c-1d0e1e0a1b2c", State: smpp.ReceiptDelivered, Final: true,
			Err: "000", Submitted: 1, Delivered: 1, SubmitDate: at(2024, 3, 1, 12, 30, 5), DoneDate: at(2024, 3, 1, 12, 31, 7)},
	},
	{
		name: "telkomsel-style upper-case receipt is undeliverable with seconds in dates",
		esm:  0x04,
		text: "ID:1597120300 SUB:001 DLVRD:000 SUBMIT DATE:240301123045 DONE DATE:240301180000 STAT:UNDELIV ERR:001 TEXT:Tiket 2403011234 dit",
		want: smpp.Receipt{MessageID: "1597120300", State: smpp.ReceiptUndeliverable, Final: true, Err: "001",
			Submitted: 1, Delivered: 0, SubmitDate: at(2024, 3, 1, 12, 30, 45), DoneDate: at(2024, 3, 1, 18, 0, 0),
			Text: "Tiket 2403011234 dit"},
	},
	{
		name: "receipt without text field is expired",
		esm:  0x04,
		text: "id:42 sub:001 dlvrd:000 submit date:2403011230 done date:2403021230 stat:EXPIRED err:000",
		want: smpp.Receipt{MessageID: "42", State: smpp.ReceiptExpired, Final: true, Err: "000",
			Submitted: 1, Delivered: 0, SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 2, 12, 30, 0)},
	},
	{
		name: "minimal id stat err receipt is delivered",
		esm:  0x04,
		text: "id:7 stat:DELIVRD err:000",
		want: smpp.Receipt{MessageID: "7", State: smpp.ReceiptDelivered, Final: true, Err: "000", Submitted: none, Delivered: none},
	},
	{
		name: "zero-padded decimal id is kept as written",
		esm:  0x04,
		text: "id:0000006699 sub:001 dlvrd:001 submit date:2403011230 done date:2403011230 stat:DELIVRD err:000 text:x",
		want: smpp.Receipt{MessageID: "0000006699", State: smpp.ReceiptDelivered, Final: true, Err: "000",
			Submitted: 1, Delivered: 1, SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 1, 12, 30, 0), Text: "x"},
	},
	{
		name: "hex id is kept as written",
		esm:  0x04,
		text: "id:5F3A1B2C stat:ACCEPTD err:000",
		want: smpp.Receipt{MessageID: "5F3A1B2C", State: smpp.ReceiptAccepted, Err: "000", Submitted: none, Delivered: none},
	},
	{
		name: "TLV-only receipt with empty text reads id state and network error",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvID("1A2B\x00"), tlvState(5), tlvNetErr(3, 0, 1)},
		want: smpp.Receipt{MessageID: "1A2B", State: smpp.ReceiptUndeliverable, Final: true, Err: "gsm:001", Submitted: none, Delivered: none},
	},
	{
		name: "TLVs win over the text for id state and error",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvNetErr(7, 0x01, 0x00), tlvState(8), tlvID("99")},
		text: "id:11 stat:DELIVRD err:000 text:hi",
		want: smpp.Receipt{MessageID: "99", State: smpp.ReceiptRejected, Final: true, Err: "smpp:256", Text: "hi", Submitted: none, Delivered: none},
	},
	{
		name: "empty receipted_message_id falls back to the text id",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvID("\x00"), tlvState(2)},
		text: "id:123 stat:UNDELIV",
		want: smpp.Receipt{MessageID: "123", State: smpp.ReceiptDelivered, Final: true, Submitted: none, Delivered: none},
	},
	{
		name: "unreadable message_state falls back to the text stat",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvState(9)},
		text: "id:123 stat:DELETED",
		want: smpp.Receipt{MessageID: "123", State: smpp.ReceiptDeleted, Final: true, Submitted: none, Delivered: none},
	},
	{
		name: "unreadable message_state without text stat is unknown and not final",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvID("123"), {Tag: smpp.TagMessageState, Value: []byte{2, 0}}},
		want: smpp.Receipt{MessageID: "123", State: smpp.ReceiptUnknown, Submitted: none, Delivered: none},
	},
	{
		name: "unknown network type renders its number",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvID("1"), tlvNetErr(42, 0x30, 0x39)},
		want: smpp.Receipt{MessageID: "1", Err: "net42:12345", Submitted: none, Delivered: none},
	},
	{
		name: "short network_error_code falls back to the text err",
		esm:  0x04,
		tlvs: []smpp.TLV{tlvID("1"), tlvNetErr(3, 1)},
		text: "err:069",
		want: smpp.Receipt{MessageID: "1", Err: "069", Submitted: none, Delivered: none},
	},
	{
		name: "mixed-case keys and lower-case stat are read",
		esm:  0x04,
		text: "Id:5 Sub:1 Dlvrd:1 Submit Date:2403011230 Done Date:2403011231 Stat:delivrd Err:000 Text:hi",
		want: smpp.Receipt{MessageID: "5", State: smpp.ReceiptDelivered, Final: true, Err: "000",
			Submitted: 1, Delivered: 1, SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 1, 12, 31, 0), Text: "hi"},
	},
	{
		name: "underscored date keys and extra spaces are read",
		esm:  0x04,
		text: "  id : 123   sub: 001  submit_date:2403011230 done_date :  2403011231   stat :  ENROUTE  ",
		want: smpp.Receipt{MessageID: "123", State: smpp.ReceiptEnroute, Submitted: 1,
			SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 1, 12, 31, 0), Delivered: none},
	},
	{
		name: "fields in any order with text before other keys",
		esm:  0x04,
		text: "stat:REJECTD text:hello world err:0x1b id:abc sub:002",
		want: smpp.Receipt{MessageID: "abc", State: smpp.ReceiptRejected, Final: true, Err: "0x1b",
			Submitted: 2, Text: "hello world", Delivered: none},
	},
	{
		name: "keys already read do not cut the text",
		esm:  0x04,
		text: "id:5 stat:DELIVRD err:000 text:Your id: 7 stat: ok",
		want: smpp.Receipt{MessageID: "5", State: smpp.ReceiptDelivered, Final: true, Err: "000", Text: "Your id: 7 stat: ok", Submitted: none, Delivered: none},
	},
	{
		name: "intermediate notification is not final",
		esm:  0x20,
		text: "id:77 sub:001 dlvrd:000 submit date:2403011230 done date:2403011240 stat:ENROUTE err:000 text:",
		want: smpp.Receipt{MessageID: "77", State: smpp.ReceiptEnroute, Err: "000", Intermediate: true,
			Submitted: 1, Delivered: 0, SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 1, 12, 40, 0)},
	},
	{
		name: "intermediate notification with a final state is still not final",
		esm:  0x20,
		text: "id:77 stat:UNDELIV",
		want: smpp.Receipt{MessageID: "77", State: smpp.ReceiptUndeliverable, Intermediate: true, Submitted: none, Delivered: none},
	},
	{
		name: "numeric stat is read as message_state",
		esm:  0x04,
		text: "id:8 stat:3",
		want: smpp.Receipt{MessageID: "8", State: smpp.ReceiptExpired, Final: true, Submitted: none, Delivered: none},
	},
	{
		name: "unrecognised stat is unknown",
		esm:  0x04,
		text: "id:8 stat:FAILEDX err:1",
		want: smpp.Receipt{MessageID: "8", State: smpp.ReceiptUnknown, Err: "1", Submitted: none, Delivered: none},
	},
	{
		name: "truncated receipt keeps what is whole",
		esm:  0x04,
		text: "id:99 sub:001 dlvrd:001 submit date:24030112",
		want: smpp.Receipt{MessageID: "99", Submitted: 1, Delivered: 1},
	},
	{
		name: "receipt cut inside stat is unknown",
		esm:  0x04,
		text: "id:99 sub:001 dlvrd:001 submit date:2403011230 done date:2403011231 stat:DELI",
		want: smpp.Receipt{MessageID: "99", State: smpp.ReceiptUnknown, Submitted: 1, Delivered: 1,
			SubmitDate: at(2024, 3, 1, 12, 30, 0), DoneDate: at(2024, 3, 1, 12, 31, 0)},
	},
	{
		name: "impossible dates and non-numeric counts are absent",
		esm:  0x04,
		text: "id:1 sub:abc dlvrd:1234567890 submit date:2402301230 done date:2413011230 stat:DELIVRD",
		want: smpp.Receipt{MessageID: "1", State: smpp.ReceiptDelivered, Final: true, Submitted: none, Delivered: none},
	},
	{
		name: "leading and trailing garbage is ignored",
		esm:  0x04,
		text: "\x00DLR>> id:314 stat:DELIVRD err:000 text:ok\x00\x00\r\n",
		want: smpp.Receipt{MessageID: "314", State: smpp.ReceiptDelivered, Final: true, Err: "000", Text: "ok", Submitted: none, Delivered: none},
	},
	{
		name: "comma-separated fields are read",
		esm:  0x04,
		text: "id:314,stat:DELIVRD,err:000",
		want: smpp.Receipt{MessageID: "314", State: smpp.ReceiptDelivered, Final: true, Err: "000", Submitted: none, Delivered: none},
	},
	{
		name: "keys inside words are not keys",
		esm:  0x04,
		text: "msgid:1 pid:2 id:3 substat:X stat:DELIVRD",
		want: smpp.Receipt{MessageID: "3", State: smpp.ReceiptDelivered, Final: true, Submitted: none, Delivered: none},
	},
	{
		name: "first occurrence of a key wins",
		esm:  0x04,
		text: "id:1 id:2 stat:ENROUTE stat:DELIVRD",
		want: smpp.Receipt{MessageID: "1", State: smpp.ReceiptEnroute, Submitted: none, Delivered: none},
	},
	{
		name: "text with NULs and invalid UTF-8 is cleaned",
		esm:  0x04,
		text: "id:1 text:a\x00b\xffc",
		want: smpp.Receipt{MessageID: "1", Text: "ab\uFFFDc", Submitted: none, Delivered: none},
	},
}

func TestParseReceipt(t *testing.T) {
	for _, tc := range receiptCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := smpp.ParseReceipt(tc.esm, tc.tlvs, tc.text, wib)
			if err != nil {
				t.Fatalf("ParseReceipt: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseReceipt(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestParseReceiptWithoutIDIsError(t *testing.T) {
	cases := []struct {
		name      string
		tlvs      []smpp.TLV
		text      string
		wantState string
	}{
		{"stat and err without id keep the state", nil, "stat:DELIVRD err:000", smpp.ReceiptDelivered},
		{"empty input", nil, "", ""},
		{"binary garbage", nil, "\x00\xff\xfe\x01 random bytes", ""},
		{"empty id field", nil, "id: stat:UNDELIV", smpp.ReceiptUndeliverable},
		{"NUL-only TLV id and no text id", []smpp.TLV{tlvID("\x00\x00"), tlvState(2)}, "", smpp.ReceiptDelivered},
		{"id longer than 64 characters", nil, "id:" + strings.Repeat("9", 65) + " stat:DELIVRD", smpp.ReceiptDelivered},
		{"TLV id longer than 64 characters", []smpp.TLV{tlvID(strings.Repeat("a", 65))}, "", ""},
		{"id beyond the text limit", nil, strings.Repeat(" ", smpp.MaxReceiptText) + "id:1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := smpp.ParseReceipt(0x04, tc.tlvs, tc.text, wib)
			if !errors.Is(err, smpp.ErrNoReceiptID) {
				t.Fatalf("err = %v, want ErrNoReceiptID", err)
			}
			if got.MessageID != "" || got.State != tc.wantState || got.Final {
				t.Errorf("receipt = %+v, want no id, state %q, not final", got, tc.wantState)
			}
		})
	}
}

func TestParseReceiptTruncatesLongText(t *testing.T) {
	pad := strings.Repeat("x", smpp.MaxReceiptText)
	got, err := smpp.ParseReceipt(0x04, nil, "id:1 text:"+pad+" stat:DELIVRD", wib)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "" {
		t.Errorf("State = %q: read beyond MaxReceiptText", got.State)
	}
	if len(got.Text) != smpp.MaxReceiptText-len("id:1 text:") {
		t.Errorf("len(Text) = %d, want %d", len(got.Text), smpp.MaxReceiptText-len("id:1 text:"))
	}
}

func TestParseReceiptDatesInOperatorZone(t *testing.T) {
	text := "id:1 submit date:2403011230 done date:2403011231"
	for _, tc := range []struct {
		name string
		loc  *time.Location
		want time.Time
	}{
		{"WIB", wib, time.Date(2024, 3, 1, 5, 30, 0, 0, time.UTC)},
		{"nil is UTC", nil, time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := smpp.ParseReceipt(0x04, nil, text, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !got.SubmitDate.Equal(tc.want) {
				t.Errorf("SubmitDate = %v, want %v", got.SubmitDate, tc.want)
			}
		})
	}
}

func TestReceiptFromPDUReadsPayload(t *testing.T) {
	p := &smpp.PDU{CommandID: smpp.CmdDataSM, ESMClass: 0x04, TLVs: []smpp.TLV{
		{Tag: smpp.TagMessagePayload, Value: []byte("id:55 stat:DELIVRD err:000")},
	}}
	got, err := smpp.ReceiptFromPDU(p, wib)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID != "55" || got.State != smpp.ReceiptDelivered {
		t.Errorf("receipt = %+v, want id 55 DELIVERED", got)
	}
}

func TestNormalizeMessageID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		base smpp.IDBase
		want string
	}{
		{"hex becomes decimal", "1A2B", smpp.IDHex, "6699"},
		{"hex with 0x prefix, spaces and NUL", " 0x1a2b\x00", smpp.IDHex, "6699"},
		{"zero-padded hex becomes decimal", "00001A2B", smpp.IDHex, "6699"},
		{"largest 64-bit hex", "FFFFFFFFFFFFFFFF", smpp.IDHex, "18446744073709551615"},
		{"hex over 64 bits stays text", "1FFFFFFFFFFFFFFFF", smpp.IDHex, "1ffffffffffffffff"},
		{"non-hex id under hex base stays text", "550E8400-E29B", smpp.IDHex, "550e8400-e29b"},
		{"zero-padded decimal", "0000006699", smpp.IDDecimal, "6699"},
		{"decimal over 64 bits stays text without zeros", "00123456789012345678901234", smpp.IDDecimal, "123456789012345678901234"},
		{"non-decimal id under decimal base stays text", "5F3A", smpp.IDDecimal, "5f3a"},
		{"auto lower-cases and strips zeros", "0001A2B", smpp.IDAuto, "1a2b"},
		{"auto keeps a single zero", "000", smpp.IDAuto, "0"},
		{"hex zero", "0000", smpp.IDHex, "0"},
		{"empty stays empty", " \x00 ", smpp.IDHex, ""},
		{"auto keeps uuid", "AD7D8E9B-0B53", smpp.IDAuto, "ad7d8e9b-0b53"},
		{"auto keeps a zero before a separator", "00-7", smpp.IDAuto, "0-7"},
		{"auto keeps a zero before an inner space", "0 0", smpp.IDAuto, "0 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := smpp.NormalizeMessageID(tc.id, tc.base); got != tc.want {
				t.Errorf("NormalizeMessageID(%q, %v) = %q, want %q", tc.id, tc.base, got, tc.want)
			}
		})
	}
}

func TestSameMessageID(t *testing.T) {
	cases := []struct {
		name        string
		submit      string
		submitBase  smpp.IDBase
		receipt     string
		receiptBase smpp.IDBase
		want        bool
	}{
		{"hex submit id matches decimal receipt id", "1A2B", smpp.IDHex, "6699", smpp.IDDecimal, true},
		{"hex submit id matches zero-padded decimal receipt id", "5F3A1B2C", smpp.IDHex, "0001597643564", smpp.IDDecimal, true},
		{"upper-case submit id matches lower-case zero-padded receipt id", "AB12", smpp.IDAuto, "00ab12", smpp.IDAuto, true},
		{"same digits in different bases do not match", "6699", smpp.IDHex, "6699", smpp.IDDecimal, false},
		{"different ids do not match", "1A2B", smpp.IDHex, "6698", smpp.IDDecimal, false},
		{"empty ids do not match", "", smpp.IDAuto, "", smpp.IDAuto, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := smpp.SameMessageID(tc.submit, tc.submitBase, tc.receipt, tc.receiptBase); got != tc.want {
				t.Errorf("SameMessageID(%q, %v, %q, %v) = %v, want %v", tc.submit, tc.submitBase, tc.receipt, tc.receiptBase, got, tc.want)
			}
		})
	}
}

// TestSameMessageIDAfterParse is the whole path: the submit_sm_resp id in hex, the receipt id
// in decimal, as operators configured SubmitIDBase hex and ReceiptIDBase decimal send them.
func TestSameMessageIDAfterParse(t *testing.T) {
	r, err := smpp.ParseReceipt(0x04, nil, "id:0000006699 sub:001 dlvrd:001 stat:DELIVRD err:000", wib)
	if err != nil {
		t.Fatal(err)
	}
	if !smpp.SameMessageID("1A2B", smpp.IDHex, r.MessageID, smpp.IDDecimal) {
		t.Errorf("submit id 1A2B (hex) does not match receipt id %q (decimal)", r.MessageID)
	}
}

func TestIDBaseText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want smpp.IDBase
	}{{"", smpp.IDAuto}, {"auto", smpp.IDAuto}, {"HEX", smpp.IDHex}, {"Decimal", smpp.IDDecimal}} {
		var b smpp.IDBase
		if err := b.UnmarshalText([]byte(tc.in)); err != nil || b != tc.want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tc.in, b, err, tc.want)
		}
	}
	for _, b := range []smpp.IDBase{smpp.IDAuto, smpp.IDHex, smpp.IDDecimal} {
		text, err := b.MarshalText()
		var back smpp.IDBase
		if err != nil || back.UnmarshalText(text) != nil || back != b {
			t.Errorf("%v does not round-trip through text (%q, %v)", b, text, err)
		}
	}
	var b smpp.IDBase
	if err := b.UnmarshalText([]byte("octal")); err == nil {
		t.Error(`UnmarshalText("octal") accepted`)
	}
	if _, err := smpp.IDBase(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown base accepted")
	}
}

// TestParseReceiptAllocations keeps the parser allocation-light: a text receipt allocates
// nothing (every string aliases the input), a TLV receipt only its id and rendered error.
func TestParseReceiptAllocations(t *testing.T) {
	text := receiptCases[0].text
	if n := testing.AllocsPerRun(100, func() { _, _ = smpp.ParseReceipt(0x04, nil, text, wib) }); n != 0 {
		t.Errorf("text receipt: %v allocations, want 0", n)
	}
	tlvs := []smpp.TLV{tlvID("1A2B\x00"), tlvState(2), tlvNetErr(3, 0, 1)}
	if n := testing.AllocsPerRun(100, func() { _, _ = smpp.ParseReceipt(0x04, tlvs, text, wib) }); n > 2 {
		t.Errorf("TLV receipt: %v allocations, want at most 2", n)
	}
}

func BenchmarkParseReceipt(b *testing.B) {
	text := receiptCases[0].text
	b.ReportAllocs()
	for b.Loop() {
		if _, err := smpp.ParseReceipt(0x04, nil, text, wib); err != nil {
			b.Fatal(err)
		}
	}
}

var receiptStateNames = map[string]bool{"": true,
	smpp.ReceiptEnroute: true, smpp.ReceiptDelivered: true, smpp.ReceiptExpired: true, smpp.ReceiptDeleted: true,
	smpp.ReceiptUndeliverable: true, smpp.ReceiptAccepted: true, smpp.ReceiptUnknown: true, smpp.ReceiptRejected: true,
}

// FuzzParseReceipt: no panic, and whatever the input, the receipt keeps its invariants.
func FuzzParseReceipt(f *testing.F) {
	for _, tc := range receiptCases {
		var id, state, netErr []byte
		var mask uint8
		for _, t := range tc.tlvs {
			switch t.Tag {
			case smpp.TagReceiptedMessageID:
				id, mask = t.Value, mask|1
			case smpp.TagMessageState:
				state, mask = t.Value, mask|2
			case smpp.TagNetworkErrorCode:
				netErr, mask = t.Value, mask|4
			}
		}
		f.Add(tc.esm, mask, id, state, netErr, tc.text)
	}
	f.Add(uint8(0x04), uint8(0), []byte(nil), []byte(nil), []byte(nil), strings.Repeat("id:1 ", 300))
	f.Add(uint8(0x04), uint8(1), []byte("0 0"), []byte(nil), []byte(nil), "")
	f.Fuzz(func(t *testing.T, esm, mask uint8, id, state, netErr []byte, text string) {
		var tlvs []smpp.TLV
		if mask&1 != 0 {
			tlvs = append(tlvs, smpp.TLV{Tag: smpp.TagReceiptedMessageID, Value: id})
		}
		if mask&2 != 0 {
			tlvs = append(tlvs, smpp.TLV{Tag: smpp.TagMessageState, Value: state})
		}
		if mask&4 != 0 {
			tlvs = append(tlvs, smpp.TLV{Tag: smpp.TagNetworkErrorCode, Value: netErr})
		}
		r, err := smpp.ParseReceipt(esm, tlvs, text, wib)
		if (err != nil) != (r.MessageID == "") {
			t.Fatalf("err = %v with MessageID %q", err, r.MessageID)
		}
		if err != nil && !errors.Is(err, smpp.ErrNoReceiptID) {
			t.Fatalf("err = %v, want ErrNoReceiptID", err)
		}
		if len(r.MessageID) > smpp.MaxMessageIDLen || strings.ContainsRune(r.MessageID, 0) {
			t.Errorf("MessageID %q: too long or holds a NUL", r.MessageID)
		}
		if !receiptStateNames[r.State] {
			t.Errorf("State %q is not a state name", r.State)
		}
		if r.Final && (r.Intermediate || r.State == smpp.ReceiptEnroute || r.State == smpp.ReceiptAccepted || r.State == smpp.ReceiptUnknown) {
			t.Errorf("Final with state %q, intermediate %v", r.State, r.Intermediate)
		}
		if r.Intermediate != (esm&0x3C == 0x20) {
			t.Errorf("Intermediate = %v for esm_class 0x%02X", r.Intermediate, esm)
		}
		if r.Submitted < -1 || r.Delivered < -1 {
			t.Errorf("counts %d, %d below -1", r.Submitted, r.Delivered)
		}
		if !utf8.ValidString(r.Text) || strings.ContainsRune(r.Text, 0) || len(r.Text) > 3*smpp.MaxReceiptText {
			// Each invalid byte may become a three-byte U+FFFD.
			t.Errorf("Text %q: invalid UTF-8, NUL or over the limit", r.Text)
		}
		for _, d := range []time.Time{r.SubmitDate, r.DoneDate} {
			if !d.IsZero() && (d.Year() < 2000 || d.Year() > 2099) {
				t.Errorf("date %v outside 2000–2099", d)
			}
		}
		if again, _ := smpp.ParseReceipt(esm, tlvs, text, wib); !cmp.Equal(r, again) {
			t.Errorf("two parses differ: %+v vs %+v", r, again)
		}
		for _, base := range []smpp.IDBase{smpp.IDAuto, smpp.IDDecimal} {
			n := smpp.NormalizeMessageID(r.MessageID, base)
			if smpp.NormalizeMessageID(n, base) != n {
				t.Errorf("NormalizeMessageID(%q, %v) = %q is not a fixed point", r.MessageID, base, n)
			}
			if r.MessageID != "" && !smpp.SameMessageID(r.MessageID, base, r.MessageID, base) {
				t.Errorf("id %q does not match itself under %v", r.MessageID, base)
			}
		}
		smpp.NormalizeMessageID(text, smpp.IDHex)
	})
}

package text

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seeds are short_message bytes as SMSCs deliver them.
var fuzzSeeds = []struct {
	dc byte
	b  []byte
}{
	{0x00, []byte("LAPOR jalan rusak di Jl. Merdeka")},
	{0x00, []byte{0x1B, 0x65, 0x20, 0x35, 0x30, 0x00, 0x1B, 0x28, 0x1B}}, // "€ 50@{" and a lone escape
	{0xF0, []byte{0x48, 0x61, 0x6C, 0x6F, 0x1B, 0x3C, 0x1B, 0x3E}},       // class 0 flash
	{0x01, []byte("INFO 1234567890\r\n\x00")},                            // C-string padding
	{0x03, []byte{0x63, 0x61, 0x66, 0xE9, 0x80}},                         // Latin-1
	{0x08, []byte{0x00, 0x4A, 0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00}},       // "Ja😀"
	{0x08, []byte{0xD8, 0x3D}},                                           // first half of a split emoji
	{0x18, []byte{0xDE, 0x00, 0x00, 0x21, 0x00}},                         // second half, odd byte
	{0x04, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x01}},                   // binary
	{0x11, []byte{0x00, 0x7F, 0x80, 0xFF}},                               // general group GSM 7, class 1
	{0x24, []byte("compressed")},                                         // compressed: unknown
	{0xE8, []byte{0x00, 0x41}},                                           // MWI store UCS2
	{0xC0, []byte{0x41}},                                                 // MWI discard
	{0xF8, []byte{0x41}},                                                 // reserved
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, def := range []Alphabet{GSM7, Latin1} {
			f.Add(s.dc, byte(def), s.b)
		}
	}
	f.Fuzz(func(t *testing.T, dc, def byte, b []byte) {
		d := DecodeShortMessage(dc, Alphabet(def), b)
		if !utf8.ValidString(d.Text) || strings.IndexByte(d.Text, 0) >= 0 {
			t.Fatalf("Decode(0x%02X, % X) = %q: not valid UTF-8 without NUL", dc, b, d.Text)
		}
		if d.Invalid < 0 || d.Invalid > len(b) {
			t.Fatalf("Invalid = %d for %d bytes", d.Invalid, len(b))
		}
		if d.Alphabet != AlphabetFor(dc, Alphabet(def)) {
			t.Fatalf("Alphabet = %v, want %v", d.Alphabet, AlphabetFor(dc, Alphabet(def)))
		}
		switch d.Alphabet {
		case Binary, Unknown:
			if d.Text != "" || d.Invalid != 0 {
				t.Fatalf("%v decoded to %q, %d", d.Alphabet, d.Text, d.Invalid)
			}
		case GSM7:
			// Whatever GSM 7 decodes to is GSM 7 text, and decoding it
			// again is a fixed point; with no invalid bytes and only
			// canonical escapes, it is x itself.
			enc, ok := EncodeGSM7(d.Text)
			if d.Invalid == 0 && !ok {
				t.Fatalf("GSM 7 decoded text %q is not encodable", d.Text)
			}
			if ok {
				if again := Decode(enc, GSM7); again.Text != d.Text || again.Invalid != 0 {
					t.Fatalf("decode(encode(%q)) = %q, %d", d.Text, again.Text, again.Invalid)
				}
			}
			if d.Invalid == 0 && canonicalGSM7(b) && !bytes.Equal(enc, b) {
				t.Fatalf("encode(decode(% X)) = % X", b, enc)
			}
		case UCS2:
			if d.Invalid == 0 && !bytes.Equal(EncodeUCS2(d.Text), b) {
				t.Fatalf("encode(decode(% X)) = % X", b, EncodeUCS2(d.Text))
			}
		case ASCII, Latin1:
			if d.Invalid == 0 && utf8.RuneCountInString(d.Text) != len(b) {
				t.Fatalf("%v: %d runes from %d bytes", d.Alphabet, utf8.RuneCountInString(d.Text), len(b))
			}
		}
		if s, n := Sanitize(d.Text); s != d.Text || n != 0 {
			t.Fatalf("decoded text needs sanitizing: %q", d.Text)
		}
	})
}

// canonicalGSM7 reports whether every escape in b starts an extension pair.
func canonicalGSM7(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == escape {
			if i+1 >= len(b) || b[i+1] >= 0x80 || gsmExtension[b[i+1]] == 0 {
				return false
			}
			i++
		}
	}
	return true
}

func FuzzSplitUDH(f *testing.F) {
	f.Add([]byte{0x05, 0x00, 0x03, 0xA7, 0x02, 0x01, 0x00, 0x48, 0x00, 0x69})
	f.Add([]byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02, 0x48, 0x69})
	f.Add([]byte{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x01, 0x02, 0x01, 0x41})
	f.Add([]byte{0x05, 0x00, 0x03, 0x01, 0x00, 0x00})
	f.Add([]byte{0x03, 0x00, 0x03, 0x01, 0x02})
	f.Add([]byte{0xFF})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, sm []byte) {
		orig := bytes.Clone(sm)
		udh, data, err := SplitUDH(sm)
		if !bytes.Equal(sm, orig) {
			t.Fatalf("SplitUDH modified its input")
		}
		c, ok, cerr := ParseConcat(udh)
		if err != nil {
			if !errors.Is(err, ErrUDH) {
				t.Fatalf("SplitUDH error %v does not wrap ErrUDH", err)
			}
			if udh != nil || data != nil {
				t.Fatalf("SplitUDH returned data with an error")
			}
			// What SplitUDH refuses, ParseConcat on the same bytes
			// cannot accept either: they walk the same header.
			if _, _, cerr := ParseConcat(sm); len(sm) > 0 && cerr == nil {
				t.Fatalf("ParseConcat accepts a header SplitUDH refuses: % X", sm)
			}
			return
		}
		if len(udh)+len(data) != len(sm) || int(udh[0]) != len(udh)-1 {
			t.Fatalf("SplitUDH(% X) = % X | % X", sm, udh, data)
		}
		if errors.Is(cerr, ErrUDH) {
			t.Fatalf("ParseConcat refuses a header SplitUDH accepted: %v", cerr)
		}
		if cerr != nil {
			if ok || !errors.Is(cerr, ErrConcat) {
				t.Fatalf("ParseConcat = %v, %v", ok, cerr)
			}
			return
		}
		if ok {
			if c.Seq < 1 || c.Seq > c.Total || (c.RefBits != 8 && c.RefBits != 16) || (c.RefBits == 8 && c.Ref > 0xFF) {
				t.Fatalf("ParseConcat = %+v", c)
			}
		} else if c != (Concat{}) {
			t.Fatalf("ParseConcat without concatenation = %+v", c)
		}
	})
}

func FuzzParseSAR(f *testing.F) {
	f.Add([]byte{0x01, 0x2C}, []byte{0x03}, []byte{0x01})
	f.Add([]byte{0x07}, []byte{0x00}, []byte{0x00})
	f.Fuzz(func(t *testing.T, ref, total, seq []byte) {
		c, err := ParseSAR(ref, total, seq)
		if err != nil {
			if !errors.Is(err, ErrConcat) || c != (Concat{}) {
				t.Fatalf("ParseSAR = %+v, %v", c, err)
			}
			return
		}
		if c.Seq < 1 || c.Seq > c.Total || c.RefBits != 16 {
			t.Fatalf("ParseSAR = %+v", c)
		}
	})
}

func FuzzSegment(f *testing.F) {
	f.Add("Laporan Anda diterima. No tiket: 1234567890.", uint16(0), false)
	f.Add(strings.Repeat("a", 152)+"€ and more {text}", uint16(0xA7), false)
	f.Add(strings.Repeat("a", 151)+"€ and more", uint16(0x1234), true)
	f.Add("ā"+strings.Repeat("x", 65)+"😀 banjir", uint16(9), false)
	f.Add(strings.Repeat("Banjir 😀 di Jakarta — ", 8), uint16(0xFFFF), true)
	f.Add("a\x00b\xffc", uint16(1), false)
	f.Fuzz(func(t *testing.T, s string, ref uint16, ref16 bool) {
		e, err := Encode(s, ref, ref16)
		if err != nil {
			if !errors.Is(err, ErrTooLong) {
				t.Fatalf("Encode error %v does not wrap ErrTooLong", err)
			}
			return
		}
		_, gsm := GSM7Septets(s)
		if want := map[bool]Alphabet{true: GSM7, false: UCS2}[gsm]; e.Alphabet != want {
			t.Fatalf("alphabet = %v, want %v", e.Alphabet, want)
		}
		size, single, per := 1, SingleGSM7, PartGSM7
		if e.Alphabet == UCS2 {
			size, single, per = 2, SingleUCS2, PartUCS2
		}
		if ref16 {
			per--
		}
		if len(e.Segments) == 0 || len(e.Segments) > MaxParts {
			t.Fatalf("%d segments", len(e.Segments))
		}
		for i, seg := range e.Segments {
			limit := per
			if len(e.Segments) == 1 {
				limit = single
			}
			if len(seg.Data)%size != 0 || len(seg.Data)/size > limit {
				t.Fatalf("part %d has %d bytes, limit %d units", i+1, len(seg.Data), limit)
			}
			// 23.040: 140 octets on the air. GSM 7 is packed there, the
			// UDH padded with fill bits to a septet boundary.
			bits := len(seg.UDH)*8 + len(seg.Data)*8
			if e.Alphabet == GSM7 {
				bits = (len(seg.UDH)*8+6)/7*7 + len(seg.Data)*7
			}
			if bits > 140*8 {
				t.Fatalf("part %d is %d bits on the air", i+1, bits)
			}
		}
		checkSegments(t, s, e, ref, ref16)
	})
}

package text

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		a    Alphabet
		hex  string
		want Decoded
	}{
		// GSM 03.38, unpacked.
		{"gsm7 ascii-like text", GSM7, "48 65 6C 6C 6F 20 31 37 30 38", Decoded{"Hello 1708", GSM7, 0}},
		{"gsm7 0x00 is @ not NUL", GSM7, "61 00 62", Decoded{"a@b", GSM7, 0}},
		{"gsm7 differs from ascii", GSM7, "02 11 24 40 5B 5C 5D 5E 5F 60 7B 7C 7D 7E 7F", Decoded{"$_¤¡ÄÖÑÜ§¿äöñüà", GSM7, 0}},
		{"gsm7 greek and controls", GSM7, "10 12 13 14 15 16 17 18 19 1A 0A 0D", Decoded{"ΔΦΓΛΩΠΨΣΘΞ\n\r", GSM7, 0}},
		{"gsm7 byte above 0x7F is invalid", GSM7, "61 80 FF 62", Decoded{"a\uFFFD\uFFFDb", GSM7, 2}},
		{"gsm7 trailing escape is invalid", GSM7, "61 1B", Decoded{"a\uFFFD", GSM7, 1}},
		{"gsm7 escape before invalid byte", GSM7, "1B 80", Decoded{"\uFFFD\uFFFD", GSM7, 2}},
		{"gsm7 escape of a non-extension septet shows the default char", GSM7, "1B 41 1B 00", Decoded{"A@", GSM7, 0}},
		{"gsm7 escape escape shows a space", GSM7, "1B 1B 41", Decoded{" A", GSM7, 0}},
		{"gsm7 empty", GSM7, "", Decoded{"", GSM7, 0}},
		// IA5.
		{"ascii text", ASCII, "4C 41 50 4F 52 0D 0A 7E", Decoded{"LAPOR\r\n~", ASCII, 0}},
		{"ascii high bytes and NUL are invalid", ASCII, "61 80 00 E9", Decoded{"a\uFFFD\uFFFD\uFFFD", ASCII, 3}},
		// ISO-8859-1, not Windows-1252.
		{"latin1 accents", Latin1, "63 61 66 E9 20 FC", Decoded{"café ü", Latin1, 0}},
		{"latin1 0x80 is a C1 control not euro", Latin1, "80 9F A4 FF", Decoded{"\u0080\u009F¤ÿ", Latin1, 0}},
		{"latin1 NUL is invalid", Latin1, "61 00", Decoded{"a\uFFFD", Latin1, 1}},
		// UTF-16BE.
		{"ucs2 text", UCS2, "00 4A 00 61 01 01 00 6E", Decoded{"Jaān", UCS2, 0}},
		{"ucs2 surrogate pair is one rune", UCS2, "D8 3D DE 00 00 21", Decoded{"😀!", UCS2, 0}},
		{"ucs2 odd length", UCS2, "00 41 00", Decoded{"A\uFFFD", UCS2, 1}},
		{"ucs2 lone high surrogate", UCS2, "D8 3D 00 41", Decoded{"\uFFFDA", UCS2, 1}},
		{"ucs2 high surrogate at end", UCS2, "00 41 D8 3D", Decoded{"A\uFFFD", UCS2, 1}},
		{"ucs2 lone low surrogate", UCS2, "DE 00 00 41", Decoded{"\uFFFDA", UCS2, 1}},
		{"ucs2 two high surrogates then low", UCS2, "D8 3D D8 3D DE 00", Decoded{"\uFFFD😀", UCS2, 1}},
		{"ucs2 high surrogate then odd byte", UCS2, "D8 3D DE", Decoded{"\uFFFD\uFFFD", UCS2, 2}},
		{"ucs2 NUL is invalid", UCS2, "00 00 00 41", Decoded{"\uFFFDA", UCS2, 1}},
		// Not text.
		{"binary is not decoded", Binary, "00 01 FF", Decoded{"", Binary, 0}},
		{"unknown is not decoded", Unknown, "00 01 FF", Decoded{"", Unknown, 0}},
		{"a value that is no alphabet is unknown", Alphabet(0), "41", Decoded{"", Unknown, 0}},
		{"a large value that is no alphabet is unknown", Alphabet(200), "41", Decoded{"", Unknown, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.hex)
			got := Decode(b, tt.a)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode(%s, %v) mismatch (-want +got):\n%s%s", tt.hex, tt.a, diff, hex.Dump(b))
			}
		})
	}
}

func TestDecodeShortMessageUsesDataCoding(t *testing.T) {
	b := []byte{0xE9}
	tests := []struct {
		dc   byte
		def  Alphabet
		want Decoded
	}{
		{0x00, Latin1, Decoded{"é", Latin1, 0}},
		{0x00, GSM7, Decoded{"\uFFFD", GSM7, 1}},
		{0x03, GSM7, Decoded{"é", Latin1, 0}},
		{0x01, Latin1, Decoded{"\uFFFD", ASCII, 1}},
		{0x04, GSM7, Decoded{"", Binary, 0}},
		{0x05, GSM7, Decoded{"", Unknown, 0}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, DecodeShortMessage(tt.dc, tt.def, b)); diff != "" {
			t.Errorf("DecodeShortMessage(0x%02X, %v) mismatch (-want +got):\n%s", tt.dc, tt.def, diff)
		}
	}
}

// Golden: every character of the GSM 03.38 extension table.
func TestDecodeGSM7ExtensionGolden(t *testing.T) {
	b := unhex(t, "1B65 20 1B3C 1B3E 20 1B28 1B29 20 1B3D 20 1B14 20 1B40 20 1B2F 20 1B0A")
	const want = "€ [] {} ~ ^ | \\ \f"
	got := Decode(b, GSM7)
	if got.Text != want || got.Invalid != 0 {
		t.Errorf("Decode = %q (invalid %d), want %q\n%s", got.Text, got.Invalid, want, hex.Dump(b))
	}
	enc, ok := EncodeGSM7(want)
	if !ok || !bytes.Equal(enc, b) {
		t.Errorf("EncodeGSM7(%q) = % X, %v; want % X", want, enc, ok, b)
	}
	if n, ok := GSM7Septets(want); n != len(b) || !ok {
		t.Errorf("GSM7Septets(%q) = %d, %v; want %d, true", want, n, ok, len(b))
	}
}

// Golden: a pair split across two parts decodes only once the raw bytes are
// joined, which is why assembly joins before it decodes.
func TestDecodeJoinedPartsGolden(t *testing.T) {
	tests := []struct {
		name         string
		a            Alphabet
		part1, part2 string
		want         string
	}{
		{"emoji surrogate pair across ucs2 parts", UCS2, "0061 0062 D83D", "DE00 0021", "ab😀!"},
		{"euro escape pair across gsm7 parts", GSM7, "61 62 1B", "65 21", "ab€!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p1, p2 := unhex(t, tt.part1), unhex(t, tt.part2)
			if d := Decode(p1, tt.a); d.Invalid == 0 {
				t.Errorf("part 1 alone decoded cleanly to %q; the test no longer splits a pair", d.Text)
			}
			joined := append(append([]byte(nil), p1...), p2...)
			got := Decode(joined, tt.a)
			if diff := cmp.Diff(Decoded{tt.want, tt.a, 0}, got); diff != "" {
				t.Errorf("joined decode mismatch (-want +got):\n%s%s", diff, hex.Dump(joined))
			}
		})
	}
}

// encode(decode(x)) == x for every canonical GSM 7 septet string.
func TestGSM7RoundTrip(t *testing.T) {
	var codes [][]byte
	for c := range 128 {
		if c != escape {
			codes = append(codes, []byte{byte(c)})
		}
		if gsmExtension[c] != 0 {
			codes = append(codes, []byte{escape, byte(c)})
		}
	}
	if len(codes) != 127+10 {
		t.Fatalf("got %d GSM 03.38 codes, want 137", len(codes))
	}
	var all []byte
	for _, c := range codes {
		all = append(all, c...)
	}
	rng := rand.New(rand.NewPCG(1708, 1))
	inputs := [][]byte{all}
	for range 500 {
		var b []byte
		for range rng.IntN(400) {
			b = append(b, codes[rng.IntN(len(codes))]...)
		}
		inputs = append(inputs, b)
	}
	for _, b := range inputs {
		d := Decode(b, GSM7)
		if d.Invalid != 0 {
			t.Fatalf("Decode(% X) invalid = %d", b, d.Invalid)
		}
		enc, ok := EncodeGSM7(d.Text)
		if !ok || !bytes.Equal(enc, b) {
			t.Fatalf("EncodeGSM7(Decode(x)) != x\nx:   % X\ngot: % X (ok %v)", b, enc, ok)
		}
		if n, _ := GSM7Septets(d.Text); n != len(b) {
			t.Fatalf("GSM7Septets = %d, want %d", n, len(b))
		}
	}
}

// encode(decode(x)) == x for valid UTF-16 without NUL.
func TestUCS2RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1708, 2))
	for range 500 {
		var b []byte
		for range rng.IntN(200) {
			var r rune
			switch rng.IntN(4) {
			case 0:
				r = rune(1 + rng.IntN(0x7F))
			case 1:
				r = rune(0x80 + rng.IntN(0xD800-0x80))
			case 2:
				r = rune(0xE000 + rng.IntN(0x10000-0xE000))
			default:
				r = rune(0x10000 + rng.IntN(0x100000))
			}
			b = append(b, EncodeUCS2(string(r))...)
		}
		d := Decode(b, UCS2)
		if d.Invalid != 0 {
			t.Fatalf("Decode(% X) invalid = %d", b, d.Invalid)
		}
		if got := EncodeUCS2(d.Text); !bytes.Equal(got, b) {
			t.Fatalf("EncodeUCS2(Decode(x)) != x\nx:   % X\ngot: % X", b, got)
		}
	}
}

func TestEncodeGSM7RefusesNonGSM(t *testing.T) {
	for _, s := range []string{"ā", "aku 😀", "`", "a\x00", "\xff", "tab\t"} {
		if b, ok := EncodeGSM7(s); ok || b != nil {
			t.Errorf("EncodeGSM7(%q) = % X, %v; want nil, false", s, b, ok)
		}
		if _, ok := GSM7Septets(s); ok {
			t.Errorf("GSM7Septets(%q) ok, want not ok", s)
		}
	}
}

func TestEncodeUCS2(t *testing.T) {
	tests := []struct {
		in, hex string
	}{
		{"", ""},
		{"Aā", "0041 0101"},
		{"😀", "D83D DE00"},
		{"a\x00", "0061 FFFD"}, // NUL is sent as U+FFFD, as Decode would read it
		{"a\xffb", "0061 FFFD 0062"},
	}
	for _, tt := range tests {
		if got, want := EncodeUCS2(tt.in), unhex(t, tt.hex); !bytes.Equal(got, want) {
			t.Errorf("EncodeUCS2(%q) = % X, want % X", tt.in, got, want)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want string
		n              int
	}{
		{"clean ascii", "LAPOR jalan rusak", "LAPOR jalan rusak", 0},
		{"clean utf-8", "jalan 😀 €", "jalan 😀 €", 0},
		{"written replacement char is kept and not counted", "a\uFFFDb", "a\uFFFDb", 0},
		{"NUL", "a\x00b\x00", "a\uFFFDb\uFFFD", 2},
		{"invalid byte", "a\xffb", "a\uFFFDb", 1},
		{"truncated sequence counts each byte", "a\xe2\x82", "a\uFFFD\uFFFD", 2},
		{"encoded surrogate is invalid", "\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD", 3},
		{"empty", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := Sanitize(tt.in)
			if got != tt.want || n != tt.n {
				t.Errorf("Sanitize(%q) = %q, %d; want %q, %d", tt.in, got, n, tt.want, tt.n)
			}
			if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
				t.Errorf("Sanitize(%q) = %q is not valid UTF-8 without NUL", tt.in, got)
			}
		})
	}
}

func TestSanitizeCleanDoesNotAllocate(t *testing.T) {
	s := "Terima kasih, laporan Anda 😀 diterima"
	if n := testing.AllocsPerRun(100, func() { Sanitize(s) }); n != 0 {
		t.Errorf("Sanitize of clean text allocates %v times", n)
	}
}

func TestDecodeOneSegmentAllocatesOnce(t *testing.T) {
	b, ok := EncodeGSM7(strings.Repeat("Jalan € rusak ", 10))
	if !ok || len(b) != 150 {
		t.Fatalf("setup: %d septets, ok %v", len(b), ok)
	}
	if n := testing.AllocsPerRun(100, func() { Decode(b, GSM7) }); n > 1 {
		t.Errorf("Decode of one GSM 7 segment allocates %v times, want ≤ 1", n)
	}
}

func BenchmarkDecodeGSM7(b *testing.B) {
	s := strings.Repeat("Lapor: jalan rusak di Jl. Merdeka No.17, mohon {segera} diperbaiki! ", 3)[:156]
	enc, ok := EncodeGSM7(s)
	if !ok || len(enc) != 160 {
		b.Fatalf("setup: %d septets, ok %v", len(enc), ok)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		Decode(enc, GSM7)
	}
}

func BenchmarkDecodeUCS2(b *testing.B) {
	enc := EncodeUCS2(strings.Repeat("Jalan rusak 😀 ", 5))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		Decode(enc, UCS2)
	}
}

// Data coding 3 is ISO-8859-1 exactly, byte for byte, as x/text's charmap
// has it (Windows-1252 would put € at 0x80).
func TestLatin1IsISO88591(t *testing.T) {
	all := make([]byte, 0, 255)
	for c := 1; c < 256; c++ {
		all = append(all, byte(c))
	}
	want, err := charmap.ISO8859_1.NewDecoder().Bytes(all)
	if err != nil {
		t.Fatal(err)
	}
	if got := Decode(all, Latin1); got.Text != string(want) || got.Invalid != 0 {
		t.Errorf("Decode(Latin1) differs from ISO-8859-1:\ngot  %q\nwant %q", got.Text, want)
	}
}

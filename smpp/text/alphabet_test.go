package text

import "testing"

func TestAlphabetStringParses(t *testing.T) {
	for a := GSM7; a <= Unknown; a++ {
		got, err := ParseAlphabet(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAlphabet(%q) = %v, %v; want %v", a.String(), got, err, a)
		}
	}
	want := []string{"gsm7", "ascii", "latin1", "ucs2", "binary", "unknown"}
	for i, name := range want {
		if got := Alphabet(i + 1).String(); got != name {
			t.Errorf("Alphabet(%d).String() = %q, want %q", i+1, got, name)
		}
	}
	if got := Alphabet(0).String(); got != "Alphabet(0)" {
		t.Errorf("Alphabet(0).String() = %q", got)
	}
}

func TestParseAlphabetRejectsUnknownNames(t *testing.T) {
	for _, s := range []string{"", "GSM7", "utf8", "latin-1", "Alphabet(0)"} {
		if a, err := ParseAlphabet(s); err == nil {
			t.Errorf("ParseAlphabet(%q) = %v, want an error", s, a)
		}
	}
}

func TestAlphabetForEveryDataCoding(t *testing.T) {
	// Every data_coding from 0x00 to 0xFF is in exactly one range.
	ranges := []struct {
		lo, hi byte
		want   Alphabet
		why    string
	}{
		{0x01, 0x01, ASCII, "SMPP IA5"},
		{0x02, 0x02, Binary, "SMPP octet unspecified"},
		{0x03, 0x03, Latin1, "SMPP ISO-8859-1"},
		{0x04, 0x04, Binary, "SMPP octet unspecified"},
		{0x05, 0x07, Unknown, "SMPP JIS, Cyrillic, Hebrew"},
		{0x08, 0x08, UCS2, "SMPP UCS2"},
		{0x09, 0x0F, Unknown, "SMPP pictogram, ISO-2022-JP, reserved, Kanji, KS C 5601"},
		{0x10, 0x13, GSM7, "general group with class, GSM 7"},
		{0x14, 0x17, Binary, "general group with class, 8-bit"},
		{0x18, 0x1B, UCS2, "general group with class, UCS2"},
		{0x1C, 0x1F, Unknown, "general group, reserved alphabet"},
		{0x20, 0x3F, Unknown, "general group, compressed"},
		{0x40, 0x43, GSM7, "automatic deletion, GSM 7"},
		{0x44, 0x47, Binary, "automatic deletion, 8-bit"},
		{0x48, 0x4B, UCS2, "automatic deletion, UCS2"},
		{0x4C, 0x4F, Unknown, "automatic deletion, reserved alphabet"},
		{0x50, 0x53, GSM7, "automatic deletion with class, GSM 7"},
		{0x54, 0x57, Binary, "automatic deletion with class, 8-bit"},
		{0x58, 0x5B, UCS2, "automatic deletion with class, UCS2"},
		{0x5C, 0x5F, Unknown, "automatic deletion with class, reserved alphabet"},
		{0x60, 0x7F, Unknown, "automatic deletion, compressed"},
		{0x80, 0xBF, Unknown, "reserved coding groups"},
		{0xC0, 0xCF, GSM7, "message waiting, discard"},
		{0xD0, 0xDF, GSM7, "message waiting, store, GSM 7"},
		{0xE0, 0xEF, UCS2, "message waiting, store, UCS2"},
		{0xF0, 0xF3, GSM7, "data coding/message class, GSM 7"},
		{0xF4, 0xF7, Binary, "data coding/message class, 8-bit"},
		{0xF8, 0xFF, Unknown, "data coding/message class, reserved bit 3"},
	}
	var covered [256]int
	for _, r := range ranges {
		for dc := int(r.lo); dc <= int(r.hi); dc++ {
			covered[dc]++
			for _, def := range []Alphabet{GSM7, Latin1} {
				if got := AlphabetFor(byte(dc), def); got != r.want {
					t.Errorf("AlphabetFor(0x%02X, %v) = %v, want %v (%s)", dc, def, got, r.want, r.why)
				}
			}
		}
	}
	for dc, n := range covered[1:] {
		if n != 1 {
			t.Fatalf("test table covers data_coding 0x%02X %d times", dc+1, n)
		}
	}
}

func TestAlphabetForDefaultIsTheOperatorsChoice(t *testing.T) {
	tests := []struct {
		def, want Alphabet
	}{
		{GSM7, GSM7},
		{ASCII, ASCII},
		{Latin1, Latin1},
		{UCS2, UCS2},
		{Binary, Binary},
		{Unknown, Unknown},
		{0, GSM7},  // unset config
		{42, GSM7}, // not an alphabet
	}
	for _, tt := range tests {
		if got := AlphabetFor(0x00, tt.def); got != tt.want {
			t.Errorf("AlphabetFor(0x00, %v) = %v, want %v", tt.def, got, tt.want)
		}
	}
}

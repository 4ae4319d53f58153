package text

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// parts returns the data length of each segment, in units (septets or
// UTF-16 units).
func partUnits(e Encoded) []int {
	size := 1
	if e.Alphabet == UCS2 {
		size = 2
	}
	var n []int
	for _, s := range e.Segments {
		n = append(n, len(s.Data)/size)
	}
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEncodeSizes(t *testing.T) {
	const (
		euro  = "€" // GSM extension: two septets
		amacr = "ā" // not GSM: forces UCS2
		emoji = "😀" // two UTF-16 units
	)
	rep := strings.Repeat
	tests := []struct {
		name  string
		s     string
		ref16 bool
		a     Alphabet
		units []int
	}{
		{"empty", "", false, GSM7, []int{0}},
		{"gsm7 160 fits one", rep("a", 160), false, GSM7, []int{160}},
		{"gsm7 escapes count two in one", rep("a", 158) + euro, false, GSM7, []int{160}},
		{"gsm7 161 splits 153+8", rep("a", 161), false, GSM7, []int{153, 8}},
		{"gsm7 escape pushes 159 over", rep("a", 159) + euro, false, GSM7, []int{153, 8}},
		{"gsm7 306 is exactly two", rep("a", 306), false, GSM7, []int{153, 153}},
		{"gsm7 307 is three", rep("a", 307), false, GSM7, []int{153, 153, 1}},
		{"gsm7 ref16 304 is exactly two", rep("a", 304), true, GSM7, []int{152, 152}},
		{"gsm7 ref16 305 is three", rep("a", 305), true, GSM7, []int{152, 152, 1}},
		{"gsm7 escape pair on the boundary moves to the next part", rep("a", 152) + euro + rep("b", 10), false, GSM7, []int{152, 12}},
		{"gsm7 escape pair ending on the boundary stays", rep("a", 151) + euro + rep("b", 10), false, GSM7, []int{153, 10}},
		{"gsm7 ref16 escape pair on the boundary moves", rep("a", 151) + euro + rep("b", 10), true, GSM7, []int{151, 12}},
		{"gsm7 all escapes", rep(euro, 81), false, GSM7, []int{152, 10}},
		{"ucs2 70 fits one", rep(amacr, 70), false, UCS2, []int{70}},
		{"ucs2 emoji count two in one", amacr + rep("x", 67) + emoji, false, UCS2, []int{70}},
		{"ucs2 71 splits 67+4", rep(amacr, 71), false, UCS2, []int{67, 4}},
		{"ucs2 134 is exactly two", rep(amacr, 134), false, UCS2, []int{67, 67}},
		{"ucs2 135 is three", rep(amacr, 135), false, UCS2, []int{67, 67, 1}},
		{"ucs2 ref16 132 is exactly two", rep(amacr, 132), true, UCS2, []int{66, 66}},
		{"ucs2 ref16 133 is three", rep(amacr, 133), true, UCS2, []int{66, 66, 1}},
		{"ucs2 surrogate pair on the boundary moves to the next part", amacr + rep("x", 65) + emoji + rep("y", 4), false, UCS2, []int{66, 6}},
		{"ucs2 surrogate pair ending on the boundary stays", amacr + rep("x", 64) + emoji + rep("y", 4), false, UCS2, []int{67, 4}},
		{"ucs2 ref16 surrogate pair on the boundary moves", amacr + rep("x", 64) + emoji + rep("y", 4), true, UCS2, []int{65, 6}},
		{"ucs2 all emoji", rep(emoji, 36), false, UCS2, []int{66, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Encode(tt.s, 0x1234, tt.ref16)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if e.Alphabet != tt.a {
				t.Errorf("alphabet = %v, want %v", e.Alphabet, tt.a)
			}
			wantDC := byte(0x00)
			if tt.a == UCS2 {
				wantDC = 0x08
			}
			if e.DataCoding != wantDC {
				t.Errorf("data_coding = 0x%02X, want 0x%02X", e.DataCoding, wantDC)
			}
			if got := partUnits(e); !equalInts(got, tt.units) {
				t.Errorf("part sizes = %v, want %v", got, tt.units)
			}
			checkSegments(t, tt.s, e, 0x1234, tt.ref16)
		})
	}
}

// checkSegments asserts what must hold of every encoding: UDH iff more than
// one part, the UDH carries ref/total/seq, each part decodes cleanly on its
// own (no pair is split), and the joined parts decode to the text.
func checkSegments(t *testing.T, s string, e Encoded, ref uint16, ref16 bool) {
	t.Helper()
	total := len(e.Segments)
	var joined []byte
	for i, seg := range e.Segments {
		if total == 1 {
			if seg.UDH != nil {
				t.Errorf("single segment has UDH % X", seg.UDH)
			}
		} else {
			want := []byte{5, 0x00, 3, byte(ref), byte(total), byte(i + 1)}
			if ref16 {
				want = []byte{6, 0x08, 4, byte(ref >> 8), byte(ref), byte(total), byte(i + 1)}
			}
			if !bytes.Equal(seg.UDH, want) {
				t.Errorf("part %d UDH = % X, want % X", i+1, seg.UDH, want)
			}
			c, ok, err := ParseConcat(seg.UDH)
			wantRef, bits := ref&0xFF, uint8(8)
			if ref16 {
				wantRef, bits = ref, 16
			}
			if err != nil || !ok || c != (Concat{Ref: wantRef, Total: uint8(total), Seq: uint8(i + 1), RefBits: bits}) {
				t.Errorf("part %d ParseConcat = %+v, %v, %v", i+1, c, ok, err)
			}
		}
		if d := Decode(seg.Data, e.Alphabet); d.Invalid != 0 {
			t.Errorf("part %d alone has %d invalid units: a pair was split", i+1, d.Invalid)
		}
		joined = append(joined, seg.Data...)
	}
	want, _ := Sanitize(s)
	if d := Decode(joined, e.Alphabet); d.Text != want || d.Invalid != 0 {
		t.Errorf("joined parts decode to %q (invalid %d), want %q", d.Text, d.Invalid, want)
	}
}

func TestEncodeRoundTripsText(t *testing.T) {
	for _, s := range []string{
		"Laporan Anda diterima. No tiket: 1234567890. Balas INFO 1234567890 untuk status.",
		"Harga {naik} 50€ [lagi] ~ ^ | \\ \f @£$¥ èéùìò Ç Øø Åå ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¤¡¿ ÄÖÑÜ§ äöñüà",
		strings.Repeat("Jalan rusak parah di km 17, mohon {segera} diperbaiki! ", 9),
		strings.Repeat("Banjir 😀 di Jakarta — ", 20),
		"a\x00b\xffc",
	} {
		for _, ref16 := range []bool{false, true} {
			e, err := Encode(s, 0xBEEF, ref16)
			if err != nil {
				t.Fatalf("Encode(%q): %v", s, err)
			}
			checkSegments(t, s, e, 0xBEEF, ref16)
		}
	}
}

func TestEncodeTooLong(t *testing.T) {
	tests := []struct {
		name  string
		s     string
		ref16 bool
		parts int // 0: ErrTooLong
	}{
		{"gsm7 255 parts", strings.Repeat("a", 255*153), false, 255},
		{"gsm7 256 parts", strings.Repeat("a", 255*153+1), false, 0},
		{"gsm7 ref16 255 parts", strings.Repeat("a", 255*152), true, 255},
		{"gsm7 ref16 256 parts", strings.Repeat("a", 255*152+1), true, 0},
		// Fits by septet count, but escapes never split make each part 152.
		{"gsm7 escapes push past 255", strings.Repeat("€", 19400), false, 0},
		{"ucs2 255 parts", strings.Repeat("ā", 255*67), false, 255},
		{"ucs2 256 parts", strings.Repeat("ā", 255*67+1), false, 0},
		{"ucs2 emoji push past 255", strings.Repeat("😀", 8500), false, 0},
		{"huge", strings.Repeat("a", 1<<20), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Encode(tt.s, 1, tt.ref16)
			if tt.parts == 0 {
				if !errors.Is(err, ErrTooLong) {
					t.Fatalf("Encode error = %v, want ErrTooLong (%d parts)", err, len(e.Segments))
				}
				return
			}
			if err != nil || len(e.Segments) != tt.parts {
				t.Fatalf("Encode = %d parts, %v; want %d", len(e.Segments), err, tt.parts)
			}
			last := e.Segments[len(e.Segments)-1].UDH
			if last[len(last)-2] != 255 || last[len(last)-1] != 255 {
				t.Errorf("last UDH = % X, want total and seq 255", last)
			}
		})
	}
}

func TestSegmentShortMessage(t *testing.T) {
	e, err := Encode(strings.Repeat("a", 200), 7, false)
	if err != nil {
		t.Fatal(err)
	}
	sm := e.Segments[1].ShortMessage()
	want := append([]byte{5, 0, 3, 7, 2, 2}, bytes.Repeat([]byte{'a'}, 47)...)
	if !bytes.Equal(sm, want) {
		t.Errorf("ShortMessage = % X, want % X", sm, want)
	}
	udh, data, err := SplitUDH(sm)
	if err != nil || !bytes.Equal(udh, e.Segments[1].UDH) || !bytes.Equal(data, e.Segments[1].Data) {
		t.Errorf("SplitUDH(ShortMessage) = % X, % X, %v", udh, data, err)
	}

	one, _ := Encode("Halo", 7, false)
	if got := one.Segments[0].ShortMessage(); string(got) != "Halo" {
		t.Errorf("single ShortMessage = % X", got)
	}
}

func TestSegmentsDoNotShareCapacity(t *testing.T) {
	e, err := Encode(strings.Repeat("a", 200), 7, false)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(e.Segments[0].Data, 'X')
	_ = append(e.Segments[0].UDH, 'X')
	if e.Segments[1].Data[0] != 'a' || e.Segments[1].UDH[0] != 5 {
		t.Errorf("appending to part 1 overwrote part 2: % X | % X", e.Segments[1].UDH, e.Segments[1].Data)
	}
}

func TestFits(t *testing.T) {
	rep := strings.Repeat
	tests := []struct {
		name         string
		s            string
		units, limit int
		ok           bool
	}{
		{"160 gsm", rep("a", 160), 160, 160, true},
		{"161 gsm", rep("a", 161), 161, 160, false},
		{"80 gsm and 40 escapes", rep("a", 80) + rep("€", 40), 160, 160, true},
		{"80 gsm and 41 escapes", rep("a", 80) + rep("{", 41), 162, 160, false},
		{"70 non-gsm", rep("ā", 70), 70, 70, true},
		{"71 non-gsm", rep("ā", 71), 71, 70, false},
		{"one non-gsm char makes all ucs2", rep("a", 69) + "ā", 70, 70, true},
		{"emoji count two", rep("😀", 35), 70, 70, true},
		{"emoji over", rep("😀", 35) + "a", 71, 70, false},
		{"empty", "", 0, 160, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, limit, ok := Fits(tt.s)
			if units != tt.units || limit != tt.limit || ok != tt.ok {
				t.Errorf("Fits = %d, %d, %v; want %d, %d, %v", units, limit, ok, tt.units, tt.limit, tt.ok)
			}
			// Fits must agree with what Encode does.
			e, err := Encode(tt.s, 1, false)
			if err != nil {
				t.Fatal(err)
			}
			if one := len(e.Segments) == 1; one != ok {
				t.Errorf("Fits says %v, Encode gives %d segments", ok, len(e.Segments))
			}
		})
	}
}

func BenchmarkEncodeGSM7Long(b *testing.B) {
	s := strings.Repeat("Jalan rusak parah di km 17, mohon {segera} diperbaiki! ", 8)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(s, 42, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeUCS2Long(b *testing.B) {
	s := strings.Repeat("Banjir 😀 di Jakarta — ", 12)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(s, 42, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeReply(b *testing.B) {
	s := "Laporan Anda diterima. No tiket: 1234567890. Balas INFO 1234567890 untuk status."
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(s, 0, false); err != nil {
			b.Fatal(err)
		}
	}
}

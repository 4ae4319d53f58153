package text

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitUDH(t *testing.T) {
	tests := []struct {
		name      string
		sm        string
		udh, data string
		err       error
	}{
		{"8-bit concatenation", "05 00 03 A7 02 01  0048 0069", "05 00 03 A7 02 01", "0048 0069", nil},
		{"16-bit concatenation", "06 08 04 12 34 03 02  48 69", "06 08 04 12 34 03 02", "48 69", nil},
		{"port addressing then concatenation", "0B 05 04 0B 84 23 F0 00 03 01 02 01  41", "0B 05 04 0B 84 23 F0 00 03 01 02 01", "41", nil},
		{"empty header", "00 41 42", "00", "41 42", nil},
		{"header and no data", "05 00 03 01 01 01", "05 00 03 01 01 01", "", nil},
		{"empty short_message", "", "", "", ErrUDH},
		{"header longer than message", "05 00 03 01 02", "", "", ErrUDH},
		{"header length 0xFF on short message", "FF 00 03 01 02 01", "", "", ErrUDH},
		{"element runs past header", "03 00 03 01  02 01 41", "", "", ErrUDH},
		{"element header truncated", "01 00  41", "", "", ErrUDH},
		{"second element truncated", "06 00 03 01 02 01 08  41", "", "", ErrUDH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := unhex(t, tt.sm)
			udh, data, err := SplitUDH(sm)
			if !errors.Is(err, tt.err) {
				t.Fatalf("SplitUDH error = %v, want %v\n%s", err, tt.err, hex.Dump(sm))
			}
			if err != nil {
				if udh != nil || data != nil {
					t.Errorf("SplitUDH returned % X, % X with error", udh, data)
				}
				return
			}
			if !bytes.Equal(udh, unhex(t, tt.udh)) || !bytes.Equal(data, unhex(t, tt.data)) {
				t.Errorf("SplitUDH = % X | % X; want %s | %s", udh, data, tt.udh, tt.data)
			}
		})
	}
}

func TestSplitUDHErrorsSayWhere(t *testing.T) {
	_, _, err := SplitUDH(unhex(t, "06 00 03 01 02 01 08 41"))
	const want = "text: udh: information element at offset 6 truncated: text: malformed udh"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestParseConcat(t *testing.T) {
	tests := []struct {
		name string
		udh  string
		want Concat
		ok   bool
		err  error
	}{
		{"8-bit reference", "05 00 03 A7 03 02", Concat{Ref: 0xA7, Total: 3, Seq: 2, RefBits: 8}, true, nil},
		{"16-bit reference", "06 08 04 12 34 03 03", Concat{Ref: 0x1234, Total: 3, Seq: 3, RefBits: 16}, true, nil},
		{"after another element", "0B 05 04 0B 84 23 F0 00 03 01 02 01", Concat{Ref: 1, Total: 2, Seq: 1, RefBits: 8}, true, nil},
		{"last concatenation element wins", "0B 00 03 01 02 01 08 04 00 09 05 04", Concat{Ref: 9, Total: 5, Seq: 4, RefBits: 16}, true, nil},
		{"single part", "05 00 03 07 01 01", Concat{Ref: 7, Total: 1, Seq: 1, RefBits: 8}, true, nil},
		{"no concatenation element", "04 05 02 0B 84", Concat{}, false, nil},
		{"empty header", "00", Concat{}, false, nil},
		{"total 0", "05 00 03 01 00 00", Concat{}, false, ErrConcat},
		{"seq 0", "05 00 03 01 02 00", Concat{}, false, ErrConcat},
		{"seq above total", "06 08 04 00 01 02 03", Concat{}, false, ErrConcat},
		{"8-bit element too short", "04 00 02 01 02", Concat{}, false, ErrConcat},
		{"16-bit element too long", "07 08 05 00 01 02 01 00", Concat{}, false, ErrConcat},
		{"malformed header", "05 00 03 01", Concat{}, false, ErrUDH},
		{"nil", "", Concat{}, false, ErrUDH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok, err := ParseConcat(unhex(t, tt.udh))
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseConcat(%s) error = %v, want %v", tt.udh, err, tt.err)
			}
			if ok != tt.ok {
				t.Errorf("ParseConcat(%s) ok = %v, want %v", tt.udh, ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, c); diff != "" {
				t.Errorf("ParseConcat(%s) mismatch (-want +got):\n%s", tt.udh, diff)
			}
		})
	}
}

func TestParseSAR(t *testing.T) {
	tests := []struct {
		name            string
		ref, total, seq string
		want            Concat
		err             error
	}{
		{"valid", "01 2C", "03", "01", Concat{Ref: 300, Total: 3, Seq: 1, RefBits: 16}, nil},
		{"last part", "00 07", "02", "02", Concat{Ref: 7, Total: 2, Seq: 2, RefBits: 16}, nil},
		{"one-octet ref", "07", "02", "01", Concat{}, ErrConcat},
		{"missing ref", "", "02", "01", Concat{}, ErrConcat},
		{"two-octet total", "00 07", "00 02", "01", Concat{}, ErrConcat},
		{"missing seq", "00 07", "02", "", Concat{}, ErrConcat},
		{"total 0", "00 07", "00", "00", Concat{}, ErrConcat},
		{"seq 0", "00 07", "02", "00", Concat{}, ErrConcat},
		{"seq above total", "00 07", "02", "03", Concat{}, ErrConcat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSAR(unhex(t, tt.ref), unhex(t, tt.total), unhex(t, tt.seq))
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseSAR error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSAR mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

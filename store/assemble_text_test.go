package store_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
	"github.com/sp4n-lapor/sms1708/store"
)

func gsm(t testing.TB, s string) []byte {
	t.Helper()
	b, ok := text.EncodeGSM7(s)
	if !ok {
		t.Fatalf("%q is not GSM-7", s)
	}
	return b
}

func TestAssembleText(t *testing.T) {
	g := func(seq uint8, s string) store.AssemblyPart {
		return store.AssemblyPart{Seq: seq, Alphabet: text.GSM7, UserData: gsm(t, s)}
	}
	for _, c := range []struct {
		name        string
		total       uint8
		parts       []store.AssemblyPart
		want        string
		wantMissing []uint8
	}{
		{"complete, any order", 3, []store.AssemblyPart{g(3, "ghi"), g(1, "abc"), g(2, "def")}, "abcdefghi", nil},
		{"middle missing", 3, []store.AssemblyPart{g(1, "abc"), g(3, "ghi")},
			"abc […bagian 2 dari 3 tidak diterima…] ghi", []uint8{2}},
		{"first missing", 2, []store.AssemblyPart{g(2, "def")},
			"[…bagian 1 dari 2 tidak diterima…] def", []uint8{1}},
		{"last two missing: one marker for the run", 4, []store.AssemblyPart{g(1, "abc"), g(2, "def")},
			"abcdef […bagian 3–4 dari 4 tidak diterima…]", []uint8{3, 4}},
		{"two gaps", 5, []store.AssemblyPart{g(2, "b"), g(4, "d")},
			"[…bagian 1 dari 5 tidak diterima…] b […bagian 3 dari 5 tidak diterima…] d […bagian 5 dari 5 tidak diterima…]", []uint8{1, 3, 5}},
		{"nothing received", 2, nil, "[…bagian 1–2 dari 2 tidak diterima…]", []uint8{1, 2}},
		{"first of a seq wins; out-of-range seqs ignored", 2,
			[]store.AssemblyPart{g(1, "abc"), g(1, "xyz"), g(0, "zero"), g(3, "three"), g(2, "def")}, "abcdef", nil},
		{"an escape split from its character", 2,
			[]store.AssemblyPart{{Seq: 1, Alphabet: text.GSM7, UserData: []byte{'a', 0x1B}}, {Seq: 2, Alphabet: text.GSM7, UserData: []byte{0x65, 'b'}}},
			"a€b", nil},
		{"a surrogate pair split across parts", 2,
			[]store.AssemblyPart{{Seq: 2, Alphabet: text.UCS2, UserData: []byte{0xDE, 0x2D, 0, '!'}}, {Seq: 1, Alphabet: text.UCS2, UserData: []byte{0, 'o', 0xD8, 0x3D}}},
			"o😭!", nil},
		{"a surrogate half next to a gap stays visible", 3,
			[]store.AssemblyPart{{Seq: 1, Alphabet: text.UCS2, UserData: []byte{0, 'o', 0xD8, 0x3D}}, {Seq: 3, Alphabet: text.UCS2, UserData: []byte{0, '!'}}},
			"o\uFFFD […bagian 2 dari 3 tidak diterima…] !", []uint8{2}},
		{"total 0", 0, []store.AssemblyPart{g(1, "abc")}, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, missing := store.AssembleText(c.total, c.parts)
			if got != c.want {
				t.Errorf("text:\n got %q\nwant %q", got, c.want)
			}
			if diff := cmp.Diff(c.wantMissing, missing); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzAssembleText: any parts, any order, any bytes: no panic, the same
// answer twice, valid UTF-8 without NUL, a marker exactly where parts are
// missing, and — when every part is there in one alphabet — the text of the
// joined bytes decoded once.
func FuzzAssembleText(f *testing.F) {
	f.Add(uint8(3), uint8(text.GSM7), gsm(f, "Jalan rusak di depan pasar {€}"), []byte{5, 12}, []byte{2, 0, 1})
	f.Add(uint8(2), uint8(text.UCS2), text.EncodeUCS2("Banjir 😭 lagi"), []byte{7}, []byte{1, 0})
	f.Add(uint8(4), uint8(text.GSM7), []byte{0x1B, 0x1B, 0x65, 0x1B}, []byte{1, 1, 1}, []byte{3, 3, 0})
	f.Add(uint8(255), uint8(text.Latin1), []byte("é\x00x"), []byte{}, []byte{254})
	f.Add(uint8(0), uint8(0), []byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, total, alph uint8, data, cuts, seqs []byte) {
		a := text.Alphabet(alph % 8)
		// Cut data into pieces; piece i gets seq seqs[i] (or i+1).
		var parts []store.AssemblyPart
		rest := data
		for i := 0; len(rest) > 0 || i < len(cuts); i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(int(cuts[i]), len(rest))
			}
			seq := uint8(i + 1)
			if i < len(seqs) {
				seq = seqs[i]
			}
			parts = append(parts, store.AssemblyPart{Seq: seq, Alphabet: a, UserData: rest[:n]})
			rest = rest[n:]
			if i > 300 {
				break
			}
		}
		got, missing := store.AssembleText(total, parts)
		again, missing2 := store.AssembleText(total, slices.Clone(parts))
		if got != again || !slices.Equal(missing, missing2) {
			t.Fatalf("not deterministic: %q %v / %q %v", got, missing, again, missing2)
		}
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("invalid text %q", got)
		}
		present := map[uint8]bool{}
		for _, p := range parts {
			if p.Seq >= 1 && p.Seq <= total {
				present[p.Seq] = true
			}
		}
		if len(missing) != int(total)-len(present) {
			t.Fatalf("missing %v, but %d of %d present", missing, len(present), total)
		}
		for i, m := range missing {
			if present[m] || m == 0 || m > total || (i > 0 && missing[i-1] >= m) {
				t.Fatalf("missing %v is wrong", missing)
			}
		}
		// (The converse need not hold: a citizen may type the words.)
		if len(missing) > 0 && !strings.Contains(got, "tidak diterima…]") {
			t.Fatalf("parts %v missing but no marker in %q", missing, got)
		}
		if len(missing) == 0 && total > 0 {
			var joined []byte
			first := map[uint8]bool{}
			ordered := make([][]byte, int(total)+1)
			for _, p := range parts {
				if p.Seq >= 1 && p.Seq <= total && !first[p.Seq] {
					first[p.Seq] = true
					ordered[p.Seq] = p.UserData
				}
			}
			joined = bytes.Join(ordered[1:], nil)
			if want := text.Decode(joined, a).Text; got != want {
				t.Fatalf("complete text %q, want %q", got, want)
			}
		}
	})
}

package parser

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// fuzzSeeds are real shapes of 1708 texts: commands, keywords, flags,
// tickets, courtesy, SMS spelling and garbage.
var fuzzSeeds = []string{
	"", " ", "STOP", "stopp", "Stop pungli di pasar", "BERHENTI", "MULAI", "Bantuan!!", "info ?", "HELP",
	"CEK 9413834240", "cek#9413834240", "CEK 941 383 4240", "STATUS 94-1383-4240", "STAUS 9413834240",
	"CEK #1916449", "CEK 9413834241", "TAMBAH 9413834240 lampu masih mati", "TAMBAL jalan berlubang",
	"TAMBAH 1.500.000 pungutan", "cek 081234567890 penipu", "9413834240",
	"ANONIM jalan rusak", "rahasia anonim pungli", "jalan rusak #anonim di desa",
	"TANGKAB jalan rusak", "tangkab#jalan rusak", "TANGKAB<spasi>jalan rusak", "KAB. NGANJUK jalan rusak",
	"KAB.NGANJUK#jalan rusak", "halobupati jln rusak", "Kumham Jatim lapas penuh",
	"terima kasih", "makasih banyak pak", "ok", "👍", "terima kasih, tapi jalan masih rusak",
	"Jln RUSAKKKK dgn lubang yg besar!!!", "anak2 tdk sekolah", "ｊａｌａｎ", "Café", "\xff\xfe", "#", "<spasi>",
	"KPS 35p3 !KPS raskin blm diterima", "Jalan rusak, sudah lapor #1916449 belum ditanggapi",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	p := testParser(f)
	f.Fuzz(func(t *testing.T, in string) {
		got := p.Parse(in)
		if again := p.Parse(in); again != got {
			t.Fatalf("Parse(%q) not deterministic: %+v then %+v", in, got, again)
		}
		checkCommand(t, in, got)
	})
}

// checkCommand asserts what must hold of any parse.
func checkCommand(t *testing.T, in string, c Command) {
	t.Helper()
	if c.Kind < Complaint || c.Kind > Empty {
		t.Fatalf("Parse(%q): Kind %v", in, c.Kind)
	}
	if c.Ticket != "" && !ValidTicket(c.Ticket) {
		t.Fatalf("Parse(%q): Ticket %q is not valid", in, c.Ticket)
	}
	if (c.Ticket != "" || c.TicketErr != nil) && c.Kind != Status && c.Kind != Append {
		t.Fatalf("Parse(%q): Ticket %q / %v on a %v", in, c.Ticket, c.TicketErr, c.Kind)
	}
	if c.Ticket != "" && c.TicketErr != nil {
		t.Fatalf("Parse(%q): both Ticket and TicketErr", in)
	}
	if (c.Kind == Complaint || c.Kind == Courtesy) && c.Text == "" {
		t.Fatalf("Parse(%q): %v with no text", in, c.Kind)
	}
	if !utf8.ValidString(c.Text) || len(c.Text) > MaxInput || strings.TrimSpace(c.Text) != c.Text {
		t.Fatalf("Parse(%q): Text %q is not trimmed valid UTF-8 within MaxInput", in, c.Text)
	}
	n := c.Normalized
	if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
		t.Fatalf("Parse(%q): Normalized %q has stray spaces", in, n)
	}
	for _, r := range n {
		if unicode.IsUpper(r) || (r != ' ' && !unicode.IsLetter(r) && !unicode.IsDigit(r)) {
			t.Fatalf("Parse(%q): Normalized %q holds %q", in, n, r)
		}
	}
}

// TestParseIsBounded feeds 1 MiB of the inputs most likely to make a
// parser slow: long runs of one character, endless separators, flags and
// digits.
func TestParseIsBounded(t *testing.T) {
	p := testParser(t)
	const size = 1 << 20
	inputs := map[string]string{
		"letters":          strings.Repeat("a", size),
		"hashes":           strings.Repeat("#", size),
		"digits in groups": strings.Repeat("1 ", size/2),
		"flags":            strings.Repeat("anonim ", size/7),
		"hash flags":       strings.Repeat("#anonim ", size/8),
		"spasi":            "TANGKAB" + strings.Repeat("<spasi>", size/7),
		"ticket command":   "CEK " + strings.Repeat("no ", size/3),
		"courtesy":         strings.Repeat("terima kasih ", size/13),
		"emoji":            strings.Repeat("😀", size/4),
		"accents":          strings.Repeat("é", size/2),
		"combining marks":  "a" + strings.Repeat("\u0301", size/2),
		"invalid":          strings.Repeat("\xff", size),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			c := p.Parse(in)
			if d := time.Since(start); d > time.Second {
				t.Errorf("Parse of 1 MiB took %v", d)
			}
			checkCommand(t, name, c)
		})
	}
}

// complaint140 is a typical complaint: 140 characters of SMS spelling.
const complaint140 = "TANGKAB jln di ds sukamaju kec. ciawi rusakkk parah sdh 3 bln, bnyk lubang yg bikin motor jatuh. tlg segera diperbaiki pak, mksh. #anonim"

func BenchmarkParse(b *testing.B) {
	p := testParser(b)
	b.SetBytes(int64(len(complaint140)))
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Parse(complaint140)
	}
}

func BenchmarkParseStatus(b *testing.B) {
	p := testParser(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Parse("CEK 941 383 4240")
	}
}

func BenchmarkNormalize(b *testing.B) {
	p := testParser(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Normalize(complaint140)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	p := testParser(f)
	f.Fuzz(func(t *testing.T, in string) {
		n := p.Normalize(in)
		if again := p.Normalize(n); again != n {
			t.Fatalf("Normalize(%q) = %q, but Normalize of that is %q", in, n, again)
		}
		checkCommand(t, in, Command{Kind: Complaint, Text: "x", Normalized: n})
	})
}

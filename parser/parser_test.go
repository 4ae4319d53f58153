package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A ticket drawn by router.NewTicketNumber, and the same with its last
// digit wrong and with two neighbours swapped.
const (
	goodTicket    = "9413834240"
	badCheck      = "9413834241"
	swappedTicket = "4913834240"
)

func testParser(t testing.TB) *Parser {
	t.Helper()
	p, err := New(Config{
		Keywords: []string{"TANGKAB", "BANJARBARU", "KAB. NGANJUK", "halobupati", "Kumham", "Kumham Jatim"},
		Slang:    DefaultSlang(),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestParse(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		name string
		in   string
		want Command
	}{
		// Complaints, including those that begin like a command.
		{"plain text is a complaint", "Jalan rusak parah di desa kami",
			Command{Kind: Complaint, Text: "Jalan rusak parah di desa kami"}},
		{"complaint is trimmed but keeps inner spacing", "  Lampu  jalan mati \n",
			Command{Kind: Complaint, Text: "Lampu  jalan mati"}},
		{"STOP followed by words is a complaint", "Stop pungli di pasar",
			Command{Kind: Complaint, Text: "Stop pungli di pasar"}},
		{"INFO followed by words is a complaint", "Info jalan rusak di desa",
			Command{Kind: Complaint, Text: "Info jalan rusak di desa"}},
		{"BANTUAN followed by words is a complaint", "Bantuan PKH tidak cair",
			Command{Kind: Complaint, Text: "Bantuan PKH tidak cair"}},
		{"MULAI followed by words is a complaint", "mulai kapan jalan diperbaiki?",
			Command{Kind: Complaint, Text: "mulai kapan jalan diperbaiki?"}},
		{"TAMBAL without a ticket is a complaint", "TAMBAL jalan berlubang di jl. sudirman",
			Command{Kind: Complaint, Text: "TAMBAL jalan berlubang di jl. sudirman"}},
		{"TAMBAH without a ticket is a complaint", "Tambah parah jalan di desa",
			Command{Kind: Complaint, Text: "Tambah parah jalan di desa"}},
		{"cek without a ticket is a complaint", "cek jalan rusak di kec. ciawi",
			Command{Kind: Complaint, Text: "cek jalan rusak di kec. ciawi"}},
		{"STATUS with a small count is a complaint", "Status 100 KK belum terima bantuan",
			Command{Kind: Complaint, Text: "Status 100 KK belum terima bantuan"}},
		{"TAMBAH with a quantity is a complaint", "Tambah 2 kg beras bansos hilang",
			Command{Kind: Complaint, Text: "Tambah 2 kg beras bansos hilang"}},
		{"TAMBAH with an amount is a complaint", "TAMBAH 1.500.000 pungutan sekolah",
			Command{Kind: Complaint, Text: "TAMBAH 1.500.000 pungutan sekolah"}},
		{"CEK with a date is a complaint", "cek 12-06-2024 jalan ambles lagi",
			Command{Kind: Complaint, Text: "cek 12-06-2024 jalan ambles lagi"}},
		{"CEK with a phone number is a complaint", "cek 081234567890 nomor penipu",
			Command{Kind: Complaint, Text: "cek 081234567890 nomor penipu"}},
		{"CEK with a 62 phone number is a complaint", "cek 6281234567890 nomor penipu",
			Command{Kind: Complaint, Text: "cek 6281234567890 nomor penipu"}},
		{"LAPOR id mid-text stays a complaint", "Jalan rusak, sudah lapor #1916449 belum ditanggapi",
			Command{Kind: Complaint, Text: "Jalan rusak, sudah lapor #1916449 belum ditanggapi"}},
		{"courtesy with content is a complaint", "terima kasih, tapi jalan masih rusak",
			Command{Kind: Complaint, Text: "terima kasih, tapi jalan masih rusak"}},
		{"command word glued to a word is a complaint", "cekjalan rusak",
			Command{Kind: Complaint, Text: "cekjalan rusak"}},
		{"ticket command with a non-filler word before the number is a complaint", "cek rumah 9413834240",
			Command{Kind: Complaint, Text: "cek rumah 9413834240"}},

		// Whole-text commands.
		{"STOP alone stops", "STOP", Command{Kind: Stop}},
		{"stop with punctuation stops", "Stop.", Command{Kind: Stop}},
		{"stopp with a repeated letter stops", "stopp", Command{Kind: Stop}},
		{"setop (one letter extra) stops", "setop", Command{Kind: Stop}},
		{"BERHENTI with space and bangs stops", "  berhenti!! ", Command{Kind: Stop}},
		{"BRHENTI (one letter missing) stops", "BRHENTI", Command{Kind: Stop}},
		{"MULAI alone starts", "MULAI", Command{Kind: Start}},
		{"mulaii starts", "mulaii", Command{Kind: Start}},
		{"Bantuan!! asks for help", "Bantuan!!", Command{Kind: Help}},
		{"info ? asks for help", "info ?", Command{Kind: Help}},
		{"HELP asks for help", "HELP", Command{Kind: Help}},
		{"INPO (one letter wrong) asks for help", "INPO", Command{Kind: Help}},
		{"BANTUN (one letter missing) asks for help", "BANTUN", Command{Kind: Help}},
		{"hepl (neighbours swapped) asks for help", "hepl", Command{Kind: Help}},
		{"help with an emoji asks for help", "bantuan 🙏", Command{Kind: Help}},

		// Ticket commands, each separator and typo.
		{"CEK ticket", "CEK " + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"cek#ticket", "cek#" + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"CEK glued to the ticket", "CEK" + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"CEK ticket with spaces", "CEK 941 383 4240", Command{Kind: Status, Ticket: goodTicket}},
		{"STATUS ticket with dashes", "STATUS 94-1383-4240", Command{Kind: Status, Ticket: goodTicket}},
		{"status ticket with dots", "status 941.383.4240", Command{Kind: Status, Ticket: goodTicket}},
		{"status with a colon and #", "Status: #9413834240", Command{Kind: Status, Ticket: goodTicket}},
		{"CEKK (repeated letter) is CEK", "CEKK " + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"STAUS (one letter missing) is STATUS", "STAUS " + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"STATSU (neighbours swapped) is STATUS", "STATSU " + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"Statuss is STATUS", "Statuss " + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"cek no. ticket", "cek no. " + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"cek tiket #ticket", "cek tiket #" + goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"cek ticket followed by a period", "cek " + goodTicket + ".", Command{Kind: Status, Ticket: goodTicket}},
		{"CEK ticket with more words keeps them", "CEK " + goodTicket + " kok belum ada tindak lanjut",
			Command{Kind: Status, Ticket: goodTicket, Text: "kok belum ada tindak lanjut"}},
		{"CEK wrong check digit", "CEK " + badCheck, Command{Kind: Status, TicketErr: ErrTicketCheck}},
		{"CEK swapped digits", "cek " + swappedTicket, Command{Kind: Status, TicketErr: ErrTicketCheck}},
		{"CEK LAPOR id", "CEK #1916449", Command{Kind: Status, TicketErr: ErrTicketShape}},
		{"CEK LAPOR id without #", "cek 1916449", Command{Kind: Status, TicketErr: ErrTicketShape}},
		{"CEK eight digits", "CEK 94138342", Command{Kind: Status, TicketErr: ErrTicketShape}},
		{"CEK eleven digits", "CEK 94138342401", Command{Kind: Status, TicketErr: ErrTicketShape}},
		{"CEK alone lacks a ticket", "CEK", Command{Kind: Status, TicketErr: ErrTicketMissing}},
		{"cek laporan saya lacks a ticket", "cek laporan saya?", Command{Kind: Status, TicketErr: ErrTicketMissing}},
		{"TAMBAH alone lacks a ticket", "TAMBAH", Command{Kind: Append, TicketErr: ErrTicketMissing}},
		{"TAMBAH ticket text", "TAMBAH " + goodTicket + " lampu sudah mati 3 hari",
			Command{Kind: Append, Ticket: goodTicket, Text: "lampu sudah mati 3 hari"}},
		{"tambah#ticket#text", "tambah#" + goodTicket + "#rumah saya no 5",
			Command{Kind: Append, Ticket: goodTicket, Text: "rumah saya no 5"}},
		{"TAMBAH ticket keeps a number in the text", "TAMBAH 941 383 4240 3 rumah lagi terdampak",
			Command{Kind: Append, Ticket: goodTicket, Text: "3 rumah lagi terdampak"}},
		{"TAMBHA (neighbours swapped) is TAMBAH", "TAMBHA " + goodTicket + ": fotonya menyusul",
			Command{Kind: Append, Ticket: goodTicket, Text: "fotonya menyusul"}},
		{"TAMBAL with a ticket is TAMBAH", "TAMBAL " + goodTicket + " sudah 2 minggu",
			Command{Kind: Append, Ticket: goodTicket, Text: "sudah 2 minggu"}},
		{"TAMBAH ticket without text", "TAMBAH " + goodTicket, Command{Kind: Append, Ticket: goodTicket}},
		{"TAMBAH wrong check digit keeps the text", "TAMBAH " + badCheck + " jalan ambles",
			Command{Kind: Append, TicketErr: ErrTicketCheck, Text: "jalan ambles"}},

		// A bare ticket number.
		{"bare valid ticket asks for status", goodTicket, Command{Kind: Status, Ticket: goodTicket}},
		{"bare valid ticket with # and spaces asks for status", "#941 383 4240", Command{Kind: Status, Ticket: goodTicket}},
		{"bare ticket with a wrong check digit is empty", badCheck, Command{Kind: Empty, Text: badCheck}},

		// Flags.
		{"ANONIM leading word", "ANONIM jalan rusak", Command{Kind: Complaint, Anonim: true, Text: "jalan rusak"}},
		{"rahasia and anonim in any order", "rahasia anonim pungli di kantor desa",
			Command{Kind: Complaint, Anonim: true, Rahasia: true, Text: "pungli di kantor desa"}},
		{"flags with punctuation", "Anonim, Rahasia: pungli di sekolah",
			Command{Kind: Complaint, Anonim: true, Rahasia: true, Text: "pungli di sekolah"}},
		{"#anonim mid-text", "jalan rusak #anonim di desa", Command{Kind: Complaint, Anonim: true, Text: "jalan rusak di desa"}},
		{"#RAHASIA at the end", "pungli di sekolah #RAHASIA", Command{Kind: Complaint, Rahasia: true, Text: "pungli di sekolah"}},
		{"#anonim at the start", "#anonim pungli", Command{Kind: Complaint, Anonim: true, Text: "pungli"}},
		{"ANONIM alone is empty", "ANONIM", Command{Kind: Empty, Anonim: true}},
		{"anonim before a command", "ANONIM BANTUAN", Command{Kind: Help, Anonim: true}},
		{"a longer hashtag is not a flag", "petugas #anonimitas bocor",
			Command{Kind: Complaint, Text: "petugas #anonimitas bocor"}},
		{"a longer leading word is not a flag", "Anonimnya tidak dijaga petugas",
			Command{Kind: Complaint, Text: "Anonimnya tidak dijaga petugas"}},

		// Agency keywords and their separators.
		{"keyword and space", "TANGKAB jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword and #", "tangkab#jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword and .", "TANGKAB.jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword and colon", "Tangkab: jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword and <spasi>", "TANGKAB<spasi>jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword and spaced <SPASI>", "TANGKAB <SPASI> jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword and (spasi)", "TANGKAB(spasi)jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"keyword after #", "#TANGKAB jalan rusak", Command{Kind: Complaint, Keyword: "TANGKAB", Text: "jalan rusak"}},
		{"two-word keyword as configured", "KAB. NGANJUK jalan rusak",
			Command{Kind: Complaint, Keyword: "KAB. NGANJUK", Text: "jalan rusak"}},
		{"two-word keyword with a dot and #", "KAB.NGANJUK#jalan rusak",
			Command{Kind: Complaint, Keyword: "KAB. NGANJUK", Text: "jalan rusak"}},
		{"two-word keyword in lowercase with a space", "kab nganjuk jalan rusak",
			Command{Kind: Complaint, Keyword: "KAB. NGANJUK", Text: "jalan rusak"}},
		{"two-word keyword with <spasi>", "KAB.<spasi>NGANJUK<spasi>jalan rusak",
			Command{Kind: Complaint, Keyword: "KAB. NGANJUK", Text: "jalan rusak"}},
		{"lowercase keyword in capitals", "HALOBUPATI jalan rusak",
			Command{Kind: Complaint, Keyword: "halobupati", Text: "jalan rusak"}},
		{"longest keyword wins", "Kumham Jatim lapas penuh",
			Command{Kind: Complaint, Keyword: "Kumham Jatim", Text: "lapas penuh"}},
		{"shorter keyword when the longer does not match", "kumham lapas penuh",
			Command{Kind: Complaint, Keyword: "Kumham", Text: "lapas penuh"}},
		{"keyword glued to a word is not a keyword", "TANGKABjalan rusak",
			Command{Kind: Complaint, Text: "TANGKABjalan rusak"}},
		{"keyword not at the start is not a keyword", "jalan rusak TANGKAB",
			Command{Kind: Complaint, Text: "jalan rusak TANGKAB"}},
		{"keyword alone is empty", "TANGKAB", Command{Kind: Empty, Keyword: "TANGKAB"}},
		{"keyword then flags", "TANGKAB ANONIM jalan rusak",
			Command{Kind: Complaint, Keyword: "TANGKAB", Anonim: true, Text: "jalan rusak"}},
		{"flags then keyword", "rahasia TANGKAB#jalan rusak",
			Command{Kind: Complaint, Keyword: "TANGKAB", Rahasia: true, Text: "jalan rusak"}},
		{"keyword then CEK", "TANGKAB CEK " + goodTicket, Command{Kind: Status, Keyword: "TANGKAB", Ticket: goodTicket}},
		{"keyword then BANTUAN", "TANGKAB BANTUAN", Command{Kind: Help, Keyword: "TANGKAB"}},

		// Courtesy.
		{"terima kasih is courtesy", "terima kasih", Command{Kind: Courtesy, Text: "terima kasih"}},
		{"terima kasih banyak pak is courtesy", "Terima kasih banyak pak!!", Command{Kind: Courtesy, Text: "Terima kasih banyak pak!!"}},
		{"makasih banyak ya min is courtesy", "makasih banyak ya min", Command{Kind: Courtesy, Text: "makasih banyak ya min"}},
		{"makasihhh is courtesy", "makasihhh", Command{Kind: Courtesy, Text: "makasihhh"}},
		{"ok is courtesy", "ok", Command{Kind: Courtesy, Text: "ok"}},
		{"OKE is courtesy", "OKE", Command{Kind: Courtesy, Text: "OKE"}},
		{"siap pak is courtesy", "Siap pak", Command{Kind: Courtesy, Text: "Siap pak"}},
		{"thx is courtesy", "thx", Command{Kind: Courtesy, Text: "thx"}},
		{"tq is courtesy", "tq", Command{Kind: Courtesy, Text: "tq"}},
		{"ok with thanks for the reply is courtesy", "ok terima kasih atas tanggapannya",
			Command{Kind: Courtesy, Text: "ok terima kasih atas tanggapannya"}},
		{"sama-sama is courtesy", "sama-sama", Command{Kind: Courtesy, Text: "sama-sama"}},
		{"thumbs-up is courtesy", "👍", Command{Kind: Courtesy, Text: "👍"}},
		{"folded hands are courtesy", "🙏🙏", Command{Kind: Courtesy, Text: "🙏🙏"}},

		// Garbage.
		{"empty text is empty", "", Command{Kind: Empty}},
		{"white space is empty", " \t\n ", Command{Kind: Empty}},
		{"punctuation is empty", "???", Command{Kind: Empty, Text: "???"}},
		{"an emoji is empty", "😀", Command{Kind: Empty, Text: "😀"}},
		{"one letter is empty", "p", Command{Kind: Empty, Text: "p"}},
		{"two letters are empty", "ab", Command{Kind: Empty, Text: "ab"}},
		{"digits alone are empty", "1708", Command{Kind: Empty, Text: "1708"}},
		{"a filler word alone is empty", "pak", Command{Kind: Empty, Text: "pak"}},
		{"lapor alone is empty", "lapor", Command{Kind: Empty, Text: "lapor"}},
	}
	opt := []cmp.Option{cmpopts.IgnoreFields(Command{}, "Normalized"), cmpopts.EquateErrors()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Parse(tt.in)
			if diff := cmp.Diff(tt.want, got, opt...); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseNormalizedFollowsText(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		name, in, want string
	}{
		{"complaint", "Jln RUSAKKKK dgn lubang yg besar!!!", "jalan rusak dengan lubang yang besar"},
		{"keyword and flags are not in it", "ANONIM TANGKAB#Jln rusak", "jalan rusak"},
		{"appended text without the ticket", "TAMBAH " + goodTicket + " tdk ada perbaikan", "tidak ada perbaikan"},
		{"help has none", "BANTUAN", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Parse(tt.in).Normalized; got != tt.want {
				t.Errorf("Parse(%q).Normalized = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCustomCourtesy(t *testing.T) {
	p, err := New(Config{Courtesy: []string{"nuwun sewu"}})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]Kind{
		"nuwun sewu pak": Courtesy,
		"terima kasih":   Complaint, // the built-in phrases are replaced
		"ok":             Empty,     // two letters, no longer a courtesy
	} {
		if got := p.Parse(in).Kind; got != want {
			t.Errorf("Parse(%q).Kind = %v, want %v", in, got, want)
		}
	}
}

func TestParseCourtesyThroughSlang(t *testing.T) {
	p, err := New(Config{Slang: map[string]string{"mksh": "terima kasih", "bpk": "bapak", "mimin": "admin"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"mksh bpk", "Mksh mimin", "terima kasih bpk"} {
		if got := p.Parse(in); got.Kind != Courtesy {
			t.Errorf("Parse(%q).Kind = %v (normalised %q), want courtesy", in, got.Kind, got.Normalized)
		}
	}
}

func TestParseTruncatesAtMaxInput(t *testing.T) {
	p := testParser(t)
	in := "jalan rusak " + strings.Repeat("é", MaxInput) // two bytes each: the cut falls mid-character
	got := p.Parse(in)
	if got.Kind != Complaint {
		t.Fatalf("Kind = %v, want complaint", got.Kind)
	}
	if len(got.Text) > MaxInput || !strings.HasPrefix(got.Text, "jalan rusak é") || strings.ContainsRune(got.Text, '\uFFFD') {
		t.Errorf("Text is %d bytes, starts %q; want ≤ %d bytes of whole characters", len(got.Text), got.Text[:16], MaxInput)
	}
}

func TestParseInvalidUTF8(t *testing.T) {
	p := testParser(t)
	got := p.Parse("jalan \xff\xfe rusak")
	if got.Kind != Complaint || got.Text != "jalan \uFFFD rusak" || got.Normalized != "jalan rusak" {
		t.Errorf("got %+v", got)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // each must appear in the error
	}{
		{"empty config is fine", Config{}, nil},
		{"a usual config is fine", Config{Keywords: []string{"TANGKAB", "KAB. NGANJUK", "halo-bupati"}, Slang: DefaultSlang()}, nil},
		{"empty keyword", Config{Keywords: []string{"  "}}, []string{`keyword "  ": no letters`}},
		{"keyword with a bad character", Config{Keywords: []string{"TANG!KAB"}}, []string{`keyword "TANG!KAB": only ASCII`}},
		{"keyword with no letters", Config{Keywords: []string{"#."}}, []string{`keyword "#.": no letters`}},
		{"duplicate keyword", Config{Keywords: []string{"TANGKAB", "tangkab"}}, []string{`keyword "tangkab": same as "TANGKAB"`}},
		{"duplicate keyword with other separators", Config{Keywords: []string{"KAB. NGANJUK", "kab-nganjuk"}}, []string{`same as "KAB. NGANJUK"`}},
		{"keyword that is a command", Config{Keywords: []string{"Info"}}, []string{`keyword "Info": is a command word`}},
		{"slang key of two words", Config{Slang: map[string]string{"yg lain": "yang lain"}}, []string{`slang "yg lain": the key must be one word`}},
		{"slang with an empty expansion", Config{Slang: map[string]string{"yg": " "}}, []string{`slang "yg": empty expansion`}},
		{"slang keys that clash once normalised", Config{Slang: map[string]string{"YG": "yang", "yg": "yaitu"}}, []string{`normalises to "yg"`}},
		{"courtesy phrase without words", Config{Courtesy: []string{"!!!"}}, []string{`courtesy phrase "!!!"`}},
		{"every problem at once", Config{Keywords: []string{"", "STOP"}, Slang: map[string]string{"": "x"}},
			[]string{`keyword "": no letters`, `keyword "STOP"`, `slang ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if len(tt.wantErr) == 0 {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v; want a parser", p, err)
				}
				return
			}
			if err == nil || p != nil {
				t.Fatalf("New = %v, %v; want an error", p, err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestNewDoesNotKeepTheCallersMaps(t *testing.T) {
	slang := map[string]string{"yg": "yang"}
	p, err := New(Config{Slang: slang})
	if err != nil {
		t.Fatal(err)
	}
	slang["yg"] = "yaitu"
	if got := p.Parse("yg rusak").Normalized; got != "yang rusak" {
		t.Errorf("Normalized = %q after the caller changed its map, want %q", got, "yang rusak")
	}
}

func TestKindString(t *testing.T) {
	want := []string{"complaint", "status", "append", "help", "stop", "start", "courtesy", "empty"}
	for i, w := range want {
		if got := Kind(i + 1).String(); got != w {
			t.Errorf("Kind(%d) = %q, want %q", i+1, got, w)
		}
	}
	if got := Kind(0).String(); got != "Kind(0)" {
		t.Errorf("Kind(0) = %q", got)
	}
}

func TestTicketErrorsAreDistinct(t *testing.T) {
	errs := []error{ErrTicketShape, ErrTicketCheck, ErrTicketMissing}
	for i, a := range errs {
		for j, b := range errs {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}

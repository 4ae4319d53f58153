package parser

// The fixed vocabulary of the SMS commands. Read-only after init.

// wholeCommands are the commands that count only when they are the whole
// text, so that "Stop pungli di pasar" stays a complaint.
var wholeCommands = [...]struct {
	word string
	kind Kind
}{
	{"stop", Stop},
	{"berhenti", Stop},
	{"mulai", Start},
	{"bantuan", Help},
	{"info", Help},
	{"help", Help},
}

// ticketCommands are the commands that count only when a ticket-shaped
// number follows, so that "cek jalan rusak" stays a complaint.
var ticketCommands = [...]struct {
	word string
	kind Kind
}{
	{"cek", Status},
	{"status", Status},
	{"tambah", Append},
}

// ticketFillers are words people put between a ticket command and the
// number: "CEK NO. 1234567890", "cek tiket 123…", "status laporan #123…".
// They are skipped only when a ticket-shaped number, or nothing, follows
// ("cek laporan saya" asks for a status but forgot the number).
var ticketFillers = map[string]bool{
	"no": true, "nmr": true, "nomor": true, "nomer": true, "nr": true,
	"tiket": true, "tiketnya": true, "ticket": true, "tkt": true,
	"laporan": true, "aduan": true, "pengaduan": true, "id": true,
	"status": true, "saya": true, "sy": true,
}

// defaultCourtesy are the phrases that, alone or with the filler words
// below, make a text a bare courtesy. Config.Courtesy replaces them.
var defaultCourtesy = []string{
	"terima kasih", "terimakasih", "trima kasih", "trimakasih", "makasih",
	"makasi", "mksh", "mks", "trims", "trimksh", "tks", "tq", "ty", "thx",
	"thanks", "thank you", "ok", "oke", "okay", "okey", "okeh", "oce", "okk",
	"siap", "sip", "baik", "noted", "mantap", "matur nuwun", "matur suwun",
	"maturnuwun", "suwun", "hatur nuhun", "nuhun", "alhamdulillah",
	"sama sama", "ya", "iya",
}

// courtesyFillers may surround a courtesy phrase without turning it into
// content: "terima kasih banyak ya pak", "ok siap min", "makasih atas
// tanggapannya". A text of fillers alone ("pak", "lapor") is Empty. They are compared with normalised words, so the slang
// table's expansions of their abbreviations are listed too.
var courtesyFillers = map[string]bool{
	"ya": true, "yaa": true, "iya": true, "y": true, "yah": true,
	"pak": true, "bapak": true, "bpk": true, "bu": true, "ibu": true,
	"min": true, "mimin": true, "admin": true, "kak": true, "kakak": true,
	"mas": true, "mbak": true, "mba": true, "bang": true, "om": true,
	"banyak": true, "byk": true, "sekali": true, "bgt": true,
	"banget": true, "sangat": true, "sama": true, "you": true, "u": true,
	"atas": true, "untuk": true, "utk": true, "nya": true, "semua": true,
	"semuanya": true, "infonya": true, "informasinya": true,
	"bantuannya": true, "responnya": true, "responsnya": true,
	"tanggapannya": true, "jawabannya": true, "balasannya": true,
	"pelayanannya": true, "kerjasamanya": true, "perhatiannya": true,
	"deh": true, "dah": true, "lah": true, "sudah": true, "sdh": true,
	"udah": true, "lapor": true, "sms": true, "1708": true, "wr": true,
	"wb": true, "and": true, "dan": true, "juga": true,
}

// courtesyEmoji make a text that has no letters a courtesy: a thumbs-up,
// folded hands, an OK hand or a heart sent after a reply.
var courtesyEmoji = [...]rune{'\U0001F44D', '\U0001F64F', '\U0001F44C', '\u2764', '\U0001F60A'}

// defaultSlang is the small built-in table returned by DefaultSlang.
var defaultSlang = map[string]string{
	"yg": "yang", "dgn": "dengan", "dg": "dengan", "tdk": "tidak",
	"gak": "tidak", "ga": "tidak", "gk": "tidak", "nggak": "tidak",
	"jln": "jalan", "jl": "jalan", "sy": "saya", "sdh": "sudah",
	"blm": "belum", "tlg": "tolong", "mhn": "mohon", "krn": "karena",
	"utk": "untuk", "skrg": "sekarang", "bpk": "bapak", "kec": "kecamatan",
	"kel": "kelurahan", "kab": "kabupaten", "ds": "desa", "pkm": "puskesmas",
	"dr": "dari", "sm": "sama", "bgt": "banget", "hrs": "harus", "jg": "juga",
	"kpd": "kepada", "pd": "pada", "org": "orang", "bs": "bisa", "tp": "tapi",
}

// DefaultSlang returns a fresh copy of a small built-in SMS spelling table
// (yg → yang, tdk/gak/ga → tidak, jln/jl → jalan, kel → kelurahan…). The
// product loads its table from configs/routing/slang.yaml; this one is for
// tests and tools that have no configuration.
func DefaultSlang() map[string]string {
	m := make(map[string]string, len(defaultSlang))
	for k, v := range defaultSlang {
		m[k] = v
	}
	return m
}

// matchCommandWord reports whether typed (ASCII letters, any case) is the
// command word cmd (lowercase, no double letters). Repeated letters are
// squeezed first ("CEKK", "stopp"); a word of four letters or more may then
// differ by one edit — a letter wrong, missing, extra, or two neighbours
// swapped ("STAUS", "TAMBHA", "BANTUN").
func matchCommandWord(typed, cmd string) bool {
	var buf [24]byte
	if len(typed) > len(buf) || len(typed) == 0 {
		return false
	}
	w := buf[:0]
	for i := 0; i < len(typed); i++ {
		c := typed[i] | 0x20 // ASCII letters only: lowercase
		if len(w) > 0 && w[len(w)-1] == c {
			continue
		}
		w = append(w, c)
	}
	if string(w) == cmd {
		return true
	}
	return len(cmd) >= 4 && len(w) >= 4 && withinOneEdit(string(w), cmd)
}

// withinOneEdit reports whether a and b differ by at most one
// substitution, insertion, deletion, or transposition of neighbours (the
// optimal-string-alignment distance is ≤ 1). Linear time.
func withinOneEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return true
		}
		if a[i+1:] == b[i+1:] {
			return true // one substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i:]
	}
	return false
}

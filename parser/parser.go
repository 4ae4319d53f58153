// Package parser turns the text of an SMS sent to 1708 into a command:
// a complaint (the default), a status query, a follow-up, help, an opt-out
// or opt-in of status messages, a bare courtesy, or nothing at all. It also
// normalises SMS spelling for the classifier and checks ticket numbers.
//
// The rules are those of issue 5 ("parser") and docs/DOMAIN.md ("How
// citizens text 1708"): free text is a complaint unless it is plainly a
// command, so a command never swallows a complaint — STOP, BERHENTI, MULAI,
// BANTUAN, INFO and HELP count only as the whole text, and CEK, STATUS and
// TAMBAH only before something shaped like a ticket number. ANONIM and
// RAHASIA (leading words, or #anonim / #rahasia anywhere) set the report's
// options; an agency keyword from the configuration may prefix the text
// ("TANGKAB isi aduan", "KAB. NGANJUK#…", "TANGKAB<spasi>…").
//
// The package is pure: no I/O, no mutable globals, no logging. It imports
// no other package of the module (the router imports it), so ticket-number
// syntax lives here too, consistent with router/ticket.go. Parse is linear
// in its input, which it first cuts to MaxInput bytes.
package parser

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxInput is the longest text Parse and Normalize look at, in bytes; the
// rest is cut off (at a character boundary) before any work. A concatenated
// SMS holds at most 255 parts of 153 GSM characters (~39,000 characters),
// but no complaint needs more than a few hundred words, and the bound keeps
// every parse fast whatever arrives.
const MaxInput = 16 << 10

// Kind is what a text asks for.
type Kind uint8

// The kinds of command. The zero Kind is not one of them.
const (
	// Complaint is the default: a new report, in Command.Text.
	Complaint Kind = iota + 1
	// Status is "CEK <ticket>" / "STATUS <ticket>", or a bare valid ticket
	// number sent alone.
	Status
	// Append is "TAMBAH <ticket> <text>": more information for, or an
	// answer in, an open ticket.
	Append
	// Help is "BANTUAN", "INFO" or "HELP" alone.
	Help
	// Stop is "STOP" or "BERHENTI" alone: no more status SMS.
	Stop
	// Start is "MULAI" alone: status SMS again.
	Start
	// Courtesy is a bare thanks or acknowledgement ("terima kasih", "ok",
	// "siap pak", a thumbs-up): no ticket, at most a short polite reply.
	Courtesy
	// Empty is a text with nothing to act on — empty, punctuation, emoji,
	// digits without words, one or two letters, or only filler words
	// ("pak", "lapor"). The router answers with help.
	Empty
)

var kindNames = [...]string{
	Complaint: "complaint", Status: "status", Append: "append", Help: "help",
	Stop: "stop", Start: "start", Courtesy: "courtesy", Empty: "empty",
}

// String returns the kind's lowercase name, usable as a metric label.
func (k Kind) String() string {
	if k >= 1 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ErrTicketMissing is Command.TicketErr when CEK, STATUS or TAMBAH came
// with no number at all ("CEK", "cek laporan saya"): the router explains
// how to ask.
var ErrTicketMissing = errors.New("parser: no ticket number")

// Command is what Parse makes of one text.
type Command struct {
	Kind Kind
	// Ticket is the ten digits of the ticket, for Status and Append, when
	// they are ten with a right check digit; "" otherwise.
	Ticket string
	// TicketErr, for Status and Append without a Ticket, says why:
	// ErrTicketCheck (ten digits, wrong check digit), ErrTicketShape (a
	// number, but not ten digits — e.g. a LAPOR! id "#1916449") or
	// ErrTicketMissing (no number). The router answers it with a hint,
	// not a lookup.
	TicketErr error
	// Text is the citizen's own wording with the leading flags, the
	// keyword, the command word and the ticket number taken out, trimmed:
	// the complaint for Complaint, the added text for Append (may be ""),
	// anything after the number for Status ("CEK 123… kok belum ada
	// tindak lanjut"), the whole text for Courtesy and Empty, and "" for
	// Help, Stop and Start.
	Text string
	// Normalized is Text as Normalize makes it, for the classifier.
	Normalized string
	// Anonim and Rahasia are the report's options: a leading ANONIM or
	// RAHASIA word (any case, either order, also after the keyword), or
	// #anonim / #rahasia anywhere. They are taken out of Text.
	Anonim, Rahasia bool
	// Keyword is the agency keyword the text began with, exactly as
	// written in Config.Keywords; "" for none.
	Keyword string
}

// Config is what a Parser needs to know beyond the fixed command words.
type Config struct {
	// Keywords are the agency keyword prefixes ("TANGKAB", "KAB. NGANJUK",
	// "halobupati"): ASCII letters and digits, optionally split by space,
	// '.', '#', '-' or '_'. Matching ignores case, and a split matches any
	// run of separators in the text, or none ("KAB.NGANJUK", "kab nganjuk").
	Keywords []string
	// Slang maps SMS spellings to words ("yg" → "yang", "jln" → "jalan");
	// keys are single words, compared after normalisation.
	Slang map[string]string
	// Courtesy, when not empty, replaces the built-in courtesy phrases
	// ("terima kasih", "makasih", "ok", "siap"…). Filler words around them
	// ("banyak", "ya", "pak") stay built in.
	Courtesy []string
}

// Parser parses texts; it is immutable and safe for concurrent use.
type Parser struct {
	slang slangTable
	// keywords holds each keyword under the first byte of its first atom,
	// so that a parse compares only the few that can match.
	keywords [256][]keyword
	// courtesy holds the courtesy phrases as normalised words, longest
	// first so that "terima kasih" is tried before a shorter phrase.
	courtesy [][]string
	// fillers are courtesyFillers as normalised with this slang table.
	fillers map[string]bool
	// courtesyWords holds every word of the phrases and the fillers, so
	// that a complaint is told from a courtesy by its first word.
	courtesyWords map[string]bool
}

type keyword struct {
	canon string   // as configured, trimmed
	atoms []string // lowercase letter-and-digit runs
}

// New checks cfg and builds a Parser. It reports every problem at once.
func New(cfg Config) (*Parser, error) {
	var errs []error
	p := &Parser{slang: slangTable{m: make(map[string]string, len(cfg.Slang))}}

	keys := make([]string, 0, len(cfg.Slang))
	for k := range cfg.Slang {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors in a stable order
	for _, k := range keys {
		nk, nv := normalize(k, nil), normalize(cfg.Slang[k], nil)
		switch {
		case nk == "" || strings.Contains(nk, " "):
			errs = append(errs, fmt.Errorf("parser: slang %q: the key must be one word (normalised: %q)", k, nk))
			continue
		case nv == "":
			errs = append(errs, fmt.Errorf("parser: slang %q: empty expansion", k))
			continue
		}
		if old, dup := p.slang.m[nk]; dup && old != nv {
			errs = append(errs, fmt.Errorf("parser: slang %q: normalises to %q, already expanded to %q, not %q", k, nk, old, nv))
			continue
		}
		p.slang.add(nk, nv)
	}

	seen := make(map[string]string, len(cfg.Keywords))
	for _, s := range cfg.Keywords {
		k, err := compileKeyword(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id := strings.Join(k.atoms, " ")
		if prev, dup := seen[id]; dup {
			errs = append(errs, fmt.Errorf("parser: keyword %q: same as %q", s, prev))
			continue
		}
		seen[id] = s
		if w := k.atoms[0]; len(k.atoms) == 1 && reservedWord(w) {
			errs = append(errs, fmt.Errorf("parser: keyword %q: is a command word", s))
			continue
		}
		c := k.atoms[0][0]
		p.keywords[c] = append(p.keywords[c], k)
	}

	phrases := cfg.Courtesy
	if len(phrases) == 0 {
		phrases = defaultCourtesy
	}
	for _, ph := range phrases {
		n := normalize(ph, &p.slang)
		if n == "" {
			errs = append(errs, fmt.Errorf("parser: courtesy phrase %q: no words", ph))
			continue
		}
		p.courtesy = append(p.courtesy, strings.Split(n, " "))
	}
	p.fillers = make(map[string]bool, len(courtesyFillers))
	p.courtesyWords = make(map[string]bool, len(courtesyFillers)+2*len(p.courtesy))
	for f := range courtesyFillers {
		for _, w := range strings.Fields(normalize(f, &p.slang)) {
			p.fillers[w] = true
			p.courtesyWords[w] = true
		}
	}
	for _, ph := range p.courtesy {
		for _, w := range ph {
			p.courtesyWords[w] = true
		}
	}
	slices.SortStableFunc(p.courtesy, func(a, b []string) int { return len(b) - len(a) })

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// compileKeyword splits a configured keyword into its atoms.
func compileKeyword(s string) (keyword, error) {
	t := strings.TrimSpace(s)
	k := keyword{canon: t}
	start := -1
	for i := 0; i <= len(t); i++ {
		if i < len(t) && (isASCIILetter(t[i]) || isDigit(t[i])) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			k.atoms = append(k.atoms, strings.ToLower(t[start:i]))
			start = -1
		}
		if i < len(t) {
			switch t[i] {
			case ' ', '.', '#', '-', '_':
			default:
				return k, fmt.Errorf("parser: keyword %q: only ASCII letters, digits and the separators space . # - _", s)
			}
		}
	}
	if len(k.atoms) == 0 {
		return k, fmt.Errorf("parser: keyword %q: no letters or digits", s)
	}
	return k, nil
}

// reservedWord reports whether w is a command or flag word, which a keyword
// may not be.
func reservedWord(w string) bool {
	for _, c := range wholeCommands {
		if w == c.word {
			return true
		}
	}
	for _, c := range ticketCommands {
		if w == c.word {
			return true
		}
	}
	return w == "anonim" || w == "rahasia"
}

// Parse reads one text. It never fails: anything that is not plainly a
// command is a Complaint, Courtesy or Empty. In order:
//
//  1. The text is cut to MaxInput bytes, invalid UTF-8 replaced, trimmed.
//  2. Leading ANONIM / RAHASIA words, then the longest agency keyword (after
//     an optional '#', followed by a separator or the end), then flags again,
//     are taken off; #anonim / #rahasia anywhere are taken out.
//  3. STOP, BERHENTI, MULAI, BANTUAN, INFO, HELP as the only word, with any
//     punctuation or emoji around it, are Stop, Start or Help.
//  4. CEK, STATUS or TAMBAH as the first word, then optional filler words
//     ("no.", "tiket", "laporan"…), then a ticket-shaped number are Status
//     or Append: '#' and any digits, or 7 to 12 digits in groups of up to
//     three spaces, dashes or dots — not an amount ("1.500.000"), a date
//     ("12-06-2024") or a phone number (0…, 62… of eleven digits or more).
//     The number stops once it has ten digits, so "TAMBAH 1234567890 3
//     rumah" keeps "3 rumah". With nothing after the word but fillers it is
//     Status or Append with ErrTicketMissing; with a word that is neither,
//     the text is a complaint ("cek jalan rusak", "TAMBAL jalan").
//  5. A valid ticket number alone is Status.
//  6. No letters: Courtesy for a thumbs-up, folded hands and the like,
//     otherwise Empty. Only courtesy phrases and filler words: Courtesy
//     (Empty if fillers alone). Two letters or fewer and no digit: Empty.
//  7. Anything else is a Complaint.
//
// Command words are matched ignoring case and repeated letters ("CEKK",
// "stopp"); those of four letters or more also with one letter wrong,
// missing, extra or swapped with its neighbour ("STAUS", "TAMBHA",
// "BANTUN"). That is safe because they count only as the whole text or
// before a ticket number: "TAMBAL 1234567890" is TAMBAH, "TAMBAL jalan" is
// a complaint.
func (p *Parser) Parse(text string) Command {
	s := truncate(text, MaxInput)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimSpace(s)
	var cmd Command

	s = leadingFlags(s, &cmd)
	if kw, n := p.matchKeyword(s); n > 0 {
		cmd.Keyword = kw
		s = leadingFlags(trimSeps(s[n:]), &cmd)
	}
	s = strings.TrimSpace(stripHashFlags(s, &cmd))

	if w, ok := onlyWord(s); ok {
		for _, c := range wholeCommands {
			if matchCommandWord(w, c.word) {
				cmd.Kind = c.kind
				return cmd
			}
		}
	}
	if ticketCommand(s, &cmd) {
		cmd.Normalized = normalize(cmd.Text, &p.slang)
		return cmd
	}
	if t, ok := bareTicket(s); ok {
		cmd.Kind, cmd.Ticket = Status, t
		return cmd
	}

	cmd.Text = s
	cmd.Normalized = normalize(s, &p.slang)
	letters, digits := countAlnum(s)
	switch courtesy, fillers := p.courtesyOf(cmd.Normalized); {
	case letters == 0 && hasCourtesyEmoji(s):
		cmd.Kind = Courtesy
	case letters == 0:
		cmd.Kind = Empty
	case courtesy:
		cmd.Kind = Courtesy
	case fillers, letters <= 2 && digits == 0:
		cmd.Kind = Empty
	default:
		cmd.Kind = Complaint
	}
	return cmd
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// leadingFlags takes leading ANONIM / RAHASIA words (optionally written
// with '#') off s and sets their flags.
func leadingFlags(s string, cmd *Command) string {
	for range 4 { // both flags, each perhaps twice; more is not a flag
		i := 0
		if i < len(s) && s[i] == '#' {
			i++
		}
		j := i
		for j < len(s) && isASCIILetter(s[j]) {
			j++
		}
		if j == i || wordCharAt(s, j) {
			return s
		}
		switch w := s[i:j]; {
		case matchCommandWord(w, "anonim"):
			cmd.Anonim = true
		case matchCommandWord(w, "rahasia"):
			cmd.Rahasia = true
		default:
			return s
		}
		s = trimSeps(s[j:])
	}
	return s
}

// stripHashFlags takes every #anonim / #rahasia out of s (with one space
// next to it) and sets their flags. It allocates only when it finds one.
func stripHashFlags(s string, cmd *Command) string {
	if strings.IndexByte(s, '#') < 0 {
		return s
	}
	var b strings.Builder
	last, found := 0, false
	for i := 0; i < len(s); i++ {
		if s[i] != '#' {
			continue
		}
		j := i + 1
		for j < len(s) && isASCIILetter(s[j]) {
			j++
		}
		if j == i+1 || wordCharAt(s, j) {
			continue
		}
		switch w := s[i+1 : j]; {
		case matchCommandWord(w, "anonim"):
			cmd.Anonim = true
		case matchCommandWord(w, "rahasia"):
			cmd.Rahasia = true
		default:
			continue
		}
		start, end := i, j
		if end < len(s) && s[end] == ' ' {
			end++
		} else if start > last && s[start-1] == ' ' {
			start--
		}
		if !found {
			b.Grow(len(s))
			found = true
		}
		b.WriteString(s[last:start])
		last = end
		i = end - 1
	}
	if !found {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// matchKeyword returns the longest configured keyword s begins with
// (after an optional '#'), and how many bytes of s it covers.
func (p *Parser) matchKeyword(s string) (canon string, end int) {
	i := 0
	if len(s) > 0 && s[0] == '#' {
		i = 1
	}
	if i >= len(s) {
		return "", 0
	}
	c := s[i]
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	for _, k := range p.keywords[c] {
		if n, ok := k.match(s[i:]); ok && i+n > end {
			canon, end = k.canon, i+n
		}
	}
	return canon, end
}

// match reports whether s begins with the keyword, followed by the end of
// s or a character that is not a letter or digit, and its length in s.
func (k *keyword) match(s string) (int, bool) {
	j := 0
	for a, atom := range k.atoms {
		if a > 0 {
			for j < len(s) {
				n := sepLen(s, j)
				if n == 0 {
					break
				}
				j += n
			}
		}
		if len(s)-j < len(atom) {
			return 0, false
		}
		for x := 0; x < len(atom); x++ {
			c := s[j+x]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != atom[x] {
				return 0, false
			}
		}
		j += len(atom)
	}
	if wordCharAt(s, j) {
		return 0, false
	}
	return j, true
}

// sepLen returns the length of the separator at s[i], or 0: white space,
// the punctuation people put between a keyword and the text, or a literal
// "<spasi>" copied from a poster ("(spasi)", "[spasi]", "<space>" too).
func sepLen(s string, i int) int {
	c := s[i]
	if c < utf8.RuneSelf {
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f', '#', '.', ':', ',', ';', '-', '_', '*', '+', '=', '/', '|', '>':
			return 1
		case '<', '(', '[', '{':
			if len(s)-i >= 7 && closing(c) == s[i+6] &&
				(strings.EqualFold(s[i+1:i+6], "spasi") || strings.EqualFold(s[i+1:i+6], "space")) {
				return 7
			}
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if unicode.IsSpace(r) || r == '\u200b' || r == '\u2013' || r == '\u2014' {
		return n
	}
	return 0
}

func closing(open byte) byte {
	switch open {
	case '<':
		return '>'
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}

// trimSeps takes separators and white space off the front of s.
func trimSeps(s string) string {
	i := 0
	for i < len(s) {
		n := sepLen(s, i)
		if n == 0 {
			break
		}
		i += n
	}
	return s[i:]
}

// wordCharAt reports whether s[i:] begins with a letter or a digit.
func wordCharAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	if c := s[i]; c < utf8.RuneSelf {
		return isASCIILetter(c) || isDigit(c)
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// onlyWord returns the single run of ASCII letters s holds when everything
// else in s is neither a letter nor a digit ("Bantuan!!", "info ?").
func onlyWord(s string) (string, bool) {
	i := 0
	for i < len(s) && !wordCharAt(s, i) {
		i += runeLen(s, i)
	}
	j := i
	for j < len(s) && isASCIILetter(s[j]) {
		j++
	}
	if j == i {
		return "", false
	}
	if hasWordChar(s[j:]) {
		return "", false
	}
	return s[i:j], true
}

func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// Bounds of what counts as a ticket-shaped number after CEK, STATUS or
// TAMBAH when it has no '#'. Seven covers a LAPOR! id typed without its
// '#', twelve a ticket with digits to spare; anything else — "TAMBAH 2 kg",
// "STATUS 100 KK" — is the start of a complaint.
const (
	minTicketLike = 7
	maxTicketLike = 12
)

// maxTicketFillers bounds the filler words between a ticket command and
// its number ("cek status laporan no. 123…").
const maxTicketFillers = 4

// ticketCommand recognises CEK, STATUS and TAMBAH followed by a
// ticket-shaped number, or by nothing but filler words, and fills cmd.
func ticketCommand(s string, cmd *Command) bool {
	j := 0
	for j < len(s) && isASCIILetter(s[j]) {
		j++
	}
	if j == 0 {
		return false
	}
	var kind Kind
	for _, c := range ticketCommands {
		if matchCommandWord(s[:j], c.word) {
			kind = c.kind
			break
		}
	}
	if kind == 0 || (j < len(s) && !isDigit(s[j]) && wordCharAt(s, j)) {
		return false
	}
	k := j
	for f := 0; ; f++ {
		k = skipTicketSeps(s, k)
		if !hasWordChar(s[k:]) {
			cmd.Kind, cmd.TicketErr = kind, ErrTicketMissing
			return true
		}
		if isDigit(s[k]) || s[k] == '#' {
			break
		}
		m := k
		for m < len(s) && isASCIILetter(s[m]) {
			m++
		}
		if f == maxTicketFillers || m == k || m-k > 12 || wordCharAt(s, m) && !isDigit(s[m]) || !ticketFillers[lowerASCII(s[k:m])] {
			return false
		}
		k = m
	}
	t := scanTicket(s, k)
	if !t.shaped() {
		return false
	}
	cmd.Kind = kind
	switch {
	case t.n != TicketLen:
		cmd.TicketErr = ErrTicketShape
	case !dammCheck(t.digits[:]):
		cmd.TicketErr = ErrTicketCheck
	default:
		cmd.Ticket = string(t.digits[:])
	}
	cmd.Text = strings.TrimSpace(trimSeps(s[t.end:]))
	return true
}

// skipTicketSeps skips what may stand between a ticket command, its filler
// words and the number — but not '#', which scanTicket reads.
func skipTicketSeps(s string, i int) int {
	for i < len(s) && s[i] != '#' {
		n := sepLen(s, i)
		if n == 0 {
			break
		}
		i += n
	}
	return i
}

// lowerASCII lowercases a short ASCII word into a fixed buffer; the map
// lookup that takes the result does not allocate.
func lowerASCII(w string) string {
	var buf [12]byte
	n := copy(buf[:], w)
	for i := range n {
		buf[i] |= 0x20
	}
	return string(buf[:n])
}

// ticketScan is a number as typed after a ticket command.
type ticketScan struct {
	digits [TicketLen]byte // the first ten digits
	n      int             // digits in all (may exceed TicketLen)
	hash   bool            // began with '#'
	money  bool            // grouped like an amount: "1.500.000"
	date   bool            // grouped like a date: "12-06-2024", "1.6.2024"
	end    int             // where the number ends in s
}

// scanTicket reads digit groups from s[i:], with up to three spaces,
// dashes or dots between groups. Once it holds ten digits it stops at the
// next group, so "TAMBAH 1234567890 3 rumah lagi" keeps "3 rumah lagi" as
// text.
func scanTicket(s string, i int) ticketScan {
	var t ticketScan
	if i < len(s) && s[i] == '#' {
		t.hash = true
		i++
	}
	groups, moneyLike := 0, true
	var sep byte
	var lens [4]int // the lengths of the first groups
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i || t.n >= TicketLen {
			break
		}
		for x := i; x < j; x++ {
			if t.n < TicketLen {
				t.digits[t.n] = s[x]
			}
			t.n++
		}
		if groups == 0 {
			moneyLike = j-i <= 3
		} else {
			moneyLike = moneyLike && j-i == 3 && sep == '.'
		}
		if groups < len(lens) {
			lens[groups] = j - i
		}
		groups++
		t.end = j
		k := j
		for k < len(s) && k-j < 3 && (s[k] == ' ' || s[k] == '-' || s[k] == '.' || s[k] == '\t') {
			k++
		}
		if k == j || k == len(s) || !isDigit(s[k]) {
			break
		}
		sep = s[j]
		if k-j > 1 {
			sep = ' ' // "1. 000" is not how amounts are written
		}
		i = k
	}
	t.money = groups >= 2 && moneyLike
	t.date = groups == 3 && lens[0] <= 2 && lens[1] <= 2 && (lens[2] == 2 || lens[2] == 4)
	return t
}

// shaped reports whether the number looks meant as a ticket: anything
// after '#'; otherwise minTicketLike to maxTicketLike digits that are not
// an amount ("1.500.000"), a date ("12-06-2024") or a phone number (0812…,
// 62812…; our tickets never begin with 0).
func (t *ticketScan) shaped() bool {
	switch {
	case t.n == 0:
		return false
	case t.hash:
		return true
	case t.money, t.date, t.digits[0] == '0':
		return false
	case t.n > TicketLen && t.digits[0] == '6' && t.digits[1] == '2':
		return false
	}
	return minTicketLike <= t.n && t.n <= maxTicketLike
}

// bareTicket recognises a text that is nothing but a valid ticket number,
// which can only be a status query: a random ten digits pass the check one
// time in ten, and a number with a wrong digit is left to be Empty.
func bareTicket(s string) (string, bool) {
	t := scanTicket(s, 0)
	if t.n != TicketLen || !dammCheck(t.digits[:]) {
		return "", false
	}
	if hasWordChar(s[t.end:]) {
		return "", false
	}
	return string(t.digits[:]), true
}

// hasWordChar reports whether s holds a letter or a digit.
func hasWordChar(s string) bool {
	for k := 0; k < len(s); k += runeLen(s, k) {
		if wordCharAt(s, k) {
			return true
		}
	}
	return false
}

// countAlnum counts the letters and digits in s.
func countAlnum(s string) (letters, digits int) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case isASCIILetter(c):
				letters++
			case isDigit(c):
				digits++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
		i += n
	}
	return letters, digits
}

func hasCourtesyEmoji(s string) bool {
	for _, r := range s {
		if slices.Contains(courtesyEmoji[:], r) {
			return true
		}
	}
	return false
}

// maxCourtesyLen bounds the normalised text examined for courtesy: thanks
// longer than this carries content.
const maxCourtesyLen = 160

// courtesyOf reads a normalised text as courtesy phrases and filler words.
// courtesy: it is nothing else and holds a phrase; fillers: it is filler
// words only.
func (p *Parser) courtesyOf(n string) (courtesy, fillers bool) {
	if n == "" || len(n) > maxCourtesyLen {
		return false, false
	}
	if first, _, _ := strings.Cut(n, " "); !p.courtesyWords[first] {
		return false, false // the usual case: a complaint
	}
	phrase := false
	for n != "" {
		if rest, ok := p.courtesyPhrase(n); ok {
			n, phrase = rest, true
			continue
		}
		w, rest, _ := strings.Cut(n, " ")
		if !p.fillers[w] {
			return false, false
		}
		n = rest
	}
	return phrase, !phrase
}

// courtesyPhrase reports whether n begins with a courtesy phrase, and
// what follows it.
func (p *Parser) courtesyPhrase(n string) (string, bool) {
next:
	for _, ph := range p.courtesy {
		rest := n
		for _, w := range ph {
			if !strings.HasPrefix(rest, w) {
				continue next
			}
			switch rest = rest[len(w):]; {
			case rest == "":
			case rest[0] == ' ':
				rest = rest[1:]
			default:
				continue next
			}
		}
		return rest, true
	}
	return "", false
}

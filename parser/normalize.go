package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns s the way Command.Normalized is made, so that the
// classifier can bring its lexicon entries to the same form as the texts
// they are matched against:
//
//   - Text that is not plain ASCII is decomposed (Unicode NFKD) and its
//     combining marks dropped: "é" → "e", fullwidth "ｊａｌａｎ" and
//     mathematical bold letters → "jalan", "…" → "...".
//   - Lowercase.
//   - Apostrophes join rather than split: "Jum'at" → "jumat", "do’a" → "doa".
//   - Everything that is neither a letter nor a digit — punctuation,
//     symbols, emoji, control characters — separates words; words are
//     joined by single spaces, with none at either end.
//   - A run of three or more of the same ASCII letter is squeezed to one
//     ("rusakkkk" → "rusak", "tolonggg" → "tolong"). Runs of two are kept:
//     Indonesian spells real words with a double letter ("saat", "tunggu",
//     "maaf", "taat"), and squeezing them would turn "saat" into "sat";
//     three in a row never occurs in standard spelling. Digits are never
//     squeezed ("1000").
//   - A word of three or more letters followed by the digit 2 is the SMS
//     spelling of a reduplication: "anak2" → "anak anak", "sama2" → "sama
//     sama".
//   - Each word found in the slang table is replaced by its expansion
//     ("yg" → "yang", "jln" → "jalan"). Expansions are not expanded again.
func (p *Parser) Normalize(s string) string {
	if len(s) > MaxInput {
		s = truncate(s, MaxInput)
	}
	return normalize(s, &p.slang)
}

// normalize implements Normalize with a given slang table (nil for none).
// It builds the result in a buffer on the stack, writing each word in place
// and then squeezing or replacing it there, so that a usual SMS costs one
// allocation (the result), plus the decomposed copy of non-ASCII input.
func normalize(s string, slang *slangTable) string {
	if s == "" {
		return ""
	}
	if !isASCII(s) {
		s = norm.NFKD.String(strings.ToValidUTF8(s, "\uFFFD"))
	}
	var buf [512]byte
	out := buf[:0]
	start := -1 // where the word being read begins in out; -1 between words
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
				fallthrough
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				if start < 0 {
					out, start = beginWord(out)
				}
				out = append(out, c)
			case c == '\'' || c == '`':
			default:
				if start >= 0 {
					out, start = endWord(out, start, slang), -1
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case isApostrophe(r), unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				out, start = beginWord(out)
			}
			out = utf8.AppendRune(out, unicode.ToLower(r))
		default:
			if start >= 0 {
				out, start = endWord(out, start, slang), -1
			}
		}
	}
	if start >= 0 {
		out = endWord(out, start, slang)
	}
	return string(out)
}

// beginWord puts the space before a word that is not the first.
func beginWord(out []byte) ([]byte, int) {
	if len(out) > 0 {
		out = append(out, ' ')
	}
	return out, len(out)
}

// endWord squeezes the word out[start:] in place, then expands it: an SMS
// reduplication ("anak2") is written out twice, a slang word replaced.
func endWord(out []byte, start int, slang *slangTable) []byte {
	w := squeeze3(out[start:])
	out = out[:start+len(w)]
	if n := len(w); n >= 4 && w[n-1] == '2' && allASCIILetters(w[:n-1]) {
		out = expandAt(out[:len(out)-1], start, slang)
		return append(append(out, ' '), out[start:]...)
	}
	return expandAt(out, start, slang)
}

// expandAt replaces the word out[start:] with its slang expansion, if any.
func expandAt(out []byte, start int, slang *slangTable) []byte {
	if v, ok := slang.lookup(out[start:]); ok {
		return append(out[:start], v...)
	}
	return out
}

// isApostrophe reports the characters people use for an apostrophe.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u00b4', '\u2018', '\u2019', '\u02bc', '\u02b9', '\u2032':
		return true
	}
	return false
}

// slangTable is the slang map with two cheap filters in front of it, since
// a map lookup per word is most of the cost of normalising: most words are
// longer than any key, or begin with two bytes no key begins with (SMS
// abbreviations are consonant clusters, "yg", "dgn", "tdk"; Indonesian
// words mostly alternate consonant and vowel).
type slangTable struct {
	m      map[string]string
	keyMax int                  // bytes in the longest key
	pairs  [1 << 16 / 64]uint64 // bit set of keys' first two bytes
}

func (t *slangTable) add(k, v string) {
	t.m[k] = v
	t.keyMax = max(t.keyMax, len(k))
	i := pairIndex(k)
	t.pairs[i/64] |= 1 << (i % 64)
}

func (t *slangTable) lookup(tok []byte) (string, bool) {
	if t == nil || len(tok) > t.keyMax || len(tok) == 0 {
		return "", false
	}
	if i := pairIndex(tok); t.pairs[i/64]&(1<<(i%64)) == 0 {
		return "", false
	}
	v, ok := t.m[string(tok)]
	return v, ok
}

// pairIndex packs a word's first two bytes (the second 0 for a
// one-byte word) into an index of slangTable.pairs.
func pairIndex[T ~string | ~[]byte](w T) uint16 {
	i := uint16(w[0]) << 8
	if len(w) > 1 {
		i |= uint16(w[1])
	}
	return i
}

// squeeze3 replaces every run of three or more of the same ASCII letter
// with one, in place. Only ASCII letters: a multi-byte rune may hold three
// equal continuation bytes.
func squeeze3(tok []byte) []byte {
	i := 0
	for i+2 < len(tok) && (tok[i] != tok[i+1] || tok[i] != tok[i+2]) {
		i++
	}
	if i+2 >= len(tok) {
		return tok // the usual case: no run of three
	}
	out := tok[:i]
	for i < len(tok) {
		c := tok[i]
		j := i + 1
		for j < len(tok) && tok[j] == c {
			j++
		}
		if j-i >= 3 && isASCIILetter(c) {
			out = append(out, c)
		} else {
			out = append(out, tok[i:j]...)
		}
		i = j
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allASCIILetters(b []byte) bool {
	for _, c := range b {
		if !isASCIILetter(c) {
			return false
		}
	}
	return true
}

package text

import "unicode/utf8"

// escape introduces a character of the GSM 03.38 extension table.
const escape = 0x1B

// gsmDefault is the GSM 03.38 §6.2.1 default alphabet, indexed by septet.
// 0x1B is the escape to the extension table, shown as a space when it has
// to stand alone (see decodeGSM7).
var gsmDefault = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExtension is the GSM 03.38 §6.2.1.1 extension table: the character
// that follows an escape. Zero marks a septet with no extension character.
var gsmExtension = [128]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

// gsmCode is how a rune is written in GSM 7: the septet, and whether it is
// preceded by an escape. The zero value means "not in GSM 03.38".
type gsmCode uint16

const (
	gsmValid  gsmCode = 0x100
	gsmEscape gsmCode = 0x200
)

// gsmASCII and gsmOther invert the two tables; they are filled once at
// package initialisation and only read afterwards.
var (
	gsmASCII [128]gsmCode
	gsmOther = make(map[rune]gsmCode, 48)
)

func init() {
	set := func(r rune, c gsmCode) {
		if r < utf8.RuneSelf {
			gsmASCII[r] = c
		} else {
			gsmOther[r] = c
		}
	}
	for i, r := range gsmDefault {
		if i != escape {
			set(r, gsmValid|gsmCode(i))
		}
	}
	for i, r := range gsmExtension {
		if r != 0 {
			set(r, gsmValid|gsmEscape|gsmCode(i))
		}
	}
}

func gsmLookup(r rune) gsmCode {
	if r >= 0 && r < utf8.RuneSelf {
		return gsmASCII[r]
	}
	return gsmOther[r]
}

// GSM7Septets reports how many septets s takes in the GSM 03.38 alphabet,
// counting two for a character of the extension table. ok is false if some
// rune (or invalid UTF-8 byte) of s is in neither table; n then counts only
// the encodable runes.
func GSM7Septets(s string) (n int, ok bool) {
	ok = true
	for _, r := range s {
		c := gsmLookup(r)
		switch {
		case c == 0:
			ok = false
		case c&gsmEscape != 0:
			n += 2
		default:
			n++
		}
	}
	return n, ok
}

// EncodeGSM7 encodes s as unpacked GSM 03.38 septets, one per byte, an
// extension character as 0x1B and its code. It never falls back to another
// encoding: if a rune of s is not in GSM 03.38 the result is nil, false.
func EncodeGSM7(s string) ([]byte, bool) {
	n, ok := GSM7Septets(s)
	if !ok {
		return nil, false
	}
	return appendGSM7(make([]byte, 0, n), s), true
}

// appendGSM7 appends the septets of s, which must be encodable.
func appendGSM7(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		// Most replies are ASCII: skip the rune decoding for them.
		if b := s[i]; b < utf8.RuneSelf {
			c := gsmASCII[b]
			if c&gsmEscape != 0 {
				dst = append(dst, escape)
			}
			dst = append(dst, byte(c))
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		c := gsmOther[r]
		if c&gsmEscape != 0 {
			dst = append(dst, escape)
		}
		dst = append(dst, byte(c))
		i += size - 1
	}
	return dst
}

// decodeGSM7 appends the text of unpacked GSM 03.38 septets to dst.
//
// A byte ≥ 0x80 is not a septet: it becomes U+FFFD and is counted. An escape
// followed by a septet that has no extension character is shown as that
// septet's default character, as 3GPP TS 23.038 §6.2.1.1 tells a receiver to
// do; 0x1B 0x1B (reserved for a further extension table) is shown as a
// space, as the same note says. Neither is counted as invalid: both are
// what the spec says to display. An escape at the end of the data, or before
// a byte ≥ 0x80, has nothing to extend: it becomes U+FFFD and is counted.
func decodeGSM7(dst, b []byte) ([]byte, int) {
	invalid := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 0x80:
			dst = utf8.AppendRune(dst, utf8.RuneError)
			invalid++
		case c != escape:
			if r := gsmDefault[c]; r < utf8.RuneSelf {
				dst = append(dst, byte(r))
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		case i+1 >= len(b) || b[i+1] >= 0x80:
			dst = utf8.AppendRune(dst, utf8.RuneError)
			invalid++
		default:
			i++
			e := b[i]
			if r := gsmExtension[e]; r != 0 {
				dst = utf8.AppendRune(dst, r)
			} else {
				dst = utf8.AppendRune(dst, gsmDefault[e]) // gsmDefault[escape] is ' '
			}
		}
	}
	return dst, invalid
}

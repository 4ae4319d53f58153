package text

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Decoded is the result of decoding user data.
type Decoded struct {
	// Text is always valid UTF-8 and never contains NUL. It is empty for
	// Binary and Unknown data, whose raw bytes the caller keeps.
	Text string
	// Alphabet is the alphabet the data was read in.
	Alphabet Alphabet
	// Invalid counts the bytes (GSM7, ASCII, Latin1) or the bytes and
	// UTF-16 units (UCS2) that could not be decoded and became U+FFFD.
	// A NUL character (not GSM7's 0x00, which is '@') is counted here too.
	// It is a counted event, not an error.
	Invalid int
}

// stackText is the size of the buffer Decode builds the text in before it
// copies it into a string: one segment of any alphabet fits, so a single
// short message is decoded with one allocation.
const stackText = 512

// Decode decodes user data bytes, without any UDH, in alphabet a. It never
// fails and never panics.
//
// Binary and Unknown data decode to an empty Text with Invalid 0: they are
// not text, and the caller keeps the raw bytes (a hex rendering would only
// look like text). An alphabet that is none of the constants is treated as
// Unknown.
func Decode(b []byte, a Alphabet) Decoded {
	var stack [stackText]byte
	buf := stack[:0]
	var invalid int
	switch a {
	case GSM7:
		buf, invalid = decodeGSM7(buf, b)
	case ASCII:
		buf, invalid = decodeASCII(buf, b)
	case Latin1:
		buf, invalid = decodeLatin1(buf, b)
	case UCS2:
		buf, invalid = decodeUCS2(buf, b)
	case Binary:
	default:
		a = Unknown
	}
	return Decoded{Text: string(buf), Alphabet: a, Invalid: invalid}
}

// DecodeShortMessage decodes user data of the given data_coding; def is what
// data_coding 0 means for this operator. It is AlphabetFor and Decode.
func DecodeShortMessage(dataCoding byte, def Alphabet, b []byte) Decoded {
	return Decode(b, AlphabetFor(dataCoding, def))
}

// decodeASCII reads IA5: a byte ≥ 0x80 or a NUL is invalid.
func decodeASCII(dst, b []byte) ([]byte, int) {
	invalid := 0
	for _, c := range b {
		if c == 0 || c >= utf8.RuneSelf {
			dst = utf8.AppendRune(dst, utf8.RuneError)
			invalid++
			continue
		}
		dst = append(dst, c)
	}
	return dst, invalid
}

// decodeLatin1 reads ISO-8859-1, whose bytes are the first 256 code points.
// Unlike Windows-1252, 0x80–0x9F are the C1 controls. NUL is invalid.
func decodeLatin1(dst, b []byte) ([]byte, int) {
	invalid := 0
	for _, c := range b {
		if c == 0 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
			invalid++
			continue
		}
		dst = utf8.AppendRune(dst, rune(c))
	}
	return dst, invalid
}

// decodeUCS2 reads UTF-16BE. A surrogate pair is one rune; a lone surrogate,
// a U+0000 and a trailing odd byte each become U+FFFD and are counted.
func decodeUCS2(dst, b []byte) ([]byte, int) {
	invalid := 0
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case u == 0:
			dst = utf8.AppendRune(dst, utf8.RuneError)
			invalid++
		case utf16.IsSurrogate(u):
			if u < 0xDC00 && i+3 < n {
				lo := rune(b[i+2])<<8 | rune(b[i+3])
				if r := utf16.DecodeRune(u, lo); r != utf8.RuneError {
					dst = utf8.AppendRune(dst, r)
					i += 2
					continue
				}
			}
			dst = utf8.AppendRune(dst, utf8.RuneError)
			invalid++
		default:
			dst = utf8.AppendRune(dst, u)
		}
	}
	if n != len(b) {
		dst = utf8.AppendRune(dst, utf8.RuneError)
		invalid++
	}
	return dst, invalid
}

package text

import "fmt"

// Alphabet is how a short_message's bytes are to be read.
type Alphabet uint8

// The alphabets. The zero value is not an alphabet.
const (
	// GSM7 is the GSM 03.38 default alphabet, unpacked (one septet per
	// byte), with the extension table reached through 0x1B.
	GSM7 Alphabet = iota + 1
	// ASCII is IA5 (SMPP data_coding 1).
	ASCII
	// Latin1 is ISO-8859-1 (SMPP data_coding 3) — not Windows-1252.
	Latin1
	// UCS2 is read as UTF-16BE: a surrogate pair decodes to one rune.
	UCS2
	// Binary is 8-bit data, not text.
	Binary
	// Unknown is a data_coding we do not know: the bytes are kept raw and
	// the message is flagged.
	Unknown
)

var alphabetNames = [...]string{
	GSM7:    "gsm7",
	ASCII:   "ascii",
	Latin1:  "latin1",
	UCS2:    "ucs2",
	Binary:  "binary",
	Unknown: "unknown",
}

// String returns the alphabet's lowercase name, as ParseAlphabet reads it.
func (a Alphabet) String() string {
	if a >= GSM7 && a <= Unknown {
		return alphabetNames[a]
	}
	return fmt.Sprintf("Alphabet(%d)", uint8(a))
}

// ParseAlphabet reads an alphabet name as String writes it ("gsm7",
// "ascii", "latin1", "ucs2", "binary", "unknown"). It is meant for the
// per-operator setting of what data_coding 0 means.
func ParseAlphabet(s string) (Alphabet, error) {
	for a := GSM7; a <= Unknown; a++ {
		if alphabetNames[a] == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("text: unknown alphabet %q (want gsm7, ascii, latin1, ucs2, binary or unknown)", s)
}

// AlphabetFor maps an SMPP data_coding to an alphabet.
//
// 0x00 is the SMSC default and maps to def (GSM7 if def is not an
// alphabet). The other SMPP 3.4 §5.2.19 values: 0x01 ASCII, 0x03 Latin1,
// 0x08 UCS2, 0x02 and 0x04 Binary; JIS, Cyrillic, Hebrew, pictogram, Kanji,
// KS C 5601 and the reserved values of 0x00–0x0F are Unknown.
//
// Above 0x0F, 3GPP TS 23.038 §4 applies: in the general group 00xx xxxx and
// in the automatic deletion group 01xx xxxx (whose bits 5–0 are coded like the
// general group's), bit 5 set means compressed (Unknown), else bits 3–2 give
// the alphabet (00 GSM7, 01 Binary, 10 UCS2, 11 reserved: Unknown). The
// message waiting groups 0xC0–0xDF are GSM7 and 0xE0–0xEF UCS2. In the
// 1111 xxxx group bit 2 chooses GSM7 (0xF0–0xF3) or Binary (0xF4–0xF7);
// 0xF8–0xFF set a reserved bit and, like the reserved groups 0x80–0xBF, are
// Unknown.
func AlphabetFor(dataCoding byte, def Alphabet) Alphabet {
	switch {
	case dataCoding == 0x00:
		if def < GSM7 || def > Unknown {
			return GSM7
		}
		return def
	case dataCoding <= 0x0F:
		switch dataCoding {
		case 0x01:
			return ASCII
		case 0x02, 0x04:
			return Binary
		case 0x03:
			return Latin1
		case 0x08:
			return UCS2
		}
		return Unknown
	case dataCoding <= 0x7F: // general and automatic deletion groups
		if dataCoding&0x20 != 0 {
			return Unknown
		}
		switch dataCoding & 0x0C {
		case 0x00:
			return GSM7
		case 0x04:
			return Binary
		case 0x08:
			return UCS2
		}
		return Unknown
	case dataCoding <= 0xBF:
		return Unknown
	case dataCoding <= 0xDF:
		return GSM7
	case dataCoding <= 0xEF:
		return UCS2
	case dataCoding <= 0xF3:
		return GSM7
	case dataCoding <= 0xF7:
		return Binary
	}
	return Unknown
}

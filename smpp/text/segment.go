package text

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Segment sizes of 3GPP TS 23.040: 140 octets of user data, less the UDH.
const (
	// SingleGSM7 and SingleUCS2 are what one short message holds without UDH.
	SingleGSM7 = 160
	SingleUCS2 = 70
	// PartGSM7 and PartUCS2 are what one part holds after an 8-bit reference
	// UDH (6 octets: 05 00 03 ref total seq).
	PartGSM7 = 153
	PartUCS2 = 67
	// PartGSM7Ref16 and PartUCS2Ref16 are what one part holds after a 16-bit
	// reference UDH (7 octets: 06 08 04 refhi reflo total seq).
	PartGSM7Ref16 = 152
	PartUCS2Ref16 = 66
	// MaxParts is the most parts a concatenated message can have.
	MaxParts = 255
)

// ErrTooLong means a text needs more than MaxParts parts.
var ErrTooLong = errors.New("text: message needs more than 255 parts")

// Data coding values Encode uses.
const (
	DataCodingDefault = 0x00 // SMSC default alphabet, which Encode takes to be GSM 03.38
	DataCodingUCS2    = 0x08
)

// Segment is one short message of an MT text.
type Segment struct {
	// UDH is the user data header with its length octet, nil when the text
	// fits one short message.
	UDH []byte
	// Data is the encoded user data: unpacked septets for GSM7, UTF-16BE
	// for UCS2.
	Data []byte
}

// ShortMessage joins the segment's UDH and data as they go in short_message.
// When UDH is not nil, esm_class must carry UDHI (0x40). The result is a new
// slice.
func (s Segment) ShortMessage() []byte {
	b := make([]byte, 0, len(s.UDH)+len(s.Data))
	return append(append(b, s.UDH...), s.Data...)
}

// Encoded is an MT text encoded and split into short messages.
type Encoded struct {
	// DataCoding is DataCodingDefault (0x00) for GSM7 and DataCodingUCS2
	// (0x08) for UCS2.
	DataCoding byte
	// Alphabet is GSM7 or UCS2.
	Alphabet Alphabet
	// Segments are the parts in order; Segments[i] has sequence number i+1.
	Segments []Segment
}

// Encode encodes an MT text and splits it into short messages.
//
// The text is GSM 03.38 when every rune is in it, else UCS2. When it fits
// one short message (160 septets, an extension character counting two, or 70
// UTF-16 units) there is one segment without UDH. Otherwise each part holds
// 153 septets or 67 units after an 8-bit reference UDH (05 00 03 ref total
// seq, using the low byte of ref), or 152 / 66 after a 16-bit one (06 08 04
// refhi reflo total seq) when ref16 is set. A part never ends between an
// escape and its character, nor between the two halves of a surrogate pair:
// it is one unit shorter instead. A text that needs more than 255 parts is
// an error wrapping ErrTooLong. Invalid UTF-8 bytes and NUL in s are sent as
// U+FFFD.
func Encode(s string, ref uint16, ref16 bool) (Encoded, error) {
	if septets, ok := GSM7Septets(s); ok {
		per := PartGSM7
		if ref16 {
			per = PartGSM7Ref16
		}
		if septets > MaxParts*per {
			return Encoded{}, fmt.Errorf("text: encode: %d septets: %w", septets, ErrTooLong)
		}
		data := appendGSM7(make([]byte, 0, septets), s)
		segs, err := split(data, 1, SingleGSM7, per, ref, ref16, func(b []byte, j int) bool {
			return b[j-1] == escape
		})
		if err != nil {
			return Encoded{}, fmt.Errorf("text: encode: %d septets: %w", septets, err)
		}
		return Encoded{DataCoding: DataCodingDefault, Alphabet: GSM7, Segments: segs}, nil
	}
	units := ucs2Units(s)
	per := PartUCS2
	if ref16 {
		per = PartUCS2Ref16
	}
	if units > MaxParts*per {
		return Encoded{}, fmt.Errorf("text: encode: %d utf-16 units: %w", units, ErrTooLong)
	}
	data := appendUCS2(make([]byte, 0, 2*units), s)
	segs, err := split(data, 2, SingleUCS2, per, ref, ref16, func(b []byte, j int) bool {
		return b[j-2]&0xFC == 0xD8 // a high surrogate, D800–DBFF
	})
	if err != nil {
		return Encoded{}, fmt.Errorf("text: encode: %d utf-16 units: %w", units, err)
	}
	return Encoded{DataCoding: DataCodingUCS2, Alphabet: UCS2, Segments: segs}, nil
}

// split cuts data, made of size-byte units, into segments of at most
// single units (one segment, no UDH) or per units each. opens(data, j)
// reports whether the unit ending at byte j starts a pair that must not be
// cut. The segments alias data and one shared UDH buffer, each capped so an
// append to one cannot overwrite the next.
func split(data []byte, size, single, per int, ref uint16, ref16 bool, opens func([]byte, int) bool) ([]Segment, error) {
	if len(data) <= single*size {
		return []Segment{{Data: data[:len(data):len(data)]}}, nil
	}
	// Count first, so that the UDH, which carries the total, is written once.
	limit := per * size
	parts := 0
	for i := 0; i < len(data); parts++ {
		i = cut(data, i, limit, size, opens)
	}
	if parts > MaxParts {
		return nil, ErrTooLong
	}
	udhLen := 6
	if ref16 {
		udhLen = 7
	}
	udhs := make([]byte, parts*udhLen)
	segs := make([]Segment, parts)
	for i, k := 0, 0; k < parts; k++ {
		u := udhs[k*udhLen : (k+1)*udhLen : (k+1)*udhLen]
		if ref16 {
			u[0], u[1], u[2], u[3], u[4] = 6, ieConcat16, 4, byte(ref>>8), byte(ref)
		} else {
			u[0], u[1], u[2], u[3] = 5, ieConcat8, 3, byte(ref)
		}
		u[udhLen-2], u[udhLen-1] = byte(parts), byte(k+1)
		j := cut(data, i, limit, size, opens)
		segs[k] = Segment{UDH: u, Data: data[i:j:j]}
		i = j
	}
	return segs, nil
}

// cut returns where the part that starts at byte i ends.
func cut(data []byte, i, limit, size int, opens func([]byte, int) bool) int {
	j := i + limit
	if j >= len(data) {
		return len(data)
	}
	if opens(data, j) {
		j -= size
	}
	return j
}

// EncodeUCS2 encodes s as UTF-16BE, a rune above U+FFFF as a surrogate pair.
// An invalid UTF-8 byte and a NUL are encoded as U+FFFD, as Decode would read
// them.
func EncodeUCS2(s string) []byte {
	return appendUCS2(make([]byte, 0, 2*ucs2Units(s)), s)
}

func appendUCS2(dst []byte, s string) []byte {
	for _, r := range s {
		if r == 0 {
			r = utf8.RuneError
		}
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			dst = append(dst, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		dst = append(dst, byte(r>>8), byte(r))
	}
	return dst
}

// ucs2Units counts the UTF-16 units of s.
func ucs2Units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// Fits reports whether s fits one short message without UDH, for checking
// reply templates when the configuration is loaded: units is the septets
// (an extension character counting two) when s is GSM 03.38, else the UTF-16
// units, and limit is 160 or 70 accordingly.
func Fits(s string) (units, limit int, ok bool) {
	if n, gsm := GSM7Septets(s); gsm {
		return n, SingleGSM7, n <= SingleGSM7
	}
	n := ucs2Units(s)
	return n, SingleUCS2, n <= SingleUCS2
}

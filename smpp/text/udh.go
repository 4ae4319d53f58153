package text

import (
	"errors"
	"fmt"
)

// Sentinels for malformed concatenation data; the errors returned wrap them
// with where the trouble is.
var (
	// ErrUDH means a user data header is malformed: its length runs past
	// the message, or an information element past the header.
	ErrUDH = errors.New("text: malformed udh")
	// ErrConcat means a concatenation information element or SAR TLV set is
	// malformed: wrong length, total 0, sequence 0, or sequence > total.
	ErrConcat = errors.New("text: malformed concatenation")
)

// 3GPP TS 23.040 §9.2.3.24 information element identifiers.
const (
	ieConcat8  = 0x00 // concatenated short messages, 8-bit reference
	ieConcat16 = 0x08 // concatenated short messages, 16-bit reference
)

// Concat says which part of a concatenated message a short message is.
type Concat struct {
	// Ref is the reference number shared by the parts.
	Ref uint16
	// Total is the number of parts, Seq this part's number, 1..Total.
	Total, Seq uint8
	// RefBits is 8 or 16, the width of Ref on the wire. Two messages whose
	// refs have different widths are different messages.
	RefBits uint8
}

// SplitUDH splits a short_message that carries a user data header (esm_class
// & 0x40) into the header, starting with its length octet (UDHL), and the
// user data. Both alias sm: copy them to keep them past sm's lifetime.
// The information elements are walked, and an element that runs past the
// header is an error (wrapping ErrUDH), as is a header longer than sm.
func SplitUDH(sm []byte) (udh, data []byte, err error) {
	if len(sm) == 0 {
		return nil, nil, fmt.Errorf("text: split udh: empty short_message: %w", ErrUDH)
	}
	end := 1 + int(sm[0])
	if end > len(sm) {
		return nil, nil, fmt.Errorf("text: split udh: length %d exceeds the %d bytes after it: %w", sm[0], len(sm)-1, ErrUDH)
	}
	udh = sm[:end:end]
	if err := walkIEs(udh, func(int, byte, []byte) error { return nil }); err != nil {
		return nil, nil, err
	}
	return udh, sm[end:], nil
}

// walkIEs calls f for each information element of udh (which starts with
// its length octet) in order, with the element's offset in udh.
func walkIEs(udh []byte, f func(off int, iei byte, val []byte) error) error {
	if len(udh) == 0 {
		return fmt.Errorf("text: udh: empty: %w", ErrUDH)
	}
	end := 1 + int(udh[0])
	if end > len(udh) {
		return fmt.Errorf("text: udh: length %d exceeds the %d bytes after it: %w", udh[0], len(udh)-1, ErrUDH)
	}
	for off := 1; off < end; {
		if off+2 > end {
			return fmt.Errorf("text: udh: information element at offset %d truncated: %w", off, ErrUDH)
		}
		iei, n := udh[off], int(udh[off+1])
		if off+2+n > end {
			return fmt.Errorf("text: udh: information element 0x%02x at offset %d: length %d runs past the header: %w", iei, off, n, ErrUDH)
		}
		if err := f(off, iei, udh[off+2:off+2+n]); err != nil {
			return err
		}
		off += 2 + n
	}
	return nil
}

// ParseConcat finds the concatenation information element (0x00 or 0x08) in
// udh, which starts with its length octet as SplitUDH returns it. ok is false
// if there is none. A header that does not parse, or a concatenation element
// of the wrong length or with total 0, sequence 0 or sequence > total, is an
// error. 23.040 says the last occurrence of a non-repeatable element is the
// one to use, so a second concatenation element overrides the first.
func ParseConcat(udh []byte) (c Concat, ok bool, err error) {
	err = walkIEs(udh, func(off int, iei byte, val []byte) error {
		switch iei {
		case ieConcat8:
			if len(val) != 3 {
				return fmt.Errorf("text: udh: concatenation element 0x00 at offset %d has length %d, want 3: %w", off, len(val), ErrConcat)
			}
			c = Concat{Ref: uint16(val[0]), Total: val[1], Seq: val[2], RefBits: 8}
		case ieConcat16:
			if len(val) != 4 {
				return fmt.Errorf("text: udh: concatenation element 0x08 at offset %d has length %d, want 4: %w", off, len(val), ErrConcat)
			}
			c = Concat{Ref: uint16(val[0])<<8 | uint16(val[1]), Total: val[2], Seq: val[3], RefBits: 16}
		default:
			return nil
		}
		ok = true
		return nil
	})
	if err != nil {
		return Concat{}, false, err
	}
	if !ok {
		return Concat{}, false, nil
	}
	if err := c.check(); err != nil {
		return Concat{}, false, fmt.Errorf("text: udh: %w", err)
	}
	return c, true, nil
}

// check validates total and sequence.
func (c Concat) check() error {
	switch {
	case c.Total == 0:
		return fmt.Errorf("concatenation total is 0: %w", ErrConcat)
	case c.Seq == 0:
		return fmt.Errorf("concatenation sequence is 0: %w", ErrConcat)
	case c.Seq > c.Total:
		return fmt.Errorf("concatenation sequence %d > total %d: %w", c.Seq, c.Total, ErrConcat)
	}
	return nil
}

// ParseSAR reads the values of the SMPP 3.4 SAR TLVs: sar_msg_ref_num
// (0x020C, 2 octets), sar_total_segments (0x020E, 1) and
// sar_segment_seqnum (0x020F, 1). A value of another length, total 0,
// sequence 0 or sequence > total is an error wrapping ErrConcat. The
// reference is 16 bits wide.
func ParseSAR(ref, total, seq []byte) (Concat, error) {
	switch {
	case len(ref) != 2:
		return Concat{}, fmt.Errorf("text: sar: sar_msg_ref_num has length %d, want 2: %w", len(ref), ErrConcat)
	case len(total) != 1:
		return Concat{}, fmt.Errorf("text: sar: sar_total_segments has length %d, want 1: %w", len(total), ErrConcat)
	case len(seq) != 1:
		return Concat{}, fmt.Errorf("text: sar: sar_segment_seqnum has length %d, want 1: %w", len(seq), ErrConcat)
	}
	c := Concat{Ref: uint16(ref[0])<<8 | uint16(ref[1]), Total: total[0], Seq: seq[0], RefBits: 16}
	if err := c.check(); err != nil {
		return Concat{}, fmt.Errorf("text: sar: %w", err)
	}
	return c, nil
}

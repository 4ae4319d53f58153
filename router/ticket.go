package router

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
)

// TicketNumber is a ticket's public number: 9 random digits followed by a
// Damm check digit, 10 digits in all. Random rather than sequential so that
// it cannot be guessed; ten digits so that it cannot be taken for one of
// LAPOR!'s 7-digit "#" ids; Damm because it catches every single wrong digit
// and every swap of two neighbouring digits, the two mistakes people make
// retyping a number on a keypad.
type TicketNumber string

// TicketNumberLen is the number of digits in a ticket number.
const TicketNumberLen = 10

// Errors from ParseTicketNumber.
var (
	ErrTicketShape = errors.New("ticket number: not 10 digits")
	ErrTicketCheck = errors.New("ticket number: wrong check digit")
)

// dammTable is the totally anti-symmetric quasigroup of order 10 from
// H. M. Damm's thesis (2004), as tabulated in the literature.
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammInterim returns the Damm interim digit of a string of ASCII digits;
// it is 0 exactly when the string ends in its own check digit.
func dammInterim(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = dammTable[interim][digits[i]-'0']
	}
	return interim
}

// NewTicketNumber draws a fresh random ticket number. The first digit is
// never 0, so the number keeps its length when someone treats it as an
// integer (a spreadsheet, a phone's calculator).
func NewTicketNumber() TicketNumber {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	n := 100_000_000 + binary.BigEndian.Uint64(b[:])%900_000_000
	var d [TicketNumberLen]byte
	for i := 8; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	d[9] = '0' + dammInterim(string(d[:9]))
	return TicketNumber(d[:])
}

// ParseTicketNumber accepts a ticket number as people type it — with or
// without spaces, dashes, dots or a leading '#' — and checks its digit.
func ParseTicketNumber(s string) (TicketNumber, error) {
	var b strings.Builder
	b.Grow(TicketNumberLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if b.Len() == TicketNumberLen {
				return "", ErrTicketShape
			}
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '#' || c == '\t':
		default:
			return "", ErrTicketShape
		}
	}
	if b.Len() != TicketNumberLen {
		return "", ErrTicketShape
	}
	n := b.String()
	if dammInterim(n) != 0 {
		return "", ErrTicketCheck
	}
	return TicketNumber(n), nil
}

// Valid reports whether t is 10 digits with a correct check digit.
func (t TicketNumber) Valid() bool {
	if len(t) != TicketNumberLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return dammInterim(string(t)) == 0
}

// String returns the ten digits.
func (t TicketNumber) String() string { return string(t) }

// State is a ticket's lifecycle state, named as LAPOR! names them.
type State string

// Ticket states (DESIGN.md, "Tickets").
const (
	StateDiterima        State = "diterima"
	StateTerverifikasi   State = "terverifikasi"
	StateTerdisposisi    State = "terdisposisi"
	StateDitindaklanjuti State = "ditindaklanjuti"
	StateSelesai         State = "selesai"
	StateTunda           State = "tunda"
	StateBukanWewenang   State = "bukan_wewenang"
	StateArsip           State = "arsip"
	StateDitanggapi      State = "ditanggapi_pelapor"
	StateSelesaiOtomatis State = "selesai_otomatis"
)

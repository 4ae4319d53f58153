package router

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/sp4n-lapor/sms1708/parser"
)

// TicketNumber is a ticket's public number: 9 random digits followed by a
// Damm check digit, 10 digits in all. Random rather than sequential so that
// it cannot be guessed; ten digits so that it cannot be taken for one of
// LAPOR!'s 7-digit "#" ids; Damm because it catches every single wrong digit
// and every swap of two neighbouring digits, the two mistakes people make
// retyping a number on a keypad.
type TicketNumber string

// TicketNumberLen is the number of digits in a ticket number.
const TicketNumberLen = parser.TicketLen

// Errors from ParseTicketNumber: the parser's own, so that errors.Is works
// whichever package reported them.
var (
	ErrTicketShape = parser.ErrTicketShape
	ErrTicketCheck = parser.ErrTicketCheck
)

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
	d[9] = parser.TicketCheckDigit(string(d[:9]))
	return TicketNumber(d[:])
}

// ParseTicketNumber accepts a ticket number as people type it — with or
// without spaces, dashes, dots or a leading '#' — and checks its digit.
func ParseTicketNumber(s string) (TicketNumber, error) {
	n, err := parser.ParseTicket(s)
	return TicketNumber(n), err
}

// Valid reports whether t is 10 digits with a correct check digit.
func (t TicketNumber) Valid() bool { return parser.ValidTicket(string(t)) }

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

package parser

import "errors"

// TicketLen is the number of digits in a ticket number: 9 random digits
// and a Damm check digit (router.TicketNumber). Ten, so that a ticket can
// never be taken for one of LAPOR!'s 7-digit "#" ids.
const TicketLen = 10

// Errors reported in Command.TicketErr and by ParseTicket. The router
// answers them with a hint ("periksa lagi nomor tiket") instead of a lookup.
var (
	// ErrTicketShape: what followed CEK/STATUS/TAMBAH looked like a number
	// but not like ours — too few or too many digits, e.g. a LAPOR! id
	// "#1916449".
	ErrTicketShape = errors.New("parser: ticket number is not 10 digits")
	// ErrTicketCheck: ten digits whose check digit is wrong — one digit
	// mistyped or two neighbours swapped.
	ErrTicketCheck = errors.New("parser: ticket number has a wrong check digit")
)

// dammTable is the totally anti-symmetric quasigroup of order 10 from
// H. M. Damm's thesis (2004). It is the one table of the module: the router
// draws ticket numbers with TicketCheckDigit; TestTicketKnownGood holds
// numbers drawn by router.NewTicketNumber.
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

// TicketCheckDigit returns the Damm check digit (an ASCII digit) that
// completes a string of ASCII digits into a valid ticket number.
func TicketCheckDigit(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = dammTable[interim][digits[i]-'0']
	}
	return '0' + interim
}

// dammCheck reports whether a string of ASCII digits ends in its own Damm
// check digit (the interim digit over the whole string is 0).
func dammCheck[T ~string | ~[]byte](digits T) bool {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = dammTable[interim][digits[i]-'0']
	}
	return interim == 0
}

// ValidTicket reports whether s is exactly ten ASCII digits with a right
// check digit.
func ValidTicket(s string) bool {
	if len(s) != TicketLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return dammCheck(s)
}

// ParseTicket accepts a ticket number as people type it — digits with
// spaces, dashes or dots between them and an optional leading '#' — and
// returns its ten digits, or ErrTicketShape / ErrTicketCheck. It is the
// same syntax router.ParseTicketNumber accepts.
func ParseTicket(s string) (string, error) {
	var d [TicketLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == TicketLen {
				return "", ErrTicketShape
			}
			d[n] = c
			n++
		case c == '#' && n == 0:
		case c == ' ' || c == '-' || c == '.' || c == '\t':
		default:
			return "", ErrTicketShape
		}
	}
	if n != TicketLen {
		return "", ErrTicketShape
	}
	if !dammCheck(d[:]) {
		return "", ErrTicketCheck
	}
	return string(d[:]), nil
}

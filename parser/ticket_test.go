package parser

import (
	"errors"
	"testing"
)

// knownGood are ticket numbers drawn by router.NewTicketNumber, so that
// the two Damm implementations are held to the same table.
var knownGood = []string{
	"9413834240", "9397613133", "3194433743", "8921846110", "1822369798", "7662871699",
	"3687378683", "7683016510", "3730463095", "8967602868", "8330310438", "7335105695",
}

func TestTicketKnownGood(t *testing.T) {
	for _, n := range knownGood {
		if !ValidTicket(n) {
			t.Errorf("ValidTicket(%q) = false", n)
		}
		if got, err := ParseTicket(n); got != n || err != nil {
			t.Errorf("ParseTicket(%q) = %q, %v", n, got, err)
		}
	}
}

// Damm's check digit catches every single wrong digit and every swap of
// two different neighbours.
func TestTicketCatchesEveryTypo(t *testing.T) {
	for _, n := range knownGood {
		for i := range TicketLen {
			for d := byte('0'); d <= '9'; d++ {
				if d == n[i] {
					continue
				}
				typo := n[:i] + string(d) + n[i+1:]
				if _, err := ParseTicket(typo); !errors.Is(err, ErrTicketCheck) {
					t.Errorf("ParseTicket(%q) (from %q) error = %v, want ErrTicketCheck", typo, n, err)
				}
			}
			if i+1 < TicketLen && n[i] != n[i+1] {
				swap := n[:i] + string(n[i+1]) + string(n[i]) + n[i+2:]
				if ValidTicket(swap) {
					t.Errorf("ValidTicket(%q) (from %q) = true", swap, n)
				}
			}
		}
	}
}

func TestParseTicket(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "9413834240", "9413834240", nil},
		{"with #", "#9413834240", "9413834240", nil},
		{"with spaces", "941 383 4240", "9413834240", nil},
		{"with dashes", "94-1383-4240", "9413834240", nil},
		{"with dots", "941.383.4240", "9413834240", nil},
		{"wrong check digit", "9413834241", "", ErrTicketCheck},
		{"LAPOR! id", "#1916449", "", ErrTicketShape},
		{"eleven digits", "94138342401", "", ErrTicketShape},
		{"a letter", "94138342x0", "", ErrTicketShape},
		{"# inside", "94138#34240", "", ErrTicketShape},
		{"empty", "", "", ErrTicketShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTicket(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("ParseTicket(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestValidTicketShape(t *testing.T) {
	for _, s := range []string{"", "941383424", "94138342400", "941383424a", "#941383424"} {
		if ValidTicket(s) {
			t.Errorf("ValidTicket(%q) = true", s)
		}
	}
}

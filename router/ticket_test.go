package router

import (
	"errors"
	"testing"
)

func TestNewTicketNumberIsValid(t *testing.T) {
	seen := make(map[TicketNumber]bool)
	for range 10000 {
		n := NewTicketNumber()
		if !n.Valid() {
			t.Fatalf("NewTicketNumber() = %q: not valid", n)
		}
		if n[0] == '0' {
			t.Fatalf("NewTicketNumber() = %q: leading zero", n)
		}
		seen[n] = true
	}
	// 10,000 draws from 9e8 numbers: a handful of collisions would mean a broken source.
	if len(seen) < 9990 {
		t.Fatalf("only %d distinct numbers in 10000 draws", len(seen))
	}
}

func TestParseTicketNumber(t *testing.T) {
	good := NewTicketNumber()
	s := string(good)
	tests := []struct {
		name    string
		in      string
		want    TicketNumber
		wantErr error
	}{
		{"plain", s, good, nil},
		{"spaces", s[:3] + " " + s[3:6] + " " + s[6:], good, nil},
		{"dashes", s[:4] + "-" + s[4:], good, nil},
		{"hash prefix", "#" + s, good, nil},
		{"too short", s[:9], "", ErrTicketShape},
		{"too long", s + "1", "", ErrTicketShape},
		{"letters", s[:5] + "x" + s[6:], "", ErrTicketShape},
		{"lapor id shape", "#1916449", "", ErrTicketShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTicketNumber(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("ParseTicketNumber(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// The check digit must catch every single wrong digit and every swap of
// neighbours: the two mistakes of retyping on a keypad.
func TestTicketCheckDigitCatchesTypos(t *testing.T) {
	for range 200 {
		n := []byte(NewTicketNumber())
		for i := range n {
			orig := n[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				n[i] = d
				if _, err := ParseTicketNumber(string(n)); !errors.Is(err, ErrTicketCheck) {
					t.Fatalf("single-digit error at %d in %s not caught: %v", i, n, err)
				}
			}
			n[i] = orig
		}
		for i := 0; i+1 < len(n); i++ {
			if n[i] == n[i+1] {
				continue
			}
			n[i], n[i+1] = n[i+1], n[i]
			if _, err := ParseTicketNumber(string(n)); !errors.Is(err, ErrTicketCheck) {
				t.Fatalf("swap at %d in %s not caught: %v", i, n, err)
			}
			n[i], n[i+1] = n[i+1], n[i]
		}
	}
}

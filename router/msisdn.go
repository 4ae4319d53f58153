package router

import (
	"log/slog"
	"strings"
)

// MSISDN is a phone number as digits only, without '+', in international
// form for Indonesian numbers ("6281234567890"). It masks itself in logs:
// a reporter's number is personal data (UU 27/2022) and Perpres 76/2013
// requires the complainant's identity to be kept confidential.
type MSISDN string

// Type-of-number values of SMPP 3.4 §5.2.5 that matter for normalising.
const (
	TONUnknown       uint8 = 0
	TONInternational uint8 = 1
	TONNational      uint8 = 2
	TONAlphanumeric  uint8 = 5
)

// NormalizeMSISDN turns a source address as an SMSC delivers it into an
// MSISDN: "+62…", "62…", "0062…" and national "08…" all become "628…".
// Non-digit separators are dropped. ok is false for an address that is not
// a phone number a reply can go to: alphanumeric senders, short codes and
// empty addresses. No reply ever goes to those — that is how SMS loops start.
func NormalizeMSISDN(addr string, ton uint8) (m MSISDN, ok bool) {
	if ton == TONAlphanumeric {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(addr))
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			// A letter means an alphanumeric sender, whatever its TON says.
			return "", false
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case ton == TONNational && strings.HasPrefix(d, "0"):
		d = "62" + d[1:]
	case ton != TONInternational && strings.HasPrefix(d, "08"):
		d = "62" + d[1:]
	case ton == TONNational && strings.HasPrefix(d, "8"):
		d = "62" + d
	}
	// E.164 numbers have at most 15 digits; anything under 8 is a short
	// code or a service number, never a citizen's handset.
	if len(d) < 8 || len(d) > 15 {
		return "", false
	}
	return MSISDN(d), true
}

// String returns the digits.
func (m MSISDN) String() string { return string(m) }

// Masked hides the middle of the number: "6281******890".
func (m MSISDN) Masked() string {
	s := string(m)
	if len(s) <= 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-7) + s[len(s)-3:]
}

// LogValue implements slog.LogValuer so that a number is never logged whole.
func (m MSISDN) LogValue() slog.Value { return slog.StringValue(m.Masked()) }

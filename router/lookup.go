package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
)

// TicketInfo is what processing needs to know of a stored ticket.
type TicketInfo struct {
	ID        int64
	Number    TicketNumber
	MSISDN    string
	State     State
	AgencyID  string
	CreatedAt time.Time
}

// Prefs are a number's preferences, set by SMS.
type Prefs struct {
	StatusOff    bool      // STOP: no status-change SMS
	LastCourtesy time.Time // when we last answered a bare "terima kasih"
}

// Lookup reads what deciding needs from the store, inside the processing
// transaction. Every method takes a whole batch: one round trip for many
// messages, never one per message.
type Lookup interface {
	TicketsByNumber(ctx context.Context, numbers []TicketNumber) (map[TicketNumber]TicketInfo, error)
	// RecentTickets finds, for each dedup key, the oldest ticket with that
	// key created since the given time.
	RecentTickets(ctx context.Context, dedupKeys []string, since time.Time) (map[string]TicketInfo, error)
	Prefs(ctx context.Context, msisdns []string) (map[string]Prefs, error)
}

// DedupKey identifies "the same complaint from the same number": the number
// and the text folded to lowercase letters and digits with single spaces,
// so that a resend with other capitals, spacing or punctuation is still the
// same complaint. It is a hash: the key is stored and indexed, the text and
// number already are, and the key need not repeat them.
func DedupKey(msisdn, text string) string {
	var b strings.Builder
	b.Grow(len(msisdn) + 1 + len(text))
	b.WriteString(msisdn)
	b.WriteByte(0)
	space := false
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > len(msisdn)+1 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	h := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(h[:16])
}

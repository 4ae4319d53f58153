package router

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// Reply kinds: the keys of the reply templates in configs/ and the kind of
// an outbox row. With the message id they are unique, so a message that is
// processed twice cannot queue the same reply twice.
const (
	ReplyAck  = "ack"
	ReplyHelp = "help"
)

// Placeholders a template may use.
const (
	PlaceholderTicket = "{ticket}"
)

// Templates are the texts of the replies to citizens, in Bahasa Indonesia.
// Every template must fit one SMS with its placeholders filled at their
// longest (DESIGN.md: one segment per reply where possible; a feature phone
// shows a multipart reply badly or not at all).
type Templates map[string]string

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

// requiredTemplates are the kinds the router sends today.
var requiredTemplates = []string{ReplyAck, ReplyHelp}

// Validate checks that every required template is present and that each
// fits one SMS when rendered; it returns every problem at once.
func (t Templates) Validate() error {
	var errs []error
	for _, k := range requiredTemplates {
		if strings.TrimSpace(t[k]) == "" {
			errs = append(errs, fmt.Errorf("replies.%s: missing", k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		v := t[k]
		rendered := renderTemplate(v, TicketNumber(strings.Repeat("9", TicketNumberLen)))
		if units, limit, ok := text.Fits(rendered); !ok {
			errs = append(errs, fmt.Errorf("replies.%s: %d units, more than one SMS (%d); escapes such as € [ ] { } ~ ^ | \\ count two", k, units, limit))
		}
		// A literal brace is legal GSM text, but {word} that is not a known
		// placeholder is almost always a typo that would reach citizens.
		for _, p := range placeholderRE.FindAllString(v, -1) {
			if p != PlaceholderTicket {
				errs = append(errs, fmt.Errorf("replies.%s: unknown placeholder %s (known: %s)", k, p, PlaceholderTicket))
			}
		}
	}
	return errors.Join(errs...)
}

// Render fills a template.
func (t Templates) Render(kind string, ticket TicketNumber) string {
	return renderTemplate(t[kind], ticket)
}

func renderTemplate(tpl string, ticket TicketNumber) string {
	return strings.ReplaceAll(tpl, PlaceholderTicket, string(ticket))
}

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

// Outbox kinds of replies. With the message id a kind is unique, so a
// message processed twice cannot queue the same kind of reply twice.
const (
	KindAck      = "ack"
	KindStatus   = "status"
	KindHelp     = "help"
	KindCourtesy = "courtesy"
)

// Reply templates: the keys of configs/replies.yaml.
const (
	TplAck          = "ack"           // ticket for the triage desk: {ticket}
	TplAckAgency    = "ack_agency"    // ticket routed to an agency: {ticket} {agency}
	TplAckAgain     = "ack_again"     // the same complaint again: {ticket}
	TplStatus       = "status"        // CEK: {ticket} {state} {agency}
	TplNotFound     = "not_found"     // CEK/TAMBAH of a ticket that is not the sender's: {ticket}
	TplBadTicket    = "bad_ticket"    // wrong check digit
	TplTicketFormat = "ticket_format" // CEK/TAMBAH without a ticket-shaped number
	TplAppendOK     = "append_ok"     // TAMBAH accepted: {ticket}
	TplStopOK       = "stop_ok"
	TplStartOK      = "start_ok"
	TplHelp         = "help"
	TplCourtesy     = "courtesy"
)

// ReplyAck and ReplyHelp are kept for callers that name the common kinds.
const (
	ReplyAck  = KindAck
	ReplyHelp = KindHelp
)

var requiredTemplates = []string{TplAck, TplAckAgency, TplAckAgain, TplStatus, TplNotFound, TplBadTicket,
	TplTicketFormat, TplAppendOK, TplStopOK, TplStartOK, TplHelp, TplCourtesy}

// Vars fill a template's placeholders {ticket}, {agency} and {state}.
type Vars struct {
	Ticket TicketNumber
	Agency string
	State  State
}

// stateLabels say a state to a citizen, in Bahasa Indonesia.
var stateLabels = map[State]string{
	StateDiterima:        "diterima, menunggu verifikasi",
	StateTerverifikasi:   "terverifikasi",
	StateTerdisposisi:    "diteruskan ke instansi",
	StateDitindaklanjuti: "sedang ditindaklanjuti",
	StateSelesai:         "selesai",
	StateTunda:           "ditunda",
	StateBukanWewenang:   "dialihkan ke instansi lain",
	StateArsip:           "diarsipkan",
	StateDitanggapi:      "ditanggapi pelapor",
	StateSelesaiOtomatis: "selesai otomatis",
}

// StateLabel is the citizen-facing name of a state.
func StateLabel(s State) string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Templates are the texts of the replies to citizens, in Bahasa Indonesia.
// Every template must fit one SMS with its placeholders filled at their
// longest (DESIGN.md: one segment per reply where possible; a feature phone
// shows a multipart reply badly or not at all).
type Templates map[string]string

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

var knownPlaceholders = map[string]bool{"{ticket}": true, "{agency}": true, "{state}": true}

// longestVars fills placeholders at their longest, for the one-SMS check.
func longestVars() Vars {
	v := Vars{Ticket: TicketNumber(strings.Repeat("9", TicketNumberLen)), Agency: strings.Repeat("W", MaxShortName)}
	for s, l := range stateLabels {
		if len(l) > len(StateLabel(v.State)) {
			v.State = s
		}
	}
	return v
}

// Validate checks that every template is present, that each fits one SMS
// when rendered at its longest, and that it names only known placeholders;
// it returns every problem at once.
func (t Templates) Validate() error {
	var errs []error
	for _, k := range requiredTemplates {
		if strings.TrimSpace(t[k]) == "" {
			errs = append(errs, fmt.Errorf("replies.%s: missing", k))
		}
	}
	long := longestVars()
	for _, k := range slices.Sorted(maps.Keys(t)) {
		v := t[k]
		if units, limit, ok := text.Fits(render(v, long)); !ok {
			errs = append(errs, fmt.Errorf("replies.%s: %d units, more than one SMS (%d) with the placeholders at their longest; escapes such as € [ ] { } ~ ^ | \\ count two", k, units, limit))
		}
		// A literal brace is legal GSM text, but {word} that is not a known
		// placeholder is almost always a typo that would reach citizens.
		for _, p := range placeholderRE.FindAllString(v, -1) {
			if !knownPlaceholders[p] {
				errs = append(errs, fmt.Errorf("replies.%s: unknown placeholder %s (known: {ticket} {agency} {state})", k, p))
			}
		}
	}
	return errors.Join(errs...)
}

// Render fills a template.
func (t Templates) Render(name string, v Vars) string { return render(t[name], v) }

// render substitutes the placeholders in one pass. (A strings.Replacer
// built per reply cost more than the reply: it is made for a table used
// many times.) Any other brace is kept as written.
func render(tpl string, v Vars) string {
	i := strings.IndexByte(tpl, '{')
	if i < 0 {
		return tpl
	}
	var b strings.Builder
	b.Grow(len(tpl) + 40)
	for i >= 0 {
		b.WriteString(tpl[:i])
		tpl = tpl[i:]
		switch {
		case strings.HasPrefix(tpl, "{ticket}"):
			b.WriteString(string(v.Ticket))
			tpl = tpl[len("{ticket}"):]
		case strings.HasPrefix(tpl, "{agency}"):
			b.WriteString(v.Agency)
			tpl = tpl[len("{agency}"):]
		case strings.HasPrefix(tpl, "{state}"):
			b.WriteString(StateLabel(v.State))
			tpl = tpl[len("{state}"):]
		default:
			b.WriteByte('{')
			tpl = tpl[1:]
		}
		i = strings.IndexByte(tpl, '{')
	}
	b.WriteString(tpl)
	return b.String()
}

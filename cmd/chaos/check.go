package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The results file of `smscsim load --out` (cmd/smscsim/load.go), as far as the checker
// reads it.
type loadResults struct {
	Version    int                `json:"version"`
	Seed       uint64             `json:"seed"`
	Prefix     string             `json:"prefix"`
	Started    int64              `json:"started"`
	Finished   int64              `json:"finished"`
	Summary    loadSummary        `json:"summary"`
	Complaints []complaintResult  `json:"complaints"`
	Replies    map[string][]reply `json:"replies"`
	Unknown    int                `json:"unknown_replies"`
	Acks       [][2]int64         `json:"acks"`
	Faults     []int64            `json:"faults"`
}

type loadSummary struct {
	Messages       int       `json:"messages"`
	Complaints     int       `json:"complaints"`
	Repeats        int       `json:"repeats"`
	FloodMessages  int       `json:"flood_messages"`
	PDUs           int       `json:"pdus"`
	Attempts       int       `json:"attempts"`
	Redeliveries   int       `json:"redeliveries"`
	Deferred       int       `json:"deferred"`
	CutInFlight    int       `json:"cut_in_flight"`
	Refused        int       `json:"refused"`
	PDUsAcked      int       `json:"pdus_acked"`
	Unacked        int       `json:"unacked"`
	AckedPerSecond float64   `json:"acked_per_second"`
	RespMs         quantiles `json:"resp_ms"`
	AckMs          quantiles `json:"ack_ms"`
	ReplyMs        quantiles `json:"reply_ms"`
	Replies        int       `json:"replies"`
}

type quantiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

type complaintResult struct {
	Marker string       `json:"marker"`
	Sender string       `json:"sender"`
	Flood  bool         `json:"flood"`
	Sends  []sendResult `json:"sends"`
}

type sendResult struct {
	Repeat bool        `json:"repeat"`
	Acked  int64       `json:"acked"`
	PDUs   []pduResult `json:"pdus"`
}

type pduResult struct {
	ShortMessage []byte `json:"short_message"`
	Acked        int64  `json:"acked"`
	Rejected     string `json:"rejected"`
}

type reply struct {
	Text       string   `json:"text"`
	MessageIDs []string `json:"message_ids"`
	At         int64    `json:"at"`
}

func readResults(path string) (*loadResults, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chaos: results: %w", err)
	}
	var r loadResults
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("chaos: results %s: %w", path, err)
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("chaos: results %s: version %d, want 1", path, r.Version)
	}
	if r.Prefix == "" {
		return nil, fmt.Errorf("chaos: results %s: no marker prefix", path)
	}
	return &r, nil
}

// checkResult is the end state of one load against the database.
type checkResult struct {
	Complaints int `json:"complaints"` // unique complaints sent
	Acked      int `json:"acked"`      // … of which at least one send was acked
	Messages   int `json:"messages"`   // messages sent (repeats included)
	PDUsAcked  int `json:"pdus_acked"`
	Tickets    int `json:"tickets"` // tickets carrying one of the run's markers

	NoTicket          int `json:"no_ticket"`          // acked complaints without a ticket
	DoubledComplaints int `json:"doubled_complaints"` // complaints with more than one ticket
	DoubledTickets    int `json:"doubled_tickets"`    // tickets beyond the first, summed
	DoubledByRepeats  int `json:"doubled_by_repeats"` // … explained by the complaint being resent (dedup of resent complaints)
	DoubledByRedeliv  int `json:"doubled_by_redelivery"`

	Lost           int `json:"lost"`            // acked PDUs with no inbound row
	InboundDoubled int `json:"inbound_doubled"` // acked PDUs stored more than once (redeliveries kept)
	Unprocessed    int `json:"unprocessed"`     // the run's messages still pending

	AckRows          int            `json:"ack_rows"`           // acknowledgement rows for the run's tickets
	TicketsNoAck     int            `json:"tickets_no_ack"`     // tickets without an acknowledgement row (held ones aside)
	TicketsManyAcks  int            `json:"tickets_many_acks"`  // acknowledgement rows beyond one per acked send of the complaint, summed
	RepliesPending   int            `json:"replies_pending"`    // replies still pending or being sent at the check
	AcksNotReceived  int            `json:"acks_not_received"`  // outbox replies the citizen did not get (held ones aside)
	NotReceivedState map[string]int `json:"not_received_state"` // … by outbox state
	DoubledAcks      int            `json:"doubled_acks"`       // replies received more often than the outbox holds them
	Held             int            `json:"held"`               // replies held back by flood control (outbox marker or a message outcome naming it)
	HeldSupported    bool           `json:"held_supported"`     // the schema has a way to hold replies back
	FloodNoReply     int            `json:"flood_no_reply"`     // flood complaints whose ticket's reply never came
}

// failures lists why a run fails: anything lost, or doubled tickets unless allowed.
func (c checkResult) failures(allowDoubles bool) []string {
	var f []string
	if c.Lost > 0 {
		f = append(f, fmt.Sprintf("%d acked MO PDUs are not in the inbound table (lost)", c.Lost))
	}
	if c.NoTicket > 0 {
		f = append(f, fmt.Sprintf("%d acked complaints have no ticket", c.NoTicket))
	}
	if c.DoubledTickets > 0 && !allowDoubles {
		f = append(f, fmt.Sprintf("%d doubled tickets (%d from resent complaints, %d from redeliveries or reprocessing)",
			c.DoubledTickets, c.DoubledByRepeats, c.DoubledByRedeliv))
	}
	return f
}

// markerRE finds a load marker in a ticket's text.
func markerRE(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`\[` + regexp.QuoteMeta(prefix) + `-[0-9]+\]`)
}

// check compares what the load sent and received (res) with the database's end state.
func check(ctx context.Context, dsn string, res *loadResults) (checkResult, error) {
	var out checkResult
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return out, fmt.Errorf("chaos: check: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	senders := map[string]bool{}
	flood := map[string]bool{}
	for _, c := range res.Complaints {
		senders[c.Sender] = true
		flood[c.Sender] = flood[c.Sender] || c.Flood
	}
	senderList := make([]string, 0, len(senders))
	for s := range senders {
		senderList = append(senderList, s)
	}
	slices.Sort(senderList)

	// Lost: every acked PDU must be in inbound. A PDU is told by its sender and its
	// short_message bytes (which hold the UDH of a part): the load never sends the same bytes
	// twice from one number, so a row matches exactly one PDU, or its redeliveries.
	since := time.UnixMilli(res.Started).Add(-time.Minute)
	rows, err := conn.Query(ctx, `SELECT source_addr, raw FROM inbound WHERE source_addr = ANY($1) AND received_at >= $2`, senderList, since)
	if err != nil {
		return out, fmt.Errorf("chaos: check: inbound: %w", err)
	}
	inbound := map[string][][]byte{}
	for rows.Next() {
		var src string
		var raw []byte
		if err := rows.Scan(&src, &raw); err != nil {
			rows.Close()
			return out, fmt.Errorf("chaos: check: inbound: %w", err)
		}
		inbound[src] = append(inbound[src], raw)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("chaos: check: inbound: %w", err)
	}

	// Tickets carrying the run's markers.
	re := markerRE(res.Prefix)
	type ticket struct {
		id             int64
		number, msisdn string
	}
	tickets := map[string][]ticket{}
	ticketByID := map[int64]string{} // → marker
	rows, err = conn.Query(ctx, `SELECT id, number, msisdn, text FROM tickets WHERE msisdn = ANY($1) ORDER BY id`, senderList)
	if err != nil {
		return out, fmt.Errorf("chaos: check: tickets: %w", err)
	}
	for rows.Next() {
		var t ticket
		var text string
		if err := rows.Scan(&t.id, &t.number, &t.msisdn, &text); err != nil {
			rows.Close()
			return out, fmt.Errorf("chaos: check: tickets: %w", err)
		}
		m := re.FindString(text)
		if m == "" {
			continue
		}
		tickets[m] = append(tickets[m], t)
		ticketByID[t.id] = m
		out.Tickets++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("chaos: check: tickets: %w", err)
	}

	sendsAcked := map[string]int{} // marker → acked sends
	for _, c := range res.Complaints {
		out.Complaints++
		out.Messages += len(c.Sends)
		acked := false
		sends := 0
		for _, s := range c.Sends {
			if s.Acked != 0 {
				acked = true
				sends++
			}
			for _, p := range s.PDUs {
				if p.Acked == 0 || p.Rejected != "" {
					continue
				}
				out.PDUsAcked++
				n := 0
				for _, raw := range inbound[c.Sender] {
					if bytes.Contains(raw, p.ShortMessage) {
						n++
					}
				}
				switch {
				case n == 0:
					out.Lost++
				case n > 1:
					out.InboundDoubled++
				}
			}
		}
		sendsAcked[c.Marker] = sends
		if !acked {
			continue
		}
		out.Acked++
		switch n := len(tickets[c.Marker]); {
		case n == 0:
			out.NoTicket++
		case n > 1:
			out.DoubledComplaints++
			out.DoubledTickets += n - 1
			// A complaint sent k times (acked) may, without dedup of resent complaints,
			// have k tickets; more than that comes from a redelivered PDU or from
			// processing a message twice.
			byRepeat := min(n, sends) - 1
			out.DoubledByRepeats += byRepeat
			out.DoubledByRedeliv += n - 1 - byRepeat
		}
	}

	if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages WHERE state = 'pending' AND source = ANY($1)`, senderList).Scan(&out.Unprocessed); err != nil {
		return out, fmt.Errorf("chaos: check: messages: %w", err)
	}

	// Flood control may hold a reply back without an outbox row: the message's outcome
	// then says so (e.g. "ticket_held").
	heldTickets := map[int64]bool{}
	rows, err = conn.Query(ctx, `SELECT ticket_id FROM messages WHERE source = ANY($1) AND outcome LIKE '%held%'`, senderList)
	if err != nil {
		return out, fmt.Errorf("chaos: check: held messages: %w", err)
	}
	for rows.Next() {
		var id *int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return out, fmt.Errorf("chaos: check: held messages: %w", err)
		}
		out.Held++
		out.HeldSupported = true
		if id != nil {
			heldTickets[*id] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("chaos: check: held messages: %w", err)
	}

	// Replies: every outbox row to the run's numbers, and whether the citizen got it.
	heldExpr, err := heldExpression(ctx, conn)
	if err != nil {
		return out, err
	}
	out.HeldSupported = out.HeldSupported || heldExpr != "false"
	rows, err = conn.Query(ctx, `SELECT ticket_id, dest_addr, kind, text, state, `+heldExpr+` FROM outbox WHERE dest_addr = ANY($1)`, senderList)
	if err != nil {
		return out, fmt.Errorf("chaos: check: outbox: %w", err)
	}
	type textKey struct{ dest, text string }
	type outRow struct {
		ticket *int64
		kind   string
		state  string
		held   bool
	}
	rowsByText := map[textKey][]outRow{}
	acksByTicket := map[int64]int{}
	heldByTicket := map[int64]bool{}
	for rows.Next() {
		var r outRow
		var k textKey
		if err := rows.Scan(&r.ticket, &k.dest, &r.kind, &k.text, &r.state, &r.held); err != nil {
			rows.Close()
			return out, fmt.Errorf("chaos: check: outbox: %w", err)
		}
		rowsByText[k] = append(rowsByText[k], r)
		if r.state == "pending" || r.state == "sending" {
			out.RepliesPending++
		}
		if r.ticket != nil && r.kind == "ack" {
			if _, ours := ticketByID[*r.ticket]; ours {
				out.AckRows++
				acksByTicket[*r.ticket]++
				if r.held {
					heldByTicket[*r.ticket] = true
				}
			}
		}
		if r.held {
			out.Held++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("chaos: check: outbox: %w", err)
	}
	for marker, ts := range tickets {
		total := 0
		for _, t := range ts {
			n := acksByTicket[t.id]
			total += n
			if n == 0 && !heldByTicket[t.id] && !heldTickets[t.id] {
				out.TicketsNoAck++
			}
		}
		// A resent complaint is told its ticket number again: one acknowledgement per
		// acked send is expected, more is not.
		if extra := total - max(1, sendsAcked[marker]); extra > 0 {
			out.TicketsManyAcks += extra
		}
	}
	received := map[textKey]int{}
	for to, rs := range res.Replies {
		for _, r := range rs {
			received[textKey{to, r.Text}]++
		}
	}
	out.NotReceivedState = map[string]int{}
	for k, rs := range rowsByText {
		sendable := 0
		for _, r := range rs {
			if !r.held {
				sendable++
			}
		}
		got := received[k]
		if missing := sendable - got; missing > 0 {
			out.AcksNotReceived += missing
			for _, r := range rs {
				if !r.held && missing > 0 {
					out.NotReceivedState[r.state]++
					missing--
				}
			}
			if flood[k.dest] {
				out.FloodNoReply += sendable - got
			}
		}
		// A reply received more often than the outbox holds it went out twice: a submit
		// whose outcome was lost in a crash and was sent again.
		if extra := got - len(rs); extra > 0 {
			out.DoubledAcks += extra
		}
	}
	return out, nil
}

// heldExpression returns a SQL boolean expression over outbox that is true for a reply
// held back by flood control, found in the schema as it is at the time of the check (the
// flood-control work may add a state, a flag or a timestamp), or "false" when the schema
// has no such thing.
func heldExpression(ctx context.Context, conn *pgx.Conn) (string, error) {
	rows, err := conn.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_name = 'outbox' AND table_schema = current_schema() AND column_name LIKE '%held%'`)
	if err != nil {
		return "", fmt.Errorf("chaos: check: outbox columns: %w", err)
	}
	var exprs []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return "", fmt.Errorf("chaos: check: outbox columns: %w", err)
		}
		col := pgx.Identifier{name}.Sanitize()
		if typ == "boolean" {
			exprs = append(exprs, "coalesce("+col+", false)")
		} else {
			exprs = append(exprs, "("+col+" IS NOT NULL)")
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("chaos: check: outbox columns: %w", err)
	}
	var def string
	err = conn.QueryRow(ctx, `SELECT coalesce(string_agg(pg_get_constraintdef(c.oid), ' '), '') FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = 'outbox' AND c.contype = 'c'`).Scan(&def)
	if err != nil {
		return "", fmt.Errorf("chaos: check: outbox constraints: %w", err)
	}
	if strings.Contains(def, "'held'") {
		exprs = append(exprs, "(state = 'held')")
	}
	if len(exprs) == 0 {
		return "false", nil
	}
	return "(" + strings.Join(exprs, " OR ") + ")", nil
}

// printCheck writes the checker's table.
func printCheck(w io.Writer, res *loadResults, c checkResult) {
	row := func(name string, v any, note string) {
		fmt.Fprintf(w, "  %-34s %8v  %s\n", name, v, note)
	}
	fmt.Fprintf(w, "check: prefix %s, seed %d\n", res.Prefix, res.Seed)
	row("complaints sent (unique)", c.Complaints, fmt.Sprintf("%d messages with repeats", c.Messages))
	row("complaints acked", c.Acked, "")
	row("MO PDUs acked", c.PDUsAcked, "")
	row("lost (acked, not in inbound)", c.Lost, "must be 0")
	row("inbound rows doubled", c.InboundDoubled, "redelivered PDUs stored again (harmless if deduplicated)")
	row("tickets", c.Tickets, "")
	row("acked complaints without a ticket", c.NoTicket, "must be 0")
	row("doubled tickets", c.DoubledTickets, fmt.Sprintf("must be 0 (%d complaints; %d from resent complaints, %d from redeliveries/reprocessing)",
		c.DoubledComplaints, c.DoubledByRepeats, c.DoubledByRedeliv))
	row("messages still pending", c.Unprocessed, "")
	row("acknowledgement rows", c.AckRows, "")
	row("tickets without acknowledgement", c.TicketsNoAck, "")
	row("extra acknowledgement rows", c.TicketsManyAcks, "more than one per acked send of the complaint")
	row("replies still in flight", c.RepliesPending, "pending or sending at the check")
	notes := ""
	if len(c.NotReceivedState) > 0 {
		var parts []string
		for _, s := range slices.Sorted(maps.Keys(c.NotReceivedState)) {
			parts = append(parts, fmt.Sprintf("%s %d", s, c.NotReceivedState[s]))
		}
		notes = "outbox state: " + strings.Join(parts, ", ")
	}
	row("replies not received", c.AcksNotReceived, notes)
	row("doubled acknowledgements received", c.DoubledAcks, "counted (crash window of a submit)")
	held := "flood control not seen in the schema or outcomes"
	if c.HeldSupported {
		held = "held back by flood control"
	}
	row("replies held", c.Held, held)
}

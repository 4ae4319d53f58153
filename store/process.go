package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sp4n-lapor/sms1708/router"
)

var _ router.Store = (*DB)(nil)

// DefaultProcessLimit is the batch Process claims when given no limit.
const DefaultProcessLimit = 256

// maxTicketDraws bounds the redraws of colliding ticket numbers. With 900
// million numbers a second collision in a row is already unlikely; twenty
// means something else is wrong.
const maxTicketDraws = 20

// EventActor is the actor of the events the daemon itself records.
const EventActor = "sms1708"

// Process implements router.Store: in one transaction it claims up to limit
// pending messages — those in ids first, then, when sweep is true, any
// other pending message in id order — with FOR UPDATE SKIP LOCKED, so that
// several instances share the work and none waits on another; calls decide
// once with them; and stores every decision: the tickets (redrawing a
// number that collides with an existing one), each ticket's first event,
// the outbox rows (at most one per message and kind), and the messages
// marked processed with their outcome. A message decide returned no
// decision for stays pending and is offered again by a later sweep.
// Everything is done in a handful of multi-row statements, never one round
// trip per row. It returns the decisions as stored (copies: decide's own
// are left alone).
func (db *DB) Process(ctx context.Context, ids []int64, limit int, sweep bool, decide func(router.Lookup, []router.Message) ([]router.Decision, error)) ([]router.Decision, error) {
	if limit <= 0 {
		limit = DefaultProcessLimit
	}
	if len(ids) == 0 && !sweep {
		return nil, nil
	}
	if ids == nil {
		ids = []int64{} // a NULL array would make "id = ANY" NULL, and NOT of it too
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: process: %w", err)
	}
	// After a successful Commit, Rollback is a no-op.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var msgs []router.Message
	if len(ids) > 0 {
		if msgs, err = claimMessages(ctx, tx, claimGivenSQL, ids, limit); err != nil {
			return nil, err
		}
	}
	if sweep && len(msgs) < limit {
		more, err := claimMessages(ctx, tx, claimSweepSQL, ids, limit-len(msgs))
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, more...)
	}
	if len(msgs) == 0 {
		return nil, nil
	}

	decided, err := decide(txLookup{tx}, msgs)
	if err != nil {
		return nil, fmt.Errorf("store: process: decide: %w", err)
	}
	decisions, err := checkDecisions(msgs, decided)
	if err != nil {
		return nil, err
	}
	if len(decisions) == 0 {
		return nil, nil
	}
	drawn := make([]router.TicketNumber, len(decisions))
	for i, d := range decisions {
		if d.Ticket != nil {
			drawn[i] = d.Ticket.Number
		}
	}
	ticketIDs, created, err := insertTickets(ctx, tx, decisions)
	if err != nil {
		return nil, err
	}
	renumberReplies(decisions, drawn)
	if err := resolveLinks(ctx, tx, decisions, ticketIDs); err != nil {
		return nil, err
	}
	source := make(map[int64]string, len(msgs))
	for _, m := range msgs {
		source[m.ID] = m.Source
	}
	if err := db.insertRest(ctx, tx, decisions, ticketIDs, created, source); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: process: commit: %w", err)
	}
	return decisions, nil
}

// renumberReplies puts the stored ticket number into the replies of every
// decision whose number was redrawn on a collision (or found stored): the
// router wrote the number it drew into the texts, and a citizen must never
// be told a number that belongs to someone else's ticket.
func renumberReplies(decisions []router.Decision, drawn []router.TicketNumber) {
	for i := range decisions {
		t := decisions[i].Ticket
		if t == nil || drawn[i] == "" || t.Number == drawn[i] {
			continue
		}
		for j := range decisions[i].Replies {
			r := &decisions[i].Replies[j]
			r.Text = strings.ReplaceAll(r.Text, string(drawn[i]), string(t.Number))
		}
	}
}

// claimColumns reads a message and whether it is a redelivery: SMPP has no
// MO id, and an SMSC that lost our deliver_sm_resp sends the same PDU again
// with a new sequence number. A message whose PDU body (everything after
// the 16-byte header) is byte-identical to an earlier message's from the
// same operator within RedeliveryWindow is that PDU again; the index
// inbound_mo_body (migration 004) finds it.
const claimColumns = `m.id, m.operator, m.source, m.source_ton, m.dest, m.text, m.received_at,
  EXISTS (SELECT 1 FROM inbound p JOIN messages pm ON pm.inbound_id = p.id
          WHERE p.kind = 'mo' AND p.operator = i.operator
            AND sha256(substring(p.raw from 17)) = sha256(substring(i.raw from 17))
            AND p.id < i.id AND p.received_at >= i.received_at - make_interval(secs => $3))`

// claimGivenSQL claims the given pending messages. Ids another instance
// has locked, or that are processed already, are skipped.
const claimGivenSQL = `
SELECT ` + claimColumns + ` FROM messages m JOIN inbound i ON i.id = m.inbound_id
WHERE m.state = 'pending' AND m.id = ANY($1)
ORDER BY m.id LIMIT $2
FOR UPDATE OF m SKIP LOCKED`

// claimSweepSQL claims other pending messages, oldest first, through the
// partial index messages_pending.
const claimSweepSQL = `
SELECT ` + claimColumns + ` FROM messages m JOIN inbound i ON i.id = m.inbound_id
WHERE m.state = 'pending' AND NOT (m.id = ANY($1))
ORDER BY m.id LIMIT $2
FOR UPDATE OF m SKIP LOCKED`

// RedeliveryWindow is how long after a PDU an identical one counts as the
// SMSC redelivering it. SMSCs redeliver within seconds to minutes (and
// after a rebind); a citizen who sends the very same text again later is
// told the ticket again by the router's own dedup instead.
const RedeliveryWindow = 15 * time.Minute

func claimMessages(ctx context.Context, tx pgx.Tx, sql string, ids []int64, limit int) ([]router.Message, error) {
	rows, err := tx.Query(ctx, sql, ids, limit, RedeliveryWindow.Seconds())
	if err != nil {
		return nil, fmt.Errorf("store: process: claim: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (router.Message, error) {
		var m router.Message
		var ton int16
		err := r.Scan(&m.ID, &m.Operator, &m.Source, &ton, &m.Dest, &m.Text, &m.ReceivedAt, &m.Redelivery)
		m.SourceTON = uint8(ton)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: process: claim: %w", err)
	}
	return msgs, nil
}

// checkDecisions returns copies of decisions, each for a claimed message
// and none twice, with a ticket number drawn where the router left it
// empty. A decision for a message that was not claimed would write over
// another transaction's work; it is a bug in the caller and fails the batch.
func checkDecisions(msgs []router.Message, in []router.Decision) ([]router.Decision, error) {
	claimed := make(map[int64]bool, len(msgs))
	for _, m := range msgs {
		claimed[m.ID] = true
	}
	seen := make(map[int64]bool, len(in))
	out := make([]router.Decision, len(in))
	for i, d := range in {
		if !claimed[d.MessageID] {
			return nil, fmt.Errorf("store: process: decision for message %d, which was not claimed", d.MessageID)
		}
		if seen[d.MessageID] {
			return nil, fmt.Errorf("store: process: two decisions for message %d", d.MessageID)
		}
		seen[d.MessageID] = true
		if d.Ticket != nil {
			t := *d.Ticket
			if t.Number == "" {
				t.Number = router.NewTicketNumber()
			}
			if !t.Number.Valid() {
				return nil, fmt.Errorf("store: process: message %d: invalid ticket number %q", d.MessageID, t.Number)
			}
			d.Ticket = &t
		}
		d.Replies = append([]router.Reply(nil), d.Replies...)
		out[i] = d
	}
	return out, nil
}

// resolveLinks finds the ticket each linking decision (a resent complaint,
// a TAMBAH) belongs to — one made in this batch, or a stored one, looked up
// in one query — and records it as that decision's ticket id, so that the
// message row, the reply and the event all point at it. A link to a number
// that no longer resolves fails the batch: deciding saw it a moment ago in
// this same transaction, so that is a bug, not a race.
func resolveLinks(ctx context.Context, tx pgx.Tx, decisions []router.Decision, ticketIDs []int64) error {
	inBatch := map[router.TicketNumber]int64{}
	var want []string
	for i, d := range decisions {
		if d.Ticket != nil {
			inBatch[d.Ticket.Number] = ticketIDs[i]
		}
	}
	for _, d := range decisions {
		if d.LinkNumber != "" && d.Ticket == nil {
			if _, ok := inBatch[d.LinkNumber]; !ok {
				want = append(want, string(d.LinkNumber))
			}
		}
	}
	if len(want) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, number FROM tickets WHERE number = ANY($1)`, want)
		if err != nil {
			return fmt.Errorf("store: process: links: %w", err)
		}
		var id int64
		var n router.TicketNumber
		if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { inBatch[n] = id; return nil }); err != nil {
			return fmt.Errorf("store: process: links: %w", err)
		}
	}
	for i, d := range decisions {
		if d.LinkNumber == "" || d.Ticket != nil {
			continue
		}
		id, ok := inBatch[d.LinkNumber]
		if !ok {
			return fmt.Errorf("store: process: message %d links to ticket %s, which does not exist", d.MessageID, d.LinkNumber)
		}
		ticketIDs[i] = id
	}
	return nil
}

// txLookup answers the router's lookups inside the processing transaction.
type txLookup struct{ tx pgx.Tx }

const ticketInfoColumns = `id, number, msisdn, state, agency_id, created_at`

func scanTicketInfos(rows pgx.Rows, key func(router.TicketInfo, string) string) (map[string]router.TicketInfo, error) {
	out := map[string]router.TicketInfo{}
	for rows.Next() {
		var t router.TicketInfo
		var extra string
		if err := rows.Scan(&t.ID, &t.Number, &t.MSISDN, &t.State, &t.AgencyID, &t.CreatedAt, &extra); err != nil {
			rows.Close()
			return nil, err
		}
		out[key(t, extra)] = t
	}
	return out, rows.Err()
}

// TicketsByNumber implements router.Lookup.
func (l txLookup) TicketsByNumber(ctx context.Context, numbers []router.TicketNumber) (map[router.TicketNumber]router.TicketInfo, error) {
	ns := make([]string, len(numbers))
	for i, n := range numbers {
		ns[i] = string(n)
	}
	rows, err := l.tx.Query(ctx, `SELECT `+ticketInfoColumns+`, '' FROM tickets WHERE number = ANY($1)`, ns)
	if err != nil {
		return nil, fmt.Errorf("store: tickets by number: %w", err)
	}
	byNum, err := scanTicketInfos(rows, func(t router.TicketInfo, _ string) string { return string(t.Number) })
	if err != nil {
		return nil, fmt.Errorf("store: tickets by number: %w", err)
	}
	out := make(map[router.TicketNumber]router.TicketInfo, len(byNum))
	for k, v := range byNum {
		out[router.TicketNumber(k)] = v
	}
	return out, nil
}

// RecentTickets implements router.Lookup: for each key, the oldest ticket
// with it since the given time, through the partial index tickets_dedup.
// One index probe per key (LATERAL … LIMIT 1), not "dedup_key = ANY($1)":
// while the table grows faster than autovacuum analyses it, the planner
// estimated the ANY form at thousands of rows and scanned the whole table,
// hundreds of times per run.
func (l txLookup) RecentTickets(ctx context.Context, keys []string, since time.Time) (map[string]router.TicketInfo, error) {
	rows, err := l.tx.Query(ctx, `
SELECT t.*, k.key FROM unnest($1::text[]) AS k(key)
CROSS JOIN LATERAL (SELECT `+ticketInfoColumns+` FROM tickets
                    WHERE dedup_key = k.key AND created_at >= $2
                    ORDER BY created_at LIMIT 1) t`, keys, since)
	if err != nil {
		return nil, fmt.Errorf("store: recent tickets: %w", err)
	}
	out, err := scanTicketInfos(rows, func(_ router.TicketInfo, key string) string { return key })
	if err != nil {
		return nil, fmt.Errorf("store: recent tickets: %w", err)
	}
	return out, nil
}

// Prefs implements router.Lookup.
func (l txLookup) Prefs(ctx context.Context, msisdns []string) (map[string]router.Prefs, error) {
	rows, err := l.tx.Query(ctx, `SELECT msisdn, status_off, coalesce(last_courtesy_at, 'epoch') FROM preferences WHERE msisdn = ANY($1)`, msisdns)
	if err != nil {
		return nil, fmt.Errorf("store: preferences: %w", err)
	}
	out := map[string]router.Prefs{}
	var m string
	var p router.Prefs
	if _, err := pgx.ForEachRow(rows, []any{&m, &p.StatusOff, &p.LastCourtesy}, func() error { out[m] = p; return nil }); err != nil {
		return nil, fmt.Errorf("store: preferences: %w", err)
	}
	return out, nil
}

// insertTickets inserts the decisions' tickets and returns each decision's
// ticket id (0 for none) and whether that ticket is new. A number that is
// already taken is not inserted (ON CONFLICT DO NOTHING) and is redrawn,
// and only those tickets are tried again; the decisions are updated with
// the numbers stored. A message that already has a ticket (it was set
// pending again by hand and reprocessed) keeps that ticket: the decision
// gets its number and no second ticket is made.
func insertTickets(ctx context.Context, tx pgx.Tx, decisions []router.Decision) (ids []int64, created []bool, err error) {
	ids = make([]int64, len(decisions))
	created = make([]bool, len(decisions))
	var todo []int
	for i, d := range decisions {
		if d.Ticket != nil {
			todo = append(todo, i)
		}
	}
	for draw := 0; len(todo) > 0; draw++ {
		if draw == maxTicketDraws {
			return nil, nil, fmt.Errorf("store: process: ticket numbers still collide after %d draws", draw)
		}
		var a ticketArgs
		for _, i := range todo {
			a.add(decisions[i].MessageID, decisions[i].Ticket)
		}
		stored, err := queryTicketIDs(ctx, tx, insertTicketsSQL, a.args()...)
		if err != nil {
			return nil, nil, fmt.Errorf("store: process: insert tickets: %w", err)
		}
		var missing []int64
		for _, i := range todo {
			if t, ok := stored[decisions[i].MessageID]; ok {
				ids[i], created[i] = t.id, true
			} else {
				missing = append(missing, decisions[i].MessageID)
			}
		}
		if len(missing) == 0 {
			break
		}
		existing, err := queryTicketIDs(ctx, tx, existingTicketsSQL, missing)
		if err != nil {
			return nil, nil, fmt.Errorf("store: process: insert tickets: %w", err)
		}
		var again []int
		for _, i := range todo {
			if ids[i] != 0 {
				continue
			}
			if t, ok := existing[decisions[i].MessageID]; ok {
				ids[i] = t.id
				decisions[i].Ticket.Number = t.number
				continue
			}
			decisions[i].Ticket.Number = router.NewTicketNumber()
			again = append(again, i)
		}
		todo = again
	}
	return ids, created, nil
}

type storedTicket struct {
	id     int64
	number router.TicketNumber
}

// queryTicketIDs runs a query returning (id, message_id, number) and maps
// message id → ticket.
func queryTicketIDs(ctx context.Context, tx pgx.Tx, sql string, args ...any) (map[int64]storedTicket, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]storedTicket)
	var t storedTicket
	var msgID int64
	_, err = pgx.ForEachRow(rows, []any{&t.id, &msgID, &t.number}, func() error {
		out[msgID] = t
		return nil
	})
	return out, err
}

const existingTicketsSQL = `SELECT id, message_id, number FROM tickets WHERE message_id = ANY($1)`

// insertTicketsSQL inserts tickets, skipping any that would break either
// unique key: number (a collision, redrawn by the caller) or message_id (the
// message already has its ticket). Which one it was is told by looking the
// message's ticket up.
const insertTicketsSQL = `
INSERT INTO tickets (number, message_id, msisdn, operator, agency_id, category, region, state, text, anonim, rahasia, dedup_key)
SELECT n, m, ms, o, a, c, r, s, x, an, ra, NULLIF(k, '')
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::bool[], $11::bool[], $12::text[])
     AS u(n, m, ms, o, a, c, r, s, x, an, ra, k)
ON CONFLICT DO NOTHING
RETURNING id, message_id, number`

type ticketArgs struct {
	number, msisdn, operator, agency, category, region, state, text, dedup []string
	messageID                                                              []int64
	anonim, rahasia                                                        []bool
}

func (a *ticketArgs) add(messageID int64, t *router.Ticket) {
	a.number = append(a.number, string(t.Number))
	a.messageID = append(a.messageID, messageID)
	a.msisdn = append(a.msisdn, cleanText(t.MSISDN))
	a.operator = append(a.operator, cleanText(t.Operator))
	a.agency = append(a.agency, cleanText(t.AgencyID))
	a.category = append(a.category, cleanText(t.Category))
	a.region = append(a.region, cleanText(t.Region))
	a.state = append(a.state, string(t.State))
	a.text = append(a.text, cleanText(t.Text))
	a.anonim = append(a.anonim, t.Anonim)
	a.rahasia = append(a.rahasia, t.Rahasia)
	a.dedup = append(a.dedup, t.DedupKey)
}

func (a *ticketArgs) args() []any {
	return []any{a.number, a.messageID, a.msisdn, a.operator, a.agency, a.category,
		a.region, a.state, a.text, a.anonim, a.rahasia, a.dedup}
}

// insertRest stores the first events, the outbox rows and the messages'
// new state, in one round trip.
func (db *DB) insertRest(ctx context.Context, tx pgx.Tx, decisions []router.Decision, ticketIDs []int64, created []bool, source map[int64]string) error {
	var (
		evTicket                                 []int64
		evState, evNote                          []string
		obMsg, obTicket                          []int64
		obKind, obOperator, obTo, obFrom, obText []string
		obLease                                  []float64
		msgID, msgTicket                         []int64
		msgOutcome                               []string
		linkTicket                               []int64
		linkNote, statusMSISDN, courtesyMSISDN   []string
		statusOff                                []bool
	)
	for i, d := range decisions {
		if created[i] {
			evTicket = append(evTicket, ticketIDs[i])
			evState = append(evState, string(d.Ticket.State))
			evNote = append(evNote, cleanText(d.Event))
		}
		if d.Ticket == nil && d.LinkNumber != "" && ticketIDs[i] != 0 {
			// The linked ticket keeps its state: the event records what
			// came in, with the state the ticket has now.
			linkTicket = append(linkTicket, ticketIDs[i])
			linkNote = append(linkNote, cleanText(d.LinkNote))
		}
		if from := source[d.MessageID]; from != "" {
			if d.SetStatusOff != nil {
				statusMSISDN = append(statusMSISDN, from)
				statusOff = append(statusOff, *d.SetStatusOff)
			}
			if d.CourtesySent {
				courtesyMSISDN = append(courtesyMSISDN, from)
			}
		}
		for _, r := range d.Replies {
			obMsg = append(obMsg, d.MessageID)
			obTicket = append(obTicket, ticketIDs[i])
			obKind = append(obKind, cleanText(r.Kind))
			obOperator = append(obOperator, cleanText(r.Operator))
			obTo = append(obTo, cleanText(r.To))
			obFrom = append(obFrom, cleanText(r.From))
			obText = append(obText, cleanText(r.Text))
			obLease = append(obLease, max(r.Lease, 0).Seconds())
		}
		msgID = append(msgID, d.MessageID)
		msgTicket = append(msgTicket, ticketIDs[i])
		msgOutcome = append(msgOutcome, cleanText(d.Outcome))
	}
	b := &pgx.Batch{}
	if len(evTicket) > 0 {
		b.Queue(insertEventsSQL, evTicket, evState, EventActor, evNote)
	}
	if len(obMsg) > 0 {
		type key struct {
			msg  int64
			kind string
		}
		leased := map[key]int64{}
		b.Queue(insertOutboxSQL, obMsg, obTicket, obKind, obOperator, obTo, obFrom, obText,
			db.policy.TTL.Seconds(), obLease, db.instance).Query(func(rows pgx.Rows) error {
			var k key
			var id int64
			_, err := pgx.ForEachRow(rows, []any{&id, &k.msg, &k.kind}, func() error {
				leased[k] = id
				return nil
			})
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			// The ids of the rows stored leased, for the hand-over; a
			// reply whose row existed already (ON CONFLICT) gets none.
			for i := range decisions {
				for j := range decisions[i].Replies {
					r := &decisions[i].Replies[j]
					if r.Lease > 0 {
						r.OutboxID = leased[key{decisions[i].MessageID, cleanText(r.Kind)}]
						// What is handed over is what the row holds.
						r.Operator, r.To, r.From, r.Text = cleanText(r.Operator), cleanText(r.To), cleanText(r.From), cleanText(r.Text)
					}
				}
			}
			return nil
		})
	}
	if len(linkTicket) > 0 {
		b.Queue(insertLinkEventsSQL, linkTicket, EventActor, linkNote)
	}
	if len(statusMSISDN) > 0 {
		b.Queue(upsertStatusSQL, statusMSISDN, statusOff)
	}
	if len(courtesyMSISDN) > 0 {
		b.Queue(upsertCourtesySQL, courtesyMSISDN)
	}
	b.Queue(markProcessedSQL, msgID, msgOutcome, msgTicket)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: process: %w", err)
	}
	return nil
}

// insertLinkEventsSQL records on a linked ticket what came in, keeping the
// ticket's current state in the event.
const insertLinkEventsSQL = `
INSERT INTO ticket_events (ticket_id, state, actor, note)
SELECT u.t, tk.state, $2, u.n FROM unnest($1::bigint[], $3::text[]) AS u(t, n) JOIN tickets tk ON tk.id = u.t`

// upsertStatusSQL records STOP / MULAI. A number twice in one batch would
// make ON CONFLICT touch a row twice, so rows are folded per number first;
// a STOP in the batch wins over a MULAI (the safer reading).
const upsertStatusSQL = `
INSERT INTO preferences (msisdn, status_off)
SELECT m, bool_or(o) FROM unnest($1::text[], $2::bool[]) AS u(m, o) GROUP BY m
ON CONFLICT (msisdn) DO UPDATE SET status_off = EXCLUDED.status_off, updated_at = now()`

// upsertCourtesySQL records that the once-a-day courtesy reply went out.
const upsertCourtesySQL = `
INSERT INTO preferences (msisdn, last_courtesy_at)
SELECT DISTINCT m, now() FROM unnest($1::text[]) AS u(m)
ON CONFLICT (msisdn) DO UPDATE SET last_courtesy_at = now(), updated_at = now()`

const insertEventsSQL = `
INSERT INTO ticket_events (ticket_id, state, actor, note)
SELECT t, s, $3, n FROM unnest($1::bigint[], $2::text[], $4::text[]) AS u(t, s, n)`

// insertOutboxSQL queues the replies: pending, or — those with a lease
// ($9, seconds) — already leased to this instance's dispatcher, one
// attempt counted, as ClaimOutbox would have left them (router.Handoff).
// It returns the leased rows' ids. ON CONFLICT (message_id, kind) DO
// NOTHING: a message can ask for each kind of reply once, however often it
// is processed.
const insertOutboxSQL = `
INSERT INTO outbox (message_id, ticket_id, kind, operator, dest_addr, source_addr, text, expires_at,
                    state, lease_until, attempts, leased_by)
SELECT m, NULLIF(t, 0), k, o, d, s, x, now() + make_interval(secs => $8),
       CASE WHEN l > 0 THEN 'sending' ELSE 'pending' END,
       CASE WHEN l > 0 THEN now() + make_interval(secs => l) END,
       CASE WHEN l > 0 THEN 1 ELSE 0 END,
       CASE WHEN l > 0 THEN NULLIF($10, '') END
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $9::float8[])
     AS u(m, t, k, o, d, s, x, l)
ON CONFLICT (message_id, kind) DO NOTHING
RETURNING CASE WHEN state = 'sending' THEN id ELSE 0 END, message_id, kind`

const markProcessedSQL = `
UPDATE messages m SET state = 'processed', outcome = NULLIF(u.outcome, ''),
       processed_at = now(), ticket_id = NULLIF(u.ticket_id, 0)
FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(id, outcome, ticket_id)
WHERE m.id = u.id AND m.state = 'pending'`

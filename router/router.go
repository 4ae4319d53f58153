// Package router is the core of sms1708: it decides what happens to each
// message a citizen sends to 1708 — parse, classify, choose the agency ("no
// wrong door"), create the ticket and plan the replies — and dispatches the
// outbox. It declares the small interfaces it needs (Store, Outbox, Sender,
// Clock) and imports no driver: package store implements them on PostgreSQL
// and Redis, package smpp's Operator satisfies Sender.
package router

import (
	"context"
	"time"
)

// Message is one complete inbound SMS, committed by the ingest and waiting
// to be processed. Text is valid UTF-8 without NUL.
type Message struct {
	ID         int64
	Operator   string // operator name from config, e.g. "telkomsel"
	Source     string // the citizen's number: digits only, no '+', as normalised by the ingest
	SourceTON  uint8
	Dest       string // the short code the citizen wrote to, e.g. "1708"
	Text       string
	ReceivedAt time.Time
	// Redelivery: the SMSC sent this very PDU before (it lost our ack).
	// It is stored for the audit and otherwise ignored: no second ticket,
	// no second reply.
	Redelivery bool
}

// Ticket is a complaint ticket as the router creates it.
type Ticket struct {
	Number   TicketNumber
	MSISDN   string // the reporter's number: digits only; never logged unmasked
	Operator string
	AgencyID string
	Category string
	Region   string
	State    State
	Text     string
	Anonim   bool
	Rahasia  bool
	// DedupKey (DedupKey) finds this ticket again when the same number
	// resends the same complaint.
	DedupKey string
}

// Reply is an SMS the router wants sent; it becomes an outbox row in the
// same transaction as the ticket it belongs to.
type Reply struct {
	Kind     string // "ack", "status", "help", …: with the message id, unique per message
	Operator string // the operator to send through (the one the citizen wrote on)
	To       string // digits only
	From     string // our short code, e.g. "1708"
	Text     string
	// Lease, when positive, asks the store to queue the reply already
	// leased for that long (state sending, one attempt counted), so that
	// it can be handed to this instance's dispatcher at once instead of
	// being claimed by it later (Handoff). Zero queues it pending.
	Lease time.Duration
	// OutboxID is set by the store on a reply it queued leased: the row
	// to hand over. Zero otherwise (queued pending, or the message had
	// asked for this kind of reply before).
	OutboxID int64
}

// Decision is what processing one message produced. Exactly one of its
// outcomes is persisted per message, in one transaction with the message
// marked processed, so that processing is idempotent.
type Decision struct {
	MessageID int64
	Ticket    *Ticket // nil when the message opens no ticket
	Event     string  // note for the ticket's first event, e.g. "diterima via SMS"
	Replies   []Reply
	Outcome   string // fixed set, for metrics and the message row: "ticket", "ignored", …
	// RepliesHeld counts replies not queued because the number was over
	// its flood limit (FloodLimits).
	RepliesHeld int
	// LinkNumber names an existing ticket — or one this batch creates —
	// that the message belongs to (a resent complaint, a TAMBAH); LinkNote
	// is the event recorded on it.
	LinkNumber TicketNumber
	LinkNote   string
	// SetStatusOff, when not nil, sets the number's status-SMS preference
	// (STOP / MULAI).
	SetStatusOff *bool
	// CourtesySent records that the once-a-day courtesy reply went out.
	CourtesySent bool
}

// Store is the durable side of processing, implemented by package store.
type Store interface {
	// Process claims up to limit pending messages (the given ids first, then
	// any other pending message when sweep is true) with FOR UPDATE SKIP
	// LOCKED, calls decide once with all of them and a Lookup bound to the
	// same transaction, and persists every decision — tickets, their first
	// events, links and preferences, outbox rows, the messages marked
	// processed — in that transaction. An error from decide rolls it back:
	// the messages stay pending. It returns the decisions as stored (ticket
	// numbers may have been redrawn on collision).
	Process(ctx context.Context, ids []int64, limit int, sweep bool, decide func(Lookup, []Message) ([]Decision, error)) ([]Decision, error)
}

// OutboxItem is a claimed outbox row.
type OutboxItem struct {
	ID       int64
	Operator string
	To       string
	From     string
	Text     string
	Attempts int
	// SendBy, when set, is the latest moment this instance may still
	// start sending the row: its lease leaves room for a whole send and
	// the record of its outcome only until then (rows handed over by the
	// processor; claimed rows are sent at once).
	SendBy time.Time
}

// SendResult is the outcome of one send attempt of an OutboxItem.
type SendResult struct {
	ID         int64
	Operator   string   // the row's operator, as the dispatcher sent it ("" when unknown)
	MessageIDs []string // SMSC message ids, one per segment, when sent
	Err        error    // nil when sent
	Permanent  bool     // the SMSC refused it for good: do not retry
}

// Outbox is the durable outbox, implemented by package store.
type Outbox interface {
	// ClaimOutbox leases up to limit due rows (state pending, next attempt
	// due) for the given lease and returns them.
	ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]OutboxItem, error)
	// CompleteOutbox records the outcome of each send: sent (with the SMSC
	// ids), retried later with backoff, or failed with its reason.
	CompleteOutbox(ctx context.Context, results []SendResult) error
}

// Sender sends one SMS through one operator and returns the SMSC's message
// ids (one per segment). package smpp's Operator satisfies it; it is written
// in plain types so that smpp need not import router.
type Sender interface {
	Send(ctx context.Context, from, to, text string) ([]string, error)
}

// Clock tells the time; tests inject their own.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sp4n-lapor/sms1708/router"
)

// TicketRow is a ticket as stored.
type TicketRow struct {
	router.Ticket
	ID        int64
	MessageID int64 // 0 when no message opened it
	CreatedAt time.Time
	UpdatedAt time.Time
}

const ticketColumns = `id, number, coalesce(message_id, 0), msisdn, operator, agency_id, category,
    region, state, text, anonim, rahasia, created_at, updated_at`

func (db *DB) ticket(ctx context.Context, where string, arg any) (TicketRow, error) {
	var t TicketRow
	err := db.pool.QueryRow(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE "+where, arg).Scan(
		&t.ID, &t.Number, &t.MessageID, &t.MSISDN, &t.Operator, &t.AgencyID, &t.Category,
		&t.Region, &t.State, &t.Text, &t.Anonim, &t.Rahasia, &t.CreatedAt, &t.UpdatedAt)
	return t, notFound(err)
}

// TicketByNumber returns the ticket with number n, or ErrNotFound.
func (db *DB) TicketByNumber(ctx context.Context, n router.TicketNumber) (TicketRow, error) {
	t, err := db.ticket(ctx, "number = $1", string(n))
	if err != nil {
		return TicketRow{}, fmt.Errorf("store: ticket %s: %w", n, err)
	}
	return t, nil
}

// TicketByMessage returns the ticket message messageID opened, or
// ErrNotFound.
func (db *DB) TicketByMessage(ctx context.Context, messageID int64) (TicketRow, error) {
	t, err := db.ticket(ctx, "message_id = $1", messageID)
	if err != nil {
		return TicketRow{}, fmt.Errorf("store: ticket of message %d: %w", messageID, err)
	}
	return t, nil
}

// TicketEvent is one entry of a ticket's history.
type TicketEvent struct {
	ID       int64
	TicketID int64
	At       time.Time
	State    router.State
	Actor    string
	Note     string
}

// TicketEvents returns a ticket's history, oldest first.
func (db *DB) TicketEvents(ctx context.Context, ticketID int64) ([]TicketEvent, error) {
	rows, err := db.pool.Query(ctx,
		"SELECT id, ticket_id, at, state, actor, note FROM ticket_events WHERE ticket_id = $1 ORDER BY at, id", ticketID)
	if err != nil {
		return nil, fmt.Errorf("store: ticket events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TicketEvent, error) {
		var e TicketEvent
		err := r.Scan(&e.ID, &e.TicketID, &e.At, &e.State, &e.Actor, &e.Note)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: ticket events: %w", err)
	}
	return evs, nil
}

// MessageRow is a message as stored, with its processing state.
type MessageRow struct {
	router.Message
	InboundID   int64
	State       string // pending or processed
	Outcome     string
	ProcessedAt time.Time // zero while pending
	TicketID    int64     // 0 when it opened no ticket
}

// MessageByID returns message id, or ErrNotFound.
func (db *DB) MessageByID(ctx context.Context, id int64) (MessageRow, error) {
	var m MessageRow
	var ton int16
	var processed *time.Time
	err := db.pool.QueryRow(ctx, `
		SELECT id, operator, source, source_ton, dest, text, received_at, inbound_id, state,
		       coalesce(outcome, ''), processed_at, coalesce(ticket_id, 0)
		FROM messages WHERE id = $1`, id).Scan(
		&m.ID, &m.Operator, &m.Source, &ton, &m.Dest, &m.Text, &m.ReceivedAt, &m.InboundID, &m.State,
		&m.Outcome, &processed, &m.TicketID)
	if err != nil {
		return MessageRow{}, fmt.Errorf("store: message %d: %w", id, notFound(err))
	}
	m.SourceTON = uint8(ton)
	if processed != nil {
		m.ProcessedAt = *processed
	}
	return m, nil
}

// PendingMessages returns the number of messages waiting for processing.
func (db *DB) PendingMessages(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM messages WHERE state = 'pending'").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: pending messages: %w", err)
	}
	return n, nil
}

package store

import "time"

// OutboxPolicy is how long and how often the outbox retries a reply.
type OutboxPolicy struct {
	// MaxAttempts is the number of sends after which a temporarily failing
	// row is failed for good (10).
	MaxAttempts int
	// Backoff is the wait after the first temporary failure; it doubles
	// with each further attempt, up to MaxBackoff (5s, 10m).
	Backoff, MaxBackoff time.Duration
	// TTL is how long after it was queued a reply is still worth sending;
	// past it the row ends expired (24h).
	TTL time.Duration
}

// DefaultOutboxPolicy returns the defaults named in OutboxPolicy.
func DefaultOutboxPolicy() OutboxPolicy {
	return OutboxPolicy{MaxAttempts: 10, Backoff: 5 * time.Second, MaxBackoff: 10 * time.Minute, TTL: 24 * time.Hour}
}

// SetOutboxPolicy replaces the outbox policy; zero fields keep their
// defaults. Call it before the DB is used.
func (db *DB) SetOutboxPolicy(p OutboxPolicy) {
	d := DefaultOutboxPolicy()
	if p.MaxAttempts > 0 {
		d.MaxAttempts = p.MaxAttempts
	}
	if p.Backoff > 0 {
		d.Backoff = p.Backoff
	}
	if p.MaxBackoff > 0 {
		d.MaxBackoff = p.MaxBackoff
	}
	if p.TTL > 0 {
		d.TTL = p.TTL
	}
	db.policy = d
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultKeyPrefix starts every Redis key the store writes.
const DefaultKeyPrefix = "sms1708:"

// Redis is the store's hot, expendable side (DESIGN.md, "Where each datum
// lives"): nothing in it is needed to keep a promise, so callers fall back
// to local limits when it fails. It is safe for concurrent use.
type Redis struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// OpenRedis connects to Redis at url (redis:// or rediss://, as go-redis's
// ParseURL reads it) and checks the connection.
func OpenRedis(ctx context.Context, url string) (*Redis, error) {
	r, err := NewRedis(url)
	if err != nil {
		return nil, err
	}
	if err := r.Ping(ctx); err != nil {
		_ = r.client.Close()
		return nil, fmt.Errorf("store: open redis: %w", err)
	}
	return r, nil
}

// NewRedis returns a client for url without contacting Redis: the daemon
// starts and takes messages while Redis is down (everything in Redis is
// expendable), and the client connects when Redis comes back.
func NewRedis(url string) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("store: open redis: invalid redis url")
	}
	// A universal client, so that a Sentinel or Cluster deployment is a
	// matter of configuration later, not of code.
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{opt.Addr},
		ClientName:            opt.ClientName,
		DB:                    opt.DB,
		Protocol:              opt.Protocol,
		Username:              opt.Username,
		Password:              opt.Password,
		TLSConfig:             opt.TLSConfig,
		MaxRetries:            opt.MaxRetries,
		MinRetryBackoff:       opt.MinRetryBackoff,
		MaxRetryBackoff:       opt.MaxRetryBackoff,
		DialTimeout:           opt.DialTimeout,
		ReadTimeout:           opt.ReadTimeout,
		WriteTimeout:          opt.WriteTimeout,
		ContextTimeoutEnabled: true,
		PoolSize:              opt.PoolSize,
		PoolTimeout:           opt.PoolTimeout,
		MinIdleConns:          opt.MinIdleConns,
		MaxIdleConns:          opt.MaxIdleConns,
		ConnMaxIdleTime:       opt.ConnMaxIdleTime,
		ConnMaxLifetime:       opt.ConnMaxLifetime,
	})
	return &Redis{client: client, prefix: DefaultKeyPrefix, now: time.Now}, nil
}

// Ping checks that Redis answers. Without a deadline in ctx it waits at
// most two seconds.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: redis ping: %w", err)
	}
	return nil
}

// Close closes the client. Copies made by WithKeyPrefix share it.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("store: close redis: %w", err)
	}
	return nil
}

// Client returns the underlying client, for tests and administration.
func (r *Redis) Client() redis.UniversalClient { return r.client }

// WithKeyPrefix returns a Redis sharing r's client whose keys start with
// prefix instead of DefaultKeyPrefix: tests get a corner of their own, and
// two deployments may share one Redis.
func (r *Redis) WithKeyPrefix(prefix string) *Redis {
	c := *r
	c.prefix = prefix
	return &c
}

// KeyPrefix returns the prefix of every key r writes.
func (r *Redis) KeyPrefix() string { return r.prefix }

// allowScript counts one send in the current window and returns the count.
// INCR and PEXPIRE run in one script so that a client dying between them
// cannot leave a counter without an expiry.
var allowScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`)

// Allow takes one send from operator's shared budget of tps sends per
// second, counted across every instance in a fixed one-second window (key
// <prefix>tps:<operator>:<unix second>). It returns 0 when the send may go
// now, otherwise how long until the next window, when the caller should ask
// again. Windows follow each instance's clock, so instances must keep
// their clocks in step (NTP); a window a little off costs a little burst,
// never a lost message. A tps of 0 or less means no limit.
func (r *Redis) Allow(ctx context.Context, operator string, tps int) (time.Duration, error) {
	if tps <= 0 {
		return 0, nil
	}
	now := r.now()
	sec := now.Unix()
	key := r.prefix + "tps:" + operator + ":" + strconv.FormatInt(sec, 10)
	ctx, cancel := withDefaultTimeout(ctx, time.Second)
	defer cancel()
	// The key outlives its second by one more, so that a late INCR from a
	// slow client finds it rather than starting a counter that never
	// expires in time.
	n, err := allowScript.Run(ctx, r.client, []string{key}, 2000).Int64()
	if err != nil {
		return 0, fmt.Errorf("store: tps budget: %w", err)
	}
	if n <= int64(tps) {
		return 0, nil
	}
	return time.Unix(sec+1, 0).Sub(now), nil
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

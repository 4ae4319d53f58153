package store

import (
	"context"
	"errors"
	"fmt"
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

// allowScript is the shared budget's pacing (GCRA, the "generic cell rate
// algorithm" of ATM networks): the key holds the operator's theoretical
// arrival time, the moment at which the budget is spent evenly up to now; a
// send may go when that moment is no further ahead than the burst
// tolerance, and then pushes it one interval on. Reading and writing it in
// one script keeps instances from taking the same slot. Times are
// microseconds of the caller's clock.
var allowScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
if tat - burst > now then
  return tat - burst - now
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
return 0`)

// budgetBurst is how far ahead of an even spacing the shared budget lets
// sends go: one second of the rate, as much as the fixed per-second window
// this replaced allowed after an idle spell. Under a backlog the budget is
// spent and sends go out evenly, one per interval. (A 100 ms tolerance was
// tried: in the medium chaos run's baseline, 200 MO/s against 150 submits/s,
// it cost throughput — 113 complaints answered/s instead of 142 — and let
// handed-over replies outwait their leases.)
const budgetBurst = time.Second

// Allow takes one send from operator's shared budget of tps sends per
// second, counted across every instance (key <prefix>tps:<operator>). It
// returns 0 when the send may go now, otherwise how long until it may ask
// again. The budget is paced, not counted per second: under a backlog sends
// are spread evenly at tps a second, instead of a whole second's budget
// going out at once when each second begins. A
// burst of that kind is what an SMSC that measures its limit over a shorter
// span throttles, and what a crash catches in flight, sent but not yet
// recorded (each of those is sent again after the restart). Instances use
// their own clocks, so they must keep them in step (NTP); a clock a little
// off costs a little burst, never a lost message. A tps of 0 or less means
// no limit.
func (r *Redis) Allow(ctx context.Context, operator string, tps int) (time.Duration, error) {
	if tps <= 0 {
		return 0, nil
	}
	now := r.now().UnixMicro()
	interval := int64(time.Second/time.Microsecond) / int64(tps)
	if interval < 1 {
		interval = 1
	}
	key := r.prefix + "tps:" + operator
	ctx, cancel := withDefaultTimeout(ctx, time.Second)
	defer cancel()
	wait, err := allowScript.Run(ctx, r.client, []string{key}, now, interval, budgetBurst.Microseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("store: tps budget: %w", err)
	}
	if wait <= 0 {
		return 0, nil
	}
	return time.Duration(wait) * time.Microsecond, nil
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// countScript counts one message in a number's minute and day windows and
// returns both counts. One script per number keeps INCR and PEXPIRE
// together; the numbers of a batch go in one pipeline.
var countScript = redis.NewScript(`
local m = redis.call('INCR', KEYS[1])
if m == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local d = redis.call('INCR', KEYS[2])
if d == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return {m, d}`)

// CountMessages counts one message for each number in the shared per-minute
// and per-day windows and returns the counts including it (router.Counter).
// Keys hold a hash of the number, never the number itself: Redis is a cache
// that operators inspect, and a reporter's number is personal data.
func (r *Redis) CountMessages(ctx context.Context, msisdns []string) (perMinute, perDay []int64, err error) {
	now := r.now()
	minute := strconv.FormatInt(now.Unix()/60, 10)
	day := strconv.FormatInt(now.Unix()/86400, 10)
	ctx, cancel := withDefaultTimeout(ctx, time.Second)
	defer cancel()
	pipe := r.client.Pipeline()
	cmds := make([]*redis.Cmd, len(msisdns))
	for i, m := range msisdns {
		h := numberKey(m)
		cmds[i] = countScript.Run(ctx, pipe, []string{
			r.prefix + "flood:m:" + h + ":" + minute,
			r.prefix + "flood:d:" + h + ":" + day,
		}, 120_000, 2*86_400_000)
	}
	// EVALSHA in a pipeline fails with NOSCRIPT on a fresh server; load the
	// script once and run the pipeline again.
	if _, err := pipe.Exec(ctx); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := countScript.Load(ctx, r.client).Err(); err != nil {
			return nil, nil, fmt.Errorf("store: flood count: %w", err)
		}
		return r.CountMessages(ctx, msisdns)
	} else if err != nil {
		return nil, nil, fmt.Errorf("store: flood count: %w", err)
	}
	perMinute = make([]int64, len(msisdns))
	perDay = make([]int64, len(msisdns))
	for i, c := range cmds {
		v, err := c.Int64Slice()
		if err != nil || len(v) != 2 {
			return nil, nil, fmt.Errorf("store: flood count: unexpected reply: %v", err)
		}
		perMinute[i], perDay[i] = v[0], v[1]
	}
	return perMinute, perDay, nil
}

func numberKey(msisdn string) string {
	h := sha256.Sum256([]byte("sms1708-flood:" + msisdn))
	return hex.EncodeToString(h[:12])
}

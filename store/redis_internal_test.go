package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openTestRedis opens the test Redis with a key prefix of its own and a
// clock the test sets; keys under the prefix are deleted at the end.
func openTestRedis(t *testing.T, prefix string, clock *atomic.Int64) *Redis {
	t.Helper()
	u := os.Getenv("SMS1708_TEST_REDIS_URL")
	if u == "" {
		t.Fatal("SMS1708_TEST_REDIS_URL is not set")
	}
	r, err := OpenRedis(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	r = r.WithKeyPrefix(prefix)
	r.now = func() time.Time { return time.Unix(0, clock.Load()) }
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := r.client.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			r.client.Del(ctx, keys...)
		}
		r.Close()
	})
	return r
}

// Two instances sharing one operator's budget never allow more than tps
// sends in a window between them, tell the others when the next window
// opens, and get a fresh budget in it.
func TestAllowSharesTheBudgetAcrossInstances(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sms1708test:" + hex.EncodeToString(b) + ":"
	var clock atomic.Int64
	clock.Store(time.Unix(1_900_000_000, 300*int64(time.Millisecond)).UnixNano())
	instances := []*Redis{openTestRedis(t, prefix, &clock), openTestRedis(t, prefix, &clock)}

	const tps = 50
	window := func() (allowed int64) {
		var n atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			r := instances[g%2]
			wg.Go(func() {
				for range 20 {
					wait, err := r.Allow(t.Context(), "telkomsel", tps)
					switch {
					case err != nil:
						t.Error(err)
						return
					case wait == 0:
						n.Add(1)
					case wait != 700*time.Millisecond:
						t.Errorf("wait = %v, want 700ms (to the next second)", wait)
					}
				}
			})
		}
		wg.Wait()
		return n.Load()
	}
	if got := window(); got != tps {
		t.Errorf("first second: %d sends allowed of 160 asked, want %d", got, tps)
	}
	clock.Add(int64(time.Second))
	if got := window(); got != tps {
		t.Errorf("next second: %d sends allowed, want %d", got, tps)
	}
	// Another operator's budget is its own.
	if wait, err := instances[0].Allow(t.Context(), "indosat", tps); err != nil || wait != 0 {
		t.Errorf("indosat: Allow = %v, %v; want 0", wait, err)
	}
	// Windows expire by themselves.
	ttl, err := instances[0].client.PTTL(t.Context(), prefix+"tps:telkomsel:1900000001").Result()
	if err != nil || ttl <= 0 || ttl > 2*time.Second {
		t.Errorf("window key TTL = %v, %v; want (0, 2s]", ttl, err)
	}
}

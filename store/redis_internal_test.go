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

// Two instances sharing one operator's budget pace their sends between
// them: at one instant only the burst tolerance goes (100 ms of the rate),
// the others are told when the next slot opens, and from then on one send
// goes per interval, whichever instance asks — tps a second, evenly, never
// a second's budget at once.
func TestAllowPacesTheSharedBudget(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sms1708test:" + hex.EncodeToString(b) + ":"
	var clock atomic.Int64
	clock.Store(time.Unix(1_900_000_000, 300*int64(time.Millisecond)).UnixNano())
	instances := []*Redis{openTestRedis(t, prefix, &clock), openTestRedis(t, prefix, &clock)}

	const tps = 50 // one send every 20 ms
	const interval = 20 * time.Millisecond
	var allowed atomic.Int64
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
					allowed.Add(1)
				case wait > budgetBurst+interval:
					t.Errorf("wait = %v, want at most %v", wait, budgetBurst+interval)
				}
			}
		})
	}
	wg.Wait()
	if got, want := allowed.Load(), int64(budgetBurst/interval)+1; got != want {
		t.Errorf("at one instant: %d sends allowed of 160 asked, want %d (the burst tolerance)", got, want)
	}
	// A second later, step by step: one send per interval, the next ask in
	// the same step waits for the next slot.
	total := 0
	for step := range int(time.Second / interval) {
		clock.Add(int64(interval))
		r := instances[step%2]
		for ask := 0; ; ask++ {
			wait, err := r.Allow(t.Context(), "telkomsel", tps)
			if err != nil {
				t.Fatal(err)
			}
			if wait > 0 {
				if ask != 1 {
					t.Fatalf("step %d: %d sends allowed, want 1", step, ask)
				}
				if wait > interval {
					t.Fatalf("step %d: wait %v, want at most %v", step, wait, interval)
				}
				break
			}
			total++
		}
	}
	if total != tps {
		t.Errorf("over one second: %d sends, want %d", total, tps)
	}
	// Another operator's budget is its own.
	if wait, err := instances[0].Allow(t.Context(), "indosat", tps); err != nil || wait != 0 {
		t.Errorf("indosat: Allow = %v, %v; want 0", wait, err)
	}
	// The key expires by itself once the budget is idle.
	ttl, err := instances[0].client.PTTL(t.Context(), prefix+"tps:telkomsel").Result()
	if limit := budgetBurst + interval + time.Second; err != nil || ttl <= 0 || ttl > limit {
		t.Errorf("budget key TTL = %v, %v; want (0, %v]", ttl, err, limit)
	}
}

package router

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// FloodLimits caps how many messages from one number get replies: past a
// limit, messages are still stored and processed (a flood may hide a real
// complaint), but no reply is queued, so that a flood cannot make us flood
// back. Zero means no limit.
type FloodLimits struct {
	PerMinute int
	PerDay    int
}

func (l FloodLimits) enabled() bool { return l.PerMinute > 0 || l.PerDay > 0 }

// Counter counts messages per number in shared windows (implemented on Redis
// by package store, so every instance sees the same counts). For each
// number, in order, it returns the counts including this message.
type Counter interface {
	CountMessages(ctx context.Context, msisdns []string) (perMinute, perDay []int64, err error)
}

// Flood decides which messages may be answered. It counts through the
// shared Counter and falls back to counts of its own when the Counter fails
// (Redis down): limits then hold per instance instead of across instances,
// and the degraded state shows in sms1708_flood_shared_up.
type Flood struct {
	limits  FloodLimits
	shared  Counter
	logger  *slog.Logger
	now     func() time.Time
	local   localCounts
	warned  atomic.Int64 // unix second of the last warning about the fallback
	up      prometheus.Gauge
	held    prometheus.Counter
	over    prometheus.Counter
	counted prometheus.Counter
}

// NewFlood returns a flood guard. shared may be nil (local counts only).
func NewFlood(limits FloodLimits, shared Counter, reg prometheus.Registerer, logger *slog.Logger) *Flood {
	f := promauto.With(reg)
	fl := &Flood{
		limits: limits,
		shared: shared,
		logger: logger,
		now:    time.Now,
		up: f.NewGauge(prometheus.GaugeOpts{
			Name: "sms1708_flood_shared_up",
			Help: "1 when per-number limits are counted in Redis across instances, 0 when counted locally (degraded).",
		}),
		held: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_flood_replies_held_total",
			Help: "Replies not sent because the number was over its limit.",
		}),
		over: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_flood_numbers_over_limit_total",
			Help: "Times a number went over a limit (counted once per window crossing).",
		}),
		counted: f.NewCounter(prometheus.CounterOpts{
			Name: "sms1708_flood_messages_counted_total",
			Help: "Messages counted against per-number limits.",
		}),
	}
	fl.up.Set(1)
	return fl
}

// Allow counts one message for each number and reports, in order, whether a
// reply may go to it. An empty number (no reply possible) is not counted.
func (f *Flood) Allow(ctx context.Context, msisdns []string) []bool {
	ok := make([]bool, len(msisdns))
	if f == nil || !f.limits.enabled() {
		for i := range ok {
			ok[i] = true
		}
		return ok
	}
	idx := make([]int, 0, len(msisdns))
	nums := make([]string, 0, len(msisdns))
	for i, m := range msisdns {
		if m == "" {
			ok[i] = true
			continue
		}
		idx = append(idx, i)
		nums = append(nums, m)
	}
	if len(nums) == 0 {
		return ok
	}
	f.counted.Add(float64(len(nums)))
	perMin, perDay, err := f.count(ctx, nums)
	if err != nil {
		// Counting failed even locally: answer rather than hold; a reply
		// too many is better than a citizen left without one.
		for _, i := range idx {
			ok[i] = true
		}
		return ok
	}
	for j, i := range idx {
		minOver := f.limits.PerMinute > 0 && perMin[j] > int64(f.limits.PerMinute)
		dayOver := f.limits.PerDay > 0 && perDay[j] > int64(f.limits.PerDay)
		ok[i] = !minOver && !dayOver
		if !ok[i] {
			f.held.Inc()
		}
		if (f.limits.PerMinute > 0 && perMin[j] == int64(f.limits.PerMinute)+1) ||
			(f.limits.PerDay > 0 && perDay[j] == int64(f.limits.PerDay)+1) {
			f.over.Inc()
		}
	}
	return ok
}

func (f *Flood) count(ctx context.Context, nums []string) ([]int64, []int64, error) {
	if f.shared != nil {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		perMin, perDay, err := f.shared.CountMessages(ctx, nums)
		cancel()
		if err == nil && len(perMin) == len(nums) && len(perDay) == len(nums) {
			f.up.Set(1)
			// Keep the local counts warm too, so that a switch to them
			// does not forget a flood in progress.
			f.local.add(f.now(), nums)
			return perMin, perDay, nil
		}
		f.up.Set(0)
		if now := f.now().Unix(); f.warned.Swap(now) < now-60 {
			f.logger.Warn("flood limits: shared counts unavailable, counting locally", "err", err)
		}
	}
	perMin, perDay := f.local.add(f.now(), nums)
	return perMin, perDay, nil
}

// localCounts is the per-instance fallback: fixed windows per minute and per
// day, reset when the window turns, so memory stays bounded by the numbers
// seen in one day.
type localCounts struct {
	mu               sync.Mutex
	minute, day      int64
	perMin, perDayMp map[string]int64
}

func (l *localCounts) add(now time.Time, nums []string) (perMin, perDay []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := now.Unix() / 60; m != l.minute || l.perMin == nil {
		l.minute, l.perMin = m, make(map[string]int64)
	}
	if d := now.Unix() / 86400; d != l.day || l.perDayMp == nil {
		l.day, l.perDayMp = d, make(map[string]int64)
	}
	perMin = make([]int64, len(nums))
	perDay = make([]int64, len(nums))
	for i, n := range nums {
		l.perMin[n]++
		l.perDayMp[n]++
		perMin[i], perDay[i] = l.perMin[n], l.perDayMp[n]
	}
	return perMin, perDay
}

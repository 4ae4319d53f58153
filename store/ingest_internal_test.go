package store

import (
	"testing"
	"time"
)

// fill waits for records on an empty queue only when told another
// statement is in flight, and then up to MaxWait or MaxBatch.
func TestIngestFillWaitsOnlyBehindAnotherFlush(t *testing.T) {
	in := &Ingest{cfg: IngestConfig{MaxBatch: 2, MaxWait: 10 * time.Second}.withDefaults(), queue: make(chan Inbound, 4)}

	if got := in.fill([]Inbound{{Seq: 1}}, false); len(got) != 1 {
		t.Fatalf("idle: batch of %d, want 1 (no waiting on an empty queue)", len(got))
	}

	go func() {
		time.Sleep(20 * time.Millisecond)
		in.queue <- Inbound{Seq: 2}
	}()
	start := time.Now()
	got := in.fill([]Inbound{{Seq: 1}}, true)
	if len(got) != 2 || got[1].Seq != 2 {
		t.Fatalf("behind another flush: batch %+v, want records 1 and 2", got)
	}
	if time.Since(start) >= in.cfg.MaxWait {
		t.Errorf("fill waited out MaxWait with a full batch")
	}

	in.cfg.MaxWait = 30 * time.Millisecond
	start = time.Now()
	if got := in.fill([]Inbound{{Seq: 3}}, true); len(got) != 1 {
		t.Fatalf("nothing arriving: batch of %d, want 1", len(got))
	}
	if waited := time.Since(start); waited < in.cfg.MaxWait {
		t.Errorf("nothing arriving: returned after %s, want MaxWait (%s)", waited, in.cfg.MaxWait)
	}
}

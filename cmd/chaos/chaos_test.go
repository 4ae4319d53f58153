package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFirstAckAfter(t *testing.T) {
	t0 := time.UnixMilli(10_000)
	tests := []struct {
		name string
		acks [][2]int64
		want time.Duration
	}{
		{"no ack at all is never", nil, -1},
		{"acks of attempts sent before the fault do not count", [][2]int64{{9_999, 10_500}}, -1},
		{"the earliest ack of an attempt sent after the fault", [][2]int64{{9_000, 10_100}, {10_200, 10_900}, {10_300, 10_700}}, 700 * time.Millisecond},
		{"an attempt sent at the fault counts", [][2]int64{{10_000, 10_004}}, 4 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstAckAfter(tt.acks, t0); got != tt.want {
				t.Errorf("firstAckAfter = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestReadyRecovery(t *testing.T) {
	t0 := time.Unix(100, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name    string
		samples []readySample
		want    time.Duration
	}{
		{"ready throughout is 0", []readySample{{at(-50), true}, {at(50), true}, {at(100), true}}, 0},
		{"unready then ready is the time to the first 200", []readySample{{at(-50), true}, {at(20), false}, {at(70), false}, {at(120), true}}, 120 * time.Millisecond},
		{"samples before the fault do not count", []readySample{{at(-50), false}, {at(10), true}}, 0},
		{"never ready again is -1", []readySample{{at(10), false}, {at(60), false}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &readyProbe{samples: tt.samples}
			if got := r.recovery(t0); got != tt.want {
				t.Errorf("recovery = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestWriteSection(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{"markers are added to a file without them", "# Doc\n", "# Doc\n\n" + sectionBegin + "\nNEW\n" + sectionEnd + "\n"},
		{"only the text between the markers changes", "a\n" + sectionBegin + "\nOLD\n" + sectionEnd + "\nb\n", "a\n" + sectionBegin + "\nNEW\n" + sectionEnd + "\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "R.md")
			if err := os.WriteFile(p, []byte(tt.before), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := writeSection(p, "NEW\n"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckFailures(t *testing.T) {
	tests := []struct {
		name  string
		c     checkResult
		allow bool
		want  int
	}{
		{"a clean end state passes", checkResult{Tickets: 10}, false, 0},
		{"a lost PDU fails even with doubles allowed", checkResult{Lost: 1}, true, 1},
		{"an acked complaint without a ticket fails", checkResult{NoTicket: 2}, true, 1},
		{"doubled tickets fail", checkResult{DoubledTickets: 3}, false, 1},
		{"doubled tickets pass with --allow-doubles", checkResult{DoubledTickets: 3}, true, 0},
		{"doubled acknowledgements are counted, not failed", checkResult{DoubledAcks: 5}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.failures(tt.allow); len(got) != tt.want {
				t.Errorf("failures = %q, want %d", got, tt.want)
			}
		})
	}
}

func TestMarkerRE(t *testing.T) {
	re := markerRE("K")
	for text, want := range map[string]string{
		"[K-000123] Jalan berlubang": "[K-000123]",
		"[L-000123] Jalan berlubang": "",
		"JALAN [K-1234567] RUSAK":    "[K-1234567]",
	} {
		if got := re.FindString(text); got != want {
			t.Errorf("marker in %q = %q, want %q", text, got, want)
		}
	}
}

// A second run on the same services directory is refused while the first
// holds the lock, and may go once the first has let it go.
func TestLockRunRefusesASecondRun(t *testing.T) {
	dir := t.TempDir()
	release, err := lockRun(dir)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if _, err := lockRun(dir); err == nil || !strings.Contains(err.Error(), "another chaos run") {
		t.Fatalf("second lock while the first is held: %v, want 'another chaos run'", err)
	}
	release()
	release2, err := lockRun(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}

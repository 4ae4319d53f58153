package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

func TestRedisAllowOnTheRealClock(t *testing.T) {
	r := storetest.Redis(t)
	if err := r.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Ask until one send is refused: with a budget of 3 that happens within
	// the first 4 asks, unless a second boundary falls between them, so
	// allow a few windows.
	for range 10 {
		refused := false
		for range 4 {
			wait, err := r.Allow(t.Context(), "three", 3)
			if err != nil {
				t.Fatal(err)
			}
			if wait > time.Second {
				t.Fatalf("wait %v longer than a window", wait)
			}
			if wait > 0 {
				refused = true
				break
			}
		}
		if refused {
			return
		}
	}
	t.Fatal("a budget of 3 per second allowed 4 in a row in every window")
}

func TestOpenRedisRejectsABadURL(t *testing.T) {
	if _, err := store.OpenRedis(t.Context(), "http://user:secret@host"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("OpenRedis(bad url) = %v; want an error without the password", err)
	}
}

func TestOpenRejectsABadURLWithoutTheSecret(t *testing.T) {
	if _, err := store.Open(t.Context(), "postgres://user:secret@host:notaport/db", testLogger(t)); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(bad url) = %v; want an error without the password", err)
	}
}

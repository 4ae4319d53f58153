package store_test

import (
	"strings"
	"testing"

	"github.com/sp4n-lapor/sms1708/store/storetest"
)

func TestCountMessagesSharedAcrossClients(t *testing.T) {
	a := storetest.Redis(t)
	b := a.WithKeyPrefix(a.KeyPrefix()) // a second instance on the same keys
	nums := []string{"6281234567890", "6281234567890", "6289999999999"}
	m1, d1, err := a.CountMessages(t.Context(), nums)
	if err != nil {
		t.Fatal(err)
	}
	if m1[0] != 1 || m1[1] != 2 || m1[2] != 1 || d1[1] != 2 {
		t.Fatalf("first counts: minute %v day %v", m1, d1)
	}
	m2, d2, err := b.CountMessages(t.Context(), nums[:1])
	if err != nil {
		t.Fatal(err)
	}
	if m2[0] != 3 || d2[0] != 3 {
		t.Fatalf("second instance sees minute %v day %v, want 3 and 3", m2, d2)
	}
	// No key holds the number itself.
	keys, err := a.Client().Keys(t.Context(), a.KeyPrefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no flood keys written")
	}
	for _, k := range keys {
		for _, n := range nums {
			if strings.Contains(k, n) {
				t.Errorf("key %q holds a phone number", k)
			}
		}
	}
}

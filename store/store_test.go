package store_test

import (
	"net/url"
	"os"
	"testing"

	"github.com/sp4n-lapor/sms1708/store"
	"github.com/sp4n-lapor/sms1708/store/storetest"
)

// The pool plans each prepared statement once (force_generic_plan) unless
// the URL says otherwise.
func TestOpenUsesGenericPlansUnlessTheURLSaysOtherwise(t *testing.T) {
	db := storetest.DB(t)
	var mode string
	if err := db.Pool().QueryRow(t.Context(), "SHOW plan_cache_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "force_generic_plan" {
		t.Errorf("plan_cache_mode = %q, want force_generic_plan", mode)
	}

	u, err := url.Parse(os.Getenv("SMS1708_TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("plan_cache_mode", "auto")
	u.RawQuery = q.Encode()
	db2, err := store.Open(t.Context(), u.String(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Pool().QueryRow(t.Context(), "SHOW plan_cache_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "auto" {
		t.Errorf("with plan_cache_mode=auto in the URL: %q, want auto", mode)
	}
}

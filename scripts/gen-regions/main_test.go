package main

import (
	"strings"
	"testing"
)

func TestNorm(t *testing.T) {
	tests := map[string]string{
		"Kab. Bandung": "kab bandung",
		"Toli-Toli":    "toli toli",
		" Ra\"as ":     "ra as",
		"":             "",
	}
	for in, want := range tests {
		if got := norm(in); got != want {
			t.Errorf("norm(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortName(t *testing.T) {
	tests := []struct {
		g    regency
		want string
	}{
		{regency{name: "Kabupaten Bandung", base: "Bandung"}, "Bandung"},
		{regency{name: "Kabupaten Kutai Kartanegara", base: "Kutai Kartanegara"}, "Kukar"},
		{regency{name: "Kabupaten Minahasa Tenggara", base: "Minahasa Tenggara"}, "Minahasa Tgr"},
		{regency{name: "Kabupaten Bengkulu Tengah", base: "Bengkulu Tengah"}, "Bengkulu Tgh"},
	}
	for _, tt := range tests {
		if got := shortName(tt.g); got != tt.want {
			t.Errorf("shortName(%s) = %q, want %q", tt.g.name, got, tt.want)
		}
	}
}

func TestBuildAliases(t *testing.T) {
	provs := []province{{code: "32", name: "Jawa Barat", short: "Jabar"}, {code: "63", name: "Kalimantan Selatan", short: "Kalsel"}}
	regs := []regency{
		{code: "32.04", prov: "32", kind: "regency", name: "Kabupaten Bandung", base: "Bandung"},
		{code: "32.73", prov: "32", kind: "city", name: "Kota Bandung", base: "Bandung"},
		{code: "32.79", prov: "32", kind: "city", name: "Kota Banjar", base: "Banjar"},
		{code: "63.03", prov: "63", kind: "regency", name: "Kabupaten Banjar", base: "Banjar"},
		{code: "32.01", prov: "32", kind: "regency", name: "Kabupaten Bogor", base: "Bogor"},
	}
	byName := map[string]regency{}
	for _, g := range regs {
		byName[g.name] = g
	}
	// Hand aliases refer to names missing here; only their errors are expected.
	got, errs := buildAliases(provs, regs, byName)
	for _, err := range errs {
		if !strings.Contains(err.Error(), "no region named") {
			t.Errorf("unexpected error: %v", err)
		}
	}
	has := map[string]bool{}
	for _, a := range got {
		has[a.code+" "+a.alias+" "+a.context] = true
	}
	for _, want := range []string{
		"32.04 kab bandung ", "32.04 kabupaten bandung ", "32.04 pemkab bandung ", "32.04 bandung ",
		"32.73 kota bandung ", "32.73 pemkot bandung ", "32.73 bandung ",
		"32.79 kota banjar ", "63.03 kab banjar ", "32 jabar ", "32 provinsi jawa barat ", "32 jawa barat ",
	} {
		if !has[want] {
			t.Errorf("missing alias row %q", want)
		}
	}
	for _, unwanted := range []string{"32.79 banjar ", "63.03 banjar "} {
		if has[unwanted] {
			t.Errorf("kind-only name generated bare: %q", unwanted)
		}
	}
}

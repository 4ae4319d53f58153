package main

import (
	"os"
	"path/filepath"
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

func TestUsefulVillages(t *testing.T) {
	vills := []village{
		{"32.04.15.2005", "32.04", "Lamajang"},          // one regency: kept
		{"32.04.16.2001", "32.04", "Sukamaju"},          // several regencies: dropped
		{"32.01.01.2001", "32.01", "Sukamaju"},          //
		{"32.04.01.2002", "32.04", "Cibodas"},           // twice in one regency: kept once, lowest code
		{"32.04.02.2001", "32.04", "Cibodas"},           //
		{"32.16.01.1001", "32.16", "Pasirsari"},         // same name without its space elsewhere: dropped
		{"33.75.01.1001", "33.75", "Pasir Sari"},        //
		{"11.11.15.2008", "11.11", "Kubu Raya"},         // a regency's alias: dropped
		{"11.01.11.2006", "11.01", "Laut Tawar"},        // another regency's district: dropped
		{"32.04.03.2001", "32.04", "Soreang"},           // its own regency's district: kept
		{"32.04.04.2001", "32.04", "Kami"},              // an everyday word: dropped
		{"32.04.05.2001", "32.04", "Kampung"},           // a village word: dropped
		{"32.04.06.2001", "32.04", "Sungai Tohor Baru"}, // several words, some everyday: kept
	}
	dists := []district{{"11.04.01", "11.04", "Laut Tawar"}, {"32.04.03", "32.04", "Soreang"}}
	aliases := []alias{{"61.12", "kubu raya", ""}}
	var got []string
	for _, v := range usefulVillages(vills, dists, aliases) {
		got = append(got, v.code+" "+v.regency+" "+v.name)
	}
	want := []string{
		"32.04.01.2002 32.04 Cibodas",
		"32.04.03.2001 32.04 Soreang",
		"32.04.06.2001 32.04 Sungai Tohor Baru",
		"32.04.15.2005 32.04 Lamajang",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("usefulVillages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestVillagesReproducible writes villages.csv from the same villages in
// two orders (map iteration inside usefulVillages varies too) and checks
// that the bytes are the same.
func TestVillagesReproducible(t *testing.T) {
	vills := []village{
		{"32.04.15.2005", "32.04", "Lamajang"}, {"32.04.16.2001", "32.04", "Cibodas"},
		{"32.04.01.2002", "32.04", "Cibodas"}, {"32.73.01.1002", "32.73", "Gegerkalong"},
		{"32.73.01.1001", "32.73", "Sukamaju"}, {"32.04.15.2006", "32.04", "Sukamaju"},
		{"35.08.12.2012", "35.08", "Ranupani"}, {"53.71.03.1010", "53.71", "Oesapa"},
	}
	var outs []string
	for pass := range 2 {
		in := append([]village(nil), vills...)
		if pass == 1 {
			for i, j := 0, len(in)-1; i < j; i, j = i+1, j-1 {
				in[i], in[j] = in[j], in[i]
			}
		}
		var rows [][]string
		for _, v := range usefulVillages(in, nil, nil) {
			rows = append(rows, []string{v.code, v.regency, v.name})
		}
		path := filepath.Join(t.TempDir(), "villages.csv")
		if err := writeCSV(path, []string{"code", "regency_code", "name"}, rows, villagesNote); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	if outs[0] != outs[1] {
		t.Errorf("villages.csv differs with the input order:\n%s\n---\n%s", outs[0], outs[1])
	}
	want := header + "\n" + villagesNote + "\ncode,regency_code,name\n32.04.01.2002,32.04,Cibodas\n32.04.15.2005,32.04,Lamajang\n" +
		"32.73.01.1002,32.73,Gegerkalong\n35.08.12.2012,35.08,Ranupani\n53.71.03.1010,53.71,Oesapa\n"
	if outs[0] != want {
		t.Errorf("villages.csv =\n%s\nwant\n%s", outs[0], want)
	}
}

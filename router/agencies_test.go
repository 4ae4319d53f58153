package router

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sp4n-lapor/sms1708/smpp/text"
)

const (
	agenciesPath   = "../configs/agencies.yaml"
	categoriesPath = "../configs/routing/lapor-categories-2025.json"
)

// testCategoryNames reads the LAPOR! main category names from the reference
// file, as the classifier's configuration does.
func testCategoryNames(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile(categoriesPath)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Categories map[string][]string `json:"categories"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", categoriesPath, err)
	}
	var names []string
	for name := range f.Categories {
		names = append(names, name)
	}
	if len(names) != 38 {
		t.Fatalf("%s: %d main categories, want 38", categoriesPath, len(names))
	}
	return names
}

func loadRealDirectory(t testing.TB) *Directory {
	t.Helper()
	d, err := LoadDirectory(agenciesPath, loadRealRegions(t), testCategoryNames(t))
	if err != nil {
		t.Fatalf("LoadDirectory(%s): %v", agenciesPath, err)
	}
	return d
}

// routingIDs are the agency ids fixed by the routing contract (issue 5).
var routingIDs = []string{
	"lapor-nasional",
	"kemen-pu", "kemenhub", "kemenkes", "kemendikdasmen", "kemendiktisaintek", "kemenag", "kemensos",
	"ditjen-dukcapil", "kemendagri", "atr-bpn", "komdigi", "djp", "djbc", "kemenkeu", "kemnaker",
	"kemenkum", "kemenimipas", "kemendag", "kementan", "kemen-esdm", "kemenlh", "kemenhut", "kemenpar",
	"kemenkop", "kemen-umkm", "kemenpora", "kemenpppa", "kemendes", "kementrans", "kemenpan-rb", "bkn",
	"kemenlu", "kp2mi", "kkp", "kemenperin", "kemenbud", "kemen-bumn", "kemenpkp", "polri", "kejaksaan",
	"kpk", "bpom", "bnn", "bmkg", "basarnas", "bnpb", "ojk", "bgn", "komisi-yudisial", "mahkamah-agung",
	"pln", "pertamina", "bpjs-kesehatan", "bpjs-ketenagakerjaan", "telkom", "kai", "pos-indonesia",
	"bulog", "jasa-marga", "pelni", "angkasa-pura",
}

var stateCompanies = map[string]bool{
	"pln": true, "pertamina": true, "bpjs-kesehatan": true, "bpjs-ketenagakerjaan": true, "telkom": true,
	"kai": true, "pos-indonesia": true, "bulog": true, "jasa-marga": true, "pelni": true, "angkasa-pura": true,
}

func TestDirectoryHasEveryRoutingID(t *testing.T) {
	d := loadRealDirectory(t)
	for _, id := range routingIDs {
		a, ok := d.Get(id)
		if !ok {
			t.Errorf("agency %s missing", id)
			continue
		}
		want := LevelNational
		switch {
		case id == TriageAgency:
			want = LevelTriage
		case stateCompanies[id]:
			want = LevelStateCompany
		}
		if a.Level != want || a.Region != "" {
			t.Errorf("%s: level %q region %q, want %q and no region", id, a.Level, a.Region, want)
		}
	}
	if want := len(routingIDs) + 38 + 514; d.Len() != want {
		t.Errorf("Len = %d, want %d", d.Len(), want)
	}
}

func TestDirectoryEveryLocalGovernment(t *testing.T) {
	r := loadRealRegions(t)
	d := loadRealDirectory(t)
	for _, g := range append(r.Provinces(), r.Regencies()...) {
		a, ok := d.ForRegion(g.Code)
		if !ok {
			t.Errorf("ForRegion(%s): none", g.Code)
			continue
		}
		if a.Region != g.Code || a.Level != g.Kind || a.ID != LocalAgencyID(g) {
			t.Errorf("ForRegion(%s) = %s level %s region %s", g.Code, a.ID, a.Level, a.Region)
		}
		if b, ok := d.Get(a.ID); !ok || b.ID != a.ID {
			t.Errorf("Get(%s) does not find ForRegion's agency", a.ID)
		}
	}
	tests := []struct{ code, id, name, short string }{
		{"32", "pemprov-32", "Pemerintah Provinsi Jawa Barat", "Pemprov Jabar"},
		{"32.04", "pemkab-32.04", "Pemerintah Kabupaten Bandung", "Pemkab Bandung"},
		{"32.73", "pemkot-32.73", "Pemerintah Kota Bandung", "Pemkot Bandung"},
		{"31.74", "pemkot-31.74", "Pemerintah Kota Administrasi Jakarta Selatan", "Pemkot Jaksel"},
		{"34", "pemprov-34", "Pemerintah Daerah Daerah Istimewa Yogyakarta", "Pemda DIY"}, // YAML override
		{"64.02", "pemkab-64.02", "Pemerintah Kabupaten Kutai Kartanegara", "Pemkab Kukar"},
	}
	for _, tt := range tests {
		a, _ := d.ForRegion(tt.code)
		if a.ID != tt.id || a.Name != tt.name || a.Short != tt.short {
			t.Errorf("ForRegion(%s) = %s %q %q, want %s %q %q", tt.code, a.ID, a.Name, a.Short, tt.id, tt.name, tt.short)
		}
	}
	if a, _ := d.ForRegion("32.04"); len(a.Topics) == 0 || len(a.Handles) == 0 {
		t.Errorf("pemkab-32.04 lacks the local defaults: topics %v handles %v", a.Topics, a.Handles)
	}
	for _, code := range []string{"", "99", "32.99", "32.04.01"} {
		if a, ok := d.ForRegion(code); ok {
			t.Errorf("ForRegion(%q) = %s", code, a.ID)
		}
	}
}

func TestDirectoryShortNamesFit(t *testing.T) {
	d := loadRealDirectory(t)
	for _, a := range d.Agencies() {
		n, ok := text.GSM7Septets(a.Short)
		if !ok || n > MaxShortName || a.Short == "" {
			t.Errorf("%s: short %q: %d septets, gsm7 %v", a.ID, a.Short, n, ok)
		}
	}
}

func TestDirectoryHandlesAreExactCategories(t *testing.T) {
	cats := map[string]bool{}
	for _, c := range testCategoryNames(t) {
		cats[c] = true
	}
	d := loadRealDirectory(t)
	for _, a := range d.Agencies() {
		for _, h := range a.Handles {
			if !cats[h] {
				t.Errorf("%s: handles %q is not byte-exact", a.ID, h)
			}
		}
	}
	// The YAML writes plain spaces; the reference has no-break spaces.
	a, _ := d.Get("kemen-pu")
	if len(a.Handles) == 0 || a.Handles[0] != "PEKERJAAN\u00a0UMUM\u00a0DAN\u00a0PENATAAN\u00a0RUANG" {
		t.Errorf("kemen-pu handles = %q, want the reference bytes first", a.Handles)
	}
}

func TestDirectoryKeywords(t *testing.T) {
	d := loadRealDirectory(t)
	tests := []struct{ keyword, id string }{
		{"TANGKAB", "pemkab-36.03"},
		{"tangkab", "pemkab-36.03"},
		{"BANJARBARU", "pemkot-63.72"},
		{"KAB. NGANJUK", "pemkab-35.18"},
		{"kab nganjuk", "pemkab-35.18"},
		{"Kab#Nganjuk", "pemkab-35.18"},
		{"halobupati", "pemkab-33.27"},
		{"Kumham", "kemenkum"},
		{"BBM", "pertamina"},
	}
	for _, tt := range tests {
		a, ok := d.ByKeyword(tt.keyword)
		if !ok || a.ID != tt.id {
			t.Errorf("ByKeyword(%q) = %q, %v, want %s", tt.keyword, a.ID, ok, tt.id)
		}
	}
	for _, k := range []string{"", "CEK", "kab", "nganjuk", "lapor"} {
		if a, ok := d.ByKeyword(k); ok {
			t.Errorf("ByKeyword(%q) = %s, want none", k, a.ID)
		}
	}
	kws := d.Keywords()
	for _, want := range []string{"TANGKAB", "BANJARBARU", "KAB NGANJUK", "HALOBUPATI", "KUMHAM", "BBM"} {
		found := false
		for _, k := range kws {
			found = found || k == want
		}
		if !found {
			t.Errorf("Keywords() = %v lacks %q", kws, want)
		}
	}
	for _, k := range kws {
		if k != CanonicalKeyword(k) {
			t.Errorf("keyword %q is not canonical", k)
		}
	}
}

func TestLoadDirectoryReportsEveryProblem(t *testing.T) {
	r := loadRealRegions(t)
	path := filepath.Join(t.TempDir(), "agencies.yaml")
	yaml := `
local_defaults:
  village: {topics: [x]}
agencies:
  - id: lapor-nasional
    name: Triage
    short: LAPOR!
    level: triage
  - id: Bad_ID
    name: Bad
    short: Bad
    level: national
  - id: long-short
    name: Long
    short: A short name that is far too long
    level: national
  - id: non-gsm
    name: Non GSM
    short: "Kemen ✓"
    level: national
  - id: no-name
    short: X
    level: national
  - id: bad-level
    name: Bad level
    short: X
    level: ministry
  - id: local-level
    name: Local level
    short: X
    level: regency
  - id: bad-region
    name: Bad region
    short: X
    level: national
    region: "99.99"
  - id: dup-keyword
    name: Dup keyword
    short: X
    level: national
    keywords: [tangkab]
  - id: command-keyword
    name: Command keyword
    short: X
    level: national
    keywords: [Cek]
  - id: bad-handle
    name: Bad handle
    short: X
    level: national
    handles: [JALAN RUSAK]
  - id: pemkab-36.03
    keywords: [TANGKAB]
    level: city
  - id: pemkab-99.01
    name: Nowhere
  - id: second-triage
    name: Second triage
    short: X
    level: triage
  - id: kemen-pu
    name: Dup
    short: X
    level: national
  - id: kemen-pu
    name: Dup
    short: X
    level: national
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDirectory(path, r, testCategoryNames(t))
	if err == nil {
		t.Fatal("LoadDirectory accepted a bad directory")
	}
	for _, want := range []string{
		"agencies: local_defaults: village: not a local government level",
		"agencies: Bad_ID: id: not lowercase",
		"agencies: long-short: short: \"A short name that is far too long\" is 33 GSM-7 characters",
		"agencies: non-gsm: short: \"Kemen ✓\" has characters outside GSM-7",
		"agencies: no-name: name: missing",
		"agencies: bad-level: level: \"ministry\"",
		"agencies: local-level: level: \"regency\": local governments are generated",
		"agencies: bad-region: region: unknown region code \"99.99\"",
		"agencies: dup-keyword: keywords: \"tangkab\" is also a keyword of pemkab-36.03",
		"agencies: command-keyword: keywords: \"Cek\" is a command word",
		"agencies: bad-handle: handles: \"JALAN RUSAK\" is not a LAPOR! main category",
		"agencies: pemkab-36.03: level: \"city\", but the id names a regency",
		"agencies: pemkab-99.01: id: no province, regency or city has this id",
		"agencies: second-triage: level: triage, but the triage desk is lapor-nasional",
		"agencies: lapor-nasional: level: 2 agencies have level triage, want 1",
		"agencies: kemen-pu: id: listed twice",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q; got:\n%v", want, err)
		}
	}
}

func TestLoadDirectoryStrictYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agencies.yaml")
	if err := os.WriteFile(path, []byte("agencies:\n  - id: lapor-nasional\n    nmae: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDirectory(path, loadRealRegions(t), nil)
	if err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Errorf("LoadDirectory with an unknown field: %v, want an error naming it", err)
	}
}

func TestLoadDirectoryNeedsTriage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agencies.yaml")
	if err := os.WriteFile(path, []byte("agencies: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDirectory(path, loadRealRegions(t), nil)
	if err == nil || !strings.Contains(err.Error(), "the triage desk must be listed") {
		t.Errorf("LoadDirectory without a triage desk: %v", err)
	}
}

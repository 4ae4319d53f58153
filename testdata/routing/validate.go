//go:build ignore

// Validate checks the labelled routing set (issue 5, "Must show" 2) against the routing contract
// in ROUTING.md: six tab-separated columns with the header id, text, category, agency_id, level,
// region; the category is a main name from configs/routing/lapor-categories-2025.json byte for
// byte (several contain U+00A0), optionally " > " and a sub-category of that same main; the agency
// is one of the fixed national ids or pemprov-/pemkab-/pemkot- with a Kemendagri code that exists
// and has the right kind; the level is the one the id implies; the region code exists; no text
// repeats. It then prints counts per category, level and island group.
//
// Usage (from the repository root):
//
//	go run testdata/routing/validate.go -regions DIR testdata/routing/train.tsv testdata/routing/test.tsv
//
// DIR holds provinces.csv and regencies.csv with "code" and "name" columns: configs/regions (the
// default) or the data/ directory of the npm package idn-area-data@4.0.1.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// nationalIDs and stateIDs are the fixed agency ids of ROUTING.md ("Agency ids").
var nationalIDs = strings.Fields(`kemen-pu kemenhub kemenkes kemendikdasmen kemendiktisaintek kemenag
kemensos ditjen-dukcapil kemendagri atr-bpn komdigi djp djbc kemenkeu kemnaker kemenkum kemenimipas
kemendag kementan kemen-esdm kemenlh kemenhut kemenpar kemenkop kemen-umkm kemenpora kemenpppa kemendes
kementrans kemenpan-rb bkn kemenlu kp2mi kkp kemenperin kemenbud kemen-bumn kemenpkp polri kejaksaan kpk
bpom bnn bmkg basarnas bnpb ojk bgn komisi-yudisial mahkamah-agung`)

var stateIDs = strings.Fields(`pln pertamina bpjs-kesehatan bpjs-ketenagakerjaan telkom kai pos-indonesia
bulog jasa-marga pelni angkasa-pura`)

// islands groups provinces by their first code digit, the way Kemendagri numbers them.
var islands = map[byte]string{
	'1': "Sumatera", '2': "Sumatera", '3': "Jawa", '5': "Bali-Nusa Tenggara", '6': "Kalimantan",
	'7': "Sulawesi", '8': "Maluku", '9': "Papua",
}

var (
	idRE    = regexp.MustCompile(`^r[0-9]{4}$`)
	localRE = regexp.MustCompile(`^(pemprov|pemkab|pemkot)-([0-9]{2}(\.[0-9]{2})?)$`)
)

func main() {
	regions := flag.String("regions", "configs/regions", "directory with provinces.csv and regencies.csv")
	cats := flag.String("categories", "configs/routing/lapor-categories-2025.json", "LAPOR! category tree")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run testdata/routing/validate.go [-regions DIR] FILE.tsv...")
		os.Exit(2)
	}
	tree, err := loadCategories(*cats)
	if err != nil {
		fatal(err)
	}
	provs, err := loadCodes(filepath.Join(*regions, "provinces.csv"))
	if err != nil {
		fatal(err)
	}
	regs, err := loadCodes(filepath.Join(*regions, "regencies.csv"))
	if err != nil {
		fatal(err)
	}
	v := &validator{tree: tree, provs: provs, regs: regs, texts: map[string]string{}, ids: map[string]bool{},
		byCat: map[string]int{}, byLevel: map[string]int{}, byIsland: map[string]int{}, byAgency: map[string]int{}}
	for _, name := range flag.Args() {
		if err := v.file(name); err != nil {
			fatal(err)
		}
	}
	v.report(os.Stdout)
	if v.problems > 0 {
		fmt.Fprintf(os.Stderr, "validate: %d problems\n", v.problems)
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "validate:", err)
	os.Exit(1)
}

func loadCategories(path string) (map[string]map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read categories: %w", err)
	}
	var doc struct {
		Categories map[string][]string `json:"categories"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse categories %s: %w", path, err)
	}
	tree := map[string]map[string]bool{}
	for main, subs := range doc.Categories {
		tree[main] = map[string]bool{}
		for _, s := range subs {
			tree[main][s] = true
		}
	}
	return tree, nil
}

// loadCodes reads code → name from a CSV whose header names "code" and "name" columns.
func loadCodes(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#' // configs/regions files open with a generated-file notice
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse regions %s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("parse regions %s: empty", path)
	}
	ci, ni := -1, -1
	for i, h := range recs[0] {
		switch strings.TrimSpace(h) {
		case "code":
			ci = i
		case "name":
			ni = i
		}
	}
	if ci < 0 || ni < 0 {
		return nil, fmt.Errorf("parse regions %s: no code/name columns", path)
	}
	m := map[string]string{}
	for _, r := range recs[1:] {
		m[r[ci]] = r[ni]
	}
	return m, nil
}

type validator struct {
	tree        map[string]map[string]bool
	provs, regs map[string]string
	texts       map[string]string
	ids         map[string]bool
	byCat       map[string]int
	byLevel     map[string]int
	byIsland    map[string]int
	byAgency    map[string]int
	rows        int
	problems    int
	lengths     []int
}

func (v *validator) bad(where, format string, args ...any) {
	v.problems++
	fmt.Fprintf(os.Stderr, "%s: %s\n", where, fmt.Sprintf(format, args...))
}

func (v *validator) file(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("open set: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		where := fmt.Sprintf("%s:%d", name, line)
		s := sc.Text()
		if line == 1 {
			if s != "id\ttext\tcategory\tagency_id\tlevel\tregion" {
				v.bad(where, "bad header %q", s)
			}
			continue
		}
		v.row(where, s)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read set %s: %w", name, err)
	}
	return nil
}

func (v *validator) row(where, s string) {
	f := strings.Split(s, "\t")
	if len(f) != 6 {
		v.bad(where, "%d columns, want 6", len(f))
		return
	}
	id, text, cat, agency, level, region := f[0], f[1], f[2], f[3], f[4], f[5]
	v.rows++
	if !idRE.MatchString(id) {
		v.bad(where, "bad id %q", id)
	}
	if v.ids[id] {
		v.bad(where, "duplicate id %s", id)
	}
	v.ids[id] = true
	if !utf8.ValidString(text) || strings.TrimSpace(text) == "" || strings.ContainsAny(text, "\r\n") {
		v.bad(where, "bad text")
	}
	key := strings.Join(strings.Fields(strings.ToLower(text)), " ")
	if prev, ok := v.texts[key]; ok {
		v.bad(where, "duplicate text of %s", prev)
	}
	v.texts[key] = id
	v.lengths = append(v.lengths, utf8.RuneCountInString(text))

	main, sub, hasSub := strings.Cut(cat, " > ")
	subs, ok := v.tree[main]
	if !ok {
		v.bad(where, "category %q is not a main name of the tree (check U+00A0)", main)
	} else if hasSub && !subs[sub] {
		v.bad(where, "sub-category %q is not under %q", sub, main)
	}
	v.byCat[main]++

	want, err := v.level(agency)
	if err != nil {
		v.bad(where, "%v", err)
	} else if level != want {
		v.bad(where, "level %q, agency %s implies %q", level, agency, want)
	}
	v.byLevel[level]++
	v.byAgency[agency]++

	if region != "" {
		_, p := v.provs[region]
		_, r := v.regs[region]
		if !p && !r {
			v.bad(where, "unknown region %q", region)
		}
		v.byIsland[islands[region[0]]]++
	} else {
		v.byIsland["(none)"]++
	}
	// A local government handles its own territory only.
	if m := localRE.FindStringSubmatch(agency); m != nil && region != "" && !strings.HasPrefix(region, m[2]) {
		v.bad(where, "agency %s outside region %s", agency, region)
	}
	if agency == "lapor-nasional" && level != "triage" {
		v.bad(where, "lapor-nasional must be triage")
	}
}

// level is the level an agency id implies, or an error when the id is not in the contract.
func (v *validator) level(agency string) (string, error) {
	if agency == "lapor-nasional" {
		return "triage", nil
	}
	for _, id := range nationalIDs {
		if id == agency {
			return "national", nil
		}
	}
	for _, id := range stateIDs {
		if id == agency {
			return "state_company", nil
		}
	}
	m := localRE.FindStringSubmatch(agency)
	if m == nil {
		return "", fmt.Errorf("unknown agency %q", agency)
	}
	code := m[2]
	switch m[1] {
	case "pemprov":
		if _, ok := v.provs[code]; !ok {
			return "", fmt.Errorf("agency %s: no province %s", agency, code)
		}
		return "province", nil
	case "pemkab":
		if !strings.HasPrefix(v.regs[code], "Kabupaten") {
			return "", fmt.Errorf("agency %s: %s is not a kabupaten (%q)", agency, code, v.regs[code])
		}
		return "regency", nil
	default:
		if !strings.HasPrefix(v.regs[code], "Kota") {
			return "", fmt.Errorf("agency %s: %s is not a kota (%q)", agency, code, v.regs[code])
		}
		return "city", nil
	}
}

func (v *validator) report(w io.Writer) {
	fmt.Fprintf(w, "rows: %d\n\nper main category (%d of %d present):\n", v.rows, len(v.byCat), len(v.tree))
	mains := make([]string, 0, len(v.tree))
	for m := range v.tree {
		mains = append(mains, m)
	}
	sort.Strings(mains)
	for _, m := range mains {
		fmt.Fprintf(w, "  %4d  %s\n", v.byCat[m], m)
	}
	printMap(w, "per level", v.byLevel)
	printMap(w, "per island group (by region code)", v.byIsland)
	fmt.Fprintf(w, "\nagencies used: %d\n", len(v.byAgency))
	if t := v.byLevel["triage"]; v.rows > 0 {
		fmt.Fprintf(w, "triage share: %.1f%%\n", 100*float64(t)/float64(v.rows))
	}
	if len(v.lengths) > 0 {
		sort.Ints(v.lengths)
		n := len(v.lengths)
		over := 0
		for _, l := range v.lengths {
			if l > 160 {
				over++
			}
		}
		fmt.Fprintf(w, "text length: min %d, median %d, max %d, over 160: %d\n",
			v.lengths[0], v.lengths[n/2], v.lengths[n-1], over)
	}
}

func printMap(w io.Writer, title string, m map[string]int) {
	fmt.Fprintf(w, "\n%s:\n", title)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %4d  %s\n", m[k], k)
	}
}

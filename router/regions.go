package router

// Regions: Indonesia's 38 provinces and 514 regencies/cities with their
// Kemendagri codes (Kepmendagri 2025, via idn-area-data 4.0.1, ODbL 1.0 — see
// configs/regions/NOTICE.md), and a matcher that finds mentions of them in a
// normalised SMS text.

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Region kinds.
const (
	KindProvince = "province"
	KindRegency  = "regency" // kabupaten
	KindCity     = "city"    // kota
)

// The counts Kepmendagri 2025 publishes; LoadRegions refuses data that
// differs, so that a truncated or stale file cannot load silently.
const (
	wantProvinces = 38
	wantRegencies = 514 // regencies and cities together
)

// Region is a province, regency (kabupaten) or city (kota).
type Region struct {
	Code     string // Kemendagri code: "32" for a province, "32.04" for a regency or city
	Name     string // as published: "Jawa Barat", "Kabupaten Bandung", "Kota Administrasi Jakarta Selatan"
	Kind     string // KindProvince, KindRegency or KindCity
	Province string // the province code ("32"); a province's own code for a province
	Short    string // short display form: "Jabar", "Bandung", "Jaksel" (≤ 13 characters)
}

// RegionMatch is one mention of a region found by Regions.Match.
type RegionMatch struct {
	Code  string // the region meant (the preferred candidate when ambiguous)
	Words string // the words matched, as normalised text ("kab bandung", "kecamatan soreang")
	// Start and End delimit the match in word indices of the text: words
	// Start..End-1 (End exclusive). Words are what Match splits the text
	// into: runs of letters and digits.
	Start, End int
	// Ambiguous lists the other candidates, in preference order, when the
	// words name several regions: a bare "bandung" is Kota Bandung (Code)
	// or Kabupaten Bandung (Ambiguous). Shared with the Regions: do not
	// modify.
	Ambiguous []string
	// ViaDistrict is set when the words name a district (kecamatan) and
	// Code is the regency or city it lies in.
	ViaDistrict bool
	// ViaVillage is set when the words are a village word and a village
	// (desa/kelurahan) name ("desa sukamaju") and Code is the regency or
	// city it lies in. A village is weaker than any place named explicitly:
	// see Classifier.pickRegion.
	ViaVillage bool
	// SignOff is set (by the classifier, not by Match) when the words are
	// the text's last sentence on their own: "… ke jalan. surabaya" signs
	// off with the town, whatever word came before the full stop.
	SignOff bool
}

// phraseEntry is what one normalised phrase can mean.
type phraseEntry struct {
	codes    []string // regions, in preference order; empty when only a district has this name
	place    bool     // the region alias needs a place word before it ("di medan")
	district []string // regencies/cities with a district of this name, sorted
}

// Regions is the loaded region table and its phrase index. It is immutable
// after LoadRegions and safe for concurrent use.
type Regions struct {
	provinces []Region
	regencies []Region
	byCode    map[string]Region
	districts int
	// ownName is each region's own name, normalised and without its kind
	// word ("pinrang" for Kabupaten Pinrang), to tell it from its other
	// aliases (ownNamed).
	ownName map[string]string

	// Villages whose name tells one regency or city (villages.csv): name →
	// index in regencies. Kept apart from phrases so that their long names
	// do not lengthen the region lookups.
	villages     map[string]uint16
	villFirstMax map[string]uint8 // first word of a village name → its longest name (in words)
	villMaxBytes int

	phrases  map[string]int32 // normalised phrase → index in entries
	entries  []phraseEntry
	firstMax map[string]uint8 // first word of a phrase → the longest phrase (in words) it starts
	maxBytes int              // the longest phrase in bytes: longer keys cannot match
}

var (
	provinceCodeRE = regexp.MustCompile(`^[0-9]{2}$`)
	regencyCodeRE  = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}$`)
	districtCodeRE = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$`)
	villageCodeRE  = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$`)
)

// LoadRegions reads provinces.csv, regencies.csv, districts.csv,
// villages.csv and aliases.csv from dir (configs/regions) and builds the phrase index. It
// validates everything — codes unique and well formed, parents present,
// kinds consistent with names, aliases in normal form and pointing at known
// codes, 38 provinces and 514 regencies/cities — and returns every problem
// at once, each naming the file and line.
func LoadRegions(dir string) (*Regions, error) {
	r := &Regions{byCode: map[string]Region{}, ownName: map[string]string{}, phrases: map[string]int32{}, firstMax: map[string]uint8{}}
	var errs []error
	fail := func(file string, line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("regions: %s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}

	err := readTable(filepath.Join(dir, "provinces.csv"), []string{"code", "name", "short"}, func(line int, f []string) {
		code, name, short := f[0], strings.TrimSpace(f[1]), strings.TrimSpace(f[2])
		switch {
		case !provinceCodeRE.MatchString(code):
			fail("provinces.csv", line, "code %q is not two digits", code)
		case name == "" || short == "":
			fail("provinces.csv", line, "province %s: empty name or short", code)
		default:
			if _, dup := r.byCode[code]; dup {
				fail("provinces.csv", line, "duplicate code %s", code)
				return
			}
			p := Region{Code: code, Name: name, Kind: KindProvince, Province: code, Short: short}
			r.byCode[code] = p
			r.ownName[code] = normalizePhrase(name)
			r.provinces = append(r.provinces, p)
		}
	})
	if err != nil {
		return nil, err
	}
	err = readTable(filepath.Join(dir, "regencies.csv"), []string{"code", "province_code", "kind", "name", "short"}, func(line int, f []string) {
		code, prov, kind, name, short := f[0], f[1], f[2], strings.TrimSpace(f[3]), strings.TrimSpace(f[4])
		switch {
		case !regencyCodeRE.MatchString(code):
			fail("regencies.csv", line, "code %q is not NN.NN", code)
		case code[:2] != prov:
			fail("regencies.csv", line, "regency %s: province_code %s is not its prefix", code, prov)
		case r.byCode[prov].Kind != KindProvince:
			fail("regencies.csv", line, "regency %s: unknown province %s", code, prov)
		case kind != KindRegency && kind != KindCity:
			fail("regencies.csv", line, "regency %s: kind %q is neither regency nor city", code, kind)
		case kind == KindRegency && !strings.HasPrefix(name, "Kabupaten "), kind == KindCity && !strings.HasPrefix(name, "Kota "):
			fail("regencies.csv", line, "regency %s: name %q does not fit kind %s", code, name, kind)
		case short == "" || len(short) > 13:
			fail("regencies.csv", line, "regency %s: short %q must be 1 to 13 characters", code, short)
		default:
			if _, dup := r.byCode[code]; dup {
				fail("regencies.csv", line, "duplicate code %s", code)
				return
			}
			g := Region{Code: code, Name: name, Kind: kind, Province: prov, Short: short}
			r.byCode[code] = g
			own := name
			for _, k := range []string{"Kabupaten Administrasi ", "Kota Administrasi ", "Kabupaten ", "Kota "} {
				if rest, ok := strings.CutPrefix(own, k); ok {
					own = rest
					break
				}
			}
			r.ownName[code] = normalizePhrase(own)
			r.regencies = append(r.regencies, g)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(r.provinces) != wantProvinces {
		errs = append(errs, fmt.Errorf("regions: provinces.csv: %d provinces, want %d", len(r.provinces), wantProvinces))
	}
	if len(r.regencies) != wantRegencies {
		errs = append(errs, fmt.Errorf("regions: regencies.csv: %d regencies and cities, want %d", len(r.regencies), wantRegencies))
	}

	// Aliases: phrase → candidate codes.
	type cand struct {
		codes map[string]bool
		place bool
	}
	aliases := map[string]*cand{}
	addAlias := func(phrase, code string, place bool) {
		c := aliases[phrase]
		if c == nil {
			c = &cand{codes: map[string]bool{}}
			aliases[phrase] = c
		}
		c.codes[code] = true
		c.place = c.place || place
	}
	err = readTable(filepath.Join(dir, "aliases.csv"), []string{"code", "alias", "context"}, func(line int, f []string) {
		code, alias, ctx := f[0], f[1], f[2]
		switch {
		case r.byCode[code].Code == "":
			fail("aliases.csv", line, "alias %q: unknown code %s", alias, code)
		case alias == "" || alias != normalizePhrase(alias):
			fail("aliases.csv", line, "alias %q is not in normal form (lowercase words, single spaces): %q", alias, normalizePhrase(alias))
		case ctx != "" && ctx != "place":
			fail("aliases.csv", line, "alias %q: context %q is neither empty nor place", alias, ctx)
		default:
			if c := aliases[alias]; c != nil && c.codes[code] {
				fail("aliases.csv", line, "duplicate alias %q for %s", alias, code)
				return
			}
			addAlias(alias, code, ctx == "place")
		}
	})
	if err != nil {
		return nil, err
	}
	// Every region's own name matches too, whatever aliases.csv says.
	for _, g := range r.byCode {
		n := normalizePhrase(g.Name)
		if c := aliases[n]; c == nil || !c.codes[g.Code] {
			addAlias(n, g.Code, false)
		}
	}

	distByName := map[string]map[string]bool{}
	err = readTable(filepath.Join(dir, "districts.csv"), []string{"code", "regency_code", "name"}, func(line int, f []string) {
		code, reg, name := f[0], f[1], normalizePhrase(f[2])
		switch {
		case !districtCodeRE.MatchString(code):
			fail("districts.csv", line, "code %q is not NN.NN.NN", code)
		case code[:5] != reg:
			fail("districts.csv", line, "district %s: regency_code %s is not its prefix", code, reg)
		case r.byCode[reg].Code == "" || r.byCode[reg].Kind == KindProvince:
			fail("districts.csv", line, "district %s: unknown regency %s", code, reg)
		case name == "":
			fail("districts.csv", line, "district %s: empty name", code)
		default:
			if distByName[name] == nil {
				distByName[name] = map[string]bool{}
			}
			distByName[name][reg] = true
			r.districts++
		}
	})
	if err != nil {
		return nil, err
	}
	regIndex := make(map[string]uint16, len(r.regencies))
	for i, g := range r.regencies {
		regIndex[g.Code] = uint16(i)
	}
	r.villages, r.villFirstMax = map[string]uint16{}, map[string]uint8{}
	err = readTable(filepath.Join(dir, "villages.csv"), []string{"code", "regency_code", "name"}, func(line int, f []string) {
		code, reg, name := f[0], f[1], normalizePhrase(f[2])
		idx, regOK := regIndex[reg]
		switch {
		case !villageCodeRE.MatchString(code):
			fail("villages.csv", line, "code %q is not NN.NN.NN.NNNN", code)
		case code[:5] != reg:
			fail("villages.csv", line, "village %s: regency_code %s is not its prefix", code, reg)
		case !regOK:
			fail("villages.csv", line, "village %s: unknown regency %s", code, reg)
		case name == "":
			fail("villages.csv", line, "village %s: empty name", code)
		default:
			if prev, dup := r.villages[name]; dup && prev != idx {
				fail("villages.csv", line, "village name %q names %s and %s", name, r.regencies[prev].Code, reg)
				return
			}
			// A village named like a region, or like a district of
			// another regency, must not override them.
			if c := aliases[name]; c != nil {
				return
			}
			for other := range distByName[name] {
				if other != reg {
					return
				}
			}
			r.villages[name] = idx
			words := strings.Count(name, " ") + 1
			first, _, _ := strings.Cut(name, " ")
			if words > int(r.villFirstMax[first]) {
				r.villFirstMax[first] = uint8(min(words, 255))
			}
			r.villMaxBytes = max(r.villMaxBytes, len(name))
		}
	})
	if err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	entry := func(phrase string) *phraseEntry {
		i, ok := r.phrases[phrase]
		if !ok {
			i = int32(len(r.entries))
			r.entries = append(r.entries, phraseEntry{})
			r.phrases[phrase] = i
			words := strings.Count(phrase, " ") + 1
			first, _, _ := strings.Cut(phrase, " ")
			if words > int(r.firstMax[first]) {
				r.firstMax[first] = uint8(min(words, 255))
			}
			r.maxBytes = max(r.maxBytes, len(phrase))
		}
		return &r.entries[i]
	}
	for phrase, c := range aliases {
		codes := make([]string, 0, len(c.codes))
		for code := range c.codes {
			codes = append(codes, code)
		}
		sort.Slice(codes, func(i, j int) bool { return r.prefer(codes[i], codes[j]) })
		e := entry(phrase)
		e.codes, e.place = codes, c.place
	}
	for name, regs := range distByName {
		codes := make([]string, 0, len(regs))
		for code := range regs {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		entry(name).district = codes
	}
	return r, nil
}

// prefer orders the candidates of an ambiguous bare name: a city before a
// regency before a province (a bare "bandung" or "jambi" most often means the
// city), then by code.
func (r *Regions) prefer(a, b string) bool {
	rank := func(kind string) int {
		switch kind {
		case KindCity:
			return 0
		case KindRegency:
			return 1
		}
		return 2
	}
	ka, kb := rank(r.byCode[a].Kind), rank(r.byCode[b].Kind)
	if ka != kb {
		return ka < kb
	}
	return a < b
}

// readTable reads a CSV file with '#' comment lines and the given header,
// calling row for each record with its line number.
func readTable(path string, header []string, row func(line int, fields []string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(header)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("regions: %s: header: %w", filepath.Base(path), err)
	}
	if strings.Join(head, ",") != strings.Join(header, ",") {
		return fmt.Errorf("regions: %s: header %q, want %q", filepath.Base(path), strings.Join(head, ","), strings.Join(header, ","))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("regions: %s: %w", filepath.Base(path), err)
		}
		line, _ := cr.FieldPos(0)
		row(line, rec)
	}
}

// ownNamed reports whether words (a match's Words) end with the own name
// of region code ("kab pinrang" and "pinrang" for Kabupaten Pinrang, not
// "lembang" for Kabupaten Bandung Barat).
func (r *Regions) ownNamed(code, words string) bool {
	name := r.ownName[code]
	return name != "" && strings.HasSuffix(words, name) && (len(words) == len(name) || words[len(words)-len(name)-1] == ' ')
}

// Get returns the province, regency or city with the given code.
func (r *Regions) Get(code string) (Region, bool) {
	g, ok := r.byCode[code]
	return g, ok
}

// Provinces returns the 38 provinces in code order.
func (r *Regions) Provinces() []Region { return append([]Region(nil), r.provinces...) }

// Regencies returns the 514 regencies and cities in code order.
func (r *Regions) Regencies() []Region { return append([]Region(nil), r.regencies...) }

// Len is the number of provinces, regencies and cities.
func (r *Regions) Len() int { return len(r.byCode) }

// Districts is the number of districts loaded (used only for matching).
func (r *Regions) Districts() int { return r.districts }

// Villages is the number of village names loaded (used only for matching).
func (r *Regions) Villages() int { return len(r.villages) }

// isWordByte reports whether c belongs to a word: ASCII letters and digits,
// and any byte of a multi-byte UTF-8 sequence (so "é" stays inside a word).
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// normalizePhrase is the normal form of aliases and of the text Match
// compares: ASCII letters lowercased, runs of other non-word bytes replaced
// by one space, no leading or trailing space. scripts/gen-regions writes
// aliases in this form.
func normalizePhrase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		for i < len(s) && !isWordByte(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		for ; i < len(s) && isWordByte(s[i]); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// districtWords introduce a district name; only after one of them does a
// district name count (bare district names are too often everyday words:
// "balai", "marga", "kamu selatan", "tanah putih").
var districtWords = map[string]bool{"kec": true, "kecamatan": true, "kecamatn": true, "kcmtn": true, "distrik": true}

// villageWords introduce a village (desa/kelurahan) name; only after one of
// them does a village name count. The parser's slang table already turns
// "ds", "kel", "kp", "dsn" into the full words; the short forms are here for
// texts that did not go through it.
var villageWords = map[string]bool{
	"ds": true, "desa": true, "kel": true, "kelurahan": true, "dusun": true, "dsn": true,
	"kampung": true, "kp": true, "nagari": true, "gampong": true, "lembang": true,
}

// placeWords make a following place-only alias count ("di medan", "warga
// padang").
var placeWords = map[string]bool{
	"di": true, "ke": true, "dari": true, "daerah": true, "wilayah": true, "kawasan": true,
	"sekitar": true, "sekitaran": true, "warga": true, "area": true, "asal": true, "dekat": true,
	"menuju": true, "arah": true, "sampai": true, "hingga": true, "kab": true, "kabupaten": true,
	"kota": true, "kec": true, "kecamatan": true, "prov": true, "provinsi": true, "masyarakat": true,
	// Offices and facilities named after their town ("pdam medan", "terminal
	// padang", "polres malang"); "sipil" and "perhubungan" end the expansions
	// of disdukcapil and dishub.
	"pdam": true, "polres": true, "polresta": true, "polrestabes": true, "polsek": true, "polda": true,
	"kejari": true, "samsat": true, "bpbd": true, "terminal": true, "stasiun": true, "bandara": true,
	"pelabuhan": true, "pasar": true, "sipil": true, "perhubungan": true,
	// More town-named offices: the regional revenue office, hospitals and
	// clinics, and the last word of common dinas names ("dinas kesehatan
	// medan", "dinas sosial solo"); courts, prisons and land offices.
	"bapenda": true, "dispenda": true, "bappeda": true, "rsud": true, "puskesmas": true, "kantor": true,
	"pemda": true, "kesehatan": true, "pendidikan": true, "sosial": true, "kebersihan": true, "pantai": true,
	"alun": true, "kejaksaan": true, "pengadilan": true, "imigrasi": true, "lapas": true, "rutan": true,
	"kua": true, "bpn": true, "pertanahan": true, "satpol": true, "pp": true, "damkar": true,
	// Mobile services named after their town ("samsat keliling medan", "puskesmas keliling"),
	// and towns' bus services ("halte trans padang").
	"keliling": true, "trans": true,
}

// schoolWords end a school's name before its number ("smp negeri 3",
// "sdn 2" → "sd negeri 2", "mts 1").
var schoolWords = map[string]bool{
	"negeri": true, "swasta": true, "sd": true, "smp": true, "sma": true, "smk": true, "slb": true,
	"mi": true, "mts": true, "ma": true, "man": true, "min": true, "sdit": true, "smpit": true, "paud": true, "tk": true,
}

// maxMatchWords bounds the word positions Match keeps on the stack; longer
// texts spill to the heap.
const maxMatchWords = 96

// Match finds the regions a text mentions, in text order. text should be
// normalised (lowercase words separated by single spaces) but need not be:
// Match splits it into runs of letters and digits and lowercases ASCII
// itself.
//
// At each word it takes the longest phrase (aliases, names) that starts
// there, so "kab bandung barat" beats "kab bandung" beats "bandung". Rules:
//   - A bare name of both a city and a regency (or a province and a city)
//     matches the city, with the others in Ambiguous.
//   - Place-only aliases ("medan", "padang", "malang") count only after a
//     place word ("di", "ke", "warga", …) or just before a name of their
//     own province ("malang jatim").
//   - District names count only after "kec"/"kecamatan"/"distrik"; the match
//     covers that word too and has ViaDistrict set and Code = the regency or
//     city. A district name used in several regencies is kept only if the
//     rest of the text decides which (see below), or if it is also the
//     alias of one of them ("kec soreang" → Kabupaten Bandung).
//   - Village names count only after a village word ("desa", "kel",
//     "nagari", …) and only when they name villages of one regency or city
//     alone; the match covers the village word, has ViaVillage set and Code
//     = the regency or city.
//   - An ambiguous match is resolved when another unambiguous match in the
//     text is one of its candidates or a candidate's province ("kec soreang
//     bandung" → Kabupaten Bandung; "banjar kalsel"…).
//
// It allocates only the result (and a lowercased copy when the text is not
// normalised).
func (r *Regions) Match(text string) []RegionMatch {
	var posBuf [maxMatchWords][2]int32
	m := matcher{r: r, text: text, clean: true, pos: posBuf[:0]}
	for i := 0; i < len(text); {
		if !isWordByte(text[i]) {
			if text[i] != ' ' || i == 0 || i+1 == len(text) || text[i+1] == ' ' {
				m.clean = false
			}
			i++
			continue
		}
		start := i
		for ; i < len(text) && isWordByte(text[i]); i++ {
			if c := text[i]; c >= 'A' && c <= 'Z' {
				m.clean = false
			}
		}
		m.pos = append(m.pos, [2]int32{int32(start), int32(i)})
	}
	if len(m.pos) == 0 {
		return nil
	}

	var out []RegionMatch
	for i := 0; i < len(m.pos); {
		if i+1 < len(m.pos) && m.isIn(i, districtWords) {
			if n, e := m.longest(i+1, true); n > 0 {
				rm := RegionMatch{Code: e.district[0], Words: matchWords(text, m.clean, m.pos, i, i+1+n), Start: i, End: i + 1 + n, ViaDistrict: true}
				if len(e.district) > 1 {
					rm.Ambiguous = e.district[1:]
					// A shared district name that is also the alias of one
					// of its regencies (a capital: "soreang") means that one.
					if len(e.codes) == 1 {
						for _, c := range e.district {
							if c == e.codes[0] {
								rm.Code, rm.Ambiguous = c, nil
							}
						}
					}
				}
				out = appendMatch(out, rm)
				i += 1 + n
				continue
			}
		}
		if i+1 < len(m.pos) && m.isIn(i, villageWords) {
			if n, reg := m.longestVillage(i + 1); n > 0 {
				out = appendMatch(out, RegionMatch{Code: reg, Words: matchWords(text, m.clean, m.pos, i, i+1+n), Start: i, End: i + 1 + n, ViaVillage: true})
				i += 1 + n
				continue
			}
		}
		n, e := m.longest(i, false)
		if n > 0 && e.place && !m.placeOK(i, i+n, e) {
			// A shorter phrase cannot do better: place-only aliases are
			// names of one region, so move on.
			n = 0
		}
		if n == 0 {
			i++
			continue
		}
		rm := RegionMatch{Code: e.codes[0], Words: matchWords(text, m.clean, m.pos, i, i+n), Start: i, End: i + n}
		if len(e.codes) > 1 {
			rm.Ambiguous = e.codes[1:]
			if d := m.districtBefore(i, e.codes); d != "" {
				// "jampangkulon sukabumi": a district of one of them,
				// named right before, tells which.
				rm.Code, rm.Ambiguous = d, nil
			}
		}
		out = appendMatch(out, rm)
		i += n
	}
	return r.resolve(out)
}

// districtBefore returns the one of codes that has a district named by the
// one to three words just before word i, or "".
func (m *matcher) districtBefore(i int, codes []string) string {
	for n := 1; n <= 3 && i-n >= 0; n++ {
		e, found := m.lookup(i-n, i)
		if !found || len(e.district) == 0 {
			continue
		}
		pick := ""
		for _, d := range e.district {
			if slices.Contains(codes, d) {
				if pick != "" {
					return "" // a district of several of them
				}
				pick = d
			}
		}
		if pick != "" {
			return pick
		}
	}
	return ""
}

// appendMatch appends with room for a few matches at the first, so that a
// typical text costs one allocation.
func appendMatch(out []RegionMatch, m RegionMatch) []RegionMatch {
	if out == nil {
		out = make([]RegionMatch, 0, 4)
	}
	return append(out, m)
}

// matcher is the state of one Match call; it lives on the stack.
type matcher struct {
	r      *Regions
	text   string
	clean  bool       // text is in normal form: phrases are substrings of it
	pos    [][2]int32 // start and end offset of each word
	keyBuf [128]byte
}

// key returns words [i, j) as a normalised phrase: a substring of the text
// when it is clean, else built in keyBuf (k). ok is false when the phrase is
// longer than any alias.
func (m *matcher) key(i, j int) (k []byte, sub string, ok bool) {
	if m.clean {
		s := m.text[m.pos[i][0]:m.pos[j-1][1]]
		return nil, s, len(s) <= m.r.maxBytes
	}
	n := 0
	for w := i; w < j; w++ {
		if w > i {
			if n == len(m.keyBuf) {
				return nil, "", false
			}
			m.keyBuf[n] = ' '
			n++
		}
		for p := m.pos[w][0]; p < m.pos[w][1]; p++ {
			if n == len(m.keyBuf) {
				return nil, "", false
			}
			c := m.text[p]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			m.keyBuf[n] = c
			n++
		}
	}
	return m.keyBuf[:n], "", n <= m.r.maxBytes
}

// lookup finds the entry of words [i, j).
func (m *matcher) lookup(i, j int) (*phraseEntry, bool) {
	k, s, ok := m.key(i, j)
	if !ok {
		return nil, false
	}
	var idx int32
	var found bool
	if k != nil {
		idx, found = m.r.phrases[string(k)] // the compiler looks up a []byte key without copying it
	} else {
		idx, found = m.r.phrases[s]
	}
	if !found {
		return nil, false
	}
	return &m.r.entries[idx], true
}

// isNumber reports whether word i is all digits.
func (m *matcher) isNumber(i int) bool {
	p := m.pos[i]
	for k := p[0]; k < p[1]; k++ {
		if c := m.text[k]; c < '0' || c > '9' {
			return false
		}
	}
	return p[1] > p[0]
}

// isIn reports whether word i is in set.
func (m *matcher) isIn(i int, set map[string]bool) bool {
	k, s, _ := m.key(i, i+1)
	if k != nil {
		return set[string(k)]
	}
	return set[s]
}

// longest finds the longest phrase starting at word i that names a region,
// or a district when district is set; n is its length in words, 0 if none.
func (m *matcher) longest(i int, district bool) (int, *phraseEntry) {
	k, s, fits := m.key(i, i+1)
	if !fits {
		return 0, nil
	}
	var maxW uint8
	if k != nil {
		maxW = m.r.firstMax[string(k)]
	} else {
		maxW = m.r.firstMax[s]
	}
	for n := min(int(maxW), len(m.pos)-i); n >= 1; n-- {
		e, found := m.lookup(i, i+n)
		if found && (district && len(e.district) > 0 || !district && len(e.codes) > 0) {
			return n, e
		}
	}
	return 0, nil
}

// longestVillage finds the longest village name starting at word i; n is
// its length in words (0 if none) and code its regency or city.
func (m *matcher) longestVillage(i int) (n int, code string) {
	k, s, _ := m.key(i, i+1)
	var maxW uint8
	if k != nil {
		maxW = m.r.villFirstMax[string(k)]
	} else {
		maxW = m.r.villFirstMax[s]
	}
	for n := min(int(maxW), len(m.pos)-i); n >= 1; n-- {
		k, s, _ := m.key(i, i+n)
		if len(k)+len(s) > m.r.villMaxBytes {
			continue
		}
		var idx uint16
		var found bool
		if k != nil {
			idx, found = m.r.villages[string(k)]
		} else {
			idx, found = m.r.villages[s]
		}
		if found {
			return n, m.r.regencies[idx].Code
		}
	}
	return 0, ""
}

// matchWords returns words [i, j) of text as normalised text, for
// RegionMatch.Words. (A function of its own, not a matcher method, so that
// escape analysis sees that only text, never the matcher's stack buffers,
// reaches the result.)
func matchWords(text string, clean bool, pos [][2]int32, i, j int) string {
	if clean {
		return text[pos[i][0]:pos[j-1][1]]
	}
	return normalizePhrase(text[pos[i][0]:pos[j-1][1]])
}

// placeOK reports whether a place-only alias at words [i, j) counts: after a
// place word, or before a name of its province. (Not at the start of the
// text: "medan jalan rusak" and "malang nasib kami" are as likely as
// "Medan: jalan rusak".)
func (m *matcher) placeOK(i, j int, e *phraseEntry) bool {
	if i > 0 && m.isIn(i-1, placeWords) {
		return true
	}
	// The last words of an SMS: citizens sign off with their town ("… air
	// masuk rumah awak. padang").
	if i > 0 && j == len(m.pos) {
		return true
	}
	// A school's number and its town: "SMPN 3 Sungai Penuh", "SDN 2 Padang".
	if i > 1 && m.isNumber(i-1) && m.isIn(i-2, schoolWords) {
		return true
	}
	// Right after the name of one of its own districts ("pasar kliwon solo").
	for k := max(0, i-3); k < i; k++ {
		if n, d := m.longest(k, true); n == i-k && d != nil {
			for _, c := range e.codes {
				for _, dc := range d.district {
					if dc == c {
						return true
					}
				}
			}
		}
	}
	if j >= len(m.pos) {
		return false
	}
	if n, next := m.longest(j, false); n > 0 {
		for _, c := range e.codes {
			prov := m.r.byCode[c].Province
			for _, nc := range next.codes {
				if nc == prov {
					return true
				}
			}
		}
	}
	return false
}

// resolve settles ambiguous matches with the unambiguous ones of the same
// text and drops district matches that stay ambiguous.
func (r *Regions) resolve(ms []RegionMatch) []RegionMatch {
	ambiguous := false
	for _, m := range ms {
		if len(m.Ambiguous) > 0 {
			ambiguous = true
			break
		}
	}
	if !ambiguous {
		return ms
	}
	// fits: the candidate is what another match names, or lies in it.
	fits := func(cand string) bool {
		for _, o := range ms {
			if len(o.Ambiguous) == 0 && (cand == o.Code || r.byCode[cand].Province == o.Code) {
				return true
			}
		}
		return false
	}
	out := make([]RegionMatch, 0, len(ms))
	for _, m := range ms {
		if len(m.Ambiguous) > 0 {
			pick, picks := "", 0
			for c := -1; c < len(m.Ambiguous); c++ {
				cand := m.Code
				if c >= 0 {
					cand = m.Ambiguous[c]
				}
				if fits(cand) {
					pick, picks = cand, picks+1
				}
			}
			switch {
			case picks == 1:
				m.Code, m.Ambiguous = pick, nil
			case m.ViaDistrict:
				continue
			}
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

package router

// The agency directory: who can receive a complaint. National bodies, state
// companies and the triage desk are listed in configs/agencies.yaml; the
// 38 provincial and 514 regency/city governments are generated from the
// region table at load, and the YAML may override any of them (to add
// keywords, say).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// TriageAgency is the national triage desk (admin nasional of SP4N-LAPOR!):
// the agency of every complaint the router cannot place ("no wrong door").
const TriageAgency = "lapor-nasional"

// Agency levels.
const (
	LevelTriage       = "triage"
	LevelNational     = "national"
	LevelStateCompany = "state_company"
	LevelProvince     = "province"
	LevelRegency      = "regency"
	LevelCity         = "city"
)

// MaxShortName is the longest short name, in GSM-7 septets: the
// acknowledgement names the agency and must stay one SMS.
const MaxShortName = 20

// Agency is one entry of the directory.
type Agency struct {
	ID    string // "kemen-pu", "pln", "pemprov-32", "pemkab-32.04", "pemkot-32.73", TriageAgency
	Name  string // official Indonesian name: "Pemerintah Kabupaten Bandung"
	Short string // ≤ 20 GSM-7 characters, for the SMS acknowledgement: "Pemkab Bandung"
	Level string // one of the Level constants
	// Region is the Kemendagri code of a local government ("32", "32.04");
	// empty for national bodies, state companies and the triage desk.
	Region string
	// Keywords are the published SMS prefixes that name this agency, in
	// canonical form (see CanonicalKeyword): "TANGKAB", "KAB NGANJUK".
	Keywords []string
	// Topics are free-form hints of what the agency handles ("jalan
	// nasional", "sertifikat tanah").
	Topics []string
	// Handles are LAPOR! main categories the agency typically handles,
	// exactly as in configs/routing/lapor-categories-2025.json.
	Handles []string
}

// Directory is the loaded agency directory. It is immutable after
// LoadDirectory and safe for concurrent use; the slices inside the Agency
// values it returns are shared and must not be modified.
type Directory struct {
	list      []Agency
	byID      map[string]int
	byRegion  map[string]int
	byKeyword map[string]int
	keywords  []string
}

// directoryFile is the YAML document of configs/agencies.yaml.
type directoryFile struct {
	Agencies      []agencyEntry           `yaml:"agencies"`
	LocalDefaults map[string]localDefault `yaml:"local_defaults"`
}

type agencyEntry struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Short    string   `yaml:"short"`
	Level    string   `yaml:"level"`
	Region   string   `yaml:"region"`
	Keywords []string `yaml:"keywords"`
	Topics   []string `yaml:"topics"`
	Handles  []string `yaml:"handles"`
}

// localDefault holds the topics and categories every generated government
// of one level starts with.
type localDefault struct {
	Topics  []string `yaml:"topics"`
	Handles []string `yaml:"handles"`
}

var (
	agencyIDRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	localIDRE  = regexp.MustCompile(`^(pemprov|pemkab|pemkot)-`)
)

// reservedKeywords are the parser's command words: an agency keyword equal
// to one of them would swallow a command.
var reservedKeywords = map[string]bool{
	"CEK": true, "STATUS": true, "TAMBAH": true, "BANTUAN": true, "INFO": true, "HELP": true,
	"STOP": true, "BERHENTI": true, "MULAI": true, "ANONIM": true, "RAHASIA": true,
}

// CanonicalKeyword is the form keywords are compared in: ASCII letters
// uppercased, every run of other characters (space, '.', '#', '-', …) one
// space, trimmed. "Kab. Nganjuk" and "KAB#NGANJUK" are both "KAB NGANJUK".
func CanonicalKeyword(s string) string {
	return strings.ToUpper(normalizePhrase(s))
}

// LocalAgencyID is the directory id of the government of a region code:
// "32" → "pemprov-32", "32.04" → "pemkab-32.04" (a regency), "32.73" →
// "pemkot-32.73" (a city).
func LocalAgencyID(g Region) string {
	switch g.Kind {
	case KindProvince:
		return "pemprov-" + g.Code
	case KindRegency:
		return "pemkab-" + g.Code
	default:
		return "pemkot-" + g.Code
	}
}

// LoadDirectory reads the directory at path (configs/agencies.yaml),
// generates an entry for every province, regency and city government in
// regions (unless the file lists that id, which then overrides the generated
// fields it sets), and validates the result: ids unique and well formed,
// levels known, region codes known and consistent with the id, names
// present, short names at most 20 GSM-7 characters, keywords unique across
// agencies and not a command word, handles among categories (the LAPOR! main
// category names; a name written with plain spaces where the reference has
// no-break spaces is accepted and stored exactly as the reference writes
// it), and exactly one triage desk, TriageAgency. It returns every problem
// at once, each naming the agency and field.
func LoadDirectory(path string, regions *Regions, categories []string) (*Directory, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("agencies: %w", err)
	}
	var f directoryFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("agencies: %s: %w", path, err)
	}
	if regions == nil {
		return nil, errors.New("agencies: no regions")
	}

	var errs []error
	fail := func(id, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("agencies: %s: %s: %s", id, field, fmt.Sprintf(format, args...)))
	}
	exactCategory := map[string]string{}
	for _, c := range categories {
		exactCategory[c] = c
	}
	for _, c := range categories {
		if loose := strings.ReplaceAll(c, "\u00a0", " "); exactCategory[loose] == "" {
			exactCategory[loose] = c
		}
	}
	resolveHandles := func(id string, hs []string) []string {
		out := make([]string, 0, len(hs))
		for _, h := range hs {
			exact, ok := exactCategory[h]
			if !ok {
				exact, ok = exactCategory[strings.ReplaceAll(h, "\u00a0", " ")]
			}
			if !ok {
				fail(id, "handles", "%q is not a LAPOR! main category", h)
				continue
			}
			out = append(out, exact)
		}
		return out
	}

	for level := range f.LocalDefaults {
		if level != LevelProvince && level != LevelRegency && level != LevelCity {
			fail("local_defaults", level, "not a local government level (province, regency, city)")
		}
	}
	defaults := map[string]localDefault{}
	for level, d := range f.LocalDefaults {
		defaults[level] = localDefault{Topics: d.Topics, Handles: resolveHandles("local_defaults."+level, d.Handles)}
	}

	d := &Directory{byID: map[string]int{}, byRegion: map[string]int{}, byKeyword: map[string]int{}}
	// Generated local governments first, in code order, so that the YAML
	// can override them by id.
	for _, g := range append(regions.Provinces(), regions.Regencies()...) {
		a := Agency{ID: LocalAgencyID(g), Region: g.Code, Level: g.Kind, Topics: defaults[g.Kind].Topics, Handles: defaults[g.Kind].Handles}
		switch g.Kind {
		case KindProvince:
			a.Name, a.Short = "Pemerintah Provinsi "+g.Name, "Pemprov "+g.Short
		case KindRegency:
			a.Name, a.Short = "Pemerintah "+g.Name, "Pemkab "+g.Short
		default:
			a.Name, a.Short = "Pemerintah "+g.Name, "Pemkot "+g.Short
		}
		d.byID[a.ID] = len(d.list)
		d.byRegion[g.Code] = len(d.list)
		d.list = append(d.list, a)
	}

	seen := map[string]bool{}
	for n, e := range f.Agencies {
		id := e.ID
		if id == "" {
			id = fmt.Sprintf("agencies[%d]", n)
			fail(id, "id", "missing")
			continue
		}
		if seen[id] {
			fail(id, "id", "listed twice")
			continue
		}
		seen[id] = true
		if !agencyIDRE.MatchString(id) && !localIDRE.MatchString(id) {
			fail(id, "id", "not lowercase words joined by '-'")
		}
		if i, local := d.byID[id]; local {
			// An override of a generated local government.
			a := &d.list[i]
			if e.Level != "" && e.Level != a.Level {
				fail(id, "level", "%q, but the id names a %s", e.Level, a.Level)
			}
			if e.Region != "" && e.Region != a.Region {
				fail(id, "region", "%q, but the id names %s", e.Region, a.Region)
			}
			if e.Name != "" {
				a.Name = e.Name
			}
			if e.Short != "" {
				a.Short = e.Short
			}
			if e.Keywords != nil {
				a.Keywords = e.Keywords
			}
			if e.Topics != nil {
				a.Topics = e.Topics
			}
			if e.Handles != nil {
				a.Handles = resolveHandles(id, e.Handles)
			}
			continue
		}
		if localIDRE.MatchString(id) {
			fail(id, "id", "no province, regency or city has this id (pemprov-NN, pemkab-NN.NN, pemkot-NN.NN)")
			continue
		}
		switch e.Level {
		case LevelTriage, LevelNational, LevelStateCompany:
		case LevelProvince, LevelRegency, LevelCity:
			fail(id, "level", "%q: local governments are generated from the regions; use their pemprov/pemkab/pemkot id", e.Level)
		default:
			fail(id, "level", "%q is not one of triage, national, state_company", e.Level)
		}
		if e.Region != "" {
			if _, ok := regions.Get(e.Region); !ok {
				fail(id, "region", "unknown region code %q", e.Region)
			}
		}
		d.byID[id] = len(d.list)
		d.list = append(d.list, Agency{
			ID: id, Name: e.Name, Short: e.Short, Level: e.Level, Region: e.Region,
			Keywords: e.Keywords, Topics: e.Topics, Handles: resolveHandles(id, e.Handles),
		})
	}

	triage := 0
	for i := range d.list {
		a := &d.list[i]
		if strings.TrimSpace(a.Name) == "" {
			fail(a.ID, "name", "missing")
		}
		switch n, ok := text.GSM7Septets(a.Short); {
		case strings.TrimSpace(a.Short) == "":
			fail(a.ID, "short", "missing")
		case !ok:
			fail(a.ID, "short", "%q has characters outside GSM-7", a.Short)
		case n > MaxShortName:
			fail(a.ID, "short", "%q is %d GSM-7 characters, more than %d", a.Short, n, MaxShortName)
		case a.Short != strings.TrimSpace(a.Short):
			fail(a.ID, "short", "%q has leading or trailing spaces", a.Short)
		}
		if a.Level == LevelTriage {
			triage++
			if a.ID != TriageAgency {
				fail(a.ID, "level", "triage, but the triage desk is %s", TriageAgency)
			}
		}
		for _, t := range a.Topics {
			if strings.TrimSpace(t) == "" {
				fail(a.ID, "topics", "empty topic")
			}
		}
		canon := make([]string, 0, len(a.Keywords))
		for _, k := range a.Keywords {
			c := CanonicalKeyword(k)
			switch {
			case c == "":
				fail(a.ID, "keywords", "%q is empty", k)
				continue
			case reservedKeywords[c]:
				fail(a.ID, "keywords", "%q is a command word", k)
				continue
			}
			if j, dup := d.byKeyword[c]; dup {
				fail(a.ID, "keywords", "%q is also a keyword of %s", k, d.list[j].ID)
				continue
			}
			d.byKeyword[c] = i
			canon = append(canon, c)
		}
		a.Keywords = canon
	}
	if i, ok := d.byID[TriageAgency]; !ok || d.list[i].Level != LevelTriage {
		fail(TriageAgency, "level", "the triage desk must be listed with level triage")
	} else if triage != 1 {
		fail(TriageAgency, "level", "%d agencies have level triage, want 1", triage)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for k := range d.byKeyword {
		d.keywords = append(d.keywords, k)
	}
	sort.Strings(d.keywords)
	return d, nil
}

// Get returns the agency with the given id.
func (d *Directory) Get(id string) (Agency, bool) {
	i, ok := d.byID[id]
	if !ok {
		return Agency{}, false
	}
	return d.list[i], true
}

// ForRegion returns the government of a region code: "32" → pemprov-32,
// "32.04" → pemkab-32.04, "32.73" → pemkot-32.73.
func (d *Directory) ForRegion(code string) (Agency, bool) {
	i, ok := d.byRegion[code]
	if !ok {
		return Agency{}, false
	}
	return d.list[i], true
}

// ByKeyword returns the agency a keyword names, compared in canonical form
// (case-insensitive, any separators): "tangkab", "Kab. Nganjuk".
func (d *Directory) ByKeyword(keyword string) (Agency, bool) {
	i, ok := d.byKeyword[CanonicalKeyword(keyword)]
	if !ok {
		return Agency{}, false
	}
	return d.list[i], true
}

// Keywords returns every agency keyword in canonical form (uppercase words
// of letters and digits joined by single spaces), sorted: the prefixes the
// parser recognises.
func (d *Directory) Keywords() []string { return append([]string(nil), d.keywords...) }

// Agencies returns every agency: the generated local governments in code
// order, then the listed ones in file order.
func (d *Directory) Agencies() []Agency { return append([]Agency(nil), d.list...) }

// Len is the number of agencies.
func (d *Directory) Len() int { return len(d.list) }

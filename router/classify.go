package router

// The classifier: from a citizen's SMS to a LAPOR! category and the agency
// that must handle it (issue 5; ROUTING.md). It reads, from the routing
// directory (configs/routing):
//
//   - lapor-categories-2025.json: the 38 main categories and their
//     sub-categories (names only, exact bytes);
//   - slang.yaml: the SMS spelling table, handed to the parser;
//   - topics.yaml: topics, each a category (and sub-category) with a
//     weighted lexicon of words and phrases, and the stemmer's exceptions;
//   - rules.yaml: jurisdiction rules, topic × signals × region → agency;
//
// plus the region tables (configs/regions) and the agency directory
// (configs/agencies.yaml). Text is normalised by the parser, stemmed with
// go-sastrawi and matched against the lexicons; the best topic names the
// category, its first matching rule names the agency. When the decision is
// not confident enough, or a rule needs a region the text does not name,
// the complaint goes to the national triage desk: "no wrong door".

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/sp4n-lapor/sms1708/parser"
)

// Files of the routing directory.
const (
	CategoriesFile = "lapor-categories-2025.json"
	SlangFile      = "slang.yaml"
	TopicsFile     = "topics.yaml"
	RulesFile      = "rules.yaml"
)

// OtherCategory is the category of a text no lexicon word matches.
const OtherCategory = "TOPIK LAINNYA"

// DefaultMinConfidence is the confidence below which a complaint goes to the
// triage desk when ClassifierConfig.MinConfidence is zero. Tuned on the
// training part of testdata/routing.
const DefaultMinConfidence = 0.35

// Limits that keep one decision bounded whatever arrives. Texts are already
// cut to parser.MaxInput; a complaint that needs more words than this to say
// what it is about has said it in the first ones.
const (
	maxRouteWords  = 256
	maxPatternLen  = 8  // words in one lexicon phrase
	maxTermWeight  = 20 // a topic term's weight
	stemCacheLimit = 1 << 17
	// taxonomySubs is the number of sub-category names above which a main
	// category's names count less as evidence (addTaxonomy).
	taxonomySubs = 30
)

// ClassifierConfig says where the routing files are and how sure a decision
// must be.
type ClassifierConfig struct {
	// Dir is the routing directory (configs/routing): categories, slang,
	// topics and rules.
	Dir string
	// Regions is the directory of the region tables; default Dir/../regions.
	Regions string
	// Agencies is the agency directory file; default Dir/../agencies.yaml.
	Agencies string
	// MinConfidence: below it a complaint goes to the triage desk. Zero
	// means DefaultMinConfidence; it must be below 1.
	MinConfidence float64
}

// Route is the classifier's decision for one complaint (ROUTING.md).
type Route struct {
	// AgencyID is always set: the triage desk (TriageAgency) when unsure.
	AgencyID string
	// Category is a main name exactly as in the reference file, optionally
	// followed by " > " and one of its sub-category names.
	Category string
	// Region is the Kemendagri code of the region the text names ("32",
	// "32.04"), or "".
	Region string
	// Confidence is how sure the classifier is of the category, 0..1.
	Confidence float64
	// Explain lists the steps of the decision in plain words: which words,
	// which region, which rule or keyword.
	Explain []string
	// Triage is set when the complaint went to the triage desk because the
	// classifier was unsure (confidence below the threshold, no topic, or a
	// rule that needs a region the text does not name).
	Triage bool
}

// Classifier routes complaints. It is immutable after LoadClassifier and
// safe for concurrent use (its stem cache is internally synchronised); a
// reload builds a new one and the caller swaps it in (atomic.Pointer).
type Classifier struct {
	parser  *parser.Parser
	regions *Regions
	dir     *Directory
	triage  Agency
	min     float64

	categories map[string][]string // exact main name → sub names
	stem       *stemmer

	vocab    map[string]int32 // stem → word id
	patterns []pattern
	byFirst  map[int32][]int32 // first word id → patterns, longest first
	topics   []topic
	catIndex map[string]int // exact main name → index in catNames
	catNames []string
	rules    []rule
	combos   []combo
	admin    map[string]bool // administrative provinces (rules.yaml)
	// provincial are phrases that name a provincial government ("pemprov
	// bali"): a regency-level rule then resolves to the province.
	provincial []int32

	// topicWord marks the word ids that occur in a topic's lexicon (not only
	// in rule signals): guessRegion does not read them as place names.
	topicWord []bool

	// patternIndex finds a pattern by its word ids while building.
	patternIndex map[string]int32

	scratch sync.Pool // *routeScratch
}

// pattern is one lexicon word or phrase, as word ids.
type pattern struct {
	words   []int32
	text    string    // normalised words, for explanations
	post    []posting // topics it counts for; empty for a rule signal only
	neutral bool      // claims its words and counts for nothing (topicsFile.Neutral)
}

type posting struct {
	topic  int32
	weight float32 // configured weight × IDF factor
	weak   bool    // from the taxonomy's names, not a lexicon (addTaxonomy)
}

type topic struct {
	id       string
	category int // index in catNames
	sub      string
	rules    []int // indexes in rules that name this topic, in order
}

type rule struct {
	id        string
	when      []int32 // patterns; any one matches (none: always)
	unless    []int32
	agency    string // or
	level     string // LevelProvince / LevelRegency
	otherwise string // agency when level cannot be resolved
}

// combo counts for a topic when every part occurs somewhere in the text;
// a part is satisfied by any one of its alternatives. It says what single
// words cannot: "guru" and "kampanye" together are about a civil servant's
// neutrality, not about schools or elections.
type combo struct {
	text   string
	topic  int32
	weight float32
	parts  [][]int32 // patterns
}

// hit is one matched pattern occurrence.
type hit struct {
	pattern int32
	start   int32
	n       int32 // words
	counted bool  // counted for the topics (not covered by a longer phrase)
}

// routeScratch holds the buffers of one decision, reused through a pool so
// that a decision allocates little.
type routeScratch struct {
	words  []int32
	hits   []hit
	seen   []int32 // patterns already counted (each counts once per text)
	scores []float32
	strong []bool // topics with lexicon evidence (not only taxonomy words)
	cats   []float32
	best   []int32                    // best topic per category
	combos []int32                    // combos satisfied
	used   [maxRouteWords / 64]uint64 // words claimed by a counted phrase
	hitSet []uint64                   // patterns found in the text, one bit each (see matched)
}

// LoadClassifier loads and validates every routing file and builds the
// classifier. It reports every problem at once (errors.Join), each naming
// its file and field.
func LoadClassifier(cfg ClassifierConfig) (*Classifier, error) {
	if cfg.Dir == "" {
		return nil, errors.New("routing: no routing directory")
	}
	if cfg.Regions == "" {
		cfg.Regions = filepath.Join(cfg.Dir, "..", "regions")
	}
	if cfg.Agencies == "" {
		cfg.Agencies = filepath.Join(cfg.Dir, "..", "agencies.yaml")
	}
	min := cfg.MinConfidence
	if min == 0 {
		min = DefaultMinConfidence
	}
	var errs []error
	if min < 0 || min >= 1 || math.IsNaN(min) {
		errs = append(errs, fmt.Errorf("routing: min_confidence %v: want 0 ≤ x < 1", cfg.MinConfidence))
	}

	cats, catList, err := loadCategories(filepath.Join(cfg.Dir, CategoriesFile))
	if err != nil {
		// Nothing else can be checked without the category names.
		return nil, errors.Join(append(errs, err)...)
	}
	slang, err := loadSlang(filepath.Join(cfg.Dir, SlangFile))
	if err != nil {
		errs = append(errs, err)
	}
	regions, err := LoadRegions(cfg.Regions)
	if err != nil {
		errs = append(errs, err)
	}
	var dir *Directory
	if regions != nil {
		dir, err = LoadDirectory(cfg.Agencies, regions, catList)
		if err != nil {
			errs = append(errs, err)
		}
	}
	var keywords []string
	if dir != nil {
		keywords = dir.Keywords()
	}
	p, err := parser.New(parser.Config{Keywords: keywords, Slang: slang})
	if err != nil {
		errs = append(errs, fmt.Errorf("routing: %s: %w", SlangFile, err))
		// Go on with a plain parser, so that the lexicons and rules are
		// checked too and every problem is reported at once.
		if p, err = parser.New(parser.Config{}); err != nil {
			return nil, errors.Join(append(errs, err)...)
		}
	}
	var tf topicsFile
	topicsOK := true
	if err := decodeYAML(filepath.Join(cfg.Dir, TopicsFile), &tf); err != nil {
		errs = append(errs, err)
		topicsOK = false
	}
	var rf rulesFile
	rulesOK := true
	if err := decodeYAML(filepath.Join(cfg.Dir, RulesFile), &rf); err != nil {
		errs = append(errs, err)
		rulesOK = false
	}
	if !topicsOK || dir == nil {
		return nil, errors.Join(errs...)
	}

	c := &Classifier{
		parser:     p,
		regions:    regions,
		dir:        dir,
		min:        min,
		categories: cats,
		vocab:      map[string]int32{},
		byFirst:    map[int32][]int32{},
		catIndex:   map[string]int{},
	}
	c.stem = newStemmer(tf.StemExceptions)
	for _, name := range catList {
		c.catIndex[name] = len(c.catNames)
		c.catNames = append(c.catNames, name)
	}
	errs = append(errs, c.buildTopics(tf)...)
	errs = append(errs, c.addTaxonomy(tf.Taxonomy, catList)...)
	if rulesOK {
		errs = append(errs, c.buildRules(rf)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.weigh()
	c.topicWord = make([]bool, len(c.vocab))
	for _, p := range c.patterns {
		if len(p.post) > 0 {
			for _, w := range p.words {
				c.topicWord[w] = true
			}
		}
	}
	for _, cb := range c.combos {
		for _, alts := range cb.parts {
			for _, p := range alts {
				for _, w := range c.patterns[p].words {
					c.topicWord[w] = true
				}
			}
		}
	}
	c.stem.seal(c.vocab)
	c.patternIndex = nil
	for first, ps := range c.byFirst {
		slices.SortStableFunc(ps, func(a, b int32) int { return len(c.patterns[b].words) - len(c.patterns[a].words) })
		c.byFirst[first] = ps
	}
	c.scratch.New = func() any {
		return &routeScratch{
			scores: make([]float32, len(c.topics)),
			strong: make([]bool, len(c.topics)),
			cats:   make([]float32, len(c.catNames)),
			best:   make([]int32, len(c.catNames)),
			hitSet: make([]uint64, (len(c.patterns)+63)/64),
		}
	}
	return c, nil
}

// Parser returns the parser built with the routing slang table and the
// directory's agency keywords.
func (c *Classifier) Parser() *parser.Parser { return c.parser }

// Directory returns the agency directory the classifier routes to.
func (c *Classifier) Directory() *Directory { return c.dir }

// Regions returns the region table.
func (c *Classifier) Regions() *Regions { return c.regions }

// MinConfidence is the threshold below which a complaint goes to triage.
func (c *Classifier) MinConfidence() float64 { return c.min }

// --- files ---------------------------------------------------------------

type topicsFile struct {
	StemExceptions []string     `yaml:"stem_exceptions"`
	Taxonomy       taxonomyYAML `yaml:"taxonomy"`
	Topics         []topicYAML  `yaml:"topics"`
	// Neutral are phrases that hold a topic word but say nothing about a
	// topic ("mohon bantuan", "makan gaji buta"): they claim their words,
	// like a longer phrase does, and count for no topic.
	Neutral []string `yaml:"neutral"`
}

// taxonomyYAML says how the names of the category tree count as weak
// evidence (see Classifier.addTaxonomy).
type taxonomyYAML struct {
	// Weight of one content word of a category or sub-category name
	// (before the IDF factor); 0 turns the taxonomy evidence off.
	Weight float64 `yaml:"weight"`
	// MaxCategories drops a word that occurs in the names of more main
	// categories than this: it names none of them.
	MaxCategories int `yaml:"max_categories"`
	// Stopwords are words of the names that say nothing about a topic
	// ("lainnya", "terkait", "dan").
	Stopwords []string `yaml:"stopwords"`
}

type topicYAML struct {
	ID       string    `yaml:"id"`
	Category string    `yaml:"category"`
	Sub      string    `yaml:"sub"`
	Terms    yaml.Node `yaml:"terms"`  // a mapping, kept in file order
	Combos   yaml.Node `yaml:"combos"` // "a | b + c": weight
}

type rulesFile struct {
	Triage string `yaml:"triage"`
	// AdministrativeProvinces are provinces whose cities and regency are
	// administrative, not autonomous (DKI Jakarta): a regency-level matter
	// there goes to the province.
	AdministrativeProvinces []string `yaml:"administrative_provinces"`
	// Provincial are phrases naming a provincial government or its dinas
	// ("pemprov", "pemerintah provinsi"). When the text names it, a
	// regency-level rule goes to the province of the region: the agency the
	// citizen names wins (labelling policy).
	Provincial []string   `yaml:"provincial"`
	Rules      []ruleYAML `yaml:"rules"`
}

type ruleYAML struct {
	ID         string   `yaml:"id"`
	Topics     []string `yaml:"topics"`
	Categories []string `yaml:"categories"`
	When       []string `yaml:"when"`
	Unless     []string `yaml:"unless"`
	Agency     string   `yaml:"agency"`
	Level      string   `yaml:"level"`
	Otherwise  string   `yaml:"otherwise"`
}

func decodeYAML(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("routing: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("routing: %s: %w", filepath.Base(path), err)
	}
	return nil
}

// loadCategories reads the reference tree: main name → sub names, and the
// main names in file order.
func loadCategories(path string) (map[string][]string, []string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("routing: %w", err)
	}
	// The order of the mains is the file's: decode the object token by token.
	var doc struct {
		Categories json.RawMessage `json:"categories"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("routing: %s: %w", CategoriesFile, err)
	}
	cats := map[string][]string{}
	if err := json.Unmarshal(doc.Categories, &cats); err != nil || len(cats) == 0 {
		return nil, nil, fmt.Errorf("routing: %s: categories: want an object of main name → [sub names] (%v)", CategoriesFile, err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Categories))
	var list []string
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			break
		}
		switch v := t.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				list = append(list, v)
			}
		}
	}
	if _, ok := cats[OtherCategory]; !ok {
		return nil, nil, fmt.Errorf("routing: %s: categories: no %q", CategoriesFile, OtherCategory)
	}
	return cats, list, nil
}

// loadSlang reads slang.yaml and checks that one pass is enough: no word of
// an expansion is itself a key.
func loadSlang(path string) (map[string]string, error) {
	var f struct {
		Slang map[string]string `yaml:"slang"`
	}
	if err := decodeYAML(path, &f); err != nil {
		return nil, err
	}
	var errs []error
	keys := make([]string, 0, len(f.Slang))
	for k := range f.Slang {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := f.Slang[k]
		if k == "" || strings.ContainsFunc(k, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
		}) {
			errs = append(errs, fmt.Errorf("routing: %s: slang.%s: keys are one lowercase word", SlangFile, k))
		}
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("routing: %s: slang.%s: empty expansion", SlangFile, k))
		}
		for _, w := range strings.Fields(v) {
			if w != k && f.Slang[w] != "" {
				errs = append(errs, fmt.Errorf("routing: %s: slang.%s: expansion word %q is itself a key", SlangFile, k, w))
			}
		}
	}
	return f.Slang, errors.Join(errs...)
}

// canonicalCategory finds the exact main name for name, which may use
// ordinary spaces where the reference has no-break spaces.
func (c *Classifier) canonicalCategory(name string) (string, bool) {
	if _, ok := c.catIndex[name]; ok {
		return name, true
	}
	want := strings.Join(strings.Fields(strings.ReplaceAll(name, "\u00a0", " ")), " ")
	for _, n := range c.catNames {
		if strings.ReplaceAll(n, "\u00a0", " ") == want {
			return n, true
		}
	}
	return "", false
}

// compile turns a lexicon word or phrase into word ids, interning new ones.
func (c *Classifier) compile(text string) ([]int32, string) {
	norm := c.parser.Normalize(text)
	if norm == "" {
		return nil, ""
	}
	fields := strings.Split(norm, " ")
	ids := make([]int32, 0, len(fields))
	for _, w := range fields {
		s := c.stem.fix(w)
		id, ok := c.vocab[s]
		if !ok {
			id = int32(len(c.vocab))
			c.vocab[s] = id
		}
		ids = append(ids, id)
	}
	return ids, norm
}

// patternFor returns the pattern of text, creating it.
func (c *Classifier) patternFor(text string, index map[string]int32) (int32, error) {
	ids, norm := c.compile(text)
	if len(ids) == 0 {
		return -1, errors.New("no words")
	}
	if len(ids) > maxPatternLen {
		return -1, fmt.Errorf("%d words, at most %d", len(ids), maxPatternLen)
	}
	key := fmt.Sprint(ids)
	if p, ok := index[key]; ok {
		return p, nil
	}
	p := int32(len(c.patterns))
	c.patterns = append(c.patterns, pattern{words: ids, text: norm})
	index[key] = p
	c.byFirst[ids[0]] = append(c.byFirst[ids[0]], p)
	return p, nil
}

func (c *Classifier) buildTopics(tf topicsFile) []error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("routing: %s: %s: %s", TopicsFile, field, fmt.Sprintf(format, a...)))
	}
	index := map[string]int32{}
	c.patternIndex = index
	for i, n := range tf.Neutral {
		p, err := c.patternFor(n, index)
		if err != nil {
			bad("neutral["+strconv.Itoa(i)+"]", "%q: %v", n, err)
			continue
		}
		c.patterns[p].neutral = true
	}
	seen := map[string]bool{}
	for i, t := range tf.Topics {
		f := "topics[" + strconv.Itoa(i) + "]"
		if t.ID != "" {
			f += " (" + t.ID + ")"
		}
		switch {
		case t.ID == "":
			bad(f+".id", "missing")
		case seen[t.ID]:
			bad(f+".id", "%q appears twice", t.ID)
		}
		seen[t.ID] = true
		cat, ok := c.canonicalCategory(t.Category)
		if !ok {
			bad(f+".category", "%q is not a main category of %s", t.Category, CategoriesFile)
			continue
		}
		if t.Sub != "" && !slices.Contains(c.categories[cat], t.Sub) {
			bad(f+".sub", "%q is not a sub-category of %q", t.Sub, t.Category)
		}
		ti := int32(len(c.topics))
		c.topics = append(c.topics, topic{id: t.ID, category: c.catIndex[cat], sub: t.Sub})
		if t.Terms.Kind != yaml.MappingNode || len(t.Terms.Content) == 0 {
			bad(f+".terms", "want a mapping of word or phrase → weight")
			continue
		}
		for j := 0; j+1 < len(t.Terms.Content); j += 2 {
			k, v := t.Terms.Content[j], t.Terms.Content[j+1]
			var w float64
			if err := v.Decode(&w); err != nil || w <= 0 || w > maxTermWeight {
				bad(f+".terms["+strconv.Quote(k.Value)+"]", "line %d: weight %q: want a number in (0, %d]", v.Line, v.Value, maxTermWeight)
				continue
			}
			p, err := c.patternFor(k.Value, index)
			if err != nil {
				bad(f+".terms["+strconv.Quote(k.Value)+"]", "line %d: %v", k.Line, err)
				continue
			}
			pt := &c.patterns[p]
			if i := slices.IndexFunc(pt.post, func(x posting) bool { return x.topic == ti }); i >= 0 {
				pt.post[i].weight = max(pt.post[i].weight, float32(w))
				continue
			}
			pt.post = append(pt.post, posting{topic: ti, weight: float32(w)})
		}
		if t.Combos.Kind == 0 {
			continue
		}
		if t.Combos.Kind != yaml.MappingNode {
			bad(f+".combos", "want a mapping of \"a | b + c\" → weight")
			continue
		}
		for j := 0; j+1 < len(t.Combos.Content); j += 2 {
			k, v := t.Combos.Content[j], t.Combos.Content[j+1]
			field := f + ".combos[" + strconv.Quote(k.Value) + "]"
			var w float64
			if err := v.Decode(&w); err != nil || w <= 0 || w > maxTermWeight {
				bad(field, "line %d: weight %q: want a number in (0, %d]", v.Line, v.Value, maxTermWeight)
				continue
			}
			cb := combo{text: k.Value, topic: ti, weight: float32(w)}
			parts := strings.Split(k.Value, "+")
			if len(parts) < 2 {
				bad(field, "line %d: want at least two parts joined by +", k.Line)
				continue
			}
			for _, part := range parts {
				var alts []int32
				for _, alt := range strings.Split(part, "|") {
					p, err := c.patternFor(alt, index)
					if err != nil {
						bad(field, "line %d: %q: %v", k.Line, strings.TrimSpace(alt), err)
						continue
					}
					alts = append(alts, p)
				}
				cb.parts = append(cb.parts, alts)
			}
			c.combos = append(c.combos, cb)
		}
	}
	for _, n := range tf.Neutral {
		if p, err := c.patternFor(n, index); err == nil && len(c.patterns[p].post) > 0 {
			bad("neutral", "%q is also a term of topic %s", n, c.topics[c.patterns[p].post[0].topic].id)
		}
	}
	return errs
}

func (c *Classifier) buildRules(rf rulesFile) []error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("routing: %s: %s: %s", RulesFile, field, fmt.Sprintf(format, a...)))
	}
	if rf.Triage == "" {
		rf.Triage = TriageAgency
	}
	c.admin = map[string]bool{}
	for i, code := range rf.AdministrativeProvinces {
		if g, ok := c.regions.Get(code); !ok || g.Kind != KindProvince {
			bad("administrative_provinces["+strconv.Itoa(i)+"]", "%q is not a province code", code)
		}
		c.admin[code] = true
	}
	for i, w := range rf.Provincial {
		p, err := c.patternFor(w, c.patternIndex)
		if err != nil {
			bad("provincial["+strconv.Itoa(i)+"]", "%q: %v", w, err)
			continue
		}
		c.provincial = append(c.provincial, p)
	}
	if a, ok := c.dir.Get(rf.Triage); !ok {
		bad("triage", "%q is not an agency of the directory", rf.Triage)
	} else {
		c.triage = a
	}
	topicIndex := map[string]int{}
	for i, t := range c.topics {
		topicIndex[t.id] = i
	}
	seen := map[string]bool{}
	for i, r := range rf.Rules {
		f := "rules[" + strconv.Itoa(i) + "]"
		if r.ID != "" {
			f += " (" + r.ID + ")"
		}
		switch {
		case r.ID == "":
			bad(f+".id", "missing")
		case seen[r.ID]:
			bad(f+".id", "%q appears twice", r.ID)
		}
		seen[r.ID] = true
		ri := len(c.rules)
		nr := rule{id: r.ID, agency: r.Agency, level: r.Level, otherwise: r.Otherwise}
		switch {
		case r.Agency != "" && r.Level != "":
			bad(f, "agency and level are exclusive")
		case r.Agency == "" && r.Level == "":
			bad(f, "needs agency or level")
		case r.Agency != "":
			if _, ok := c.dir.Get(r.Agency); !ok {
				bad(f+".agency", "%q is not an agency of the directory", r.Agency)
			}
			if r.Otherwise != "" {
				bad(f+".otherwise", "only for a level rule")
			}
		default:
			if r.Level != LevelProvince && r.Level != LevelRegency {
				bad(f+".level", "%q: want %q or %q", r.Level, LevelProvince, LevelRegency)
			}
			if r.Otherwise != "" {
				if _, ok := c.dir.Get(r.Otherwise); !ok {
					bad(f+".otherwise", "%q is not an agency of the directory", r.Otherwise)
				}
			}
		}
		for j, w := range r.When {
			p, err := c.patternFor(w, c.patternIndex)
			if err != nil {
				bad(f+".when["+strconv.Itoa(j)+"]", "%q: %v", w, err)
				continue
			}
			nr.when = append(nr.when, p)
		}
		for j, w := range r.Unless {
			p, err := c.patternFor(w, c.patternIndex)
			if err != nil {
				bad(f+".unless["+strconv.Itoa(j)+"]", "%q: %v", w, err)
				continue
			}
			nr.unless = append(nr.unless, p)
		}
		if len(r.Topics) == 0 && len(r.Categories) == 0 {
			bad(f, "names no topics or categories")
		}
		for _, id := range r.Topics {
			ti, ok := topicIndex[id]
			if !ok {
				bad(f+".topics", "%q is not a topic of %s", id, TopicsFile)
				continue
			}
			c.topics[ti].rules = append(c.topics[ti].rules, ri)
		}
		for _, name := range r.Categories {
			cat, ok := c.canonicalCategory(name)
			if !ok {
				bad(f+".categories", "%q is not a main category of %s", name, CategoriesFile)
				continue
			}
			for ti := range c.topics {
				if c.catNames[c.topics[ti].category] == cat {
					c.topics[ti].rules = append(c.topics[ti].rules, ri)
				}
			}
		}
		c.rules = append(c.rules, nr)
	}
	return errs
}

// addTaxonomy makes every content word of the category tree's names weak
// evidence for its main category: a citizen who writes "kuota haji",
// "ventilator" or "hutan adat" uses the words the taxonomy itself uses, even
// when no hand-written lexicon thought of them. It is computed at load from
// lapor-categories-2025.json, so a new tree brings its own words.
//
// A word counts only where the lexicons say nothing about it (a lexicon
// word was weighed by hand, and the taxonomy must not dilute it), only when
// it occurs in the names of at most MaxCategories main categories, and for
// the topic of its sub-category when one has it, else for the first topic
// of its main category. The IDF factor (weigh) applies as to any term.
func (c *Classifier) addTaxonomy(tx taxonomyYAML, catList []string) []error {
	if tx.Weight == 0 {
		return nil
	}
	if tx.Weight < 0 || tx.Weight > maxTermWeight || math.IsNaN(tx.Weight) {
		return []error{fmt.Errorf("routing: %s: taxonomy.weight %v: want a number in [0, %d]", TopicsFile, tx.Weight, maxTermWeight)}
	}
	if tx.MaxCategories <= 0 {
		tx.MaxCategories = 2
	}
	// Stopwords are compared by stem: "diatas" is "atas".
	stop := map[string]bool{}
	for _, w := range tx.Stopwords {
		for _, f := range strings.Fields(c.parser.Normalize(w)) {
			stop[f] = true
			stop[c.stem.fix(f)] = true
		}
	}
	// topicFor: sub-category → topic, and each main's first topic.
	bySub := map[[2]int]int32{} // (category, index of sub name) → topic
	first := map[int]int32{}
	subIndex := map[string]int{}
	for ti, t := range c.topics {
		if _, ok := first[t.category]; !ok {
			first[t.category] = int32(ti)
		}
		if t.sub != "" {
			key := c.catNames[t.category] + "\x00" + t.sub
			if _, ok := subIndex[key]; !ok {
				subIndex[key] = len(subIndex)
			}
			if _, ok := bySub[[2]int{t.category, subIndex[key]}]; !ok {
				bySub[[2]int{t.category, subIndex[key]}] = int32(ti)
			}
		}
	}
	type use struct {
		pattern int32
		topic   int32
		weight  float32
	}
	var uses []use
	cats := map[int32]map[int]bool{} // pattern → main categories naming it
	for _, main := range catList {
		k, ok := c.catIndex[main]
		if !ok {
			continue
		}
		ft, ok := first[k]
		if !ok {
			continue
		}
		names := append([]string{strings.ReplaceAll(main, "\u00a0", " ")}, c.categories[main]...)
		// A main with hundreds of sub-categories (KESEHATAN, CORONA VIRUS)
		// lists complaint reasons ("jadwal", "pelatihan"), not topics: its
		// words count less.
		weight := float32(tx.Weight * math.Min(1, math.Sqrt(float64(taxonomySubs)/float64(len(names)))))
		for _, name := range names {
			ti := ft
			if si, ok := subIndex[main+"\x00"+name]; ok {
				if t, ok := bySub[[2]int{k, si}]; ok {
					ti = t
				}
			}
			for _, w := range strings.Fields(c.parser.Normalize(name)) {
				if len(w) < 3 || stop[w] || stop[c.stem.fix(w)] || strings.ContainsAny(w, "0123456789") {
					continue
				}
				p, err := c.patternFor(w, c.patternIndex)
				if err != nil {
					continue
				}
				if cats[p] == nil {
					cats[p] = map[int]bool{}
				}
				cats[p][k] = true
				uses = append(uses, use{p, ti, weight})
			}
		}
	}
	explicit := map[int32]bool{}
	for i := range c.patterns {
		if len(c.patterns[i].post) > 0 {
			explicit[int32(i)] = true
		}
	}
	for _, u := range uses {
		if explicit[u.pattern] || len(cats[u.pattern]) > tx.MaxCategories {
			continue
		}
		pt := &c.patterns[u.pattern]
		if slices.ContainsFunc(pt.post, func(x posting) bool { return x.topic == u.topic }) {
			continue
		}
		pt.post = append(pt.post, posting{topic: u.topic, weight: u.weight, weak: true})
	}
	return nil
}

// weigh applies the IDF factor: a pattern that counts for topics of several
// categories tells less about any one of them. The factor is computed from
// the lexicons themselves, not from labelled texts.
func (c *Classifier) weigh() {
	for i := range c.patterns {
		p := &c.patterns[i]
		if len(p.post) == 0 {
			continue
		}
		var cats []int
		for _, x := range p.post {
			if k := c.topics[x.topic].category; !slices.Contains(cats, k) {
				cats = append(cats, k)
			}
		}
		f := float32(1 / (1 + math.Log(float64(len(cats)))))
		for j := range p.post {
			p.post[j].weight *= f
		}
	}
}

package router

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sp4n-lapor/sms1708/parser"
)

// strengthScale sets how fast the confidence grows with the winning score:
// one strong phrase (weight ~6) gives ~0.8 before the margin is applied.
const strengthScale = 4.0

// Route parses text and routes it. Commands that are not complaints get a
// Route too (the caller decides what to do with them); it is computed from
// whatever text they carry.
func (c *Classifier) Route(text string) (parser.Command, Route) {
	cmd := c.parser.Parse(text)
	return cmd, c.RouteCommand(cmd)
}

// RouteCommand routes a command made by c.Parser(). The agency is always
// set: an explicit agency keyword wins, then the first jurisdiction rule of
// the best topic, and the triage desk when unsure.
func (c *Classifier) RouteCommand(cmd parser.Command) Route {
	s := c.scratch.Get().(*routeScratch)
	defer c.scratch.Put(s)
	regionMatches := c.regions.Match(cmd.Normalized)
	c.markSignOff(cmd, regionMatches)
	c.match(cmd.Normalized, regionMatches, s)

	// The best topic of each category; the best two categories.
	for k := range s.cats {
		s.cats[k], s.best[k] = 0, -1
	}
	for t, v := range s.scores {
		k := c.topics[t].category
		if v > s.cats[k] {
			s.cats[k], s.best[k] = v, int32(t)
		}
	}
	k1, k2 := -1, -1
	for k, v := range s.cats {
		switch {
		case v <= 0:
		case k1 < 0 || v > s.cats[k1]:
			k1, k2 = k, k1
		case k2 < 0 || v > s.cats[k2]:
			k2 = k
		}
	}

	var r Route
	region, regionOK := c.pickRegion(cmd.Normalized, regionMatches)
	if regionOK {
		r.Region = region.Code
	}
	topicIdx := -1
	if k1 < 0 {
		r.Category = OtherCategory
		r.Explain = append(r.Explain, "tidak ada kata topik yang dikenal → "+OtherCategory)
	} else {
		s1 := float64(s.cats[k1])
		s2 := 0.0
		if k2 >= 0 {
			s2 = float64(s.cats[k2])
		}
		r.Confidence = round3((1 - math.Exp(-s1/strengthScale)) * s1 / (s1 + s2))
		topicIdx = int(s.best[k1])
		t := &c.topics[topicIdx]
		r.Category = c.catNames[k1]
		if t.sub != "" {
			r.Category += " > " + t.sub
		}
		r.Explain = append(r.Explain, c.explainWords(s, topicIdx, r.Category))
		conf := fmt.Sprintf("keyakinan %.2f (skor %.1f", r.Confidence, s1)
		if k2 >= 0 {
			conf += fmt.Sprintf(" vs %.1f %s", s2, c.catNames[k2])
		}
		r.Explain = append(r.Explain, conf+")")
		if !c.strongCategory(s, k1) && r.Confidence < c.min {
			// Only a few words of the taxonomy's names, and not enough of
			// them: that is no topic. Lexicon evidence below the threshold
			// keeps its category on the way to triage (labelling policy:
			// "with the category still set when the topic is clear").
			r.Category = OtherCategory
			r.Explain = append(r.Explain, "hanya kata lemah dari nama kategori → "+OtherCategory)
		}
	}
	if regionOK {
		r.Explain = append(r.Explain, c.explainRegion(region))
	}

	// An agency keyword the citizen typed wins over everything.
	if cmd.Keyword != "" {
		if a, ok := c.dir.ByKeyword(cmd.Keyword); ok {
			r.AgencyID = a.ID
			if r.Region == "" {
				r.Region = a.Region
			}
			r.Explain = append(r.Explain, fmt.Sprintf("kata kunci %s → %s (%s)", cmd.Keyword, a.ID, a.Name))
			return r
		}
	}

	if topicIdx < 0 {
		return c.toTriage(r, "topik tidak dikenali")
	}
	if r.Confidence < c.min {
		return c.toTriage(r, fmt.Sprintf("keyakinan %.2f di bawah ambang %.2f", r.Confidence, c.min))
	}
	for _, ri := range c.topics[topicIdx].rules {
		ru := &c.rules[ri]
		if !c.ruleApplies(ru, s) {
			continue
		}
		if ru.level != "" && !regionOK {
			if region, regionOK = c.guessRegion(cmd.Normalized); regionOK {
				r.Region = region.Code
				r.Explain = append(r.Explain, c.explainRegion(region)+" (tanpa kata 'di'/'kec')")
			}
		}
		provincial := slices.ContainsFunc(c.provincial, func(p int32) bool { return c.matched(s, p) })
		return c.applyRule(r, ru, region, regionOK, provincial)
	}
	return c.toTriage(r, "tidak ada aturan untuk topik "+c.topics[topicIdx].id)
}

// match finds the lexicon patterns in the normalised text and scores the
// topics. Each pattern counts once per text; at each word the longest
// phrase counts and covers the words inside it ("lampu jalan" is street
// lighting, not "jalan"); rule signals are recorded wherever they occur.
//
// Words that name a region count for no topic ("Bandar Lampung" is not
// about drug dealers, "Tanah Datar" not about land), but they still serve
// as rule signals ("trans papua" is a national road).
func (c *Classifier) match(norm string, regions []RegionMatch, s *routeScratch) {
	for _, h := range s.hits { // the previous text's bits
		s.hitSet[h.pattern/64] = 0
	}
	s.words = s.words[:0]
	s.hits = s.hits[:0]
	s.seen = s.seen[:0]
	clear(s.scores)
	clear(s.strong)
	for i := 0; i < len(norm) && len(s.words) < maxRouteWords; {
		for i < len(norm) && norm[i] == ' ' {
			i++
		}
		j := i
		for j < len(norm) && norm[j] != ' ' {
			j++
		}
		if j > i {
			s.words = append(s.words, c.stem.id(norm[i:j]))
		}
		i = j
	}
	for i, id := range s.words {
		if id < 0 {
			continue
		}
		for _, p := range c.byFirst[id] {
			pw := c.patterns[p].words
			if len(pw) > len(s.words)-i || !slices.Equal(pw, s.words[i:i+len(pw)]) {
				continue
			}
			s.hits = append(s.hits, hit{pattern: p, start: int32(i), n: int32(len(pw))})
			s.hitSet[p/64] |= 1 << (p % 64)
		}
	}
	// Longest phrases first, then leftmost: a topic phrase claims its words,
	// and a shorter one inside or across them does not count.
	slices.SortStableFunc(s.hits, func(a, b hit) int {
		if a.n != b.n {
			return int(b.n - a.n)
		}
		return int(a.start - b.start)
	})
	clear(s.used[:])
	for _, m := range regions {
		start := max(m.Start, 0)
		if regionKindWord[wordAt(norm, start)] {
			// The kind word before a name stays a word of the text: "jalan
			// desa sumberkerto" is a village road, "kepala desa sukamaju" a
			// village head, "jalan kabupaten malang" a regency road.
			start++
		}
		for i := start; i < m.End && i < len(s.words); i++ {
			s.used[i/64] |= 1 << (i % 64)
		}
	}
	for k := range s.hits {
		h := &s.hits[k]
		if len(c.patterns[h.pattern].post) == 0 && !c.patterns[h.pattern].neutral {
			continue
		}
		free := true
		for i := h.start; i < h.start+h.n; i++ {
			if s.used[i/64]&(1<<(i%64)) != 0 {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for i := h.start; i < h.start+h.n; i++ {
			s.used[i/64] |= 1 << (i % 64)
		}
		h.counted = true
		if !slices.Contains(s.seen, h.pattern) {
			s.seen = append(s.seen, h.pattern)
			for _, x := range c.patterns[h.pattern].post {
				s.scores[x.topic] += x.weight
				if !x.weak {
					s.strong[x.topic] = true
				}
			}
		}
	}
	s.combos = s.combos[:0]
	for k := range c.combos {
		cb := &c.combos[k]
		all := true
		for _, alts := range cb.parts {
			if !slices.ContainsFunc(alts, func(p int32) bool { return c.matched(s, p) }) {
				all = false
				break
			}
		}
		if all {
			s.scores[cb.topic] += cb.weight
			s.strong[cb.topic] = true
			s.combos = append(s.combos, int32(k))
		}
	}
}

// strongCategory reports whether a lexicon (not only the taxonomy's names)
// gave category k evidence.
func (c *Classifier) strongCategory(s *routeScratch, k int) bool {
	for t, ok := range s.strong {
		if ok && c.topics[t].category == k {
			return true
		}
	}
	return false
}

// matched reports whether pattern p occurs in the text: one bit per
// pattern, set while the hits are collected (combos and rules ask this
// hundreds of times per text; scanning the hits each time was a fifth of
// the routing time).
func (c *Classifier) matched(s *routeScratch, p int32) bool {
	return s.hitSet[p/64]&(1<<(p%64)) != 0
}

func (c *Classifier) ruleApplies(ru *rule, s *routeScratch) bool {
	for _, p := range ru.unless {
		if c.matched(s, p) {
			return false
		}
	}
	if len(ru.when) == 0 {
		return true
	}
	for _, p := range ru.when {
		if c.matched(s, p) {
			return true
		}
	}
	return false
}

// pickRegion chooses the region the complaint is about among those the text
// names: an unambiguous one before an ambiguous one, a regency or city
// before a province, the first before later ones.
//
// A name right after a street or village word ("jl diponegoro", "kel karang
// anyar", "desa bandung") is that street or village, not the region.
//
// A village ("desa sukamaju", ViaVillage) counts only when no regency, city
// or district is named, and, when provinces are named, only if it lies in
// one of them: a place named explicitly wins.
func (c *Classifier) pickRegion(norm string, ms []RegionMatch) (RegionMatch, bool) {
	best, bestScore := -1, -1
	explicitLocal := false
	for _, m := range ms {
		if g, ok := c.regions.Get(m.Code); ok && !m.ViaVillage && g.Kind != KindProvince && c.regionCounts(norm, m) {
			explicitLocal = true
		}
	}
	for i, m := range ms {
		g, ok := c.regions.Get(m.Code)
		if !ok || !c.regionCounts(norm, m) {
			continue
		}
		if m.ViaVillage && (explicitLocal || !c.villageFits(norm, ms, g)) {
			continue
		}
		score := 0
		if g.Kind != KindProvince {
			score += 4
		}
		if len(m.Ambiguous) == 0 {
			score += 8
		}
		// Between two places named as plainly, the region's own name or a
		// district named as one ("kec sape") beats another alias, such as
		// a town ("di lembang pinrang" is Toraja's village word and
		// Kabupaten Pinrang, not Lembang in Bandung Barat); and a place the
		// text comes from ("SKPWNI dari ambon … capil maluku tengah")
		// yields to the place it is in.
		if m.ViaDistrict || c.regions.ownNamed(g.Code, m.Words) {
			score += 2
		}
		if originWord[wordAt(norm, m.Start-1)] {
			score--
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return RegionMatch{}, false
	}
	m := ms[best]
	// A bare name of both a city and a regency means the city, unless the
	// text is about a village: cities have kelurahan, regencies desa ("jalan
	// desa … di malang" is Kabupaten Malang).
	if len(m.Ambiguous) > 0 && hasVillageWord(norm) {
		if g, ok := c.regions.Get(m.Code); ok && g.Kind == KindCity {
			for _, alt := range m.Ambiguous {
				if a, ok := c.regions.Get(alt); ok && a.Kind == KindRegency && a.Province == g.Province {
					m.Code = alt
					break
				}
			}
		}
	}
	return m, true
}

// villageWord are words only a village (desa, in a regency) has.
var villageWord = map[string]bool{
	"desa": true, "dusun": true, "kades": true, "pemdes": true, "nagari": true, "gampong": true, "pekon": true,
}

// hasVillageWord reports whether the normalised text has a villageWord.
func hasVillageWord(norm string) bool {
	for w := range strings.FieldsSeq(norm) {
		if villageWord[w] {
			return true
		}
	}
	return false
}

// originWord before a place makes it where something comes from.
var originWord = map[string]bool{"dari": true, "asal": true}

// regionCounts reports whether match m names the region: not a name right
// after a street or village word, unless the name is the text's sign-off.
func (c *Classifier) regionCounts(norm string, m RegionMatch) bool {
	return m.SignOff || m.ViaDistrict || m.ViaVillage || !localPlaceWord[wordAt(norm, m.Start-1)] || regionWord[wordAt(norm, m.Start)]
}

// markSignOff sets SignOff on the region match that is the whole last
// sentence of the text: citizens sign off with their town after a full stop
// ("… lampu mati sebulan ke jalan. surabaya"), and normalising drops the
// stop, which would leave "jalan surabaya", a street. A stop after an
// abbreviation ("jl. surabaya", "kel. padang") ends no sentence.
func (c *Classifier) markSignOff(cmd parser.Command, ms []RegionMatch) {
	if len(ms) == 0 {
		return
	}
	tail, ok := lastSentence(cmd.Text)
	if !ok {
		return
	}
	words := c.parser.Normalize(tail)
	n := len(strings.FieldsFunc(cmd.Normalized, func(r rune) bool { return r < utf8.RuneSelf && !isWordByte(byte(r)) }))
	for i := range ms {
		if ms[i].End == n && ms[i].Words == words {
			ms[i].SignOff = true
		}
	}
}

// lastSentence returns the text after its last sentence break (".", "!",
// "?" or a line break, then a space or line break), when that is one to
// three words and the break ends a sentence (not "jl." or "no.").
func lastSentence(text string) (string, bool) {
	text = strings.TrimRight(text, " \t\r\n.!")
	cut := strings.LastIndexAny(text, ".!?\n")
	if cut < 0 || cut+1 >= len(text) {
		return "", false
	}
	if text[cut] != '\n' && text[cut+1] != ' ' && text[cut+1] != '\n' {
		return "", false // "3.5", "a.n."
	}
	tail := strings.TrimSpace(text[cut+1:])
	if n := len(strings.Fields(tail)); n == 0 || n > 3 || strings.ContainsAny(tail, "0123456789,;:") {
		return "", false
	}
	if text[cut] == '.' {
		before := strings.Fields(text[:cut])
		if len(before) == 0 || abbrevBeforeStop[strings.ToLower(before[len(before)-1])] {
			return "", false
		}
	}
	return tail, true
}

// abbrevBeforeStop are the abbreviations, written with a full stop, of the
// words that make a name after them a street, village or address part.
var abbrevBeforeStop = map[string]bool{
	"jl": true, "jln": true, "gg": true, "kel": true, "ds": true, "dsn": true, "kp": true, "kec": true,
	"kab": true, "perum": true, "komp": true, "blk": true, "no": true, "rt": true, "rw": true, "prov": true,
}

// villageFits reports whether a village in regency g agrees with the
// provinces the text names (true when it names none).
func (c *Classifier) villageFits(norm string, ms []RegionMatch, g Region) bool {
	named := false
	for _, o := range ms {
		if p, ok := c.regions.Get(o.Code); ok && p.Kind == KindProvince && !o.ViaVillage && c.regionCounts(norm, o) {
			named = true
			if p.Code == g.Province {
				return true
			}
		}
	}
	return !named
}

// applyRule resolves rule ru. provincial says the text names a provincial
// government: a regency-level rule then goes to the province.
func (c *Classifier) applyRule(r Route, ru *rule, region RegionMatch, regionOK, provincial bool) Route {
	if ru.agency != "" {
		a, _ := c.dir.Get(ru.agency)
		r.AgencyID = a.ID
		r.Explain = append(r.Explain, fmt.Sprintf("aturan %s → %s (%s)", ru.id, a.ID, a.Name))
		return r
	}
	levelName := map[string]string{LevelRegency: "kabupaten/kota", LevelProvince: "provinsi"}[ru.level]
	if !regionOK {
		if ru.otherwise != "" {
			a, _ := c.dir.Get(ru.otherwise)
			r.AgencyID = a.ID
			r.Explain = append(r.Explain, fmt.Sprintf("aturan %s: tingkat %s, wilayah tidak disebut → %s (%s)", ru.id, levelName, a.ID, a.Name))
			return r
		}
		return c.toTriage(r, fmt.Sprintf("aturan %s: tingkat %s, tetapi wilayah tidak disebut", ru.id, levelName))
	}
	g, _ := c.regions.Get(region.Code)
	code, note := region.Code, ""
	switch {
	case ru.level == LevelProvince:
		code = g.Province
	case provincial:
		code, note = g.Province, " (pemerintah provinsi disebut)"
	case c.admin[g.Province] && g.Kind != KindProvince:
		// Jakarta's cities are administrative: their services are the
		// province's.
		code, note = g.Province, " (kota/kabupaten administratif)"
	case g.Kind == KindProvince:
		// Only the province is known: its government supervises the
		// regencies and can pass the ticket on.
		note = " (hanya provinsi yang disebut)"
	}
	a, ok := c.dir.ForRegion(code)
	if !ok {
		return c.toTriage(r, fmt.Sprintf("aturan %s: tidak ada pemerintah daerah untuk wilayah %s", ru.id, code))
	}
	r.AgencyID = a.ID
	r.Explain = append(r.Explain, fmt.Sprintf("aturan %s: tingkat %s%s → %s (%s)", ru.id, levelName, note, a.ID, a.Name))
	return r
}

func (c *Classifier) toTriage(r Route, why string) Route {
	r.AgencyID = c.triage.ID
	r.Triage = true
	r.Explain = append(r.Explain, fmt.Sprintf("%s → %s (%s)", why, c.triage.ID, c.triage.Name))
	return r
}

// explainWords names the words that made the topic, strongest first.
func (c *Classifier) explainWords(s *routeScratch, topicIdx int, category string) string {
	type w struct {
		text   string
		weight float32
	}
	var ws []w
	for _, p := range s.seen {
		for _, x := range c.patterns[p].post {
			if int(x.topic) == topicIdx {
				ws = append(ws, w{c.patterns[p].text, x.weight})
			}
		}
	}
	for _, k := range s.combos {
		if cb := &c.combos[k]; int(cb.topic) == topicIdx {
			ws = append(ws, w{cb.text, cb.weight})
		}
	}
	slices.SortStableFunc(ws, func(a, b w) int {
		switch {
		case a.weight > b.weight:
			return -1
		case a.weight < b.weight:
			return 1
		}
		return 0
	})
	var b strings.Builder
	b.WriteString("kata ")
	for i, x := range ws {
		if i == 5 {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + x.text + "' +" + strconv.FormatFloat(float64(x.weight), 'f', 1, 32))
	}
	b.WriteString(" → " + category + " (topik " + c.topics[topicIdx].id + ")")
	return b.String()
}

func (c *Classifier) explainRegion(m RegionMatch) string {
	g, _ := c.regions.Get(m.Code)
	s := fmt.Sprintf("wilayah '%s' → %s %s", m.Words, m.Code, g.Name)
	if m.ViaDistrict {
		s += " (lewat kecamatan)"
	}
	if m.ViaVillage {
		s += " (lewat desa/kelurahan)"
	}
	if len(m.Ambiguous) > 0 {
		s += " (bisa juga " + strings.Join(m.Ambiguous, ", ") + ")"
	}
	return s
}

// guessRegion looks for a place the text names without the context words
// Match needs ("sd di pedalaman oki", "banjir di dayeuhkolot" written
// "banjir dayeuhkolot"): a word that is neither Indonesian (the stemmer's
// dictionary) nor a lexicon word, read as a district ("kecamatan w", also
// with the next word) or as a place-only alias ("di w"). Only an unambiguous
// match counts. It runs only when a rule needs a region and the text named
// none, so its cost and its risk are confined to texts that would otherwise
// go to the triage desk.
func (c *Classifier) guessRegion(norm string) (RegionMatch, bool) {
	words := strings.Fields(norm)
	if len(words) > maxRouteWords {
		words = words[:maxRouteWords]
	}
	if m, ok := c.placeAfterStreet(words); ok {
		return m, true
	}
	for i, w := range words {
		if !c.unknownWord(w) || (i > 0 && localPlaceWord[words[i-1]]) {
			continue
		}
		// The name may start at w ("oki", "pinyuh tapi") or one word
		// before it, an Indonesian word that begins many place names
		// ("sungai pinyuh", "tanjung pinang", "kota baru").
		for _, span := range [...][2]int{{i, 2}, {i - 1, 2}, {i, 1}} {
			from, n := span[0], span[1]
			if from < 0 || from+n > len(words) || (from < i && from > 0 && localPlaceWord[words[from-1]]) {
				continue
			}
			for _, prefix := range [...]string{"kecamatan ", "di "} {
				if m, ok := c.matchWhole(prefix, words, from, n); ok {
					return m, true
				}
			}
		}
	}
	return RegionMatch{}, false
}

// unknownWord reports whether w may be a name: a word of three or more
// letters that is neither Indonesian (the stemmer's dictionary) nor a
// lexicon word.
func (c *Classifier) unknownWord(w string) bool {
	return len(w) >= 3 && isASCIIWord(w) && !c.stem.dict.Contains(w) && !c.isTopicWord(w)
}

// matchWhole matches words[from:from+n] after prefix ("kecamatan ", "di ")
// and returns the match, placed at from, when it is the whole phrase, with
// or without the prefix word ("kecamatan kuta" names a district, "di oki"
// matches "oki" alone), and unambiguous.
func (c *Classifier) matchWhole(prefix string, words []string, from, n int) (RegionMatch, bool) {
	for _, m := range c.regions.Match(prefix + strings.Join(words[from:from+n], " ")) {
		if (m.Start == 0 || m.Start == 1) && m.End == 1+n && len(m.Ambiguous) == 0 {
			m.Start, m.End = from, from+n
			return m, true
		}
	}
	return RegionMatch{}, false
}

// placeAfterStreet finds a town named right after a street's or village's
// name: "jl diponegoro palu", "jalan khatib sulaiman padang", "desa
// sukamaju batu". Such a town is often also an Indonesian word (palu,
// padang, batu), which Match takes as a place only after a place word, and
// guessRegion only when it is not a word. Here the context is the street:
// a local place word, one or two words of name of which the last is no
// Indonesian word and no lexicon word (a proper name: "jalan rusak batu"
// is a damaged road and stones), then the place, matched as if after "di".
// Only an unambiguous match counts.
func (c *Classifier) placeAfterStreet(words []string) (RegionMatch, bool) {
	for i := 2; i < len(words); i++ {
		if !c.unknownWord(words[i-1]) || (!localPlaceWord[words[i-2]] && (i < 3 || !localPlaceWord[words[i-3]])) {
			continue
		}
		for _, n := range [...]int{2, 1} {
			if i+n > len(words) {
				continue
			}
			if m, ok := c.matchWhole("di ", words, i, n); ok {
				return m, true
			}
		}
	}
	return RegionMatch{}, false
}

// isTopicWord reports whether w is a word of a topic lexicon. A word that
// only a rule signal uses ("sentani" of an airport's name) may still be a
// place.
func (c *Classifier) isTopicWord(w string) bool {
	id := c.stem.id(w)
	return id >= 0 && int(id) < len(c.topicWord) && c.topicWord[id]
}

// regionKindWord are the words of a region match that say what kind of
// place follows (village, district, regency, city, province) rather than
// which one.
var regionKindWord = map[string]bool{
	"desa": true, "kelurahan": true, "dusun": true, "kampung": true, "nagari": true, "gampong": true,
	"kecamatan": true, "distrik": true, "kabupaten": true, "kota": true, "provinsi": true,
}

// localPlaceWord are words that make the name after them a street, village
// or estate name.
var localPlaceWord = map[string]bool{
	"jalan": true, "gang": true, "kelurahan": true, "desa": true, "dusun": true,
	"kampung": true, "perumahan": true, "kompleks": true, "blok": true, "rt": true, "rw": true,
}

// regionWord are words that make the name after them a region whatever
// precedes them ("kelurahan kota bekasi" is in Kota Bekasi).
var regionWord = map[string]bool{"kota": true, "kabupaten": true, "provinsi": true}

// wordAt returns the i-th space-separated word of a normalised text, or "".
func wordAt(norm string, i int) string {
	if i < 0 {
		return ""
	}
	for n := 0; ; n++ {
		j := strings.IndexByte(norm, ' ')
		if n == i {
			if j < 0 {
				return norm
			}
			return norm[:j]
		}
		if j < 0 {
			return ""
		}
		norm = norm[j+1:]
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

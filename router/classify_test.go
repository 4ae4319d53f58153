package router

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const classifierTestDir = "../configs/routing"

var (
	testClassifierOnce sync.Once
	testClassifier     *Classifier
	testClassifierErr  error
)

// sharedClassifier loads the repository's routing configuration once.
func sharedClassifier(t testing.TB) *Classifier {
	t.Helper()
	testClassifierOnce.Do(func() {
		testClassifier, testClassifierErr = LoadClassifier(ClassifierConfig{Dir: classifierTestDir})
	})
	if testClassifierErr != nil {
		t.Fatalf("LoadClassifier: %v", testClassifierErr)
	}
	return testClassifier
}

func mainOf(category string) string {
	m, _, _ := strings.Cut(category, " > ")
	return strings.ReplaceAll(m, "\u00a0", " ")
}

func TestRoute(t *testing.T) {
	c := sharedClassifier(t)
	tests := []struct {
		name     string
		text     string
		category string // main category, ordinary spaces
		agency   string
		region   string
		triage   bool
	}{
		{"national road goes to the ministry", "jln nasional lintas sumatera di kab dharmasraya berlubang besar, sdh bnyk kecelakaan",
			"PEKERJAAN UMUM DAN PENATAAN RUANG", "kemen-pu", "13.10", false},
		{"village road goes to the regency", "jalan desa di kec soreang kab bandung rusak parah tlg diperbaiki",
			"PEKERJAAN UMUM DAN PENATAAN RUANG", "pemkab-32.04", "32.04", false},
		{"provincial road goes to the province", "jalan provinsi di kab garut amblas, tolong pemprov segera perbaiki",
			"PEKERJAAN UMUM DAN PENATAAN RUANG", "pemprov-32", "32.05", false},
		{"road with no place goes to triage", "jalan depan rumah rusak parah berlubang",
			"PEKERJAAN UMUM DAN PENATAAN RUANG", TriageAgency, "", true},
		{"SD goes to the regency", "SDN 3 di kab garut minta uang seragam 500rb ke wali murid",
			"PENDIDIKAN DAN KEBUDAYAAN", "pemkab-32.05", "32.05", false},
		{"SMA goes to the province", "SMA negeri 1 di kota bandung pungut uang komite 2jt per siswa",
			"PENDIDIKAN DAN KEBUDAYAAN", "pemprov-32", "32.73", false},
		{"PBB is a regency tax", "tagihan PBB rumah sy di kota bogor naik 3x lipat tahun ini",
			"EKONOMI DAN KEUANGAN", "pemkot-32.71", "32.71", false},
		{"NPWP is a central tax", "npwp sy tdk bisa login coretax sdh 2 minggu, mau lapor spt",
			"EKONOMI DAN KEUANGAN", "djp", "", false},
		{"KTP-el is the regency's Dukcapil", "ktp el sy blm jadi 6 bln di disdukcapil kab bogor, katanya blanko habis",
			"KEPENDUDUKAN", "pemkab-32.01", "32.01", false},
		{"a NIK missing from the central data is Ditjen Dukcapil", "NIK sy tidak terdaftar di data pusat pas daftar bpjs, padahal ktp sdh el",
			"KEPENDUDUKAN", "ditjen-dukcapil", "", false},
		{"an agency keyword wins", "TANGKAB lampu jalan di perumahan mati semua",
			"PEKERJAAN UMUM DAN PENATAAN RUANG", "pemkab-36.03", "36.03", false},
		{"electricity goes to PLN wherever it is", "listrik padam terus tiap malam di kota medan",
			"ENERGI DAN SUMBER DAYA ALAM", "pln", "12.71", false},
		{"Jakarta's cities are the province's", "sampah menumpuk di kel kebon jeruk jakbar tdk diangkut seminggu",
			"LINGKUNGAN HIDUP DAN KEHUTANAN", "pemprov-31", "31.73", false},
		{"no topic goes to triage", "selamat pagi bapak presiden semoga sehat selalu",
			"TOPIK LAINNYA", TriageAgency, "", true},
		{"a named provincial government takes a local matter", "sampah di tpa kab gianyar menggunung tdk diangkut, pemprov bali tolong turun tangan",
			"LINGKUNGAN HIDUP DAN KEHUTANAN", "pemprov-51", "51.04", false},
		{"an InJourney airport is Angkasa Pura's", "toilet bandara juanda kotor sekali dan bau",
			"PERHUBUNGAN", "angkasa-pura", "", false},
		{"another airport is the ministry's", "ruang tunggu bandara di kab nabire sempit, penumpang berdiri berjam jam",
			"PERHUBUNGAN", "kemenhub", "94.01", false},
		{"an SMA without a place goes to triage", "guru matematika sma negeri jarang masuk kelas sebulan ini",
			"PENDIDIKAN DAN KEBUDAYAAN", TriageAgency, "", true},
		{"a civil servant breaking the mudik ban is KemenPAN-RB's", "pns di kantor dinas tetap mudik pakai mobil dinas padahal ada larangan mudik",
			"PENIADAAN MUDIK", "kemenpan-rb", "", false},
		// Extortion of boats and fishermen is PERAIRAN (the labelled sets
		// agree); at a port it is the ministry's.
		{"pungli at a port is the ministry's", "pungli di pelabuhan kab rembang, kapal nelayan diminta uang tiap sandar",
			"PERAIRAN", "kemenhub", "33.17", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := c.Route(tt.text)
			if got := mainOf(r.Category); got != tt.category || r.AgencyID != tt.agency || r.Region != tt.region || r.Triage != tt.triage {
				t.Errorf("Route(%q) = %q, %s, region %q, triage %v; want %q, %s, region %q, triage %v\n%s",
					tt.text, got, r.AgencyID, r.Region, r.Triage, tt.category, tt.agency, tt.region, tt.triage, strings.Join(r.Explain, "\n"))
			}
		})
	}
}

func TestRouteCategoryExact(t *testing.T) {
	c := sharedClassifier(t)
	_, r := c.Route("pupuk subsidi langka di kios, petani tdk bisa tanam")
	main, sub, _ := strings.Cut(r.Category, " > ")
	subs, ok := c.categories[main]
	if !ok {
		t.Fatalf("category %q: main is not byte-exact from %s", r.Category, CategoriesFile)
	}
	if sub != "" && !containsString(subs, sub) {
		t.Fatalf("category %q: %q is not a sub-category of %q", r.Category, sub, main)
	}
	if want := "PERTANIAN\u00a0DAN\u00a0PETERNAKAN"; main != want {
		t.Fatalf("main = %q, want %q (with no-break spaces)", main, want)
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestRouteFlagsPassThrough(t *testing.T) {
	c := sharedClassifier(t)
	cmd, r := c.Route("ANONIM #rahasia pungli di kantor kelurahan kota bekasi urus surat 200rb")
	if !cmd.Anonim || !cmd.Rahasia {
		t.Errorf("Anonim=%v Rahasia=%v, want both", cmd.Anonim, cmd.Rahasia)
	}
	if strings.Contains(cmd.Normalized, "anonim") || strings.Contains(cmd.Normalized, "rahasia") {
		t.Errorf("Normalized %q still holds the flags", cmd.Normalized)
	}
	if r.AgencyID != "pemkot-32.75" {
		t.Errorf("agency %s, want pemkot-32.75\n%s", r.AgencyID, strings.Join(r.Explain, "\n"))
	}
}

func TestRouteExplains(t *testing.T) {
	c := sharedClassifier(t)
	_, r := c.Route("jln rusak parah di kab bandung tlg diperbaiki")
	all := strings.Join(r.Explain, "\n")
	for _, want := range []string{"'jalan rusak parah'", "wilayah 'kabupaten bandung' → 32.04", "aturan jalan-lokal", "pemkab-32.04"} {
		if !strings.Contains(all, want) {
			t.Errorf("explanation lacks %q:\n%s", want, all)
		}
	}
	_, r = c.Route("TANGKAB jalan berlubang")
	if all := strings.Join(r.Explain, "\n"); !strings.Contains(all, "kata kunci TANGKAB → pemkab-36.03") {
		t.Errorf("keyword explanation missing:\n%s", all)
	}
}

func TestRouteBelowThresholdGoesToTriage(t *testing.T) {
	strict, err := LoadClassifier(ClassifierConfig{Dir: classifierTestDir, MinConfidence: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	_, r := strict.Route("jalan desa di kec soreang kab bandung rusak parah")
	if r.AgencyID != TriageAgency || !r.Triage || r.Category == OtherCategory || r.Region != "32.04" {
		t.Errorf("got %+v; want triage with the category and region kept", r)
	}
}

// copyRouting copies the routing directory to a temporary one, replacing
// the named files' contents through edit.
func copyRouting(t *testing.T, edit map[string]func(string) string) ClassifierConfig {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{CategoriesFile, SlangFile, TopicsFile, RulesFile} {
		b, err := os.ReadFile(filepath.Join(classifierTestDir, f))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if e := edit[f]; e != nil {
			s = e(s)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ClassifierConfig{Dir: dir, Regions: filepath.Join(classifierTestDir, "..", "regions"), Agencies: filepath.Join(classifierTestDir, "..", "agencies.yaml")}
}

func TestLoadClassifierReportsEveryProblem(t *testing.T) {
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("fixture: %q not found", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	cfg := copyRouting(t, map[string]func(string) string{
		TopicsFile: func(s string) string {
			s = replace("category: PEKERJAAN UMUM DAN PENATAAN RUANG\n    sub: INFRASTRUKTUR JALAN", "category: PEKERJAAN JALAN\n    sub: INFRASTRUKTUR JALAN")(s)
			s = replace("  - gaji buta\n", "  - gaji buta\n  - jembatan roboh\n")(s)
			return replace("      jembatan putus: 5", "      jembatan putus: 50")(s)
		},
		RulesFile: replace("agency: kemen-pu\n  - id: jalan-provinsi", "agency: kemen-jalan\n  - id: jalan-provinsi"),
		SlangFile: replace("  yg: yang\n", "  yg: yang\n  yag: yg\n"),
	})
	_, err := LoadClassifier(cfg)
	if err == nil {
		t.Fatal("LoadClassifier accepted broken files")
	}
	msg := err.Error()
	for _, want := range []string{
		`topics.yaml: topics[0] (jalan).category: "PEKERJAAN JALAN" is not a main category`,
		`topics.yaml: topics[`, `jembatan putus`, `weight "50"`,
		`rules.yaml: rules[1] (jalan-nasional).agency: "kemen-jalan" is not an agency of the directory`,
		`slang.yaml: slang.yag: expansion word "yg" is itself a key`,
		`topics.yaml: neutral: "jembatan roboh" is also a term of topic jembatan`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestLoadClassifierRejectsUnknownTopicInRule(t *testing.T) {
	cfg := copyRouting(t, map[string]func(string) string{
		RulesFile: func(s string) string {
			return strings.Replace(s, "topics: [kereta]", "topics: [kereta, kapal-selam]", 1)
		},
	})
	_, err := LoadClassifier(cfg)
	if err == nil || !strings.Contains(err.Error(), `rules.yaml: rules[`) || !strings.Contains(err.Error(), `"kapal-selam" is not a topic`) {
		t.Fatalf("err = %v, want the unknown topic named", err)
	}
}

func TestStemExceptions(t *testing.T) {
	st := newStemmer([]string{"pemadaman"})
	for w, want := range map[string]string{
		"pemadaman":    "pemadaman", // the stemmer alone makes "adam"
		"pemadamannya": "pemadaman",
		"berlubang":    "lubang",
		"jalanan":      "jalan",
		"rs":           "rs",
		"covid19":      "covid19",
	} {
		if got := st.stemWord(w); got != want {
			t.Errorf("stem(%q) = %q, want %q", w, got, want)
		}
	}
}

func FuzzRoute(f *testing.F) {
	c := sharedClassifier(f)
	for _, s := range []string{
		"", " ", "#", "TANGKAB", "tangkab.", "ANONIM", "jln rusak parah di kab bandung",
		"KAB. NGANJUK#jalan berlubang", "CEK 1234567890", "terima kasih", "rusakkkkk jalannnn",
		"\xff\xfe", "🙏🙏", strings.Repeat("jalan ", 400), "listrik padam kota medan\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, r := c.Route(text)
		if r.AgencyID == "" {
			t.Fatalf("Route(%q): empty agency", text)
		}
		if _, ok := c.dir.Get(r.AgencyID); !ok {
			t.Fatalf("Route(%q): agency %q not in the directory", text, r.AgencyID)
		}
		main, sub, _ := strings.Cut(r.Category, " > ")
		subs, ok := c.categories[main]
		if !ok || (sub != "" && !containsString(subs, sub)) {
			t.Fatalf("Route(%q): category %q not in the reference", text, r.Category)
		}
		if r.Confidence < 0 || r.Confidence > 1 {
			t.Fatalf("Route(%q): confidence %v", text, r.Confidence)
		}
		if r.Triage && r.AgencyID != TriageAgency {
			t.Fatalf("Route(%q): triage flag %v with agency %s", text, r.Triage, r.AgencyID)
		}
	})
}

// benchTexts are typical complaints: short, abbreviated, some with a place.
var benchTexts = []string{
	"jln rusak parah di kab bandung tlg diperbaiki",
	"listrik padam terus tiap malam di kota medan sdh 3 hari",
	"anak sy di SMA 1 dipungut uang komite 2jt di kota bandung",
	"ktp el blm jadi 6 bln di kec soreang, katanya blanko habis",
	"pupuk subsidi langka di kios, petani tdk bisa tanam",
	"pinjol ilegal teror keluarga sy, data disebar ke semua kontak",
	"sampah menumpuk di pasar kota bekasi tdk diangkut seminggu, bau sekali",
	"BPJS sy nonaktif pdhl bayar tiap bulan, di rsud disuruh bayar umum",
	"TANGKAB lampu jalan di perumahan mati semua",
	"selamat pagi pak presiden semoga sehat selalu",
}

// BenchmarkRoute measures whole decisions (parse, regions, topics, rules,
// explanation) on typical texts; decisions/s is per core (one goroutine).
func BenchmarkRoute(b *testing.B) {
	c := sharedClassifier(b)
	for _, s := range benchTexts { // warm the stem cache, as a running daemon is
		c.Route(s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Route(benchTexts[i%len(benchTexts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// The words of the category tree's own names count as weak evidence, with
// no lexicon entry: several of them make a category, one alone is no topic.
func TestRouteTaxonomyWords(t *testing.T) {
	c := sharedClassifier(t)
	tests := []struct {
		text, category string
		triage         bool
	}{
		{"ventilator dan pcr kit habis", "CORONA VIRUS", false},
		{"ventilator rusak", OtherCategory, true},
	}
	for _, tt := range tests {
		_, r := c.Route(tt.text)
		if mainOf(r.Category) != tt.category || r.Triage != tt.triage {
			t.Errorf("Route(%q) = %q triage %v, want %q triage %v (%v)", tt.text, r.Category, r.Triage, tt.category, tt.triage, r.Explain)
		}
	}
}

// A district named without "kec" is found when a rule needs a region, but
// only from a word that is not Indonesian: "pasar" is no place. So is a
// town that is also a word, when it follows a street's name.
func TestRouteGuessesRegionWithoutContext(t *testing.T) {
	c := sharedClassifier(t)
	tests := []struct{ text, agency, region string }{
		{"banjir setinggi pinggang di dayeuhkolot tiap musim hujan, bpbd lambat evakuasi", "pemkab-32.04", "32.04"},
		{"got depan pasar mampet, tiap hujan banjir", TriageAgency, ""},
		// "di oki": a place-only alias read without the word "di".
		{"jalan desa di pedalaman oki rusak parah tdk bisa dilewati", "pemkab-16.02", "16.02"},
		// A two-word district name whose first word is Indonesian.
		{"lampu jalan depan sekolah sungai pinyuh mati semua", "pemkab-61.02", "61.02"},
		// A town that is also a word (palu, padang), right after a street's
		// name: the street, then the town.
		{"lampu jalan mati di jl diponegoro palu sudah 2 minggu", "pemkot-72.71", "72.71"},
		{"jalan berlubang di jl khatib sulaiman padang tolong ditambal", "pemkot-13.71", "13.71"},
		// Not after a word: a damaged road and stones, no town.
		{"jalan rusak batu berserakan, motor sering jatuh", TriageAgency, ""},
	}
	for _, tt := range tests {
		_, r := c.Route(tt.text)
		if r.AgencyID != tt.agency || r.Region != tt.region {
			t.Errorf("Route(%q) = %s region %q, want %s region %q (%v)", tt.text, r.AgencyID, r.Region, tt.agency, tt.region, r.Explain)
		}
	}
}

// A village named after a village word routes to its regency, unless the
// text names a place explicitly.
// TestRoutePicksThePlaceMeant: of two places named alike, the region's own
// name beats a town alias of another, and where the text comes from yields
// to where it is.
func TestRoutePicksThePlaceMeant(t *testing.T) {
	c := sharedClassifier(t)
	tests := []struct{ text, agency, region string }{
		{"irigasi tersier sawah kami di lembang pinrang jebol", "pemkab-73.15", "73.15"},
		{"irigasi tersier sawah kami di lembang jebol", "pemkab-32.17", "32.17"},
		{"SKPWNI dr ambon sdh ada tp capil maluku tengah blm terbitkan KK baru", "pemkab-81.01", "81.01"},
		{"capil ambon blm terbitkan KK baru, sdh sebulan", "pemkot-81.71", "81.71"},
		{"rsud moewardi kls 3 penuh, ibu sy 2 hari di lorong IGD", "pemprov-33", "33.72"},
		{"klotok penyeberangan di marabahan tdk ada pelampung", "pemkab-63.04", "63.04"},
		{"pkm di kec sape sdh 3 bln tdk ada dokter, pasien parah hrs dibawa ke kota bima", "pemkab-52.06", "52.06"},
		{"LAMPU JALAN DARI JAM GADANG KE PASAR BAWAH BNYK YG PADAM", "pemkot-13.75", "13.75"},
		{"gaji PPPK paruh waktu pemkab sumbawa blm dibayar dr januari", "pemkab-52.04", "52.04"},
		{"jalan ka lembur jampangkulon sukabumi ruksak, lubangna sagede", "pemkab-32.02", "32.02"},
		{"jalan ke kantor pos sukabumi ruksak, lubangna sagede", "pemkot-32.72", "32.72"},
		{"jalan desa kami di malang rusak parah", "pemkab-35.07", "35.07"},
		{"jalan di malang rusak parah", "pemkot-35.73", "35.73"},
		{"guru di SMPN 3 sungai penuh sering tdk masuk, murid pulang pagi", "pemkot-15.72", "15.72"},
		{"panti sosial lansia milik dinsos provinsi kaltim di samarinda, makanan cuma nasi", "pemprov-64", "64.72"},
		{"kapal penyeberangan di kab barito kuala tdk ada pelampung", "kemenhub", "63.04"},
	}
	for _, tt := range tests {
		_, r := c.Route(tt.text)
		if r.AgencyID != tt.agency || r.Region != tt.region {
			t.Errorf("Route(%q) = %s region %q, want %s region %q\n%s", tt.text, r.AgencyID, r.Region, tt.agency, tt.region, strings.Join(r.Explain, "\n"))
		}
	}
}

// TestRouteRegionalWords: everyday words of regional speech reach the
// lexicon through the slang table, and "ka" (the regional "ke") is no train.
func TestRouteRegionalWords(t *testing.T) {
	c := sharedClassifier(t)
	checkMainAndAgency(t, c, []mainAgencyCase{
		{"dalan kampung nang kota madiun ajur, nek udan dadi blumbang", "PEKERJAAN UMUM DAN PENATAAN RUANG", "pemkot-35.77"},
		{"banyu ledeng di martapura kab banjar karuh wan bahabu, kada kawa gasan mandi", "ENERGI DAN SUMBER DAYA ALAM", "pemkab-63.03"},
		{"pak, beta mau lapor mar seng tau musti ka mana", OtherCategory, TriageAgency},
		{"KA sri lelawangsa medan-binjai telat trs 1 jam, ac mati", "PERHUBUNGAN", "kai"},
	})
}

// TestRouteNeutralPhrases: a plea or an idiom that holds a topic word is no
// topic, and the same word still counts beside a real one.
func TestRouteNeutralPhrases(t *testing.T) {
	c := sharedClassifier(t)
	checkMainAndAgency(t, c, []mainAgencyCase{
		{"mohon bantuannya pak", OtherCategory, TriageAgency},
		{"BAPAK IBU PEJABAT MAKAN GAJI BUTA SEMUA", OtherCategory, TriageAgency},
		{"kapan dananya cair pak sdh lama nunggu", OtherCategory, TriageAgency},
		{"SELAMAT HARI RAYA IDUL FITRI BAPAK GUBERNUR & KELUARGA, MOHON MAAF LAHIR BATIN", OtherCategory, TriageAgency},
		{"BLT desa kapan cair pak? desa sebelah sdh dr bulan lalu", "PEMBANGUNAN DESA, DAERAH TERTINGGAL, DAN TRANSMIGRASI", TriageAgency},
		{"pemerintah pusat wajibkan 20% dana desa utk ketahanan pangan", "PEMBANGUNAN DESA, DAERAH TERTINGGAL, DAN TRANSMIGRASI", "kemendes"},
		{"mohon bantuan pak, PKH sy sdh 3 bulan tdk cair", "SOSIAL DAN KESEJAHTERAAN", "kemensos"},
		{"gaji sy di pabrik belum dibayar 3 bulan, mohon bantuan", "KETENAGAKERJAAN", "kemnaker"},
	})
}

// mainAgencyCase is a text with the main category and agency it must get.
type mainAgencyCase struct{ text, category, agency string }

// checkMainAndAgency routes each text and compares its main category (plain
// spaces) and agency.
func checkMainAndAgency(t *testing.T, c *Classifier, cases []mainAgencyCase) {
	t.Helper()
	for _, tt := range cases {
		_, r := c.Route(tt.text)
		main, _, _ := strings.Cut(strings.ReplaceAll(r.Category, "\u00a0", " "), " > ")
		if main != tt.category || r.AgencyID != tt.agency {
			t.Errorf("Route(%q) = %q %s, want %q %s\n%s", tt.text, r.Category, r.AgencyID, tt.category, tt.agency, strings.Join(r.Explain, "\n"))
		}
	}
}

// TestRouteKindWordStaysATopicWord: the kind word of a place ("desa
// lamajang", "kabupaten malang") names where, and is still a word of the
// complaint: a village road, a village head.
func TestRouteKindWordStaysATopicWord(t *testing.T) {
	c := sharedClassifier(t)
	tests := []struct{ text, category string }{
		{"kepala desa lamajang tidak pernah masuk kantor", "PEMBANGUNAN DESA, DAERAH TERTINGGAL, DAN TRANSMIGRASI > PEMERINTAHAN DESA"},
		{"kades ds lamajang tdk pernah ngantor", "PEMBANGUNAN DESA, DAERAH TERTINGGAL, DAN TRANSMIGRASI > PEMERINTAHAN DESA"},
		{"jln ds lamajang kyk sawah kalo hujan", "PEKERJAAN UMUM DAN PENATAAN RUANG > INFRASTRUKTUR JALAN"},
	}
	for _, tt := range tests {
		_, r := c.Route(tt.text)
		if strings.ReplaceAll(r.Category, "\u00a0", " ") != tt.category || r.Region != "32.04" {
			t.Errorf("Route(%q) = %q region %q, want %q region 32.04\n%s", tt.text, r.Category, r.Region, tt.category, strings.Join(r.Explain, "\n"))
		}
	}
}

func TestRouteVillage(t *testing.T) {
	c := sharedClassifier(t)
	const sampah = "sampah menumpuk tidak diangkut di "
	tests := []struct{ name, text, agency, region string }{
		{"village alone", sampah + "ds lamajang", "pemkab-32.04", "32.04"},
		{"village in the named province", sampah + "ds lamajang jabar", "pemkab-32.04", "32.04"},
		{"explicit regency wins", sampah + "ds lamajang kab bogor", "pemkab-32.01", "32.01"},
		{"explicit district wins", sampah + "ds lamajang kec cibinong", "pemkab-32.01", "32.01"},
		{"province elsewhere wins", sampah + "ds lamajang jatim", "pemprov-35", "35"},
		{"ambiguous village name", sampah + "desa sukamaju", TriageAgency, ""},
		{"village named like a regency elsewhere", sampah + "desa kubu raya", TriageAgency, ""},
		{"everyday word", sampah + "desa kami", TriageAgency, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := c.Route(tt.text)
			if r.AgencyID != tt.agency || r.Region != tt.region {
				t.Errorf("Route(%q) = %s region %q, want %s region %q\n%s", tt.text, r.AgencyID, r.Region, tt.agency, tt.region, strings.Join(r.Explain, "\n"))
			}
		})
	}
}

// A town alone after the last full stop is the citizen's sign-off, even
// after a street word; without the stop, or after "jl.", it is a street.
func TestRouteSignOffAfterFullStop(t *testing.T) {
	c := sharedClassifier(t)
	tests := []struct{ text, agency, region string }{
		{"lampu jalan depan gang mati sebulan, gelap sekali kalau malam ke jalan. semarang", "pemkot-33.74", "33.74"},
		{"lampu jalan depan gang mati sebulan!\nSemarang", "pemkot-33.74", "33.74"},
		{"lampu jalan depan rumah mati sebulan di jalan semarang", TriageAgency, ""},
		{"lampu jalan mati sebulan di jl. semarang", TriageAgency, ""},
	}
	for _, tt := range tests {
		_, r := c.Route(tt.text)
		if r.AgencyID != tt.agency || r.Region != tt.region {
			t.Errorf("Route(%q) = %s region %q, want %s region %q\n%s", tt.text, r.AgencyID, r.Region, tt.agency, tt.region, strings.Join(r.Explain, "\n"))
		}
	}
}

func TestLastSentence(t *testing.T) {
	tests := []struct {
		text, tail string
		ok         bool
	}{
		{"kabel menjuntai ke jalan. surabaya", "surabaya", true},
		{"kabel menjuntai ke jalan. Kota Surabaya.", "Kota Surabaya", true},
		{"air mati 3 hari!\nbandar lampung", "bandar lampung", true},
		{"lampu mati di jl. surabaya", "", false},               // an abbreviation's stop
		{"lampu mati di Kel. Padang Besi", "", false},           // likewise
		{"pajak naik 3.5 persen", "", false},                    // no sentence break
		{"air mati. sudah lapor ke pdam tapi belum", "", false}, // more than three words
		{"air mati. rt 05 rw 02", "", false},                    // digits: an address, not a town
		{"surabaya", "", false},                                 // one sentence only
	}
	for _, tt := range tests {
		tail, ok := lastSentence(tt.text)
		if tail != tt.tail || ok != tt.ok {
			t.Errorf("lastSentence(%q) = %q, %v; want %q, %v", tt.text, tail, ok, tt.tail, tt.ok)
		}
	}
}

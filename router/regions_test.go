package router

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const regionsDir = "../configs/regions"

var (
	realRegionsOnce sync.Once
	realRegions     *Regions
	realRegionsErr  error
)

// loadRealRegions loads configs/regions once for the whole package.
func loadRealRegions(t testing.TB) *Regions {
	t.Helper()
	realRegionsOnce.Do(func() { realRegions, realRegionsErr = LoadRegions(regionsDir) })
	if realRegionsErr != nil {
		t.Fatalf("LoadRegions(%s): %v", regionsDir, realRegionsErr)
	}
	return realRegions
}

func TestLoadRegionsCounts(t *testing.T) {
	r := loadRealRegions(t)
	if got := len(r.Provinces()); got != 38 {
		t.Errorf("provinces = %d, want 38", got)
	}
	var regencies, cities int
	for _, g := range r.Regencies() {
		switch g.Kind {
		case KindRegency:
			regencies++
		case KindCity:
			cities++
		}
	}
	if regencies != 416 || cities != 98 {
		t.Errorf("regencies, cities = %d, %d, want 416, 98", regencies, cities)
	}
	if r.Len() != 38+514 {
		t.Errorf("Len = %d, want 552", r.Len())
	}
	if r.Districts() != 7285 {
		t.Errorf("Districts = %d, want 7285", r.Districts())
	}
	// scripts/gen-regions keeps the village names that tell one regency.
	if n := r.Villages(); n < 50000 || n > 60000 {
		t.Errorf("Villages = %d, want the ~53,700 useful names of villages.csv", n)
	}
}

func TestRegionsMatchVillages(t *testing.T) {
	r := loadRealRegions(t)
	type villageWant struct {
		Code, Words string
		Village     bool
	}
	tests := []struct {
		name, text string
		want       []villageWant
	}{
		{"desa", "jalan rusak di desa lamajang tolong", []villageWant{{"32.04", "desa lamajang", true}}},
		{"ds short form", "jalan rusak ds lamajang", []villageWant{{"32.04", "ds lamajang", true}}},
		{"kelurahan, two words", "banjir di kelurahan sungai miai", []villageWant{{"63.71", "kelurahan sungai miai", true}}},
		{"kel short form", "anjing liar di kel oesapa", []villageWant{{"53.71", "kel oesapa", true}}},
		{"kampung in papua", "sekolah di kampung wasur tutup", []villageWant{{"93.01", "kampung wasur", true}}},
		{"name without village word", "jalan rusak di lamajang", nil},
		{"ambiguous name: many regencies", "jalan rusak di desa sukamaju", nil},
		{"everyday word", "jalan desa kami rusak", nil},
		{"village named like a regency elsewhere", "banjir di desa kubu raya", []villageWant{{"61.12", "kubu raya", false}}},
		{"village named like a district elsewhere", "banjir di desa laut tawar", nil},
		{"district keeps its name", "banjir di kec laut tawar", []villageWant{{"11.04", "kec laut tawar", false}}},
		{"village and regency both reported", "desa lamajang kab bogor", []villageWant{{"32.04", "desa lamajang", true}, {"32.01", "kab bogor", false}}},
		{"village resolves a bare name", "desa lamajang bandung", []villageWant{{"32.04", "desa lamajang", true}, {"32.04", "bandung", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []villageWant
			for _, m := range r.Match(tt.text) {
				got = append(got, villageWant{m.Code, m.Words, m.ViaVillage})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestRegionsGet(t *testing.T) {
	r := loadRealRegions(t)
	tests := []struct {
		code string
		want Region
	}{
		{"32", Region{Code: "32", Name: "Jawa Barat", Kind: KindProvince, Province: "32", Short: "Jabar"}},
		{"32.04", Region{Code: "32.04", Name: "Kabupaten Bandung", Kind: KindRegency, Province: "32", Short: "Bandung"}},
		{"32.73", Region{Code: "32.73", Name: "Kota Bandung", Kind: KindCity, Province: "32", Short: "Bandung"}},
		{"31.74", Region{Code: "31.74", Name: "Kota Administrasi Jakarta Selatan", Kind: KindCity, Province: "31", Short: "Jaksel"}},
		{"96.71", Region{Code: "96.71", Name: "Kota Sorong", Kind: KindCity, Province: "96", Short: "Sorong"}},
	}
	for _, tt := range tests {
		got, ok := r.Get(tt.code)
		if !ok {
			t.Errorf("Get(%q): not found", tt.code)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Get(%q) (-want +got):\n%s", tt.code, diff)
		}
	}
	for _, code := range []string{"", "3", "32.99", "99", "32.04.01"} {
		if _, ok := r.Get(code); ok {
			t.Errorf("Get(%q) found a region", code)
		}
	}
}

type matchWant struct {
	Code      string
	Words     string
	Ambiguous []string
	District  bool
}

func simplify(ms []RegionMatch) []matchWant {
	var out []matchWant
	for _, m := range ms {
		out = append(out, matchWant{Code: m.Code, Words: m.Words, Ambiguous: m.Ambiguous, District: m.ViaDistrict})
	}
	return out
}

func TestRegionsMatch(t *testing.T) {
	r := loadRealRegions(t)
	tests := []struct {
		name string
		text string
		want []matchWant
	}{
		{"kab prefix means the regency", "jalan rusak di kab bandung", []matchWant{{Code: "32.04", Words: "kab bandung"}}},
		{"kabupaten spelled out", "jalan rusak di kabupaten bandung parah", []matchWant{{Code: "32.04", Words: "kabupaten bandung"}}},
		{"kota prefix means the city", "lampu jalan mati di kota bandung", []matchWant{{Code: "32.73", Words: "kota bandung"}}},
		{"bare shared name prefers the city", "jalan rusak di bandung", []matchWant{{Code: "32.73", Words: "bandung", Ambiguous: []string{"32.04"}}}},
		{"bare shared name with a province stays ambiguous", "banjir di bekasi jabar", []matchWant{
			{Code: "32.75", Words: "bekasi", Ambiguous: []string{"32.16"}}, {Code: "32", Words: "jabar"}}},
		{"longest phrase wins", "sampah di kab bandung barat", []matchWant{{Code: "32.17", Words: "kab bandung barat"}}},
		{"jaksel", "banjir di jaksel", []matchWant{{Code: "31.74", Words: "jaksel"}}},
		{"jakarta selatan", "banjir di jakarta selatan", []matchWant{{Code: "31.74", Words: "jakarta selatan"}}},
		{"jakarta is the province", "macet di jakarta", []matchWant{{Code: "31", Words: "jakarta"}}},
		{"jateng", "pupuk langka di jateng", []matchWant{{Code: "33", Words: "jateng"}}},
		{"province name", "jalan provinsi jawa timur rusak", []matchWant{{Code: "35", Words: "provinsi jawa timur"}}},
		{"province name alone", "banjir jawa timur", []matchWant{{Code: "35", Words: "jawa timur"}}},
		{"provinsi prefix", "gubernur provinsi sumatera utara", []matchWant{{Code: "12", Words: "provinsi sumatera utara"}}},
		{"sumatra spelling", "banjir sumatra barat", []matchWant{{Code: "13", Words: "sumatra barat"}}},
		{"jogja is the city first", "pungli di jogja", []matchWant{{Code: "34.71", Words: "jogja", Ambiguous: []string{"34"}}}},
		{"diy", "pungli di diy", []matchWant{{Code: "34", Words: "diy"}}},
		{"province and city share a name", "jalan di jambi", []matchWant{{Code: "15.71", Words: "jambi", Ambiguous: []string{"15"}}}},
		{"unique district after kec", "jalan rusak di kec cileunyi", []matchWant{{Code: "32.04", Words: "kec cileunyi", District: true}}},
		{"shared district that is a capital", "jalan rusak di kec soreang", []matchWant{{Code: "32.04", Words: "kec soreang", District: true}}},
		{"unique district after kecamatan", "di kecamatan pasar minggu banjir", []matchWant{{Code: "31.74", Words: "kecamatan pasar minggu", District: true}}},
		{"district resolves a bare shared name", "kecamatan cileunyi bandung", []matchWant{
			{Code: "32.04", Words: "kecamatan cileunyi", District: true}, {Code: "32.04", Words: "bandung"}}},
		{"shared district dropped without context", "jalan di kec cisarua rusak", nil},
		{"shared district resolved by its regency", "jalan di kec cisarua kab bogor", []matchWant{
			{Code: "32.01", Words: "kec cisarua", District: true}, {Code: "32.01", Words: "kab bogor"}}},
		{"bare district name is not matched", "pasar minggu depan ramai", nil},
		{"district name that is a common word", "balai desa rusak", nil},
		{"batu is a stone", "jalan banyak batu dan lubang", nil},
		{"kota batu", "jalan rusak di kota batu", []matchWant{{Code: "35.79", Words: "kota batu"}}},
		{"batang is a stem", "batang pohon tumbang di jalan", nil},
		{"kab batang", "batang pohon tumbang di kab batang", []matchWant{{Code: "33.25", Words: "kab batang"}}},
		{"puncak is a peak", "puncak gunung", nil},
		{"batu bara is coal", "truk batu bara merusak jalan", nil},
		{"banjar needs a kind word", "banjar kami gelap", nil},
		{"kota banjar", "kota banjar", []matchWant{{Code: "32.79", Words: "kota banjar"}}},
		{"medan as terrain", "medan jalan sulit dilalui", nil},
		{"di medan", "jalan rusak di medan", []matchWant{{Code: "12.71", Words: "medan"}}},
		{"place-only not at the start", "malang nasib kami", nil},
		{"place-only before its province", "nasib warga kota x malang jatim", []matchWant{
			{Code: "35.73", Words: "malang", Ambiguous: []string{"35.07"}}, {Code: "35", Words: "jatim"}}},
		{"malang as unlucky", "nasib kami malang sekali", nil},
		{"place-only as the last word", "parit tersumbat air masuk rumah awak padang", []matchWant{{Code: "13.71", Words: "padang"}}},
		{"place-only after its own district", "sampah di tps pasar kliwon solo menumpuk", []matchWant{{Code: "33.72", Words: "solo"}}},
		{"place-only after a town-named office", "pbb naik bapenda medan tolong jelaskan", []matchWant{{Code: "12.71", Words: "medan"}}},
		{"padang field", "rumah makan padang tutup", nil},
		{"warga padang", "warga padang mengeluh", []matchWant{{Code: "13.71", Words: "padang"}}},
		{"two regions in order", "dari surabaya ke kab sidoarjo", []matchWant{{Code: "35.78", Words: "surabaya"}, {Code: "35.15", Words: "kab sidoarjo"}}},
		{"capital stands for its regency", "banjir di cikarang", []matchWant{{Code: "32.16", Words: "cikarang"}}},
		{"misspelling", "macet di tanggerang", []matchWant{{Code: "36.71", Words: "tanggerang", Ambiguous: []string{"36.03"}}}},
		{"abbreviation", "jalan poros di kukar rusak", []matchWant{{Code: "64.02", Words: "kukar"}}},
		{"punctuation and case are tolerated", "Jalan rusak di KAB. BANDUNG!!", []matchWant{{Code: "32.04", Words: "kab bandung"}}},
		{"no region", "tolong perbaiki jalan yang rusak parah", nil},
		{"empty", "", nil},
		{"only spaces", "   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := simplify(r.Match(tt.text))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestRegionsMatchPositions(t *testing.T) {
	r := loadRealRegions(t)
	got := r.Match("jalan di kab bandung dan kec soreang")
	want := []RegionMatch{
		{Code: "32.04", Words: "kab bandung", Start: 2, End: 4},
		{Code: "32.04", Words: "kec soreang", Start: 5, End: 7, ViaDistrict: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Match (-want +got):\n%s", diff)
	}
}

// Every region must be reachable by its own name with its kind word, and
// every province by its name alone.
func TestRegionsMatchEveryName(t *testing.T) {
	r := loadRealRegions(t)
	for _, g := range append(r.Provinces(), r.Regencies()...) {
		text := "di " + normalizePhrase(g.Name)
		if g.Kind == KindProvince {
			text = "di provinsi " + normalizePhrase(g.Name)
		}
		ms := r.Match(text)
		if len(ms) != 1 || ms[0].Code != g.Code || len(ms[0].Ambiguous) != 0 {
			t.Errorf("Match(%q) = %+v, want exactly %s", text, ms, g.Code)
		}
	}
}

// No bare alias may be an everyday Indonesian word that complaints use:
// those must be place-only or need a kind word.
func TestRegionsNoCommonWordAliases(t *testing.T) {
	r := loadRealRegions(t)
	common := []string{
		"jalan", "rusak", "batu", "batang", "pohon", "air", "sungai", "pasar", "desa", "kota", "kabupaten",
		"raya", "baru", "tengah", "utara", "selatan", "timur", "barat", "puncak", "gunung", "tanah", "laut",
		"buru", "banjar", "medan", "padang", "palu", "malang", "serang", "metro", "balai", "bone", "kudus",
		"pati", "solo", "mitra", "benteng", "mabar", "bubar", "mateng", "kamu", "marga", "teluk", "pulau",
		"kepulauan", "bandar", "lampu", "listrik", "sekolah", "rumah", "sakit", "pajak", "tol", "minut",
		"lombok", "sumba", "timor", "flores", "kapuas", "landak", "kayu", "bukit", "tinggi", "pinang",
	}
	for _, w := range common {
		if ms := r.Match("laporan " + w + " saja"); len(ms) != 0 {
			t.Errorf("common word %q matched %+v", w, ms)
		}
	}
}

func TestLoadRegionsRejectsBadData(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("provinces.csv", "# comment\ncode,name,short\n32,Jawa Barat,Jabar\n32,Jawa Barat,Jabar\n3x,Bad,Bad\n")
	write("regencies.csv", "code,province_code,kind,name,short\n32.04,32,regency,Kabupaten Bandung,Bandung\n33.01,33,regency,Kabupaten Cilacap,Cilacap\n32.73,32,regency,Kota Bandung,Bandung\n32.74,32,town,Kota Cirebon,Cirebon\n")
	write("aliases.csv", "code,alias,context\n32.04,kab bandung,\n99,nowhere,\n32.04,Kab Bandung,\n32.04,bandung,sometimes\n")
	write("districts.csv", "code,regency_code,name\n32.04.01,32.04,Soreang\n32.05.01,32.05,Nowhere\n")
	write("villages.csv", "code,regency_code,name\n32.04.01.2001,32.04,Lamajang\n32.04.01.01,32.04,Short\n32.05.01.2001,32.05,Nowhere\n32.04.01.2002,32.04, \n33.01.01.2001,32.04,Elsewhere\n")
	_, err := LoadRegions(dir)
	if err == nil {
		t.Fatal("LoadRegions accepted bad data")
	}
	for _, want := range []string{
		"provinces.csv:4: duplicate code 32",
		"provinces.csv:5: code \"3x\"",
		"regencies.csv:3: regency 33.01: unknown province 33",
		"regencies.csv:4: regency 32.73: name \"Kota Bandung\" does not fit kind regency",
		"regencies.csv:5: regency 32.74: kind \"town\"",
		"1 provinces, want 38",
		"regencies.csv: 1 regencies and cities, want 514",
		"aliases.csv:3: alias \"nowhere\": unknown code 99",
		"aliases.csv:4: alias \"Kab Bandung\" is not in normal form",
		"aliases.csv:5: alias \"bandung\": context \"sometimes\"",
		"districts.csv:3: district 32.05.01: unknown regency 32.05",
		"villages.csv:3: code \"32.04.01.01\" is not NN.NN.NN.NNNN",
		"villages.csv:4: village 32.05.01.2001: unknown regency 32.05",
		"villages.csv:5: village 32.04.01.2002: empty name",
		"villages.csv:6: village 33.01.01.2001: regency_code 32.04 is not its prefix",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoadRegionsMissingFile(t *testing.T) {
	if _, err := LoadRegions(t.TempDir()); err == nil || !strings.HasPrefix(err.Error(), "regions: ") {
		t.Errorf("LoadRegions(empty dir) error = %v, want a regions: error", err)
	}
}

func TestLoadRegionsMissingVillages(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"provinces.csv", "regencies.csv", "districts.csv", "aliases.csv", "ODbL-1.0.md"} {
		b, err := os.ReadFile(filepath.Join(regionsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadRegions(dir); err == nil || !strings.Contains(err.Error(), "villages.csv") {
		t.Errorf("LoadRegions without villages.csv: error = %v, want one naming villages.csv", err)
	}
}

func TestNormalizePhrase(t *testing.T) {
	tests := map[string]string{
		"Kab. Bandung":      "kab bandung",
		"  Toli-Toli  ":     "toli toli",
		"Ra\"as":            "ra as",
		"KAB#NGANJUK":       "kab nganjuk",
		"":                  "",
		"...":               "",
		"Misool (Misool U)": "misool misool u",
	}
	for in, want := range tests {
		if got := normalizePhrase(in); got != want {
			t.Errorf("normalizePhrase(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRegionsMatch(f *testing.F) {
	r := loadRealRegions(f)
	for _, s := range []string{"jalan rusak di kab bandung", "kec soreang bandung", "di medan", "KAB. NGANJUK", "kec", "kecamatan", " a  b ", "\xff\xfe kota"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := strings.FieldsFunc(strings.ToLower(s), func(c rune) bool { return c < 0x80 && !isWordByte(byte(c)) })
		prev := 0
		for _, m := range r.Match(s) {
			if m.Start < prev || m.End <= m.Start || m.End > len(words) {
				t.Fatalf("Match(%q): bad span %d..%d (prev end %d, %d words)", s, m.Start, m.End, prev, len(words))
			}
			if _, ok := r.Get(m.Code); !ok {
				t.Fatalf("Match(%q): unknown code %q", s, m.Code)
			}
			prev = m.End
		}
	})
}

func BenchmarkRegionsMatch(b *testing.B) {
	r := loadRealRegions(b)
	// 160 characters: one full SMS.
	text := "mohon bantuan jalan rusak parah di desa sukamaju kec soreang kab bandung sudah lama tidak diperbaiki banyak lubang dan sering terjadi kecelakaan tolong segera"
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = r.Match(text)
	}
}

func BenchmarkRegionsMatchNone(b *testing.B) {
	r := loadRealRegions(b)
	text := "mohon bantuan jalan rusak parah di depan rumah sudah lama tidak diperbaiki banyak lubang dan sering terjadi kecelakaan tolong segera diperbaiki terima kasih pak"
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Match(text)
	}
}

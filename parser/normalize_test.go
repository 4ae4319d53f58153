package parser

import "testing"

func TestNormalize(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		name, in, want string
	}{
		{"empty stays empty", "", ""},
		{"lowercase, punctuation to spaces, spaces collapsed", "  Jalan   RUSAK!!!  Parah...  ", "jalan rusak parah"},
		{"slang expanded per word", "Jln dgn lubang yg besar, tdk diperbaiki", "jalan dengan lubang yang besar tidak diperbaiki"},
		{"slang after punctuation", "kel. Sukamaju, kec. Ciawi, kab. Bogor", "kelurahan sukamaju kecamatan ciawi kabupaten bogor"},
		{"slang expansion is not expanded again", "ga", "tidak"},
		{"runs of three or more letters squeezed", "rusakkkk tolonggg paaaak", "rusak tolong pak"},
		{"double letters kept", "saat tunggu maaf taat", "saat tunggu maaf taat"},
		{"digits never squeezed", "harga 1000000 rp", "harga 1000000 rp"},
		{"reduplication with 2", "anak2 sama2 jalan2", "anak anak sama sama jalan jalan"},
		{"reduplication expands slang", "org2 di desa", "orang orang di desa"},
		{"a short word with 2 is kept", "rt2 lt2", "rt2 lt2"},
		{"apostrophes join", "Jum'at do’a Qur`an", "jumat doa quran"},
		{"diacritics stripped", "Café résumé naïve", "cafe resume naive"},
		{"fullwidth folded", "ｊａｌａｎ　ｒｕｓａｋ", "jalan rusak"},
		{"mathematical bold folded", "𝐉𝐚𝐥𝐚𝐧 rusak", "jalan rusak"},
		{"fancy quotes and ellipsis are separators", "“jalan” rusak…", "jalan rusak"},
		{"emoji are separators", "😡😡jalan😡rusak", "jalan rusak"},
		{"slashes separate", "RT 02/RW 05", "rt 02 rw 05"},
		{"control characters separate", "jalan\x00rusak\x1b", "jalan rusak"},
		{"other scripts kept", "Ψ jalan", "ψ jalan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeWithoutSlang(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Normalize("Jln yg rusak"), "jln yg rusak"; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
}

func TestDefaultSlangIsACopy(t *testing.T) {
	m := DefaultSlang()
	m["yg"] = "changed"
	if got := DefaultSlang()["yg"]; got != "yang" {
		t.Errorf(`DefaultSlang()["yg"] = %q after changing an earlier copy`, got)
	}
}

func TestWithinOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"status", "status", true},
		{"status", "statis", true},  // substitution
		{"status", "staus", true},   // deletion
		{"status", "statuus", true}, // insertion
		{"status", "statsu", true},  // transposition
		{"status", "tsatus", true},  // transposition at the start
		{"tambah", "tambal", true},
		{"tambah", "tmabha", false}, // two transpositions
		{"status", "stat", false},
		{"stop", "pots", false},
		{"", "a", true},
		{"ab", "ba", true},
	}
	for _, tt := range tests {
		if got := withinOneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := withinOneEdit(tt.b, tt.a); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestMatchCommandWordNeedsFourLettersForATypo(t *testing.T) {
	for _, typed := range []string{"cel", "ce", "cekx", "sto", "inf"} {
		for _, cmd := range []string{"cek", "stop", "info"} {
			if matchCommandWord(typed, cmd) {
				t.Errorf("matchCommandWord(%q, %q) = true", typed, cmd)
			}
		}
	}
}

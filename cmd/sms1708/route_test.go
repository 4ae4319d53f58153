package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// routeConfig writes a config file whose routing section points at the
// repository's routing directory.
func routeConfig(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "configs", "routing"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sms1708.yaml")
	cfg := "database: {url: \"postgres://x@127.0.0.1/x\"}\nrouting:\n  dir: " + dir + "\n  min_confidence: 0.35\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRouteBatch(t *testing.T) {
	cfg := routeConfig(t)
	// Longer than the parser looks at (parser.MaxInput) and than a
	// default bufio.Scanner line: the place comes first.
	long := "r4\tjalan rusak parah di kab bandung " + strings.Repeat("sudah lama sekali ", 20000)
	in := "r1\tlistrik padam di kota medan\r\n" +
		"\n" +
		"r2\t\n" +
		"r3\n" +
		long + "\n" +
		"r5\tTANGKAB lampu jalan mati" // no final newline
	var out bytes.Buffer
	if err := route([]string{"--config", cfg, "--batch"}, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []struct{ id, category, agency string }{
		{"r1", "ENERGI DAN SUMBER DAYA ALAM > LISTRIK", "pln"},
		{"", "TOPIK LAINNYA", "lapor-nasional"},
		{"r2", "TOPIK LAINNYA", "lapor-nasional"},
		{"r3", "TOPIK LAINNYA", "lapor-nasional"},
		{"r4", "PEKERJAAN\u00a0UMUM\u00a0DAN\u00a0PENATAAN\u00a0RUANG > INFRASTRUKTUR JALAN", "pemkab-32.04"},
		{"r5", "", "pemkab-36.03"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d output lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		f := strings.Split(lines[i], "\t")
		if len(f) != 4 {
			t.Fatalf("line %d %q: want 4 fields", i, lines[i])
		}
		if f[0] != w.id || (w.category != "" && f[1] != w.category) || f[2] != w.agency {
			t.Errorf("line %d = %q, want id %q category %q agency %q", i, lines[i], w.id, w.category, w.agency)
		}
		if dot := strings.IndexByte(f[3], '.'); dot < 0 || len(f[3])-dot-1 != 3 {
			t.Errorf("line %d confidence %q: want three decimals", i, f[3])
		}
	}
}

func TestRouteText(t *testing.T) {
	cfg := routeConfig(t)
	var out bytes.Buffer
	if err := route([]string{"--config", cfg, "ANONIM jln rusak parah di kab bandung"}, strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"command:    complaint anonim", "agency:     pemkab-32.04 — Pemerintah Kabupaten Bandung", "region:     32.04", "aturan jalan-lokal"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRouteUsage(t *testing.T) {
	cfg := routeConfig(t)
	for _, args := range [][]string{{"--config", cfg}, {"--config", cfg, "--batch", "text"}} {
		err := route(args, strings.NewReader(""), &bytes.Buffer{})
		if _, ok := err.(usageError); !ok {
			t.Errorf("route(%q) = %v, want a usage error", args, err)
		}
	}
}

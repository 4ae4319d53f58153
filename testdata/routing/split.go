//go:build ignore

// Split divides the labelled routing set once into train.tsv (two thirds) and test.tsv (one
// third), at random with a fixed seed and stratified by main category, as issue 5 asks ("put a
// third of it aside as a test part before tuning anything"). Within each main category (in byte
// order of the names) the rows are shuffled by one PCG stream and round(n/3) of them go to the
// test part; both files keep the input's row order.
//
// It refuses to overwrite an existing test.tsv: the test part is fixed once it exists.
//
// Usage (from the repository root):
//
//	go run testdata/routing/split.go -seed 1708 -in all.tsv -out testdata/routing
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const header = "id\ttext\tcategory\tagency_id\tlevel\tregion"

func main() {
	seed := flag.Uint64("seed", 1708, "PCG seed")
	in := flag.String("in", "testdata/routing/all.tsv", "the full labelled set")
	out := flag.String("out", "testdata/routing", "directory for train.tsv and test.tsv")
	flag.Parse()
	if err := run(*seed, *in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "split:", err)
		os.Exit(1)
	}
}

func run(seed uint64, in, out string) error {
	testPath := filepath.Join(out, "test.tsv")
	if _, err := os.Stat(testPath); err == nil {
		return fmt.Errorf("refusing to overwrite %s: the test part is fixed", testPath)
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("open set: %w", err)
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		rows = append(rows, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read set: %w", err)
	}
	if len(rows) == 0 || rows[0] != header {
		return fmt.Errorf("read set: missing header")
	}
	rows = rows[1:]

	byMain := map[string][]int{}
	for i, r := range rows {
		f := strings.Split(r, "\t")
		if len(f) != 6 {
			return fmt.Errorf("row %d: %d columns", i+2, len(f))
		}
		main, _, _ := strings.Cut(f[2], " > ")
		byMain[main] = append(byMain[main], i)
	}
	mains := make([]string, 0, len(byMain))
	for m := range byMain {
		mains = append(mains, m)
	}
	sort.Strings(mains)

	rng := rand.New(rand.NewPCG(seed, seed^0x1708))
	test := make([]bool, len(rows))
	for _, m := range mains {
		idx := byMain[m]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		k := (len(idx) + 1) / 3 // round(n/3)
		for _, i := range idx[:k] {
			test[i] = true
		}
	}
	var train, tst []string
	for i, r := range rows {
		if test[i] {
			tst = append(tst, r)
		} else {
			train = append(train, r)
		}
	}
	if err := write(filepath.Join(out, "train.tsv"), train); err != nil {
		return err
	}
	if err := write(testPath, tst); err != nil {
		return err
	}
	fmt.Printf("train %d, test %d (seed %d)\n", len(train), len(tst), seed)
	return nil
}

func write(path string, rows []string) error {
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Command evalrouting scores routing decisions against a labelled set
// (issue 5, "Must show" 2): category accuracy (main category; and with the
// sub-category where one is labelled), agency accuracy, both per category
// and per agency level, and the share sent to the triage desk.
//
// Usage (make eval-routing does this):
//
//	cut -f1,2 testdata/routing/test.tsv | tail -n +2 | sms1708 route --batch |
//	    go run ./scripts/evalrouting -labels testdata/routing/test.tsv
//
// make eval-routing SPLIT=train or SPLIT=dev scores the training part or the
// development set (testdata/routing/dev.tsv, written for tuning).
//
// It prints aggregates only. -errors lists the misrouted rows, text
// included, and is refused for the test part: tuning looks at train.tsv and
// dev.tsv only.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

const triage = "lapor-nasional"

type label struct {
	id, text, category, agency, level string
}

type tally struct{ n, cat, agency, triaged int }

func (t *tally) add(catOK, agencyOK, triaged bool) {
	t.n++
	if catOK {
		t.cat++
	}
	if agencyOK {
		t.agency++
	}
	if triaged {
		t.triaged++
	}
}

func pct(a, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%5.1f%%", 100*float64(a)/float64(n))
}

func main() {
	labelsPath := flag.String("labels", "", "labelled TSV (id, text, category, agency_id, level, region)")
	showErrors := flag.Bool("errors", false, "list misrouted rows with their text (not for the test part)")
	flag.Parse()
	if err := run(*labelsPath, *showErrors, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evalrouting:", err)
		os.Exit(1)
	}
}

// mainCategory is the main category of "MAIN > SUB".
func mainCategory(s string) string {
	m, _, _ := strings.Cut(s, " > ")
	return m
}

func run(labelsPath string, showErrors bool, predictions io.Reader, stdout io.Writer) error {
	if labelsPath == "" {
		return fmt.Errorf("-labels is required")
	}
	if showErrors && strings.Contains(filepath.Base(labelsPath), "test") {
		return fmt.Errorf("-errors is not allowed on the test part (%s): tune on train.tsv only", labelsPath)
	}
	raw, err := os.ReadFile(labelsPath)
	if err != nil {
		return err
	}
	var labels []label
	byID := map[string]int{}
	for i, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		line = strings.TrimRight(line, "\r")
		if i == 0 || line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			return fmt.Errorf("%s:%d: %d columns, want 6", labelsPath, i+1, len(f))
		}
		byID[f[0]] = len(labels)
		labels = append(labels, label{id: f[0], text: f[1], category: f[2], agency: f[3], level: f[4]})
	}

	type pred struct{ category, agency, conf string }
	preds := map[string]pred{}
	sc := bufio.NewScanner(predictions)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 {
			return fmt.Errorf("prediction line %q: want id, category, agency_id, confidence", sc.Text())
		}
		preds[f[0]] = pred{f[1], f[2], f[3]}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	var all tally
	subN, subOK := 0, 0
	perCat := map[string]*tally{}
	perLevel := map[string]*tally{}
	missing := 0
	var errs []string
	for _, l := range labels {
		p, ok := preds[l.id]
		if !ok {
			missing++
		}
		catOK := mainCategory(p.category) == mainCategory(l.category)
		agencyOK := p.agency == l.agency
		triaged := p.agency == triage
		all.add(catOK, agencyOK, triaged)
		if strings.Contains(l.category, " > ") {
			subN++
			if p.category == l.category {
				subOK++
			}
		}
		c := mainCategory(l.category)
		if perCat[c] == nil {
			perCat[c] = &tally{}
		}
		perCat[c].add(catOK, agencyOK, triaged)
		if perLevel[l.level] == nil {
			perLevel[l.level] = &tally{}
		}
		perLevel[l.level].add(catOK, agencyOK, triaged)
		if showErrors && (!catOK || !agencyOK) {
			errs = append(errs, fmt.Sprintf("%s\t%s\n    want %s | %s\n    got  %s | %s (%s)", l.id, l.text, l.category, l.agency, p.category, p.agency, p.conf))
		}
	}

	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "routing evaluation: %s (%d texts", labelsPath, all.n)
	if missing > 0 {
		fmt.Fprintf(w, ", %d without a prediction", missing)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "category accuracy (main)\t%s\t(%d/%d)\n", pct(all.cat, all.n), all.cat, all.n)
	fmt.Fprintf(w, "category accuracy (with sub, where labelled)\t%s\t(%d/%d)\n", pct(subOK, subN), subOK, subN)
	fmt.Fprintf(w, "agency accuracy\t%s\t(%d/%d)\n", pct(all.agency, all.n), all.agency, all.n)
	fmt.Fprintf(w, "sent to triage (%s)\t%s\t(%d/%d)\n", triage, pct(all.triaged, all.n), all.triaged, all.n)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "per agency level (labelled)\tn\tcategory\tagency\ttriaged")
	levels := make([]string, 0, len(perLevel))
	for k := range perLevel {
		levels = append(levels, k)
	}
	sort.Strings(levels)
	for _, k := range levels {
		t := perLevel[k]
		fmt.Fprintf(w, "  %s\t%d\t%s\t%s\t%s\n", k, t.n, pct(t.cat, t.n), pct(t.agency, t.n), pct(t.triaged, t.n))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "per category (labelled)\tn\tcategory\tagency\ttriaged")
	cats := make([]string, 0, len(perCat))
	for k := range perCat {
		cats = append(cats, k)
	}
	sort.Strings(cats)
	for _, k := range cats {
		t := perCat[k]
		fmt.Fprintf(w, "  %s\t%d\t%s\t%s\t%s\n", strings.ReplaceAll(k, "\u00a0", " "), t.n, pct(t.cat, t.n), pct(t.agency, t.n), pct(t.triaged, t.n))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(stdout, e)
	}
	return nil
}

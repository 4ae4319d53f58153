package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sp4n-lapor/sms1708/router"
)

// RoutingConfig is the routing section of the config file: where the
// routing files are and how sure a decision must be.
type RoutingConfig struct {
	// Dir is the routing directory (categories, slang, topics, rules),
	// relative to the config file; the region tables and agencies.yaml are
	// found beside it (Dir/../regions, Dir/../agencies.yaml).
	Dir string `yaml:"dir"`
	// MinConfidence: below it a complaint goes to the triage desk
	// (0 = router.DefaultMinConfidence).
	MinConfidence float64 `yaml:"min_confidence"`
}

// classifierConfig resolves the routing section against the config file.
func (c *Config) classifierConfig() router.ClassifierConfig {
	dir := c.Routing.Dir
	if dir == "" {
		dir = "routing"
	}
	return router.ClassifierConfig{Dir: c.resolve(dir), MinConfidence: c.Routing.MinConfidence}
}

// routingSection reads only the routing section of a config file: `route`
// needs no database, so the rest (and its secrets) is not looked at.
func routingSection(path string) (router.ClassifierConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return router.ClassifierConfig{}, fmt.Errorf("config: %w", err)
	}
	var doc struct {
		Routing RoutingConfig `yaml:"routing"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return router.ClassifierConfig{}, fmt.Errorf("config %s: %w", path, err)
	}
	c := Config{path: path, Routing: doc.Routing}
	return c.classifierConfig(), nil
}

// maxBatchLine bounds one input line of `route --batch`; a longer line is
// routed on its first maxBatchLine bytes (the parser looks at less anyway).
const maxBatchLine = 1 << 20

// route is `sms1708 route [--config FILE] "text"` and
// `sms1708 route [--config FILE] --batch` (id<TAB>text lines on stdin).
func route(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "configs/dev.yaml", "configuration file")
	batch := fs.Bool("batch", false, "read id<TAB>text lines on stdin, write id<TAB>category<TAB>agency_id<TAB>confidence")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("route: %v", err)}
	}
	if *batch == (fs.NArg() > 0) {
		return usageError{`usage: sms1708 route [--config FILE] "text" | sms1708 route [--config FILE] --batch < lines`}
	}
	cfg, err := routingSection(*path)
	if err != nil {
		return err
	}
	c, err := router.LoadClassifier(cfg)
	if err != nil {
		return err
	}
	if *batch {
		return routeBatch(c, stdin, stdout)
	}
	text := strings.Join(fs.Args(), " ")
	cmd, r := c.Route(text)
	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "text:       %s\n", text)
	fmt.Fprintf(w, "command:    %s", cmd.Kind)
	if cmd.Anonim {
		fmt.Fprint(w, " anonim")
	}
	if cmd.Rahasia {
		fmt.Fprint(w, " rahasia")
	}
	if cmd.Keyword != "" {
		fmt.Fprintf(w, " keyword=%s", cmd.Keyword)
	}
	fmt.Fprintf(w, "\nnormalised: %s\n", cmd.Normalized)
	fmt.Fprintf(w, "category:   %s\n", r.Category)
	agency := r.AgencyID
	if a, ok := c.Directory().Get(r.AgencyID); ok {
		agency += " — " + a.Name
	}
	fmt.Fprintf(w, "agency:     %s\n", agency)
	region := r.Region
	if g, ok := c.Regions().Get(r.Region); ok {
		region += " — " + g.Name
	}
	fmt.Fprintf(w, "region:     %s\n", region)
	fmt.Fprintf(w, "confidence: %.3f (threshold %.2f)", r.Confidence, c.MinConfidence())
	if r.Triage {
		fmt.Fprint(w, " → triage")
	}
	fmt.Fprintln(w, "\nwhy:")
	for _, e := range r.Explain {
		fmt.Fprintf(w, "  - %s\n", e)
	}
	return w.Flush()
}

// routeBatch routes id<TAB>text lines, one output line per input line, in
// order. A line without a tab is an id with no text; an empty text goes to
// the triage desk like any text the classifier cannot place.
func routeBatch(c *router.Classifier, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriterSize(stdout, 64<<10)
	var line []byte
	for {
		chunk, err := in.ReadSlice('\n')
		if len(line)+len(chunk) <= maxBatchLine {
			line = append(line, chunk...)
		} else if len(line) < maxBatchLine {
			line = append(line, chunk[:maxBatchLine-len(line)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("route: read: %w", err)
		}
		if len(line) > 0 || err == nil {
			s := strings.TrimRight(string(line), "\r\n")
			id, text, _ := strings.Cut(s, "\t")
			_, r := c.Route(text)
			out.WriteString(id)
			out.WriteByte('\t')
			out.WriteString(r.Category)
			out.WriteByte('\t')
			out.WriteString(r.AgencyID)
			out.WriteByte('\t')
			out.WriteString(strconv.FormatFloat(r.Confidence, 'f', 3, 64))
			out.WriteByte('\n')
		}
		line = line[:0]
		if err != nil {
			break
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("route: write: %w", err)
	}
	return nil
}

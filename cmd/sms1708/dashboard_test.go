package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The Grafana dashboard for operations staff. Its queries are checked against the running
// daemon's /metrics, so that a renamed metric or label cannot leave a panel silently empty.
const dashboardPath = "../../configs/grafana/sms1708.json"

// The rows of the dashboard, in the order an on-call engineer reads them.
var dashboardRows = []string{"Overview", "SMPP", "Ingest & store", "Processing & routing", "Outbox & DLR", "Process"}

// Labels Prometheus adds to every series it scrapes: the daemon cannot export them.
var targetLabels = []string{"instance", "job"}

// Grafana's own variables that queries may use.
var grafanaVariables = []string{"__rate_interval", "__interval", "__range", "__range_s"}

type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Datasource  json.RawMessage `json:"datasource"`
	Targets     []grafanaTarget `json:"targets"`
	Panels      []grafanaPanel  `json:"panels"` // a collapsed row's panels
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
}

type grafanaTarget struct {
	RefID        string          `json:"refId"`
	Expr         string          `json:"expr"`
	LegendFormat string          `json:"legendFormat"`
	Datasource   json.RawMessage `json:"datasource"`
}

type grafanaVariable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"` // a string, or {"query": "..."} in newer Grafana
	Datasource json.RawMessage `json:"datasource"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Every metric, label and label value a panel or a template variable of the dashboard uses is
// one the daemon exports, counters are read through rate() or increase() and gauges are not.
func TestDashboardNamesRealMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(raw) {
		t.Fatalf("%s is not valid JSON", dashboardPath)
	}
	var dash grafanaDashboard
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	td := startDaemon(t, daemonOpts{})
	exp := parseExposition(t, td.scrape(t))

	if dash.UID == "" || dash.Title == "" {
		t.Errorf("the dashboard needs a uid and a title (uid %q, title %q)", dash.UID, dash.Title)
	}
	if dash.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: Grafana 10/11 dashboards are 36 or later", dash.SchemaVersion)
	}

	// Template variables: a datasource variable for Prometheus, instance and operator.
	vars := map[string]grafanaVariable{}
	for _, v := range dash.Templating.List {
		if _, dup := vars[v.Name]; dup {
			t.Errorf("template variable %q defined twice", v.Name)
		}
		vars[v.Name] = v
	}
	dsVar, ok := vars["datasource"]
	if !ok || dsVar.Type != "datasource" || variableQuery(dsVar) != "prometheus" {
		t.Fatalf("want a template variable \"datasource\" of type datasource for prometheus, have %+v", dsVar)
	}
	wantDS := grafanaDatasource{Type: "prometheus", UID: "${datasource}"}
	for _, name := range []string{"instance", "operator"} {
		v, ok := vars[name]
		if !ok || v.Type != "query" {
			t.Errorf("want a template variable %q of type query", name)
			continue
		}
		checkDatasource(t, "template variable "+name, v.Datasource, wantDS)
		q := variableQuery(v)
		m := regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`).FindStringSubmatch(q)
		if m == nil {
			t.Errorf("template variable %s: query %q is not label_values(selector, label)", name, q)
			continue
		}
		where := "template variable " + name
		pq, err := parsePromQL(m[1])
		if err != nil {
			t.Errorf("%s: %q: %v", where, m[1], err)
			continue
		}
		if len(pq.selectors) != 1 {
			t.Errorf("%s: %q: want one selector", where, m[1])
			continue
		}
		exp.checkSelectors(t, where, pq, false)
		exp.checkLabel(t, where, pq.selectors[0].name, m[2])
		checkVariables(t, where, q, vars)
	}

	// Panels: unique ids, a datasource each, rows in order, and real metrics in every target.
	var all []grafanaPanel
	var rows []string
	for _, p := range dash.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	ids := map[int]string{}
	exprs := 0
	for _, p := range all {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			t.Errorf("%s: no id", where)
		} else if other, dup := ids[p.ID]; dup {
			t.Errorf("%s: id also used by %q", where, other)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("%s: no title", where)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24 columns", where, p.GridPos)
		}
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		checkDatasource(t, where, p.Datasource, wantDS)
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("%s: no unit", where)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		for _, tg := range p.Targets {
			where := fmt.Sprintf("panel %d %q, query %s", p.ID, p.Title, tg.RefID)
			if len(tg.Datasource) > 0 {
				checkDatasource(t, where, tg.Datasource, wantDS)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: no expression", where)
				continue
			}
			if tg.LegendFormat == "" {
				t.Errorf("%s: no legend", where)
			}
			exprs++
			pq, err := parsePromQL(tg.Expr)
			if err != nil {
				t.Errorf("%s: %q: %v", where, tg.Expr, err)
				continue
			}
			if len(pq.selectors) == 0 {
				t.Errorf("%s: %q names no metric", where, tg.Expr)
			}
			exp.checkSelectors(t, where, pq, true)
			exp.checkGrouping(t, where, pq, tg.LegendFormat)
			checkVariables(t, where, tg.Expr, vars)
		}
	}
	if !slices.Equal(rows, dashboardRows) {
		t.Errorf("rows %q, want %q", rows, dashboardRows)
	}
	if exprs < 30 {
		t.Errorf("only %d queries found in the dashboard", exprs)
	}
}

func variableQuery(v grafanaVariable) string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &o)
	return o.Query
}

func checkDatasource(t *testing.T, where string, raw json.RawMessage, want grafanaDatasource) {
	t.Helper()
	var ds grafanaDatasource
	if len(raw) == 0 || string(raw) == "null" {
		t.Errorf("%s: no datasource", where)
	} else if err := json.Unmarshal(raw, &ds); err != nil || ds != want {
		t.Errorf("%s: datasource %s, want %+v", where, raw, want)
	}
}

// checkVariables: every $variable a query uses is defined (or one of Grafana's own).
func checkVariables(t *testing.T, where, q string, vars map[string]grafanaVariable) {
	t.Helper()
	for _, m := range regexp.MustCompile(`\$(?:\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|([a-zA-Z0-9_]+))`).FindAllStringSubmatch(q, -1) {
		name := m[1] + m[2]
		if _, ok := vars[name]; !ok && !slices.Contains(grafanaVariables, name) {
			t.Errorf("%s: uses $%s, which the dashboard does not define", where, name)
		}
	}
}

// exposition is what /metrics says: the type of each metric family and the label sets of
// each sample name (a histogram's samples are name_bucket, name_sum and name_count).
type exposition struct {
	types  map[string]string
	series map[string][]map[string]string
}

func parseExposition(t *testing.T, text string) *exposition {
	t.Helper()
	e := &exposition{types: map[string]string{}, series: map[string][]map[string]string{}}
	labelRE := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			e.types[f[2]] = f[3]
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		labels := map[string]string{}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				t.Fatalf("/metrics: cannot read %q", line)
			}
			for _, m := range labelRE.FindAllStringSubmatch(rest[1:end], -1) {
				v, err := strconv.Unquote(`"` + m[2] + `"`)
				if err != nil {
					t.Fatalf("/metrics: label value in %q: %v", line, err)
				}
				labels[m[1]] = v
			}
		}
		e.series[name] = append(e.series[name], labels)
	}
	if len(e.series) < 20 {
		t.Fatalf("/metrics: only %d sample names read", len(e.series))
	}
	return e
}

// cumulative says whether the samples of name only grow: a counter, or the _bucket, _sum and
// _count of a histogram or summary.
func (e *exposition) cumulative(name string) bool {
	if typ, ok := e.types[name]; ok {
		return typ == "counter"
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if typ := e.types[base]; typ == "histogram" || typ == "summary" {
				return true
			}
		}
	}
	return false
}

func (e *exposition) hasLabel(name, label string) bool {
	for _, ls := range e.series[name] {
		if _, ok := ls[label]; ok {
			return true
		}
	}
	return false
}

func (e *exposition) checkLabel(t *testing.T, where, name, label string) {
	t.Helper()
	if !slices.Contains(targetLabels, label) && !e.hasLabel(name, label) {
		t.Errorf("%s: %s has no label %q", where, name, label)
	}
}

// checkSelectors: each metric is exported with the labels its matchers name, a literal value
// (= "x", =~ "x|y") matches an exported series, and, in panels (counters), a counter is read
// over a range and a gauge is not put through rate() or increase().
func (e *exposition) checkSelectors(t *testing.T, where string, q promQuery, counters bool) {
	t.Helper()
	for _, s := range q.selectors {
		if _, ok := e.series[s.name]; !ok {
			t.Errorf("%s: %s is not exported by the daemon", where, s.name)
			continue
		}
		for _, m := range s.matchers {
			if slices.Contains(targetLabels, m.label) {
				continue
			}
			if !e.hasLabel(s.name, m.label) {
				t.Errorf("%s: %s has no label %q", where, s.name, m.label)
				continue
			}
			if (m.op != "=" && m.op != "=~") || strings.Contains(m.value, "$") {
				continue
			}
			pattern := regexp.QuoteMeta(m.value)
			if m.op == "=~" {
				pattern = m.value
			}
			re, err := regexp.Compile("^(?:" + pattern + ")$")
			if err != nil {
				t.Errorf("%s: %s{%s%s%q}: %v", where, s.name, m.label, m.op, m.value, err)
				continue
			}
			// Every alternative of a plain a|b|c must exist, not just one of them.
			alts := []*regexp.Regexp{re}
			if m.op == "=~" && regexp.MustCompile(`^[a-zA-Z0-9_|]+$`).MatchString(m.value) {
				alts = alts[:0]
				for _, a := range strings.Split(m.value, "|") {
					alts = append(alts, regexp.MustCompile("^"+regexp.QuoteMeta(a)+"$"))
				}
			}
			for _, a := range alts {
				found := false
				for _, ls := range e.series[s.name] {
					if v, ok := ls[m.label]; ok && a.MatchString(v) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s: no series of %s has %s matching %s", where, s.name, m.label, a)
				}
			}
		}
		if !counters {
			continue
		}
		cum := e.cumulative(s.name)
		switch {
		case cum && !s.ranged:
			t.Errorf("%s: %s only grows: read it with rate() or increase()", where, s.name)
		case !cum && slices.Contains([]string{"rate", "irate", "increase"}, s.fn):
			t.Errorf("%s: %s is a %s, not a counter: %s() of it means nothing", where, s.name, e.types[s.name], s.fn)
		}
	}
}

// checkGrouping: labels of by (…), on (…) and the legend exist on a metric of the query; when
// the query aggregates, the legend's labels survive the aggregation.
func (e *exposition) checkGrouping(t *testing.T, where string, q promQuery, legend string) {
	t.Helper()
	known := func(label string) bool {
		if slices.Contains(targetLabels, label) {
			return true
		}
		for _, s := range q.selectors {
			if e.hasLabel(s.name, label) {
				return true
			}
		}
		return false
	}
	for _, l := range q.grouping {
		if !known(l) {
			t.Errorf("%s: groups by %q, which no metric of the query has", where, l)
		}
	}
	for _, m := range regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`).FindAllStringSubmatch(legend, -1) {
		l := m[1]
		switch {
		case !known(l):
			t.Errorf("%s: legend %q names label %q, which no metric of the query has", where, legend, l)
		case q.aggregates && !slices.Contains(q.grouping, l):
			t.Errorf("%s: legend %q names label %q, which the aggregation drops", where, legend, l)
		}
	}
}

// promQuery is what the dashboard's checks need of a PromQL expression.
type promQuery struct {
	selectors  []promSelector
	grouping   []string // labels of by, without, on, ignoring, group_left, group_right
	aggregates bool     // sum, max, … appear
}

type promSelector struct {
	name     string
	matchers []promMatcher
	ranged   bool   // followed by [range]
	fn       string // the function whose argument it is ("" at the top level)
}

type promMatcher struct{ label, op, value string }

var promAggregators = []string{"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
	"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}

// parsePromQL reads the metric selectors of expr with their matchers, the function each is an
// argument of and whether it has a range, and the grouping labels. It is a scanner for the
// PromQL of dashboards and alert rules, not a full parser: what it does not understand (a
// selector without a metric name) is an error.
func parsePromQL(expr string) (promQuery, error) {
	var q promQuery
	var stack []string // the function of each open parenthesis
	pendingFn := ""    // the function (or aggregation) whose "(" comes next
	lastSelector := -1 // index of the selector just read, while a { } or [ ] may follow it
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }
	skipSpace := func(i int) int {
		for i < len(expr) && strings.ContainsRune(" \t\r\n", rune(expr[i])) {
			i++
		}
		return i
	}
	readString := func(i int) (string, int, error) { // expr[i] is the opening quote
		quote := expr[i]
		for j := i + 1; j < len(expr); j++ {
			switch expr[j] {
			case '\\':
				j++
			case quote:
				if quote == '`' {
					return expr[i+1 : j], j + 1, nil
				}
				s, err := strconv.Unquote(`"` + strings.ReplaceAll(expr[i+1:j], `\'`, `'`) + `"`)
				return s, j + 1, err
			}
		}
		return "", 0, fmt.Errorf("unterminated string at %d", i)
	}
	readLabels := func(i int) ([]string, int, error) { // expr[i] is "("
		end := strings.IndexByte(expr[i:], ')')
		if end < 0 {
			return nil, 0, fmt.Errorf("unclosed label list at %d", i)
		}
		var out []string
		for _, l := range strings.Split(expr[i+1:i+end], ",") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out, i + end + 1, nil
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		case c == '"' || c == '\'' || c == '`':
			_, next, err := readString(i)
			if err != nil {
				return q, err
			}
			i = next
		case c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '{' {
				end := strings.IndexByte(expr[j:], '}')
				if end < 0 {
					return q, fmt.Errorf("unclosed ${ at %d", i)
				}
				j += end + 1
			} else {
				for j < len(expr) && isIdent(expr[j]) {
					j++
				}
			}
			i = j
		case c == '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return q, fmt.Errorf("unclosed [ at %d", i)
			}
			if lastSelector >= 0 {
				q.selectors[lastSelector].ranged = true
			}
			i += end + 1
		case c == '{':
			if lastSelector < 0 {
				return q, fmt.Errorf("a selector without a metric name at %d", i)
			}
			j := i + 1
			for {
				j = skipSpace(j)
				if j < len(expr) && expr[j] == '}' {
					j++
					break
				}
				k := j
				for k < len(expr) && isIdent(expr[k]) {
					k++
				}
				label := expr[j:k]
				k = skipSpace(k)
				op := ""
				for _, o := range []string{"=~", "!~", "!=", "="} {
					if strings.HasPrefix(expr[k:], o) {
						op = o
						break
					}
				}
				k = skipSpace(k + len(op))
				if label == "" || op == "" || k >= len(expr) || !strings.ContainsRune("\"'`", rune(expr[k])) {
					return q, fmt.Errorf("cannot read the matchers at %d", i)
				}
				value, next, err := readString(k)
				if err != nil {
					return q, err
				}
				q.selectors[lastSelector].matchers = append(q.selectors[lastSelector].matchers, promMatcher{label, op, value})
				j = skipSpace(next)
				if j < len(expr) && expr[j] == ',' {
					j++
				}
			}
			i = j
			continue // a [range] may still follow
		case c == '(':
			stack = append(stack, pendingFn)
			pendingFn = ""
			i++
		case c == ')':
			if len(stack) == 0 {
				return q, fmt.Errorf("unbalanced ) at %d", i)
			}
			stack = stack[:len(stack)-1]
			i++
		case '0' <= c && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			next := skipSpace(j)
			paren := next < len(expr) && expr[next] == '('
			switch {
			case slices.Contains([]string{"by", "without", "on", "ignoring", "group_left", "group_right"}, word):
				i = j
				if paren {
					labels, after, err := readLabels(next)
					if err != nil {
						return q, err
					}
					q.grouping = append(q.grouping, labels...)
					i = after
				}
			case slices.Contains([]string{"and", "or", "unless", "bool", "offset"}, word):
				i = j
			case paren || slices.Contains(promAggregators, word):
				// A function or an aggregation (whose "(" may come after by (…)).
				if slices.Contains(promAggregators, word) {
					q.aggregates = true
				}
				pendingFn = word
				i = j
			default:
				fn := ""
				if len(stack) > 0 {
					fn = stack[len(stack)-1]
				}
				q.selectors = append(q.selectors, promSelector{name: word, fn: fn})
				lastSelector = len(q.selectors) - 1
				i = j
				continue // a { } or [range] may follow
			}
		default: // an operator or a comma
			i++
		}
		lastSelector = -1
	}
	if len(stack) != 0 {
		return q, fmt.Errorf("unbalanced (")
	}
	return q, nil
}

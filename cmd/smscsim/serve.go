package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/smsctest"
	"github.com/sp4n-lapor/sms1708/smpp/text"
)

// Defaults of the simulator: one SMSC per operator that carries 1708.
const (
	defaultControl  = "127.0.0.1:2780"
	defaultSystemID = "sms1708"
	defaultShort    = "1708"
	// sendTimeout bounds POST /send's wait for the deliver_sm_resp: the daemon answers only
	// after committing the message.
	sendTimeout     = 30 * time.Second
	shutdownTimeout = 5 * time.Second
	maxRequestBody  = 64 << 10
)

// config is the simulator's configuration: defaults first, then the --config file, then flags.
type config struct {
	Control   string           `yaml:"control"`
	Operators []operatorConfig `yaml:"operators"`
}

type operatorConfig struct {
	Name     string `yaml:"name"`
	Listen   string `yaml:"listen"`
	SystemID string `yaml:"system_id"`
	Password string `yaml:"password"`
	// AutoReceipt: a DELIVRD receipt after each submit_sm that asks for one (default true).
	AutoReceipt *bool `yaml:"auto_receipt"`
	// ReceiptDelay: how long after the submit_sm_resp the automatic receipt is sent (default 0:
	// at once).
	ReceiptDelay time.Duration `yaml:"receipt_delay"`
	// EnquireLink: how often the SMSC sends enquire_link (default 0: never).
	EnquireLink time.Duration `yaml:"enquire_link"`
	// MessageIDs and ReceiptIDs: "hex" (default) or "decimal".
	MessageIDs string `yaml:"message_ids"`
	ReceiptIDs string `yaml:"receipt_ids"`
	// DefaultAlphabet: what data_coding 0 means, "gsm7" (default), "ascii" or "latin1".
	DefaultAlphabet string `yaml:"default_alphabet"`
}

func parseDefaultAlphabet(s string) (text.Alphabet, error) {
	if s == "" {
		return text.GSM7, nil
	}
	a, err := text.ParseAlphabet(s)
	if err != nil {
		return 0, err
	}
	if a != text.GSM7 && a != text.ASCII && a != text.Latin1 {
		return 0, fmt.Errorf("%q is not gsm7, ascii or latin1", s)
	}
	return a, nil
}

func defaultConfig() config {
	c := config{Control: defaultControl}
	for i, name := range []string{"telkomsel", "indosat", "three"} {
		c.Operators = append(c.Operators, operatorConfig{
			Name:     name,
			Listen:   "127.0.0.1:" + strconv.Itoa(2775+i),
			SystemID: defaultSystemID,
			Password: "dev-" + name,
		})
	}
	return c
}

// loadConfig reads a YAML file strictly (unknown fields are errors). Operators listed in the
// file replace the default ones; an absent control address keeps the default.
func loadConfig(path string) (config, error) {
	c := defaultConfig()
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("smscsim: config: %w", err)
	}
	var f config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("smscsim: config %s: %w", path, err)
	}
	if f.Control != "" {
		c.Control = f.Control
	}
	if len(f.Operators) > 0 {
		c.Operators = f.Operators
	}
	return c, nil
}

func parseIDFormat(s string) (smsctest.IDFormat, error) {
	switch s {
	case "", "hex":
		return smsctest.IDHex, nil
	case "decimal":
		return smsctest.IDDecimal, nil
	}
	return 0, fmt.Errorf("%q is not hex or decimal", s)
}

// validate returns every problem at once.
func (c config) validate() error {
	var errs []error
	if c.Control == "" {
		errs = append(errs, errors.New("control: empty address"))
	}
	if len(c.Operators) == 0 {
		errs = append(errs, errors.New("operators: none"))
	}
	seen := map[string]bool{}
	for i, op := range c.Operators {
		where := fmt.Sprintf("operators[%d] (%s)", i, op.Name)
		if op.Name == "" {
			errs = append(errs, fmt.Errorf("%s: empty name", where))
		} else if seen[op.Name] {
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		seen[op.Name] = true
		if op.Listen == "" {
			errs = append(errs, fmt.Errorf("%s: empty listen address", where))
		}
		if op.SystemID == "" {
			errs = append(errs, fmt.Errorf("%s: empty system_id", where))
		}
		if op.EnquireLink < 0 {
			errs = append(errs, fmt.Errorf("%s: negative enquire_link", where))
		}
		if op.ReceiptDelay < 0 {
			errs = append(errs, fmt.Errorf("%s: negative receipt_delay", where))
		}
		if _, err := parseIDFormat(op.MessageIDs); err != nil {
			errs = append(errs, fmt.Errorf("%s: message_ids: %w", where, err))
		}
		if _, err := parseIDFormat(op.ReceiptIDs); err != nil {
			errs = append(errs, fmt.Errorf("%s: receipt_ids: %w", where, err))
		}
		if _, err := parseDefaultAlphabet(op.DefaultAlphabet); err != nil {
			errs = append(errs, fmt.Errorf("%s: default_alphabet: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smscsim serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML `file` listing operators {name, listen, system_id, password} and control")
	control := fs.String("control", "", "control API listen `address` (default "+defaultControl+")")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "smscsim serve: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "smscsim serve: --log-level: %v\n", err)
		return exitUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if *control != "" {
		cfg.Control = *control
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "smscsim: invalid config:\n%v\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if err := serve(ctx, cfg, logger, stdout); err != nil {
		logger.Error("smscsim stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

// serve runs the SMSCs and the control API until ctx is done, then unbinds every session and
// stops. It prints one line per listener to stdout once everything listens.
func serve(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) (err error) {
	sim := &simulator{log: logger.With("component", "control")}
	defer func() {
		// Unbind politely, as an SMSC going down for maintenance does, then close.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		for _, s := range sim.servers {
			_ = s.Unbind(uctx)
			err = errors.Join(err, s.Close())
		}
	}()
	for _, op := range cfg.Operators {
		mids, _ := parseIDFormat(op.MessageIDs)
		rids, _ := parseIDFormat(op.ReceiptIDs)
		def, _ := parseDefaultAlphabet(op.DefaultAlphabet)
		auto := op.AutoReceipt == nil || *op.AutoReceipt
		s, err := smsctest.NewServer(smsctest.Config{
			Name:            op.Name,
			Addr:            op.Listen,
			SystemID:        op.SystemID,
			Password:        op.Password,
			Logger:          logger.With("component", "smsc", "operator", op.Name),
			EnquireLink:     op.EnquireLink,
			MessageIDs:      mids,
			ReceiptIDs:      &rids,
			AutoReceipt:     auto,
			ReceiptDelay:    op.ReceiptDelay,
			DefaultAlphabet: def,
		})
		if err != nil {
			return fmt.Errorf("smscsim: operator %s: %w", op.Name, err)
		}
		sim.servers = append(sim.servers, s)
	}
	ln, err := net.Listen("tcp", cfg.Control)
	if err != nil {
		return fmt.Errorf("smscsim: control: listen %s: %w", cfg.Control, err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		logger.Warn("control API listens beyond loopback: anyone who reaches it can send SMS as a citizen", "addr", a.String())
	}
	srv := &http.Server{
		Handler:           sim.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      sendTimeout + 10*time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	for _, s := range sim.servers {
		fmt.Fprintf(stdout, "smsc %s listening on %s (system_id %s)\n", s.Name(), s.Addr(), systemIDOf(cfg, s.Name()))
	}
	fmt.Fprintf(stdout, "control listening on http://%s\n", ln.Addr())
	logger.Info("smscsim ready", "control", ln.Addr().String(), "operators", len(sim.servers))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("smscsim: control: %w", err)
	case <-ctx.Done():
	}
	logger.Info("smscsim shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("smscsim: control: shutdown: %w", err)
	}
	return nil
}

func systemIDOf(cfg config, name string) string {
	for _, op := range cfg.Operators {
		if op.Name == name {
			return op.SystemID
		}
	}
	return ""
}

// simulator serves the control API over the operators' fake SMSCs.
type simulator struct {
	servers []*smsctest.Server
	log     *slog.Logger
}

func (sim *simulator) server(name string) *smsctest.Server {
	for _, s := range sim.servers {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

func (sim *simulator) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /send", sim.handleSend)
	mux.HandleFunc("GET /replies", sim.handleReplies)
	mux.HandleFunc("GET /healthz", sim.handleHealthz)
	return mux
}

type sendRequest struct {
	Operator string `json:"operator"`
	From     string `json:"from"`
	To       string `json:"to"`
	Text     string `json:"text"`
}

type sendResponse struct {
	Status     uint32 `json:"status"`
	StatusName string `json:"status_name"`
	At         int64  `json:"at"` // server time (unix ms) just before the deliver_sm: poll replies since then
}

type errorResponse struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (sim *simulator) handleSend(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorResponse{"bad request body: " + err.Error()})
		return
	}
	if req.To == "" {
		req.To = defaultShort
	}
	s := sim.server(req.Operator)
	switch {
	case s == nil:
		writeJSON(w, http.StatusBadRequest, errorResponse{fmt.Sprintf("unknown operator %q (have %s)", req.Operator, strings.Join(sim.names(), ", "))})
		return
	case req.From == "":
		writeJSON(w, http.StatusBadRequest, errorResponse{"from: empty"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), sendTimeout)
	defer cancel()
	at := time.Now().UnixMilli()
	st, err := s.SendMO(ctx, smsctest.MO{From: strings.TrimPrefix(req.From, "+"), To: req.To, Text: req.Text})
	if err != nil {
		code := http.StatusBadGateway
		msg := err.Error()
		switch {
		case errors.Is(err, smsctest.ErrNotBound):
			code = http.StatusServiceUnavailable
			msg = fmt.Sprintf("operator %s: no session bound to receive (is sms1708 running and bound?)", req.Operator)
		case errors.Is(err, context.DeadlineExceeded):
			code = http.StatusGatewayTimeout
			msg = fmt.Sprintf("operator %s: no deliver_sm_resp within %s", req.Operator, sendTimeout)
		}
		sim.log.Warn("mo not delivered", "operator", req.Operator, "from", smsctest.Mask(req.From), "err", err)
		writeJSON(w, code, errorResponse{msg})
		return
	}
	sim.log.Info("mo delivered", "operator", req.Operator, "from", smsctest.Mask(req.From), "to", req.To, "status", st.Name())
	writeJSON(w, http.StatusOK, sendResponse{Status: uint32(st), StatusName: statusName(st), At: at})
}

func statusName(st smpp.Status) string {
	if n := st.Name(); n != "unknown" {
		return n
	}
	return fmt.Sprintf("0x%08X", uint32(st))
}

func (sim *simulator) names() []string {
	var n []string
	for _, s := range sim.servers {
		n = append(n, s.Name())
	}
	return n
}

// reply is one SMS the daemon submitted, its parts joined when it was concatenated.
type reply struct {
	Operator   string   `json:"operator"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	Text       string   `json:"text"`
	MessageIDs []string `json:"message_ids"`
	At         int64    `json:"at"`    // unix ms of the first part
	Parts      int      `json:"parts"` // parts received
	Total      int      `json:"total"` // parts announced (1 when not concatenated)
}

type repliesResponse struct {
	Replies []reply `json:"replies"`
}

func (sim *simulator) handleReplies(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to := strings.TrimPrefix(q.Get("to"), "+")
	if to == "" {
		writeJSON(w, http.StatusBadRequest, errorResponse{"to: empty"})
		return
	}
	var since int64
	if v := q.Get("since"); v != "" {
		var err error
		if since, err = strconv.ParseInt(v, 10, 64); err != nil {
			writeJSON(w, http.StatusBadRequest, errorResponse{"since: not unix milliseconds"})
			return
		}
	}
	out := repliesResponse{Replies: []reply{}}
	for _, s := range sim.servers {
		var subs []smsctest.Submit
		for _, sub := range s.Submits() {
			if strings.TrimPrefix(sub.To, "+") == to && sub.At.UnixMilli() >= since {
				subs = append(subs, sub)
			}
		}
		out.Replies = append(out.Replies, joinParts(s.Name(), subs)...)
	}
	slices.SortStableFunc(out.Replies, func(a, b reply) int { return cmp.Compare(a.At, b.At) })
	writeJSON(w, http.StatusOK, out)
}

// joinParts groups the parts of concatenated messages (UDH IEI 0x00/0x08) by sender,
// reference and total, orders them by sequence number and joins their texts. Parts are
// never split inside a character by the daemon, so joining decoded texts is exact.
func joinParts(operator string, subs []smsctest.Submit) []reply {
	type key struct {
		from      string
		ref       uint16
		bits, tot uint8
	}
	var out []reply
	groups := map[key]int{} // index in out
	parts := map[key]map[uint8]smsctest.Submit{}
	for _, sub := range subs {
		var c text.Concat
		ok := false
		if sub.UDH != nil {
			c, ok, _ = text.ParseConcat(sub.UDH)
		}
		if !ok || c.Total <= 1 {
			out = append(out, reply{Operator: operator, From: sub.From, To: sub.To, Text: sub.Text,
				MessageIDs: []string{sub.MessageID}, At: sub.At.UnixMilli(), Parts: 1, Total: 1})
			continue
		}
		k := key{sub.From, c.Ref, c.RefBits, c.Total}
		if _, seen := groups[k]; !seen {
			groups[k] = len(out)
			parts[k] = map[uint8]smsctest.Submit{}
			out = append(out, reply{Operator: operator, From: sub.From, To: sub.To, At: sub.At.UnixMilli(), Total: int(c.Total)})
		}
		parts[k][c.Seq] = sub
	}
	for k, i := range groups {
		var sb strings.Builder
		for seq := uint8(1); seq <= k.tot; seq++ {
			p, ok := parts[k][seq]
			if !ok {
				continue
			}
			sb.WriteString(p.Text)
			out[i].MessageIDs = append(out[i].MessageIDs, p.MessageID)
			out[i].Parts++
		}
		out[i].Text = sb.String()
	}
	return out
}

type operatorHealth struct {
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	Bound int    `json:"bound"` // sessions bound as receiver or transceiver
}

func (sim *simulator) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	resp := struct {
		Status    string           `json:"status"`
		Operators []operatorHealth `json:"operators"`
	}{Status: "ok"}
	for _, s := range sim.servers {
		resp.Operators = append(resp.Operators, operatorHealth{Name: s.Name(), Addr: s.Addr(), Bound: s.Bound()})
	}
	writeJSON(w, http.StatusOK, resp)
}

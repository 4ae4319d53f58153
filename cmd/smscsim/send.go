package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// pollInterval is how often send asks the control API for replies.
	pollInterval = 200 * time.Millisecond
	// settle is how long send keeps polling after the first reply, to print a second reply
	// that follows at once (an acknowledgement and a status, or a late part).
	settle = time.Second
	// requestTimeout bounds each control API call; POST /send itself waits up to sendTimeout.
	requestTimeout = sendTimeout + 5*time.Second
)

func sendCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smscsim send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	operator := fs.String("operator", "telkomsel", "operator `name` whose SMSC delivers the SMS")
	from := fs.String("from", "", "citizen's `msisdn`, e.g. 6281234567890 (required)")
	to := fs.String("to", defaultShort, "destination `address`")
	control := fs.String("control", defaultControl, "control API `address` of smscsim serve")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for a reply (0: do not wait)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	msg := strings.Join(pos, " ")
	switch {
	case *from == "":
		fmt.Fprintln(stderr, "smscsim send: --from is required")
		return exitUsage
	case msg == "":
		fmt.Fprintln(stderr, "smscsim send: the text of the SMS is required")
		return exitUsage
	case *wait < 0:
		fmt.Fprintln(stderr, "smscsim send: --wait must not be negative")
		return exitUsage
	}
	msisdn := strings.TrimPrefix(*from, "+")
	c := &controlClient{base: "http://" + *control, http: &http.Client{Timeout: requestTimeout}}

	var sent sendResponse
	if err := c.do(ctx, http.MethodPost, "/send", sendRequest{Operator: *operator, From: msisdn, To: *to, Text: msg}, &sent); err != nil {
		fmt.Fprintf(stderr, "smscsim send: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "sent: %s\n", sent.StatusName)
	if sent.Status != 0 {
		// The daemon refused the SMS: the SMSC would retry later; no reply will come now.
		return exitFailure
	}
	if *wait == 0 {
		return exitOK
	}

	deadline := time.Now().Add(*wait)
	printed := map[string]bool{}
	var pending []reply // incomplete concatenated replies, printed at the deadline
	var got time.Time   // when the first reply was printed
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
poll:
	for {
		var rs repliesResponse
		q := url.Values{"to": {msisdn}, "since": {strconv.FormatInt(sent.At, 10)}}
		if err := c.do(ctx, http.MethodGet, "/replies?"+q.Encode(), nil, &rs); err != nil {
			if ctx.Err() != nil {
				break poll
			}
			fmt.Fprintf(stderr, "smscsim send: %v\n", err)
			return exitUsage
		}
		pending = pending[:0]
		for _, r := range rs.Replies {
			key := r.Operator + "/" + strings.Join(r.MessageIDs, ",")
			if r.Parts < r.Total {
				pending = append(pending, r)
				continue
			}
			if printed[key] {
				continue
			}
			printed[key] = true
			fmt.Fprintf(stdout, "reply from %s to %s: %s\n", r.From, r.To, oneLine(r.Text))
			if got.IsZero() {
				got = time.Now()
			}
		}
		now := time.Now()
		if (!got.IsZero() && now.Sub(got) >= settle) || now.After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			break poll
		case <-tick.C:
		}
	}
	for _, r := range pending {
		fmt.Fprintf(stdout, "reply from %s to %s (incomplete, %d of %d parts): %s\n", r.From, r.To, r.Parts, r.Total, oneLine(r.Text))
	}
	if len(printed) == 0 && len(pending) == 0 {
		fmt.Fprintf(stderr, "smscsim send: no reply to %s within %s\n", msisdn, *wait)
		return exitFailure
	}
	return exitOK
}

// oneLine keeps each reply on one output line, so that scripts can read it line by line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// controlClient calls the control API of smscsim serve.
type controlClient struct {
	base string
	http *http.Client
}

func (c *controlClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("control API %s: %w", c.base, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot reach the control API at %s (is smscsim serve running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("control API %s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorResponse
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("control API %s %s: %s", method, path, resp.Status)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("control API %s %s: decode response: %w", method, path, err)
	}
	return nil
}

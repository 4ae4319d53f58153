// Command smscsim simulates the SMSCs of the three operators that carry short code 1708
// (Telkomsel, Indosat, Three), each a fake SMSC speaking SMPP 3.4 (package smpp/smsctest), for
// development, demos and load tests; a small JSON control API on the loopback interface lets a
// person or a script send a citizen's SMS and read the replies the daemon submitted.
//
//	smscsim serve [--config FILE] [--control ADDR]
//	smscsim send --operator telkomsel --from 6281234567890 [--to 1708] [--wait 30s] "text"
//	smscsim load [--rate N] [--window W] [--count N | --duration D] [--out FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `smscsim — simulator of the Telkomsel, Indosat and Three SMSCs for sms1708 (SMPP 3.4)

Usage:
  smscsim serve [--config FILE] [--control ADDR] [--log-level LEVEL]
      Run one fake SMSC per operator and the control API. Without --config:
        telkomsel 127.0.0.1:2775, indosat 127.0.0.1:2776, three 127.0.0.1:2777,
        system_id "sms1708", password "dev-<operator>", delivery receipts on;
        control API on 127.0.0.1:2780.
  smscsim send [--operator NAME] --from MSISDN [--to 1708] [--control ADDR] [--wait 30s] TEXT...
      Send TEXT as an SMS from MSISDN to the short code through the operator's SMSC, print
      "sent: <status>", then wait up to --wait for the replies the daemon submits to MSISDN
      and print each as "reply from <from> to <msisdn>: <text>" (newlines as \n).
      --wait 0 does not wait. Exit status: 0 a reply arrived (or --wait 0 and the SMS was
      accepted), 1 no reply within --wait or the SMS was refused, 2 usage or connection error.
` + loadUsage + `  smscsim help
      Print this text.

Control API (JSON over HTTP):
  POST /send     {"operator","from","to","text"} → {"status","status_name","at"}
  GET  /replies?to=MSISDN&since=UNIX_MS → {"replies":[{"operator","from","to","text",...}]}
  GET  /healthz  → {"status":"ok","operators":[{"name","addr","bound"}]}
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // no reply, SMS refused, or serve could not start
	exitUsage   = 2 // usage or connection error
)

// run is the whole program, so that tests can call it with their own arguments and writers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], stdout, stderr)
	case "send":
		return sendCmd(ctx, args[1:], stdout, stderr)
	case "load":
		return loadCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "smscsim: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// parseInterspersed parses flags that may come before, between or after the positional
// arguments ("send --from X text --wait 5s"), which the flag package alone does not allow.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// A "--" ends the flags: everything after it is positional.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

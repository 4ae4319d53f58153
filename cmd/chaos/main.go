// Command chaos proves sms1708's first two promises (docs/DESIGN.md, "Promises": no message
// is lost, no message is doubled) under load and faults, on one machine, with the repo's own
// scripts: it starts PostgreSQL and Redis (scripts/services.sh), makes a fresh database,
// runs the real daemon (bin/sms1708 with configs/dev.yaml, pointed at that database) and
// drives it with `smscsim load`, while it kills the daemon with SIGKILL, crashes PostgreSQL
// (pg_ctl stop -m immediate), stops Redis and cuts the SMSC connections at random moments
// drawn from a seed that it prints. After each fault it checks the end state against what
// the load sent and received, and prints a Markdown table (docs/RELIABILITY.md).
//
//	chaos [run] [--size small|medium|large] [--seed N] [--faults kill,pg,redis,smsc] [--write FILE]
//	chaos check --results FILE [--dsn URL] [--allow-doubles]
//
// SMPP deliver_sm semantics follow SMPP 3.4 §4.6: an MO not answered ESME_ROK is redelivered
// by the SMSC, which is what the load does.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `chaos — nothing lost, nothing doubled: sms1708 under load and faults

Usage:
  chaos [run] [flags]
      Start PostgreSQL and Redis (scripts/services.sh; by default a dedicated instance under
      /tmp/sms1708-chaos on ports 25718/26718, so that crashing it harms no one else's run),
      make a fresh database sms1708_chaos, build bin/, run bin/sms1708 (configs/dev.yaml, HTTP
      on 127.0.0.1:8718) and, for each fault, bin/smscsim load while the fault strikes at
      random moments; then check the end state. Needs ports 2775-2777 free (no make run).
      Exit status 0 when nothing was lost or doubled (doubles allowed with --allow-doubles).
  chaos check --results FILE [--dsn URL] [--allow-doubles]
      Check one smscsim load results file against the database (--dsn, default
      $SMS1708_DATABASE_URL): one ticket per acked complaint, nothing lost, one
      acknowledgement per ticket received by the citizen. Exit status 1 when lost > 0,
      an acked complaint has no ticket, or (without --allow-doubles) a ticket is doubled.
  chaos help
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
	exitFailure = 1 // something lost or doubled, or the run could not finish
	exitUsage   = 2
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "check" || args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "check":
		return checkCmd(ctx, args, stdout, stderr)
	case "run":
		return runCmd(ctx, args, stdout, stderr)
	}
	fmt.Fprint(stdout, usage)
	return exitOK
}

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	results := fs.String("results", "", "results `file` written by smscsim load --out (required)")
	dsn := fs.String("dsn", os.Getenv("SMS1708_DATABASE_URL"), "PostgreSQL `URL` (default $SMS1708_DATABASE_URL)")
	allow := fs.Bool("allow-doubles", false, "report doubled tickets without failing")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *results == "" || *dsn == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "chaos check: --results and a DSN (--dsn or SMS1708_DATABASE_URL) are required")
		return exitUsage
	}
	res, err := readResults(*results)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	c, err := check(ctx, *dsn, res)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	if *asJSON {
		b, _ := json.MarshalIndent(c, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		printCheck(stdout, res, c)
	}
	if f := c.failures(*allow); len(f) > 0 {
		for _, s := range f {
			fmt.Fprintf(stderr, "chaos check: FAIL: %s\n", s)
		}
		return exitFailure
	}
	if c.DoubledTickets > 0 {
		fmt.Fprintf(stderr, "chaos check: %d doubled tickets allowed by --allow-doubles\n", c.DoubledTickets)
	}
	return exitOK
}

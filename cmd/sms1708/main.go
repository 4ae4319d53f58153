// Command sms1708 is the SMS channel of SP4N-LAPOR!: a daemon that binds over
// SMPP 3.4 to the operators' SMSCs for short code 1708, turns citizens' texts
// into tickets and answers them by SMS.
//
//	sms1708 serve        --config FILE   run the daemon
//	sms1708 migrate      --config FILE   apply database migrations and exit
//	sms1708 check-config --config FILE   validate the configuration and exit
//	sms1708 ticket check NUMBER          is NUMBER a well-formed ticket number?
//	sms1708 route        --config FILE   route a text (or --batch lines) and explain
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/store"
)

func main() {
	// Only main touches signals. The first SIGINT/SIGTERM starts a graceful
	// drain; a second one exits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore default handling: the next signal kills the process
	}()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, hup))
}

const usage = `usage: sms1708 <command> [flags]

commands:
  serve        --config FILE   run the daemon (SMPP binds, ingest, router, outbox, HTTP)
  migrate      --config FILE   apply the database migrations and exit
  check-config --config FILE   validate the configuration, print it with secrets hidden, exit
  ticket check NUMBER          exit 0 if NUMBER is a well-formed ticket number (check digit)
  route        --config FILE   "text": print the routing decision and why; --batch: id<TAB>text
                               lines on stdin → id<TAB>category<TAB>agency_id<TAB>confidence
`

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, hup <-chan os.Signal) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr, hup)
	case "migrate":
		err = migrate(ctx, args[1:], stderr)
	case "check-config":
		err = checkConfig(args[1:], stdout)
	case "ticket":
		err = ticket(args[1:], stdout)
	case "route":
		err = route(args[1:], os.Stdin, stdout)
	default:
		fmt.Fprintf(stderr, "sms1708: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "sms1708: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "sms1708: %v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// configFlag parses the one flag every subcommand takes.
func configFlag(name string, args []string) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "configs/dev.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return "", usageError{fmt.Sprintf("%s: %v", name, err)}
	}
	if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	return *path, nil
}

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("SMS1708_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func migrate(ctx context.Context, args []string, stderr io.Writer) error {
	path, err := configFlag("migrate", args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	logger := newLogger(stderr)
	db, err := store.Open(ctx, string(cfg.Database.URL), logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	logger.Info("migrations applied")
	return nil
}

func checkConfig(args []string, stdout io.Writer) error {
	path, err := configFlag("check-config", args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# %s: ok (secrets hidden)\n", path)
	enc := yaml.NewEncoder(stdout)
	enc.SetIndent(2)
	defer enc.Close()
	return enc.Encode(cfg)
}

func ticket(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return usageError{"usage: sms1708 ticket check NUMBER"}
	}
	n, err := router.ParseTicketNumber(args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: valid ticket number\n", n)
	return nil
}

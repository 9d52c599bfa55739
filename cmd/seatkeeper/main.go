// Command seatkeeper is the license, seat and entitlement server and its
// tools. Run `seatkeeper help` for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // account time zones work on machines without zoneinfo
)

// command is one subcommand. run gets the arguments after the command name
// and returns the process exit code.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server", runServe},
		{"migrate", "apply the database migrations and exit", runMigrate},
		{"catalog", "check catalog files or show a catalog's feature matrix", runCatalog},
		{"bench", "run a benchmark beside its baseline", runBench},
		{"version", "print the version", runVersion},
		{"help", "list the commands", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		runHelp(ctx, nil, stderr, stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return runHelp(ctx, nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "seatkeeper: unknown command %q\n\n", args[0])
	runHelp(ctx, nil, stderr, stderr)
	return 2
}

func runHelp(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "Seatkeeper: license, seat and entitlement server for contact-center software.")
	fmt.Fprintln(stdout, "\nUsage: seatkeeper <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(stdout, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(stdout, "\nEvery command takes -h for its flags.")
	return 0
}

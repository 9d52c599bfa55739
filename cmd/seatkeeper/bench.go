package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/seatkeeper/seatkeeper/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := "bench check|assign|signin|report|billing [flags]"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(stderr, "Usage: seatkeeper %s\n\n  check   the HTTP check endpoint beside a bare net/http handler\n  assign  named assignments under concurrent clients, with the cap checked\n  signin  a sign-in storm, heartbeats and paced sign-ins, beside pgbench\n  report  the license usage report over a month of a large pool's ledger\n  billing a month's usage of a large account, and a year of statements of many small ones\n", usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	fs := newFlagSet("bench "+args[0], "bench "+args[0]+" [flags]", stderr)
	db := fs.String("db", envOr("SEATKEEPER_DB", ""), "database: empty for SQLite in a temporary directory, or a postgres:// DSN")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of this process (clients and, on SQLite, the server) to this file")
	var run func(dir string) error
	switch args[0] {
	case "check":
		conns := fs.Int("conns", 64, "keep-alive connections")
		dur := fs.Duration("duration", 5*time.Second, "how long to drive each target")
		run = func(dir string) error {
			_, err := bench.Check(ctx, bench.CheckConfig{DSN: *db, DataDir: dir, Conns: *conns, Duration: *dur, Out: stdout})
			return err
		}
	case "assign":
		clients := fs.Int("clients", 32, "concurrent clients")
		users := fs.Int("users", 6000, "users to assign")
		quantity := fs.Int("quantity", 5000, "seats (fewer than users, so that the cap is hit)")
		run = func(dir string) error {
			_, err := bench.Assign(ctx, bench.AssignConfig{DSN: *db, DataDir: dir, Clients: *clients, Users: *users, Quantity: *quantity, Out: stdout})
			return err
		}
	case "signin":
		agents := fs.Int("agents", 10000, "agents in the pool, each signing in once")
		clients := fs.Int("clients", 64, "concurrent clients")
		procs := fs.Int("processes", 3, "server processes (PostgreSQL only; SQLite runs one)")
		paced := fs.Float64("paced-rate", 0, "sign-ins per second in the paced phase (default: half the storm's rate)")
		beaters := fs.Int("heartbeat-clients", 256, "concurrent clients sending heartbeats")
		dur := fs.Duration("duration", 5*time.Second, "how long the heartbeat load runs")
		run = func(dir string) error {
			return bench.Signin(ctx, bench.SigninConfig{DSN: *db, DataDir: dir, Processes: *procs, Agents: *agents, Clients: *clients, BeatClients: *beaters, Duration: *dur, PacedRate: *paced, Out: stdout})
		}
	case "report":
		agents := fs.Int("agents", 10000, "agents in the pool")
		events := fs.Int("events", 1000000, "presence events in the month")
		run = func(dir string) error {
			_, err := bench.Report(ctx, bench.ReportConfig{DSN: *db, DataDir: dir, Agents: *agents, Events: *events, Out: stdout})
			return err
		}
	case "billing":
		users := fs.Int("users", 100000, "users of the large account")
		events := fs.Int("events", 10000000, "presence events in its month")
		accounts := fs.Int("accounts", 10000, "small accounts whose statements are computed")
		keep := fs.String("keep", "", "SQLite: keep the data in this directory, and reuse what an earlier run left there")
		run = func(dir string) error {
			if *keep != "" {
				dir = *keep
			}
			_, err := bench.Billing(ctx, bench.BillingConfig{DSN: *db, DataDir: dir, Users: *users, Events: *events, Accounts: *accounts, Out: stdout})
			return err
		}
	default:
		fmt.Fprintf(stderr, "seatkeeper bench: unknown benchmark %q\nUsage: seatkeeper %s\n", args[0], usage)
		return 2
	}
	if code := parseFlags(fs.FlagSet, args[1:]); code >= 0 {
		return code
	}
	dsn, drop, err := bench.Schema(ctx, *db) // a schema of the run's own
	if err != nil {
		fmt.Fprintln(stderr, "seatkeeper bench:", err)
		return 1
	}
	defer drop()
	*db = dsn
	dir, err := os.MkdirTemp("", "seatkeeper-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "seatkeeper:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "seatkeeper:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(stderr, "seatkeeper bench:", err)
		return 1
	}
	return 0
}

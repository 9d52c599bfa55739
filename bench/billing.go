package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/server"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// BillingConfig configures Billing.
type BillingConfig struct {
	DSN      string
	DataDir  string
	Users    int // users of the large account
	Events   int // presence events in its month, about
	Accounts int // small accounts whose statements are computed
	Out      io.Writer
}

// BillingResult is what Billing measured.
type BillingResult struct {
	Usage      time.Duration // best of three, one month of the large account
	UsageHeap  uint64        // the most Go heap in use while computing it
	UsageRSS   uint64        // the process's peak anonymous resident memory while computing it (Linux)
	Statements time.Duration // every small account's statements for a year
	Lines      int
}

// Billing measures issue 5's two figures: the monthly usage of one month of
// a large account's concurrent pool (Users users, Events presence events
// imported through the ledger import), with the memory it takes; and a
// year of statements for Accounts small accounts.
func Billing(ctx context.Context, cfg BillingConfig) (BillingResult, error) {
	var res BillingResult
	srv, err := server.Open(ctx, server.Config{DSN: cfg.DSN, DataDir: cfg.DataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return res, err
	}
	defer srv.Close()
	st, op := srv.Store, seatkeeper.Actor{TokenKind: seatkeeper.TokenOperator}
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

	// The large account is named by its size: a kept data directory
	// (-keep) that has it already is measured again without an import.
	account := fmt.Sprintf("large-%d-%d", cfg.Users, cfg.Events)
	if _, err := st.Account(ctx, account); err == nil {
		fmt.Fprintf(cfg.Out, "bench billing: store %s; %d users, %d presence events imported before\n", st.Dialect(), cfg.Users, cfg.Events)
	} else {
		if _, _, err := st.PutAccount(ctx, op, seatkeeper.Account{ID: account, Name: "bench", Region: "us"}); err != nil {
			return res, err
		}
		if _, _, err := st.PutSubscription(ctx, op, seatkeeper.Subscription{Account: account, License: "essentials", Model: "concurrent",
			Quantity: cfg.Users * 6 / 10, OverageAllowance: cfg.Users / 10, StartsAt: month}); err != nil {
			return res, err
		}
		started := time.Now()
		n, err := importMonthOfPool(ctx, st, account, cfg.Users, cfg.Events, month)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(cfg.Out, "bench billing: store %s; %d users, %d presence events imported in %s\n", st.Dialect(), cfg.Users, n, time.Since(started).Round(time.Millisecond))
	}
	for i := range 3 {
		var u []seatkeeper.MonthUsage
		d, heap, rss, err := measured(func() error {
			var err error
			u, err = st.MonthlyUsage(ctx, account, "2026-10", "2026-10")
			return err
		})
		if err != nil {
			return res, err
		}
		if len(u) != 1 {
			return res, fmt.Errorf("monthly usage: %d rows, want 1", len(u))
		}
		fmt.Fprintf(cfg.Out, "monthly usage, October: peak %d, sustained %d, overage %d; in %s, Go heap peak %d MiB, anonymous RSS peak %d MiB\n",
			u[0].Peak, u[0].SustainedPeak, u[0].Overage, d.Round(time.Millisecond), heap>>20, rss>>20)
		if i == 0 || d < res.Usage {
			res.Usage = d
		}
		res.UsageHeap, res.UsageRSS = max(res.UsageHeap, heap), max(res.UsageRSS, rss)
	}
	fmt.Fprintf(cfg.Out, "best of 3: %s (target < 3 s); peak Go heap %d MiB, peak anonymous RSS %d MiB (target < 1 GiB)\n",
		res.Usage.Round(time.Millisecond), res.UsageHeap>>20, res.UsageRSS>>20)

	if cfg.Accounts > 0 {
		if _, err := st.Account(ctx, smallAccount(cfg.Accounts-1)); err != nil {
			if err := smallAccounts(ctx, st, cfg.Accounts, month, cfg.Out); err != nil {
				return res, err
			}
		}
		var lines, amount atomic.Int64
		next := atomic.Int64{}
		from, to := month.AddDate(-1, 0, 0), month
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < cfg.Accounts; i = int(next.Add(1)) - 1 {
					sts, err := st.Statements(ctx, smallAccount(i), from, to)
					if err != nil {
						errs <- err
						return
					}
					for _, s := range sts {
						lines.Add(int64(len(s.Lines)))
						amount.Add(s.Total)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return res, err
		}
		res.Statements, res.Lines = time.Since(t0), int(lines.Load())
		fmt.Fprintf(cfg.Out, "statements, November 2025 to October 2026, of %d accounts: %d lines, %d in all, in %s (target < 60 s)\n",
			cfg.Accounts, res.Lines, amount.Load(), res.Statements.Round(time.Millisecond))
	}
	return res, nil
}

// importMonthOfPool imports into the account's essentials pool a month of
// presences of agents: shifts of 4–9 hours at random, a start and an end
// each, until about events events. It returns how many it imported.
func importMonthOfPool(ctx context.Context, st *sqlstore.Store, account string, agents, events int, month time.Time) (int, error) {
	r := rand.New(rand.NewPCG(1, 2))
	op := seatkeeper.Actor{TokenKind: seatkeeper.TokenOperator}
	var batch []seatkeeper.UsageEvent
	n := 0
	for n < events {
		agent := r.IntN(agents)
		start := month.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		end := start.Add(4*time.Hour + time.Duration(r.Int64N(int64(5*time.Hour))))
		user, session := "a"+strconv.Itoa(agent), "s"+strconv.Itoa(n)
		batch = append(batch,
			seatkeeper.UsageEvent{Type: seatkeeper.EventPresenceStart, User: user, License: "essentials", Kind: "work_session", Session: session, At: start},
			seatkeeper.UsageEvent{Type: seatkeeper.EventPresenceEnd, User: user, License: "essentials", Kind: "work_session", Session: session, At: end})
		n += 2
		if len(batch) >= sqlstore.MaxImport || n >= events {
			if _, err := st.ImportEvents(ctx, op, account, batch); err != nil {
				return n, err
			}
			batch = batch[:0]
		}
	}
	return n, nil
}

func smallAccount(i int) string { return fmt.Sprintf("small%05d", i) }

// smallAccounts makes n accounts, each with ten named Essentials seats at
// 50.00 a month and a commitment of five QM seats at 30.00 (45.00 over),
// since November 2025, and a year of assignments with a busy December.
func smallAccounts(ctx context.Context, st *sqlstore.Store, n int, month time.Time, out io.Writer) error {
	op := seatkeeper.Actor{TokenKind: seatkeeper.TokenOperator}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return err
	}
	start := time.Date(month.Year()-1, month.Month(), 1, 0, 0, 0, 0, berlin) // local midnights: whole months
	t0 := time.Now()
	for i := range n {
		id := smallAccount(i)
		if _, _, err := st.PutAccount(ctx, op, seatkeeper.Account{ID: id, Name: id, Region: "us", TimeZone: "Europe/Berlin"}); err != nil {
			return err
		}
		for _, sub := range []seatkeeper.Subscription{
			{Account: id, License: "essentials", Model: "named", Enforcement: "hard", Quantity: 10, UnitPrice: 5000, Currency: "EUR", StartsAt: start},
			{Account: id, License: "qm", Model: "named", Enforcement: "commit", Quantity: 5, UnitPrice: 3000, OveragePrice: 4500, Currency: "EUR", StartsAt: start},
		} {
			if _, _, err := st.PutSubscription(ctx, op, sub); err != nil {
				return err
			}
		}
		var events []seatkeeper.UsageEvent
		for u := range 8 {
			user := "u" + strconv.Itoa(u)
			events = append(events,
				seatkeeper.UsageEvent{Type: seatkeeper.EventAssignmentAdd, User: user, License: "essentials", At: start},
				seatkeeper.UsageEvent{Type: seatkeeper.EventAssignmentAdd, User: user, License: "qm", At: start.AddDate(0, 1, 0)})
			if u >= 5 { // three more QM seats than committed in December
				events = append(events, seatkeeper.UsageEvent{Type: seatkeeper.EventAssignmentRemove, User: user, License: "qm", At: start.AddDate(0, 2, 0)})
			}
		}
		if _, err := st.ImportEvents(ctx, op, id, events); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "%d small accounts made in %s\n", n, time.Since(t0).Round(time.Millisecond))
	return nil
}

// measured runs fn and returns how long it took, the most Go heap in use
// meanwhile and the most anonymous resident memory of the process (Linux:
// RssAnon, what the process itself holds — Go heap, SQLite's page cache,
// C allocations — without the database file's pages mapped into memory,
// which the kernel may drop at will), both sampled every millisecond.
func measured(fn func() error) (d time.Duration, heap, anon uint64, err error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			heap = max(heap, sample[0].Value.Uint64())
			anon = max(anon, rssAnon())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t0 := time.Now()
	err = fn()
	d = time.Since(t0)
	close(stop)
	<-done
	return d, heap, anon, err
}

// rssAnon reads RssAnon from /proc/self/status; 0 where there is none.
func rssAnon() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "RssAnon:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

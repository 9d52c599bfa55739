package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/server"
)

// AssignConfig configures Assign.
type AssignConfig struct {
	DSN      string
	DataDir  string
	Clients  int
	Users    int
	Quantity int
	Out      io.Writer
}

// Assign drives named assignments over HTTP from concurrent clients: every
// user once, against fewer seats than users, and checks afterwards that
// exactly Quantity succeeded and the seat count agrees (R1).
func Assign(ctx context.Context, cfg AssignConfig) (Result, error) {
	srv, err := server.Open(ctx, server.Config{DSN: cfg.DSN, DataDir: cfg.DataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return Result{}, err
	}
	defer srv.Close()
	st, op := srv.Store, seatkeeper.Actor{TokenKind: seatkeeper.TokenOperator}
	account := seatkeeper.NewID("bench_")
	if _, _, err := st.PutAccount(ctx, op, seatkeeper.Account{ID: account, Name: "bench", Region: "us"}); err != nil {
		return Result{}, err
	}
	if _, _, err := st.PutSubscription(ctx, op, seatkeeper.Subscription{Account: account, License: "essentials", Model: "named", Quantity: cfg.Quantity}); err != nil {
		return Result{}, err
	}
	if err := parallel(cfg.Clients, cfg.Users, func(i int) error {
		_, _, err := st.PutUser(ctx, op, seatkeeper.User{Account: account, ID: fmt.Sprintf("u%06d", i), Active: true})
		return err
	}); err != nil {
		return Result{}, err
	}
	_, secret, err := st.CreateToken(ctx, op, account, seatkeeper.TokenAdmin, "bench")
	if err != nil {
		return Result{}, err
	}
	url, stop, err := listen(srv.Handler())
	if err != nil {
		return Result{}, err
	}
	defer stop()

	var next, ok, refused atomic.Int64
	put := func(ctx context.Context, c *Client, _ int) (bool, error) {
		i := next.Add(1) - 1
		if i >= int64(cfg.Users) {
			return false, nil
		}
		res, err := c.Do(ctx, "PUT", fmt.Sprintf("%s/v1/accounts/%s/users/u%06d/licenses/essentials", url, account, i), nil, "Authorization: Bearer "+secret)
		if err != nil {
			return true, err
		}
		switch res.Status {
		case http.StatusCreated:
			ok.Add(1)
		case http.StatusConflict:
			refused.Add(1)
		default:
			return true, fmt.Errorf("status %d", res.Status)
		}
		return true, nil
	}
	fmt.Fprintf(cfg.Out, "bench assign: store %s, %d clients, %d users, %d seats\n", st.Dialect(), cfg.Clients, cfg.Users, cfg.Quantity)
	r := Run(ctx, "PUT …/licenses/essentials", cfg.Clients, 0, put)
	fmt.Fprintln(cfg.Out, r)
	sum, err := st.LicenseSummary(ctx, account)
	if err != nil {
		return r, err
	}
	assigned := -1
	for _, l := range sum {
		if l.License == "essentials" {
			assigned = l.Assigned
		}
	}
	fmt.Fprintf(cfg.Out, "assigned %d, refused %d (seat_limit_reached), seat count %d, cap %d: ", ok.Load(), refused.Load(), assigned, cfg.Quantity)
	if ok.Load() != int64(cfg.Quantity) || assigned != cfg.Quantity || r.Failed > 0 {
		fmt.Fprintln(cfg.Out, "CAP BROKEN OR REQUESTS FAILED")
		return r, fmt.Errorf("assigned %d and counted %d of %d seats, %d failed", ok.Load(), assigned, cfg.Quantity, r.Failed)
	}
	fmt.Fprintln(cfg.Out, "cap held")
	return r, nil
}

// parallel runs fn(0…n-1) on workers goroutines and returns the first error.
func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
